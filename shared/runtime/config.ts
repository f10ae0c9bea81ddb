/**
 * Configuration: read from the environment once per cold start, validated as a whole so that a bad deployment
 * fails at start-up with one message naming every problem, instead of failing later on the first request
 * that happens to touch a missing value.
 */

import { ConfigError } from '../domain/errors';
import * as z from '../domain/zod';
import type { StoreConfig } from '../store/open';

/** 32-byte keys are accepted as base64 (44 chars) or hex (64 chars). */
const key32 = z.pipe(
  z.string(),
  z.transform((value, ctx) => {
    const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
    if (bytes.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(value) && bytes.toString('base64') !== value)) {
      ctx.issues.push({ code: 'custom', message: 'must be 32 random bytes, base64 (44 chars) or hex (64 chars)', input: value });
      return z.NEVER;
    }
    return bytes;
  }),
);

const encodingAESKey = z.string().check(z.regex(/^[A-Za-z0-9]{43}$/, 'must be 43 letters or digits'));
const flag = z.pipe(
  z.enum(['true', 'false', '1', '0']),
  z.transform((v) => v === 'true' || v === '1'),
);
const url = z.pipe(
  z.url({ protocol: /^https?$/ }),
  z.transform((v) => v.replace(/\/+$/, '')),
);

const EnvSchema = z.object({
  WXA_ENV: z._default(z.enum(['local', 'cloud']), 'cloud'),
  PORT: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(65535)), 3000),
  STORE: z._default(z.enum(['sqlite', 'cloudbase', 'mongodb']), 'sqlite'),
  SQLITE_PATH: z._default(z.string().check(z.minLength(1)), '.data/wxa-deploy.db'),
  TCB_ENV: z.optional(z.string().check(z.minLength(1))),
  /**
   * The CloudBase environment's region, when it is not the function's own: the node SDK otherwise takes its
   * endpoint's region from TENCENTCLOUD_REGION, which SCF sets to the function's region (@cloudbase/node-sdk
   * utils/tcbapiendpoint.js). The same name @cloudbase/manager-node reads (utils/cloudbase-request.js).
   */
  TCB_REGION: z.optional(z.string().check(z.regex(/^[a-z]+-[a-z]+(-\d+)?$/, 'must be a Tencent Cloud region such as ap-shanghai'))),
  MONGODB_URL: z.optional(z.string().check(z.regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL'))),
  MONGODB_DB: z._default(z.string().check(z.minLength(1)), 'wxa_deploy'),
  DATA_KEY: z.optional(key32),
  ADMIN_API_KEY: z.optional(z.string().check(z.minLength(24, 'must be at least 24 characters'))),
  WECHAT_COMPONENT_APPID: z.optional(z.string().check(z.regex(/^wx[0-9a-zA-Z]{16}$/, 'must look like wx + 16 characters'))),
  WECHAT_COMPONENT_SECRET: z.optional(z.string().check(z.minLength(1))),
  WECHAT_TOKEN: z.optional(z.string().check(z.regex(/^[A-Za-z0-9]{3,32}$/, 'must be 3–32 letters or digits'))),
  WECHAT_ENCODING_AES_KEY: z.optional(encodingAESKey),
  /**
   * The key being replaced, while WeChat may still seal pushes with it: changing the EncodingAESKey on the platform
   * and redeploying cannot happen at the same instant, and a push the function cannot open is lost after WeChat's
   * retries. Remove it once the change has settled.
   */
  WECHAT_PREVIOUS_ENCODING_AES_KEY: z.optional(encodingAESKey),
  WECHAT_API_BASE: z.optional(url),
  WECHAT_PC_AUTH_PAGE_BASE: z._default(url, 'https://mp.weixin.qq.com'),
  WECHAT_MOBILE_AUTH_PAGE_BASE: z._default(url, 'https://open.weixin.qq.com'),
  WECHAT_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.gte(100), z.lte(60_000)), 5000),
  PUBLIC_BASE_URL: z.optional(url),
  CORS_ORIGINS: z._default(z.string(), ''),
  MAX_BODY_BYTES: z._default(z.coerce.number().check(z.int(), z.gte(1024), z.lte(10 * 1024 * 1024)), 2 * 1024 * 1024),
  REQUIRE_SAME_SUBJECT: z._default(flag, true),
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
});

/** Every variable the configuration reads (the README's configuration table lists exactly these). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

/**
 * Which variables are required depends on others (cloud vs local, the chosen store). Checked on the raw values,
 * apart from the per-variable schema, so that one bad variable does not hide a missing one.
 */
/** What a cloud deployment must be given (locally the runtime makes up what it lacks). */
export const REQUIRED_IN_CLOUD = [
  'DATA_KEY',
  'ADMIN_API_KEY',
  'WECHAT_COMPONENT_APPID',
  'WECHAT_COMPONENT_SECRET',
  'WECHAT_TOKEN',
  'WECHAT_ENCODING_AES_KEY',
  'PUBLIC_BASE_URL',
] as const;

function missingVariables(env: Record<string, string>): string[] {
  const problems: string[] = [];
  const need = (name: string, why: string) => {
    if (env[name] === undefined) problems.push(`${name} is required ${why}`);
  };
  const cloud = (env.WXA_ENV ?? 'cloud') === 'cloud';
  const store = env.STORE ?? 'sqlite';
  if (cloud) {
    for (const name of REQUIRED_IN_CLOUD) need(name, 'in the cloud');
    if (store === 'sqlite') problems.push('STORE sqlite is for local runs; use cloudbase or mongodb in the cloud');
  } else {
    // Locally the runtime generates keys and starts the simulator, but only when it is told nothing at all.
    need('DATA_KEY', '(npm start generates one into .data/)');
    need('ADMIN_API_KEY', '(npm start generates one into .data/)');
  }
  if (store === 'cloudbase') need('TCB_ENV', 'when STORE=cloudbase');
  if (store === 'mongodb') need('MONGODB_URL', 'when STORE=mongodb');
  if (env.WECHAT_API_BASE !== undefined) {
    for (const name of ['WECHAT_COMPONENT_APPID', 'WECHAT_COMPONENT_SECRET', 'WECHAT_TOKEN', 'WECHAT_ENCODING_AES_KEY']) {
      if (!cloud) need(name, 'when WECHAT_API_BASE is set');
    }
  }
  return problems;
}

export interface WeChatConfig {
  componentAppId: string;
  componentSecret: string;
  token: string;
  encodingAESKey: string;
  /** Also tried on pushes, during a key change (WECHAT_PREVIOUS_ENCODING_AES_KEY). */
  previousEncodingAESKey: string | undefined;
  /** undefined only locally: the local runtime then starts the simulator and fills this in. */
  apiBase: string | undefined;
  pcAuthPageBase: string;
  mobileAuthPageBase: string;
  timeoutMs: number;
}

export interface Config {
  env: 'local' | 'cloud';
  port: number;
  store: StoreConfig;
  dataKey: Buffer;
  adminApiKey: string;
  wechat: WeChatConfig;
  publicBaseUrl: string;
  corsOrigins: string[];
  maxBodyBytes: number;
  requireSameSubject: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** The platform identity the local runtime and its simulator agree on when none is configured. */
export const LOCAL_WECHAT_DEFAULTS = {
  WECHAT_COMPONENT_APPID: 'wx0000000000local0',
  WECHAT_COMPONENT_SECRET: 'local-component-secret',
  WECHAT_TOKEN: 'wxadeploylocal',
  WECHAT_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
} as const;

export function parseConfig(env: Record<string, string | undefined>): Config {
  // Blank variables count as unset: Serverless Devs renders a missing `${env('X', '')}` as ''.
  const present = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
  // Parsed once per process: zod's JIT (generating and compiling a parser for the object on its first parse) would
  // cost this cold start more than the one parse it speeds up (~1 ms).
  const result = EnvSchema.safeParse(present, { jitless: true });
  const problems = [
    ...(result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`)),
    ...missingVariables(present),
  ];
  if (!result.success || problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  const e = result.data;
  const local = e.WXA_ENV === 'local';
  const fallback = <K extends keyof typeof LOCAL_WECHAT_DEFAULTS>(name: K, value: string | undefined): string =>
    value ?? (local ? LOCAL_WECHAT_DEFAULTS[name] : '');
  return {
    env: e.WXA_ENV,
    port: e.PORT,
    store:
      e.STORE === 'sqlite'
        ? { kind: 'sqlite', path: e.SQLITE_PATH }
        : e.STORE === 'cloudbase'
          ? { kind: 'cloudbase', envId: e.TCB_ENV ?? '', region: e.TCB_REGION }
          : { kind: 'mongodb', url: e.MONGODB_URL ?? '', dbName: e.MONGODB_DB },
    // superRefine guarantees presence; the fallbacks below only satisfy the type checker.
    dataKey: e.DATA_KEY ?? Buffer.alloc(0),
    adminApiKey: e.ADMIN_API_KEY ?? '',
    wechat: {
      componentAppId: fallback('WECHAT_COMPONENT_APPID', e.WECHAT_COMPONENT_APPID),
      componentSecret: fallback('WECHAT_COMPONENT_SECRET', e.WECHAT_COMPONENT_SECRET),
      token: fallback('WECHAT_TOKEN', e.WECHAT_TOKEN),
      encodingAESKey: fallback('WECHAT_ENCODING_AES_KEY', e.WECHAT_ENCODING_AES_KEY),
      previousEncodingAESKey: e.WECHAT_PREVIOUS_ENCODING_AES_KEY,
      apiBase: e.WECHAT_API_BASE,
      pcAuthPageBase: e.WECHAT_PC_AUTH_PAGE_BASE,
      mobileAuthPageBase: e.WECHAT_MOBILE_AUTH_PAGE_BASE,
      timeoutMs: e.WECHAT_TIMEOUT_MS,
    },
    publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://127.0.0.1:${e.PORT}`,
    corsOrigins: e.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    maxBodyBytes: e.MAX_BODY_BYTES,
    requireSameSubject: e.REQUIRE_SAME_SUBJECT,
    logLevel: e.LOG_LEVEL,
  };
}

let cached: Config | undefined;

/** The configuration of this process, parsed on first use (a cold start) and reused by warm invocations. */
export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** The values that must never reach a log line or a response. */
export const secretsOf = (config: Config): string[] =>
  [
    config.adminApiKey,
    config.wechat.componentSecret,
    config.wechat.encodingAESKey,
    config.wechat.previousEncodingAESKey ?? '',
    config.dataKey.toString('base64'),
    config.dataKey.toString('hex'),
  ].filter((s) => s.length >= 8);

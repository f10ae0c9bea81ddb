/**
 * The whole product on loopback — the local runtime (every function of serverless.yml), the WeChat simulator and a
 * temp SQLite file — driven only over HTTP, the way a frontend and an admin with a phone would. The end-to-end
 * tests and `npm run demo` both use it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as z from '../../shared/domain/zod';
import { createLogger } from '../../shared/runtime/logger';
import { pngHeader } from '../testing/wire';
import type { WeChatSimulator } from '../wechat-sim';
import { type LocalStack, startLocalStack } from './bootstrap';

const root = resolve(__dirname, '..', '..');

export interface Platform {
  url: string;
  sim: WeChatSimulator;
  stack: LocalStack;
  adminKey: string;
  /** Fires the poller's timer now (the demo and tests do not wait for its cron). */
  pollNow(): Promise<unknown>;
  close(): Promise<void>;
}

/** `ticketIntervalMs` 0: the simulator pushes no verify ticket until the caller has it push one. */
export async function startPlatform(
  options: { auditDecisionDelayMs?: number | null; env?: Record<string, string>; ticketIntervalMs?: number } = {},
): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-platform-'));
  const env: NodeJS.ProcessEnv = process.env;
  // WeChat calls and pushes wait long: on a loaded machine the simulator in this process answers slowly, not never.
  Object.assign(env, {
    SQLITE_PATH: join(dir, 'wxa.db'),
    LOG_LEVEL: env.LOG_LEVEL ?? 'error',
    WECHAT_TIMEOUT_MS: env.WECHAT_TIMEOUT_MS ?? '60000',
    ...options.env,
  });
  const stack = await startLocalStack({
    root,
    env,
    log: createLogger({ level: 'error' }),
    port: 0,
    timers: false,
    timeoutScale: 10,
    simulator: {
      ticketIntervalMs: options.ticketIntervalMs ?? 60 * 60_000,
      auditDecisionDelayMs: options.auditDecisionDelayMs ?? null,
      pushTimeoutMs: 60_000,
    },
  });
  if (!stack.simulator) throw new Error('the platform should run with the simulator');
  return {
    url: stack.runtime.url,
    sim: stack.simulator,
    stack,
    adminKey: env.ADMIN_API_KEY ?? '',
    pollNow: () => stack.runtime.fireTimer('review-poller', 'poll-due'),
    close: async () => {
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Call {
  status: number;
  body: unknown;
  headers: Headers;
}

export function client(url: string, apiKey: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Call> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined || Buffer.isBuffer(body) ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    });
    const type = response.headers.get('content-type') ?? '';
    const parsed: unknown = type.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
    return { status: response.status, body: parsed, headers: response.headers };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body ?? {}, headers),
    put: (path: string, body: unknown) => call('PUT', path, body),
    raw: call,
  };
}
export type Client = ReturnType<typeof client>;

const accountCreated = z.object({ account: z.object({ id: z.string() }), apiKey: z.string() });
const urlReply = z.object({ url: z.string() });
const idReply = z.object({ id: z.string() });
export const deploymentReply = z.object({
  id: z.string(),
  state: z.string(),
  buildStep: z.nullable(z.string()),
  stateReason: z.nullable(z.string()),
  qrAssetId: z.nullable(z.string()),
  audit: z.nullable(z.object({ auditId: z.number(), reason: z.nullable(z.string()), screenshots: z.array(z.string()) })),
  failure: z.nullable(z.object({ reason: z.string(), retryable: z.boolean(), errcode: z.nullable(z.number()) })),
  history: z.array(z.object({ from: z.string(), to: z.string(), command: z.string(), actor: z.object({ kind: z.string() }) })),
});
export type DeploymentReply = z.infer<typeof deploymentReply>;

export const expectStatus = (call: Call, status: number): Call => {
  if (call.status !== status) throw new Error(`expected HTTP ${status}, got ${call.status}: ${JSON.stringify(call.body)}`);
  return call;
};

/** Creates an account as the admin; answers its id, its API key and a client that calls with that key. */
export async function createAccount(
  p: Pick<Platform, 'url' | 'adminKey'>,
  name: string,
): Promise<{ id: string; apiKey: string; api: Client }> {
  const created = accountCreated.parse(expectStatus(await client(p.url, p.adminKey).post('/v1/accounts', { name }), 201).body);
  return { id: created.account.id, apiKey: created.apiKey, api: client(p.url, created.apiKey) };
}

/** Plays the admin's scan of the authorization page, and returns where WeChat redirects the browser, unfollowed. */
export async function scanOnly(p: Pick<Platform, 'sim'>, authorizationUrl: string, appId: string, funcScopeIds?: number[]): Promise<URL> {
  const page = new URL(authorizationUrl);
  const preAuthCode = page.searchParams.get('pre_auth_code') ?? '';
  const redirectUri = page.searchParams.get('redirect_uri') ?? '';
  // The admin opens the page first — on the simulator, standing in for mp.weixin.qq.com — which records what it was
  // opened with (category_id_list above all: the sets offered), for the scan to honour.
  const opened = await fetch(`${p.sim.baseUrl}${page.pathname}${page.search}`);
  if (!opened.ok) throw new Error(`the authorization page refused to open (${opened.status}): ${await opened.text()}`);
  const { redirectUrl } = await p.sim.scanAuthorization({ preAuthCode, appId, redirectUri, ...(funcScopeIds ? { funcScopeIds } : {}) });
  return new URL(redirectUrl);
}

/**
 * Plays the admin: opens the authorization URL the platform returned, "scans" it in the simulator (choosing the
 * mini program and the permission sets granted), and follows WeChat's redirect back to our callback.
 */
export async function scanAndReturn(
  p: Platform,
  authorizationUrl: string,
  appId: string,
  funcScopeIds?: number[],
): Promise<{ status: number; result: { ok: boolean; code: string; message: string } }> {
  const response = await fetch(await scanOnly(p, authorizationUrl, appId, funcScopeIds), { headers: { accept: 'application/json' } });
  // A completed authorization answers its result; a refused one answers the standard error envelope.
  const reply = z
    .union([
      z.object({ ok: z.boolean(), code: z.string(), message: z.string() }),
      z.pipe(
        z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
        z.transform(({ error }) => ({ ok: false, ...error })),
      ),
    ])
    .parse(await response.json());
  const result = { ok: reply.ok, code: reply.code, message: reply.message };
  return { status: response.status, result };
}

/** Starts an authorization (`POST /v1/authorizations`) and plays the admin's scan of `appid`: WeChat's redirect, unfollowed. */
export async function redirectAfterScan(
  p: Pick<Platform, 'sim'>,
  api: Client,
  body: { purpose: 'bind-primary' } | { purpose: 'authorize-app'; appId: string },
  appid: string,
): Promise<URL> {
  const { url } = urlReply.parse(expectStatus(await api.post('/v1/authorizations', body), 201).body);
  return scanOnly(p, url, appid);
}

export async function authorize(
  p: Platform,
  api: Client,
  purpose: 'bind-primary' | 'authorize-app',
  appid: string,
  appId?: string,
  funcScopeIds?: number[],
) {
  const body = purpose === 'bind-primary' ? { purpose } : { purpose, appId };
  const { url } = urlReply.parse(expectStatus(await api.post('/v1/authorizations', body), 201).body);
  return scanAndReturn(p, url, appid, funcScopeIds);
}

/** `POST /v1/apps` with `body`, answered 201; answers the app's id. */
export async function createApp(api: Client, body: Record<string, unknown>): Promise<string> {
  return idReply.parse(expectStatus(await api.post('/v1/apps', body), 201).body).id;
}

export async function createLowcodeApp(api: Client, name = 'Shop', requiredPlugins: unknown[] = []): Promise<string> {
  return createApp(api, {
    kind: 'lowcode',
    name,
    templateId: 101,
    requiredPlugins,
    config: { ext: { shopName: name }, extPages: { 'pages/index/index': { navigationBarTitleText: name } }, pages: ['pages/index/index'] },
  });
}

export const deploymentOf = (call: Call): DeploymentReply => deploymentReply.parse(call.body);

/** A tiny but real PNG header (signature + IHDR) of the given size: enough for the width checks. */
export const pngOfWidth = (width: number, height = 64): Buffer => pngHeader(width, height);

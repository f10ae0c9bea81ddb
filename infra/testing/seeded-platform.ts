/**
 * The whole product on loopback against a simulator the caller owns (seeded dice, fresh credentials), and the
 * accounts and apps scenarios start from. Shared by the reliability, hostile and end-to-end suites and by
 * `npm run fuzz` (scripts/fuzz.ts), which is why it lives outside test/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '../../shared/runtime/logger';
import { type LocalStack, startLocalStack } from '../local/bootstrap';
import { authorize, type Client, createAccount, createLowcodeApp, type Platform } from '../local/driver';
import { type MiniProgramSpec, type SimulatorOptions, seedDemoPlatform, startWeChatSimulator, type WeChatSimulator } from '../wechat-sim';
import { seededRandom } from '../wechat-sim/test-support';

export const ROOT = resolve(__dirname, '..', '..');

/** The simulator's seeded dice, so a failing run can be replayed from the seed it prints. */
export { seededRandom };

/** The seed of a run: fixed unless RELIABILITY_SEED asks for another one. */
export const seedFromEnv = (fallback: number): number => {
  const given = Number(process.env.RELIABILITY_SEED);
  return Number.isSafeInteger(given) && given > 0 ? given : fallback;
};

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const randomAlnum = (length: number): string =>
  Array.from(randomBytes(length), (byte) => ALNUM[byte % ALNUM.length] ?? 'a').join('');

/** Every secret a platform run is configured with; fresh per run so a scan for them means something. */
export interface Credentials {
  componentAppId: string;
  componentSecret: string;
  token: string;
  encodingAESKey: string;
  dataKey: string;
  adminKey: string;
}

export const freshCredentials = (): Credentials => ({
  componentAppId: `wx${randomBytes(8).toString('hex')}`,
  componentSecret: randomAlnum(32),
  token: randomAlnum(32),
  encodingAESKey: randomAlnum(43),
  dataKey: randomBytes(32).toString('base64'),
  adminKey: `adm_${randomBytes(24).toString('base64url')}`,
});

/** The environment a platform instance (in-process or child process) needs to use an external simulator. */
export function platformEnv(
  c: Credentials,
  apiBase: string,
  sqlitePath: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    WXA_ENV: 'local',
    STORE: 'sqlite',
    SQLITE_PATH: sqlitePath,
    DATA_KEY: c.dataKey,
    ADMIN_API_KEY: c.adminKey,
    WECHAT_COMPONENT_APPID: c.componentAppId,
    WECHAT_COMPONENT_SECRET: c.componentSecret,
    WECHAT_TOKEN: c.token,
    WECHAT_ENCODING_AES_KEY: c.encodingAESKey,
    WECHAT_API_BASE: apiBase,
    WECHAT_PC_AUTH_PAGE_BASE: apiBase,
    WECHAT_MOBILE_AUTH_PAGE_BASE: apiBase,
    LOG_LEVEL: 'error',
    // A loaded machine answers slowly, not never: a call timing out is a fault the fault tests inject on purpose.
    WECHAT_TIMEOUT_MS: '60000',
    ...extra,
  };
}

export async function startSimulator(c: Credentials, options: Partial<SimulatorOptions> = {}): Promise<WeChatSimulator> {
  const sim = await startWeChatSimulator({
    component: { appId: c.componentAppId, secret: c.componentSecret, token: c.token, encodingAESKey: c.encodingAESKey },
    ticketIntervalMs: 0,
    pushTimeoutMs: 60_000,
    ...options,
  });
  seedDemoPlatform(sim);
  return sim;
}

/** Points the simulator's pushes at a (re)started runtime. */
export const aimPushes = (sim: WeChatSimulator, runtimeUrl: string): void =>
  sim.configure({
    componentEventUrl: `${runtimeUrl}/wechat/component/events`,
    messageUrlTemplate: `${runtimeUrl}/wechat/authorizers/$APPID$/events`,
  });

export interface SeededPlatform extends Platform {
  credentials: Credentials;
  env: Record<string, string>;
  sqlitePath: string;
  dir: string;
}

/**
 * The whole product in this process (every function of serverless.yml behind the local runtime, a temp SQLite
 * file) against a simulator this test started, so its dice are seeded. Mutates process.env like `startPlatform`:
 * the functions read their configuration from it at their cold start.
 */
export async function startSeededPlatform(
  options: {
    random?: () => number;
    env?: Record<string, string>;
    simulator?: Partial<SimulatorOptions>;
    log?: Logger;
    /** Multiplies the functions' timeouts (default 10: a loaded machine; 1: the deployed budgets, for benchmarks). */
    timeoutScale?: number;
  } = {},
): Promise<SeededPlatform> {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-reliability-'));
  const credentials = freshCredentials();
  const sim = await startSimulator(credentials, { ...(options.random ? { random: options.random } : {}), ...options.simulator });
  const sqlitePath = join(dir, 'wxa.db');
  const env = platformEnv(credentials, sim.baseUrl, sqlitePath, options.env);
  Object.assign(process.env, env);
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      root: ROOT,
      env: process.env,
      log: options.log ?? createLogger({ level: 'error' }),
      port: 0,
      timers: false,
      timeoutScale: options.timeoutScale ?? 10,
    });
  } catch (error) {
    await sim.close();
    throw error;
  }
  aimPushes(sim, stack.runtime.url);
  await sim.pushVerifyTicket();
  return {
    url: stack.runtime.url,
    sim,
    stack,
    adminKey: credentials.adminKey,
    credentials,
    env: { ...env, PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? stack.runtime.url },
    sqlitePath,
    dir,
    pollNow: () => stack.runtime.fireTimer('review-poller', 'poll-due'),
    close: async () => {
      await stack.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Platform for the driver's helpers when the runtime is another process: over HTTP they use only `url`, `sim`
 * and `adminKey`; what would need the in-process runtime says so.
 */
export function remotePlatform(url: string, sim: WeChatSimulator, adminKey: string): Platform {
  const elsewhere = () => Promise.reject(new Error('the runtime runs in another process'));
  const stack: LocalStack = {
    runtime: {
      url,
      port: Number(new URL(url).port),
      invocations: [],
      fireTimer: elsewhere,
      received: 0,
      untilReceived: elsewhere,
      close: () => Promise.resolve(),
    },
    simulatorUrl: sim.baseUrl,
    simulator: sim,
    generated: [],
    close: () => Promise.resolve(),
  };
  return { url, sim, adminKey, stack, pollNow: elsewhere, close: () => Promise.resolve() };
}

export const CATEGORY = { first_class: '工具', second_class: '效率', first_id: 287, second_id: 613 };

/** A mini program of its own for each scenario: the simulator is shared by a whole file. */
export function newMiniProgram(sim: WeChatSimulator, subject: string, extra: Partial<MiniProgramSpec> = {}): string {
  const appId = `wx${randomBytes(8).toString('hex')}`;
  sim.addMiniProgram({ appId, nickName: `小程序${appId.slice(-4)}`, principalName: subject, categories: [CATEGORY], ...extra });
  return appId;
}

export const newSubject = (): string => `测试科技有限公司${randomBytes(3).toString('hex')}`;

export interface ReadyApp {
  api: Client;
  /** The account's API key, for tests that build their own requests. */
  apiKey: string;
  accountId: string;
  appId: string;
  target: string;
  primary: string;
  subject: string;
}

export interface ReadyAppOptions {
  subject?: string;
  /** How the app is made (default: `createLowcodeApp`, a lowcode Shop on template 101); answers its id. */
  createApp?: (api: Client) => Promise<string>;
  /** What the target mini program is at WeChat besides its defaults. */
  target?: Partial<MiniProgramSpec>;
}

/** An account with a bound primary, an app, and a target mini program authorized for it. */
export async function readyApp(p: Platform, options: ReadyAppOptions = {}): Promise<ReadyApp> {
  const subject = options.subject ?? newSubject();
  const { api, id, apiKey } = await createAccount(p, subject);
  const primary = newMiniProgram(p.sim, subject);
  const bound = await authorize(p, api, 'bind-primary', primary);
  if (!bound.result.ok || bound.result.code !== 'PRIMARY_BOUND')
    throw new Error(`binding the primary failed: ${JSON.stringify(bound.result)}`);
  return { api, apiKey, accountId: id, primary, subject, ...(await authorizeNewApp(p, api, subject, options)) };
}

/** One more app of the account, with a target mini program of its own. */
export async function authorizeNewApp(
  p: Platform,
  api: Client,
  subject: string,
  options: Pick<ReadyAppOptions, 'createApp' | 'target'> = {},
): Promise<{ appId: string; target: string }> {
  const appId = await (options.createApp ?? createLowcodeApp)(api);
  const target = newMiniProgram(p.sim, subject, options.target);
  const authorized = await authorize(p, api, 'authorize-app', target, appId);
  if (!authorized.result.ok || authorized.result.code !== 'MINI_PROGRAM_AUTHORIZED')
    throw new Error(`authorizing the target failed: ${JSON.stringify(authorized.result)}`);
  return { appId, target };
}

/** An app of the fleet: its account's API client and its own authorized target mini program. */
export interface FleetApp {
  api: Client;
  appId: string;
  target: string;
}

/** `accounts` ready accounts with `appsPerAccount` apps each: one open audit per mini program at WeChat, so all can run at once. */
export async function appFleet(p: Platform, accounts: number, appsPerAccount: number): Promise<FleetApp[]> {
  const apps: FleetApp[] = [];
  for (let account = 0; account < accounts; account++) {
    const ready = await readyApp(p);
    apps.push({ api: ready.api, appId: ready.appId, target: ready.target });
    for (let i = 1; i < appsPerAccount; i++) apps.push({ api: ready.api, ...(await authorizeNewApp(p, ready.api, ready.subject)) });
  }
  return apps;
}

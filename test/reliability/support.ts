/**
 * What the reliability and hostile-input suites share: the product on loopback with a simulator the test owns
 * (seeded dice, fresh credentials), a poller instance on the same database whose clock the test moves, and the
 * invariants every deployment history must keep.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type LocalStack, startLocalStack } from '../../infra/local/bootstrap';
import { authorize, type Client, createAccount, createLowcodeApp, type Platform } from '../../infra/local/driver';
import {
  type MiniProgramSpec,
  type SimulatorOptions,
  seedDemoPlatform,
  startWeChatSimulator,
  type WeChatSimulator,
} from '../../infra/wechat-sim';
import { seededRandom } from '../../infra/wechat-sim/test-support';
import { createServices, type Services } from '../../shared/app/context';
import { type PollSummary, pollDue } from '../../shared/app/deployments';
import type { Deployment } from '../../shared/domain/deployment';
import { parseConfig } from '../../shared/runtime/config';
import { createLogger, type Logger } from '../../shared/runtime/logger';
import { openSqliteStore } from '../../shared/store/sqlite';
import { createWeChatPlatform } from '../../shared/wechat/platform';

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
  options: { random?: () => number; env?: Record<string, string>; simulator?: Partial<SimulatorOptions>; log?: Logger } = {},
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
      timeoutScale: 10,
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

/** `createAccount` of the driver, under the name `scripts/fuzz.ts` imports. */
export const createKeyedAccount = createAccount;

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

/**
 * Another instance of the backend on the same database and WeChat, whose clock the test sets: what a poller
 * minutes or hours later would do (pipeline.test.ts `servicesAt`, with a clock that moves).
 */
export function servicesWithClock(env: Record<string, string | undefined>, start: number, log: Logger = createLogger({ level: 'error' })) {
  let now = start;
  const clock = () => now;
  const config = parseConfig(env);
  const store = openSqliteStore({ path: env.SQLITE_PATH ?? '', clock });
  const wechat = createWeChatPlatform({ config, store, log, clock });
  const services: Services = createServices({ config, log, store, wechat, clock });
  return {
    services,
    setClock: (at: number) => {
      now = at;
    },
    now: () => now,
    close: () => store.close(),
  };
}

export type ClockedServices = ReturnType<typeof servicesWithClock>;

/**
 * Runs poller ticks, each `stepMs` later than the one before (more than the longest poll backoff), until every
 * deployment satisfies `done` or `maxTicks` is reached. Returns the deployments as they stand and the summaries.
 *
 * WeChat pushes a verify ticket every 10 minutes and the component token is only minted from one younger than
 * 12 h *by the poller's clock*: before each tick the simulator pushes a fresh one and the poller records it at
 * its own time, as it would have received it then. Without that, a clock many ticks ahead has no usable ticket
 * and every WeChat call waits forever ("later"), which is the harness's artefact, not the product's.
 */
export async function pollUntil(
  poller: ClockedServices,
  ids: readonly string[],
  done: (d: Deployment) => boolean,
  options: { stepMs?: number; maxTicks?: number; sim?: Pick<WeChatSimulator, 'pushVerifyTicket'> } = {},
): Promise<{ deployments: Map<string, Deployment>; ticks: PollSummary[] }> {
  const stepMs = options.stepMs ?? 31 * 60_000;
  const ticks: PollSummary[] = [];
  const read = async () => {
    const found = new Map<string, Deployment>();
    for (const id of ids) {
      const stored = await poller.services.db.deployments.get(id);
      if (!stored) throw new Error(`deployment ${id} is gone`);
      found.set(id, stored.data);
    }
    return found;
  };
  let deployments = await read();
  for (let tick = 0; tick < (options.maxTicks ?? 12) && ![...deployments.values()].every(done); tick++) {
    poller.setClock(Math.max(poller.now(), Date.now()) + stepMs);
    if (options.sim) await poller.services.wechat.tokens.recordVerifyTicket(await options.sim.pushVerifyTicket(), poller.now());
    ticks.push(await pollDue(poller.services, { budgetMs: 60_000, concurrency: 8 }));
    deployments = await read();
  }
  return { deployments, ticks };
}

/** What one history entry records a change of: the state, plus the build step or a delay inside it. */
const phaseKey = (entry: Deployment['history'][number]): string =>
  entry.to === 'building' ? `building:${entry.step ?? '?'}` : entry.command === 'auditDelayed' ? 'auditing:delayed' : entry.to;

/**
 * The history invariants a repeat, a duplicated push or a resumed step must never break: no phase recorded twice in
 * a row (building steps and a delay inside an audit are phases of their own), at most one `approved` per audit,
 * at most one `released`.
 */
export function historyProblems(d: Deployment): string[] {
  const problems: string[] = [];
  d.history.forEach((entry, i) => {
    const previous = d.history[i - 1];
    if (previous && phaseKey(previous) === phaseKey(entry))
      problems.push(`entry ${i} repeats ${phaseKey(entry)} (${entry.command} after ${previous.command})`);
  });
  const approvals = new Map<number | undefined, number>();
  for (const entry of d.history.filter((h) => h.to === 'approved')) approvals.set(entry.auditId, (approvals.get(entry.auditId) ?? 0) + 1);
  for (const [auditId, count] of approvals) if (count > 1) problems.push(`audit ${auditId ?? '?'} approved ${count} times`);
  const releases = d.history.filter((h) => h.to === 'released').length;
  if (releases > 1) problems.push(`released ${releases} times`);
  return problems.map((problem) => `${d.id}: ${problem}`);
}

export const countTo = (d: Deployment, state: Deployment['state']): number => d.history.filter((h) => h.to === state).length;

/** Throws with every problem of every deployment, so one failure shows the whole picture. */
export function expectCleanHistories(deployments: Iterable<Deployment>): void {
  const problems = [...deployments].flatMap(historyProblems);
  if (problems.length > 0) throw new Error(`history invariants broken:\n  ${problems.join('\n  ')}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** One WeChat call as it went over the wire. */
export interface Exchange {
  method: string;
  /** Path and query, as the platform sent them (tokens included: the tap is how a test learns them). */
  target: string;
  path: string;
  requestBody: string;
  status: number;
  contentType: string;
  responseBody: Buffer;
}

/**
 * A transparent HTTP proxy in front of the simulator: the platform's WECHAT_API_BASE points here. It records every
 * exchange, and `after` may decide, once WeChat has answered, that the caller never hears the answer (it is
 * called before the answer is relayed, so a test can kill the caller exactly there).
 */
export async function startWireTap(
  targetBase: string,
  options: { after?: (exchange: Exchange) => Promise<'relay' | 'drop'> } = {},
): Promise<{ url: string; exchanges: Exchange[]; close(): Promise<void> }> {
  const exchanges: Exchange[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const requestBody = Buffer.concat(chunks).toString('utf8');
        const target = req.url ?? '/';
        const method = req.method ?? 'GET';
        const contentType = req.headers['content-type'];
        const answer = await fetch(`${targetBase}${target}`, {
          method,
          headers: contentType ? { 'content-type': contentType } : {},
          ...(method === 'GET' || method === 'HEAD' ? {} : { body: requestBody }),
          redirect: 'manual',
        });
        const exchange: Exchange = {
          method,
          target,
          path: target.split('?')[0] ?? target,
          requestBody,
          status: answer.status,
          contentType: answer.headers.get('content-type') ?? '',
          responseBody: Buffer.from(await answer.arrayBuffer()),
        };
        exchanges.push(exchange);
        if ((await options.after?.(exchange)) === 'drop') {
          res.destroy();
          return;
        }
        res.writeHead(exchange.status, { 'content-type': exchange.contentType, 'content-length': exchange.responseBody.length });
        res.end(exchange.responseBody);
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

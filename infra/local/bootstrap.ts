/**
 * Prepares a local run: fills the environment with embedded defaults where nothing is configured (local secrets
 * kept in .data/ so restarts keep decrypting what was stored, the simulator as WeChat), then starts the runtime.
 * `npm start`, the demo and the end-to-end tests all come through here.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { consoleSite } from '../../console/serve';
import * as z from '../../shared/domain/zod';
import { LOCAL_WECHAT_DEFAULTS } from '../../shared/runtime/config';
import type { Logger } from '../../shared/runtime/logger';
import { simulatorFile } from '../wechat-sim/persistence';
import { createLocalMetrics } from './metrics';
import { type CloudEntry, type LocalRuntime, startLocalRuntime } from './runtime';
import { type LocalFunction, loadTemplate } from './template';

const localSecretsSchema = z.object({ DATA_KEY: z.string(), ADMIN_API_KEY: z.string() });

/** Kept next to the SQLite file, wherever SQLITE_PATH puts it. */
export const localSecretsFile = (dataDir: string): string => join(dataDir, 'local-secrets.json');

/** Generated once per .data/ folder, file mode 600: losing DATA_KEY would make stored tokens unreadable. */
export function ensureLocalSecrets(dataDir: string): z.infer<typeof localSecretsSchema> {
  const file = localSecretsFile(dataDir);
  if (existsSync(file)) return localSecretsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const secrets = { DATA_KEY: randomBytes(32).toString('base64'), ADMIN_API_KEY: `adm_${randomBytes(24).toString('base64url')}` };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

export interface LocalStackOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  port?: number;
  timers?: boolean;
  /**
   * Multiplies every function's timeout (tests: a loaded CI machine runs a request slower, and a request cut by its
   * function's timeout is what the timeout tests inject on purpose, not what the others are about). Default 1.
   */
  timeoutScale?: number;
  /** Build the console (served at /console/) now rather than at its first visit (`npm start`). */
  warmConsole?: boolean;
  /** Simulator settings for a local run without WECHAT_API_BASE; ticketIntervalMs 0 = no pushes at all. */
  simulator?: {
    ticketIntervalMs?: number;
    auditDecisionDelayMs?: number | null;
    seedDemo?: boolean;
    pushTimeoutMs?: number;
    persist?: boolean;
  };
}

export interface LocalStack {
  runtime: LocalRuntime;
  simulatorUrl: string | undefined;
  simulator: import('../wechat-sim').WeChatSimulator | undefined;
  generated: string[];
  close(): Promise<void>;
}

/**
 * Mutates `env` (normally process.env, which the functions read at their cold start) and starts everything.
 * The runtime binds its port first, because the simulator must know where to push events.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { env, root, log } = options;
  const generated: string[] = [];
  env.WXA_ENV ??= 'local';
  const sqlitePath = env.SQLITE_PATH ?? join(root, '.data', 'wxa-deploy.db');
  env.SQLITE_PATH = sqlitePath;
  if (!env.DATA_KEY || !env.ADMIN_API_KEY) {
    const secrets = ensureLocalSecrets(dirname(sqlitePath));
    if (!env.DATA_KEY) {
      env.DATA_KEY = secrets.DATA_KEY;
      generated.push('DATA_KEY');
    }
    if (!env.ADMIN_API_KEY) {
      env.ADMIN_API_KEY = secrets.ADMIN_API_KEY;
      generated.push('ADMIN_API_KEY');
    }
  }
  const useSimulator = !env.WECHAT_API_BASE;
  if (useSimulator) {
    for (const [name, value] of Object.entries(LOCAL_WECHAT_DEFAULTS)) env[name] ??= value;
  }

  const loaded = loadTemplate(join(root, 'serverless.yml'), env);
  const scale = options.timeoutScale ?? 1;
  const template = { ...loaded, functions: loaded.functions.map((fn) => ({ ...fn, timeoutMs: fn.timeoutMs * scale })) };
  const load = (fn: LocalFunction): CloudEntry => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the runtime loads functions by path from the template
    const mod: Record<string, unknown> = require(fn.source);
    const entry = mod[fn.exportName];
    if (typeof entry !== 'function') throw new Error(`${fn.source} does not export ${fn.exportName}`);
    return entry as CloudEntry;
  };
  const site = consoleSite();
  if (options.warmConsole) site.warm();
  // The functions' own store (the process's foundation), read at scrape time; imported lazily like the functions.
  const metrics = createLocalMetrics(async () => (await import('../../shared/runtime/compose')).foundation().then((f) => f.store), log);
  const runtime = await startLocalRuntime({
    staticFiles: (method, path) => site.serve(method, path),
    template,
    load,
    log,
    onInvocation: metrics.observe,
    metrics: metrics.render,
    port: options.port ?? Number(env.PORT ?? 3000),
    maxBodyBytes: Number(env.MAX_BODY_BYTES ?? 2 * 1024 * 1024),
    timers: options.timers ?? true,
  });
  env.PUBLIC_BASE_URL ??= runtime.url;

  let simulator: LocalStack['simulator'];
  if (useSimulator) {
    const { startWeChatSimulator, seedDemoPlatform } = await import('../wechat-sim');
    // `npm start` keeps the simulated WeChat next to the SQLite file, so a restart continues where it stopped
    // (mini programs authorized, audits pending) on the same port.
    const saved = options.simulator?.persist ? simulatorFile(join(dirname(sqlitePath), 'wechat-sim.json')) : undefined;
    const start = (port: number) =>
      startWeChatSimulator({
        ...(saved ? { port, persistence: saved.persistence } : {}),
        component: {
          appId: env.WECHAT_COMPONENT_APPID ?? LOCAL_WECHAT_DEFAULTS.WECHAT_COMPONENT_APPID,
          secret: env.WECHAT_COMPONENT_SECRET ?? LOCAL_WECHAT_DEFAULTS.WECHAT_COMPONENT_SECRET,
          token: env.WECHAT_TOKEN ?? LOCAL_WECHAT_DEFAULTS.WECHAT_TOKEN,
          encodingAESKey: env.WECHAT_ENCODING_AES_KEY ?? LOCAL_WECHAT_DEFAULTS.WECHAT_ENCODING_AES_KEY,
        },
        componentEventUrl: `${runtime.url}/wechat/component/events`,
        messageUrlTemplate: `${runtime.url}/wechat/authorizers/$APPID$/events`,
        ticketIntervalMs: options.simulator?.ticketIntervalMs ?? 10 * 60_000,
        auditDecisionDelayMs: options.simulator?.auditDecisionDelayMs ?? null,
        ...(options.simulator?.pushTimeoutMs !== undefined ? { pushTimeoutMs: options.simulator.pushTimeoutMs } : {}),
        // What the operator registers on open.weixin.qq.com (开发资料 → 小程序服务器域名): the backend's asset host, the
        // one server domain every build sets on its mini program.
        registeredDomains: { server: [new URL(env.PUBLIC_BASE_URL ?? runtime.url).hostname] },
      });
    try {
      simulator = await start(saved?.port ?? 0);
    } catch (error) {
      if (!(saved?.port && error instanceof Error && 'code' in error && error.code === 'EADDRINUSE')) throw error;
      log.warn('the simulator’s port is taken; it starts on another one (URLs handed out before point at the old one)', {
        port: saved.port,
      });
      simulator = await start(0);
    }
    // Before any push: the first push cold-starts a function, which reads its configuration once.
    env.WECHAT_API_BASE = simulator.baseUrl;
    env.WECHAT_PC_AUTH_PAGE_BASE = simulator.baseUrl;
    env.WECHAT_MOBILE_AUTH_PAGE_BASE = simulator.baseUrl;
    if (options.simulator?.seedDemo ?? true) seedDemoPlatform(simulator);
    // WeChat pushes a ticket every 10 minutes; a fresh local run should not wait that long for its first one.
    if ((options.simulator?.ticketIntervalMs ?? 1) > 0) await simulator.pushVerifyTicket();
  }

  return {
    runtime,
    simulator,
    simulatorUrl: simulator?.baseUrl,
    generated,
    close: async () => {
      await runtime.close();
      metrics.close();
      await simulator?.close();
    },
  };
}

/**
 * What the reliability and hostile-input suites share: the product on loopback with a simulator the test owns
 * (seeded dice, fresh credentials; from infra/testing), a poller instance on the same database whose clock the
 * test moves, and the invariants every deployment history must keep.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aimPushes, type Credentials, freshCredentials, platformEnv, ROOT, startSimulator } from '../../infra/testing/seeded-platform';
import type { SimulatorOptions, WeChatSimulator } from '../../infra/wechat-sim';
import { type PollSummary, pollDue } from '../../shared/app/deployments';
import type { Deployment } from '../../shared/domain/deployment';
import type { Logger } from '../../shared/runtime/logger';

// The seeded platform and the scenario starters live in infra/testing (scripts/fuzz.ts uses them too).
export * from '../../infra/testing/seeded-platform';
// A poller with a clock of its own; apart so a child process (rollout-poller-process.ts) loads only it.
export * from './clocked-services';

import { type ClockedServices, servicesWithClock } from './clocked-services';

/** A TypeScript file of ours running as a process of its own. */
export interface TsxProcess {
  child: ChildProcess;
  /** Settles when the process has exited. */
  exited: Promise<void>;
  /** All it has written to stdout and stderr so far. */
  output(): string;
  /** The first match of `pattern` in its output, once it is there; null if the process exits without it. */
  untilOutput(pattern: RegExp): Promise<RegExpExecArray | null>;
}

/**
 * Runs `script` (a path under the repository) with `env` (and only PATH and HOME of ours). tsx's loader runs
 * inside the child itself: the tsx CLI would run the script in a grandchild that SIGKILL misses.
 */
export function spawnTsx(script: string, env: Record<string, string>): TsxProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiting = new Set<() => void>();
  const heard = (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of waiting) check();
  };
  child.stdout?.on('data', heard);
  child.stderr?.on('data', heard);
  let over = false;
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      over = true;
      for (const check of waiting) check();
      done();
    }),
  );
  const untilOutput = (pattern: RegExp) =>
    new Promise<RegExpExecArray | null>((done) => {
      const check = () => {
        const found = pattern.exec(output);
        if (!found && !over) return;
        waiting.delete(check);
        done(found);
      };
      waiting.add(check);
      check();
    });
  return { child, exited, output: () => output, untilOutput };
}

/** The local runtime running as a process of its own. */
export interface RuntimeProcess extends TsxProcess {
  /** Where it said it listens. */
  url: string;
}

/** Starts infra/local/main.ts with `env` and waits until it says where it listens. */
export async function spawnLocalRuntime(env: Record<string, string>): Promise<RuntimeProcess> {
  const started = spawnTsx(join('infra', 'local', 'main.ts'), env);
  // A hang guard: a loaded machine starts tsx slowly.
  const guard = setTimeout(() => started.child.kill('SIGKILL'), 120_000);
  const found = await started.untilOutput(/running at (http:\/\/[\d.:]+)/);
  clearTimeout(guard);
  if (!found?.[1]) {
    started.child.kill('SIGKILL');
    throw new Error(`the runtime did not start:\n${started.output()}`);
  }
  return { ...started, url: found[1] };
}

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

export type WireTap = Awaited<ReturnType<typeof startWireTap>>;

/** A free loopback port, asked of the OS. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The local runtime as a process on a SQLite file, WeChat behind a wire tap, a poller on the same file. */
export interface ProcessPlatform {
  credentials: Credentials;
  sim: WeChatSimulator;
  tap: WireTap;
  sqlitePath: string;
  /** The runtime's environment: the file, the tap as WeChat, `url` as the public base. */
  env: Record<string, string>;
  /** Where every runtime of the platform listens: one port, so clients and the simulator's push URLs survive restarts. */
  url: string;
  poller: ClockedServices;
  /** A runtime process on the platform's file and port (the first, or the next after a crash). */
  spawnRuntime(): Promise<RuntimeProcess>;
  /** Kills `runtime` if it still runs; closes the poller, the tap and the simulator; removes the file. */
  close(runtime: RuntimeProcess | undefined): Promise<void>;
}

export async function startProcessPlatform(options: {
  /** Names the temporary folder. */
  name: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  simulator?: Partial<SimulatorOptions>;
  tap?: Parameters<typeof startWireTap>[1];
  pollerLog?: Logger;
}): Promise<ProcessPlatform> {
  const dir = mkdtempSync(join(tmpdir(), `wxa-${options.name}-`));
  const credentials = freshCredentials();
  const sim = await startSimulator(credentials, options.simulator);
  const tap = await startWireTap(sim.baseUrl, options.tap);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sqlitePath = join(dir, 'wxa.db');
  const env = platformEnv(credentials, tap.url, sqlitePath, { PUBLIC_BASE_URL: url, LOG_LEVEL: options.logLevel });
  aimPushes(sim, url);
  const poller = servicesWithClock(env, Date.now(), options.pollerLog);
  return {
    credentials,
    sim,
    tap,
    sqlitePath,
    env,
    url,
    poller,
    spawnRuntime: async () => {
      const started = await spawnLocalRuntime({ ...env, PORT: String(port) });
      if (started.url !== url) throw new Error(`the runtime listens at ${started.url}, not ${url}`);
      return started;
    },
    close: async (runtime) => {
      if (runtime && runtime.child.exitCode === null && runtime.child.signalCode === null) runtime.child.kill('SIGKILL');
      await runtime?.exited;
      await poller.close();
      await tap.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

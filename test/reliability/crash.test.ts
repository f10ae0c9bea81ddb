/**
 * Crash: the local runtime runs as a real process (`infra/local/main.ts` under tsx) on a fixed SQLite file, against
 * a simulator in this process that both share. A build, a submit or a release is sent and the process is SIGKILLed
 * — half the runs at a random moment after the request left, half at the instant WeChat has done the work and
 * answered but before the answer reached the runtime (the window where WeChat is ahead of the store). The runtime
 * is started again on the same file, and a poller (another instance, its clock moved past the resume delay)
 * finishes what was left.
 *
 * Every deployment must then finish exactly once: one deployment per build request, one audit and one release at
 * WeChat (a repeated release is answered 85052), and one `released` in its history.
 */

import type { Call, Client } from '../../infra/local/driver';
import { type Deployment, phaseOf } from '../../shared/domain/deployment';
import * as z from '../../shared/domain/zod';
import {
  appFleet,
  countTo,
  type Exchange,
  expectCleanHistories,
  type ProcessPlatform,
  pollUntil,
  type RuntimeProcess,
  remotePlatform,
  seededRandom,
  seedFromEnv,
  sleep,
  startProcessPlatform,
} from './support';

jest.mock('qrcode', () => jest.requireActual('./fast-qrcode'));

const SEED = seedFromEnv(7_2026);
const DEPLOYMENTS = 8; // × 3 phases = 24 crashes

/** How a run picks its moment to die. */
type Moment = { kind: 'delay'; maxMs: number } | { kind: 'wechat-answered'; path: string };

interface CrashRun {
  phase: 'build' | 'submit' | 'release';
  moment: string;
  answered: boolean;
  /** Where the crash left the store, and whether WeChat had done the phase's work already. */
  left: string;
}

let harness: ProcessPlatform;
let runtime: RuntimeProcess | undefined;
let trap: { path: string; fired: boolean } | undefined;
const runs: CrashRun[] = [];
const dice = seededRandom(SEED);

async function crash(r: RuntimeProcess): Promise<void> {
  r.child.kill('SIGKILL');
  await r.exited;
}

/**
 * Loads the function and its services in the new process with a request that fails fast, so the crash lands in
 * the WeChat work of the next request rather than in module loading.
 */
async function warm(api: Client, path: string): Promise<void> {
  const reply = await api.post(path);
  if (reply.status < 400 || reply.status >= 500) throw new Error(`warming ${path} answered ${reply.status}`);
}

/** Sends the request, SIGKILLs the runtime at the chosen moment and starts a new one on the same file and port. */
async function sendAndCrash(
  phase: CrashRun['phase'],
  send: () => Promise<Call>,
  moment: Moment,
  inspect: () => Promise<string>,
): Promise<void> {
  const victim = runtime;
  if (!victim) throw new Error('the runtime is not running');
  let answered = false;
  if (moment.kind === 'wechat-answered') trap = { path: moment.path, fired: false };
  const request = send().then(
    () => {
      answered = true;
    },
    () => undefined, // the connection died with the process
  );
  let delayMs = 0;
  if (moment.kind === 'delay') {
    delayMs = Math.floor(dice() * moment.maxMs);
    await sleep(delayMs);
    await crash(victim);
  }
  await request;
  if (trap && !trap.fired) throw new Error(`the runtime never called ${trap.path}`);
  trap = undefined;
  runs.push({
    phase,
    moment: moment.kind === 'delay' ? `${delayMs} ms after sending` : `${moment.path} answered`,
    answered,
    left: await inspect(),
  });
  runtime = await harness.spawnRuntime();
}

const deploymentsOfApp = async (appId: string): Promise<Deployment[]> =>
  (await harness.poller.services.db.deployments.find({ where: { appId }, limit: 10 })).map((d) => d.data);

const stored = async (id: string): Promise<Deployment> => {
  const found = await harness.poller.services.db.deployments.get(id);
  if (!found) throw new Error(`deployment ${id} is gone`);
  return found.data;
};

/** The poller, a few ticks at most: every step it resumes is due two minutes after it was recorded. */
const finish = async (id: string, done: (d: Deployment) => boolean): Promise<Deployment['state'] | undefined> =>
  (await pollUntil(harness.poller, [id], done, { sim: harness.sim, maxTicks: 6 })).deployments.get(id)?.state;

const errcodeOf = (exchange: Exchange): number =>
  z.object({ errcode: z.optional(z.number()) }).parse(JSON.parse(exchange.responseBody.toString('utf8'))).errcode ?? 0;

beforeAll(async () => {
  harness = await startProcessPlatform({
    name: 'crash',
    logLevel: 'warn',
    // A little latency on every WeChat call widens the windows between a call and the write that records it.
    simulator: { random: seededRandom(SEED + 1), faults: { latencyMs: 8 }, pushRetryDelayMs: 50 },
    // Everybody reaches WeChat through a tap, which can kill the runtime the instant WeChat has answered it.
    tap: {
      after: async (exchange) => {
        if (!trap || trap.fired || exchange.path !== trap.path || !runtime) return 'relay';
        trap.fired = true;
        await crash(runtime);
        return 'drop';
      },
    },
  });
  runtime = await harness.spawnRuntime();
  await harness.sim.pushVerifyTicket();
});
afterAll(async () => {
  await harness?.close(runtime);
});

it(`finishes every deployment exactly once after the runtime is killed during build, submit and release (seed ${SEED}: RELIABILITY_SEED replays it)`, async () => {
  const platform = remotePlatform(harness.url, harness.sim, harness.credentials.adminKey);
  const apps = await appFleet(platform, 2, DEPLOYMENTS / 2);
  const moment = (i: number, maxMs: number, paths: readonly string[]): Moment =>
    i % 2 === 0 ? { kind: 'delay', maxMs } : { kind: 'wechat-answered', path: paths[Math.floor(dice() * paths.length)] ?? '' };
  const build = { userVersion: '1.0.0', userDesc: 'crash test', testers: ['tester001'] };

  const ids: string[] = [];
  for (const [i, { api, appId, target }] of apps.entries()) {
    // Build: killed anywhere from before the deployment is recorded to after the QR is stored.
    await warm(api, '/v1/apps/app_warm/deployments');
    const buildLeft = async () => {
      const d = (await deploymentsOfApp(appId))[0];
      return `${d ? phaseOf(d) : 'nothing'}, WeChat ${harness.sim.miniProgram(target)?.exp ? 'committed' : 'untouched'}`;
    };
    await sendAndCrash(
      'build',
      () => api.post(`/v1/apps/${appId}/deployments`, build),
      moment(i, 120, ['/wxa/commit', '/wxa/get_qrcode', '/wxa/bind_tester']),
      buildLeft,
    );
    if ((await deploymentsOfApp(appId)).length === 0) {
      // Killed before anything was recorded: nothing happened at WeChat either, and the client's retry starts it.
      expect((await api.post(`/v1/apps/${appId}/deployments`, build)).status).toBe(202);
    }
    const found = await deploymentsOfApp(appId);
    expect(found).toHaveLength(1);
    const id = found[0]?.id ?? '';
    ids.push(id);
    expect(await finish(id, (d) => d.state !== 'building')).toBe('built');

    const left = async (what: 'audits' | 'releaseHistory') =>
      `${phaseOf(await stored(id))}, WeChat ${what} ${harness.sim.miniProgram(target)?.[what].length ?? 0}`;
    /** A submit or release sent and crashed, sent again if the crash left it undone, then finished by the poller. */
    const crashThrough = async (
      command: 'submit' | 'release',
      when: Moment,
      what: 'audits' | 'releaseHistory',
      [undone, pending, done]: Deployment['state'][],
    ) => {
      await warm(api, `/v1/deployments/dep_warm/${command}`);
      await sendAndCrash(
        command,
        () => api.post(`/v1/deployments/${id}/${command}`),
        when,
        () => left(what),
      );
      if ((await stored(id)).state === undone) expect((await api.post(`/v1/deployments/${id}/${command}`)).status).toBe(200);
      expect(await finish(id, (d) => d.state !== pending)).toBe(done);
    };

    // Submit: a resumed submit must adopt the audit WeChat already has instead of submitting again.
    await crashThrough('submit', moment(i, 80, ['/wxa/submit_audit']), 'audits', ['built', 'submitting', 'auditing']);

    await harness.sim.decideAudit(target, 'approve');
    await harness.sim.pushesSettled();
    expect(await finish(id, (d) => d.state !== 'auditing')).toBe('approved');

    // Release: a resumed release that WeChat already did is answered 85052, which counts as done.
    await crashThrough('release', moment(i, 40, ['/wxa/release']), 'releaseHistory', ['approved', 'releasing', 'released']);
  }

  expect(runs.length).toBeGreaterThanOrEqual(20);
  const finals = await Promise.all(ids.map(stored));
  expectCleanHistories(finals);
  const outcome = [];
  for (const [i, app] of apps.entries()) {
    const d = finals[i];
    const wechat = harness.sim.miniProgram(app.target);
    outcome.push({
      state: d?.state,
      deploymentsOfApp: (await deploymentsOfApp(app.appId)).length,
      released: d ? countTo(d, 'released') : -1,
      auditsAtWeChat: wechat?.audits.length,
      releasesAtWeChat: wechat?.releaseHistory.length,
    });
  }
  expect(outcome).toEqual(
    apps.map(() => ({ state: 'released', deploymentsOfApp: 1, released: 1, auditsAtWeChat: 1, releasesAtWeChat: 1 })),
  );

  // On the wire: one accepted submit and one accepted release per deployment; any repeat was refused by WeChat.
  const answers = (path: string) => harness.tap.exchanges.filter((e) => e.path === path).map(errcodeOf);
  expect(answers('/wxa/submit_audit').filter((code) => code === 0)).toHaveLength(DEPLOYMENTS);
  expect(answers('/wxa/release').filter((code) => code === 0)).toHaveLength(DEPLOYMENTS);
  expect(answers('/wxa/release').filter((code) => code !== 0 && code !== 85052)).toEqual([]);
  // Crashes landed where it matters: WeChat had submitted or released and the store did not know it yet.
  expect(runs.filter((run) => /^(submitting|releasing), WeChat (audits|releaseHistory) 1$/.test(run.left)).length).toBeGreaterThanOrEqual(
    DEPLOYMENTS,
  );
  process.stdout.write(
    `crash runs:\n${runs.map((run) => `  ${run.phase}: ${run.moment}${run.answered ? ' (after the reply)' : ''} → ${run.left}`).join('\n')}\n`,
  );
});

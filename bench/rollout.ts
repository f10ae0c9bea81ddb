/**
 * Rollout (issue 15): `--apps` (1,000) mini programs over two accounts, rolled out by the platform admin — a canary of
 * one, then 10 %, then everyone — each member released in phases (10 %, then 50 %, then in full, an hour apart), over
 * the whole product on loopback: the local runtime with every function of serverless.yml, a SQLite file, and the
 * WeChat simulator over HTTP with 50 ms added to every WeChat call.
 *
 * Time is simulated and moves tick by tick: the review-poller's own cron (serverless.yml, once a minute). Before each
 * tick the clock jumps to the tick's instant, the simulator decides what fell due meanwhile (audits drawn from its
 * audit profile: durations between a minimum and a maximum around a median, none rejected) and pushes the results
 * to our message URL; then the review-poller function runs through the local runtime with its deployed timeout
 * (pollDue, then the rollout driver, as in the cloud). WeChat's component_verify_ticket is pushed every 10 simulated
 * minutes, as WeChat does. One clock serves the whole process (simulator, functions, pushes' timestamps): within a
 * tick it runs at real speed, between ticks it jumps.
 *
 * Measured, in one run:
 * - Baseline: `--singles` (10) ordinary deployments of other apps, each through the API (build, submit, audit by the same profile,
 *   release), with the same phased release done by hand (grayrelease 10 %, an hour, 50 %, an hour, then the API's
 *   release: the API has no phased release for a single deployment), under the same ticks: their WeChat calls per
 *   deployment, counted by the simulator per path (a mean: one audit's draw alone would set the number of polls).
 * - The rollout: WeChat calls per member (the simulator's counts over the whole rollout, shared calls included,
 *   divided by the members), each tick's time against the tick's budget (the function's timeout less the handler's
 *   reserve), and how long after the last thing it waited for the rollout ended.
 * - Correctness (else the run fails): every member released in full (its phased release completed), its mini
 *   program live on the new version, and audited exactly once.
 *
 * `npx tsx bench/rollout.ts [--apps 1000] [--singles 10]`
 */

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RESERVE_MS } from '../functions/review-poller/handler';
import { parseScfCron } from '../infra/local/cron';
import { client, expectStatus } from '../infra/local/driver';
import { loadTemplate } from '../infra/local/template';
import { authorizeNewApp, readyApp, startSeededPlatform } from '../infra/testing/seeded-platform';
import type { AuditProfile } from '../infra/wechat-sim/audit-profiles';
import { createServices, type Services } from '../shared/app/context';
import { rolloutCollections } from '../shared/app/rollouts/store';
import type { Rollout, RolloutMember } from '../shared/domain/rollout';
import * as z from '../shared/domain/zod';
import { parseConfig } from '../shared/runtime/config';
import { createLogger } from '../shared/runtime/logger';
import { openSqliteStore } from '../shared/store/sqlite';
import { createWeChatPlatform } from '../shared/wechat/platform';
import { type BenchResult, type BenchRow, fmt, main, numberArg, percentile, ROOT, ratio } from './support';

const LATENCY_MS = 50;
const TEMPLATE_ID = 101;
const HOUR = 3_600_000;
/**
 * Audits of the new version: 20 minutes to 12 hours, 2 hours for most (a model, not WeChat data: WeChat promises
 * nothing below 7 days; updates of a released mini program usually pass within hours to a day). The figures measured
 * here do not depend on it, only the number of idle ticks in between.
 */
const PROFILE: AuditProfile = {
  templateId: TEMPLATE_ID,
  minMs: 20 * 60_000,
  medianMs: 2 * HOUR,
  maxMs: 12 * HOUR,
  rejectRate: 0,
  seed: 15,
};
const PHASED = { percents: [10, 50], stepMs: HOUR };
/** WeChat pushes component_verify_ticket every 10 minutes (reference §2.1). */
const TICKET_EVERY_MS = 10 * 60_000;
const NEW_VERSION = '2.0.0';
const RELEASED_BEFORE = { templateId: TEMPLATE_ID, userVersion: '1.0.0', userDesc: 'released before the platform' };

/**
 * One clock for the process: the product reads `Date.now` wherever nothing injects a clock (the functions in the
 * local runtime, the pushes' timestamps, which the receiver checks against its own clock), so the simulated time
 * must be that one. It runs at real speed and jumps forward between ticks; never back.
 */
function simulatedClock() {
  const real = Date.now.bind(Date);
  let offset = 0;
  Date.now = () => real() + offset;
  return {
    jumpTo: (at: number) => {
      offset = Math.max(offset, at - real());
    },
  };
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let item = items[next++]; item !== undefined; item = items[next++]) await task(item);
    }),
  );
}

/** User and system CPU of this process (the product, the simulator and the benchmark share it), in seconds. */
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);
const byPath = (counts: Record<string, number>, per = 1) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([path, c]) => `${path} ${fmt(c / per, per === 1 ? 0 : 2)}`)
    .join(', ');

/** A baseline deployment and where its operator got: building, in review, the phase reached (index), released. */
interface Single {
  appId: string;
  target: string;
  deploymentId: string;
  step: 'build' | 'audit' | number | 'released';
  phasedAt: number;
}

const deploymentView = z.object({ id: z.string(), state: z.string(), audit: z.nullable(z.object({ auditId: z.number() })) });

main(async (): Promise<BenchResult> => {
  const appCount = numberArg('apps', 1_000);
  const singleCount = numberArg('singles', 10);
  const clock = simulatedClock();
  const setupStarted = performance.now();
  const p = await startSeededPlatform({ timeoutScale: 1 });
  const poller = loadTemplate(join(ROOT, 'serverless.yml'), p.env).functions.find((f) => f.name === 'review-poller');
  const cron = poller?.timers[0]?.cronExpression;
  if (!poller || !cron) throw new Error('serverless.yml has no review-poller timer');
  const schedule = parseScfCron(cron);
  const first = schedule.next(Date.now()) ?? 0;
  const intervalMs = (schedule.next(first) ?? 0) - first;
  const budgetMs = poller.timeoutMs - RESERVE_MS;

  const config = parseConfig(p.env);
  const store = openSqliteStore({ path: p.sqlitePath });
  const log = createLogger({ level: 'error' });
  // The operator's own WeChat calls (the baseline's grayrelease) and the reads of the figures, on the same file.
  const operator: Services = createServices({ config, log, store, wechat: createWeChatPlatform({ config, store, log }) });
  const { rollouts, members: memberDocs } = rolloutCollections(operator);

  try {
    p.sim.setQuota({ submitRest: appCount * 2 + 100, submitLimit: appCount * 2 + 100 });
    p.sim.setAuditProfile(PROFILE);

    // Two accounts, half the mini programs each, every one with a version live already (phases need one) and its
    // app open to platform-managed updates; and one more app of the first account for the baseline.
    const target = { released: RELEASED_BEFORE };
    const accounts = await Promise.all([readyApp(p, { target }), readyApp(p, { target })]);
    const apps: { api: (typeof accounts)[number]['api']; appId: string; target: string }[] = accounts.map((a) => ({
      api: a.api,
      appId: a.appId,
      target: a.target,
    }));
    const wanted = Array.from({ length: appCount - apps.length }, (_, i) => accounts[i % 2] ?? accounts[0]);
    await pool(wanted, 4, async (account) => {
      if (!account) return;
      apps.push({ api: account.api, ...(await authorizeNewApp(p, account.api, account.subject, { target })) });
    });
    await pool(apps, 8, async (a) => {
      expectStatus(await a.api.put(`/v1/apps/${a.appId}/rollout-settings`, { platformManagedUpdates: true }), 200);
    });
    const [owner] = accounts;
    if (!owner) throw new Error('no account');
    const singles: Single[] = [];
    for (let i = 0; i < singleCount; i++) {
      singles.push({ ...(await authorizeNewApp(p, owner.api, owner.subject, { target })), deploymentId: '', step: 'build', phasedAt: 0 });
    }
    const setupMs = performance.now() - setupStarted;
    console.log(`${fmt(appCount)} apps and ${singles.length} baseline apps authorized in ${fmt(setupMs / 1000)} s`);

    // From here on, WeChat answers 50 ms late and time moves tick by tick.
    p.sim.setFaults({ latencyMs: LATENCY_MS });
    let tickAt = first;
    const tick = async (): Promise<{ ms: number; result: unknown }> => {
      tickAt += intervalMs;
      clock.jumpTo(tickAt);
      if (Math.floor(tickAt / TICKET_EVERY_MS) !== Math.floor((tickAt - intervalMs) / TICKET_EVERY_MS)) await p.sim.pushVerifyTicket();
      p.sim.clockMoved();
      await p.sim.pushesSettled();
      const started = performance.now();
      const result = await p.pollNow();
      return { ms: performance.now() - started, result };
    };
    const ticksFor = (ms: number) => Math.ceil(ms / intervalMs);

    // --- Baseline: ordinary deployments, phased by hand (their mean: one audit's draw alone would be noise). ---------
    await tick();
    p.sim.resetCounters();
    const baselineStarted = tickAt;
    const stateOf = async (s: Single) =>
      deploymentView.parse(expectStatus(await owner.api.get(`/v1/deployments/${s.deploymentId}`), 200).body).state;
    for (const s of singles) {
      s.deploymentId = deploymentView.parse(
        expectStatus(await owner.api.post(`/v1/apps/${s.appId}/deployments`, { userVersion: NEW_VERSION, userDesc: 'baseline' }), 202).body,
      ).id;
    }
    const baselineTicks = ticksFor(PROFILE.maxMs + PHASED.percents.length * PHASED.stepMs) + 30;
    for (let i = 0; i < baselineTicks && singles.some((s) => s.step !== 'released'); i++) {
      for (const s of singles) {
        const state = await stateOf(s);
        if (s.step === 'build' && state === 'built') {
          expectStatus(await owner.api.post(`/v1/deployments/${s.deploymentId}/submit`), 200);
          s.step = 'audit';
        } else if (s.step === 'audit' && state === 'approved') {
          s.step = 0;
        }
        // The next share once the step's time has passed since the last one (at once after the approval).
        if (typeof s.step === 'number' && tickAt >= s.phasedAt + PHASED.stepMs) {
          const percentage = PHASED.percents[s.step];
          if (percentage === undefined) {
            expectStatus(await owner.api.post(`/v1/deployments/${s.deploymentId}/release`), 200);
            s.step = 'released';
          } else {
            await operator.wechat.client.grayRelease(s.target, { gray_percentage: percentage });
            s.phasedAt = tickAt;
            s.step += 1;
          }
        }
      }
      if (singles.some((s) => s.step !== 'released')) await tick();
    }
    for (const s of singles) if ((await stateOf(s)) !== 'released') throw new Error(`baseline ${s.deploymentId}: not released`);
    const baselineCounts = p.sim.counters();
    const baselineCalls = sum(baselineCounts) / singles.length;
    const baselineHours = (tickAt - baselineStarted) / HOUR;

    // --- The rollout. --------------------------------------------------------------------------------------------
    await tick();
    p.sim.resetCounters();
    const admin = client(p.url, p.adminKey);
    const created = z.object({ id: z.string(), memberCount: z.number() }).parse(
      expectStatus(
        await admin.post('/v1/platform/rollouts', {
          templateId: TEMPLATE_ID,
          userVersion: NEW_VERSION,
          userDesc: 'fleet',
          selection: { templateIds: [TEMPLATE_ID] },
          waves: { canary: { count: 1 }, percents: [10, 100] },
          release: { mode: 'on-approval', phased: PHASED },
        }),
        201,
      ).body,
    );
    if (created.memberCount !== appCount) throw new Error(`the rollout selected ${created.memberCount} apps, not ${appCount}`);
    const rolloutStarted = tickAt;
    const realStarted = performance.now();
    const tickMs: number[] = [];
    let errors = 0;
    const tickSummary = z.object({ rollouts: z.object({ errors: z.number() }) });
    const maxTicks = 3 * (ticksFor(PROFILE.maxMs) + 2 * ticksFor(PHASED.stepMs)) + appCount;
    let rollout: Rollout | undefined;
    for (let i = 0; i < maxTicks; i++) {
      const { ms, result } = await tick();
      tickMs.push(ms);
      errors += tickSummary.parse(result).rollouts.errors;
      const wave = rollout?.currentWave;
      rollout = (await rollouts.get(created.id))?.data;
      if (rollout?.state !== 'running') break;
      // Progress for whoever waits on `npm run bench` (a wave takes minutes of real time on a busy machine).
      if (rollout.currentWave !== wave)
        console.log(`tick ${i + 1}: wave ${rollout.currentWave} starts (${fmt((tickAt - rolloutStarted) / HOUR, 1)} h simulated)`);
    }
    const realMs = performance.now() - realStarted;
    if (rollout?.state !== 'completed')
      throw new Error(`the rollout ended ${rollout?.state} after ${tickMs.length} ticks: ${rollout?.stateReason}`);
    const rolloutCounts = p.sim.counters();
    const rolloutCalls = sum(rolloutCounts);

    // --- What every member came to. ------------------------------------------------------------------------------
    const members: RolloutMember[] = (await memberDocs.find({ where: { rolloutId: created.id }, limit: 100_000 })).map((m) => m.data);
    const notReleased = members.filter((m) => m.state !== 'released');
    if (notReleased.length) throw new Error(`${notReleased.length} members not released: ${JSON.stringify(notReleased.slice(0, 3))}`);
    let auditedTwice = 0;
    let lastDecision = 0;
    let lastDue = 0;
    for (const m of members) {
      const mp = p.sim.miniProgram(m.miniProgramAppid ?? '');
      const audits = mp?.audits.filter((a) => a.version.userVersion === NEW_VERSION) ?? [];
      if (audits.length !== 1) auditedTwice += 1;
      if (mp?.live?.userVersion !== NEW_VERSION || mp.grayRelease?.status !== 3)
        throw new Error(
          `${m.miniProgramAppid} is not live in full on ${NEW_VERSION}: ${JSON.stringify({ live: mp?.live, gray: mp?.grayRelease })}`,
        );
      const phases = m.history.filter((h) => h.to === 'phasing');
      if (phases.length !== PHASED.percents.length) throw new Error(`${m.appId} went through ${phases.length} phases`);
      // WeChat's decision (the drawn instant), and when the member's last phase step fell due.
      const decidedAt = audits[0]?.autoDecideAt ?? audits[0]?.decidedAt ?? 0;
      lastDecision = Math.max(lastDecision, decidedAt);
      lastDue = Math.max(lastDue, decidedAt, (phases.at(-1)?.at ?? 0) + PHASED.stepMs);
    }
    if (auditedTwice) throw new Error(`${auditedTwice} mini programs audited more than once`);
    const endedAt = rollout.history.at(-1)?.at ?? 0;
    const afterLastDue = (endedAt - lastDue) / intervalMs;
    const afterLastDecision = (endedAt - lastDecision) / intervalMs;
    const phaseWait = (PHASED.percents.length * PHASED.stepMs) / intervalMs;

    const perMember = rolloutCalls / appCount;
    const maxTick = Math.max(...tickMs);
    const p95Tick = percentile(tickMs, 95);
    const tickRow = (figure: string, ms: number): BenchRow => ({
      figure,
      value: `${fmt(ms / 1000, 2)} s`,
      baseline: `${fmt(budgetMs / 1000)} s budget`,
      ratio: ratio(ms, budgetMs, 3),
      target: '≤ the budget',
      met: ms <= budgetMs,
    });
    const rows: BenchRow[] = [
      {
        figure: `WeChat calls per mini program, the rollout's shared calls included (${fmt(rolloutCalls)} for ${fmt(appCount)})`,
        value: fmt(perMember, 2),
        baseline: `${fmt(baselineCalls, 2)} (one deployment, phased by hand; mean of ${singles.length})`,
        ratio: ratio(perMember, baselineCalls),
        target: '≤ 1.10× one deployment',
        met: perMember <= 1.1 * baselineCalls,
      },
      tickRow(`poller tick, max (${fmt(tickMs.length)} ticks, ${LATENCY_MS} ms per WeChat call)`, maxTick),
      tickRow('poller tick, p95', p95Tick),
      {
        figure: 'from the last decision (the last audit, or the last phase step falling due) to the rollout’s end',
        value: `${fmt(afterLastDue, 2)} ticks`,
        baseline: `${fmt(intervalMs / 1000)} s per tick`,
        ratio: '—',
        target: '≤ 2 ticks',
        met: afterLastDue <= 2,
      },
      {
        figure: 'from the last audit decision to the rollout’s end (the phases’ own steps included)',
        value: `${fmt(afterLastDecision, 1)} ticks`,
        baseline: `${fmt(phaseWait)} ticks of phase steps`,
        ratio: '—',
        target: '— (informational)',
        met: null,
      },
      {
        figure: 'members released in full, each audited once',
        value: `${fmt(members.length)} of ${fmt(appCount)}`,
        baseline: `${fmt(rolloutCounts['/wxa/submit_audit'] ?? 0)} submit_audit calls`,
        ratio: '—',
        target: 'all (checked: else the run fails)',
        met: true,
      },
    ];
    return {
      name: 'rollout',
      title: `Rollout: ${fmt(appCount)} mini programs, canary → 10 % → 100 %, phased release, ${LATENCY_MS} ms WeChat latency`,
      command: 'npx tsx bench/rollout.ts',
      rows,
      notes: [
        `- Setup (not timed in the figures): two accounts, ${fmt(appCount)} apps and mini programs authorized through the API, ${fmt(setupMs / 1000)} s. Waves ${rollout.waves.map((w) => w.size).join(' → ')}; phases ${PHASED.percents.join(' % → ')} % → full, ${PHASED.stepMs / HOUR} h apart; ${rollout.startsPerTick} starts per tick.`,
        `- Simulated time: the rollout took ${fmt(tickMs.length)} ticks (${fmt((endedAt - rolloutStarted) / HOUR, 1)} h simulated, ${fmt(realMs / 1000)} s real; this process's CPU over the whole run, setup included: ${fmt(cpuSeconds())} s); the baseline ${fmt(baselineHours, 1)} h. Audits: ${PROFILE.minMs / 60_000} min to ${PROFILE.maxMs / HOUR} h, median ${PROFILE.medianMs / HOUR} h (the simulator's audit profile, seed ${PROFILE.seed}), none rejected. Tick driver errors: ${errors}.`,
        `- WeChat calls by path, the rollout per member: ${byPath(rolloutCounts, appCount)}.`,
        `- WeChat calls by path, the baseline per deployment: ${byPath(baselineCounts, singles.length)}.`,
        `- Tick time: median ${fmt(percentile(tickMs, 50))} ms, p95 ${fmt(p95Tick)} ms, max ${fmt(maxTick)} ms; budget = review-poller's timeout (${poller.timeoutMs / 1000} s) less the handler's reserve (${RESERVE_MS / 1000} s), a tick every ${intervalMs / 1000} s (\`${cron}\`).`,
      ],
      durationMs: 0,
    };
  } finally {
    await store.close();
    await p.close();
  }
});

/**
 * Cost: what one deployment costs in the cloud's billed units — store reads and writes, WeChat calls, function
 * invocations and their GB-seconds — counted on the whole product in this process (every function behind the local
 * runtime, a temp SQLite file, a simulator), and a monthly estimate at the published prices.
 *
 * Scenarios, each counted on its own (counters reset between them; the setup — account, primary, app, target mini
 * program authorized — is not counted):
 * - `deployment, audit result pushed`: build → submit → WeChat approves and pushes → release, through the API.
 * - `deployment, audit push lost`: the same with the push dropped: one poller tick finds the audit due and polls it.
 * - `idle poller tick`: nothing due, with 1,000 more released deployments stored (copies of the measured ones):
 *   what every minute's tick costs whatever the number of deployments (issue 17: at most two store reads).
 * - `tick with due audits`: `--due` (5) audits due in one tick, WeChat decided, pushes lost; the per-item figures
 *   scale that tick to 10,000 due audits (bench/poller.ts runs the 10,000 for time and WeChat calls).
 *
 * Counting: store operations at better-sqlite3's statements (infra/testing/store-requests.ts), which is where each
 * adapter call becomes a database request: a get, an insert, a compare-and-set update and a find are one request
 * each on CloudBase too (a batch of n writes is n writes in one transaction). WeChat calls at the simulator (per path).
 * Invocations at the local runtime (HTTP requests and pushes reaching a function), plus one per poller tick; their
 * GB-seconds as SCF bills them (configured memory 256 MB × run time), with local run times (informational).
 *
 * `--trace` prints every counted store request and WeChat call to stderr as it happens, with the product's frames
 * that made it: where a repeated read comes from.
 *
 * `npx tsx bench/cost.ts [--due 5] [--trace]`
 */
import { deploymentOf, expectStatus } from '../infra/local/driver';
import { readyApp, type SeededPlatform, startSeededPlatform } from '../infra/testing/seeded-platform';
import { countStoreRequests } from '../infra/testing/store-requests';
import { createServices } from '../shared/app/context';
import { pollDue } from '../shared/app/deployments';
import { parseConfig } from '../shared/runtime/config';
import { createLogger } from '../shared/runtime/logger';
import { openSqliteStore } from '../shared/store/sqlite';
import { createWeChatPlatform } from '../shared/wechat/platform';
import { type BenchResult, type BenchRow, fmt, main, numberArg } from './support';

/** Published pay-as-you-go prices, CNY (sources and date in the notes). */
const PRICE = {
  dbReadPer10k: 0.015,
  dbWritePer10k: 0.05,
  gbSecond: 0.00011108,
  invocationPer10k: 0.0133,
};
const MEMORY_GB = 256 / 1024; // serverless.yml: memorySize 256 for every function
const TICKS_PER_MONTH = 30 * 24 * 60; // review-poller: cron "0 * * * * * *", once a minute
const MINI_PROGRAMS = 1_000;
const RELEASES_PER_MONTH = 2;
const EXTRA_DEPLOYMENTS = 1_000;

const storeRequests = countStoreRequests();
let counts = storeRequests.counts();
const resetStoreCounts = () => {
  storeRequests.reset();
  counts = storeRequests.counts();
};

const tracing = process.argv.includes('--trace');
/** The product's frames (shared/, functions/) below the store and HTTP layers that made the current call. */
const callers = (): string =>
  (new Error().stack ?? '')
    .split('\n')
    .flatMap((line) => /\/(shared|functions)\/(?!store\/|wechat\/http)[\w/.-]+:\d+/.exec(line)?.[0].slice(1) ?? [])
    .slice(0, 4)
    .join(' < ');
const trace = (what: string) => {
  if (tracing) process.stderr.write(`${what}  ${callers()}\n`);
};

/** WeChat calls in order, with their callers (the simulator counts them; only `--trace` wraps fetch). */
function traceFetch(): void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname.startsWith('/wxa') || url.pathname.startsWith('/cgi-bin')) trace(`wechat ${url.pathname}`);
    return original(input, init);
  };
}

interface Measured {
  name: string;
  reads: number;
  rowsRead: number;
  writes: number;
  byTable: string;
  wechat: number;
  wechatPaths: string;
  invocations: number;
  invocationsByFn: string;
  gbSeconds: number;
}

async function measure(p: SeededPlatform, name: string, ticks: { ms: number[] }, run: () => Promise<void>): Promise<Measured> {
  await p.sim.pushesSettled();
  resetStoreCounts();
  p.sim.resetCounters();
  trace(`--- ${name}`);
  const before = p.stack.runtime.invocations.length;
  ticks.ms = [];
  await run();
  await p.sim.pushesSettled();
  const invocations = p.stack.runtime.invocations.slice(before);
  const wechatCounts = p.sim.counters() as Record<string, number>;
  const byFn = new Map<string, number>();
  for (const i of invocations) byFn.set(i.fn, (byFn.get(i.fn) ?? 0) + 1);
  if (ticks.ms.length) byFn.set('review-poller', (byFn.get('review-poller') ?? 0) + ticks.ms.length);
  const runMs = invocations.reduce((n, i) => n + i.durationMs, 0) + ticks.ms.reduce((n, ms) => n + ms, 0);
  return {
    name,
    reads: counts.reads,
    rowsRead: counts.rowsRead,
    writes: counts.writes,
    byTable: [...counts.byTable].map(([t, c]) => `${t} ${c.reads}r/${c.writes}w`).join(', '),
    wechat: Object.values(wechatCounts).reduce((n, c) => n + c, 0),
    wechatPaths: Object.entries(wechatCounts)
      .map(([path, c]) => `${path} ${c}`)
      .join(', '),
    invocations: invocations.length + ticks.ms.length,
    invocationsByFn: [...byFn].map(([fn, c]) => `${fn} ${c}`).join(', '),
    gbSeconds: (runMs / 1000) * MEMORY_GB,
  };
}

const cny = (m: { reads: number; writes: number; invocations: number; gbSeconds: number }) =>
  (m.reads / 10_000) * PRICE.dbReadPer10k +
  (m.writes / 10_000) * PRICE.dbWritePer10k +
  (m.invocations / 10_000) * PRICE.invocationPer10k +
  m.gbSeconds * PRICE.gbSecond;

main(async (): Promise<BenchResult> => {
  const due = numberArg('due', 5);
  if (tracing) {
    traceFetch();
    storeRequests.onRequest(({ kind, table }) => trace(`${kind} ${table}`));
  }
  const p = await startSeededPlatform({ simulator: { pushRetryDelayMs: 20 } });
  // The poller as the review-poller function runs it, with a clock of its own (audits are due minutes later).
  let pollerNow = Date.now();
  const config = parseConfig(p.env);
  const log = createLogger({ level: 'error' });
  const store = openSqliteStore({ path: p.sqlitePath, clock: () => pollerNow });
  const wechat = createWeChatPlatform({ config, store, log, clock: () => pollerNow });
  const poller = createServices({ config, log, store, wechat, clock: () => pollerNow });
  const ticks = { ms: [] as number[] };
  const tick = async () => {
    pollerNow = Date.now() + 31 * 60_000;
    const started = performance.now();
    const summary = await pollDue(poller, { budgetMs: 115_000, concurrency: 16 });
    ticks.ms.push(performance.now() - started);
    return summary;
  };
  const stateOf = async (id: string) => (await poller.db.deployments.get(id))?.data.state;

  try {
    const builtAndSubmitted = async (version: string) => {
      const app = await readyApp(p);
      return {
        app,
        submit: async () => {
          const built = deploymentOf(
            expectStatus(await app.api.post(`/v1/apps/${app.appId}/deployments`, { userVersion: version, userDesc: 'cost' }), 202),
          );
          expectStatus(await app.api.post(`/v1/deployments/${built.id}/submit`), 200);
          return built.id;
        },
      };
    };

    // 1. Pushed.
    const first = await builtAndSubmitted('1.0.0');
    let firstId = '';
    const pushed = await measure(p, 'deployment, audit result pushed (build → submit → approved by push → release)', ticks, async () => {
      firstId = await first.submit();
      await p.sim.decideAudit(first.app.target, 'approve');
      await p.sim.pushesSettled();
      if ((await stateOf(firstId)) !== 'approved') throw new Error(`pushed: not approved (${await stateOf(firstId)})`);
      expectStatus(await first.app.api.post(`/v1/deployments/${firstId}/release`), 200);
    });
    if ((await stateOf(firstId)) !== 'released') throw new Error('pushed: not released');

    // 2. Push lost: one tick.
    const second = await builtAndSubmitted('1.0.0');
    let secondId = '';
    const polled = await measure(
      p,
      'deployment, audit push lost (build → submit → approved, found by one poller tick → release)',
      ticks,
      async () => {
        secondId = await second.submit();
        p.sim.setFaults({ dropPushRate: 1 });
        await p.sim.decideAudit(second.app.target, 'approve');
        await p.sim.pushesSettled();
        p.sim.setFaults({ dropPushRate: 0 });
        const summary = await tick();
        if (summary.due < 1 || (await stateOf(secondId)) !== 'approved')
          throw new Error(`polled: not approved (${JSON.stringify(summary)})`);
        expectStatus(await second.app.api.post(`/v1/deployments/${secondId}/release`), 200);
      },
    );

    // 3. Due audits in one tick.
    const dueApps = [];
    for (let i = 0; i < due; i++) dueApps.push(await builtAndSubmitted('1.0.0'));
    const dueIds: string[] = [];
    for (const d of dueApps) dueIds.push(await d.submit());
    p.sim.setFaults({ dropPushRate: 1 });
    for (const d of dueApps) await p.sim.decideAudit(d.app.target, 'approve');
    await p.sim.pushesSettled();
    p.sim.setFaults({ dropPushRate: 0 });
    let dueSummary = '';
    const dueTick = await measure(p, `poller tick with ${due} due audits (decided at WeChat, pushes lost)`, ticks, async () => {
      const summary = await tick();
      dueSummary = JSON.stringify(summary);
      if (summary.due !== due || summary.changed !== due) throw new Error(`due tick: ${dueSummary}`);
    });

    // 4. Idle, with many deployments stored.
    const released = await poller.db.deployments.get(firstId);
    if (!released) throw new Error('released deployment gone');
    for (let i = 0; i < EXTRA_DEPLOYMENTS; i++) await poller.db.deployments.insert(`${firstId}x${i}`, released.data);
    let idleSummary = '';
    const idle = await measure(
      p,
      `idle poller tick (nothing due; ${fmt(EXTRA_DEPLOYMENTS + 2 + due)} deployments stored)`,
      ticks,
      async () => {
        const summary = await tick();
        idleSummary = JSON.stringify(summary);
        if (summary.due !== 0) throw new Error(`idle tick found work: ${idleSummary}`);
      },
    );

    // Per due item, from the due tick (its one due-query aside), scaled to 10,000.
    const perItem = (value: number, fixed: number) => (value - fixed) / due;
    const tenK = {
      reads: idle.reads + 10_000 * perItem(dueTick.reads, idle.reads),
      writes: 10_000 * perItem(dueTick.writes, 0),
      wechat: 10_000 * perItem(dueTick.wechat, 0),
      invocations: 1,
      gbSeconds: 115 * MEMORY_GB,
    };

    const monthlyDeployments = MINI_PROGRAMS * RELEASES_PER_MONTH;
    const monthPushed = {
      reads: monthlyDeployments * pushed.reads + TICKS_PER_MONTH * idle.reads,
      writes: monthlyDeployments * pushed.writes + TICKS_PER_MONTH * idle.writes,
      invocations: monthlyDeployments * pushed.invocations + TICKS_PER_MONTH,
      gbSeconds: monthlyDeployments * pushed.gbSeconds + TICKS_PER_MONTH * idle.gbSeconds,
    };
    const monthPolled = {
      reads: monthlyDeployments * polled.reads + TICKS_PER_MONTH * idle.reads,
      writes: monthlyDeployments * polled.writes + TICKS_PER_MONTH * idle.writes,
      invocations: monthlyDeployments * polled.invocations + TICKS_PER_MONTH,
      gbSeconds: monthlyDeployments * polled.gbSeconds + TICKS_PER_MONTH * idle.gbSeconds,
    };

    const row = (m: Measured, target = '— (informational)', met: boolean | null = null): BenchRow => ({
      figure: m.name,
      value: `${fmt(m.reads)} reads (${fmt(m.rowsRead)} documents) · ${fmt(m.writes)} writes · ${fmt(m.wechat)} WeChat calls · ${fmt(m.invocations)} invocations`,
      baseline: `${fmt(m.gbSeconds, 3)} GB-s (local run time)`,
      ratio: `¥${cny(m).toFixed(5)}`,
      target,
      met,
    });
    return {
      name: 'cost',
      title: 'Cost: store operations, WeChat calls and invocations per deployment, and a month for 1,000 mini programs',
      command: 'npx tsx bench/cost.ts',
      rows: [
        row(pushed),
        row(polled),
        row(idle, '≤ 2 store reads whatever the number of deployments', idle.reads <= 2),
        row(dueTick),
        {
          figure: 'poller tick with 10,000 due audits (scaled from the tick above: its due query + 10,000 × per item)',
          value: `${fmt(tenK.reads)} reads · ${fmt(tenK.writes)} writes · ${fmt(tenK.wechat)} WeChat calls · 1 invocation`,
          baseline: `≤ ${fmt(tenK.gbSeconds, 1)} GB-s (the 115 s budget)`,
          ratio: `¥${cny(tenK).toFixed(4)}`,
          target: '— (informational)',
          met: null,
        },
        {
          figure: `month, ${fmt(MINI_PROGRAMS)} mini programs × ${RELEASES_PER_MONTH} releases, every audit pushed (+ ${fmt(TICKS_PER_MONTH)} idle ticks)`,
          value: `${fmt(monthPushed.reads)} reads · ${fmt(monthPushed.writes)} writes · ${fmt(monthPushed.invocations)} invocations`,
          baseline: `${fmt(monthPushed.gbSeconds, 0)} GB-s`,
          ratio: `¥${cny(monthPushed).toFixed(2)}`,
          target: '— (informational)',
          met: null,
        },
        {
          figure: `month, ${fmt(MINI_PROGRAMS)} mini programs × ${RELEASES_PER_MONTH} releases, every audit push lost (+ ${fmt(TICKS_PER_MONTH)} idle ticks)`,
          value: `${fmt(monthPolled.reads)} reads · ${fmt(monthPolled.writes)} writes · ${fmt(monthPolled.invocations)} invocations`,
          baseline: `${fmt(monthPolled.gbSeconds, 0)} GB-s`,
          ratio: `¥${cny(monthPolled).toFixed(2)}`,
          target: '— (informational)',
          met: null,
        },
      ],
      notes: [
        "- Columns: `measured` = store read requests (documents they returned) · write requests · WeChat API calls · function invocations; `baseline` = GB-seconds (256 MB × run time measured here, loopback and a local simulator: the cloud run time differs); `ratio` = cost in CNY at the prices below. The monthly rows add the review-poller's tick every minute (30 days) at the idle tick's cost, and leave out the free tier, the maintenance timer (every 10 minutes) and storage.",
        `- Prices (pay-as-you-go, CNY; read 2026-12-07): CloudBase database reads ¥${PRICE.dbReadPer10k} / 10,000, writes ¥${PRICE.dbWritePer10k} / 10,000, function resource use ¥${PRICE.gbSecond} / GB-s — the CloudBase (腾讯云) pay-as-you-go table published in uniCloud's purchase guide (github.com/dcloudio/uni-app, docs/uniCloud/price.md, "腾讯云按量计费"); SCF invocations ¥${PRICE.invocationPer10k} / 10,000 — the figure several third-party cost notes quote for Tencent SCF and Aliyun FC, not found on Tencent's own pricing page in the searchable corpus (SCF billing rules: tencentcloud.com/zh/document/product/583/12284, invocations + GB-s, GB-s = memory × run time). Unverified against today's console prices.`,
        `- Per scenario, by collection (reads r / writes w): pushed: ${pushed.byTable}; push lost: ${polled.byTable}; due tick: ${dueTick.byTable}; idle: ${idle.byTable}.`,
        `- WeChat calls by path: pushed: ${pushed.wechatPaths || 'none'}; push lost: ${polled.wechatPaths || 'none'}; due tick: ${dueTick.wechatPaths || 'none'}. Invocations by function: pushed: ${pushed.invocationsByFn}; push lost: ${polled.invocationsByFn}; due tick: ${dueTick.invocationsByFn}; idle: ${idle.invocationsByFn}.`,
        `- Ticks: due ${dueSummary}; idle ${idleSummary}. The idle tick is one indexed range query on \`nextPollAt\` that returns nothing: its cost does not grow with the deployments stored.`,
        "- Counted at better-sqlite3's statements: a get, an insert, a compare-and-set update and a find are one database request each in the CloudBase adapter too; a delete with a version that finds nothing reads once more there. Not counted: the CloudBase adapter's own transaction overhead.",
      ],
      durationMs: 0,
    };
  } finally {
    await store.close();
    await p.close();
  }
});

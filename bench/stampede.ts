/**
 * Token stampede: `--processes` (100) separate processes, each with its own SQLite connection to one shared file
 * and its own TokenManager against one simulator, all asking at the same moment for a mini program's authorizer
 * token while both it and the component token have expired. Counted at the simulator: the refresh calls that
 * reach WeChat (`api_component_token`, `api_authorizer_token`). Target: exactly 1 of each.
 *
 * Setup, in this process: the simulator (its clock = ours + an offset), a verify ticket, a component token and a
 * mini program authorized through the simulator's API (pre-auth code, scan, query_auth) and saved by the token
 * manager — as tokens.test.ts does. Then the offset jumps past the 2 h token lifetime for the simulator and the
 * children alike. The children (bench/stampede-child.ts, bundled once with esbuild so 100 start quickly) each
 * check that they see both tokens expired, report ready, and all get `go` together.
 *
 * Baseline: the processes that found the tokens expired — without coordination each would refresh once.
 *
 * `npx tsx bench/stampede.ts [--processes 100] [--starting 4]` (`--starting`: children started at once, default 2 per core)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { authorizeWithTokens } from '../infra/testing/authorize-tokens';
import { startWeChatSimulator } from '../infra/wechat-sim';
import { LOCAL_WECHAT_DEFAULTS } from '../shared/runtime/config';
import { createLogger } from '../shared/runtime/logger';
import { createSecretBox } from '../shared/store/secret-box';
import { openSqliteStore } from '../shared/store/sqlite';
import { ComponentApi } from '../shared/wechat/component-api';
import { TokenManager } from '../shared/wechat/tokens';
import { type BenchResult, fmt, main, median, numberArg, percentile, ROOT } from './support';

const TOKEN_PATH = '/cgi-bin/component/api_component_token';
const AUTHORIZER_TOKEN_PATH = '/cgi-bin/component/api_authorizer_token';
const EXPIRED_BY_MS = 2 * 60 * 60_000 + 60_000;
/** Per child, from its fork: started a few at a time, each has the machine mostly to itself. */
const READY_WITHIN_MS = 60_000;

type Reply = { ready: true; sawExpired: boolean } | { ok: true; token: string; ms: number } | { ok: false; error: string; ms?: number };

main(async (): Promise<BenchResult> => {
  const processes = numberArg('processes', 100);
  const startingAtOnce = numberArg('starting', Math.max(2, cpus().length * 2));
  const work = mkdtempSync(join(tmpdir(), 'wxa-bench-stampede-'));
  const sqlitePath = join(work, 'tokens.db');
  const dataKey = randomBytes(32);
  const component = {
    appId: LOCAL_WECHAT_DEFAULTS.WECHAT_COMPONENT_APPID,
    secret: LOCAL_WECHAT_DEFAULTS.WECHAT_COMPONENT_SECRET,
    token: LOCAL_WECHAT_DEFAULTS.WECHAT_TOKEN,
    encodingAESKey: LOCAL_WECHAT_DEFAULTS.WECHAT_ENCODING_AES_KEY,
  };
  const mp = { appId: `wx${randomBytes(8).toString('hex')}`, nickName: '压测小程序', principalName: '压测科技有限公司' };
  let offset = 0;
  const clock = () => Date.now() + offset;
  const sim = await startWeChatSimulator({ component, now: clock });
  const children: ChildProcess[] = [];
  try {
    // The child, bundled once: 100 `tsx` start-ups would take longer than the stampede itself.
    const childFile = join(work, 'child.cjs');
    await build({
      entryPoints: [join(ROOT, 'bench', 'stampede-child.ts')],
      outfile: childFile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      external: ['better-sqlite3'],
      logLevel: 'error',
    });

    // Seed: ticket, component token, an authorized mini program with its tokens saved.
    sim.addMiniProgram(mp);
    const seedStore = openSqliteStore({ path: sqlitePath, clock });
    const api = new ComponentApi({
      apiBase: sim.baseUrl,
      componentAppId: component.appId,
      componentAppSecret: component.secret,
      timeoutMs: 10_000,
    });
    const seed = new TokenManager({
      store: seedStore,
      api,
      box: createSecretBox(dataKey),
      log: createLogger({ level: 'error', sink: () => undefined }),
      clock,
    });
    await seed.recordVerifyTicket(await sim.pushVerifyTicket(), clock());
    await authorizeWithTokens(sim, seed, api, mp.appId);
    await seedStore.close();

    offset = EXPIRED_BY_MS; // both tokens are now past their 2 h lifetime, for WeChat and for us
    sim.resetCounters();

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(ROOT, 'node_modules'),
      SQLITE_PATH: sqlitePath,
      API_BASE: sim.baseUrl,
      CLOCK_OFFSET_MS: String(offset),
      COMPONENT_APPID: component.appId,
      COMPONENT_SECRET: component.secret,
      DATA_KEY: dataKey.toString('base64'),
      MP_APPID: mp.appId,
    };
    const readyAt: number[] = [];
    const spawnStarted = Date.now();
    // Started a few at a time: 100 Node start-ups at once on a loaded 2-core machine thrash long past any timeout,
    // and how they start is not what is measured — they all wait, ready, for the one `go`.
    const startOne = () =>
      new Promise<{ child: ChildProcess; sawExpired: boolean }>((resolvePromise, reject) => {
        // No execArgv: fork passes this process's own by default, which under `tsx` loads tsx's loader into every child —
        // seconds each, what made 100 children miss their start on a loaded machine.
        const child = fork(childFile, [], { env, execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
        children.push(child);
        const timer = setTimeout(() => reject(new Error(`a child did not get ready within ${READY_WITHIN_MS / 1000} s`)), READY_WITHIN_MS);
        child.once('message', (reply: Reply) => {
          clearTimeout(timer);
          if (!('ready' in reply)) return reject(new Error(`child failed before the start: ${'error' in reply ? reply.error : ''}`));
          readyAt.push(Date.now() - spawnStarted);
          resolvePromise({ child, sawExpired: reply.sawExpired });
        });
        child.once('exit', (code) => reject(new Error(`a child exited (${code}) before it was ready`)));
      });
    const ready: { child: ChildProcess; sawExpired: boolean }[] = [];
    await Promise.all(
      Array.from({ length: Math.min(startingAtOnce, processes) }, async () => {
        while (children.length < processes) ready.push(await startOne());
      }),
    );
    const sawExpired = ready.filter((r) => r.sawExpired).length;

    const goAt = Date.now();
    const outcomes = await Promise.all(
      ready.map(
        ({ child }) =>
          new Promise<Reply>((resolvePromise) => {
            child.removeAllListeners('exit');
            const timer = setTimeout(() => resolvePromise({ ok: false, error: 'no answer within 60 s' }), 60_000);
            child.once('message', (reply: Reply) => {
              clearTimeout(timer);
              resolvePromise(reply);
            });
            // 'disconnect', not 'exit': a child sends its answer and exits at once, and its 'exit' can reach this
            // process before the answer is read from the IPC channel; the channel closes only after the answer.
            child.once('disconnect', () => resolvePromise({ ok: false, error: 'exited without an answer' }));
            child.send('go');
          }),
      ),
    );
    const allDoneMs = Date.now() - goAt;
    const counters = sim.counters();
    const componentRefreshes = counters[TOKEN_PATH] ?? 0;
    const authorizerRefreshes = counters[AUTHORIZER_TOKEN_PATH] ?? 0;
    const tokens = new Set(outcomes.flatMap((o) => ('ok' in o && o.ok ? [o.token] : [])));
    const failures = outcomes.flatMap((o) => ('ok' in o && !o.ok ? [o.error] : []));
    const times = outcomes.flatMap((o) => ('ms' in o && o.ms !== undefined ? [o.ms] : []));

    /** One token's refreshes at WeChat against one per process that found it expired: the target is exactly one. */
    const refreshRow = (api: string, refreshes: number) => ({
      figure: `\`${api}\` calls reaching the simulator`,
      value: String(refreshes),
      baseline: `${sawExpired} (one per process that found it expired)`,
      ratio: `1/${fmt(sawExpired / Math.max(refreshes, 1), 0)}`,
      target: 'exactly 1',
      met: refreshes === 1,
    });

    return {
      name: 'stampede',
      title: `Token stampede: ${processes} processes on an expired token`,
      command: 'npx tsx bench/stampede.ts',
      rows: [
        refreshRow('api_component_token', componentRefreshes),
        refreshRow('api_authorizer_token', authorizerRefreshes),
        {
          figure: 'processes answered with a token / distinct tokens handed out',
          value: `${processes - failures.length} / ${tokens.size}`,
          baseline: String(processes),
          ratio: '—',
          target: `${processes} / 1`,
          met: failures.length === 0 && tokens.size === 1,
        },
      ],
      notes: [
        `- ${processes} processes (\`bench/stampede-child.ts\`, bundled by esbuild), each with its own better-sqlite3 connection to one SQLite file (WAL) and its own TokenManager (default lease 30 s, wait up to 20 s); one simulator in the benchmark process. All ${processes} were started (${startingAtOnce} at a time) and reported ready (the last after ${fmt(Math.max(...readyAt))} ms), ${sawExpired} of them having read both tokens as expired, before \`go\` was sent to all at once.`,
        `- From \`go\` to the last answer: ${fmt(allDoneMs)} ms; per process, \`authorizerToken()\` took median ${fmt(median(times), 1)} ms, p99 ${fmt(percentile(times, 99), 1)} ms (the losers of the lease wait with backoff for the winner's refresh).`,
        `- Every other WeChat call during the stampede: ${
          Object.entries(counters)
            .filter(([path]) => path !== TOKEN_PATH && path !== AUTHORIZER_TOKEN_PATH)
            .map(([path, n]) => `\`${path}\` ${n}`)
            .join(', ') || 'none'
        }.`,
        ...(failures.length ? [`- Failures: ${[...new Set(failures)].slice(0, 5).join('; ')}`] : []),
      ],
      durationMs: 0,
    };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await sim.close();
    rmSync(work, { recursive: true, force: true });
  }
});

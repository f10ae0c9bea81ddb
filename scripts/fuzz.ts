/**
 * `npm run fuzz` (tsx scripts/fuzz.ts): the fuzzing model of infra/testing/fuzz-model.ts at length — by default
 * 100,000 fast-check runs (one request each; `--batch N` sends 1..N together) over every route of serverless.yml,
 * against the whole product on loopback. Exits 1 with fast-check's report (seed, path, shrunk counterexample)
 * when a request gets a 5xx or a 4xx outside the error envelope. The inputs of the bugs the hostile suite once
 * found are generated in every run.
 *
 *   tsx scripts/fuzz.ts [--runs 100000] [--seed N] [--batch 1]
 */
import fc from 'fast-check';
import { type FuzzWorld, publicRoutes, requestArb, sendBatch } from '../infra/testing/fuzz-model';
import { createKeyedAccount, ROOT, startSeededPlatform } from '../infra/testing/seeded-platform';
import { accountWorld } from '../infra/testing/world';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

async function main(): Promise<number> {
  const runs = option('runs', 100_000);
  const batch = option('batch', 1);
  const seed = option('seed', Date.now() % 2_147_483_647);

  const p = await startSeededPlatform({ env: { MAX_BODY_BYTES: '65536' } });
  try {
    const a = await accountWorld(p);
    const b = await accountWorld(p);
    const world: FuzzWorld = {
      ids: {
        appId: [a.appId, b.appId],
        deploymentId: [a.deploymentId, b.deploymentId],
        assetId: [a.assetId, a.qrAssetId, b.assetId],
        appid: [a.appid, a.primary, b.appid],
        accountId: [a.accountId, b.accountId],
      },
      keys: { account: a.key, other: b.key, admin: p.adminKey, spare: (await createKeyedAccount(p, 'Spare')).apiKey },
    };
    await p.sim.pushesSettled();
    const routes = publicRoutes(ROOT);
    const statuses = new Map<number, number>();
    const started = Date.now();
    let done = 0;
    process.stdout.write(`fuzzing ${routes.length} routes: ${runs} runs of 1..${batch} requests, seed ${seed}\n`);
    const result = await fc.check(
      fc.asyncProperty(fc.array(requestArb(routes, world), { minLength: 1, maxLength: batch }), async (requestsOfRun) => {
        const broken = await sendBatch(p.url, requestsOfRun, statuses);
        done += 1;
        if (done % 10_000 === 0) process.stdout.write(`  ${done} runs, ${Math.round((done * 1000) / (Date.now() - started))}/s\n`);
        if (broken) throw new Error(broken);
      }),
      { numRuns: runs, seed },
    );
    const total = [...statuses.values()].reduce((sum, n) => sum + n, 0);
    process.stdout.write(
      `${done} runs, ${total} requests in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((x, y) => x[0] - y[0])))}\n`,
    );
    if (result.failed) {
      const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
      process.stdout.write(`${fc.defaultReportMessage(result) ?? 'failed'}\nCause: ${cause}\n`);
      return 1;
    }
    process.stdout.write('no 5xx, every 4xx in the error envelope\n');
    return 0;
  } finally {
    await p.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

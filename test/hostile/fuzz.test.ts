/**
 * fast-check fuzzing of every route of serverless.yml over HTTP, one platform for the whole file: arbitrary path
 * parameters (real ids, id-shaped strings, any Unicode percent-encoded, traversal tokens), query strings,
 * credentials, headers and bodies (damaged realistic bodies, arbitrary JSON, text, XML, bytes, image headers).
 * Never a 5xx; every 4xx of ours in the error envelope. 10,000 runs (1–2 requests each) here; `scripts/fuzz.ts`
 * runs 100,000.
 *
 * FUZZ_SEED replays a run; fast-check prints the seed and the shrunk counterexample on failure.
 */
import fc from 'fast-check';
import { type FuzzRoute, type FuzzWorld, publicRoutes, requestArb, sendBatch } from '../../infra/testing/fuzz-model';
import { accountWorld } from '../../infra/testing/world';
import { createKeyedAccount, ROOT, type SeededPlatform, startSeededPlatform } from '../reliability/support';

jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

const SEED = Number(process.env.FUZZ_SEED) || 20_261_121;
const RUNS = 10_000;
/** Up to this many requests per run, sent together: concurrency finds what one request at a time cannot. */
const BATCH = 2;

let p: SeededPlatform;
let world: FuzzWorld;
const routes: FuzzRoute[] = publicRoutes(ROOT);
const statuses = new Map<number, number>();
const hits = new Map<string, number>();

beforeAll(async () => {
  p = await startSeededPlatform({ env: { MAX_BODY_BYTES: '65536' } });
  const a = await accountWorld(p);
  const b = await accountWorld(p);
  world = {
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
});
afterAll(() => p?.close());

it(`answers ${RUNS} runs of arbitrary requests over all ${routes.length} routes without a 5xx, 4xx always in the error envelope (seed ${SEED})`, async () => {
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.array(requestArb(routes, world), { minLength: 1, maxLength: BATCH }), async (batch) => {
      for (const request of batch)
        hits.set(`${request.route.method} ${request.route.path}`, (hits.get(`${request.route.method} ${request.route.path}`) ?? 0) + 1);
      const broken = await sendBatch(p.url, batch, statuses);
      if (broken) throw new Error(broken);
    }),
    { numRuns: RUNS, seed: SEED },
  );
  const requests = [...statuses.values()].reduce((sum, n) => sum + n, 0);
  expect(requests).toBeGreaterThanOrEqual(RUNS);
  // Every route was exercised, and some requests got past validation into the handlers.
  expect(routes.filter((r) => (hits.get(`${r.method} ${r.path}`) ?? 0) < 50)).toEqual([]);
  expect([...statuses.keys()].some((status) => status < 300)).toBe(true);
  process.stdout.write(
    `fuzz: ${requests} requests in ${Date.now() - started} ms; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((x, y) => x[0] - y[0])))}\n`,
  );
});

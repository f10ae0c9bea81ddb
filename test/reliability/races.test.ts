/**
 * Races: 200 pairs of requests fired together at approved deployments — 100 publish-vs-publish, 100
 * publish-vs-unbind — over 50 mini programs of 10 accounts, in 4 rounds; each round fires its 25 pairs of one kind
 * at once, then its 25 pairs of the other kind at once. Never both: a deployment is either released (and the unbind
 * voided nothing) or voided (and WeChat released nothing); and WeChat receives exactly one release call per released
 * deployment, none for a voided one.
 */

import { authorize, type Call, expectStatus } from '../../infra/local/driver';
import type { Deployment } from '../../shared/domain/deployment';
import * as z from '../../shared/domain/zod';
import { platformWithPollerForFile } from '../support/e2e';
import { appFleet, countTo, expectCleanHistories, type FleetApp, pollUntil, seededRandom, seedFromEnv, sleep } from './support';

jest.mock('qrcode', () => jest.requireActual('./fast-qrcode'));

const SEED = seedFromEnv(3_2026);
// 200 audits in one run: more than a real platform's monthly submit quota, which is not what this test is about.
const world = platformWithPollerForFile({
  random: seededRandom(SEED + 1),
  simulator: { quota: { submitRest: 10_000, submitLimit: 10_000 } },
});
const ACCOUNTS = 10;
const APPS_PER_ACCOUNT = 5;
const ROUNDS = 4;

type Kind = 'publish-vs-publish' | 'publish-vs-unbind';

interface PairResult {
  kind: Kind;
  round: number;
  deploymentId: string;
  state: Deployment['state'];
  /** The publish reply first, then the other request's. */
  replies: [number, number];
  /** What the publish reply said the deployment's state was. */
  publishSaw: string | null;
  voidedByUnbind: number | null;
  releasesAtWeChat: number;
}

interface Volley {
  kind: Kind;
  round: number;
  pairs: number;
  releaseCalls: number;
}

const slots: FleetApp[] = [];
const results: PairResult[] = [];
const volleys: Volley[] = [];
const dice = seededRandom(SEED);

const idOf = (call: Call): string => z.object({ id: z.string() }).parse(expectStatus(call, 202).body).id;
const stateOf = (call: Call): string | null => z.object({ state: z.string() }).safeParse(call.body).data?.state ?? null;
const releasesOf = (slot: FleetApp): number => world.p.sim.miniProgram(slot.target)?.releaseHistory.length ?? 0;

/** Build, submit and approve a new deployment of the slot's app: the starting line of every pair. */
async function approvedDeployment(slot: FleetApp, round: number): Promise<string> {
  const id = idOf(await slot.api.post(`/v1/apps/${slot.appId}/deployments`, { userVersion: `1.${round}.0`, userDesc: `round ${round}` }));
  expectStatus(await slot.api.post(`/v1/deployments/${id}/submit`), 200);
  await world.p.sim.decideAudit(slot.target, 'approve');
  let state = (await world.poller.services.db.deployments.get(id))?.data.state;
  if (state === 'auditing') {
    // An audit push carries no audit id: an approval of the same mini program within the same second as the
    // previous round's has the same bytes and is taken for WeChat's retry. The poller reconciles it, as in production.
    state = (await pollUntil(world.poller, [id], (d) => d.state !== 'auditing', { sim: world.p.sim })).deployments.get(id)?.state;
  }
  if (state !== 'approved') throw new Error(`deployment ${id} is ${state ?? 'missing'}, not approved`);
  return id;
}

/** Fires both requests of a pair, in an order and with a stagger (0–2 ms) the dice choose. */
async function race(first: () => Promise<Call>, second: () => Promise<Call>): Promise<[Call, Call]> {
  const swap = dice() < 0.5;
  const stagger = Math.floor(dice() * 3);
  const [a, b] = swap ? [second, first] : [first, second];
  const pa = a();
  if (stagger > 0) await sleep(stagger);
  const pb = b();
  const [ra, rb] = await Promise.all([pa, pb]);
  return swap ? [rb, ra] : [ra, rb];
}

async function runPair(slot: FleetApp, kind: Kind, round: number, deploymentId: string): Promise<PairResult> {
  const before = releasesOf(slot);
  const publish = () => slot.api.post(`/v1/deployments/${deploymentId}/release`);
  const other = kind === 'publish-vs-publish' ? publish : () => slot.api.post(`/v1/mini-programs/${slot.target}/unbind`, {});
  const [published, answered] = await race(publish, other);
  const stored = await world.poller.services.db.deployments.get(deploymentId);
  if (!stored) throw new Error(`deployment ${deploymentId} is gone`);
  return {
    kind,
    round,
    deploymentId,
    state: stored.data.state,
    replies: [published.status, answered.status],
    publishSaw: stateOf(published),
    voidedByUnbind: kind === 'publish-vs-unbind' ? z.object({ voided: z.number() }).parse(expectStatus(answered, 200).body).voided : null,
    releasesAtWeChat: releasesOf(slot) - before,
  };
}

/** One kind's pairs of a round, all at once; WeChat's release counter covers exactly this volley. */
async function volley(kind: Kind, round: number, chosen: readonly { slot: FleetApp; id: string }[]): Promise<void> {
  world.p.sim.resetCounters();
  const pairs = await Promise.all(chosen.map(({ slot, id }) => runPair(slot, kind, round, id)));
  volleys.push({ kind, round, pairs: pairs.length, releaseCalls: world.p.sim.counters()['/wxa/release'] ?? 0 });
  results.push(...pairs);
}

beforeAll(async () => {
  slots.push(...(await appFleet(world.p, ACCOUNTS, APPS_PER_ACCOUNT)));
  for (let round = 0; round < ROUNDS; round++) {
    const ids = await Promise.all(slots.map((slot) => approvedDeployment(slot, round)));
    // Every mini program alternates between the two kinds from one round to the next.
    const ofKind = (kind: Kind) =>
      slots.flatMap((slot, i) => (((i + round) % 2 === 0) === (kind === 'publish-vs-publish') ? [{ slot, id: ids[i] ?? '' }] : []));
    await volley('publish-vs-publish', round, ofKind('publish-vs-publish'));
    await volley('publish-vs-unbind', round, ofKind('publish-vs-unbind'));
    // Unbound mini programs are authorized for their app again, for the next round.
    for (const { slot } of ofKind('publish-vs-unbind')) {
      const again = await authorize(world.p, slot.api, 'authorize-app', slot.target, slot.appId);
      if (again.result.code !== 'MINI_PROGRAM_AUTHORIZED')
        throw new Error(`re-authorizing ${slot.target}: ${JSON.stringify(again.result)}`);
    }
  }
  const unbinds = results.filter((r) => r.kind === 'publish-vs-unbind');
  process.stdout.write(
    `races (seed ${SEED}): ${results.length} pairs; publish-vs-unbind ended released ${unbinds.filter((r) => r.state === 'released').length}, ` +
      `voided ${unbinds.filter((r) => r.state === 'voided').length}; release calls per volley ${volleys.map((v) => v.releaseCalls).join(', ')}\n`,
  );
});

const finalsOf = async (kind: Kind): Promise<Deployment[]> =>
  (
    await Promise.all(
      results.filter((r) => r.kind === kind).map(async (r) => (await world.poller.services.db.deployments.get(r.deploymentId))?.data),
    )
  ).filter((d): d is Deployment => d !== undefined);

it(`ran 200 concurrent pairs, 100 of each kind, and answered none of them with a 5xx (seed ${SEED}: RELIABILITY_SEED replays it)`, () => {
  expect(results.filter((r) => r.kind === 'publish-vs-publish')).toHaveLength(100);
  expect(results.filter((r) => r.kind === 'publish-vs-unbind')).toHaveLength(100);
  expect(results.filter((r) => r.replies.some((status) => status >= 500))).toEqual([]);
});

it('publish-vs-publish: both answer 200, the deployment is released once, WeChat gets exactly one release call', async () => {
  const wrong = results.filter(
    (r) =>
      r.kind === 'publish-vs-publish' &&
      !(r.state === 'released' && r.releasesAtWeChat === 1 && r.replies[0] === 200 && r.replies[1] === 200),
  );
  expect(wrong).toEqual([]);
  expect(volleys.filter((v) => v.kind === 'publish-vs-publish').map((v) => v.releaseCalls - v.pairs)).toEqual(
    Array.from({ length: ROUNDS }, () => 0),
  );
  const finals = await finalsOf('publish-vs-publish');
  expectCleanHistories(finals);
  expect(finals.map((d) => countTo(d, 'released'))).toEqual(finals.map(() => 1));
});

/*
 * An unbind racing a publish must never both void the deployment and let its version go live: it takes each
 * deployment's lease and finishes a release already under way (it may have reached WeChat) instead of voiding it.
 */
it('publish-vs-unbind: never both — released with nothing voided, or voided with nothing released at WeChat', async () => {
  const wrong = results.filter((r) => {
    if (r.kind !== 'publish-vs-unbind') return false;
    if (r.state === 'released') return !(r.releasesAtWeChat === 1 && r.voidedByUnbind === 0 && r.replies[0] === 200);
    if (r.state === 'voided') return !(r.releasesAtWeChat === 0 && r.voidedByUnbind === 1 && r.replies[0] >= 400);
    return true;
  });
  expect(wrong).toEqual([]);
  // Exactly one release call per released deployment; a voided deployment gets none.
  const released = (round: number) =>
    results.filter((r) => r.kind === 'publish-vs-unbind' && r.round === round && r.state === 'released').length;
  expect(volleys.filter((v) => v.kind === 'publish-vs-unbind').map((v) => v.releaseCalls - released(v.round))).toEqual(
    Array.from({ length: ROUNDS }, () => 0),
  );
  expectCleanHistories(await finalsOf('publish-vs-unbind'));
});

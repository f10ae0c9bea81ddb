/**
 * Faults: deployments taken through build → submit → audit → release while WeChat misbehaves the ways it does —
 * `-1` answers, calls that never answer (client timeout), HTTP 5xx, and audit pushes duplicated, reordered and
 * dropped. Whatever the requests could not finish, the poller (another instance whose clock the test moves) must
 * finish: every deployment ends in the state its audit decided, WeChat holds exactly one audit and at most one
 * release per deployment, and no history records a step twice.
 */

import { deploymentReply, expectStatus } from '../../infra/local/driver';
import type { Deployment } from '../../shared/domain/deployment';
import * as z from '../../shared/domain/zod';
import { platformWithPollerForFile } from '../support/e2e';
import { appFleet, countTo, expectCleanHistories, type FleetApp, pollUntil, readyApp, seededRandom, seedFromEnv } from './support';

jest.mock('qrcode', () => jest.requireActual('./fast-qrcode'));

const SEED = seedFromEnv(61_2026);
const world = platformWithPollerForFile({
  random: seededRandom(SEED),
  // A hung call costs the client its timeout: 2 s instead of 5 s keeps the suite fast, and is still far above
  // what a real answer takes on a loaded machine (at 300 ms, answers that were merely slow counted as hangs).
  env: { WECHAT_TIMEOUT_MS: '2000' },
  simulator: { pushRetryDelayMs: 20, pushReorderWindowMs: 30 },
});
const API_FAULTS = { systemErrorRate: 0.2, http5xxRate: 0.05, hangRate: 0.05 } as const;
const PUSH_FAULTS = { duplicatePushRate: 0.3, reorderPushes: true, dropPushRate: 0.2 } as const;

type Decision = 'approve' | 'reject' | 'delay-then-approve';
interface Case extends FleetApp {
  decision: Decision;
  id: string;
}

const cases: Case[] = [];

beforeAll(async () => {
  const dice = seededRandom(SEED + 1);
  for (const app of await appFleet(world.p, 4, 5)) {
    const roll = dice();
    const decision: Decision = roll < 0.6 ? 'approve' : roll < 0.8 ? 'reject' : 'delay-then-approve';
    cases.push({ ...app, decision, id: '' });
  }
});

const stored = async (id: string): Promise<Deployment> => {
  const found = await world.poller.services.db.deployments.get(id);
  if (!found) throw new Error(`deployment ${id} is gone`);
  return found.data;
};

const leftIn = (state: Deployment['state']) => (d: Deployment) => d.state !== state;

it(`finishes every deployment in the state WeChat decided, with one audit, one release and no doubled history (seed ${SEED}: RELIABILITY_SEED replays it)`, async () => {
  world.p.sim.setFaults(API_FAULTS);

  // Build: whatever a request could not finish (a -1 three times, a timeout, a 502) the poller resumes.
  const builds = await Promise.all(
    cases.map((c) =>
      c.api.post(`/v1/apps/${c.appId}/deployments`, { userVersion: '1.0.0', userDesc: 'under faults', testers: ['tester001'] }),
    ),
  );
  builds.forEach((reply, i) => {
    const c = cases[i];
    if (!c) return;
    c.id = deploymentReply.parse(expectStatus(reply, 202).body).id;
  });
  const ids = cases.map((c) => c.id);
  const built = await pollUntil(world.poller, ids, leftIn('building'), { sim: world.p.sim });
  expect([...built.deployments.values()].map((d) => d.state)).toEqual(ids.map(() => 'built'));

  // Submit: a resumed submit asks WeChat for the latest audit first, so a timeout never makes two audits.
  const submits = await Promise.all(cases.map((c) => c.api.post(`/v1/deployments/${c.id}/submit`)));
  submits.forEach((reply) => {
    expect(reply.status).toBe(200);
  });
  const submitted = await pollUntil(world.poller, ids, leftIn('submitting'), { sim: world.p.sim });
  expect([...submitted.deployments.values()].map((d) => d.state)).toEqual(ids.map(() => 'auditing'));

  // Audit results, pushed duplicated, shuffled and partly dropped; the delays race their own approvals.
  world.p.sim.setFaults(PUSH_FAULTS);
  world.p.sim.clearPushLog();
  await Promise.all(
    cases.map((c) =>
      c.decision === 'reject'
        ? world.p.sim.decideAudit(c.target, 'reject', { reason: '1:小程序名称与内容不符', screenshots: ['media1'] })
        : c.decision === 'approve'
          ? world.p.sim.decideAudit(c.target, 'approve')
          : Promise.all([
              world.p.sim.decideAudit(c.target, 'delay', { reason: '审核排队中' }),
              world.p.sim.decideAudit(c.target, 'approve'),
            ]),
    ),
  );
  await world.p.sim.pushesSettled();
  const log = world.p.sim.pushLog();
  // The dice did what the test claims: some pushes were copied and some never sent.
  expect(log.filter((entry) => entry.copy === 2).length).toBeGreaterThan(0);
  expect(log.filter((entry) => entry.outcome === 'dropped').length).toBeGreaterThan(0);
  world.p.sim.setFaults({ ...API_FAULTS, ...PUSH_FAULTS });

  // Dropped results are reconciled by polling (under API faults too).
  const decided = await pollUntil(world.poller, ids, leftIn('auditing'), { sim: world.p.sim });
  for (const c of cases)
    expect({ id: c.id, state: decided.deployments.get(c.id)?.state }).toEqual({
      id: c.id,
      state: c.decision === 'reject' ? 'rejected' : 'approved',
    });

  // Release the approved ones; a release that did not answer is resumed, and 85052 counts as done.
  const approved = cases.filter((c) => c.decision !== 'reject');
  const releases = await Promise.all(approved.map((c) => c.api.post(`/v1/deployments/${c.id}/release`)));
  releases.forEach((reply) => {
    expect(reply.status).toBe(200);
  });
  const released = await pollUntil(world.poller, ids, leftIn('releasing'), { sim: world.p.sim });
  world.p.sim.setFaults({ systemErrorRate: 0, http5xxRate: 0, hangRate: 0, dropPushRate: 0, duplicatePushRate: 0, reorderPushes: false });

  const finals = await Promise.all(ids.map(stored));
  expectCleanHistories(finals);
  expect(released.deployments.size).toBe(cases.length);
  for (const [i, c] of cases.entries()) {
    const d = finals[i];
    if (!d) throw new Error('missing deployment');
    const wechat = world.p.sim.miniProgram(c.target);
    const summary = {
      id: c.id,
      decision: c.decision,
      state: d.state,
      approved: countTo(d, 'approved'),
      released: countTo(d, 'released'),
      auditsAtWeChat: wechat?.audits.length,
      releasesAtWeChat: wechat?.releaseHistory.length,
    };
    const releasedOnes = c.decision !== 'reject';
    expect(summary).toEqual({
      id: c.id,
      decision: c.decision,
      state: releasedOnes ? 'released' : 'rejected',
      approved: releasedOnes ? 1 : 0,
      released: releasedOnes ? 1 : 0,
      auditsAtWeChat: 1,
      releasesAtWeChat: releasedOnes ? 1 : 0,
    });
    if (c.decision === 'delay-then-approve') {
      // A delay that arrived after the approval is ignored; one that arrived before is recorded once.
      expect(d.history.filter((h) => h.command === 'auditDelayed').length).toBeLessThanOrEqual(1);
    }
  }

  // Through the API too: what a frontend sees matches the store.
  const viaApi = await cases[0]?.api.get(`/v1/deployments/${cases[0]?.id ?? ''}`);
  expect(z.object({ state: z.string() }).parse(viaApi?.body).state).toBe(finals[0]?.state);
});
/*
 * WeChat can reject the component token before the expiry we stored (42001/40001: superseded, or expired early).
 * Every path that uses it — the authorization routes and the authorizer-token refresh too, not only WeChatClient —
 * must replace it and retry once. These run last because they leave the platform with such a token.
 */
describe('a component token WeChat rejects before its stored expiry', () => {
  let accounts: FleetApp[] = [];
  beforeAll(async () => {
    // The fault run above spent the platform's monthly audit quota (shared by all mini programs): refill it.
    world.p.sim.setQuota({ submitRest: 100 });
    accounts = [await readyApp(world.p), await readyApp(world.p)];
  });

  it('is replaced when an account asks for an authorization URL', async () => {
    const [ready] = accounts;
    if (!ready) throw new Error('no account');
    world.p.sim.expireTokens('component');
    expect((await ready.api.post('/v1/authorizations', { purpose: 'authorize-app', appId: ready.appId })).status).toBe(201);
  });

  it('is replaced when an authorizer token must be refreshed', async () => {
    const [, ready] = accounts;
    if (!ready) throw new Error('no account');
    const built = deploymentReply.parse(
      expectStatus(await ready.api.post(`/v1/apps/${ready.appId}/deployments`, { userVersion: '1.0.0', userDesc: 'x' }), 202).body,
    );
    world.p.sim.expireTokens('all');
    const submitted = deploymentReply.parse(expectStatus(await ready.api.post(`/v1/deployments/${built.id}/submit`), 200).body);
    expect({ state: submitted.state, failure: submitted.failure }).toEqual({ state: 'auditing', failure: null });
  });
});

/**
 * Rollouts end to end (issue 15), over HTTP through the local runtime and the WeChat simulator: the poller's timer
 * drives them, WeChat's decisions come from the simulator's control API (pushed to our message URL).
 */
jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

import { type Client, client, expectStatus } from '../../infra/local/driver';
import { authorizeNewApp, readyApp, type SeededPlatform, startSeededPlatform } from '../../infra/testing/seeded-platform';
import { countStoreRequests } from '../../infra/testing/store-requests';
import { pollDue, startBuild } from '../../shared/app/deployments';
import { driveRollouts } from '../../shared/app/rollouts/driver';
import { applyMemberEvent, rolloutActor } from '../../shared/app/rollouts/store';
import { outboxCollection } from '../../shared/app/webhooks/collections';
import { MAX_POLL_DELAY_MS } from '../../shared/domain/deployment';
import { DEPLOYMENT_STATES, isOpenState } from '../../shared/domain/deployment-states';
import type { AccountId } from '../../shared/domain/ids';
import { START_STALE_MS } from '../../shared/domain/rollout';
import * as z from '../../shared/domain/zod';
import { servicesWithClock } from '../reliability/support';
import { undocumentedAnswers } from '../support/documented-statuses';
import { errorIn } from '../support/http';

const memberView = z.object({
  appId: z.string(),
  wave: z.number(),
  state: z.string(),
  deploymentId: z.nullable(z.string()),
  deploymentState: z.nullable(z.string()),
  previousDeploymentIds: z.array(z.string()),
  reason: z.nullable(z.string()),
  miniProgramAppid: z.nullable(z.string()),
  history: z.optional(z.array(z.object({ to: z.string(), cause: z.optional(z.string()) }))),
});
const rolloutView = z.object({
  id: z.string(),
  state: z.string(),
  currentWave: z.number(),
  stateReason: z.nullable(z.string()),
  waiting: z.nullable(z.object({ for: z.string(), until: z.number(), rest: z.number() })),
  waves: z.array(z.object({ wave: z.number(), size: z.number(), counts: z.record(z.string(), z.number()) })),
  history: z.array(
    z.object({
      from: z.nullable(z.string()),
      to: z.string(),
      command: z.string(),
      actor: z.object({ kind: z.string() }),
      cause: z.optional(z.string()),
    }),
  ),
  members: z.array(memberView),
});
type RolloutView = z.infer<typeof rolloutView>;

const storeRequests = countStoreRequests();
let p: SeededPlatform;
let api: Client;
let accountId: AccountId;
let subject: string;
/** The account's apps and their mini programs, in app id order (the order members take their waves in). */
let apps: { appId: string; target: string }[] = [];

beforeAll(async () => {
  p = await startSeededPlatform();
  // A platform with enough audit quota for the file; the quota test sets its own.
  p.sim.setQuota({ submitRest: 1000, submitLimit: 1000 });
  const first = await readyApp(p);
  api = first.api;
  accountId = first.accountId as AccountId;
  subject = first.subject;
  apps = [{ appId: first.appId, target: first.target }];
  for (let i = 0; i < 5; i++) apps.push(await authorizeNewApp(p, api, subject));
  apps.sort((a, b) => a.appId.localeCompare(b.appId));
});
afterAll(() => p?.close());
afterEach(async () => expect(await undocumentedAnswers(p)).toEqual([]));

const create = async (body: Record<string, unknown>): Promise<RolloutView> =>
  rolloutView.parse(expectStatus(await api.post('/v1/rollouts', { templateId: 101, userVersion: '2.0.0', ...body }), 201).body);
const read = async (id: string): Promise<RolloutView> => rolloutView.parse(expectStatus(await api.get(`/v1/rollouts/${id}`), 200).body);
const act = async (id: string, action: string, body: Record<string, unknown> = {}): Promise<RolloutView> =>
  rolloutView.parse(expectStatus(await api.post(`/v1/rollouts/${id}/${action}`, body), 200).body);
/** A member's history as `to` (with the cause for phases). */
const memberHistory = (r: RolloutView, appId: string): string[] =>
  (memberOf(r, appId).history ?? []).map((h) => (h.to === 'phasing' ? `${h.to}:${h.cause}` : h.to));
const memberOf = (r: RolloutView, appId: string) => {
  const found = r.members.find((m) => m.appId === appId);
  if (!found) throw new Error(`no member ${appId}`);
  return found;
};

/** Poller ticks until `done` holds for the rollout (each tick finishes its builds and submits before it answers). */
async function tickUntil(id: string, done: (r: RolloutView) => boolean, maxTicks = 12): Promise<RolloutView> {
  let r = await read(id);
  for (let tick = 0; tick < maxTicks && !done(r); tick++) {
    await p.pollNow();
    r = await read(id);
  }
  if (!done(r)) {
    // What the members' deployments went through, to tell a lost push from a step that never ran.
    const deployments = await Promise.all(
      r.members.map(async (m) => (m.deploymentId ? (await api.get(`/v1/deployments/${m.deploymentId}`)).body : null)),
    );
    throw new Error(`rollout ${id} did not get there: ${JSON.stringify({ state: r.state, members: r.members, deployments })}`);
  }
  return r;
}

/**
 * WeChat's audit pushes name no audit, so a second approval of one mini program within the second of the first is the
 * same push to the inbox and dropped as a repeat; the poll finds it. A poller past the longest poll backoff polls
 * now: an earlier tick may have polled the audit before WeChat decided and put the next poll minutes off.
 */
async function pollAuditsNow(): Promise<void> {
  const later = servicesWithClock(p.env, Date.now() + MAX_POLL_DELAY_MS + 60_000);
  try {
    await later.services.wechat.tokens.recordVerifyTicket(await p.sim.pushVerifyTicket(), later.now());
    await pollDue(later.services, { budgetMs: 60_000 });
  } finally {
    await later.close();
  }
}

/** Deployments WeChat decided already (their member may still show them under review until the next tick). */
const decided = new Set<string>();

/** WeChat decides every member audit under review now, one way. */
async function decideAll(r: RolloutView, decision: 'approve' | 'reject') {
  // Only audits WeChat has and we recorded: a push about one still being submitted is left to the poll (minutes later).
  for (const m of r.members.filter((x) => x.deploymentState === 'auditing' && x.deploymentId && !decided.has(x.deploymentId))) {
    decided.add(m.deploymentId ?? '');
    await p.sim.decideAudit(m.miniProgramAppid ?? '', decision);
  }
}

describe('rollouts, end to end', () => {
  it('halts the canary on a rejection, retries and resumes, and completes wave after wave', async () => {
    const created = await create({ selection: { appIds: apps.map((a) => a.appId) }, waves: { canary: { count: 1 }, percents: [50, 100] } });
    expect(created.waves.map((w) => w.size)).toEqual([1, 2, 3]);
    expect(created.members.map((m) => m.state)).toEqual(Array(6).fill('pending'));

    // The canary is built, then submitted; nobody else starts.
    const inReview = await tickUntil(created.id, (r) => r.members.some((m) => m.state === 'auditing'));
    expect(inReview.members.filter((m) => m.state !== 'pending').map((m) => m.wave)).toEqual([0]);
    const canary = inReview.members.find((m) => m.wave === 0);
    if (!canary?.deploymentId) throw new Error('no canary deployment');

    await p.sim.decideAudit(canary.miniProgramAppid ?? '', 'reject', { reason: '1:小程序名称与内容不符' });
    const halted = await tickUntil(created.id, (r) => r.state === 'halted');
    expect(halted.stateReason).toContain('1 of 1 members of the canary');
    expect(halted.stateReason).toContain('小程序名称与内容不符');
    expect(halted.history.at(-1)).toMatchObject({ from: 'running', to: 'halted', command: 'halt', actor: { kind: 'system' } });
    // Halted: another tick starts nobody.
    await p.pollNow();
    expect((await read(created.id)).members.filter((m) => m.state === 'pending')).toHaveLength(5);

    // The operator fixes the cause, retries the canary and resumes: a new build, approved this time.
    const retried = await act(created.id, 'retry');
    expect(memberOf(retried, canary.appId)).toMatchObject({
      state: 'pending',
      deploymentId: null,
      previousDeploymentIds: [canary.deploymentId],
    });
    expect((await act(created.id, 'resume')).state).toBe('running');
    const again = await tickUntil(created.id, (r) => memberOf(r, canary.appId).state === 'auditing');
    await decideAll(again, 'approve');

    // Wave after wave: each member approved is released, the gate advances, and the rollout completes.
    let r = again;
    for (let round = 0; round < 8 && r.state !== 'completed'; round++) {
      r = await tickUntil(
        created.id,
        (x) => x.state === 'completed' || x.members.some((m) => m.deploymentState === 'auditing' && !decided.has(m.deploymentId ?? '')),
      );
      await decideAll(r, 'approve');
    }
    expect(r.state).toBe('completed');
    expect(r.members.map((m) => m.state)).toEqual(Array(6).fill('released'));
    expect(r.waves.map((w) => w.counts.released)).toEqual([1, 2, 3]);
    expect(r.history.map((h) => `${h.command}:${h.to}`)).toEqual([
      'create:running',
      'halt:halted',
      'retry:halted',
      'resume:running',
      'advance:running',
      'advance:running',
      'complete:completed',
    ]);
    // Each member's deployment is an ordinary one, released, made by the rollout.
    for (const m of r.members) {
      const d = expectStatus(await api.get(`/v1/deployments/${m.deploymentId}`), 200).body as { state: string; createdBy: { id?: string } };
      expect(d).toMatchObject({ state: 'released', createdBy: { id: `rollout:${created.id}` } });
    }
    // Every change was a webhook event in the same batch: one per history entry, in sequence.
    const reader = servicesWithClock(p.env, Date.now());
    try {
      const events = (await reader.services.store.collection(outboxCollection).find({ where: { owner: accountId }, limit: 10_000 }))
        .map((e) => e.data)
        .filter((e) => e.type === 'rollout.state_changed' && e.subject === created.id)
        .sort((x, y) => x.sequence - y.sequence);
      expect(events.map((e) => `${String(e.data.from)}→${String(e.data.to)}`)).toEqual(r.history.map((h) => `${h.from}→${h.to}`));
    } finally {
      await reader.close();
    }
    // The canary's first attempt is closed: the app never had two open deployments.
    const first = expectStatus(await api.get(`/v1/deployments/${canary.deploymentId}`), 200).body as { state: string };
    expect(first.state).toBe('cancelled');
  });

  it('abort: in review withdrawn, released left, not started skipped', async () => {
    const created = await create({ selection: { appIds: apps.map((a) => a.appId) }, waves: { canary: { count: 3 }, percents: [100] } });
    const inReview = await tickUntil(created.id, (r) => r.members.filter((m) => m.state === 'auditing').length === 3);
    const [releasedOne, ...underReview] = inReview.members.filter((m) => m.state === 'auditing');
    await p.sim.decideAudit(releasedOne?.miniProgramAppid ?? '', 'approve');
    await tickUntil(created.id, (r) => memberOf(r, releasedOne?.appId ?? '').state === 'released');

    const aborting = await act(created.id, 'abort', { inReview: 'withdraw', released: 'leave' });
    expect(aborting.state).toBe('aborting');
    const aborted = await tickUntil(created.id, (r) => r.state === 'aborted');
    expect(memberOf(aborted, releasedOne?.appId ?? '').state).toBe('released');
    for (const m of underReview) expect(memberOf(aborted, m.appId).state).toBe('withdrawn');
    expect(aborted.members.filter((m) => m.wave === 1).map((m) => m.state)).toEqual(['skipped', 'skipped', 'skipped']);
    // Aborted is final.
    const again = await api.post(`/v1/rollouts/${created.id}/resume`);
    expect(again.status).toBe(409);
    expect(errorIn(again.body).code).toBe('ROLLOUT_CLOSED');
  });

  it('two pollers at once neither skip nor double a member', async () => {
    const created = await create({ selection: { appIds: apps.map((a) => a.appId) }, waves: { canary: { count: 6 }, percents: [100] } });
    const others = [servicesWithClock(p.env, Date.now()), servicesWithClock(p.env, Date.now())];
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all([p.pollNow(), ...others.map((o) => driveRollouts(o.services))]);
      }
      const r = await tickUntil(created.id, (x) => x.members.every((m) => m.state === 'auditing'));
      const deploymentIds = r.members.map((m) => m.deploymentId);
      expect(new Set(deploymentIds).size).toBe(6);
      for (const app of apps) {
        const listed = z
          .object({
            deployments: z.array(
              z.object({ id: z.string(), state: z.enum(DEPLOYMENT_STATES), failure: z.nullable(z.object({ retryable: z.boolean() })) }),
            ),
          })
          .parse(expectStatus(await api.get(`/v1/deployments?appId=${app.appId}&limit=100`), 200).body);
        // The one-open-deployment rule as the product states it: a second start of a member would be a second open one.
        const open = listed.deployments.filter((d) => isOpenState(d.state, d.failure));
        expect(open.map((d) => d.id)).toEqual([memberOf(r, app.appId).deploymentId]);
      }
      await act(created.id, 'abort', { inReview: 'withdraw' });
      await tickUntil(created.id, (x) => x.state === 'aborted');
    } finally {
      for (const o of others) await o.close();
    }
  });

  it('never spends the quota reserve, and says until when it waits', async () => {
    p.sim.setQuota({ submitRest: 5, submitLimit: 1000 });
    try {
      const created = await create({ selection: { appIds: [apps[0]?.appId] }, quotaReserve: 5 });
      await p.pollNow();
      const r = await read(created.id);
      expect(r.members[0]?.state).toBe('pending');
      expect(r.waiting).toMatchObject({ for: 'quota', rest: 5 });
      expect(r.waiting?.until).toBeGreaterThan(Date.now());
      expect(r.history.at(-1)?.cause).toMatch(/^waiting for quota until \d{4}-\d\d-\d\dT/);
      await act(created.id, 'abort');
      await tickUntil(created.id, (x) => x.state === 'aborted');
    } finally {
      p.sim.setQuota({ submitRest: 1000, submitLimit: 1000 });
    }
  });

  it('two rollouts in one tick share the quota: the one whose start the other took says it waits', async () => {
    const [a, b] = apps;
    if (!a || !b) throw new Error('no apps');
    // One submit beyond the reserve: the first rollout driven in the tick (the older) starts its member with it.
    p.sim.setQuota({ submitRest: 6, submitLimit: 1000 });
    try {
      const first = await create({ selection: { appIds: [a.appId] }, quotaReserve: 5 });
      const second = await create({ selection: { appIds: [b.appId] }, quotaReserve: 5 });
      await p.pollNow();
      expect((await read(first.id)).members[0]?.state).not.toBe('pending');
      const waiting = await read(second.id);
      expect(waiting.members[0]?.state).toBe('pending');
      expect(waiting.waiting).toMatchObject({ for: 'quota', rest: 6 });
      for (const r of [first, second]) {
        await act(r.id, 'abort');
        await tickUntil(r.id, (x) => x.state === 'aborted');
      }
    } finally {
      p.sim.setQuota({ submitRest: 1000, submitLimit: 1000 });
    }
  });

  it('a tick writes a member its deployment moved on as read for the tick, without reading it again', async () => {
    const [a] = apps;
    if (!a) throw new Error('no apps');
    const created = await create({ selection: { appIds: [a.appId] } });
    // The first tick starts the member and builds its deployment; the second submits it: the member's mirror of
    // its deployment changes in both.
    await p.pollNow();
    expect((await read(created.id)).members[0]?.state).toBe('building');
    storeRequests.reset();
    await p.pollNow();
    // The members listed for the steps and for the gate; the submit's mirror is written on the one listed.
    expect(storeRequests.tables().rolloutMembers?.reads).toBe(2);
    expect((await read(created.id)).members[0]?.state).toBe('auditing');
    await act(created.id, 'abort', { inReview: 'withdraw' });
    await tickUntil(created.id, (x) => x.state === 'aborted');
  });

  it('selects by label; an app not selectable is refused with the field', async () => {
    const [a] = apps;
    const labelled = expectStatus(await api.put(`/v1/apps/${a?.appId}/rollout-settings`, { labels: ['beta'] }), 200).body;
    expect(labelled).toEqual({ labels: ['beta'], platformManagedUpdates: false });
    const created = await create({ selection: { labels: ['beta'] } });
    expect(created.members.map((m) => m.appId)).toEqual([a?.appId]);
    await act(created.id, 'abort');

    const refused = await api.post('/v1/rollouts', { templateId: 101, userVersion: '2.0.0', selection: { appIds: ['app_doesnotexist'] } });
    expect(refused.status).toBe(400);
    expect(errorIn(refused.body)).toMatchObject({ code: 'ROLLOUT_SELECTION_INVALID', field: 'body.selection.appIds' });
  });

  it('a start cut by a crash is adopted, never doubled; one cut before its build starts again', async () => {
    const [a, b] = apps;
    if (!a || !b) throw new Error('no apps');
    const created = await create({ selection: { appIds: [a.appId, b.appId] }, waves: { canary: { count: 2 }, percents: [100] } });
    const crashed = servicesWithClock(p.env, Date.now());
    try {
      // An instance recorded both starts, made a's deployment, and died before recording it; b's never got made.
      await applyMemberEvent(crashed.services, `${created.id}:${a.appId}`, { type: 'start' });
      await applyMemberEvent(crashed.services, `${created.id}:${b.appId}`, { type: 'start' });
      const made = await startBuild(
        crashed.services,
        accountId,
        a.appId,
        { userVersion: '2.0.0', userDesc: '', templateId: 101 },
        rolloutActor(created.id),
      );
      // While the start may still be under way, nobody touches either member.
      await p.pollNow();
      expect((await read(created.id)).members.map((m) => m.state)).toEqual(['starting', 'starting']);

      crashed.setClock(Date.now() + START_STALE_MS + 1);
      await crashed.services.wechat.tokens.recordVerifyTicket(await p.sim.pushVerifyTicket(), crashed.now());
      await driveRollouts(crashed.services);
      const after = await read(created.id);
      expect(memberOf(after, a.appId)).toMatchObject({ state: 'building', deploymentId: made.id });
      expect(memberOf(after, b.appId)).toMatchObject({
        state: 'pending',
        deploymentId: null,
        reason: 'the start was interrupted; starting again',
      });
      const restarted = await tickUntil(created.id, (r) => r.members.every((m) => m.deploymentState === 'auditing'));
      expect(memberOf(restarted, a.appId).deploymentId).toBe(made.id);
      const listed = z
        .object({ deployments: z.array(z.object({ id: z.string() })) })
        .parse(expectStatus(await api.get(`/v1/deployments?appId=${a.appId}&state=auditing`), 200).body);
      expect(listed.deployments.map((d) => d.id)).toEqual([made.id]);
      await act(created.id, 'abort');
      await tickUntil(created.id, (r) => r.state === 'aborted');
    } finally {
      await crashed.close();
    }
  });

  it('waits for an app whose own deployment is open, or skips it, by policy', async () => {
    const [a] = apps;
    if (!a) throw new Error('no apps');
    const own = expectStatus(await api.post(`/v1/apps/${a.appId}/deployments`, { userVersion: '1.9.0' }), 202).body as { id: string };
    const waiting = await create({ selection: { appIds: [a.appId] } });
    await p.pollNow();
    expect(memberOf(await read(waiting.id), a.appId)).toMatchObject({ state: 'pending', reason: expect.stringContaining(own.id) });
    await act(waiting.id, 'abort');
    await tickUntil(waiting.id, (r) => r.state === 'aborted');

    const skipping = await create({ selection: { appIds: [a.appId] }, busyApps: 'skip' });
    const done = await tickUntil(skipping.id, (r) => r.state === 'completed');
    expect(memberOf(done, a.appId)).toMatchObject({ state: 'skipped', reason: expect.stringContaining(own.id) });
    expectStatus(await api.post(`/v1/deployments/${own.id}/cancel`), 200);
  });

  it('holds approved members for a manual release of the wave', async () => {
    const [a] = apps;
    const created = await create({ selection: { appIds: [a?.appId] }, release: { mode: 'manual' } });
    const inReview = await tickUntil(created.id, (r) => r.members[0]?.deploymentState === 'auditing');
    await decideAll(inReview, 'approve');
    const held = await tickUntil(created.id, (r) => r.members[0]?.state === 'approved');
    await p.pollNow();
    expect((await read(held.id)).members[0]?.state).toBe('approved');
    expect((await act(created.id, 'release-wave', { wave: 0 })).history.at(-1)).toMatchObject({
      command: 'releaseWave',
      actor: { kind: 'account' },
    });
    const done = await tickUntil(created.id, (r) => r.state === 'completed');
    expect(done.members[0]?.state).toBe('released');
  });

  it('the platform admin rolls out only to apps whose account allows it', async () => {
    const [a, b] = apps;
    expectStatus(await api.put(`/v1/apps/${a?.appId}/rollout-settings`, { platformManagedUpdates: true }), 200);
    const admin = client(p.url, p.adminKey);
    const refused = await admin.post('/v1/platform/rollouts', { templateId: 101, userVersion: '3.0.0', selection: { kinds: ['lowcode'] } });
    expect(errorIn(refused.body)).toMatchObject({ code: 'ROLLOUT_SELECTION_INVALID', field: 'body.selection.templateIds' });
    const created = rolloutView.parse(
      expectStatus(
        await admin.post('/v1/platform/rollouts', { templateId: 101, userVersion: '3.0.0', selection: { templateIds: [101] } }),
        201,
      ).body,
    );
    expect(created.members.map((m) => m.appId)).toEqual([a?.appId]);
    expect(created.members.map((m) => m.appId)).not.toContain(b?.appId);
    // The account does not see the platform's rollout as its own.
    expect((await api.get(`/v1/rollouts/${created.id}`)).status).toBe(404);
    expectStatus(await admin.post(`/v1/platform/rollouts/${created.id}/abort`, {}), 200);
    expectStatus(await api.put(`/v1/apps/${a?.appId}/rollout-settings`, { platformManagedUpdates: false }), 200);
  });

  it('phased release: each member goes to 10 %, then 50 %, then in full; abort during a phase reverts it', async () => {
    // Two new apps, never released: WeChat phases only a mini program that has a live version (85079), so the first
    // rollout releases them in full although it asks for phases.
    const a = await authorizeNewApp(p, api, subject);
    const b = await authorizeNewApp(p, api, subject);
    const first = await create({
      selection: { appIds: [a.appId, b.appId] },
      waves: { canary: { count: 2 }, percents: [100] },
      release: { phased: { percents: [10] } },
    });
    await decideAll(await tickUntil(first.id, (r) => r.members.every((m) => m.deploymentState === 'auditing')), 'approve');
    const live = await tickUntil(first.id, (r) => r.state === 'completed');
    expect(memberHistory(live, a.appId)).toEqual(['starting', 'building', 'auditing', 'approved', 'released']);

    const phased = { mode: 'on-approval', phased: { percents: [10, 50], stepMs: 0 } };
    const created = await create({ selection: { appIds: [a.appId] }, release: phased });
    await decideAll(await tickUntil(created.id, (r) => r.members[0]?.deploymentState === 'auditing'), 'approve');
    await pollAuditsNow();
    await tickUntil(created.id, (r) => r.members[0]?.state === 'phasing');
    // Raising the share puts nothing new live: WeChat is not asked about the filing again (it was, at 10 %).
    p.sim.resetCounters();
    storeRequests.reset();
    await p.pollNow();
    // The mini program is read once, for the account's right to publish and the link both.
    expect(storeRequests.tables().miniPrograms?.reads).toBe(1);
    expect(memberHistory(await read(created.id), a.appId).at(-1)).toBe('phasing:live to 50 % of users');
    expect(p.sim.counters()).toMatchObject({ '/wxa/grayrelease': 1 });
    expect(p.sim.counters()['/wxa/icp/get_icp_entrance_info']).toBeUndefined();
    const done = await tickUntil(created.id, (r) => r.state === 'completed');
    expect(done.members[0]?.state).toBe('released');
    expect(memberHistory(done, a.appId)).toEqual([
      'starting',
      'building',
      'auditing',
      'approved',
      'phasing:live to 10 % of users',
      'phasing:live to 50 % of users',
      'released',
    ]);

    const reverted = await create({
      selection: { appIds: [b.appId] },
      release: { ...phased, phased: { percents: [10, 50], stepMs: 3_600_000 } },
    });
    await decideAll(await tickUntil(reverted.id, (r) => r.members[0]?.deploymentState === 'auditing'), 'approve');
    await pollAuditsNow();
    const phasing = await tickUntil(reverted.id, (r) => r.members[0]?.state === 'phasing');
    // The next share waits for its step's time: another tick changes nothing.
    await p.pollNow();
    expect(memberHistory(await read(phasing.id), b.appId).at(-1)).toBe('phasing:live to 10 % of users');
    await act(reverted.id, 'abort');
    const aborted = await tickUntil(reverted.id, (r) => r.state === 'aborted');
    expect(aborted.members[0]).toMatchObject({ state: 'rolled-back', reason: 'rollout aborted: phased release reverted' });
    const wechat = servicesWithClock(p.env, Date.now());
    try {
      const plan = await wechat.services.wechat.client.getGrayReleasePlan(b.target);
      expect(plan.gray_release_plan.status).toBe(4);
    } finally {
      await wechat.close();
    }
    const d = expectStatus(await api.get(`/v1/deployments/${aborted.members[0]?.deploymentId}`), 200).body as { state: string };
    expect(d.state).toBe('cancelled');
  });
});

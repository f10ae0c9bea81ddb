/**
 * The guards around a deployment's life, end to end (the product in this process, a simulator this file owns, the
 * real SQLite store, and a poller instance whose clock the test moves): one open deployment per app however many
 * builds failed before and however many instances build at once; a deployment whose app lost its mini program never
 * acts at WeChat again — not even when its void did not get through — so one app's (one account's) code never lands
 * on a mini program that serves another; and testers WeChat refuses do not fail a build.
 */
import { authorize, type Client, createAccount, createLowcodeApp, deploymentOf, expectStatus } from '../../infra/local/driver';
import { startBuild } from '../../shared/app/deployments';
import { linkApp, unlinkApp } from '../../shared/domain/app';
import type { Deployment } from '../../shared/domain/deployment';
import { accountIdSchema, appIdSchema, weChatAppidSchema } from '../../shared/domain/ids';
import { linkMiniProgram } from '../../shared/domain/mini-program';
import { createLeases } from '../../shared/store/leases';
import { newMiniProgram, pollUntil, readyApp, servicesWithClock } from '../reliability/support';
import { platformWithPollerForFile, requestAction, requestBuild, storedDeployment } from '../support/e2e';
import { errorIn } from '../support/http';

jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

const world = platformWithPollerForFile({ simulator: { pushRetryDelayMs: 20 } });

afterEach(() => {
  world.p.sim.clearScriptedFaults();
  world.p.sim.setQuota({ testersPerMiniProgram: 15, miniProgramsPerTester: 50 });
});

const stored = (id: string): Promise<Deployment> => storedDeployment(world.poller, id);

const deploymentsOfApp = async (appId: string) =>
  (await world.poller.services.db.deployments.find({ where: { appId: appIdSchema.parse(appId) }, limit: 100 })).map((d) => d.data);

const OPEN = new Set(['configuring', 'building', 'built', 'submitting', 'auditing', 'approved', 'releasing', 'rejected', 'withdrawn']);
const isOpen = (d: Deployment) => OPEN.has(d.state) || (d.state === 'failed' && d.failure?.retryable === true);

/** A build left in `building` at its commit step: WeChat answered -1 to every attempt, so the poller resumes it. */
async function stuckBuild(api: Client, appId: string, target: string, version: string): Promise<Deployment> {
  world.p.sim.scriptFault({ path: '/wxa/commit', appId: target, errcode: -1, times: 3 });
  const reply = await requestBuild(api, appId, { userVersion: version, userDesc: version });
  expect(reply).toMatchObject({ state: 'building', buildStep: 'commit' });
  return stored(reply.id);
}

/** One poller tick, half an hour after the last one (every backoff is due by then). */
const tick = (id: string) => pollUntil(world.poller, [id], () => false, { sim: world.p.sim, maxTicks: 1 });

/**
 * What an authorization for `newAppId` leaves behind when the void of the old app's deployments did not get through:
 * the mini program serves the new app, the old app has none, and its deployments are still open.
 */
async function relinkWithoutVoiding(appid: string, oldAppId: string, newAppId: string): Promise<void> {
  const db = world.poller.services.db;
  const at = Date.now();
  const mp = await db.miniPrograms.get(appid);
  const oldApp = await db.apps.get(oldAppId);
  const newApp = await db.apps.get(newAppId);
  if (!mp || !oldApp || !newApp) throw new Error('seed missing');
  const target = weChatAppidSchema.parse(appid);
  await world.poller.services.store.commit([
    db.miniPrograms.updateWrite(appid, mp.version, linkMiniProgram(mp.data, newApp.data.id, { at, actor: { kind: 'system' } }).miniProgram),
    db.apps.updateWrite(
      oldAppId,
      oldApp.version,
      unlinkApp(oldApp.data, { at, reason: 'superseded', miniProgramAppid: target, message: 'taken by another app' }),
    ),
    db.apps.updateWrite(newAppId, newApp.version, linkApp(newApp.data, target, at)),
  ]);
}

describe('one open deployment per app', () => {
  it('still refuses a second open deployment after five builds failed for good', async () => {
    const { api, appId, target } = await readyApp(world.p);
    for (let i = 1; i <= 5; i++) {
      // 85013: WeChat refuses the ext_json; a permanent failure, closed for good.
      world.p.sim.scriptFault({ path: '/wxa/commit', appId: target, errcode: 85013 });
      const failed = await requestBuild(api, appId, { userVersion: `0.${i}.0` });
      expect(failed).toMatchObject({ state: 'failed', failure: { retryable: false, errcode: 85013 } });
    }
    const open = await requestBuild(api, appId, { userVersion: '1.0.0' });
    expect(open.state).toBe('built');

    const second = await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.1' });
    expect(second.status).toBe(409);
    expect(errorIn(second.body)).toMatchObject({ code: 'DEPLOYMENT_ALREADY_OPEN', message: expect.stringContaining(open.id) });
    expect((await deploymentsOfApp(appId)).filter(isOpen).map((d) => d.id)).toEqual([open.id]);
    expect(world.p.sim.miniProgram(target)?.exp?.userVersion).toBe('1.0.0');

    // Closing it frees the app for the next build.
    expectStatus(await api.post(`/v1/deployments/${open.id}/cancel`), 200);
    expect((await requestBuild(api, appId, { userVersion: '1.0.2' })).state).toBe('built');
  });

  it('lets only one of two builds started together on two instances create a deployment', async () => {
    const { appId, accountId, target } = await readyApp(world.p);
    const other = servicesWithClock(world.p.env, Date.now());
    try {
      const account = accountIdSchema.parse(accountId);
      const actor = { kind: 'account' as const, id: accountId };
      const outcomes = await Promise.allSettled([
        startBuild(world.poller.services, account, appId, { userVersion: '1.0.0', userDesc: 'instance one' }, actor),
        startBuild(other.services, account, appId, { userVersion: '2.0.0', userDesc: 'instance two' }, actor),
      ]);
      const built = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code?: string }] : []));
      expect(built).toHaveLength(1);
      expect(refused.map((e) => e.code)).toEqual(['DEPLOYMENT_ALREADY_OPEN']);
      expect((await deploymentsOfApp(appId)).map((d) => d.id)).toEqual([built[0]?.id]);
      expect(world.p.sim.miniProgram(target)?.exp?.userVersion).toBe(built[0]?.userVersion);
    } finally {
      await other.close();
    }
  });
});

describe('a deployment whose app lost its mini program', () => {
  it("never commits its code to a mini program that another account's app took, even when its void did not get through", async () => {
    const first = await readyApp(world.p);
    const d = await stuckBuild(first.api, first.appId, first.target, '1.0.0');

    // Another account of the same company authorizes the same mini program for its own app, while a worker holds
    // the first deployment: voiding it waits, gives up, and the authorization goes through anyway.
    const second = await createAccount(world.p, first.subject);
    const primary = newMiniProgram(world.p.sim, first.subject);
    expect((await authorize(world.p, second.api, 'bind-primary', primary)).result.code).toBe('PRIMARY_BOUND');
    const theirApp = await createLowcodeApp(second.api, 'Theirs');
    const leases = createLeases(world.poller.services.store);
    const held = await leases.acquire(`deployment:${d.id}`, 'a-busy-worker', 60_000);
    if (!held) throw new Error('could not hold the lease');
    try {
      expect((await authorize(world.p, second.api, 'authorize-app', first.target, theirApp)).result.code).toBe('MINI_PROGRAM_AUTHORIZED');
    } finally {
      await leases.release(held);
    }
    const left = await stored(d.id);
    expect(left).toMatchObject({ state: 'building', buildStep: 'commit' });
    // The authorization resumed nothing of the app that lost the mini program.
    expect(left.nextPollAt).toBe(d.nextPollAt);

    // The poller resumes the build: it is voided instead of committing the first account's code.
    world.p.sim.resetCounters();
    await tick(d.id);
    const after = await stored(d.id);
    expect(after.state).toBe('voided');
    expect(after.stateReason).toContain('no longer linked');
    expect(world.p.sim.counters()['/wxa/commit']).toBeUndefined();
    expect(world.p.sim.miniProgram(first.target)?.exp).toBeUndefined();

    // What the mini program gets is the code of the app that holds it now.
    const theirs = await requestBuild(second.api, theirApp, { userVersion: '9.0.0' });
    expect(theirs.state).toBe('built');
    expect(world.p.sim.miniProgram(first.target)?.exp?.userVersion).toBe('9.0.0');
  });
  it('voids a deployment under review whose app lost the mini program, withdrawing its audit, so the app can build again', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const built = await requestBuild(api, appId, { userVersion: '1.0.0' });
    expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');
    // The void at the time of the loss did not get through (here: never attempted).
    await relinkWithoutVoiding(target, appId, await createLowcodeApp(api, 'Other'));
    await tick(built.id);
    const after = await stored(built.id);
    expect(after.state).toBe('voided');
    expect(after.stateReason).toContain('no longer linked');
    const audits = world.p.sim.miniProgram(target)?.audits ?? [];
    expect(audits.at(-1)?.status).toBe(3); // withdrawn at WeChat: the app now holding it can submit
  });

  it('voids a release the poller resumes after the link is gone, and records one that had reached WeChat as released', async () => {
    const { api, appId, target, subject } = await readyApp(world.p);
    const approved = async (version: string) => {
      const built = await requestBuild(api, appId, { userVersion: version });
      expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');
      await world.p.sim.decideAudit(target, 'approve');
      await world.p.sim.pushesSettled();
      expect((await stored(built.id)).state).toBe('approved');
      return built.id;
    };

    // WeChat fails every attempt of the release: it waits in `releasing` for the world.poller.
    const waiting = await approved('1.0.0');
    world.p.sim.scriptFault({ path: '/wxa/release', appId: target, errcode: -1, times: 3 });
    expect((await requestAction(api, waiting, 'release')).state).toBe('releasing');
    const otherApp = await createLowcodeApp(api, 'Other');
    await relinkWithoutVoiding(target, appId, otherApp);
    world.p.sim.resetCounters();
    await tick(waiting);
    expect((await stored(waiting)).state).toBe('voided');
    expect(world.p.sim.counters()['/wxa/release']).toBeUndefined();
    expect(world.p.sim.miniProgram(target)?.live).toBeUndefined();

    // The same, but WeChat did release before its answer was lost: the record says so.
    const ready = await readyApp(world.p, { subject });
    const id = await (async () => {
      const built = await requestBuild(ready.api, ready.appId, { userVersion: '2.0.0' });
      expectStatus(await ready.api.post(`/v1/deployments/${built.id}/submit`), 200);
      await world.p.sim.decideAudit(ready.target, 'approve');
      await world.p.sim.pushesSettled();
      return built.id;
    })();
    world.p.sim.scriptFault({ path: '/wxa/release', appId: ready.target, loseAnswer: true });
    expect((await requestAction(ready.api, id, 'release')).state).toBe('releasing');
    expect(world.p.sim.miniProgram(ready.target)?.live?.userVersion).toBe('2.0.0');
    await relinkWithoutVoiding(ready.target, ready.appId, await createLowcodeApp(ready.api, 'Other'));
    await tick(id);
    expect((await stored(id)).state).toBe('released');
  });
});

describe('what an app that lost its mini program may still ask for', () => {
  it('refuses to withdraw an audit or roll back a release there: WeChat would act on whatever the new app has', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const released = await requestBuild(api, appId, { userVersion: '1.0.0' });
    expectStatus(await api.post(`/v1/deployments/${released.id}/submit`), 200);
    await world.p.sim.decideAudit(target, 'approve');
    await world.p.sim.pushesSettled();
    expect((await requestAction(api, released.id, 'release')).state).toBe('released');
    const reviewed = await requestBuild(api, appId, { userVersion: '1.1.0' });
    expect((await requestAction(api, reviewed.id, 'submit')).state).toBe('auditing');

    await relinkWithoutVoiding(target, appId, await createLowcodeApp(api, 'Other'));
    world.p.sim.resetCounters();
    for (const [id, action] of [
      [reviewed.id, 'undo'],
      [reviewed.id, 'speedup'],
      [released.id, 'rollback'],
    ] as const) {
      const refused = await api.post(`/v1/deployments/${id}/${action}`);
      expect({ action, status: refused.status, code: errorIn(refused.body).code }).toEqual({
        action,
        status: 409,
        code: 'DEPLOYMENT_APP_UNLINKED',
      });
    }
    expect(world.p.sim.counters()).toEqual({});
    expect(world.p.sim.miniProgram(target)?.audits.at(-1)?.status).toBe(2);
    expect(world.p.sim.miniProgram(target)?.live?.userVersion).toBe('1.0.0');
  });
});

describe('testers WeChat refuses', () => {
  it('builds without them, lists them with the reason, and binds them later once WeChat has room', async () => {
    const { api, appId, target } = await readyApp(world.p);
    world.p.sim.setQuota({ testersPerMiniProgram: 1 });
    const reply = await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.0', testers: ['tester-ann', 'tester-bob'] });
    const built = deploymentOf(expectStatus(reply, 202));
    expect(built).toMatchObject({ state: 'built', failure: null });
    expect(built.qrAssetId).not.toBeNull();
    expect(reply.body).toMatchObject({
      boundTesters: ['tester-ann'],
      refusedTesters: [{ wechatId: 'tester-bob', errcode: 85002, reason: expect.stringContaining('tester limit'), at: expect.any(Number) }],
    });
    // The build is usable as it is: it goes to review.
    expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');

    // Too early: still no room, so still refused, with the reason.
    const again = await api.post(`/v1/deployments/${built.id}/testers`);
    expect(again.status).toBe(200);
    expect((again.body as { refusedTesters: unknown[] }).refusedTesters).toHaveLength(1);

    world.p.sim.setQuota({ testersPerMiniProgram: 15 });
    const later = await api.post(`/v1/deployments/${built.id}/testers`);
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ state: 'auditing', boundTesters: ['tester-ann', 'tester-bob'], refusedTesters: [] });
    expect(world.p.sim.miniProgram(target)?.testers.sort()).toEqual(['tester-ann', 'tester-bob']);
  });

  it('refuses to bind testers before a deployment is built', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await stuckBuild(api, appId, target, '1.0.0');
    const refused = await api.post(`/v1/deployments/${d.id}/testers`, { testers: ['tester-cat'] });
    expect(refused.status).toBe(409);
    expect(errorIn(refused.body).code).toBe('DEPLOYMENT_NOT_BUILT');
  });
});

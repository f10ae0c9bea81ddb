/**
 * What happens to an audit when things go wrong around it, end to end (the product in this process, a simulator
 * this file owns, the real SQLite store, and a poller instance whose clock the test moves): a submit whose answer is
 * lost while WeChat decides, an authorization that expires mid-audit, a poll WeChat refuses, a cancel that must
 * withdraw the audit, a mini program authorized for another app, and WeChat refusing (87012) a withdrawal or a
 * rollback. Each scenario checks what the user would see and what WeChat ends up holding — never two audits for one
 * submission, never code released that the records do not name.
 */

import { authorize, type Client, createLowcodeApp, expectStatus } from '../../infra/local/driver';
import { cancelDeployment } from '../../shared/app/deployments';
import { unlinkApp } from '../../shared/domain/app';
import { type Deployment, transition } from '../../shared/domain/deployment';
import { accountIdSchema } from '../../shared/domain/ids';
import * as z from '../../shared/domain/zod';
import { parseConfig } from '../../shared/runtime/config';
import { WeChatMessageCrypto } from '../../shared/wechat/crypto';
import { buildWeChatXml } from '../../shared/wechat/xml';
import { authorizeNewApp, pollUntil, readyApp, servicesWithClock, startWireTap } from '../reliability/support';
import { platformWithPollerForFile, requestAction, requestBuild, storedDeployment } from '../support/e2e';
import { errorIn } from '../support/http';

jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

const world = platformWithPollerForFile({ simulator: { pushRetryDelayMs: 20 } });

afterEach(() => {
  world.p.sim.clearScriptedFaults();
  world.p.sim.setFaults({ dropPushRate: 0 });
});

async function build(api: Client, appId: string, version: string): Promise<Deployment> {
  const built = await requestBuild(api, appId, { userVersion: version, userDesc: `release ${version}` });
  expect(built.state).toBe('built');
  return stored(built.id);
}

const stored = (id: string): Promise<Deployment> => storedDeployment(world.poller, id);

/** One poller tick, half an hour after the last one (every backoff is due by then). */
const tick = (id: string) => pollUntil(world.poller, [id], () => false, { sim: world.p.sim, maxTicks: 1 });

const auditsAtWeChat = (appid: string) => world.p.sim.miniProgram(appid)?.audits ?? [];
const liveVersion = (appid: string) => world.p.sim.miniProgram(appid)?.live?.userVersion;

async function submitted(api: Client, id: string): Promise<Deployment> {
  const reply = await requestAction(api, id, 'submit');
  expect(reply.state).toBe('auditing');
  return stored(id);
}

async function releaseIt(api: Client, id: string): Promise<void> {
  expect((await requestAction(api, id, 'release')).state).toBe('released');
}

const miniProgramStatus = async (api: Client, appid: string) =>
  z.object({ status: z.string() }).parse(expectStatus(await api.get(`/v1/mini-programs/${appid}`), 200).body).status;

describe('a submit whose answer is lost while WeChat decides', () => {
  it('adopts the audit the approval push is about, and never submits a second one', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await build(api, appId, '1.0.0');
    world.p.sim.scriptFault({ path: '/wxa/submit_audit', appId: target, loseAnswer: true });
    const reply = await requestAction(api, d.id, 'submit');
    expect(reply.state).toBe('submitting'); // the answer never came
    const [audit] = auditsAtWeChat(target);
    expect(audit?.status).toBe(2); // but WeChat has it

    await world.p.sim.decideAudit(target, 'approve');
    await world.p.sim.pushesSettled();
    expect(await stored(d.id)).toMatchObject({ state: 'approved', audit: { auditId: audit?.auditid } });

    // The poller resumes nothing: there is no second audit, and no second submit spent.
    await tick(d.id);
    expect(auditsAtWeChat(target)).toHaveLength(1);
    await releaseIt(api, d.id);
    expect(liveVersion(target)).toBe('1.0.0');
  });

  it('adopts a decision whose push was lost, when the poller resumes the submit', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await build(api, appId, '1.0.0');
    world.p.sim.scriptFault({ path: '/wxa/submit_audit', appId: target, loseAnswer: true });
    expectStatus(await api.post(`/v1/deployments/${d.id}/submit`), 200);
    world.p.sim.setFaults({ dropPushRate: 1 });
    await world.p.sim.decideAudit(target, 'reject', { reason: '1:小程序名称与内容不符', screenshots: ['media1'] });
    world.p.sim.setFaults({ dropPushRate: 0 });
    expect((await stored(d.id)).state).toBe('submitting');

    await tick(d.id);
    const rejected = await stored(d.id);
    expect(rejected).toMatchObject({
      state: 'rejected',
      stateReason: '1:小程序名称与内容不符',
      audit: { auditId: auditsAtWeChat(target)[0]?.auditid, screenshots: ['media1'] },
    });
    expect(auditsAtWeChat(target)).toHaveLength(1);
  });
});

describe('an authorization that expires while the audit runs', () => {
  it('waits for the admin to authorize again, then releases the approved audit', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await submitted(api, (await build(api, appId, '1.0.0')).id);
    world.p.sim.setFaults({ dropPushRate: 1 });
    await world.p.sim.decideAudit(target, 'approve');
    world.p.sim.setFaults({ dropPushRate: 0 });

    // The refresh token dies (61023): the poll cannot even get a token.
    world.p.sim.invalidateRefreshToken(target);
    world.p.sim.expireTokens('authorizer');
    await tick(d.id);
    const waiting = await stored(d.id);
    expect(waiting).toMatchObject({ state: 'auditing', failure: null });
    expect(waiting.history).toEqual(d.history);
    expect(await miniProgramStatus(api, target)).toBe('needs-reauth');

    // The admin scans again: the deployment carries on by itself.
    expect((await authorize(world.p, api, 'authorize-app', target, appId)).result.code).toBe('MINI_PROGRAM_AUTHORIZED');
    expect(await miniProgramStatus(api, target)).toBe('authorized');
    await tick(d.id);
    expect((await stored(d.id)).state).toBe('approved');
    await releaseIt(api, d.id);
    expect(liveVersion(target)).toBe('1.0.0');
  });

  it('keeps a release that WeChat refused for the authorization (42007) and finishes it at the next tick after a new scan', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await submitted(api, (await build(api, appId, '1.0.0')).id);
    await world.p.sim.decideAudit(target, 'approve');
    await world.p.sim.pushesSettled();
    expect((await stored(d.id)).state).toBe('approved');

    world.p.sim.scriptFault({ path: '/wxa/release', appId: target, errcode: 42007 });
    const reply = await requestAction(api, d.id, 'release');
    expect(reply).toMatchObject({ state: 'releasing', failure: null });
    expect(await miniProgramStatus(api, target)).toBe('needs-reauth');
    expect(liveVersion(target)).toBeUndefined();

    expect((await authorize(world.p, api, 'authorize-app', target, appId)).result.code).toBe('MINI_PROGRAM_AUTHORIZED');
    // The product's own timer, now: without the re-authorization the release would not be due for minutes.
    await world.p.pollNow();
    expect((await stored(d.id)).state).toBe('released');
    expect(liveVersion(target)).toBe('1.0.0');
  });
});

describe('a poll WeChat refuses, and closing a deployment around its audit', () => {
  it('keeps the audit under review when a poll hits the daily quota (45009), so its result still lands', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await submitted(api, (await build(api, appId, '1.0.0')).id);
    world.p.sim.scriptFault({ path: '/wxa/get_auditstatus', appId: target, errcode: 45009 });
    await tick(d.id);
    const after = await stored(d.id);
    expect(after).toMatchObject({ state: 'auditing', failure: null, pollAttempts: d.pollAttempts + 1 });
    expect(after.nextPollAt).toBeGreaterThan(world.poller.now());
    expect(after.history).toEqual(d.history);

    await world.p.sim.decideAudit(target, 'approve');
    await world.p.sim.pushesSettled();
    expect((await stored(d.id)).state).toBe('approved');
  });

  it('withdraws the audit at WeChat when a deployment that failed around it is cancelled — and refuses the cancel when WeChat refuses the withdrawal', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const first = await failedWithUnrecordedAudit(api, appId, target);
    expect(auditsAtWeChat(target).map((a) => a.status)).toEqual([2]);

    // No undo left today (87013): the cancel is refused and nothing changes.
    world.p.sim.setQuota({ undoPerDay: 0 });
    const refused = await api.post(`/v1/deployments/${first.id}/cancel`);
    expect(refused.status).toBe(429);
    expect(errorIn(refused.body).code).toBe('WECHAT_87013');
    expect((await stored(first.id)).state).toBe('failed');
    world.p.sim.setQuota({ undoPerDay: 5 });

    expect((await requestAction(api, first.id, 'cancel')).state).toBe('cancelled');
    expect(auditsAtWeChat(target).map((a) => a.status)).toEqual([3]);
    // The audit it never heard of is in its history now: no later deployment can take it for its own.
    expect((await stored(first.id)).history.at(-1)).toMatchObject({ to: 'cancelled', auditId: auditsAtWeChat(target)[0]?.auditid });
    // Cancelling again is a no-op, at WeChat too.
    expectStatus(await api.post(`/v1/deployments/${first.id}/cancel`), 200);
    expect(world.p.sim.miniProgram(target)?.undo.today).toBe(1);

    // The next deployment gets an audit of its own, and what goes live is its code.
    const second = await submitted(api, (await build(api, appId, '2.0.0')).id);
    expect(second.audit?.auditId).toBe(auditsAtWeChat(target)[1]?.auditid);
    await world.p.sim.decideAudit(target, 'approve');
    await world.p.sim.pushesSettled();
    await releaseIt(api, second.id);
    expect(liveVersion(target)).toBe('2.0.0');
    expect((await stored(first.id)).state).toBe('cancelled');
  });

  it('never adopts an audit another deployment recorded, even when WeChat answers the submit with 85009', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const old = await submitted(api, (await build(api, appId, '1.0.0')).id);
    // Left by older code: failed on a refused poll, then cancelled without withdrawing its audit at WeChat.
    const current = await world.poller.services.db.deployments.get(old.id);
    if (!current) throw new Error('gone');
    const failed: Deployment = {
      ...current.data,
      state: 'failed',
      nextPollAt: null,
      failure: {
        at: Date.now(),
        reason: 'daily API call quota reached (WeChat 45009)',
        retryable: true,
        errcode: 45009,
        from: 'auditing',
        step: null,
      },
    };
    const cancelled = transition(failed, { type: 'cancel' }, { at: Date.now(), actor: { kind: 'system' } }).deployment;
    await world.poller.services.db.deployments.update(old.id, current.version, cancelled);

    const next = await build(api, appId, '2.0.0');
    const reply = await requestAction(api, next.id, 'submit');
    expect(reply).toMatchObject({ state: 'failed', failure: { errcode: 85009, retryable: true } });
    expect(reply.failure?.reason).toMatch(/another version/);
    expect(reply.audit).toBeNull();

    // The old audit's approval moves nothing, and nothing can be released.
    await world.p.sim.decideAudit(target, 'approve');
    await world.p.sim.pushesSettled();
    expect((await stored(next.id)).state).toBe('failed');
    expect(errorIn((await api.post(`/v1/deployments/${next.id}/release`)).body).code).toBe('DEPLOYMENT_FAILED');
    expect(liveVersion(target)).toBeUndefined();

    // Once WeChat has decided the old one, a retry submits this deployment's own code.
    const retried = await requestAction(api, next.id, 'retry');
    expect(retried.state).toBe('auditing');
    expect(retried.audit?.auditId).toBe(auditsAtWeChat(target)[1]?.auditid);
  });
});

describe('a mini program that changes app', () => {
  it('voids the deployments of the app that lost it and withdraws their audit, so one approval releases only the new app', async () => {
    const { api, appId: appA, target } = await readyApp(world.p);
    const a = await submitted(api, (await build(api, appA, '1.0.0')).id);
    const appB = await createLowcodeApp(api, 'Second');
    expect((await authorize(world.p, api, 'authorize-app', target, appB)).result.code).toBe('MINI_PROGRAM_AUTHORIZED');

    const voided = await stored(a.id);
    expect(voided).toMatchObject({ state: 'voided', nextPollAt: null });
    expect(voided.stateReason).toContain(`was authorized to the app ${appB}`);
    expect(auditsAtWeChat(target).map((audit) => audit.status)).toEqual([3]);

    const b = await submitted(api, (await build(api, appB, '2.0.0')).id);
    expect(b.audit?.auditId).toBe(auditsAtWeChat(target)[1]?.auditid);
    await world.p.sim.decideAudit(target, 'approve');
    await world.p.sim.pushesSettled();
    expect((await stored(a.id)).state).toBe('voided');
    expect((await stored(b.id)).state).toBe('approved');
    expect(errorIn((await api.post(`/v1/deployments/${a.id}/release`)).body).code).toBe('DEPLOYMENT_CLOSED');
    await releaseIt(api, b.id);
    expect(liveVersion(target)).toBe('2.0.0');
  });

  it('voids the deployment on the old mini program when the app moves to another one', async () => {
    const ready = await readyApp(world.p);
    const old = await submitted(ready.api, (await build(ready.api, ready.appId, '1.0.0')).id);
    const other = await authorizeNewApp(world.p, ready.api, ready.subject);
    expect((await authorize(world.p, ready.api, 'authorize-app', other.target, ready.appId)).result.code).toBe('MINI_PROGRAM_AUTHORIZED');
    expect((await stored(old.id)).state).toBe('voided');
    expect(auditsAtWeChat(ready.target).map((audit) => audit.status)).toEqual([3]);
  });

  it('refuses to release an approved deployment whose app no longer holds the mini program', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await submitted(api, (await build(api, appId, '1.0.0')).id);
    await world.p.sim.decideAudit(target, 'approve');
    await world.p.sim.pushesSettled();
    // The app lost the link and its deployment was not voided (the void after the new link did not get through).
    const app = await world.poller.services.db.apps.get(appId);
    if (!app) throw new Error('gone');
    await world.poller.services.db.apps.update(
      appId,
      app.version,
      unlinkApp(app.data, { at: Date.now(), reason: 'superseded', miniProgramAppid: target as `wx${string}`, message: 'taken' }),
    );
    world.p.sim.resetCounters();

    const refused = await api.post(`/v1/deployments/${d.id}/release`);
    expect(refused.status).toBe(409);
    expect(errorIn(refused.body)).toMatchObject({ code: 'DEPLOYMENT_APP_UNLINKED', message: expect.stringContaining(target) });
    expect((await stored(d.id)).state).toBe('approved');
    expect(world.p.sim.counters()['/wxa/release']).toBeUndefined();
  });
});

describe('a late unauthorized push', () => {
  function sealedUnauthorized(appid: string, createTimeSeconds: number) {
    const config = parseConfig(world.p.env);
    const crypto = new WeChatMessageCrypto({
      token: config.wechat.token,
      encodingAESKey: config.wechat.encodingAESKey,
      appId: config.wechat.componentAppId,
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(Math.floor(Math.random() * 1e9));
    const fields = { AppId: config.wechat.componentAppId, CreateTime: createTimeSeconds, InfoType: 'unauthorized', AuthorizerAppid: appid };
    const sealed = crypto.sealEnvelope(buildWeChatXml(fields), { timestamp, nonce });
    const query = new URLSearchParams({ timestamp, nonce, encrypt_type: 'aes', msg_signature: sealed.msgSignature });
    return fetch(`${world.p.url}/wechat/component/events?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: sealed.body,
    });
  }

  it('does not wipe an authorization made after the push was created', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await build(api, appId, '1.0.0');
    // WeChat's retry of a revocation from before the admin's latest scan.
    expect(await (await sealedUnauthorized(target, Math.floor(Date.now() / 1000) - 120)).text()).toBe('success');
    expect(await miniProgramStatus(api, target)).toBe('authorized');
    expect((await stored(d.id)).state).toBe('built');
    expect((await requestAction(api, d.id, 'submit')).state).toBe('auditing');

    // A revocation after it still applies.
    expect(await (await sealedUnauthorized(target, Math.floor(Date.now() / 1000) + 1)).text()).toBe('success');
    expect(await miniProgramStatus(api, target)).toBe('unauthorized');
    expect((await stored(d.id)).state).toBe('voided');
  });

  it('does not unlink a mini program whose newer authorization is being recorded (its tokens saved, the mini program not yet)', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await build(api, appId, '1.0.0');
    const nextSecond = async () => new Promise((resolve) => setTimeout(resolve, 1100));
    await nextSecond();
    const revokedAt = Math.floor(Date.now() / 1000); // after the mini program's recorded authorization …
    await nextSecond();
    // … and before the admin's new scan, whose redirect has stored its tokens but not yet the mini program.
    world.poller.setClock(Date.now());
    await world.poller.services.wechat.tokens.saveAuthorization(target, { refreshToken: 'refreshtoken@@@being-recorded' });
    expect(await (await sealedUnauthorized(target, revokedAt)).text()).toBe('success');
    expect(await miniProgramStatus(api, target)).toBe('authorized');
    expect((await stored(d.id)).state).toBe('built');
  });
});

// WeChat answers 87012 both to withdrawing an audit it has already decided (staff answer, community thread
// 0002423c6b85c083bd7a318fd5b800) and to a rollback with nothing to go back to (doc revertcoderelease: one rollback
// per release, none of a first release): the product reads each as what it means.

/** WeChat decides with its push lost, so the product learns it only when it asks. */
async function approvedSilently(target: string): Promise<void> {
  world.p.sim.setFaults({ dropPushRate: 1 });
  await world.p.sim.decideAudit(target, 'approve');
  world.p.sim.setFaults({ dropPushRate: 0 });
}

/** Built, submitted, approved (learnt by the poller: two pushes in one second would be one to the inbox), released. */
/**
 * Version 1.0.0 built and submitted, but the submit's answer is lost and the poller's look at WeChat's latest audit
 * hits the quota (45009): failed, retryable, with an audit under review at WeChat that the deployment never recorded.
 */
async function failedWithUnrecordedAudit(api: Client, appId: string, target: string): Promise<Deployment> {
  const built = await build(api, appId, '1.0.0');
  world.p.sim.scriptFault({ path: '/wxa/submit_audit', appId: target, loseAnswer: true });
  expectStatus(await api.post(`/v1/deployments/${built.id}/submit`), 200);
  world.p.sim.scriptFault({ path: '/wxa/get_latest_auditstatus', appId: target, errcode: 45009 });
  await tick(built.id);
  const failed = await stored(built.id);
  expect(failed).toMatchObject({ state: 'failed', failure: { retryable: true, errcode: 45009, from: 'submitting' } });
  return failed;
}

async function released(api: Client, appId: string, target: string, version: string): Promise<Deployment> {
  const d = await submitted(api, (await build(api, appId, version)).id);
  await approvedSilently(target);
  await tick(d.id);
  expect((await stored(d.id)).state).toBe('approved');
  await releaseIt(api, d.id);
  expect(liveVersion(target)).toBe(version);
  return stored(d.id);
}

describe('withdrawing an audit WeChat decided meanwhile (87012)', () => {
  it('cancels a deployment whose audit WeChat approves between the look and the withdrawal, leaving the approval as it is', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const built = await failedWithUnrecordedAudit(api, appId, target);

    // WeChat decides right after telling the cancel the audit is under review: the withdrawal meets 87012.
    let decided = false;
    const tap = await startWireTap(world.p.sim.baseUrl, {
      after: async (exchange) => {
        if (!decided && exchange.path === '/wxa/get_latest_auditstatus') {
          decided = true;
          await approvedSilently(target);
        }
        return 'relay';
      },
    });
    const instance = servicesWithClock({ ...world.p.env, WECHAT_API_BASE: tap.url }, Date.now());
    try {
      const cancelled = await cancelDeployment(instance.services, accountIdSchema.parse(built.accountId), built.id, { kind: 'account' });
      expect(cancelled.state).toBe('cancelled');
    } finally {
      await instance.close();
      await tap.close();
    }
    const undone = tap.exchanges
      .filter((e) => e.path === '/wxa/undocodeaudit')
      .map((e) => JSON.parse(e.responseBody.toString('utf8')) as unknown);
    expect(undone).toEqual([expect.objectContaining({ errcode: 87012 })]);
    const [audit] = auditsAtWeChat(target);
    expect(audit?.status).toBe(0);
    // The audit is named in its closing entry, so no later deployment takes it for its own; no undo was spent.
    expect((await stored(built.id)).history.at(-1)).toMatchObject({ to: 'cancelled', auditId: audit?.auditid });
    expect(world.p.sim.miniProgram(target)?.undo.today).toBe(0);
  });

  it('adopts the decision when asked to withdraw an audit WeChat approved with its push lost, and says it is not in review any more', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const d = await submitted(api, (await build(api, appId, '1.0.0')).id);
    await approvedSilently(target);

    const refused = await api.post(`/v1/deployments/${d.id}/undo`);
    expect(refused.status).toBe(409);
    expect(errorIn(refused.body).code).toBe('DEPLOYMENT_NOT_IN_REVIEW');
    expect(await stored(d.id)).toMatchObject({ state: 'approved', audit: { auditId: auditsAtWeChat(target)[0]?.auditid } });
    await releaseIt(api, d.id);
    expect(liveVersion(target)).toBe('1.0.0');
  });
});

describe('a rollback WeChat refuses (87012)', () => {
  it('answers a rollback of a first release, and a second rollback, with codes of their own, and allows one again after a new release', async () => {
    const { api, appId, target } = await readyApp(world.p);
    const first = await released(api, appId, target, '1.0.0');

    const nothingBefore = await api.post(`/v1/deployments/${first.id}/rollback`);
    expect(nothingBefore.status).toBe(409);
    expect(errorIn(nothingBefore.body)).toMatchObject({
      code: 'ROLLBACK_NO_PREVIOUS_VERSION',
      message: expect.stringContaining('no earlier version'),
    });
    expect((await stored(first.id)).state).toBe('released');

    const second = await released(api, appId, target, '1.1.0');
    expect((await requestAction(api, second.id, 'rollback')).state).toBe('rolled-back');
    expect(liveVersion(target)).toBe('1.0.0');

    // The version live again is the first deployment's: rolling it back would be a second rollback.
    const again = await api.post(`/v1/deployments/${first.id}/rollback`);
    expect(again.status).toBe(409);
    expect(errorIn(again.body)).toMatchObject({
      code: 'ROLLBACK_ALREADY_USED',
      message: expect.stringContaining('one rollback per release'),
    });
    expect(liveVersion(target)).toBe('1.0.0');
    expect((await stored(first.id)).state).toBe('released');

    const third = await released(api, appId, target, '1.2.0');
    expect((await requestAction(api, third.id, 'rollback')).state).toBe('rolled-back');
    expect(liveVersion(target)).toBe('1.0.0');
  });
});

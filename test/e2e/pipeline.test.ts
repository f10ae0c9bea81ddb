/**
 * The publishing pipeline end to end, over HTTP through the local runtime and the WeChat simulator: bind, authorize,
 * build, review, publish, unbind — the happy path and each way it can go wrong that issue 4 names.
 */
import * as z from '../../shared/domain/zod';

// The QR's pixels are not what this file checks (a PNG is): the fast stand-in keeps each build, which now also sets
// the privacy guide and the domains, inside its request's time on a loaded machine.
jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

import {
  authorize,
  type Client,
  createAccount,
  createLowcodeApp,
  expectStatus,
  type Platform,
  startPlatform,
} from '../../infra/local/driver';
import { pollDue } from '../../shared/app/deployments';
import { RELEASED_WALK, walkOf } from '../../shared/domain/examples';
import { newMiniProgram, newSubject, readyApp, servicesWithClock } from '../reliability/support';
import { undocumentedAnswers } from '../support/documented-statuses';
import { readDeployment, requestAction, requestBuild } from '../support/e2e';
import { errorIn } from '../support/http';

let p: Platform;
beforeAll(async () => {
  p = await startPlatform();
});
afterAll(() => p.close());
// Every answer of the walk is one the OpenAPI document lists for its route.
afterEach(async () => expect(await undocumentedAnswers(p)).toEqual([]));

const LIVE_PLUGIN = 'wx2b03c6e691cd7370';

const build = (api: Client, appId: string, version = '1.0.0') =>
  requestBuild(api, appId, { userVersion: version, userDesc: `release ${version}`, testers: ['tester001'] });

/** A ready app of a new account, built and sent to review (the submit's answer is not what these tests look at). */
async function builtAndSubmitted() {
  const ready = await readyApp(p);
  const built = await build(ready.api, ready.appId);
  await ready.api.post(`/v1/deployments/${built.id}/submit`);
  return { ...ready, built };
}

describe('publishing pipeline, end to end', () => {
  it('walks the happy path: bind → authorize → build → submit → approve → release → unbind', async () => {
    const { api, appId, target } = await readyApp(p);
    const built = await build(api, appId);
    expect(built.state).toBe('built');
    expect(built.qrAssetId).toMatch(/^ast_/);
    const qr = await api.get(`/v1/deployments/${built.id}/qrcode`);
    expect(qr.status).toBe(200);
    // The experience QR as WeChat sends it: a JPEG.
    expect(qr.headers.get('content-type')).toBe('image/jpeg');
    expect((qr.body as Buffer).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    const submitted = await requestAction(api, built.id, 'submit');
    expect(submitted.state).toBe('auditing');
    await p.sim.decideAudit(target, 'approve');
    expect((await readDeployment(api, built.id)).state).toBe('approved');

    const released = await requestAction(api, built.id, 'release');
    expect(released.state).toBe('released');
    expect(walkOf(released.history)).toEqual(RELEASED_WALK);

    const unbound = expectStatus(await api.post(`/v1/mini-programs/${target}/unbind`, {}), 200).body;
    expect(unbound).toMatchObject({ appid: target, voided: 0, wasPrimary: false, warning: null });
    const app = z
      .object({ miniProgramAppid: z.nullable(z.string()), linkLostReason: z.nullable(z.object({ reason: z.string() })) })
      .parse(expectStatus(await api.get(`/v1/apps/${appId}`), 200).body);
    expect(app).toMatchObject({ miniProgramAppid: null, linkLostReason: { reason: 'unbound' } });
    // The released deployment keeps its history after the unbind.
    expect((await readDeployment(api, built.id)).history.length).toBe(released.history.length);
  });

  it('refuses a target mini program of a different subject, and says why', async () => {
    const company = newSubject();
    const { api } = await createAccount(p, company);
    await authorize(p, api, 'bind-primary', newMiniProgram(p.sim, company));
    const appId = await createLowcodeApp(api);
    const outcome = await authorize(p, api, 'authorize-app', newMiniProgram(p.sim, '另一家公司'), appId);
    expect(outcome.status).toBe(403);
    expect(outcome.result).toMatchObject({ ok: false, code: 'SUBJECT_MISMATCH' });
  });

  it('refuses to authorize an app before the primary mini program is bound', async () => {
    const { api } = await createAccount(p, newSubject());
    const appId = await createLowcodeApp(api);
    const reply = await api.post('/v1/authorizations', { purpose: 'authorize-app', appId });
    expect(reply.status).toBe(403);
    expect(errorIn(reply.body).code).toBe('PRIMARY_NOT_BOUND');
  });

  it('refuses a build whose plugin the mini program has not added, naming the plugin', async () => {
    const { api, appId } = await readyApp(p, {
      createApp: (api) => createLowcodeApp(api, 'Shop', [{ appId: LIVE_PLUGIN, alias: 'livePlayer', version: '1.2.0', name: '直播组件' }]),
      target: { plugins: [{ appId: LIVE_PLUGIN, status: 1 }] },
    });
    const reply = await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.0' });
    expect(reply.status).toBe(409);
    const error = errorIn(reply.body);
    expect(error.code).toBe('PLUGIN_MISSING');
    expect(error.message).toContain('直播组件');
  });

  it('shows a rejection with its reason, and resubmits once it is fixed', async () => {
    const { api, target, built } = await builtAndSubmitted();
    await p.sim.decideAudit(target, 'reject', { reason: '1:小程序名称与内容不符', screenshots: ['media1', 'media2'] });
    const rejected = await readDeployment(api, built.id);
    expect(rejected.state).toBe('rejected');
    expect(rejected.audit).toMatchObject({ reason: '1:小程序名称与内容不符', screenshots: ['media1', 'media2'] });
    const firstAudit = rejected.audit?.auditId;

    const resubmitted = await requestAction(api, built.id, 'submit');
    expect(resubmitted.state).toBe('auditing');
    expect(resubmitted.audit?.auditId).not.toBe(firstAudit);
    await p.sim.decideAudit(target, 'approve');
    expect((await readDeployment(api, built.id)).state).toBe('approved');
  });

  it("serves a rejection's screenshots from WeChat, to the deployment's account only", async () => {
    const { api, target, built } = await builtAndSubmitted();
    // No ids given: the simulator hands out its own, which its get_material serves.
    await p.sim.decideAudit(target, 'reject', { reason: '1:小程序名称与内容不符' });
    const [mediaId] = (await readDeployment(api, built.id)).audit?.screenshots ?? [];
    expect(mediaId).toEqual(expect.any(String));
    const shot = await api.get(`/v1/deployments/${built.id}/screenshots/${mediaId}`);
    expect(shot.status).toBe(200);
    expect(shot.headers.get('content-type')).toBe('image/jpeg');
    expect(shot.headers.get('cache-control')).toMatch(/^private/);
    expect((shot.body as Buffer).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    const stranger = (await createAccount(p, newSubject())).api;
    const elsewhere = await stranger.get(`/v1/deployments/${built.id}/screenshots/${mediaId}`);
    expect(elsewhere.status).toBe(404);
    expect(errorIn(elsewhere.body).code).toBe('DEPLOYMENT_NOT_FOUND');
    const notRecorded = await api.get(`/v1/deployments/${built.id}/screenshots/media_not_on_it`);
    expect(notRecorded.status).toBe(404);
    expect(errorIn(notRecorded.body)).toMatchObject({ code: 'SCREENSHOT_NOT_FOUND', field: 'mediaId' });
    // A recorded id WeChat no longer serves (40007 invalid media_id) is gone for the reader too, not a server error.
    p.sim.scriptFault({ path: '/cgi-bin/material/get_material', appId: target, errcode: 40007 });
    const gone = await api.get(`/v1/deployments/${built.id}/screenshots/${mediaId}`);
    expect(gone.status).toBe(404);
    expect(errorIn(gone.body).code).toBe('SCREENSHOT_NOT_FOUND');
  });

  it('refuses a release before approval', async () => {
    const { api, appId } = await readyApp(p);
    const built = await build(api, appId);
    const early = await api.post(`/v1/deployments/${built.id}/release`);
    expect(early.status).toBe(409);
    expect(errorIn(early.body).code).toBe('DEPLOYMENT_NOT_APPROVED');
    await api.post(`/v1/deployments/${built.id}/submit`);
    expect(errorIn((await api.post(`/v1/deployments/${built.id}/release`)).body).code).toBe('DEPLOYMENT_NOT_APPROVED');
  });

  it('voids the audit when the mini program is unbound while auditing', async () => {
    const { api, target, built } = await builtAndSubmitted();
    const unbound = expectStatus(await api.post(`/v1/mini-programs/${target}/unbind`, {}), 200).body;
    expect(unbound).toMatchObject({ voided: 1 });
    expect((await readDeployment(api, built.id)).state).toBe('voided');
    expect(p.sim.miniProgram(target)?.audits.at(-1)?.status).toBe(3); // withdrawn at WeChat too
  });

  it('voids the in-flight deployment when the admin revokes the platform mid-audit', async () => {
    const { api, target, built } = await builtAndSubmitted();
    await p.sim.revokeAuthorization(target);
    const voided = await readDeployment(api, built.id);
    expect(voided.state).toBe('voided');
    expect(voided.stateReason).toMatch(/revoked/);
    const mp = z.object({ status: z.string() }).parse(expectStatus(await api.get(`/v1/mini-programs/${target}`), 200).body);
    expect(mp.status).toBe('unauthorized');
  });

  it('lets the latest authorization win, and tells the app that lost its mini program why', async () => {
    const { api, appId: firstApp, target } = await readyApp(p);
    const secondApp = await createLowcodeApp(api, 'Second');
    expect((await authorize(p, api, 'authorize-app', target, secondApp)).result.ok).toBe(true);
    const loser = z
      .object({
        miniProgramAppid: z.nullable(z.string()),
        linkLostReason: z.nullable(z.object({ reason: z.string(), message: z.string() })),
      })
      .parse(expectStatus(await api.get(`/v1/apps/${firstApp}`), 200).body);
    expect(loser.miniProgramAppid).toBeNull();
    expect(loser.linkLostReason?.reason).toBe('superseded');
    expect(loser.linkLostReason?.message).toContain(secondApp);
    const winner = z
      .object({ miniProgramAppid: z.nullable(z.string()) })
      .parse(expectStatus(await api.get(`/v1/apps/${secondApp}`), 200).body);
    expect(winner.miniProgramAppid).toBe(target);
  });

  it('handles duplicated and out-of-order audit events without doubling history', async () => {
    const { api, target, built } = await builtAndSubmitted();
    p.sim.setFaults({ duplicatePushRate: 1 });
    try {
      await p.sim.decideAudit(target, 'delay', { reason: '审核排队中' });
      await p.sim.decideAudit(target, 'approve');
    } finally {
      p.sim.setFaults({ duplicatePushRate: 0 });
    }
    const approved = await readDeployment(api, built.id);
    expect(approved.state).toBe('approved');
    expect(approved.history.filter((h) => h.to === 'approved')).toHaveLength(1);
    // A late delay for the already-decided audit changes nothing.
    await p.sim.decideAudit(target, 'delay', { reason: 'late' }).catch(() => undefined);
    expect((await readDeployment(api, built.id)).history.length).toBe(approved.history.length);
  });

  it('makes exactly one release call at WeChat for two concurrent publishes', async () => {
    const { api, target, built } = await builtAndSubmitted();
    await p.sim.decideAudit(target, 'approve');
    p.sim.resetCounters();
    const [a, b] = await Promise.all([api.post(`/v1/deployments/${built.id}/release`), api.post(`/v1/deployments/${built.id}/release`)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(p.sim.counters()['/wxa/release']).toBe(1);
    expect((await readDeployment(api, built.id)).state).toBe('released');
  });

  it('reconciles an audit result WeChat never pushed, through the poller', async () => {
    const { api, target, built } = await builtAndSubmitted();
    p.sim.setFaults({ dropPushRate: 1 });
    try {
      await p.sim.decideAudit(target, 'approve');
    } finally {
      p.sim.setFaults({ dropPushRate: 0 });
    }
    expect((await readDeployment(api, built.id)).state).toBe('auditing');
    // The timer fires on time, but the first poll of an audit is not due for two minutes: nothing changes yet.
    await p.pollNow();
    expect((await readDeployment(api, built.id)).state).toBe('auditing');
    // A poller instance ten minutes later (same database, same WeChat) finds it due and reconciles it.
    const later = servicesWithClock(process.env, Date.now() + 10 * 60_000);
    try {
      const summary = await pollDue(later.services, { budgetMs: 30_000 });
      expect(summary).toMatchObject({ errors: 0 });
      expect(summary.changed).toBeGreaterThanOrEqual(1);
    } finally {
      await later.close();
    }
    const reconciled = await readDeployment(api, built.id);
    expect(reconciled.state).toBe('approved');
    expect(reconciled.history.at(-1)?.actor.kind).toBe('wechat');
  });

  it('asks for force before unbinding the primary, then blocks publishing for the account', async () => {
    const { api, appId, primary, target } = await readyApp(p);
    const refused = await api.post(`/v1/mini-programs/${primary}/unbind`, {});
    expect(refused.status).toBe(409);
    expect(errorIn(refused.body).code).toBe('PRIMARY_UNBIND_NEEDS_FORCE');
    const forced = expectStatus(await api.post(`/v1/mini-programs/${primary}/unbind`, { force: true }), 200).body;
    expect(forced).toMatchObject({ wasPrimary: true, warning: expect.stringContaining('cannot publish') });
    const blocked = await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.1' });
    expect(blocked.status).toBe(403);
    expect(errorIn(blocked.body).code).toBe('PRIMARY_NOT_BOUND');
    expect(target).toMatch(/^wx/);
  });
});

/**
 * The account's primary mini program over HTTP, through the local runtime and the WeChat simulator: what a mini
 * program is to its account (roles), changing the primary, and another account taking a mini program.
 */

import { authorize, type Client, createAccount, createLowcodeApp, expectStatus, scanAndReturn } from '../../infra/local/driver';
import * as z from '../../shared/domain/zod';
import { newMiniProgram as newMiniProgramOf, readyApp } from '../reliability/support';
import { errorOf, platformForFile } from './support';

const world = platformForFile();

const SUBJECT = '测试科技有限公司';
const miniProgramReply = z.object({ appid: z.string(), roles: z.array(z.string()), linkedAppId: z.nullable(z.string()) });
const listReply = z.object({ miniPrograms: z.array(miniProgramReply) });

/** A mini program of `subject` known to the simulator. */
const newMiniProgram = (subject = SUBJECT): string => newMiniProgramOf(world.p.sim, subject);

async function rolesOf(api: Client): Promise<Record<string, string[]>> {
  const { miniPrograms } = listReply.parse(expectStatus(await api.get('/v1/mini-programs'), 200).body);
  return Object.fromEntries(miniPrograms.map((mp) => [mp.appid, mp.roles]));
}

describe('roles', () => {
  it('a primary authorized to an app (WeDa steps 1 and 2 with one mini program) is both, and unbinding it needs force', async () => {
    const { api } = await createAccount(world.p, 'Roles A');
    const appid = newMiniProgram();
    expect((await authorize(world.p, api, 'bind-primary', appid)).result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });
    const appId = await createLowcodeApp(api);
    expect((await authorize(world.p, api, 'authorize-app', appid, appId)).result).toMatchObject({
      ok: true,
      code: 'MINI_PROGRAM_AUTHORIZED',
    });

    expect(await rolesOf(api)).toEqual({ [appid]: ['primary', 'target'] });
    const one = miniProgramReply.parse(expectStatus(await api.get(`/v1/mini-programs/${appid}`), 200).body);
    expect(one).toMatchObject({ roles: ['primary', 'target'], linkedAppId: appId });

    const unbind = await api.post(`/v1/mini-programs/${appid}/unbind`, {});
    expect(unbind.status).toBe(409);
    expect(errorOf(unbind).code).toBe('PRIMARY_UNBIND_NEEDS_FORCE');

    expectStatus(await api.post(`/v1/mini-programs/${appid}/unbind`, { force: true }), 200);
    const account = accountReply.parse(expectStatus(await api.get('/v1/account'), 200).body);
    expect(account).toMatchObject({ canPublish: false, publishBlockedCode: 'PRIMARY_UNBOUND' });
  });

  it('after the primary moves to another mini program, the old one is only its app’s target and unbinds without force', async () => {
    const { api } = await createAccount(world.p, 'Roles B');
    const first = newMiniProgram();
    const second = newMiniProgram();
    await authorize(world.p, api, 'bind-primary', first);
    const appId = await createLowcodeApp(api);
    await authorize(world.p, api, 'authorize-app', first, appId);
    expect((await authorize(world.p, api, 'bind-primary', second)).result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });

    expect(await rolesOf(api)).toEqual({ [first]: ['target'], [second]: ['primary'] });
    const unbind = expectStatus(await api.post(`/v1/mini-programs/${first}/unbind`, {}), 200);
    expect(unbind.body).toMatchObject({ wasPrimary: false, warning: null });
    expect(await rolesOf(api)).toEqual({ [first]: [], [second]: ['primary'] });
  });

  it('an app’s mini program bound as the primary afterwards is told at once that the primary’s scan left it without set 18', async () => {
    const { api } = await createAccount(world.p, 'Roles C');
    const appid = newMiniProgram();
    await authorize(world.p, api, 'bind-primary', newMiniProgram());
    const appId = await createLowcodeApp(api);
    expect((await authorize(world.p, api, 'authorize-app', appid, appId)).result).toMatchObject({
      ok: true,
      code: 'MINI_PROGRAM_AUTHORIZED',
    });
    const rebound = await authorize(world.p, api, 'bind-primary', appid);
    expect(rebound.result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });
    expect(rebound.result.message).toContain(`app ${appId}`);
    expect(rebound.result.message).toContain('18 (');
    const view = z
      .object({ missingPermissionSets: z.array(z.object({ id: z.number() })) })
      .parse(expectStatus(await api.get(`/v1/mini-programs/${appid}`), 200).body);
    expect(view.missingPermissionSets.map((set) => set.id)).toEqual([18]);
  });
});

const accountReply = z.object({
  primaryStatus: z.string(),
  canPublish: z.boolean(),
  publishBlockedReason: z.nullable(z.string()),
  publishBlockedCode: z.nullable(z.string()),
  history: z.array(z.object({ event: z.string(), miniProgramAppid: z.string(), message: z.string() })),
});
const appReply = z.object({
  miniProgramAppid: z.nullable(z.string()),
  linkLostReason: z.nullable(z.object({ reason: z.string(), message: z.string() })),
});

describe('another account takes a mini program', () => {
  it('bound as another account’s primary: the first account is told so, in its app and in its history', async () => {
    const first = await readyApp(world.p, { subject: SUBJECT });
    const second = await createAccount(world.p, 'Taken B');
    const { primary, target, appId } = first;

    expect((await authorize(world.p, second.api, 'bind-primary', target)).result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });

    expect(await rolesOf(first.api)).toEqual({ [primary]: ['primary'] });
    expect(await rolesOf(second.api)).toEqual({ [target]: ['primary'] });
    const app = appReply.parse(expectStatus(await first.api.get(`/v1/apps/${appId}`), 200).body);
    expect(app.miniProgramAppid).toBeNull();
    expect(app.linkLostReason?.message).toContain(`${target} was bound as the primary mini program of another account`);
    expect(app.linkLostReason?.message).not.toContain('authorized to an app');
    const account = accountReply.parse(expectStatus(await first.api.get('/v1/account'), 200).body);
    expect(account).toMatchObject({ primaryStatus: 'bound', canPublish: true });
    expect(account.history.at(-1)).toMatchObject({ event: 'mini-program-taken', miniProgramAppid: target });
    expect(account.history.at(-1)?.message).toContain('bound as the primary mini program of another account');
  });

  it('the first account’s primary taken: its primary is unbound, publishing blocked, and its history says why', async () => {
    const first = await createAccount(world.p, 'Taken C');
    const second = await createAccount(world.p, 'Taken D');
    const primary = newMiniProgram();
    await authorize(world.p, first.api, 'bind-primary', primary);
    const appId = await createLowcodeApp(second.api);
    await authorize(world.p, second.api, 'bind-primary', newMiniProgram());

    expect((await authorize(world.p, second.api, 'authorize-app', primary, appId)).result).toMatchObject({ ok: true });

    expect(await rolesOf(first.api)).toEqual({});
    const account = accountReply.parse(expectStatus(await first.api.get('/v1/account'), 200).body);
    expect(account).toMatchObject({ primaryStatus: 'unbound', canPublish: false });
    expect(account.history.map((e) => e.event)).toEqual(['primary-bound', 'mini-program-taken']);
    expect(account.history.at(-1)?.message).toContain(`${primary} was authorized to an app of another account`);
    expect(account.history.at(-1)?.message).toContain("It was this account's primary mini program");
    expect(account.publishBlockedReason).toContain(`${primary} was authorized to an app of another account`);
    expect(account.publishBlockedCode).toBe('PRIMARY_TAKEN');
  });
});

describe('changing the primary to another subject', () => {
  const OTHER = '另一家科技有限公司';
  const urlReply = z.object({ url: z.string() });
  const deploymentReply = z.object({ id: z.string(), state: z.string(), stateReason: z.nullable(z.string()) });

  it('needs force, says what it would do, and then blocks the old subject’s mini programs and voids their deployments', async () => {
    const { api, primary, target, appId } = await readyApp(world.p, { subject: SUBJECT });
    // In flight: built, or still building when the request's time ran out (the poller would resume it).
    const built = deploymentReply.parse(expectStatus(await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.0' }), 202).body);
    expect(['building', 'built']).toContain(built.state);

    const elsewhere = newMiniProgram(OTHER);
    const refused = await authorize(world.p, api, 'bind-primary', elsewhere);
    expect(refused.status).toBe(409);
    expect(refused.result).toMatchObject({ ok: false, code: 'PRIMARY_SUBJECT_CHANGE_NEEDS_FORCE' });
    expect(refused.result.message).toContain(`from "${SUBJECT}"`);
    expect(refused.result.message).toContain(target);
    expect(refused.result.message).toContain('force: true');
    // Nothing changed: the same primary, the deployment still open.
    expect(await rolesOf(api)).toEqual({ [primary]: ['primary'], [target]: ['target'] });
    expect(deploymentReply.parse((await api.get(`/v1/deployments/${built.id}`)).body).state).toBe(built.state);

    expect(errorOf(await api.post('/v1/authorizations', { purpose: 'authorize-app', appId, force: true }))).toMatchObject({
      code: 'INVALID_BODY',
      field: 'body.force',
    });
    const { url } = urlReply.parse(expectStatus(await api.post('/v1/authorizations', { purpose: 'bind-primary', force: true }), 201).body);
    expect((await scanAndReturn(world.p, url, elsewhere)).result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });

    expect(await rolesOf(api)).toEqual({ [primary]: [], [target]: ['target'], [elsewhere]: ['primary'] });
    const voided = deploymentReply.parse((await api.get(`/v1/deployments/${built.id}`)).body);
    expect(voided.state).toBe('voided');
    expect(voided.stateReason).toContain(`only mini programs of "${OTHER}" can publish`);
    const blocked = await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.1' });
    expect(blocked.status).toBe(403);
    expect(errorOf(blocked).code).toBe('SUBJECT_MISMATCH');
    const account = accountReply.parse(expectStatus(await api.get('/v1/account'), 200).body);
    expect(account.history.at(-1)).toMatchObject({ event: 'primary-bound', miniProgramAppid: elsewhere });
    expect(account.history.at(-1)?.message).toContain(`the account's subject changed from "${SUBJECT}"`);
  });
});

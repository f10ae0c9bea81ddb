/**
 * The account's primary mini program over HTTP, through the local runtime and the WeChat simulator: what a mini
 * program is to its account (roles), changing the primary, and another account taking a mini program.
 */
import { z } from 'zod';
import { authorize, createAccount, createLowcodeApp, expectStatus, type Client, type Platform } from '../../infra/local/driver';
import { errorOf, startApiPlatform, uniqueAppid } from './support';

let p: Platform;
beforeAll(async () => {
  p = await startApiPlatform();
});
afterAll(() => p.close());

const SUBJECT = '测试科技有限公司';
const miniProgramReply = z.object({ appid: z.string(), roles: z.array(z.string()), linkedAppId: z.string().nullable() });
const listReply = z.object({ miniPrograms: z.array(miniProgramReply) });

/** A mini program of `subject` known to the simulator. */
function newMiniProgram(subject = SUBJECT): string {
  const appid = uniqueAppid();
  p.sim.addMiniProgram({ appId: appid, nickName: `小程序${appid.slice(-4)}`, principalName: subject });
  return appid;
}

async function rolesOf(api: Client): Promise<Record<string, string[]>> {
  const { miniPrograms } = listReply.parse(expectStatus(await api.get('/v1/mini-programs'), 200).body);
  return Object.fromEntries(miniPrograms.map((mp) => [mp.appid, mp.roles]));
}

describe('roles', () => {
  it('a primary authorized to an app (WeDa steps 1 and 2 with one mini program) is both, and unbinding it needs force', async () => {
    const { api } = await createAccount(p, 'Roles A');
    const appid = newMiniProgram();
    expect((await authorize(p, api, 'bind-primary', appid)).result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });
    const appId = await createLowcodeApp(api);
    expect((await authorize(p, api, 'authorize-app', appid, appId)).result).toMatchObject({ ok: true, code: 'MINI_PROGRAM_AUTHORIZED' });

    expect(await rolesOf(api)).toEqual({ [appid]: ['primary', 'target'] });
    const one = miniProgramReply.parse(expectStatus(await api.get(`/v1/mini-programs/${appid}`), 200).body);
    expect(one).toMatchObject({ roles: ['primary', 'target'], linkedAppId: appId });

    const unbind = await api.post(`/v1/mini-programs/${appid}/unbind`, {});
    expect(unbind.status).toBe(409);
    expect(errorOf(unbind).code).toBe('PRIMARY_UNBIND_NEEDS_FORCE');
  });

  it('after the primary moves to another mini program, the old one is only its app’s target and unbinds without force', async () => {
    const { api } = await createAccount(p, 'Roles B');
    const first = newMiniProgram();
    const second = newMiniProgram();
    await authorize(p, api, 'bind-primary', first);
    const appId = await createLowcodeApp(api);
    await authorize(p, api, 'authorize-app', first, appId);
    expect((await authorize(p, api, 'bind-primary', second)).result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });

    expect(await rolesOf(api)).toEqual({ [first]: ['target'], [second]: ['primary'] });
    const unbind = expectStatus(await api.post(`/v1/mini-programs/${first}/unbind`, {}), 200);
    expect(unbind.body).toMatchObject({ wasPrimary: false, warning: null });
    expect(await rolesOf(api)).toEqual({ [first]: [], [second]: ['primary'] });
  });
});

/**
 * Tickets, component tokens, pre-auth and auth codes, authorizer tokens and refresh-token rotation, and the
 * authorization page — over real sockets, time driven by the `now` option.
 */
import * as z from '../../shared/domain/zod';
import {
  authorize,
  Clock,
  COMPONENT,
  componentToken,
  DAY,
  errcodeOf,
  HOUR,
  MINUTE,
  preAuthCode,
  startSim,
  str,
  wxCall,
  wxGet,
  wxPost,
} from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9a01';
const MP2 = 'wx8a6f3c2d1e0b9a02';

let sim: WeChatSimulator;
let clock: Clock;

beforeEach(async () => {
  clock = new Clock();
  sim = await startSim({ now: clock.now });
  sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' });
  sim.addMiniProgram({ appId: MP2, nickName: 'Acme Cam', principalName: 'Acme Ltd' });
});

afterEach(async () => {
  await sim.close();
});

const tokenBody = (ticket: string) => ({
  component_appid: COMPONENT.appId,
  component_appsecret: COMPONENT.secret,
  component_verify_ticket: ticket,
});
const createPreAuth = (cat: string, name = 'component_access_token') =>
  wxPost(sim, `/cgi-bin/component/api_create_preauthcode?${name}=${cat}`, { component_appid: COMPONENT.appId });
const refresh = (cat: string, appId: string, refreshToken: string) =>
  wxPost(sim, `/cgi-bin/component/api_authorizer_token?component_access_token=${cat}`, {
    component_appid: COMPONENT.appId,
    authorizer_appid: appId,
    authorizer_refresh_token: refreshToken,
  });
const queryAuth = (cat: string, code: string) =>
  wxPost(sim, `/cgi-bin/component/api_query_auth?component_access_token=${cat}`, {
    component_appid: COMPONENT.appId,
    authorization_code: code,
  });

describe('component_verify_ticket and api_component_token', () => {
  it('issues a 7200 s token for the latest ticket, without errcode, with realistic shapes', async () => {
    const ticket = await sim.pushVerifyTicket();
    expect(ticket).toMatch(/^ticket@@@[\w-]{43,}$/);
    const answer = await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(ticket));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json; encoding=utf-8');
    expect(answer.body.errcode).toBeUndefined();
    expect(answer.body.expires_in).toBe(7200);
    expect(str(answer.body.component_access_token).length).toBeGreaterThan(40);
  });

  it('accepts the previous ticket too, but not older ones (61005) nor unknown or empty ones (61006)', async () => {
    const first = await sim.pushVerifyTicket();
    const second = await sim.pushVerifyTicket();
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(first)))).toBe(0);
    await sim.pushVerifyTicket();
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(second)))).toBe(0);
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(first)))).toBe(61005);
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody('ticket@@@nope')))).toBe(61006);
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody('')))).toBe(61006);
  });

  it('expires a ticket after 12 hours (61005)', async () => {
    const ticket = await sim.pushVerifyTicket();
    clock.advance(12 * HOUR);
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(ticket)))).toBe(0);
    clock.advance(1);
    const answer = await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(ticket));
    expect(answer.body).toMatchObject({ errcode: 61005 });
    expect(str(answer.body.errmsg)).toMatch(/^component ticket is expired rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
  });

  it('checks appid and secret (40013, 40125, 41004)', async () => {
    const ticket = await sim.pushVerifyTicket();
    expect(
      errcodeOf(
        await wxPost(sim, '/cgi-bin/component/api_component_token', { ...tokenBody(ticket), component_appid: 'wx0000000000000000' }),
      ),
    ).toBe(40013);
    expect(
      errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', { ...tokenBody(ticket), component_appsecret: 'wrong' })),
    ).toBe(40125);
    expect(
      errcodeOf(
        await wxPost(sim, '/cgi-bin/component/api_component_token', { component_appid: COMPONENT.appId, component_verify_ticket: ticket }),
      ),
    ).toBe(41004);
  });

  it('enforces the daily quota (45009) and resets it at midnight China time', async () => {
    sim.setQuota({ componentTokenDaily: 2 });
    const ticket = await sim.pushVerifyTicket();
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(ticket)))).toBe(0);
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(ticket)))).toBe(0);
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(ticket)))).toBe(45009);
    // T0 is 10:00 in China: 14 h later is the next day there.
    clock.advance(14 * HOUR);
    const fresh = await sim.pushVerifyTicket();
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(fresh)))).toBe(0);
  });

  it('api_start_push_ticket checks the credentials and issues a new ticket', async () => {
    expect(
      errcodeOf(
        await wxPost(sim, '/cgi-bin/component/api_start_push_ticket', { component_appid: COMPONENT.appId, component_secret: 'bad' }),
      ),
    ).toBe(40125);
    const answer = await wxPost(sim, '/cgi-bin/component/api_start_push_ticket', {
      component_appid: COMPONENT.appId,
      component_secret: COMPONENT.secret,
    });
    expect(answer.body).toMatchObject({ errcode: 0, errmsg: 'ok' });
    await sim.pushesSettled();
    const ticketPush = sim.pushLog().find((e) => e.label === 'component_verify_ticket');
    expect(ticketPush?.outcome).toBe('skipped'); // no URL configured here; delivery is covered in pushes.test.ts
  });
});

describe('component access token lifecycle', () => {
  it('keeps the previous token valid for 5 minutes after a new one is issued, then 40001', async () => {
    const ticket = await sim.pushVerifyTicket();
    const old = await componentToken(sim, ticket);
    const fresh = await componentToken(sim, ticket);
    expect(fresh).not.toBe(old);
    clock.advance(5 * MINUTE - 1);
    expect(errcodeOf(await createPreAuth(old))).toBe(0);
    clock.advance(1);
    expect(errcodeOf(await createPreAuth(old))).toBe(40001);
    expect(errcodeOf(await createPreAuth(fresh))).toBe(0);
  });

  it('expires after tokenTtlSeconds (42001) and on expireTokens', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    clock.advance(7200 * 1000 - 1);
    expect(errcodeOf(await createPreAuth(cat))).toBe(0);
    clock.advance(1);
    expect(errcodeOf(await createPreAuth(cat))).toBe(42001);

    const next = await componentToken(sim, await sim.pushVerifyTicket());
    sim.expireTokens('component');
    expect(errcodeOf(await createPreAuth(next))).toBe(42001);
  });

  it('honours a custom tokenTtlSeconds', async () => {
    await sim.close();
    sim = await startSim({ now: clock.now, tokenTtlSeconds: 60 });
    const answer = await wxPost(sim, '/cgi-bin/component/api_component_token', tokenBody(await sim.pushVerifyTicket()));
    expect(answer.body.expires_in).toBe(60);
    clock.advance(60_000);
    expect(errcodeOf(await createPreAuth(str(answer.body.component_access_token)))).toBe(42001);
  });

  it('accepts both component_access_token and access_token, and rejects missing or unknown tokens', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    expect(errcodeOf(await createPreAuth(cat, 'access_token'))).toBe(0);
    expect(errcodeOf(await createPreAuth(cat, 'component_access_token'))).toBe(0);
    expect(errcodeOf(await wxPost(sim, '/cgi-bin/component/api_create_preauthcode', { component_appid: COMPONENT.appId }))).toBe(41001);
    expect(errcodeOf(await createPreAuth('91_not-a-token'))).toBe(40001);
  });

  it('rejects an authorizer token on component APIs (61014) and a component token on /wxa (40001)', async () => {
    const { cat, aat } = await authorize(sim, MP);
    expect(errcodeOf(await createPreAuth(aat))).toBe(61014);
    expect(errcodeOf(await wxGet(sim, `/wxa/gettemplatelist?access_token=${aat}`))).toBe(61014);
    expect(errcodeOf(await wxGet(sim, `/wxa/get_category?access_token=${cat}`))).toBe(40001);
  });

  it('requires GET for gettemplatelist (43001) and POST for component APIs (43002)', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    sim.addTemplate({ templateId: 7, userVersion: '1.0.0', userDesc: 'tpl' });
    expect(errcodeOf(await wxPost(sim, `/wxa/gettemplatelist?access_token=${cat}`))).toBe(43001);
    expect(errcodeOf(await wxGet(sim, `/cgi-bin/component/api_create_preauthcode?component_access_token=${cat}`))).toBe(43002);
    const list = await wxGet(sim, `/wxa/gettemplatelist?access_token=${cat}`);
    expect(list.body).toMatchObject({ errcode: 0, template_list: [{ template_id: 7, user_version: '1.0.0', user_desc: 'tpl' }] });
  });

  it('lists each template with its source development mini program and create_time: versions of one code line share the source', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    const line = 'wxdev0000000000001';
    sim.addTemplate({
      templateId: 30,
      userVersion: '1.0.0',
      userDesc: 'first',
      sourceMiniProgramAppid: line,
      createdAt: Date.UTC(2025, 0, 1),
    });
    sim.addTemplate({
      templateId: 31,
      userVersion: '1.1.0',
      userDesc: 'second',
      sourceMiniProgramAppid: line,
      createdAt: Date.UTC(2025, 0, 2),
    });
    sim.addTemplate({ templateId: 32, userVersion: '9.0.0', userDesc: 'another line' });
    const list = z.object({
      template_list: z.array(
        z.object({ template_id: z.number(), source_miniprogram_appid: z.string(), create_time: z.number(), template_type: z.number() }),
      ),
    });
    const byId = new Map(
      list.parse((await wxGet(sim, `/wxa/gettemplatelist?access_token=${cat}`)).body).template_list.map((t) => [t.template_id, t]),
    );
    expect(byId.get(30)).toMatchObject({ source_miniprogram_appid: line, create_time: Date.UTC(2025, 0, 1) / 1000, template_type: 0 });
    expect(byId.get(31)).toMatchObject({ source_miniprogram_appid: line, create_time: Date.UTC(2025, 0, 2) / 1000 });
    expect(byId.get(32)?.source_miniprogram_appid).not.toBe(line);
  });
});

describe('pre-auth codes and authorization codes', () => {
  it('creates preauthcode@@@ codes valid 600 s and single use', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    const answer = await createPreAuth(cat);
    expect(answer.body.expires_in).toBe(600);
    const code = str(answer.body.pre_auth_code);
    expect(code).toMatch(/^preauthcode@@@/);
    const { authCode, redirectUrl } = await sim.scanAuthorization({
      preAuthCode: code,
      appId: MP,
      redirectUri: 'https://ops.example.com/wx/cb?tenant=7',
    });
    expect(authCode).toMatch(/^queryauthcode@@@/);
    expect(redirectUrl).toBe(`https://ops.example.com/wx/cb?tenant=7&auth_code=${encodeURIComponent(authCode)}&expires_in=600`);
    await expect(sim.scanAuthorization({ preAuthCode: code, appId: MP })).rejects.toMatchObject({ code: 'PRE_AUTH_CODE_USED' });
  });

  it('rejects an expired pre-auth code and an unknown one', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    const code = await preAuthCode(sim, cat);
    clock.advance(600_000);
    await expect(sim.scanAuthorization({ preAuthCode: code, appId: MP })).rejects.toMatchObject({ code: 'PRE_AUTH_CODE_EXPIRED' });
    await expect(sim.scanAuthorization({ preAuthCode: 'preauthcode@@@x', appId: MP })).rejects.toMatchObject({
      code: 'PRE_AUTH_CODE_INVALID',
    });
  });

  it('makes auth codes single use (61009) and expiring (61010)', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    const first = await sim.scanAuthorization({ preAuthCode: await preAuthCode(sim, cat), appId: MP });
    const answer = await queryAuth(cat, first.authCode);
    expect(answer.body.authorization_info).toMatchObject({ authorizer_appid: MP, expires_in: 7200 });
    const info = answer.body.authorization_info as Record<string, unknown>;
    expect(str(info.authorizer_refresh_token)).toMatch(/^refreshtoken@@@/);
    const funcInfo = info.func_info as { funcscope_category: { id: number } }[];
    expect(funcInfo.map((f) => f.funcscope_category.id)).toEqual(expect.arrayContaining([17, 18, 19, 25, 30, 31, 36, 37, 40]));
    expect(errcodeOf(await queryAuth(cat, first.authCode))).toBe(61009);
    expect(errcodeOf(await queryAuth(cat, 'queryauthcode@@@unknown'))).toBe(61009);

    const second = await sim.scanAuthorization({ preAuthCode: await preAuthCode(sim, cat), appId: MP });
    clock.advance(600_000);
    expect(errcodeOf(await queryAuth(cat, second.authCode))).toBe(61010);
  });

  it('records the granted permission sets', async () => {
    const { cat } = await authorize(sim, MP, [18, 40]);
    const info = await wxPost(sim, `/cgi-bin/component/api_get_authorizer_info?component_access_token=${cat}`, {
      component_appid: COMPONENT.appId,
      authorizer_appid: MP,
    });
    expect(info.body).toMatchObject({
      authorizer_info: {
        nick_name: 'Acme Shop',
        principal_name: 'Acme Ltd',
        user_name: expect.stringMatching(/^gh_[0-9a-f]{12}$/),
        MiniProgramInfo: { categories: [{ first: '工具', second: '效率' }] },
      },
      authorization_info: { authorizer_appid: MP, func_info: [{ funcscope_category: { id: 18 } }, { funcscope_category: { id: 40 } }] },
    });
    expect(sim.miniProgram(MP)).toMatchObject({ authorization: 'authorized', funcScopeIds: [18, 40] });
  });

  it('answers 61003 for a mini program that has not authorized', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    const info = await wxPost(sim, `/cgi-bin/component/api_get_authorizer_info?component_access_token=${cat}`, {
      component_appid: COMPONENT.appId,
      authorizer_appid: MP2,
    });
    expect(errcodeOf(info)).toBe(61003);
  });
});

describe('authorizer tokens and refresh-token rotation', () => {
  it('rotates the refresh token on every refresh; the old one works 5 more minutes, then 61023', async () => {
    const { cat, refreshToken } = await authorize(sim, MP);
    const first = await refresh(cat, MP, refreshToken);
    expect(first.body).toMatchObject({ expires_in: 7200 });
    const rotated = str(first.body.authorizer_refresh_token);
    expect(rotated).not.toBe(refreshToken);
    expect(rotated).toMatch(/^refreshtoken@@@/);

    clock.advance(5 * MINUTE - 1);
    expect(errcodeOf(await refresh(cat, MP, refreshToken))).toBe(0);
    clock.advance(1);
    expect(errcodeOf(await refresh(cat, MP, refreshToken))).toBe(61023);
  });

  it('gives the previous authorizer access token a 5-minute grace (40001 after) and expires tokens (42001)', async () => {
    const { cat, aat, refreshToken } = await authorize(sim, MP);
    const next = await refresh(cat, MP, refreshToken);
    const newAat = str(next.body.authorizer_access_token);
    clock.advance(5 * MINUTE - 1);
    expect(errcodeOf(await wxGet(sim, `/wxa/get_category?access_token=${aat}`))).toBe(0);
    clock.advance(1);
    expect(errcodeOf(await wxGet(sim, `/wxa/get_category?access_token=${aat}`))).toBe(40001);
    expect(errcodeOf(await wxGet(sim, `/wxa/get_category?access_token=${newAat}`))).toBe(0);
    sim.expireTokens('authorizer');
    expect(errcodeOf(await wxGet(sim, `/wxa/get_category?access_token=${newAat}`))).toBe(42001);
  });

  it('rejects a refresh token of another mini program, and one invalidated by the control API (61023)', async () => {
    const a = await authorize(sim, MP);
    expect(errcodeOf(await refresh(a.cat, MP2, a.refreshToken))).toBe(61023);
    sim.invalidateRefreshToken(MP);
    expect(errcodeOf(await refresh(a.cat, MP, a.refreshToken))).toBe(61023);
  });

  it('re-authorization invalidates the previous refresh token at once', async () => {
    const first = await authorize(sim, MP);
    const second = await authorize(sim, MP, undefined, first.cat);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(errcodeOf(await refresh(first.cat, MP, first.refreshToken))).toBe(61023);
    expect(errcodeOf(await refresh(first.cat, MP, second.refreshToken))).toBe(0);
  });

  it('revocation kills the refresh token (61023), the access tokens (40001) and hides it from the list', async () => {
    const a = await authorize(sim, MP);
    await authorize(sim, MP2, undefined, a.cat);
    const list = await wxPost(sim, `/cgi-bin/component/api_get_authorizer_list?component_access_token=${a.cat}`, {
      component_appid: COMPONENT.appId,
      offset: 0,
      count: 100,
    });
    expect(list.body).toMatchObject({ total_count: 2 });

    await sim.revokeAuthorization(MP);
    expect(errcodeOf(await refresh(a.cat, MP, a.refreshToken))).toBe(61023);
    expect(errcodeOf(await wxGet(sim, `/wxa/get_category?access_token=${a.aat}`))).toBe(40001);
    const after = await wxPost(sim, `/cgi-bin/component/api_get_authorizer_list?component_access_token=${a.cat}`, {
      component_appid: COMPONENT.appId,
      offset: 0,
      count: 100,
    });
    expect(after.body).toMatchObject({
      total_count: 1,
      list: [{ authorizer_appid: MP2, refresh_token: expect.stringMatching(/^refreshtoken@@@/) }],
    });
    expect(
      errcodeOf(
        await wxPost(sim, `/cgi-bin/component/api_get_authorizer_list?component_access_token=${a.cat}`, {
          component_appid: COMPONENT.appId,
          offset: 0,
          count: 501,
        }),
      ),
    ).toBe(40170);
  });

  it('refuses code APIs when permission set 18 was not granted (61007)', async () => {
    const { aat } = await authorize(sim, MP, [17, 40]);
    expect(errcodeOf(await wxGet(sim, `/wxa/get_category?access_token=${aat}`))).toBe(61007);
    expect(errcodeOf(await wxPost(sim, `/wxa/plugin?access_token=${aat}`, { action: 'list' }))).toBe(0);
  });
});

describe('authorization page and scan', () => {
  const page = (query: Record<string, string>, path = '/cgi-bin/componentloginpage') =>
    wxCall(sim, 'GET', `${path}?${new URLSearchParams(query).toString()}`);
  /** The authorization page for our component and `code`, with the rest of the query given. */
  const pageFor = (code: string, query: Record<string, string>) =>
    page({ component_appid: COMPONENT.appId, pre_auth_code: code, ...query });
  /** A pre-auth code from a fresh component token (the ticket pushed first), for a test that needs nothing else. */
  const freshPreAuthCode = async () => preAuthCode(sim, await componentToken(sim, await sim.pushVerifyTicket()));

  it('serves an HTML page listing the mini programs with a form posting to /sim/scan', async () => {
    const code = await freshPreAuthCode();
    const answer = await pageFor(code, {
      redirect_uri: 'https://ops.example.com/cb',
      auth_type: '3',
    });
    const markup = answer.raw.toString('utf8');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/html/);
    expect(markup).toContain('action="/sim/scan"');
    expect(markup).toContain(MP);
    expect(markup).toContain(MP2);
    expect(markup).toContain('name="func_scope_id" value="18"');

    const mobile = await page(
      {
        action: 'bindcomponent',
        no_scan: '1',
        component_appid: COMPONENT.appId,
        pre_auth_code: code,
        redirect_uri: 'https://ops.example.com/cb',
        biz_appid: MP2,
      },
      '/wxaopen/safe/bindcomponent',
    );
    const mobileMarkup = mobile.raw.toString('utf8');
    expect(mobileMarkup).toContain(MP2);
    expect(mobileMarkup).not.toContain(`value="${MP}"`);
  });

  it('shows an error page for a used or unknown pre-auth code and a foreign component appid', async () => {
    const code = await freshPreAuthCode();
    await sim.scanAuthorization({ preAuthCode: code, appId: MP });
    const used = await pageFor(code, { redirect_uri: 'https://x.example/cb' });
    expect(used.status).toBe(409);
    expect(used.raw.toString('utf8')).toContain('授权失败');
    expect((await page({ component_appid: 'wx0000000000000000', pre_auth_code: code })).status).toBe(400);
  });

  it('the form post redirects (302) to redirect_uri with auth_code and expires_in=600', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    const code = await preAuthCode(sim, cat);
    await pageFor(code, { redirect_uri: 'https://ops.example.com/cb?a=1', auth_type: '2' });
    const form = new URLSearchParams({ pre_auth_code: code, app_id: MP, redirect_uri: 'https://ops.example.com/cb?a=1', auth_type: '2' });
    form.append('func_scope_id', '18');
    form.append('func_scope_id', '40');
    const res = await fetch(`${sim.baseUrl}/sim/scan`, { method: 'POST', body: form, redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('https://ops.example.com/cb');
    expect(location.searchParams.get('a')).toBe('1');
    expect(location.searchParams.get('expires_in')).toBe('600');
    const authCode = location.searchParams.get('auth_code') ?? '';
    expect(errcodeOf(await queryAuth(cat, authCode))).toBe(0);
    expect(sim.miniProgram(MP)).toMatchObject({ funcScopeIds: [18, 40] });

    const again = await fetch(`${sim.baseUrl}/sim/scan`, { method: 'POST', body: form, redirect: 'manual' });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('PRE_AUTH_CODE_USED');
  });

  it('honours biz_appid and auth_type remembered from the page, and explicit overrides', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    const code = await preAuthCode(sim, cat);
    await pageFor(code, { redirect_uri: 'https://x.example/cb', biz_appid: MP2 });
    await expect(sim.scanAuthorization({ preAuthCode: code, appId: MP })).rejects.toMatchObject({ code: 'BIZ_APPID_MISMATCH' });
    const ok = await sim.scanAuthorization({ preAuthCode: code, appId: MP2 });
    expect(ok.redirectUrl.startsWith('https://x.example/cb?auth_code=')).toBe(true);

    const officialAccountsOnly = await preAuthCode(sim, cat);
    await expect(sim.scanAuthorization({ preAuthCode: officialAccountsOnly, appId: MP, authType: 1 })).rejects.toMatchObject({
      code: 'AUTH_TYPE_EXCLUDES_MINI_PROGRAMS',
    });
  });

  it('restricts the offered permission sets to category_id_list', async () => {
    const code = await freshPreAuthCode();
    const answer = await pageFor(code, {
      redirect_uri: 'https://x.example/cb',
      category_id_list: '18|40',
    });
    expect(answer.raw.toString('utf8')).not.toContain('name="func_scope_id" value="17"');
    await expect(sim.scanAuthorization({ preAuthCode: code, appId: MP, funcScopeIds: [17] })).rejects.toMatchObject({
      code: 'PERMISSION_SET_NOT_OFFERED',
    });
    await sim.scanAuthorization({ preAuthCode: code, appId: MP });
    expect(sim.miniProgram(MP)).toMatchObject({ funcScopeIds: [18, 40] });
  });

  it('grants no exclusive set another platform holds, and takes mp publishing from the owner only with set 18 (doc miniprogram_authority)', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    expect(sim.miniProgram(MP)).toMatchObject({ publishesOnMp: true, heldByOtherPlatform: [] });
    await sim.scanAuthorization({ preAuthCode: await preAuthCode(sim, cat), appId: MP, funcScopeIds: [17, 30] });
    expect(sim.miniProgram(MP)).toMatchObject({ funcScopeIds: [17, 30], publishesOnMp: true });
    await sim.scanAuthorization({ preAuthCode: await preAuthCode(sim, cat), appId: MP, funcScopeIds: [18] });
    expect(sim.miniProgram(MP)).toMatchObject({ funcScopeIds: [18], publishesOnMp: false });

    sim.addMiniProgram({ appId: MP2, nickName: 'Other', principalName: 'Acme Ltd', heldByOtherPlatform: [18] });
    expect(sim.miniProgram(MP2)?.publishesOnMp).toBe(false);
    await sim.scanAuthorization({ preAuthCode: await preAuthCode(sim, cat), appId: MP2, funcScopeIds: [18, 40] });
    expect(sim.miniProgram(MP2)?.funcScopeIds).toEqual([40]);
    await expect(sim.scanAuthorization({ preAuthCode: await preAuthCode(sim, cat), appId: MP2, funcScopeIds: [18] })).rejects.toMatchObject(
      { code: 'NO_PERMISSION_SETS' },
    );
    expect(() => sim.addMiniProgram({ appId: MP2, nickName: 'Other', principalName: 'Acme Ltd', heldByOtherPlatform: [17] })).toThrow(
      /not exclusive/,
    );
  });

  it('without a redirect_uri the scan lands on the simulator page showing the code', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    const { redirectUrl, authCode } = await sim.scanAuthorization({ preAuthCode: await preAuthCode(sim, cat), appId: MP });
    expect(redirectUrl.startsWith(`${sim.baseUrl}/sim/authorized?auth_code=`)).toBe(true);
    const landing = await fetch(redirectUrl);
    expect(await landing.text()).toContain(authCode);
  });

  it('keeps everything consistent across a day boundary (codes do not survive)', async () => {
    const code = await freshPreAuthCode();
    clock.advance(DAY);
    await expect(sim.scanAuthorization({ preAuthCode: code, appId: MP })).rejects.toMatchObject({ code: 'PRE_AUTH_CODE_EXPIRED' });
  });
});

/**
 * The authorization redirects (`/wechat/bind/callback`, `/wechat/authorize/callback`) over HTTP, through the local
 * runtime and the WeChat simulator: an admin's browser gets a page, a JSON client the standard envelope, and the
 * status comes from the error's category either way.
 */

import { makeHandler as makeBindHandler } from '../../functions/bind-callback/handler';
import {
  authorize,
  type Client,
  createAccount,
  createLowcodeApp,
  expectStatus,
  redirectAfterScan as scanRedirect,
} from '../../infra/local/driver';
import { authErrorPage } from '../../shared/app/pages';
import * as z from '../../shared/domain/zod';
import { makeCloudHandler } from '../../shared/runtime/shim';
import { contexts, loadFixture, withFields } from '../../shared/runtime/shim/testing';
import { errorEnvelope } from '../support/http';
import { openServices, platformForFile, uniqueAppid } from './support';

const world = platformForFile();

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const JSON_CLIENT = { accept: 'application/json' };
const urlReply = z.object({ url: z.string() });
const redirectAfterScan = (api: Client, body: Parameters<typeof scanRedirect>[2], appid: string) => scanRedirect(world.p, api, body, appid);

const envelopeOf = async (response: Response) => errorEnvelope.parse(await response.json()).error;

describe('authorization redirects', () => {
  it('a valid state without auth_code is missing input: 400 naming query.auth_code, as a page and as the envelope', async () => {
    const { api } = await createAccount(world.p, 'Callbacks A');
    const appid = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: appid, nickName: '主小程序', principalName: '测试科技有限公司' });
    const redirect = await redirectAfterScan(api, { purpose: 'bind-primary' }, appid);
    redirect.searchParams.delete('auth_code');

    const asJson = await fetch(redirect, { headers: JSON_CLIENT });
    expect(asJson.status).toBe(400);
    expect(await envelopeOf(asJson)).toMatchObject({ code: 'AUTH_CODE_MISSING', field: 'query.auth_code', requestId: expect.any(String) });

    const asPage = await fetch(redirect, { headers: BROWSER });
    expect(asPage.status).toBe(400);
    expect(asPage.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await asPage.text();
    expect(html).toContain('<code>AUTH_CODE_MISSING</code>');
    expect(html).toContain('<code>query.auth_code</code>');
  });

  it('a garbage state is 400 naming query.state, and the page escapes what it shows', async () => {
    const base = new URL('/wechat/authorize/callback', world.p.url);
    base.searchParams.set('auth_code', 'code');
    base.searchParams.set('state', 'garbage');
    const asJson = await fetch(base, { headers: JSON_CLIENT });
    expect(asJson.status).toBe(400);
    expect(await envelopeOf(asJson)).toMatchObject({ code: 'AUTH_STATE_INVALID', field: 'query.state' });

    base.searchParams.set('state', '<script>alert(1)</script>.x');
    base.searchParams.set('auth_code', '"><img src=x onerror=alert(1)>');
    const asPage = await fetch(base, { headers: BROWSER });
    expect(asPage.status).toBe(400);
    const html = await asPage.text();
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
  });

  it('a refused authorization keeps its status (403) and gives JSON clients the standard envelope', async () => {
    const { api } = await createAccount(world.p, 'Callbacks B');
    const primary = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: primary, nickName: '主小程序', principalName: '测试科技有限公司' });
    const bound = await fetch(await redirectAfterScan(api, { purpose: 'bind-primary' }, primary), { headers: JSON_CLIENT });
    expect(bound.status).toBe(200);
    expect(await bound.json()).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });

    const appId = await createLowcodeApp(api);
    const foreign = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: foreign, nickName: '别家小程序', principalName: '另一家公司' });
    const redirect = await redirectAfterScan(api, { purpose: 'authorize-app', appId }, foreign);
    const refused = await fetch(redirect, { headers: JSON_CLIENT });
    expect(refused.status).toBe(403);
    expect(await envelopeOf(refused)).toMatchObject({ code: 'SUBJECT_MISMATCH', requestId: expect.any(String) });
    // A refresh of the page replays the recorded refusal, with the same status.
    const again = await fetch(redirect, { headers: BROWSER });
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('<code>SUBJECT_MISMATCH</code>');
  });

  it('takes each state for one authorization: a refresh shows the first outcome, the state with another code is refused', async () => {
    const { api } = await createAccount(world.p, 'Callbacks C');
    const first = uniqueAppid();
    const second = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: first, nickName: '主小程序', principalName: '测试科技有限公司' });
    world.p.sim.addMiniProgram({ appId: second, nickName: '另一个小程序', principalName: '测试科技有限公司' });
    const used = await redirectAfterScan(api, { purpose: 'bind-primary' }, first);
    expect((await fetch(used, { headers: JSON_CLIENT })).status).toBe(200);
    expect(await (await fetch(used, { headers: JSON_CLIENT })).json()).toMatchObject({ ok: true, code: 'PRIMARY_BOUND', appid: first });

    // Someone holding the used state replays it with an auth code of their own scan.
    const other = await redirectAfterScan(api, { purpose: 'bind-primary' }, second);
    const replay = new URL(used);
    replay.searchParams.set('auth_code', other.searchParams.get('auth_code') ?? '');
    const refused = await fetch(replay, { headers: JSON_CLIENT });
    expect(refused.status).toBe(400);
    expect(await envelopeOf(refused)).toMatchObject({ code: 'AUTH_STATE_INVALID', field: 'query.state' });
    // The code itself was not spent: its own state still completes it.
    expect(await (await fetch(other, { headers: JSON_CLIENT })).json()).toMatchObject({ ok: true, appid: second });
  });

  it('answers HEAD on the callback like GET, without a body', async () => {
    const base = new URL('/wechat/bind/callback?state=garbage', world.p.url);
    const head = await fetch(base, { method: 'HEAD', headers: BROWSER });
    expect(head.status).toBe(400);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await head.text()).toBe('');
  });

  it('escapes everything the error page shows', () => {
    const html = authErrorPage({
      status: 400,
      code: '<b>X</b>',
      message: '<script>alert("x")</script>',
      field: "query.'state'",
      requestId: '&id',
    });
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;b&gt;X&lt;/b&gt;');
    expect(html).toContain('query.&#39;state&#39;');
    expect(html).toContain('&amp;id');
    expect(html).not.toContain('<script>');
  });
});

describe('the bind redirect as SCF delivers it through a function URL', () => {
  it('keeps auth_code and state from an event that carries a requestContext, and binds the primary', async () => {
    const { s, close } = openServices();
    try {
      const cloudHandler = makeCloudHandler({ http: makeBindHandler(s) });
      const { api } = await createAccount(world.p, 'Callbacks SCF');
      const appid = uniqueAppid();
      world.p.sim.addMiniProgram({ appId: appid, nickName: '主小程序', principalName: '测试科技有限公司' });
      const redirect = await redirectAfterScan(api, { purpose: 'bind-primary' }, appid);
      // The shape SCF sends today (shared/runtime/shim/fixtures/scf-url-observed.json), aimed at the redirect.
      const event = {
        ...withFields(loadFixture('scf-url-observed.json'), {}),
        path: redirect.pathname,
        headers: { ...JSON_CLIENT, 'user-agent': 'curl/8.4.0', 'x-scf-request-id': 'scf-bind-1' },
        queryString: Object.fromEntries(redirect.searchParams),
      };
      const result = z.object({ statusCode: z.number(), body: z.string() }).parse(await cloudHandler(event, contexts.scf));
      expect({ status: result.statusCode, body: JSON.parse(result.body) as unknown }).toMatchObject({
        status: 200,
        body: { ok: true, code: 'PRIMARY_BOUND', appid },
      });
    } finally {
      await close();
    }
  });
});

/**
 * The sets each purpose asks for (doc miniprogram_authority: 18 is exclusive, and once a platform holds it the
 * mini program can no longer publish through mp.weixin.qq.com): the primary anchors the account's subject and keeps
 * its code management to its owner; an app's mini program grants 18 (30 optional), and 40 only for an app with plugins.
 */
describe('permission sets per purpose', () => {
  const categoriesOf = async (api: Client, body: Record<string, unknown>) =>
    new URL(urlReply.parse(expectStatus(await api.post('/v1/authorizations', body), 201).body).url).searchParams.get('category_id_list');
  const miniProgramView = z.object({ funcScopeIds: z.array(z.number()), missingPermissionSets: z.array(z.object({ id: z.number() })) });

  it('binds the primary without taking its code management: only set 17 is asked for and granted', async () => {
    const { api } = await createAccount(world.p, 'Sets A');
    const primary = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: primary, nickName: '主小程序', principalName: '测试科技有限公司' });
    expect(await categoriesOf(api, { purpose: 'bind-primary' })).toBe('17');

    expect((await authorize(world.p, api, 'bind-primary', primary)).result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });
    expect(world.p.sim.miniProgram(primary)).toMatchObject({ funcScopeIds: [17], publishesOnMp: true });
    expect(miniProgramView.parse(expectStatus(await api.get(`/v1/mini-programs/${primary}`), 200).body)).toMatchObject({
      funcScopeIds: [17],
      missingPermissionSets: [],
    });
  });

  it('asks an app’s mini program for 18 (and 30, optional), and for 40 only when the app needs plugins', async () => {
    const { api } = await createAccount(world.p, '测试科技有限公司');
    const primary = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: primary, nickName: '主小程序', principalName: '测试科技有限公司' });
    expect((await authorize(world.p, api, 'bind-primary', primary)).result.ok).toBe(true);
    const plain = await createLowcodeApp(api, 'Plain');
    const withPlugins = await createLowcodeApp(api, 'Live', [
      { appId: 'wx2b03c6e691cd7370', alias: 'livePlayer', version: '1.2.0', name: '直播组件' },
    ]);
    expect(await categoriesOf(api, { purpose: 'authorize-app', appId: plain })).toBe('18|30');
    expect(await categoriesOf(api, { purpose: 'authorize-app', appId: withPlugins })).toBe('18|30|40');

    const target = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: target, nickName: '店铺', principalName: '测试科技有限公司' });
    expect((await authorize(world.p, api, 'authorize-app', target, plain)).result).toMatchObject({
      ok: true,
      code: 'MINI_PROGRAM_AUTHORIZED',
    });
    expect(world.p.sim.miniProgram(target)).toMatchObject({ funcScopeIds: [18, 30], publishesOnMp: false });
    expect(miniProgramView.parse(expectStatus(await api.get(`/v1/mini-programs/${target}`), 200).body).missingPermissionSets).toEqual([]);
  });

  it('refuses an app’s mini program whose set 18 another platform holds, naming the set', async () => {
    const { api } = await createAccount(world.p, '测试科技有限公司');
    const primary = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: primary, nickName: '主小程序', principalName: '测试科技有限公司' });
    expect((await authorize(world.p, api, 'bind-primary', primary)).result.ok).toBe(true);
    const appId = await createLowcodeApp(api, 'Live', [
      { appId: 'wx2b03c6e691cd7370', alias: 'livePlayer', version: '1.2.0', name: '直播组件' },
    ]);
    const target = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: target, nickName: '店铺', principalName: '测试科技有限公司', heldByOtherPlatform: [18] });

    const refused = await authorize(world.p, api, 'authorize-app', target, appId);
    expect(refused.status).toBe(403);
    expect(refused.result).toMatchObject({
      ok: false,
      code: 'PERMISSIONS_MISSING',
      message: expect.stringContaining('18 (小程序开发与数据分析)'),
    });
    expect(refused.result.message).not.toContain('40 (');
    expect(world.p.sim.miniProgram(target)?.funcScopeIds).toEqual([30, 40]);
    expect((await api.get(`/v1/mini-programs/${target}`)).status).toBe(404);
  });
});

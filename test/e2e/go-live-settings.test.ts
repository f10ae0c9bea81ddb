/**
 * What a mini program developed by the platform needs at WeChat besides its code (issue 11, items 1 and 2), end to
 * end through the local runtime and the simulator: the user privacy guide, set by every build and again before every
 * submit, and the server domains the build's code reaches, set before submit and checked with `get`.
 */
// The experience QR is not what these tests are about: a fast stand-in keeps each build inside its request's time.
jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

import { authorize, type Client, createApp, expectStatus, type Platform, startPlatform } from '../../infra/local/driver';
import type { Services } from '../../shared/app/context';
import { readyApp as readyAppOf, servicesWithClock } from '../reliability/support';
import { readDeployment, requestAction, requestBuild } from '../support/e2e';

let p: Platform;
beforeAll(async () => {
  p = await startPlatform();
  // A template whose code lets users pick photos and save posters: WeChat's scan finds Album and AlbumWriteOnly.
  p.sim.addTemplate({
    templateId: PHOTO_TEMPLATE,
    userVersion: '3.0.0',
    userDesc: 'photo shop',
    pages: ['pages/index/index'],
    privacyApis: ['wx.chooseImage', 'wx.saveImageToPhotosAlbum'],
  });
});
afterAll(() => p.close());

const PHOTO_TEMPLATE = 301;
const GUIDE = { contact: { email: 'privacy@shop.example' }, retention: '账号注销后删除', purposes: { Album: '上传商品评价的照片' } };

/** An account with a bound primary, and a lowcode app on `templateId` whose config is `config`, authorized. */
const readyApp = (config: Record<string, unknown>, templateId = PHOTO_TEMPLATE) =>
  readyAppOf(p, {
    createApp: (api) => createApp(api, { kind: 'lowcode', name: 'Shop', templateId, config: { pages: ['pages/index/index'], ...config } }),
  });

const build = (api: Client, appId: string) => requestBuild(api, appId, { userVersion: '1.0.0', userDesc: 'first' });

describe('user privacy guide', () => {
  it('is set by the build from what WeChat detected, requiredPrivateInfos and the app’s guide, so the audit passes', async () => {
    const { api, appId, target } = await readyApp({ requiredPrivateInfos: ['chooseLocation'], privacyGuide: GUIDE });
    const built = await build(api, appId);
    expect(built.state).toBe('built');
    expect(p.sim.miniProgram(target)?.privacyGuide).toEqual({
      ownerSetting: { contact_email: 'privacy@shop.example', notice_method: '小程序内弹窗通知', store_expire_timestamp: '账号注销后删除' },
      settingList: [
        { privacy_key: 'ChooseLocation', privacy_text: '在地图上选择位置' },
        { privacy_key: 'Album', privacy_text: '上传商品评价的照片' },
        { privacy_key: 'AlbumWriteOnly', privacy_text: '保存图片或视频到相册' },
      ],
    });

    expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');
    await p.sim.decideAudit(target, 'approve');
    expect((await readDeployment(api, built.id)).state).toBe('approved');
  });

  it('is set again before submitting: an authorization since the build cleared it', async () => {
    const { api, appId, target } = await readyApp({ privacyGuide: GUIDE });
    const built = await build(api, appId);
    expect(p.sim.miniProgram(target)?.privacyGuide).toBeDefined();
    expect((await authorize(p, api, 'authorize-app', target, appId)).result).toMatchObject({ ok: true });
    expect(p.sim.miniProgram(target)?.privacyGuide).toBeUndefined();

    expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');
    await p.sim.decideAudit(target, 'approve');
    expect((await readDeployment(api, built.id)).state).toBe('approved');
  });

  it('without a contact, fails the build saying what to set; set, a retry builds', async () => {
    const { api, appId } = await readyApp({});
    const failed = await build(api, appId);
    expect(failed).toMatchObject({ state: 'failed', failure: { retryable: true } });
    expect(failed.failure?.reason).toContain('相册（仅写入）权限 (AlbumWriteOnly)');
    expect(failed.failure?.reason).toContain('config.privacyGuide.contact');

    expectStatus(await api.put(`/v1/apps/${appId}/config`, { pages: ['pages/index/index'], privacyGuide: GUIDE }), 200);
    const retried = await requestAction(api, failed.id, 'retry');
    expect(retried.state).toBe('built');
  });

  it('names what get_code_privacy_info reports, API by API, instead of "privacy settings are missing"', async () => {
    // The template reads the location but the app does not declare it: WeChat would refuse the submit (61040).
    p.sim.addTemplate({
      templateId: 302,
      userVersion: '1.0.0',
      userDesc: 'map',
      pages: ['pages/index/index'],
      privacyApis: ['wx.getLocation'],
    });
    const { api, appId } = await readyApp({ privacyGuide: GUIDE }, 302);
    const built = await build(api, appId);
    expect(built.state).toBe('built');
    const failed = await requestAction(api, built.id, 'submit');
    expect(failed).toMatchObject({ state: 'failed', failure: { errcode: 61040, retryable: false } });
    expect(failed.failure?.reason).toContain('the code uses wx.getLocation without declaring it in requiredPrivateInfos: add getLocation');
    expect(failed.failure?.reason).not.toContain('privacy settings are missing');
  });
});

describe('server domains', () => {
  it('sets the asset host before release, so the released version can download the images it is configured with', async () => {
    const banner = `${p.url}/v1/public/assets/ast_banner`;
    const { api, appId, target } = await readyApp({ privacyGuide: GUIDE, ext: { banner } });
    const built = await build(api, appId);
    expect(built.state).toBe('built');
    expect(p.sim.miniProgram(target)?.domains.downloaddomain).toEqual([new URL(p.url).origin]);

    await requestAction(api, built.id, 'submit');
    await p.sim.decideAudit(target, 'approve');
    expect((await requestAction(api, built.id, 'release')).state).toBe('released');
    expect(p.sim.miniProgram(target)?.unreachableUrls).toEqual({ exp: [], live: [] });
  });

  it('adds the app’s extra domains; one the platform has not registered fails the build saying so, and a retry once registered builds', async () => {
    const { api, appId, target } = await readyApp({
      privacyGuide: GUIDE,
      serverDomains: { request: ['https://api.shop.example'], webview: ['https://h5.shop.example'] },
    });
    p.sim.configure({ registeredDomains: { server: [new URL(p.url).hostname], webview: ['shop.example'] } });
    const failed = await build(api, appId);
    expect(failed).toMatchObject({ state: 'failed', failure: { retryable: true } });
    expect(failed.failure?.reason).toContain('requestdomain https://api.shop.example');
    expect(failed.failure?.reason).toContain('open.weixin.qq.com');

    p.sim.configure({ registeredDomains: { server: [new URL(p.url).hostname, 'api.shop.example'] } });
    const retried = await requestAction(api, failed.id, 'retry');
    expect(retried.state).toBe('built');
    expect(p.sim.miniProgram(target)?.domains).toMatchObject({
      requestdomain: ['https://api.shop.example'],
      downloaddomain: [new URL(p.url).origin],
      webviewdomain: ['https://h5.shop.example'],
    });
  });

  it('checks the domains again before submitting and adds back one removed meanwhile', async () => {
    const { api, appId, target } = await readyApp({ privacyGuide: GUIDE });
    const built = await build(api, appId);
    p.sim.configure({ registeredDomains: { server: [new URL(p.url).hostname] } });
    const origin = new URL(p.url).origin;
    const lists = { requestdomain: [], wsrequestdomain: [], uploaddomain: [], downloaddomain: [origin], udpdomain: [], tcpdomain: [] };
    await asAnotherActor((s) => s.wechat.client.modifyDomain(target, { action: 'delete', ...lists }));
    expect(p.sim.miniProgram(target)?.domains.downloaddomain).toEqual([]);
    expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');
    expect(p.sim.miniProgram(target)?.domains.downloaddomain).toEqual([new URL(p.url).origin]);
  });
});

/** The backend's WeChat client, used here as the mini program's admin would change its domains on mp.weixin.qq.com. */
async function asAnotherActor<T>(act: (services: Services) => Promise<T>): Promise<T> {
  const another = servicesWithClock(process.env, Date.now());
  try {
    return await act(another.services);
  } finally {
    await another.close();
  }
}

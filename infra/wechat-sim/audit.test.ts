/**
 * Code management: commit, privacy scan, the audit state machine of reference §4.13 with every errcode in its
 * situation, shared quotas, undo budget, release and rollback, plugins, testers and the experience QR.
 */

import { readImageMeta } from '../../shared/app/images';
import {
  authorize,
  type Clock,
  DAY,
  errcodeOf,
  HOUR,
  MINUTE,
  startCodeSim,
  str,
  type WxAnswer,
  wxCall,
  wxGet,
  wxPost,
} from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9a01';
const MP2 = 'wx8a6f3c2d1e0b9a02';
const PLUGIN = 'wx1319af22356934bf';
const TEMPLATE = 101;
const EXT = JSON.stringify({ extAppid: MP, ext: { theme: 'blue' }, pages: ['pages/index/index'] });

let sim: WeChatSimulator;
let clock: Clock;
let aat: string;

beforeEach(async () => {
  ({ sim, aat, clock } = await startCodeSim(
    { templateId: TEMPLATE, userVersion: '1.4.0', userDesc: 'lowcode runtime', pages: ['pages/index/index', 'pages/detail/detail'] },
    [
      { appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd', plugins: [{ appId: PLUGIN, status: 2 }] },
      { appId: MP2, nickName: 'Acme Cam', principalName: 'Acme Ltd' },
    ],
  ));
});

afterEach(async () => {
  await sim.close();
});

const api = (path: string, token = aat): string => `${path}${path.includes('?') ? '&' : '?'}access_token=${token}`;
const commit = (body: Record<string, unknown> = {}, token = aat): Promise<WxAnswer> =>
  wxPost(sim, api('/wxa/commit', token), { template_id: TEMPLATE, ext_json: EXT, user_version: '1.0.0', user_desc: 'first', ...body });
const submit = (body: Record<string, unknown> = {}, token = aat): Promise<WxAnswer> => wxPost(sim, api('/wxa/submit_audit', token), body);
const auditStatus = (auditid: unknown, token = aat): Promise<WxAnswer> => wxPost(sim, api('/wxa/get_auditstatus', token), { auditid });
const latest = (token = aat): Promise<WxAnswer> => wxGet(sim, api('/wxa/get_latest_auditstatus', token));
const release = (token = aat): Promise<WxAnswer> => wxPost(sim, api('/wxa/release', token), {});
const undo = (token = aat): Promise<WxAnswer> => wxGet(sim, api('/wxa/undocodeaudit', token));

async function submitted(token = aat): Promise<number> {
  expect(errcodeOf(await commit({}, token))).toBe(0);
  const answer = await submit({}, token);
  expect(answer.body).toMatchObject({ errcode: 0, errmsg: 'ok' });
  return Number(answer.body.auditid);
}

describe('commit', () => {
  it('commits a template with a JSON-string ext_json; get_page and getversioninfo reflect it', async () => {
    expect((await commit()).body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect((await wxGet(sim, api('/wxa/get_page'))).body).toMatchObject({ errcode: 0, page_list: ['pages/index/index'] });
    expect((await wxPost(sim, api('/wxa/getversioninfo'), {})).body).toMatchObject({
      exp_info: { exp_version: '1.0.0', exp_desc: 'first', exp_time: Math.floor(clock.t / 1000) },
    });
  });

  it('rejects an unknown template (85014), an object ext_json (47001), unparseable (85013) or non-object (85048) ext_json', async () => {
    expect(errcodeOf(await commit({ template_id: 999 }))).toBe(85014);
    expect(errcodeOf(await commit({ template_id: '"101"' }))).toBe(85014);
    expect(errcodeOf(await commit({ ext_json: { extAppid: MP } }))).toBe(47001);
    expect(errcodeOf(await commit({ ext_json: '{"extAppid":' }))).toBe(85013);
    expect(errcodeOf(await commit({ ext_json: '[1,2]' }))).toBe(85048);
    expect(errcodeOf(await commit({ ext_json: JSON.stringify({ pages: ['pages/nope/nope'] }) }))).toBe(85045);
    expect(errcodeOf(await commit({ template_id: '101' }))).toBe(0);
  });

  it('rejects a commit using a plugin the mini program was not granted (80082), even a pending one', async () => {
    const other = 'wx2b03c6e691cd7370';
    const withPlugin = (provider: string) => JSON.stringify({ plugins: { player: { version: '1.0.0', provider } } });
    expect(errcodeOf(await commit({ ext_json: withPlugin(PLUGIN) }))).toBe(0);
    const denied = await commit({ ext_json: withPlugin(other) });
    expect(denied.body.errcode).toBe(80082);
    expect(str(denied.body.errmsg)).toMatch(new RegExp(`^miniprogram has no permission to plugin\\[${other}\\] rid: `));

    expect((await wxPost(sim, api('/wxa/plugin'), { action: 'apply', plugin_appid: other, reason: 'live' })).body).toMatchObject({
      errcode: 0,
    });
    expect(errcodeOf(await commit({ ext_json: withPlugin(other) }))).toBe(80082);
    sim.setPluginStatus(MP, other, 2);
    expect(errcodeOf(await commit({ ext_json: withPlugin(other) }))).toBe(0);
    const inSubPackage = JSON.stringify({
      subPackages: [{ root: 'live', plugins: { p: { version: '1', provider: 'wx9999999999999999' } } }],
    });
    expect(errcodeOf(await commit({ ext_json: inSubPackage }))).toBe(80082);
  });

  it('serves get_page only after a commit (86001)', async () => {
    expect(errcodeOf(await wxGet(sim, api('/wxa/get_page')))).toBe(86001);
  });
});

describe('privacy scan and privacy settings', () => {
  it('answers 61039 while the post-commit scan runs (privacyScanMs), then lets submit through', async () => {
    sim.configure({ privacyScanMs: 60_000 });
    await commit();
    expect(errcodeOf(await wxGet(sim, api('/wxa/security/get_code_privacy_info')))).toBe(61039);
    expect(errcodeOf(await submit())).toBe(61039);
    clock.advance(60_000);
    expect((await wxGet(sim, api('/wxa/security/get_code_privacy_info'))).body).toMatchObject({
      errcode: 0,
      without_auth_list: [],
      without_conf_list: [],
    });
    expect(errcodeOf(await submit())).toBe(0);
  });

  // get_code_privacy_info names APIs (doc api_getcodeprivacyinfo); 61040 at submit is about geolocation APIs
  // undeclared or not granted (doc submitAudit 注意事项), not about the guide.
  it('lists geolocation APIs used undeclared or without permission by name; submit refuses them (61040) unless privacy_api_not_use', async () => {
    sim.addTemplate({ templateId: 102, userVersion: '1.0.0', userDesc: 'maps', privacyApis: ['wx.getLocation', 'wx.chooseImage'] });
    sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd', ungrantedPrivacyApis: ['chooseLocation'] });
    await commit({ template_id: 102, ext_json: JSON.stringify({ requiredPrivateInfos: ['chooseLocation'] }) });
    expect((await wxGet(sim, api('/wxa/security/get_code_privacy_info'))).body).toMatchObject({
      without_auth_list: ['wx.chooseLocation'],
      without_conf_list: ['wx.getLocation'],
    });
    expect((await wxPost(sim, api('/cgi-bin/component/getprivacysetting'), { privacy_ver: 2 })).body).toMatchObject({
      code_exist: 1,
      privacy_list: ['Location', 'Album', 'ChooseLocation'],
      setting_list: [],
    });
    expect(errcodeOf(await submit())).toBe(61040);
    expect(errcodeOf(await submit({ privacy_api_not_use: true }))).toBe(0);
  });

  it('validates setprivacysetting (a contact, 86074 for a live guide without a live version) and reads it back', async () => {
    await commit();
    const setting = {
      owner_setting: { contact_email: 'privacy@acme.example', notice_method: '弹窗' },
      setting_list: [{ privacy_key: 'UserInfo', privacy_text: '用于登录' }],
    };
    expect(
      errcodeOf(await wxPost(sim, api('/cgi-bin/component/setprivacysetting'), { ...setting, owner_setting: { notice_method: '弹窗' } })),
    ).toBe(47001);
    expect(errcodeOf(await wxPost(sim, api('/cgi-bin/component/setprivacysetting'), { ...setting, privacy_ver: 1 }))).toBe(86074);
    expect(errcodeOf(await wxPost(sim, api('/cgi-bin/component/setprivacysetting'), setting))).toBe(0);
    expect((await wxPost(sim, api('/cgi-bin/component/getprivacysetting'), {})).body).toMatchObject({
      setting_list: [{ privacy_key: 'UserInfo', privacy_label: '用户信息（微信昵称、头像）' }],
      owner_setting: { contact_email: 'privacy@acme.example' },
    });
  });

  it('rejects at audit a version whose guide leaves a detected key out, with WeChat’s reason; an authorization clears the guide', async () => {
    sim.addTemplate({
      templateId: 103,
      userVersion: '1.0.0',
      userDesc: 'album',
      privacyApis: ['wx.chooseImage', 'wx.saveImageToPhotosAlbum'],
    });
    await commit({ template_id: 103 });
    const owner = { contact_email: 'privacy@acme.example', notice_method: '弹窗' };
    const onlyAlbum = { owner_setting: owner, setting_list: [{ privacy_key: 'Album', privacy_text: '上传头像' }] };
    expect(errcodeOf(await wxPost(sim, api('/cgi-bin/component/setprivacysetting'), onlyAlbum))).toBe(0);
    const first = Number((await submit()).body.auditid);
    await sim.decideAudit(MP, 'approve');
    expect((await auditStatus(first)).body).toMatchObject({
      status: 1,
      reason: expect.stringContaining('"相册（仅写入）权限"相关接口或组件，请通过接口完善【用户隐私保护指引】'),
    });

    const full = {
      owner_setting: owner,
      setting_list: [...onlyAlbum.setting_list, { privacy_key: 'AlbumWriteOnly', privacy_text: '保存海报' }],
    };
    expect(errcodeOf(await wxPost(sim, api('/cgi-bin/component/setprivacysetting'), full))).toBe(0);
    ({ aat } = await authorize(sim, MP));
    expect(sim.miniProgram(MP)?.privacyGuide).toBeUndefined();
    const second = Number((await submit()).body.auditid);
    await sim.decideAudit(MP, 'approve');
    expect((await auditStatus(second)).body).toMatchObject({ status: 1 });

    expect(errcodeOf(await wxPost(sim, api('/cgi-bin/component/setprivacysetting'), full))).toBe(0);
    const third = Number((await submit()).body.auditid);
    await sim.decideAudit(MP, 'approve');
    expect((await auditStatus(third)).body).toMatchObject({ status: 0 });
  });
});

describe('server and web-view domains', () => {
  const domains = (body: Record<string, unknown>) => wxPost(sim, api('/wxa/modify_domain'), body);
  const lists = (download: string[]) => ({
    requestdomain: [],
    wsrequestdomain: [],
    uploaddomain: [],
    downloaddomain: download,
    udpdomain: [],
    tcpdomain: [],
  });

  it('adds, reads and deletes; refuses what breaks the rules (85301), an add with nothing new or unregistered (85017)', async () => {
    sim.configure({ registeredDomains: { server: ['assets.acme.example'] } });
    expect((await domains({ action: 'get' })).body).toMatchObject({ errcode: 0, downloaddomain: [] });
    expect(errcodeOf(await domains({ action: 'add', ...lists(['http://assets.acme.example']) }))).toBe(85301);
    expect(errcodeOf(await domains({ action: 'add', ...lists(['https://assets.acme.example/img']) }))).toBe(85301);
    expect(errcodeOf(await domains({ action: 'add', ...lists(['https://10.0.0.1']) }))).toBe(85301);
    expect(errcodeOf(await domains({ action: 'add', ...lists(['https://cdn.other.example']) }))).toBe(85017);
    expect((await domains({ action: 'add', ...lists(['https://assets.acme.example', 'https://cdn.other.example']) })).body).toMatchObject({
      errcode: 0,
      downloaddomain: ['https://assets.acme.example'],
    });
    expect(errcodeOf(await domains({ action: 'add', ...lists(['https://assets.acme.example']) }))).toBe(85017);
    expect((await domains({ action: 'delete', ...lists(['https://assets.acme.example']) })).body).toMatchObject({ downloaddomain: [] });
  });

  it('reports the URLs of a version its download domains do not cover, and keeps only the platform’s domains on release', async () => {
    const ext = JSON.stringify({
      ext: { logo: 'https://assets.acme.example/v1/public/assets/ast_1', other: 'https://cdn.other.example/x.png' },
    });
    await commit({ ext_json: ext });
    expect(sim.miniProgram(MP)?.unreachableUrls.exp).toEqual([
      'https://assets.acme.example/v1/public/assets/ast_1',
      'https://cdn.other.example/x.png',
    ]);
    expect(errcodeOf(await domains({ action: 'add', ...lists(['https://assets.acme.example', 'https://cdn.other.example']) }))).toBe(0);
    expect(sim.miniProgram(MP)?.unreachableUrls.exp).toEqual([]);

    sim.configure({ registeredDomains: { server: ['assets.acme.example'] } });
    const auditid = Number((await submit()).body.auditid);
    await sim.decideAudit(MP, 'approve');
    expect((await auditStatus(auditid)).body).toMatchObject({ status: 0 });
    expect(errcodeOf(await release())).toBe(0);
    expect(sim.miniProgram(MP)).toMatchObject({
      domains: { downloaddomain: ['https://assets.acme.example'] },
      unreachableUrls: { live: ['https://cdn.other.example/x.png'] },
    });
  });

  it('sets web-view domains only among the platform’s (89021) and answers 89019 when nothing changes', async () => {
    sim.configure({ registeredDomains: { webview: ['acme.example'] } });
    const webview = (body: Record<string, unknown>) => wxPost(sim, api('/wxa/setwebviewdomain'), body);
    expect(errcodeOf(await webview({ action: 'add', webviewdomain: ['https://h5.other.example'] }))).toBe(89021);
    expect((await webview({ action: 'add', webviewdomain: ['https://h5.acme.example'] })).body).toMatchObject({
      errcode: 0,
      webviewdomain: ['https://h5.acme.example'],
    });
    expect(errcodeOf(await webview({ action: 'set', webviewdomain: ['https://h5.acme.example'] }))).toBe(89019);
    expect((await webview({ action: 'get' })).body).toMatchObject({ webviewdomain: ['https://h5.acme.example'] });
  });
});

describe('submit_audit and the audit state machine', () => {
  it('refuses submit without a commit (85086), while auditing (85009), with an incomplete profile (86002)', async () => {
    expect(errcodeOf(await submit())).toBe(85086);
    const auditid = await submitted();
    expect(auditid).toBeGreaterThan(0);
    expect(errcodeOf(await submit())).toBe(85009);
    await sim.decideAudit(MP, 'delay', { reason: '需要人工复核' });
    expect(errcodeOf(await submit())).toBe(85009);

    sim.addMiniProgram({ appId: MP2, nickName: 'Acme Cam', principalName: 'Acme Ltd', profileComplete: false });
    const other = await authorize(sim, MP2);
    await commit({}, other.aat);
    expect(errcodeOf(await submit({}, other.aat))).toBe(86002);
  });

  it('checks item_list: 1 to 5 items (85023) in configured categories (85077)', async () => {
    await commit();
    const item = { first_class: '工具', second_class: '效率', first_id: 287, second_id: 616 };
    expect(errcodeOf(await submit({ item_list: [] }))).toBe(85023);
    expect(errcodeOf(await submit({ item_list: Array.from({ length: 6 }, () => item) }))).toBe(85023);
    expect(errcodeOf(await submit({ item_list: [{ ...item, second_id: 1 }] }))).toBe(85077);
    expect(errcodeOf(await submit({ item_list: [item] }))).toBe(0);
  });

  it('reports status 2 while under review, then 0 after approval; 85012 for a foreign or unknown id', async () => {
    const auditid = await submitted();
    expect((await auditStatus(auditid)).body).toEqual({ errcode: 0, errmsg: 'ok', status: 2 });
    expect((await auditStatus(String(auditid))).body).toMatchObject({ status: 2 });
    expect(errcodeOf(await auditStatus(auditid + 1000))).toBe(85012);
    const other = await authorize(sim, MP2);
    expect(errcodeOf(await auditStatus(auditid, other.aat))).toBe(85012);

    await sim.decideAudit(MP, 'approve');
    expect((await auditStatus(auditid)).body).toEqual({ errcode: 0, errmsg: 'ok', status: 0 });
    expect((await latest()).body).toMatchObject({
      errcode: 0,
      auditid,
      status: 0,
      user_version: '1.0.0',
      user_desc: 'first',
      submit_audit_time: Math.floor(clock.t / 1000),
    });
  });

  it('reports rejection reason and screenshots (status 1) and delay reason (status 4)', async () => {
    const auditid = await submitted();
    await sim.decideAudit(MP, 'delay', { reason: '审核延后' });
    expect((await auditStatus(auditid)).body).toMatchObject({ status: 4, reason: '审核延后' });
    await sim.decideAudit(MP, 'reject', { reason: '1:名称不符<br>', screenshots: ['media1', 'media2'] });
    expect((await auditStatus(auditid)).body).toMatchObject({ status: 1, reason: '1:名称不符<br>', screenshot: 'media1|media2' });
    expect((await latest()).body).toMatchObject({ status: 1, screenshot: 'media1|media2', ScreenShot: 'media1|media2' });
    // A rejected version can be fixed and resubmitted.
    expect(errcodeOf(await submit())).toBe(0);
  });

  it('serves the screenshots of a rejection by get_material (its own ids when none were given), 40007 for others', async () => {
    const material = (mediaId: string) => wxCall(sim, 'POST', api('/cgi-bin/material/get_material'), { body: { media_id: mediaId } });
    const auditid = await submitted();
    expect(errcodeOf(await material(`sim_screenshot_${auditid}_1`))).toBe(40007);
    await sim.decideAudit(MP, 'reject', { reason: '1:名称不符<br>' });
    const { screenshot } = (await auditStatus(auditid)).body;
    expect(screenshot).toBe(`sim_screenshot_${auditid}_1`);
    const answer = await material(str(screenshot));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('image/jpeg');
    expect(readImageMeta(answer.raw)).toMatchObject({ contentType: 'image/jpeg' });
    // The bytes are a JPEG (start of image), not an error in JSON labelled as one.
    expect([...answer.raw.subarray(0, 2)]).toEqual([0xff, 0xd8]);

    const unknown = await material('not-a-screenshot');
    expect(unknown.contentType).toMatch(/json/);
    expect(unknown.body).toMatchObject({ errcode: 40007 });
  });

  it('answers 85058 from get_latest_auditstatus before any audit', async () => {
    expect(errcodeOf(await latest())).toBe(85058);
  });

  it('refuses a control decision when nothing is pending', async () => {
    await expect(sim.decideAudit(MP, 'approve')).rejects.toMatchObject({ code: 'NO_PENDING_AUDIT' });
  });

  it('approves automatically after auditDecisionDelayMs (driven by the clock)', async () => {
    sim.configure({ auditDecisionDelayMs: 2 * HOUR });
    const auditid = await submitted();
    clock.advance(2 * HOUR - 1);
    expect((await auditStatus(auditid)).body).toMatchObject({ status: 2 });
    clock.advance(1);
    expect((await auditStatus(auditid)).body).toMatchObject({ status: 0 });
    await sim.pushesSettled();
    expect(sim.pushLog().map((e) => e.label)).toContain('weapp_audit_success');
  });

  it('approves automatically with jest fake timers too', async () => {
    await sim.close();
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      ({ sim, aat } = await startCodeSim(
        { templateId: TEMPLATE, userVersion: '1', userDesc: 'x' },
        [{ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' }],
        // The simulator's own clock, Date.now, which the fake timers move.
        { auditDecisionDelayMs: 10 * MINUTE, now: () => Date.now() },
      ));
      const auditid = await submitted();
      await jest.advanceTimersByTimeAsync(10 * MINUTE);
      expect(sim.miniProgram(MP)?.audits[0]).toMatchObject({ auditid, status: 0 });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('undocodeaudit', () => {
  it('withdraws the pending audit (status 3) and refuses when nothing is pending (85019)', async () => {
    expect(errcodeOf(await undo())).toBe(85019);
    const auditid = await submitted();
    expect((await undo()).body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect((await auditStatus(auditid)).body).toMatchObject({ status: 3 });
    expect(errcodeOf(await undo())).toBe(85019);
    await expect(sim.decideAudit(MP, 'approve')).rejects.toMatchObject({ code: 'NO_PENDING_AUDIT' });
  });

  it('refuses to withdraw an audit WeChat has already decided (87012, staff answer), spending no undo', async () => {
    await submitted();
    await sim.decideAudit(MP, 'approve');
    expect((await undo()).body).toMatchObject({ errcode: 87012, errmsg: expect.stringMatching(/^forbid revert this version release/) });
    expect((await latest()).body).toMatchObject({ status: 0 });
    await commit({ user_version: '1.0.1' });
    expect(errcodeOf(await submit())).toBe(0);
    await sim.decideAudit(MP, 'reject');
    expect(errcodeOf(await undo())).toBe(87012);
    expect((await latest()).body).toMatchObject({ status: 1 });
    expect(sim.miniProgram(MP)?.undo.today).toBe(0);
  });

  it('allows 5 undos per day and 10 per month per mini program (87013)', async () => {
    const cycle = async (): Promise<number> => {
      expect(errcodeOf(await submit())).toBe(0);
      return errcodeOf(await undo());
    };
    await commit();
    for (let i = 0; i < 5; i++) expect(await cycle()).toBe(0);
    expect(await cycle()).toBe(87013);
    // The budget is per mini program.
    const other = await authorize(sim, MP2);
    await commit({}, other.aat);
    expect(errcodeOf(await submit({}, other.aat))).toBe(0);
    expect(errcodeOf(await undo(other.aat))).toBe(0);

    clock.advance(DAY);
    expect(errcodeOf(await undo())).toBe(0); // the audit left pending by the refused undo above
    for (let i = 0; i < 4; i++) expect(await cycle()).toBe(0);
    expect(sim.miniProgram(MP)?.undo).toEqual({ today: 5, thisMonth: 10 });
    clock.advance(DAY);
    expect(await cycle()).toBe(87013); // month budget (10) used up on a fresh day
  });

  it('honours setQuota({undoPerDay})', async () => {
    sim.setQuota({ undoPerDay: 1 });
    await commit();
    expect(errcodeOf(await submit())).toBe(0);
    expect(errcodeOf(await undo())).toBe(0);
    expect(errcodeOf(await submit())).toBe(0);
    expect(errcodeOf(await undo())).toBe(87013);
  });
});

describe('speedupaudit', () => {
  it('expedites an audit under review once (89404); 89402 when not auditing; 89405 without quota', async () => {
    const auditid = await submitted();
    const speedup = (id: number, token = aat) => wxPost(sim, api('/wxa/speedupaudit', token), { auditid: id });
    expect(errcodeOf(await speedup(auditid + 1))).toBe(85012);
    expect(errcodeOf(await speedup(auditid))).toBe(0);
    expect(errcodeOf(await speedup(auditid))).toBe(89404);
    expect((await wxGet(sim, api('/wxa/queryquota'))).body).toMatchObject({ speedup_rest: 9, speedup_limit: 10 });

    await sim.decideAudit(MP, 'approve');
    expect(errcodeOf(await speedup(auditid))).toBe(89402);

    sim.setQuota({ speedupRest: 0 });
    const other = await authorize(sim, MP2);
    const second = await submitted(other.aat);
    expect(errcodeOf(await speedup(second, other.aat))).toBe(89405);
  });
});

describe('submit quota', () => {
  it('is shared by every mini program of the platform (85085) and refills next month', async () => {
    sim.setQuota({ submitRest: 1 });
    const other = await authorize(sim, MP2);
    expect((await wxGet(sim, api('/wxa/queryquota', other.aat))).body).toEqual({
      errcode: 0,
      errmsg: 'ok',
      rest: 1,
      limit: 20,
      speedup_rest: 10,
      speedup_limit: 10,
    });
    await submitted();
    expect((await wxGet(sim, api('/wxa/queryquota', other.aat))).body).toMatchObject({ rest: 0 });
    await commit({}, other.aat);
    expect(errcodeOf(await submit({}, other.aat))).toBe(85085);

    clock.advance(31 * DAY);
    const fresh = await authorize(sim, MP2);
    expect((await wxGet(sim, api('/wxa/queryquota', fresh.aat))).body).toMatchObject({ rest: 20 });
  });
});

describe('release and revertcoderelease', () => {
  it('releases the approved version; 85019 without audit, 85020 when not approved, 85052 when already released', async () => {
    expect(errcodeOf(await release())).toBe(85019);
    await submitted();
    expect(errcodeOf(await release())).toBe(85020);
    await sim.decideAudit(MP, 'approve');
    expect(errcodeOf(await wxCall(sim, 'POST', api('/wxa/release')))).toBe(44002);
    expect(errcodeOf(await wxCall(sim, 'POST', api('/wxa/release'), { rawBody: 'null' }))).toBe(44002);
    expect((await release()).body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(errcodeOf(await release())).toBe(85052);
    expect(sim.miniProgram(MP)?.live).toMatchObject({ appVersion: 1, userVersion: '1.0.0' });
    expect((await wxPost(sim, api('/wxa/getversioninfo'), {})).body).toMatchObject({
      release_info: { release_version: '1.0.0', release_desc: 'first' },
    });
  });

  it('reports 85020 when the latest audit was rejected or withdrawn after an earlier approval', async () => {
    await submitted();
    await sim.decideAudit(MP, 'approve');
    await commit({ user_version: '1.0.1' });
    expect(errcodeOf(await submit())).toBe(0);
    await sim.decideAudit(MP, 'reject');
    expect(errcodeOf(await release())).toBe(85020);
  });

  it('lists the releases before the live one and reverts to one of them (87012 for none, an unknown or the live one)', async () => {
    const revert = (query = '') => wxGet(sim, api(`/wxa/revertcoderelease${query}`));
    expect(errcodeOf(await revert())).toBe(87012);
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      await commit({ user_version: version, user_desc: `v${version}` });
      expect(errcodeOf(await submit())).toBe(0);
      await sim.decideAudit(MP, 'approve');
      expect(errcodeOf(await release())).toBe(0);
      clock.advance(HOUR);
    }
    expect((await revert('?action=get_history_version')).body).toMatchObject({
      errcode: 0,
      // Oldest first, as the doc example of get_history_version lists them.
      version_list: [
        { app_version: 1, user_version: '1.0.0', user_desc: 'v1.0.0' },
        { app_version: 2, user_version: '1.1.0', user_desc: 'v1.1.0' },
      ],
    });
    expect(errcodeOf(await revert('?app_version=9'))).toBe(87012);
    expect(errcodeOf(await revert('?app_version=3'))).toBe(87012); // the live one
    expect(errcodeOf(await revert())).toBe(0);
    expect(sim.miniProgram(MP)?.live).toMatchObject({ appVersion: 2, userVersion: '1.1.0' });
  });

  it('allows one rollback per release: after it, none is listed and another is refused (87012) until a new release', async () => {
    const revert = (query = '') => wxGet(sim, api(`/wxa/revertcoderelease${query}`));
    const history = async () => (await revert('?action=get_history_version')).body.version_list;
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      await commit({ user_version: version });
      expect(errcodeOf(await submit())).toBe(0);
      await sim.decideAudit(MP, 'approve');
      expect(errcodeOf(await release())).toBe(0);
    }
    expect(errcodeOf(await revert())).toBe(0);
    expect(sim.miniProgram(MP)?.live).toMatchObject({ appVersion: 2, userVersion: '1.1.0' });
    expect(await history()).toEqual([]);
    expect(errcodeOf(await revert())).toBe(87012);
    expect(errcodeOf(await revert('?app_version=1'))).toBe(87012);
    expect(sim.miniProgram(MP)?.live).toMatchObject({ appVersion: 2 });

    await commit({ user_version: '1.3.0' });
    expect(errcodeOf(await submit())).toBe(0);
    await sim.decideAudit(MP, 'approve');
    expect(errcodeOf(await release())).toBe(0);
    expect(await history()).toMatchObject([{ app_version: 2, user_version: '1.1.0' }]);
    expect(errcodeOf(await revert())).toBe(0);
    expect(sim.miniProgram(MP)?.live).toMatchObject({ appVersion: 2 });
  });
});

describe('plugins, testers, categories, QR', () => {
  it('lists, applies for and unbinds plugins with WeChat errcodes', async () => {
    const plugin = (body: Record<string, unknown>) => wxPost(sim, api('/wxa/plugin'), body);
    expect((await plugin({ action: 'list' })).body).toMatchObject({ errcode: 0, plugin_list: [{ appid: PLUGIN, status: 2 }] });
    const other = 'wx2b03c6e691cd7370';
    expect(errcodeOf(await plugin({ action: 'apply', plugin_appid: other }))).toBe(0);
    expect(errcodeOf(await plugin({ action: 'apply', plugin_appid: other }))).toBe(89237);
    expect(errcodeOf(await plugin({ action: 'apply', plugin_appid: 'not-an-appid' }))).toBe(89239);
    expect(errcodeOf(await plugin({ action: 'unbind', plugin_appid: other }))).toBe(89243);
    expect(errcodeOf(await plugin({ action: 'unbind', plugin_appid: 'wx0000000000000000' }))).toBe(89244);
    expect(errcodeOf(await plugin({ action: 'unbind', plugin_appid: PLUGIN }))).toBe(0);
    expect((await plugin({ action: 'list' })).body).toMatchObject({ plugin_list: [{ appid: other, status: 1 }] });
  });

  it('binds testers: 85001 invalid wechatid, 85004 already bound, 85002 / 85003 limits', async () => {
    const bind = (wechatid: string, token = aat) => wxPost(sim, api('/wxa/bind_tester', token), { wechatid });
    const first = await bind('alice_wx');
    expect(first.body).toMatchObject({ errcode: 0, userstr: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(errcodeOf(await bind('alice_wx'))).toBe(85004);
    expect(errcodeOf(await bind('1bad'))).toBe(85001);
    expect(errcodeOf(await bind(''))).toBe(85001);

    sim.setQuota({ testersPerMiniProgram: 2, miniProgramsPerTester: 1 });
    expect(errcodeOf(await bind('bob_wx01'))).toBe(0);
    expect(errcodeOf(await bind('carol_wx'))).toBe(85002);
    const other = await authorize(sim, MP2);
    expect(errcodeOf(await bind('alice_wx', other.aat))).toBe(85003);
    expect(sim.miniProgram(MP)?.testers).toEqual(['alice_wx', 'bob_wx01']);
  });

  it('returns the configured categories', async () => {
    expect((await wxGet(sim, api('/wxa/get_category'))).body).toEqual({
      errcode: 0,
      errmsg: 'ok',
      category_list: [{ first_class: '工具', second_class: '效率', first_id: 287, second_id: 616 }],
    });
  });

  it('serves the experience QR as WeChat does: a JPEG named QRCode.jpg; errors as JSON labelled text/plain', async () => {
    const before = await wxGet(sim, api('/wxa/get_qrcode'));
    expect(before.contentType).toMatch(/^text\/plain/);
    expect(before.body.errcode).toBe(86001);

    await commit();
    const answer = await wxCall(sim, 'GET', api(`/wxa/get_qrcode?path=${encodeURIComponent('pages/index/index?from=qr')}`));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('image/jpeg');
    const jpeg = answer.raw;
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
    // What the product reads of it: a JPEG of WeChat's 430 px.
    expect(readImageMeta(jpeg)).toEqual({ contentType: 'image/jpeg', width: 430, height: 430 });

    const expired = await wxGet(sim, `/wxa/get_qrcode?access_token=bogus`);
    expect(expired.contentType).toMatch(/^text\/plain/);
    expect(expired.body.errcode).toBe(40001);
  });
});

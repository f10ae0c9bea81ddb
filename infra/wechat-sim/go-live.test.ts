/**
 * The go-live prerequisites WeChat holds (go-live.ts): each state the control API can put a mini program in is
 * answered by WeChat's status API with WeChat's values, and refuses submit or release with WeChat's errcode.
 */
import { authorize, errcodeOf, startSim, type WxAnswer, wxCall, wxGet, wxPost } from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9a11';
const TEMPLATE = 101;
const EXT = JSON.stringify({ extAppid: MP, pages: ['pages/index/index'] });
const SOCIAL = { first_class: '社交', second_class: '社区/论坛', first_id: 304, second_id: 780 };

let sim: WeChatSimulator;
let aat: string;
let cat: string;

beforeEach(async () => {
  sim = await startSim();
  sim.addTemplate({ templateId: TEMPLATE, userVersion: '1.0.0', userDesc: 'runtime' });
  sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' });
  ({ aat, cat } = await authorize(sim, MP, [18, 30]));
});

afterEach(async () => {
  await sim.close();
});

const api = (path: string): string => `${path}?access_token=${aat}`;
const commitAndSubmit = async (submitBody: Record<string, unknown> = {}): Promise<WxAnswer> => {
  expect(errcodeOf(await wxPost(sim, api('/wxa/commit'), { template_id: TEMPLATE, ext_json: EXT, user_version: '1', user_desc: '' }))).toBe(
    0,
  );
  return wxPost(sim, api('/wxa/submit_audit'), submitBody);
};
const approveAndRelease = async (): Promise<WxAnswer> => {
  await sim.decideAudit(MP, 'approve');
  return wxPost(sim, api('/wxa/release'), {});
};

describe('ICP filing (get_icp_entrance_info)', () => {
  it('answers filed by default, and each status the control API sets, with audit_data only when rejected', async () => {
    expect((await wxGet(sim, api('/wxa/icp/get_icp_entrance_info'))).body).toEqual({
      errcode: 0,
      errmsg: 'ok',
      info: { status: 6, is_canceling: false, available: 1 },
    });
    const auditData = [{ key_name: '小程序名称', error: '名称与主体不符', suggest: '修改名称' }];
    await wxCall(sim, 'POST', '/sim/mini-programs/go-live', { body: { appId: MP, icpStatus: 3, icpAuditData: auditData } });
    expect((await wxGet(sim, api('/wxa/icp/get_icp_entrance_info'))).body.info).toEqual({
      status: 3,
      is_canceling: false,
      available: 1,
      audit_data: auditData,
    });
    sim.setGoLive(MP, { icpStatus: 1024, icpAvailable: 0 });
    expect((await wxGet(sim, api('/wxa/icp/get_icp_entrance_info'))).body.info).toEqual({
      status: 1024,
      is_canceling: false,
      available: 0,
    });
  });

  it('refuses the first release of an unfiled mini program, and releases once it is filed', async () => {
    sim.setGoLive(MP, { icpStatus: 1024 });
    expect(errcodeOf(await commitAndSubmit())).toBe(0);
    expect(errcodeOf(await approveAndRelease())).toBe(85020);
    sim.setGoLive(MP, { icpStatus: 6 });
    expect(errcodeOf(await wxPost(sim, api('/wxa/release'), {}))).toBe(0);
  });

  it('rejects a status WeChat does not have', async () => {
    const answer = await wxCall(sim, 'POST', '/sim/mini-programs/go-live', { body: { appId: MP, icpStatus: 7 } });
    expect(answer.status).toBe(400);
  });
});

describe('verification and profile (getaccountbasicinfo, set 30)', () => {
  it('reports verification and the profile; without set 30 it answers 61007', async () => {
    sim.setGoLive(MP, { verified: false });
    sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd', profileComplete: false });
    const info = (await wxPost(sim, api('/cgi-bin/account/getaccountbasicinfo'), {})).body;
    expect(info).toMatchObject({
      errcode: 0,
      customer_type: 0,
      nickname: '',
      wx_verify_info: { qualification_verify: false },
      signature_info: { signature: '' },
      head_image_info: { head_image_url: '' },
    });
    ({ aat } = await authorize(sim, MP, [18], cat));
    expect(errcodeOf(await wxPost(sim, api('/cgi-bin/account/getaccountbasicinfo'), {}))).toBe(61007);
  });
});

describe('privacy interfaces (get_privacy_interface)', () => {
  it('lists the location interfaces with status 5 when granted and what the control API set otherwise', async () => {
    sim.setGoLive(MP, { privacyInterfaces: { 'wx.chooseLocation': 4 } });
    const list = (await wxGet(sim, api('/wxa/security/get_privacy_interface'))).body.interface_list as {
      api_name: string;
      status: number;
    }[];
    expect(list.find((i) => i.api_name === 'wx.getLocation')?.status).toBe(5);
    expect(list.find((i) => i.api_name === 'wx.chooseLocation')).toMatchObject({ status: 4, fail_reason: expect.any(String) });
  });
});

describe('penalties and bans on submit_audit', () => {
  it('86007 for a barred mini program', async () => {
    sim.setGoLive(MP, { barred: true });
    expect(errcodeOf(await commitAndSubmit())).toBe(86007);
  });

  it('86008 refuses every submit; 86009 only mini programs never released; 86010 only released ones', async () => {
    sim.setPlatformPenalty(86008);
    expect(errcodeOf(await commitAndSubmit())).toBe(86008);
    sim.setPlatformPenalty(86010);
    expect(errcodeOf(await wxPost(sim, api('/wxa/submit_audit'), {}))).toBe(0);
    expect(errcodeOf(await approveAndRelease())).toBe(0);
    expect(errcodeOf(await commitAndSubmit())).toBe(86010);
    await wxCall(sim, 'POST', '/sim/platform/penalty', { body: { errcode: 86009 } });
    expect(errcodeOf(await wxPost(sim, api('/wxa/submit_audit'), {}))).toBe(0);
  });

  it('85094 on the first submission of 社交-社区/论坛 (the doc names it) without ugc_declare, not with it', async () => {
    sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd', categories: [SOCIAL] });
    const item = { first_id: SOCIAL.first_id, second_id: SOCIAL.second_id };
    expect(errcodeOf(await commitAndSubmit({ item_list: [item] }))).toBe(85094);
    // The doc's fields: scene 0–5, method 1–4; an out-of-range value is a malformed body.
    expect(errcodeOf(await wxPost(sim, api('/wxa/submit_audit'), { item_list: [item], ugc_declare: { scene: [9] } }))).toBe(47001);
    const declared = { scene: [4], method: [1, 3], has_audit_team: 1, audit_desc: '机审后人工复核' };
    expect(errcodeOf(await wxPost(sim, api('/wxa/submit_audit'), { item_list: [item], ugc_declare: declared }))).toBe(0);
  });

  it('85094 for a category the control API marks, too; not once the mini program was submitted before', async () => {
    const TOOLS = { first_class: '工具', second_class: '效率', first_id: 287, second_id: 613 };
    sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd', categories: [TOOLS] });
    sim.setGoLive(MP, { ugcCategoryIds: [TOOLS.second_id] });
    expect(errcodeOf(await commitAndSubmit())).toBe(85094);
    expect(errcodeOf(await wxPost(sim, api('/wxa/submit_audit'), { ugc_declare: { scene: [0] } }))).toBe(0);
    await wxGet(sim, api('/wxa/undocodeaudit'));
    expect(errcodeOf(await wxPost(sim, api('/wxa/submit_audit'), {}))).toBe(0);
  });
});

describe('the order-centre path (getorderpathinfo)', () => {
  it('61041 until a path is applied for; the one applied for by info_type 1, the approved one by info_type 0', async () => {
    const read = (infoType: unknown) => wxPost(sim, api('/wxa/security/getorderpathinfo'), { info_type: infoType });
    expect(errcodeOf(await read(0))).toBe(61041);
    expect(errcodeOf(await read(1))).toBe(61041);
    expect(errcodeOf(await read(2))).toBe(47001);
    sim.setGoLive(MP, { orderPath: { path: 'pages/order/index', status: 2 } });
    expect(errcodeOf(await read(0))).toBe(61041);
    expect((await read(1)).body).toMatchObject({ errcode: 0, msg: { path: 'pages/order/index', status: 2, test_account: '' } });
    sim.setGoLive(MP, { orderPath: { path: 'pages/order/index', status: 4 } });
    expect((await read(0)).body).toMatchObject({ errcode: 0, msg: { path: 'pages/order/index', status: 4 } });
  });
});

describe("the platform's server domains (modify_wxa_server_domain, component token)", () => {
  it('lists the registered hosts ;-joined, adds by API, and leaves the lists out when nothing is restricted', async () => {
    const call = (body: unknown) => wxPost(sim, `/cgi-bin/component/modify_wxa_server_domain?access_token=${cat}`, body);
    expect((await call({ action: 'get' })).body).toEqual({ errcode: 0, errmsg: 'ok' });
    sim.configure({ registeredDomains: { server: ['api.acme.example'] } });
    expect((await call({ action: 'add', wxa_server_domain: 'cdn.acme.example' })).body).toMatchObject({
      published_wxa_server_domain: 'api.acme.example;cdn.acme.example',
    });
  });
});

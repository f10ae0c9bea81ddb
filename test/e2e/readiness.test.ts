/**
 * Go-live readiness (issue 18), end to end through the local runtime and the simulator: the report a new user sees
 * before the first build, each blocking prerequisite as WeChat's status APIs tell it, the build refused up front
 * with the whole list (and nothing stored), the release checked against the ICP filing status, and WeChat's
 * refusals told with the report's words.
 */
import { randomBytes } from 'node:crypto';

// The experience QR is not what these tests are about: a fast stand-in keeps each build inside its request's time.
jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

import { authorize, type Client, createAccount, deploymentOf, expectStatus, type Platform, startPlatform } from '../../infra/local/driver';

let p: Platform;
beforeAll(async () => {
  p = await startPlatform();
});
afterAll(() => p.close());

const TOOLS = { first_class: '工具', second_class: '效率', first_id: 287, second_id: 613 };
const GUIDE = { contact: { email: 'privacy@shop.example' } };

interface Item {
  id: string;
  status: string;
  blocks: string | null;
  title: { zh: string; en: string };
  wechat: { source: string; says: string; errcode?: number };
  fix: { zh: string; en: string } | null;
  where?: string;
  action?: string;
}
interface Report {
  appid: string;
  appId: string | null;
  ready: boolean;
  blocking: string[];
  items: Item[];
  checkedAt: number;
}

function newMiniProgram(company: string, categories = [TOOLS]): string {
  const appId = `wx${randomBytes(8).toString('hex')}`;
  p.sim.addMiniProgram({ appId, nickName: `小程序${appId.slice(-4)}`, principalName: company, categories });
  return appId;
}

/** An account with a primary, an app and its mini program authorized; `prepare` sets the mini program's state first. */
async function appWith(
  config: Record<string, unknown>,
  prepare: (target: string, company: string) => void = () => undefined,
  funcScopeIds?: number[],
) {
  const company = `测试科技有限公司${randomBytes(3).toString('hex')}`;
  const { api } = await createAccount(p, company);
  expect((await authorize(p, api, 'bind-primary', newMiniProgram(company))).result.code).toBe('PRIMARY_BOUND');
  const created = await api.post('/v1/apps', {
    kind: 'lowcode',
    name: 'Shop',
    templateId: 101,
    config: { pages: ['pages/index/index'], ...config },
  });
  const appId = String((expectStatus(created, 201).body as { id: string }).id);
  const target = newMiniProgram(company);
  prepare(target, company);
  expect((await authorize(p, api, 'authorize-app', target, appId, funcScopeIds)).result).toMatchObject({ ok: true });
  return { api, appId, target, company };
}

const reportOf = async (api: Client, path: string): Promise<Report> => expectStatus(await api.get(path), 200).body as Report;
const fresh = (api: Client, appId: string) => reportOf(api, `/v1/apps/${appId}/readiness?fresh=true`);
const item = (report: Report, id: string): Item => {
  const found = report.items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id}`);
  return found;
};
const build = (api: Client, appId: string) => api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.0', userDesc: 'first' });
const errorOf = (body: unknown) => (body as { error: { code: string; message: string; details?: { blocking?: string[] } } }).error;

describe('a new user, before the first build', () => {
  it('sees the missing ICP filing, the missing category and the missing privacy guide, each with what to do', async () => {
    const { api, appId, target } = await appWith({ requiredPrivateInfos: ['getLocation'] }, (mp, company) => {
      p.sim.addMiniProgram({ appId: mp, nickName: 'New Shop', principalName: company, categories: [] });
      p.sim.setGoLive(mp, { icpStatus: 1024 });
    });
    const report = await reportOf(api, `/v1/apps/${appId}/readiness`);
    expect(report).toMatchObject({ appid: target, appId, ready: false });
    expect(report.blocking).toEqual(expect.arrayContaining(['icp-filing', 'category', 'privacy-guide']));

    expect(item(report, 'icp-filing')).toMatchObject({
      status: 'blocking',
      blocks: 'release',
      wechat: { source: 'get_icp_entrance_info', says: expect.stringContaining('1024') },
      fix: { zh: expect.stringContaining('备案'), en: expect.stringContaining('ICP filing') },
      where: expect.stringContaining('小程序备案'),
    });
    expect(item(report, 'category')).toMatchObject({
      status: 'blocking',
      wechat: { source: 'get_category', says: expect.stringContaining('empty') },
      where: expect.stringContaining('服务类目'),
    });
    expect(item(report, 'privacy-guide')).toMatchObject({
      status: 'blocking',
      blocks: 'build',
      fix: { en: expect.stringContaining('config.privacyGuide.contact') },
      action: 'set-privacy-guide',
    });
    // The mini program's own report (with its linked app) says the same.
    const own = await reportOf(api, `/v1/mini-programs/${target}/readiness`);
    expect(own.blocking).toEqual(report.blocking);
  });

  it('serves a report from the last minute without asking WeChat again; fresh=true asks', async () => {
    const { api, appId } = await appWith({ privacyGuide: GUIDE });
    const first = await reportOf(api, `/v1/apps/${appId}/readiness`);
    p.sim.resetCounters();
    const again = await reportOf(api, `/v1/apps/${appId}/readiness`);
    expect(again.checkedAt).toBe(first.checkedAt);
    expect(p.sim.counters()['/wxa/icp/get_icp_entrance_info']).toBeUndefined();
    await fresh(api, appId);
    expect(p.sim.counters()['/wxa/icp/get_icp_entrance_info']).toBe(1);
  });
});

describe('each blocking prerequisite, as WeChat tells it', () => {
  it('ICP filing rejected: the reasons WeChat gives', async () => {
    const auditData = [{ key_name: '小程序名称', error: '名称与主体不符', suggest: '修改名称后重新提交' }];
    const { api, appId } = await appWith({ privacyGuide: GUIDE }, (mp) => p.sim.setGoLive(mp, { icpStatus: 5, icpAuditData: auditData }));
    expect(item(await fresh(api, appId), 'icp-filing')).toMatchObject({
      status: 'blocking',
      wechat: { says: expect.stringContaining('小程序名称: 名称与主体不符 (修改名称后重新提交)') },
    });
  });

  it('unverified, and name/avatar/introduction missing: read from the filing status when set 30 is not granted', async () => {
    const { api, appId } = await appWith({ privacyGuide: GUIDE }, (mp) => p.sim.setGoLive(mp, { icpStatus: 1029, verified: false }), [18]);
    const report = await fresh(api, appId);
    expect(item(report, 'verification')).toMatchObject({
      status: 'blocking',
      wechat: { source: 'get_icp_entrance_info' },
      where: expect.stringContaining('微信认证'),
    });
    expect(item(report, 'profile')).toMatchObject({ status: 'blocking', blocks: 'submit', wechat: { source: 'get_icp_entrance_info' } });
    expect(item(report, 'permission-sets')).toMatchObject({ status: 'warning', wechat: { says: expect.stringContaining('set 30') } });
  });

  it('the authorization asks for set 30: verification is read from getaccountbasicinfo; left unchecked, from the filing status', async () => {
    const { api, appId, target } = await appWith({ privacyGuide: GUIDE }, (mp) =>
      p.sim.setGoLive(mp, { icpStatus: 1024, verified: false }),
    );
    expect(p.sim.miniProgram(target)?.funcScopeIds).toEqual([18, 30]);
    const granted = await fresh(api, appId);
    // Unfiled with nothing missing (1024) would pass verification; getaccountbasicinfo tells it is not done.
    expect(item(granted, 'verification')).toMatchObject({
      status: 'blocking',
      wechat: { source: 'getaccountbasicinfo', says: expect.stringContaining('qualification_verify: false') },
    });
    expect(item(granted, 'permission-sets').status).toBe('ok');

    const without = await appWith({ privacyGuide: GUIDE }, (mp) => p.sim.setGoLive(mp, { icpStatus: 1024 }), [18]);
    const fallback = await fresh(without.api, without.appId);
    expect(item(fallback, 'verification')).toMatchObject({ status: 'ok', wechat: { source: 'get_icp_entrance_info' } });
    expect(item(fallback, 'profile')).toMatchObject({ status: 'ok', wechat: { source: 'get_icp_entrance_info' } });
  });

  it('no category', async () => {
    const { api, appId } = await appWith({ privacyGuide: GUIDE }, (mp, company) =>
      p.sim.addMiniProgram({ appId: mp, nickName: 'Shop', principalName: company, categories: [] }),
    );
    expect(item(await fresh(api, appId), 'category').status).toBe('blocking');
  });

  it('a location API WeChat has not granted', async () => {
    const { api, appId } = await appWith({ privacyGuide: GUIDE, requiredPrivateInfos: ['getLocation'] }, (mp) =>
      p.sim.setGoLive(mp, { privacyInterfaces: { 'wx.getLocation': 4 } }),
    );
    expect(item(await fresh(api, appId), 'privacy-interfaces')).toMatchObject({
      status: 'blocking',
      wechat: { source: 'get_privacy_interface', says: expect.stringContaining('wx.getLocation: status 4') },
    });
  });

  it("a domain the platform has not registered, and the month's quota used up", async () => {
    const { api, appId } = await appWith({ privacyGuide: GUIDE, serverDomains: { request: ['https://api.unregistered.example'] } });
    p.sim.setQuota({ submitRest: 0 });
    try {
      const report = await fresh(api, appId);
      expect(item(report, 'platform-domains')).toMatchObject({
        status: 'blocking',
        blocks: 'build',
        wechat: { says: expect.stringContaining('api.unregistered.example') },
        where: expect.stringContaining('open.weixin.qq.com'),
      });
      expect(item(report, 'audit-quota')).toMatchObject({ status: 'blocking', wechat: { says: expect.stringContaining('rest 0') } });
    } finally {
      p.sim.setQuota({ submitRest: 20 });
    }
  });
});

describe('the build is refused up front with the whole list', () => {
  it('stores nothing: no deployment, no claim on the app; fixed, the next build goes through', async () => {
    const { api, appId, target, company } = await appWith({ requiredPrivateInfos: ['getLocation'] }, (mp, owner) =>
      p.sim.addMiniProgram({ appId: mp, nickName: 'Shop', principalName: owner, categories: [] }),
    );
    p.sim.resetCounters();
    const refused = await build(api, appId);
    expect(refused.status).toBe(409);
    expect(errorOf(refused.body)).toMatchObject({ code: 'NOT_READY_TO_GO_LIVE', details: { blocking: ['category', 'privacy-guide'] } });
    expect(p.sim.counters()['/wxa/commit']).toBeUndefined();
    expect((expectStatus(await api.get(`/v1/deployments?appId=${appId}`), 200).body as { deployments: unknown[] }).deployments).toEqual([]);
    expect((expectStatus(await api.get(`/v1/apps/${appId}`), 200).body as { state?: string }).state).not.toBe('building');

    p.sim.addMiniProgram({ appId: target, nickName: 'Shop', principalName: company, categories: [TOOLS] });
    expectStatus(
      await api.put(`/v1/apps/${appId}/config`, {
        pages: ['pages/index/index'],
        requiredPrivateInfos: ['getLocation'],
        privacyGuide: GUIDE,
      }),
      200,
    );
    expect(deploymentOf(expectStatus(await build(api, appId), 202)).state).toBe('built');
  });
});

describe('the UGC declaration a social category needs on its first submit', () => {
  const FORUM = { first_class: '社交', second_class: '社区/论坛', first_id: 210, second_id: 1127 };
  const DECLARATION = { scene: [2, 4], method: [1, 3], hasAuditTeam: true, auditDesc: '发布前机审，可疑内容人工复核' };

  it('blocks the first build up front until the app declares it; declared, the submit carries it and WeChat takes it', async () => {
    const { api, appId } = await appWith({ privacyGuide: GUIDE }, (mp, owner) =>
      p.sim.addMiniProgram({ appId: mp, nickName: 'Forum', principalName: owner, categories: [FORUM] }),
    );
    expect(item(await fresh(api, appId), 'ugc-declaration')).toMatchObject({
      status: 'blocking',
      blocks: 'submit',
      wechat: { source: 'get_category', says: expect.stringContaining('社交/社区/论坛') },
      fix: { en: expect.stringContaining('config.ugcDeclaration') },
    });
    const refused = await build(api, appId);
    expect(refused.status).toBe(409);
    expect(errorOf(refused.body).details?.blocking).toEqual(['ugc-declaration']);

    const config = { pages: ['pages/index/index'], privacyGuide: GUIDE };
    const bad = await api.put(`/v1/apps/${appId}/config`, { ...config, ugcDeclaration: { scene: [0, 4] } });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { field: string } }).error.field).toBe('body.ugcDeclaration.scene');
    expectStatus(await api.put(`/v1/apps/${appId}/config`, { ...config, ugcDeclaration: DECLARATION }), 200);
    expect(item(await fresh(api, appId), 'ugc-declaration').status).toBe('ok');

    const built = deploymentOf(expectStatus(await build(api, appId), 202));
    // The simulator refuses a first submit of 社交-社区/论坛 without ugc_declare (85094), as WeChat's doc says.
    expect(deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/submit`), 200)).state).toBe('auditing');
  });
});

describe('the order-centre path, as getorderpathinfo tells it', () => {
  const SHOP = { first_class: '商家自营', second_class: '服装/鞋/箱包', first_id: 304, second_id: 785 };

  it('a trade mini program: none, then rejected, then the approved path in effect', async () => {
    const { api, appId, target } = await appWith({ privacyGuide: GUIDE }, (mp, owner) =>
      p.sim.addMiniProgram({ appId: mp, nickName: 'Shop', principalName: owner, categories: [SHOP] }),
    );
    expect(item(await fresh(api, appId), 'order-path')).toMatchObject({
      status: 'warning',
      wechat: { source: 'getorderpathinfo', says: expect.stringContaining('61041') },
      where: expect.stringContaining('订单中心'),
    });
    p.sim.setGoLive(target, { orderPath: { path: 'pages/order/detail?channel=wx', status: 3 } });
    expect(item(await fresh(api, appId), 'order-path').wechat.says).toContain('审核失败');
    p.sim.setGoLive(target, { orderPath: { path: 'pages/order/detail?channel=wx', status: 4 } });
    p.sim.resetCounters();
    expect(item(await fresh(api, appId), 'order-path')).toMatchObject({
      status: 'ok',
      wechat: { says: expect.stringContaining('pages/order/detail') },
      fix: null,
    });
    // The path in effect answers at once: one call.
    expect(p.sim.counters()['/wxa/security/getorderpathinfo']).toBe(1);
  });
});

describe('the release checks the ICP filing first', () => {
  it('an approved version of an unfiled, never released mini program is not released; filed, it is', async () => {
    const { api, appId, target } = await appWith({ privacyGuide: GUIDE }, (mp) => p.sim.setGoLive(mp, { icpStatus: 1024 }));
    const built = deploymentOf(expectStatus(await build(api, appId), 202));
    expect(deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/submit`), 200)).state).toBe('auditing');
    await p.sim.decideAudit(target, 'approve');
    await p.sim.pushesSettled();
    p.sim.resetCounters();
    const refused = await api.post(`/v1/deployments/${built.id}/release`);
    expect(refused.status).toBe(409);
    expect(errorOf(refused.body)).toMatchObject({ code: 'NOT_READY_TO_GO_LIVE', details: { blocking: ['icp-filing'] } });
    expect(p.sim.counters()['/wxa/release']).toBeUndefined();
    expect(deploymentOf(expectStatus(await api.get(`/v1/deployments/${built.id}`), 200)).state).toBe('approved');

    p.sim.setGoLive(target, { icpStatus: 6 });
    expect(deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/release`), 200)).state).toBe('released');
  });
});

describe('a refusal WeChat answers speaks with the report’s voice', () => {
  it('a penalised platform (86009): the deployment fails naming the penalties item, and the report shows it', async () => {
    const { api, appId } = await appWith({ privacyGuide: GUIDE });
    const built = deploymentOf(expectStatus(await build(api, appId), 202));
    p.sim.setPlatformPenalty(86009);
    try {
      const failed = deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/submit`), 200));
      expect(failed).toMatchObject({ state: 'failed', failure: { errcode: 86009 } });
      expect(failed.failure?.reason).toContain('[readiness: penalties]');
      const penalties = item(await fresh(api, appId), 'penalties');
      expect(penalties).toMatchObject({ status: 'blocking', wechat: { errcode: 86009 } });
      expect(failed.failure?.reason).toContain(penalties.fix?.en ?? 'no fix');
    } finally {
      p.sim.setPlatformPenalty(null);
    }
  });

  it('a barred mini program (86007) refuses the next build up front', async () => {
    const { api, appId, target } = await appWith({ privacyGuide: GUIDE });
    const built = deploymentOf(expectStatus(await build(api, appId), 202));
    p.sim.setGoLive(target, { barred: true });
    expect(deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/submit`), 200)).failure?.errcode).toBe(86007);
    const refused = await build(api, appId);
    expect(refused.status).toBe(409);
    expect(errorOf(refused.body).details?.blocking).toEqual(['penalties']);
    // No status API tells when the bar is lifted: the user says so by building again with retryRefused.
    expect(errorOf(refused.body).message).toContain('retryRefused');
    p.sim.setGoLive(target, { barred: false });
    expect((await build(api, appId)).status).toBe(409);
    const retried = await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.1', retryRefused: true });
    expect(deploymentOf(expectStatus(retried, 202)).state).not.toBe('failed');
  });
});

describe("the worker's own steps check again before asking WeChat", () => {
  it('a retried submit whose quota ran out since fails with the report’s words, without calling submit_audit', async () => {
    const { api, appId, target } = await appWith({ privacyGuide: GUIDE });
    const built = deploymentOf(expectStatus(await build(api, appId), 202));
    // A refusal of no readiness item (45009, the day's call quota), which the user may retry.
    p.sim.scriptFault({ path: '/wxa/submit_audit', appId: target, errcode: 45009 });
    const failed = deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/submit`), 200));
    expect(failed).toMatchObject({ state: 'failed', failure: { errcode: 45009, retryable: true } });
    p.sim.setQuota({ submitRest: 0 });
    try {
      // The console shows the report; the user retries anyway (a retry runs no HTTP gate, only the step).
      expect(item(await fresh(api, appId), 'audit-quota').status).toBe('blocking');
      p.sim.resetCounters();
      const retried = deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/retry`), 200));
      expect(retried).toMatchObject({ state: 'failed', failure: { retryable: true } });
      expect(retried.failure?.reason).toContain('[readiness: audit-quota]');
      expect(p.sim.counters()['/wxa/submit_audit']).toBeUndefined();
    } finally {
      p.sim.setQuota({ submitRest: 20 });
    }
    // Fixed, the same retry goes through: the step reads again what the kept report said was blocking — and reads
    // the categories once, for the report and for the audit's item.
    p.sim.resetCounters();
    expect(deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/retry`), 200)).state).toBe('auditing');
    expect(p.sim.counters()['/wxa/get_category']).toBe(1);
  });

  it('a retried release of a never released mini program whose filing is found wanting is not sent to WeChat', async () => {
    const { api, appId, target } = await appWith({ privacyGuide: GUIDE });
    const built = deploymentOf(expectStatus(await build(api, appId), 202));
    expect(deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/submit`), 200)).state).toBe('auditing');
    await p.sim.decideAudit(target, 'approve');
    await p.sim.pushesSettled();
    // A refusal the user may retry (45009); a retry runs the release step again without the HTTP gate.
    p.sim.scriptFault({ path: '/wxa/release', appId: target, errcode: 45009 });
    expect(deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/release`), 200)).failure?.errcode).toBe(45009);
    p.sim.setGoLive(target, { icpStatus: 1024 });
    p.sim.resetCounters();
    const after = deploymentOf(expectStatus(await api.post(`/v1/deployments/${built.id}/retry`), 200));
    expect(after).toMatchObject({ state: 'failed', failure: { retryable: true } });
    expect(after.failure?.reason).toContain('[readiness: icp-filing]');
    expect(p.sim.counters()['/wxa/release']).toBeUndefined();
  });
});

describe('fixes by API', () => {
  it('set-privacy-guide sets the guide from the app config; set-domains sets the domains the app needs', async () => {
    const { api, target } = await appWith({ privacyGuide: GUIDE, requiredPrivateInfos: ['getLocation'] });
    const before = await reportOf(api, `/v1/mini-programs/${target}/readiness?fresh=true`);
    expect(item(before, 'privacy-guide')).toMatchObject({ status: 'warning', action: 'set-privacy-guide' });
    expect(item(before, 'mini-program-domains')).toMatchObject({ status: 'warning', action: 'set-domains' });

    const guided = expectStatus(await api.post(`/v1/mini-programs/${target}/readiness/set-privacy-guide`), 200).body as Report;
    expect(item(guided, 'privacy-guide').status).toBe('ok');
    expect(p.sim.miniProgram(target)?.privacyGuide?.settingList.map((s) => s.privacy_key)).toEqual(['Location']);

    const domains = expectStatus(await api.post(`/v1/mini-programs/${target}/readiness/set-domains`), 200).body as Report;
    expect(item(domains, 'mini-program-domains').status).toBe('ok');
    expect(p.sim.miniProgram(target)?.domains.downloaddomain).toEqual([new URL(p.url).origin]);
  });

  it('the mini program domains are compared list by list: a host set for downloads is still missing for requests', async () => {
    const CDN = 'https://cdn.shop.example';
    p.sim.configure({ registeredDomains: { server: [new URL(p.url).hostname, 'cdn.shop.example'] } });
    try {
      const { api, appId, target } = await appWith({ privacyGuide: GUIDE, serverDomains: { download: [CDN] } });
      const set = expectStatus(await api.post(`/v1/mini-programs/${target}/readiness/set-domains`), 200).body as Report;
      expect(item(set, 'mini-program-domains').status).toBe('ok');
      const config = { pages: ['pages/index/index'], privacyGuide: GUIDE, serverDomains: { download: [CDN], request: [CDN] } };
      expectStatus(await api.put(`/v1/apps/${appId}/config`, config), 200);
      expect(item(await fresh(api, appId), 'mini-program-domains')).toMatchObject({
        status: 'warning',
        wechat: { says: `not set yet: requestdomain ${CDN}` },
        action: 'set-domains',
      });
    } finally {
      p.sim.configure({ registeredDomains: { server: [new URL(p.url).hostname] } });
    }
  });

  it('set-privacy-guide without a contact in the config is refused, naming the field, and sets nothing', async () => {
    const { api, target } = await appWith({ requiredPrivateInfos: ['getLocation'] });
    const refused = await api.post(`/v1/mini-programs/${target}/readiness/set-privacy-guide`);
    expect(refused.status).toBe(409);
    expect((refused.body as { error: { code: string; field: string } }).error).toMatchObject({
      code: 'PRIVACY_GUIDE_INCOMPLETE',
      field: 'config.privacyGuide.contact',
    });
    expect(p.sim.miniProgram(target)?.privacyGuide).toBeUndefined();
  });
});

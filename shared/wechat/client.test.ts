/**
 * The WeChat client against the WeChat simulator, over real sockets: every endpoint once on its happy path
 * (with the zod-parsed result), then every retry and token-refresh rule, counted with the simulator's counters.
 * Sleeps are injected (instant), so backoff costs no wall time.
 */
import { createServer } from 'node:http';
import { startWeChatSimulator, type WeChatSimulator } from '../../infra/wechat-sim/index';
import { type TokenSource, WeChatClient } from './client';
import { ComponentApi, OPERATIONS } from './component-api';
import { WeChatApiError, WeChatNetworkError, WeChatQuotaError, WeChatResponseError } from './errcodes';
import type { WeChatAttemptEvent, WeChatHttpOptions } from './http';

const COMPONENT = {
  appId: 'wx0c0a0f0e0d0c0b01',
  secret: 'componentsecret0123456789abcdef0',
  token: 'simtoken',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
} as const;

const CATEGORY = { first_class: '工具', second_class: '效率', first_id: 287, second_id: 616 } as const;
const TEMPLATE_ID = 7;

const startSimulator = async (): Promise<WeChatSimulator> => {
  const sim = await startWeChatSimulator({ component: { ...COMPONENT } });
  sim.addTemplate({
    templateId: TEMPLATE_ID,
    userVersion: '1.0.0',
    userDesc: 'base template',
    pages: ['pages/index/index', 'pages/about/about'],
  });
  return sim;
};

const NO_FAULTS = { systemErrorRate: 0, http5xxRate: 0, latencyMs: 0, hangRate: 0 } as const;

/** Every endpoint some test client got a successful, schema-valid answer from. */
const succeeded = new Set<string>();

let appCounter = 0;
/** A fresh 18-character appid per call, so tests do not share mini-program state. */
const newAppId = (): string => `wx${(0xa000000000000000n + BigInt(++appCounter)).toString(16)}`;

const addMiniProgram = (sim: WeChatSimulator, appId: string): void => {
  sim.addMiniProgram({
    appId,
    nickName: `Shop ${appId.slice(-4)}`,
    principalName: 'Example Trading Co., Ltd.',
    categories: [{ ...CATEGORY }],
    profileComplete: true,
  });
};

/**
 * Caches one component token and one authorizer token per appid; refreshes on a rejection only when the
 * rejected token is still the cached one (the compare-and-set rule a real TokenSource must follow).
 */
class SimTokenSource implements TokenSource {
  readonly rejections: { kind: 'component' | 'authorizer'; appId?: string; token: string }[] = [];
  /** When false, rejections are recorded but nothing is refreshed (to test a persistent token error). */
  refreshOnRejection = true;
  private component: string | undefined;
  private readonly authorizers = new Map<string, { access: string; refresh: string }>();
  /** Tokens to hand out before the real ones, e.g. a bogus one to provoke 40001. */
  readonly overrides = new Map<string, string[]>();

  constructor(
    readonly api: ComponentApi,
    private readonly sim: WeChatSimulator,
  ) {}

  async componentToken(): Promise<string> {
    const forced = this.overrides.get('component')?.shift();
    if (forced !== undefined) return forced;
    if (this.component === undefined) {
      const ticket = await this.sim.pushVerifyTicket();
      this.component = (await this.api.getComponentToken(ticket)).component_access_token;
    }
    return this.component;
  }

  async authorizerToken(appId: string): Promise<string> {
    const forced = this.overrides.get(appId)?.shift();
    if (forced !== undefined) return forced;
    const entry = this.authorizers.get(appId);
    if (entry === undefined) throw new Error(`test setup: ${appId} was not authorized`);
    return entry.access;
  }

  async componentTokenRejected(failedToken: string): Promise<void> {
    this.rejections.push({ kind: 'component', token: failedToken });
    if (this.refreshOnRejection && this.component === failedToken) this.component = undefined;
  }

  async authorizerTokenRejected(appId: string, failedToken: string): Promise<void> {
    this.rejections.push({ kind: 'authorizer', appId, token: failedToken });
    const entry = this.authorizers.get(appId);
    if (!this.refreshOnRejection || entry === undefined || entry.access !== failedToken) return;
    const fresh = await this.api.refreshAuthorizerToken(await this.componentToken(), appId, entry.refresh);
    this.authorizers.set(appId, { access: fresh.authorizer_access_token, refresh: fresh.authorizer_refresh_token });
  }

  /** Plays the whole authorization: pre-auth code → admin scan → query_auth; keeps the tokens. */
  async authorize(appId: string, funcScopeIds?: number[]): Promise<void> {
    const cat = await this.componentToken();
    const { pre_auth_code } = await this.api.createPreAuthCode(cat);
    const { authCode } = await this.sim.scanAuthorization({
      preAuthCode: pre_auth_code,
      appId,
      ...(funcScopeIds ? { funcScopeIds } : {}),
    });
    const auth = await this.api.queryAuth(cat, authCode);
    const info = auth.authorization_info;
    if (info.authorizer_access_token === undefined || info.authorizer_refresh_token === undefined) {
      throw new Error('test setup: query_auth returned no tokens');
    }
    this.authorizers.set(appId, { access: info.authorizer_access_token, refresh: info.authorizer_refresh_token });
  }

  refreshTokenOf(appId: string): string | undefined {
    return this.authorizers.get(appId)?.refresh;
  }
}

interface TestClient {
  client: WeChatClient;
  api: ComponentApi;
  tokens: SimTokenSource;
  /** Backoff delays the client asked to sleep, in order. */
  sleeps: number[];
  attempts: WeChatAttemptEvent[];
}

/**
 * A client against `sim` with instant sleeps. `onSleep` runs inside the backoff pause, which is where a test
 * can clear a fault "while the client waits".
 */
const makeClient = (
  sim: WeChatSimulator,
  options: Partial<WeChatHttpOptions> & { onSleep?: (ms: number) => void; tokens?: SimTokenSource } = {},
): TestClient => {
  const sleeps: number[] = [];
  const attempts: WeChatAttemptEvent[] = [];
  const { onSleep, tokens: sharedTokens, ...httpOptions } = options;
  const api = new ComponentApi({
    componentAppId: COMPONENT.appId,
    componentAppSecret: COMPONENT.secret,
    apiBase: sim.baseUrl,
    pcAuthPageBase: sim.baseUrl,
    mobileAuthPageBase: sim.baseUrl,
    // Generous: a loaded CI machine can take seconds to make a QR image; the timeout tests set their own, short.
    timeoutMs: 60_000,
    sleep: async (ms) => {
      sleeps.push(ms);
      onSleep?.(ms);
    },
    onAttempt: (event) => {
      attempts.push(event);
      if (event.outcome === 'ok') succeeded.add(event.endpoint);
    },
    ...httpOptions,
  });
  // The token source talks to the simulator through its own, retry-free API so its calls never blur the counts.
  const tokenApi = new ComponentApi({
    componentAppId: COMPONENT.appId,
    componentAppSecret: COMPONENT.secret,
    apiBase: sim.baseUrl,
    retry: { attempts: 1 },
  });
  const tokens = sharedTokens ?? new SimTokenSource(tokenApi, sim);
  return { client: new WeChatClient({ api, tokens }), api, tokens, sleeps, attempts };
};

const makeTokens = (sim: WeChatSimulator): SimTokenSource =>
  new SimTokenSource(
    new ComponentApi({
      componentAppId: COMPONENT.appId,
      componentAppSecret: COMPONENT.secret,
      apiBase: sim.baseUrl,
      retry: { attempts: 1 },
    }),
    sim,
  );

const EXT_JSON = (appId: string): Record<string, unknown> => ({
  extAppid: appId,
  ext: { shopId: 'shop-1', theme: { mainColor: '#00aa55' } },
  pages: ['pages/index/index', 'pages/about/about'],
  window: { navigationBarTitleText: 'Shop' },
});

const AUDIT_ITEM = { ...CATEGORY, address: 'pages/index/index', tag: 'shop tools', title: 'Home' };

/** What a caught rejection is, without `any`. */
const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
};

let sim: WeChatSimulator;
const count = (path: string): number => sim.counters()[path] ?? 0;

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.setFaults(NO_FAULTS);
});

/** A new mini program, authorized (all permission sets) with `tokens`, optionally with committed code. */
const freshApp = async (tokens: SimTokenSource, opts: { commit?: boolean } = {}): Promise<string> => {
  const appId = newAppId();
  addMiniProgram(sim, appId);
  await tokens.authorize(appId);
  if (opts.commit) {
    await tokens.api.commit(await tokens.authorizerToken(appId), {
      templateId: TEMPLATE_ID,
      extJson: EXT_JSON(appId),
      userVersion: '1.0.0',
      userDesc: 'first build',
    });
  }
  return appId;
};

// ===========================================================================================================
describe('platform endpoints (happy path)', () => {
  it('api_start_push_ticket, api_component_token, api_create_preauthcode', async () => {
    const { api } = makeClient(sim);
    await expect(api.startPushTicket()).resolves.toBeUndefined();
    const ticket = await sim.pushVerifyTicket();
    const token = await api.getComponentToken(ticket);
    expect(token).toEqual({ component_access_token: expect.stringMatching(/^\S{20,}$/), expires_in: 7200 });
    const pre = await api.createPreAuthCode(token.component_access_token);
    expect(pre).toEqual({ pre_auth_code: expect.stringMatching(/^preauthcode@@@/), expires_in: expect.any(Number) });
  });

  it('authorization pages (PC and mobile) are accepted by the page host, and api_query_auth exchanges the code', async () => {
    const t = makeClient(sim);
    const appId = newAppId();
    addMiniProgram(sim, appId);
    const { pre_auth_code } = await t.client.createPreAuthCode();
    const redirectUri = 'https://console.example.com/wechat/authorized?tenant=t1&app=a1';

    const pc = t.client.authorizationPageUrl({ preAuthCode: pre_auth_code, redirectUri, authType: 2, categoryIdList: [18, 40] });
    expect(pc.startsWith(`${sim.baseUrl}/cgi-bin/componentloginpage?`)).toBe(true);
    const pcPage = await fetch(pc);
    await pcPage.text();
    expect(pcPage.status).toBe(200);

    const mobile = t.client.authorizationPageUrl({ preAuthCode: pre_auth_code, redirectUri, mobile: true, bizAppId: appId });
    expect(mobile.endsWith('#wechat_redirect')).toBe(true);
    const mobilePage = await fetch(mobile);
    await mobilePage.text();
    expect(mobilePage.status).toBe(200);

    const { authCode, redirectUrl } = await sim.scanAuthorization({ preAuthCode: pre_auth_code, appId });
    // The redirect_uri arrived decoded exactly once: its own query survives and the auth code is appended.
    const redirect = new URL(redirectUrl);
    expect(`${redirect.origin}${redirect.pathname}`).toBe('https://console.example.com/wechat/authorized');
    expect(redirect.searchParams.get('tenant')).toBe('t1');
    expect(redirect.searchParams.get('app')).toBe('a1');
    expect(redirect.searchParams.get('auth_code')).toBe(authCode);

    const auth = await t.client.queryAuth(authCode);
    expect(auth.authorization_info).toMatchObject({
      authorizer_appid: appId,
      authorizer_access_token: expect.any(String),
      authorizer_refresh_token: expect.any(String),
      expires_in: expect.any(Number),
    });
    expect(auth.authorization_info.func_info.map((f) => f.funcscope_category.id)).toContain(18);
  });

  it('api_authorizer_token, api_get_authorizer_info, api_get_authorizer_list', async () => {
    const t = makeClient(sim);
    const appId = await freshApp(t.tokens);
    const refreshToken = t.tokens.refreshTokenOf(appId) ?? '';
    const refreshed = await t.api.refreshAuthorizerToken(await t.tokens.componentToken(), appId, refreshToken);
    expect(refreshed).toEqual({
      authorizer_access_token: expect.any(String),
      expires_in: expect.any(Number),
      authorizer_refresh_token: expect.any(String),
    });

    const info = await t.client.getAuthorizerInfo(appId);
    expect(info.authorizer_info).toMatchObject({
      nick_name: `Shop ${appId.slice(-4)}`,
      principal_name: 'Example Trading Co., Ltd.',
      user_name: expect.stringMatching(/^gh_/),
    });
    expect(info.authorization_info.authorizer_appid).toBe(appId);
    expect(info.authorization_info.func_info.length).toBeGreaterThan(0);

    const list = await t.client.getAuthorizerList(0, 500);
    expect(list.total_count).toBeGreaterThanOrEqual(1);
    expect(list.list.find((a) => a.authorizer_appid === appId)).toEqual({
      authorizer_appid: appId,
      refresh_token: expect.any(String),
      auth_time: expect.any(Number),
    });
  });

  it('gettemplatelist (component token as access_token)', async () => {
    const t = makeClient(sim);
    const list = await t.client.getTemplateList();
    expect(list.template_list).toContainEqual(
      expect.objectContaining({ template_id: TEMPLATE_ID, user_version: '1.0.0', user_desc: 'base template' }),
    );
    const normal = await t.client.getTemplateList(0);
    expect(normal.template_list.map((x) => x.template_id)).toContain(TEMPLATE_ID);
  });
});

// ===========================================================================================================
describe('code management (happy path, one mini program through its lifecycle)', () => {
  let t: TestClient;
  let appId: string;
  let auditId: number;

  beforeAll(async () => {
    t = makeClient(sim);
    appId = await freshApp(t.tokens);
  });

  it('commit, get_page, get_category, get_qrcode', async () => {
    await expect(
      t.client.commit(appId, { templateId: TEMPLATE_ID, extJson: EXT_JSON(appId), userVersion: '1.0.0', userDesc: 'first build' }),
    ).resolves.toBeUndefined();
    expect(await t.client.getPage(appId)).toEqual({ page_list: ['pages/index/index', 'pages/about/about'] });
    expect(await t.client.getCategory(appId)).toEqual({ category_list: [expect.objectContaining(CATEGORY)] });

    const qr = await t.client.getQrcode(appId, 'pages/about/about?from=test&x=1');
    expect(qr.contentType).toMatch(/^image\/(png|jpeg)/);
    const png = qr.bytes.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const jpeg = qr.bytes[0] === 0xff && qr.bytes[1] === 0xd8;
    expect(png || jpeg).toBe(true);
  });

  it('get_code_privacy_info, setprivacysetting, getprivacysetting', async () => {
    const scan = await t.client.getCodePrivacyInfo(appId);
    expect(Array.isArray(scan.without_auth_list) && Array.isArray(scan.without_conf_list)).toBe(true);
    await expect(
      t.client.setPrivacySetting(appId, {
        owner_setting: { contact_email: 'privacy@example.com', notice_method: 'pop-up on first use' },
        setting_list: [{ privacy_key: 'UserInfo', privacy_text: 'to show your profile picture' }],
      }),
    ).resolves.toBeUndefined();
    const setting = await t.client.getPrivacySetting(appId);
    expect(setting.setting_list).toContainEqual(expect.objectContaining({ privacy_key: 'UserInfo' }));
    expect(setting.owner_setting).toMatchObject({ contact_email: 'privacy@example.com' });
  });

  it('modify_domain and setwebviewdomain: get, add, get again', async () => {
    const lists = {
      requestdomain: [],
      wsrequestdomain: [],
      uploaddomain: [],
      downloaddomain: ['https://assets.example.com'],
      udpdomain: [],
      tcpdomain: [],
    };
    expect(await t.client.modifyDomain(appId, { action: 'get' })).toMatchObject({ downloaddomain: [] });
    expect(await t.client.modifyDomain(appId, { action: 'add', ...lists })).toMatchObject({
      downloaddomain: ['https://assets.example.com'],
    });
    await expect(t.client.modifyDomain(appId, { action: 'add', ...lists })).rejects.toMatchObject({ errcode: 85017 });
    expect(await t.client.setWebviewDomain(appId, { action: 'add', webviewdomain: ['https://h5.example.com'] })).toEqual({
      webviewdomain: ['https://h5.example.com'],
    });
    expect(await t.client.setWebviewDomain(appId, { action: 'get' })).toEqual({ webviewdomain: ['https://h5.example.com'] });
  });

  it('go-live reads: get_icp_entrance_info, getaccountbasicinfo, get_privacy_interface, the platform server domains', async () => {
    sim.setGoLive(appId, {
      icpStatus: 3,
      icpAuditData: [{ key_name: '小程序名称', error: '与主体不符', suggest: '修改名称' }],
      verified: false,
    });
    expect(await t.client.getIcpEntranceInfo(appId)).toEqual({
      info: {
        status: 3,
        is_canceling: false,
        available: 1,
        audit_data: [{ key_name: '小程序名称', error: '与主体不符', suggest: '修改名称' }],
      },
    });
    expect(await t.client.getAccountBasicInfo(appId)).toMatchObject({ customer_type: 0, wx_verify_info: { qualification_verify: false } });
    const interfaces = (await t.client.getPrivacyInterface(appId)).interface_list;
    expect(interfaces).toContainEqual(expect.objectContaining({ api_name: 'wx.getLocation', status: 5 }));
    sim.configure({ registeredDomains: { server: ['assets.example.com', 'api.example.com'] } });
    expect(await t.client.getPlatformServerDomains()).toMatchObject({
      published_wxa_server_domain: ['assets.example.com', 'api.example.com'],
    });
    sim.setGoLive(appId, { icpStatus: 6, verified: true });
  });

  it('queryquota, submit_audit, get_auditstatus, get_latest_auditstatus, speedupaudit', async () => {
    const quota = await t.client.queryQuota(appId);
    expect(quota).toEqual({
      rest: expect.any(Number),
      limit: expect.any(Number),
      speedup_rest: expect.any(Number),
      speedup_limit: expect.any(Number),
    });
    const submitted = await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM], version_desc: 'first version' });
    expect(submitted.auditid).toEqual(expect.any(Number));
    auditId = submitted.auditid;
    expect((await t.client.queryQuota(appId)).rest).toBe(quota.rest - 1);

    expect(await t.client.getAuditStatus(appId, auditId)).toMatchObject({ status: 2, screenshots: [] });
    expect(await t.client.getLatestAuditStatus(appId)).toMatchObject({
      auditid: auditId,
      status: 2,
      user_version: '1.0.0',
    });
    await expect(t.client.speedupAudit(appId, auditId)).resolves.toBeUndefined();
  });

  it("get_material: a rejection's screenshot, then the version is resubmitted", async () => {
    await sim.decideAudit(appId, 'reject');
    const [mediaId] = (await t.client.getAuditStatus(appId, auditId)).screenshots;
    const shot = await t.client.getMaterial(appId, mediaId ?? '');
    expect(shot.contentType).toBe('image/jpeg');
    expect([...shot.bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    auditId = (await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] })).auditid;
  });

  it('release (body {}) and getversioninfo', async () => {
    await sim.decideAudit(appId, 'approve');
    expect((await t.client.getAuditStatus(appId, auditId)).status).toBe(0);
    await expect(t.client.release(appId)).resolves.toBeUndefined();
    const info = await t.client.getVersionInfo(appId);
    expect(info.release_info).toMatchObject({ release_version: '1.0.0' });
    expect(info.exp_info).toMatchObject({ exp_version: '1.0.0' });
  });

  it('a second release, get_history_version and revertcoderelease', async () => {
    await t.client.commit(appId, { templateId: TEMPLATE_ID, extJson: EXT_JSON(appId), userVersion: '1.1.0', userDesc: 'second' });
    await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] });
    await sim.decideAudit(appId, 'approve');
    await t.client.release(appId);
    // The versions a rollback can go back to: the earlier live one.
    const history = await t.client.getHistoryVersions(appId);
    expect(history.version_list).toContainEqual(
      expect.objectContaining({ user_version: '1.0.0', app_version: expect.any(Number), commit_time: expect.any(Number) }),
    );
    await expect(t.client.revertCodeRelease(appId)).resolves.toBeUndefined();
    expect((await t.client.getVersionInfo(appId)).release_info?.release_version).toBe('1.0.0');
  });

  it('undocodeaudit, and a rejection with reason and screenshots', async () => {
    await t.client.commit(appId, { templateId: TEMPLATE_ID, extJson: EXT_JSON(appId), userVersion: '1.2.0', userDesc: 'third' });
    await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] });
    await expect(t.client.undoCodeAudit(appId)).resolves.toBeUndefined();
    expect((await t.client.getLatestAuditStatus(appId)).status).toBe(3);

    const { auditid } = await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] });
    await sim.decideAudit(appId, 'reject', { reason: '1:账号信息不符合规范:<br>', screenshots: ['media1', 'media2'] });
    expect(await t.client.getAuditStatus(appId, auditid)).toEqual({
      status: 1,
      reason: '1:账号信息不符合规范:<br>',
      screenshots: ['media1', 'media2'],
    });
    expect(await t.client.getLatestAuditStatus(appId)).toMatchObject({ auditid, status: 1, screenshots: ['media1', 'media2'] });
  });

  it('/wxa/plugin list, apply, unbind', async () => {
    const pluginAppId = 'wx1111222233334444';
    expect((await t.client.plugins(appId)).plugin_list).toEqual([]);
    await expect(t.client.applyPlugin(appId, pluginAppId, 'needed for live video')).resolves.toBeUndefined();
    expect((await t.client.plugins(appId)).plugin_list).toEqual([expect.objectContaining({ appid: pluginAppId, status: 1 })]);
    sim.setPluginStatus(appId, pluginAppId, 2);
    await expect(t.client.unbindPlugin(appId, pluginAppId)).resolves.toBeUndefined();
    expect((await t.client.plugins(appId)).plugin_list).toEqual([]);
  });

  it('bind_tester', async () => {
    const result = await t.client.bindTester(appId, 'tester_wx_01');
    expect(result).toEqual({ userstr: expect.any(String) });
  });
});

// ===========================================================================================================
describe('errcodes from WeChat', () => {
  it('become WeChatApiError with code, meaning, category, endpoint and rid', async () => {
    const t = makeClient(sim);
    const appId = await freshApp(t.tokens, { commit: true });
    await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] });
    const err = await rejectionOf(t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] }));
    expect(err).toBeInstanceOf(WeChatApiError);
    expect(err).toMatchObject({
      code: 'WECHAT_85009',
      category: 'conflict',
      errcode: 85009,
      kind: 'state',
      meaning: 'a version is already under audit',
      endpoint: '/wxa/submit_audit',
      rid: expect.stringMatching(/^[0-9a-f-]+$/),
      attempts: 1,
    });
  });

  it('get_qrcode answers JSON on failure: the binary call branches on content type', async () => {
    const t = makeClient(sim);
    const appId = await freshApp(t.tokens);
    const err = await rejectionOf(t.client.getQrcode(appId));
    expect(err).toMatchObject({ code: 'WECHAT_86001', kind: 'state', endpoint: '/wxa/get_qrcode' });
  });

  it('get_material answers JSON for an unknown media id (40007): the binary call turns it into an error', async () => {
    const t = makeClient(sim);
    const appId = await freshApp(t.tokens);
    const err = await rejectionOf(t.client.getMaterial(appId, 'no-such-media'));
    expect(err).toMatchObject({ code: 'WECHAT_40007', endpoint: '/cgi-bin/material/get_material' });
  });

  it('a permission set not granted is a forbidden error', async () => {
    const tokens = makeTokens(sim);
    const appId = newAppId();
    addMiniProgram(sim, appId);
    await tokens.authorize(appId, [17, 19]); // no set 18
    const t = makeClient(sim, { tokens });
    const err = await rejectionOf(t.client.getCategory(appId));
    expect(err).toMatchObject({ code: 'WECHAT_61007', category: 'forbidden' });
  });
});

// ===========================================================================================================
describe('retries on -1 (WeChat said: failed, try again)', () => {
  it('-1 then success: retried after a backoff, one extra call', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens, onSleep: () => sim.setFaults({ systemErrorRate: 0 }) });
    sim.resetCounters();
    sim.setFaults({ systemErrorRate: 1 });
    expect((await t.client.getPage(appId)).page_list.length).toBe(2);
    expect(count('/wxa/get_page')).toBe(2);
    expect(t.sleeps).toHaveLength(1);
    expect(t.attempts.map((a) => a.outcome)).toEqual(['errcode', 'ok']);
  });

  it('-1 is retried even for submit_audit, because WeChat said the call failed', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens, onSleep: () => sim.setFaults({ systemErrorRate: 0 }) });
    sim.resetCounters();
    sim.setFaults({ systemErrorRate: 1 });
    const { auditid } = await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] });
    expect(count('/wxa/submit_audit')).toBe(2);
    expect((await t.client.getLatestAuditStatus(appId)).auditid).toBe(auditid);
  });

  it('-1 every time: WeChatApiError after exactly N attempts', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    sim.resetCounters();
    sim.setFaults({ systemErrorRate: 1 });
    const err = await rejectionOf(t.client.getPage(appId));
    expect(err).toBeInstanceOf(WeChatApiError);
    expect(err).toMatchObject({ code: 'WECHAT_SYSTEM_ERROR', category: 'unavailable', errcode: -1, attempts: 3 });
    expect(count('/wxa/get_page')).toBe(3);
    expect(t.sleeps).toHaveLength(2);
  });

  it('backs off exponentially with full jitter, capped', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const half = makeClient(sim, { tokens, retry: { attempts: 6, baseMs: 200, maxMs: 2000 }, random: () => 0.5 });
    sim.setFaults({ systemErrorRate: 1 });
    await rejectionOf(half.client.getPage(appId));
    expect(half.sleeps).toEqual([100, 200, 400, 800, 1000]);
    const top = makeClient(sim, { tokens, retry: { attempts: 6, baseMs: 200, maxMs: 2000 }, random: () => 0.999999 });
    await rejectionOf(top.client.getPage(appId));
    expect(top.sleeps).toEqual([199, 399, 799, 1599, 1999]);
  });
});

// ===========================================================================================================
describe('timeouts, 5xx and connection errors (outcome unknown unless the request never left)', () => {
  it('a timed-out submit_audit is NOT retried', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens, timeoutMs: 150 });
    sim.resetCounters();
    sim.setFaults({ hangRate: 1 });
    const err = await rejectionOf(t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] }));
    expect(err).toBeInstanceOf(WeChatNetworkError);
    expect(err).toMatchObject({ code: 'WECHAT_UNREACHABLE', failure: 'timeout', outcomeUnknown: true, attempts: 1 });
    expect(count('/wxa/submit_audit')).toBe(1);
    expect(t.sleeps).toHaveLength(0);
  });

  it('a timed-out get_auditstatus IS retried (idempotent), and recovers', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const { auditid } = await tokens.api.submitAudit(await tokens.authorizerToken(appId), { item_list: [AUDIT_ITEM] });

    const failing = makeClient(sim, { tokens, timeoutMs: 150 });
    sim.resetCounters();
    sim.setFaults({ hangRate: 1 });
    const err = await rejectionOf(failing.client.getAuditStatus(appId, auditid));
    expect(err).toMatchObject({ code: 'WECHAT_UNREACHABLE', failure: 'timeout', attempts: 3 });
    expect(count('/wxa/get_auditstatus')).toBe(3);

    const recovering = makeClient(sim, { tokens, timeoutMs: 150, onSleep: () => sim.setFaults({ hangRate: 0 }) });
    sim.resetCounters();
    expect((await recovering.client.getAuditStatus(appId, auditid)).status).toBe(2);
    expect(count('/wxa/get_auditstatus')).toBe(2);
  });

  it('a slow answer that arrives after the timeout: why submit_audit must not be resent', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens, timeoutMs: 100 });
    sim.setFaults({ latencyMs: 300 });
    const err = await rejectionOf(t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] }));
    expect(err).toMatchObject({ failure: 'timeout', outcomeUnknown: true });
    sim.setFaults(NO_FAULTS);
    // The late request reaches WeChat after its delay: wait for that, not for a time that a loaded machine outruns.
    while ((sim.miniProgram(appId)?.audits.length ?? 0) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    // WeChat did accept it: a blind resend would now meet 85009 (or burn quota). Reconcile by reading instead (with
    // the default timeout: the 100 ms one was for the slow answer above, not for a loaded machine's normal ones).
    const patient = makeClient(sim, { tokens });
    expect((await patient.client.getLatestAuditStatus(appId)).status).toBe(2);
    expect(await rejectionOf(patient.client.submitAudit(appId, { item_list: [AUDIT_ITEM] }))).toMatchObject({ errcode: 85009 });
  });

  it('5xx is retried for idempotent calls, then surfaces as WeChatNetworkError', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    sim.resetCounters();
    sim.setFaults({ http5xxRate: 1 });
    const err = await rejectionOf(t.client.getCategory(appId));
    expect(err).toBeInstanceOf(WeChatNetworkError);
    expect(err).toMatchObject({ failure: 'http-status', status: 502, attempts: 3, outcomeUnknown: true });
    expect(count('/wxa/get_category')).toBe(3);

    const recovering = makeClient(sim, { tokens, onSleep: () => sim.setFaults({ http5xxRate: 0 }) });
    sim.resetCounters();
    sim.setFaults({ http5xxRate: 1 });
    expect((await recovering.client.getCategory(appId)).category_list).toHaveLength(1);
    expect(count('/wxa/get_category')).toBe(2);
  });

  it('5xx is NOT retried for release (non-idempotent)', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    sim.resetCounters();
    sim.setFaults({ http5xxRate: 1 });
    expect(await rejectionOf(t.client.release(appId))).toMatchObject({ failure: 'http-status', attempts: 1 });
    expect(count('/wxa/release')).toBe(1);
  });

  it("the caller's AbortSignal cancels the call and stops retries", async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens, timeoutMs: 5000 });
    sim.resetCounters();
    sim.setFaults({ hangRate: 1 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await rejectionOf(t.client.getCategory(appId, { signal: controller.signal }));
    expect(err).toMatchObject({ failure: 'aborted', attempts: 1 });
    expect(count('/wxa/get_category')).toBe(1);
  });

  it('an abort during the backoff pause ends the retries (default sleep)', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const controller = new AbortController();
    // Aborted once the pause has begun (the attempt that reports a retry is followed by the sleep), whatever the
    // machine's speed: a fixed delay from the start could land in the first attempt on a loaded machine.
    const onAttempt = (event: WeChatAttemptEvent) => {
      if (event.retryInMs !== undefined) setTimeout(() => controller.abort(), 50);
    };
    const t = makeClient(sim, {
      tokens,
      sleep: undefined,
      retry: { attempts: 3, baseMs: 60_000, maxMs: 60_000 },
      random: () => 0.99,
      onAttempt,
    });
    sim.resetCounters();
    sim.setFaults({ systemErrorRate: 1 });
    const started = Date.now();
    const err = await rejectionOf(t.client.getCategory(appId, { signal: controller.signal }));
    // Far below the 60 s pause: the abort ended it.
    expect(Date.now() - started).toBeLessThan(30_000);
    // The error is the last attempt's (-1): the abort only stopped the retries.
    expect(err).toMatchObject({ code: 'WECHAT_SYSTEM_ERROR', attempts: 1 });
    expect(count('/wxa/get_category')).toBe(1);
  });

  it("an answer that is not WeChat's (HTTP 404 from something in between) is a WeChatResponseError, not retried", async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens, apiBase: `${sim.baseUrl}/not-wechat` });
    const err = await rejectionOf(t.client.getCategory(appId));
    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err).toMatchObject({ code: 'WECHAT_BAD_RESPONSE', status: 404, endpoint: '/wxa/get_category' });
    expect(t.attempts).toHaveLength(1);
  });

  it('connection refused: the request never left, so even submit_audit is retried', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const t = makeClient(sim, { apiBase: `http://127.0.0.1:${port}` });
    const err = await rejectionOf(t.api.submitAudit('some-token-value-123', { item_list: [AUDIT_ITEM] }));
    expect(err).toMatchObject({ code: 'WECHAT_UNREACHABLE', failure: 'connect', outcomeUnknown: false, attempts: 3 });
    expect(t.attempts.map((a) => a.failure)).toEqual(['connect', 'connect', 'connect']);
  });
});

// ===========================================================================================================
describe('quota errors: never retried', () => {
  afterEach(() => {
    sim.setQuota({ submitRest: 20, speedupRest: 10, undoPerDay: 5, componentTokenDaily: 2000 });
  });

  it('85085 (submit quota) → WeChatQuotaError after a single call', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    sim.setQuota({ submitRest: 0 });
    sim.resetCounters();
    const err = await rejectionOf(t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] }));
    expect(err).toBeInstanceOf(WeChatQuotaError);
    expect(err).toMatchObject({ code: 'WECHAT_85085', category: 'rate-limited', attempts: 1 });
    expect(count('/wxa/submit_audit')).toBe(1);
    expect(t.sleeps).toHaveLength(0);
  });

  it('45009 on api_component_token (an idempotent call) → WeChatQuotaError after a single call', async () => {
    const t = makeClient(sim);
    const ticket = await sim.pushVerifyTicket();
    sim.setQuota({ componentTokenDaily: 0 });
    sim.resetCounters();
    const err = await rejectionOf(t.api.getComponentToken(ticket));
    expect(err).toBeInstanceOf(WeChatQuotaError);
    expect(err).toMatchObject({ code: 'WECHAT_45009', category: 'rate-limited' });
    expect(count('/cgi-bin/component/api_component_token')).toBe(1);
    // Neither the app secret nor the ticket leaks into the error.
    for (const secret of [COMPONENT.secret, ticket]) {
      expect(String(err)).not.toContain(secret);
      expect(JSON.stringify(err)).not.toContain(secret);
    }
  });

  it('89405 (speed-up quota) and 87013 (undo quota) → WeChatQuotaError after a single call', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    const { auditid } = await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] });
    sim.setQuota({ speedupRest: 0, undoPerDay: 0 });
    sim.resetCounters();
    expect(await rejectionOf(t.client.speedupAudit(appId, auditid))).toMatchObject({ code: 'WECHAT_89405' });
    expect(await rejectionOf(t.client.undoCodeAudit(appId))).toBeInstanceOf(WeChatQuotaError);
    expect(count('/wxa/speedupaudit')).toBe(1);
    expect(count('/wxa/undocodeaudit')).toBe(1);
  });
});

// ===========================================================================================================
describe('token errors: report the rejected token, retry exactly once', () => {
  it('42001 (authorizer token expired) → one rejected-hook call with that token, one retry', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    const stale = await tokens.authorizerToken(appId);
    sim.expireTokens('authorizer');
    sim.resetCounters();
    expect((await t.client.getPage(appId)).page_list).toHaveLength(2);
    expect(tokens.rejections).toEqual([{ kind: 'authorizer', appId, token: stale }]);
    expect(count('/wxa/get_page')).toBe(2);
    expect(count('/cgi-bin/component/api_authorizer_token')).toBe(1);
    expect(await tokens.authorizerToken(appId)).not.toBe(stale);
  });

  it('42001 (component token expired) → componentTokenRejected, one retry', async () => {
    const t = makeClient(sim);
    const stale = await t.tokens.componentToken();
    sim.expireTokens('component');
    sim.resetCounters();
    const list = await t.client.getTemplateList();
    expect(list.template_list.length).toBeGreaterThan(0);
    expect(t.tokens.rejections).toEqual([{ kind: 'component', token: stale }]);
    expect(count('/wxa/gettemplatelist')).toBe(2);
  });

  it('40001 (token unknown or not the latest) → one rejected-hook call, one retry', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    tokens.overrides.set(appId, ['not-a-token-but-long-enough']);
    sim.resetCounters();
    expect((await t.client.getCategory(appId)).category_list).toHaveLength(1);
    expect(tokens.rejections).toEqual([{ kind: 'authorizer', appId, token: 'not-a-token-but-long-enough' }]);
    expect(count('/wxa/get_category')).toBe(2);
  });

  it('a token error on submit_audit is retried once too: WeChat rejected the call, nothing was submitted', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    sim.expireTokens('authorizer');
    sim.resetCounters();
    const { auditid } = await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] });
    expect(count('/wxa/submit_audit')).toBe(2);
    expect(tokens.rejections).toHaveLength(1);
    expect((await t.client.getLatestAuditStatus(appId)).auditid).toBe(auditid);
  });

  it('a token error that persists surfaces after the single retry, without leaking the token', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const t = makeClient(sim, { tokens });
    const stale = await tokens.authorizerToken(appId);
    tokens.refreshOnRejection = false;
    sim.expireTokens('authorizer');
    sim.resetCounters();
    const err = await rejectionOf(t.client.getPage(appId));
    expect(err).toBeInstanceOf(WeChatApiError);
    expect(err).toMatchObject({ code: 'WECHAT_42001', kind: 'token', category: 'unavailable' });
    expect(tokens.rejections).toHaveLength(1);
    // Two calls in all: the token error is not also retried by the HTTP layer.
    expect(count('/wxa/get_page')).toBe(2);
    expect(String(err)).not.toContain(stale);
    expect(JSON.stringify(err)).not.toContain(stale);
  });
});

// ===========================================================================================================
describe('secrets stay out of errors and attempt events', () => {
  it('timeouts, 5xx and errcode errors never carry the token; attempt events neither', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens, { commit: true });
    const token = await tokens.authorizerToken(appId);
    const t = makeClient(sim, { tokens, timeoutMs: 100 });
    const errors: unknown[] = [];
    sim.setFaults({ hangRate: 1 });
    errors.push(await rejectionOf(t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] })));
    sim.setFaults({ hangRate: 0, http5xxRate: 1 });
    errors.push(await rejectionOf(t.client.getCategory(appId)));
    sim.setFaults(NO_FAULTS);
    errors.push(await rejectionOf(t.client.getAuditStatus(appId, 999999)));
    for (const err of errors) {
      expect(err).toBeInstanceOf(Error);
      expect(String(err)).not.toContain(token);
      expect(JSON.stringify(err)).not.toContain(token);
      expect((err as Error).stack ?? '').not.toContain(token);
    }
    expect(JSON.stringify(t.attempts)).not.toContain(token);
  });

  it('61023 (refresh token invalidated) does not leak the refresh token', async () => {
    const tokens = makeTokens(sim);
    const appId = await freshApp(tokens);
    const refreshToken = tokens.refreshTokenOf(appId) ?? '';
    sim.invalidateRefreshToken(appId);
    const t = makeClient(sim, { tokens });
    const err = await rejectionOf(t.api.refreshAuthorizerToken(await tokens.componentToken(), appId, refreshToken));
    expect(err).toMatchObject({ code: 'WECHAT_61023', kind: 'auth', category: 'forbidden' });
    expect(String(err)).not.toContain(refreshToken);
    expect(JSON.stringify(err)).not.toContain(refreshToken);
  });

  it('describe() masks the token in the URL', () => {
    const t = makeClient(sim);
    const url = t.api.http.describe({
      method: 'GET',
      path: '/wxa/get_page',
      idempotent: true,
      token: { param: 'access_token', value: 'TOKEN_VALUE_123456' },
    });
    expect(url).toBe(`${sim.baseUrl}/wxa/get_page?access_token=***`);
  });
});

// ===========================================================================================================
describe('phased release and the audit quota (rollouts)', () => {
  let t: TestClient;
  let appId: string;

  /** Commits, submits and approves `userVersion`. */
  const approved = async (userVersion: string): Promise<void> => {
    await t.client.commit(appId, { templateId: TEMPLATE_ID, extJson: EXT_JSON(appId), userVersion, userDesc: userVersion });
    await t.client.submitAudit(appId, { item_list: [AUDIT_ITEM] });
    await sim.decideAudit(appId, 'approve');
  };

  beforeAll(async () => {
    t = makeClient(sim);
    appId = await freshApp(t.tokens);
  });

  it('grayrelease, getgrayreleaseplan and revertgrayrelease, with WeChat refusals as typed errors', async () => {
    await approved('1.0.0');
    await expect(t.client.grayRelease(appId, { gray_percentage: 10 })).rejects.toMatchObject({ errcode: 85079, kind: 'state' });
    await t.client.release(appId);
    await approved('2.0.0');
    await expect(t.client.grayRelease(appId, { gray_percentage: 10 })).resolves.toBeUndefined();
    expect(await t.client.getGrayReleasePlan(appId)).toEqual({
      gray_release_plan: {
        status: 1,
        create_timestamp: expect.any(Number),
        gray_percentage: 10,
        support_debuger_first: false,
        support_experiencer_first: false,
      },
    });
    const before = count('/wxa/grayrelease');
    await expect(t.client.grayRelease(appId, { gray_percentage: 10 })).rejects.toMatchObject({ errcode: 85082 });
    expect(count('/wxa/grayrelease')).toBe(before + 1);
    await expect(t.client.revertCodeRelease(appId)).rejects.toMatchObject({ errcode: 87011 });
    await expect(t.client.revertGrayRelease(appId)).resolves.toBeUndefined();
    expect((await t.client.getGrayReleasePlan(appId)).gray_release_plan.status).toBe(4);
    expect((await t.client.getVersionInfo(appId)).release_info?.release_version).toBe('1.0.0');
  });

  it('refuses an invalid percentage before calling WeChat', async () => {
    const before = count('/wxa/grayrelease');
    await expect(t.client.grayRelease(appId, { gray_percentage: 101 })).rejects.toMatchObject({ code: 'WECHAT_REQUEST_INVALID' });
    await expect(t.client.grayRelease(appId, { gray_percentage: 0 })).rejects.toMatchObject({ code: 'WECHAT_REQUEST_INVALID' });
    expect(count('/wxa/grayrelease')).toBe(before);
  });

  it("queryquota's answer with the instant it renews: the next month's start in China", async () => {
    const now = Date.UTC(2026, 11, 31, 15, 59, 59); // 2026-12-31 23:59:59 in China
    const quota = await t.client.getAuditQuota(appId, now);
    expect(quota).toMatchObject({ rest: expect.any(Number), limit: expect.any(Number), renewsAt: Date.UTC(2026, 11, 31, 16) });
  });
});

// ===========================================================================================================
describe('coverage', () => {
  it('every ComponentApi operation got a successful, zod-parsed answer from the simulator in this file', () => {
    const paths = new Set(Object.values(OPERATIONS).map((op) => op.path));
    expect([...paths].filter((path) => !succeeded.has(path))).toEqual([]);
  });
});

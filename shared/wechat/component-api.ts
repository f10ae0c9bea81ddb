/**
 * Raw WeChat third-party-platform calls (reference/wechat-open-platform.md §3–§4), one method per endpoint.
 *
 * Tokens are explicit arguments: this layer neither caches nor refreshes them (that is `WeChatClient` plus a
 * TokenSource). It knows each endpoint's method, path, token parameter name, body shape, response schema and
 * whether a repeat is harmless (`OPERATIONS`).
 */

import { type FieldIssue, ValidationError } from '../domain/errors';
import type * as z from '../domain/zod';
import {
  type GrayReleasePlanResponse,
  type GrayReleaseRequest,
  grayReleasePlanResponseSchema,
  grayReleaseRequestSchema,
} from './gray-release-schemas';
import { type BinaryResponse, type CallOptions, WeChatHttp, type WeChatHttpOptions, type WeChatRequest } from './http';
import {
  type AccountBasicInfoResponse,
  accountBasicInfoResponseSchema,
  type IcpEntranceInfoResponse,
  icpEntranceInfoResponseSchema,
  type OrderPathInfoResponse,
  orderPathInfoResponseSchema,
  type PlatformServerDomainResponse,
  type PrivacyInterfaceResponse,
  platformServerDomainResponseSchema,
  privacyInterfaceResponseSchema,
} from './readiness-schemas';
import {
  type AuditStatusResponse,
  type AuthorizerInfoResponse,
  type AuthorizerListResponse,
  type AuthorizerTokenResponse,
  auditIdRequestSchema,
  auditStatusResponseSchema,
  authorizerInfoResponseSchema,
  authorizerListResponseSchema,
  authorizerTokenResponseSchema,
  type BindTesterResponse,
  bindTesterRequestSchema,
  bindTesterResponseSchema,
  type CategoryListResponse,
  type CodePrivacyInfoResponse,
  type CommitRequest,
  type ComponentTokenResponse,
  categoryListResponseSchema,
  codePrivacyInfoResponseSchema,
  commitRequestSchema,
  componentTokenResponseSchema,
  type HistoryVersionsResponse,
  historyVersionsResponseSchema,
  type LatestAuditStatusResponse,
  latestAuditStatusResponseSchema,
  type ModifyDomainRequest,
  type ModifyDomainResponse,
  modifyDomainRequestSchema,
  modifyDomainResponseSchema,
  okResponseSchema,
  type PageListResponse,
  type PluginListResponse,
  type PluginRequest,
  type PreAuthCodeResponse,
  type PrivacySettingResponse,
  pageListResponseSchema,
  pluginListResponseSchema,
  pluginRequestSchema,
  preAuthCodeResponseSchema,
  privacySettingResponseSchema,
  type QueryAuthResponse,
  type QuotaResponse,
  queryAuthResponseSchema,
  quotaResponseSchema,
  type SetPrivacySettingRequest,
  type SetWebviewDomainRequest,
  type SubmitAuditRequest,
  type SubmitAuditResponse,
  setPrivacySettingRequestSchema,
  setWebviewDomainRequestSchema,
  submitAuditRequestSchema,
  submitAuditResponseSchema,
  type TemplateListResponse,
  templateListResponseSchema,
  type VersionInfoResponse,
  versionInfoResponseSchema,
  type WebviewDomainResponse,
  webviewDomainResponseSchema,
} from './schemas';

export const DEFAULT_PC_AUTH_PAGE_BASE = 'https://mp.weixin.qq.com';
export const DEFAULT_MOBILE_AUTH_PAGE_BASE = 'https://open.weixin.qq.com';

/**
 * Which calls may be repeated after an unknown outcome (timeout, broken connection, 5xx). A `false` here means
 * the call changes state so that a blind repeat could duplicate it (a second audit submission, a second rollback,
 * a consumed one-time code); those are retried only on WeChat's explicit "-1, failed".
 */
export const OPERATIONS = {
  startPushTicket: { path: '/cgi-bin/component/api_start_push_ticket', idempotent: true },
  getComponentToken: { path: '/cgi-bin/component/api_component_token', idempotent: true },
  createPreAuthCode: { path: '/cgi-bin/component/api_create_preauthcode', idempotent: false },
  queryAuth: { path: '/cgi-bin/component/api_query_auth', idempotent: false },
  refreshAuthorizerToken: { path: '/cgi-bin/component/api_authorizer_token', idempotent: true },
  getAuthorizerInfo: { path: '/cgi-bin/component/api_get_authorizer_info', idempotent: true },
  getAuthorizerList: { path: '/cgi-bin/component/api_get_authorizer_list', idempotent: true },
  getTemplateList: { path: '/wxa/gettemplatelist', idempotent: true },
  commit: { path: '/wxa/commit', idempotent: false },
  getQrcode: { path: '/wxa/get_qrcode', idempotent: true },
  getMaterial: { path: '/cgi-bin/material/get_material', idempotent: true },
  getCategory: { path: '/wxa/get_category', idempotent: true },
  getPage: { path: '/wxa/get_page', idempotent: true },
  getPrivacySetting: { path: '/cgi-bin/component/getprivacysetting', idempotent: true },
  // Sets the whole setting: a repeat writes the same thing again.
  setPrivacySetting: { path: '/cgi-bin/component/setprivacysetting', idempotent: true },
  getCodePrivacyInfo: { path: '/wxa/security/get_code_privacy_info', idempotent: true },
  // A repeated `add` is refused (85017 "no domain to modify", 89019 for web views): after an unknown outcome the
  // caller reads the lists again (`get`) rather than having the call repeated blindly.
  modifyDomain: { path: '/wxa/modify_domain', idempotent: false },
  setWebviewDomain: { path: '/wxa/setwebviewdomain', idempotent: false },
  submitAudit: { path: '/wxa/submit_audit', idempotent: false },
  getAuditStatus: { path: '/wxa/get_auditstatus', idempotent: true },
  getLatestAuditStatus: { path: '/wxa/get_latest_auditstatus', idempotent: true },
  undoCodeAudit: { path: '/wxa/undocodeaudit', idempotent: false },
  speedupAudit: { path: '/wxa/speedupaudit', idempotent: false },
  queryQuota: { path: '/wxa/queryquota', idempotent: true },
  release: { path: '/wxa/release', idempotent: false },
  // Each call steps one version further back.
  revertCodeRelease: { path: '/wxa/revertcoderelease', idempotent: false },
  getHistoryVersions: { path: '/wxa/revertcoderelease', idempotent: true },
  // Phased release (gray-release-schemas.ts). A repeated step is refused (85082 "must be higher"), a repeated revert
  // finds nothing running: after an unknown outcome the caller reads getgrayreleaseplan instead.
  grayRelease: { path: '/wxa/grayrelease', idempotent: false },
  getGrayReleasePlan: { path: '/wxa/getgrayreleaseplan', idempotent: true },
  revertGrayRelease: { path: '/wxa/revertgrayrelease', idempotent: false },
  plugins: { path: '/wxa/plugin', idempotent: true },
  applyPlugin: { path: '/wxa/plugin', idempotent: false },
  unbindPlugin: { path: '/wxa/plugin', idempotent: false },
  bindTester: { path: '/wxa/bind_tester', idempotent: false },
  getVersionInfo: { path: '/wxa/getversioninfo', idempotent: true },
  // Go-live readiness reads (reference wechat-go-live.md; readiness-schemas.ts).
  getIcpEntranceInfo: { path: '/wxa/icp/get_icp_entrance_info', idempotent: true },
  getAccountBasicInfo: { path: '/cgi-bin/account/getaccountbasicinfo', idempotent: true },
  getPrivacyInterface: { path: '/wxa/security/get_privacy_interface', idempotent: true },
  // `get` only reads; the other actions are never sent by this backend.
  getPlatformServerDomains: { path: '/cgi-bin/component/modify_wxa_server_domain', idempotent: true },
  getOrderPathInfo: { path: '/wxa/security/getorderpathinfo', idempotent: true },
} as const satisfies Record<string, { path: string; idempotent: boolean }>;

export type OperationName = keyof typeof OPERATIONS;

/** 1 official accounts only · 2 mini programs only · 3 both (WeChat's default) · 4/5/6/8 newer kinds (§3.4). */
export type AuthType = 1 | 2 | 3 | 4 | 5 | 6 | 8;

/** `biz_appid` and `auth_type` are mutually exclusive on WeChat's page (biz_appid wins), so only one is accepted. */
export type AuthorizationPageInput = {
  preAuthCode: string;
  /** Absolute http(s) URL, not yet encoded: it is encoded exactly once here. */
  redirectUri: string;
  /** The H5 page opened inside WeChat instead of the PC page with a QR code. */
  mobile?: boolean;
  /** Permission-set ids to request; default all published sets. */
  categoryIdList?: readonly number[];
} & ({ authType?: AuthType; bizAppId?: undefined } | { bizAppId: string; authType?: undefined });

export interface CommitInput {
  templateId: number;
  /** The ext.json object, or its serialisation; WeChat wants a string, so objects are serialised here. */
  extJson: Record<string, unknown> | string;
  userVersion: string;
  userDesc: string;
}

export interface ComponentApiOptions extends WeChatHttpOptions {
  componentAppId: string;
  componentAppSecret: string;
  pcAuthPageBase?: string;
  mobileAuthPageBase?: string;
  /** Share one HTTP layer (and its options) between several APIs; otherwise one is built from these options. */
  http?: WeChatHttp;
}

const toIssues = (error: z.core.$ZodError): FieldIssue[] =>
  error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));

/** Checks a request body before it leaves: a bad body is our bug or the caller's, not something to send. */
const validated = <T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T => {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(`invalid ${what} request`, toIssues(parsed.error), { code: 'WECHAT_REQUEST_INVALID' });
  }
  return parsed.data;
};

const trimBase = (base: string): string => base.replace(/\/+$/, '');

export class ComponentApi {
  readonly componentAppId: string;
  readonly http: WeChatHttp;
  private readonly componentAppSecret: string;
  private readonly pcAuthPageBase: string;
  private readonly mobileAuthPageBase: string;

  constructor(options: ComponentApiOptions) {
    this.componentAppId = options.componentAppId;
    this.componentAppSecret = options.componentAppSecret;
    this.pcAuthPageBase = trimBase(options.pcAuthPageBase ?? DEFAULT_PC_AUTH_PAGE_BASE);
    this.mobileAuthPageBase = trimBase(options.mobileAuthPageBase ?? DEFAULT_MOBILE_AUTH_PAGE_BASE);
    this.http = options.http ?? new WeChatHttp(options);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Platform: ticket, tokens, authorization (§3)

  /** Asks WeChat to (re)start pushing component_verify_ticket (after an outage of the ticket receiver). */
  async startPushTicket(options?: CallOptions): Promise<void> {
    await this.http.json(
      {
        ...this.op('startPushTicket', 'POST', options),
        body: { component_appid: this.componentAppId, component_secret: this.componentAppSecret },
        secrets: [this.componentAppSecret],
      },
      okResponseSchema,
    );
  }

  async getComponentToken(ticket: string, options?: CallOptions): Promise<ComponentTokenResponse> {
    return this.http.json(
      {
        ...this.op('getComponentToken', 'POST', options),
        body: {
          component_appid: this.componentAppId,
          component_appsecret: this.componentAppSecret,
          component_verify_ticket: ticket,
        },
        secrets: [this.componentAppSecret, ticket],
      },
      componentTokenResponseSchema,
    );
  }

  async createPreAuthCode(componentToken: string, options?: CallOptions): Promise<PreAuthCodeResponse> {
    return this.http.json(
      {
        ...this.op('createPreAuthCode', 'POST', options),
        token: { param: 'component_access_token', value: componentToken },
        body: { component_appid: this.componentAppId },
      },
      preAuthCodeResponseSchema,
    );
  }

  /** The page an account admin opens to authorize the platform (§3.4). Pure: no call to WeChat. */
  authorizationPageUrl(input: AuthorizationPageInput): string {
    const issues: FieldIssue[] = [];
    if (input.preAuthCode === '') issues.push({ path: 'preAuthCode', message: 'required' });
    if (input.authType !== undefined && input.bizAppId !== undefined) {
      issues.push({ path: 'bizAppId', message: 'bizAppId and authType are mutually exclusive' });
    }
    let redirect: URL | undefined;
    try {
      redirect = new URL(input.redirectUri);
    } catch {
      redirect = undefined;
    }
    // An already-encoded URI (https%3A%2F%2F…) does not parse: that is what keeps it from being encoded twice.
    if (redirect === undefined || (redirect.protocol !== 'https:' && redirect.protocol !== 'http:')) {
      issues.push({ path: 'redirectUri', message: 'must be an absolute http(s) URL, not URL-encoded' });
    }
    if (issues.length > 0) {
      throw new ValidationError('invalid authorization page request', issues, { code: 'WECHAT_REQUEST_INVALID' });
    }

    const params: [string, string][] = [
      ['component_appid', this.componentAppId],
      ['pre_auth_code', input.preAuthCode],
      ['redirect_uri', input.redirectUri],
    ];
    if (input.authType !== undefined) params.push(['auth_type', String(input.authType)]);
    if (input.bizAppId !== undefined) params.push(['biz_appid', input.bizAppId]);
    if (input.categoryIdList !== undefined && input.categoryIdList.length > 0) {
      params.push(['category_id_list', input.categoryIdList.join('|')]);
    }
    // encodeURIComponent, not URLSearchParams: WeChat documents %-encoding, and '+' for a space is form-only.
    const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    return input.mobile
      ? `${this.mobileAuthPageBase}/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&${query}#wechat_redirect`
      : `${this.pcAuthPageBase}/cgi-bin/componentloginpage?${query}`;
  }

  async queryAuth(componentToken: string, authorizationCode: string, options?: CallOptions): Promise<QueryAuthResponse> {
    return this.http.json(
      {
        ...this.op('queryAuth', 'POST', options),
        token: { param: 'component_access_token', value: componentToken },
        body: { component_appid: this.componentAppId, authorization_code: authorizationCode },
        secrets: [authorizationCode],
      },
      queryAuthResponseSchema,
    );
  }

  async refreshAuthorizerToken(
    componentToken: string,
    authorizerAppId: string,
    refreshToken: string,
    options?: CallOptions,
  ): Promise<AuthorizerTokenResponse> {
    return this.http.json(
      {
        ...this.op('refreshAuthorizerToken', 'POST', options),
        token: { param: 'component_access_token', value: componentToken },
        body: {
          component_appid: this.componentAppId,
          authorizer_appid: authorizerAppId,
          authorizer_refresh_token: refreshToken,
        },
        secrets: [refreshToken],
      },
      authorizerTokenResponseSchema,
    );
  }

  async getAuthorizerInfo(componentToken: string, authorizerAppId: string, options?: CallOptions): Promise<AuthorizerInfoResponse> {
    return this.http.json(
      {
        ...this.op('getAuthorizerInfo', 'POST', options),
        token: { param: 'component_access_token', value: componentToken },
        body: { component_appid: this.componentAppId, authorizer_appid: authorizerAppId },
      },
      authorizerInfoResponseSchema,
    );
  }

  async getAuthorizerList(componentToken: string, offset: number, count: number, options?: CallOptions): Promise<AuthorizerListResponse> {
    const issues: FieldIssue[] = [];
    if (!Number.isInteger(offset) || offset < 0) issues.push({ path: 'offset', message: 'must be an integer ≥ 0' });
    // WeChat caps a page at 500 (40170).
    if (!Number.isInteger(count) || count < 1 || count > 500) issues.push({ path: 'count', message: 'must be 1–500' });
    if (issues.length > 0) throw new ValidationError('invalid authorizer list request', issues, { code: 'WECHAT_REQUEST_INVALID' });
    return this.http.json(
      {
        ...this.op('getAuthorizerList', 'POST', options),
        token: { param: 'component_access_token', value: componentToken },
        body: { component_appid: this.componentAppId, offset, count },
      },
      authorizerListResponseSchema,
    );
  }

  /** Template library; a component-token call living under /wxa, so the token goes as `access_token` (§4.1). */
  async getTemplateList(componentToken: string, templateType?: 0 | 1, options?: CallOptions): Promise<TemplateListResponse> {
    return this.http.json(
      {
        ...this.op('getTemplateList', 'GET', options),
        token: { param: 'access_token', value: componentToken },
        query: { template_type: templateType },
      },
      templateListResponseSchema,
    );
  }

  // ---------------------------------------------------------------------------------------------------------
  // Code management with the authorizer token (§4)

  async commit(authorizerToken: string, input: CommitInput, options?: CallOptions): Promise<void> {
    const body: CommitRequest = validated(
      commitRequestSchema,
      {
        template_id: input.templateId,
        ext_json: typeof input.extJson === 'string' ? input.extJson : JSON.stringify(input.extJson),
        user_version: input.userVersion,
        user_desc: input.userDesc,
      },
      'commit',
    );
    await this.http.json({ ...this.wxa('commit', 'POST', authorizerToken, options), body }, okResponseSchema);
  }

  /** Experience-version QR code; `path` is the page plus query (`page/index?a=1`), encoded once here. */
  async getQrcode(authorizerToken: string, path?: string, options?: CallOptions): Promise<BinaryResponse> {
    return this.http.binary({ ...this.wxa('getQrcode', 'GET', authorizerToken, options), query: { path } });
  }

  /**
   * A permanent material's bytes: how an audit rejection's screenshots are read (get_auditstatus doc: the `|`-joined
   * media ids "可通过获取永久素材接口拉取截图内容"), with the mini program's authorizer token. An unknown id is 40007.
   */
  async getMaterial(authorizerToken: string, mediaId: string, options?: CallOptions): Promise<BinaryResponse> {
    return this.http.binary({ ...this.wxa('getMaterial', 'POST', authorizerToken, options), body: { media_id: mediaId } });
  }

  async getCategory(authorizerToken: string, options?: CallOptions): Promise<CategoryListResponse> {
    return this.http.json(this.wxa('getCategory', 'GET', authorizerToken, options), categoryListResponseSchema);
  }

  async getPage(authorizerToken: string, options?: CallOptions): Promise<PageListResponse> {
    return this.http.json(this.wxa('getPage', 'GET', authorizerToken, options), pageListResponseSchema);
  }

  /** `privacyVer` 1 = live version, 2 = development version (WeChat's default). */
  async getPrivacySetting(authorizerToken: string, privacyVer?: 1 | 2, options?: CallOptions): Promise<PrivacySettingResponse> {
    return this.http.json(
      {
        ...this.wxa('getPrivacySetting', 'POST', authorizerToken, options),
        body: privacyVer === undefined ? {} : { privacy_ver: privacyVer },
      },
      privacySettingResponseSchema,
    );
  }

  async setPrivacySetting(authorizerToken: string, setting: SetPrivacySettingRequest, options?: CallOptions): Promise<void> {
    const body = validated(setPrivacySettingRequestSchema, setting, 'setprivacysetting');
    await this.http.json({ ...this.wxa('setPrivacySetting', 'POST', authorizerToken, options), body }, okResponseSchema);
  }

  /** Fails with 61039 while the post-commit privacy scan still runs. */
  async getCodePrivacyInfo(authorizerToken: string, options?: CallOptions): Promise<CodePrivacyInfoResponse> {
    return this.http.json(this.wxa('getCodePrivacyInfo', 'GET', authorizerToken, options), codePrivacyInfoResponseSchema);
  }

  /** Reads (`get`) or changes the mini program's server domains; every answer carries the lists as they stand. */
  async modifyDomain(authorizerToken: string, request: ModifyDomainRequest, options?: CallOptions): Promise<ModifyDomainResponse> {
    const body = validated(modifyDomainRequestSchema, request, 'modify_domain');
    return this.http.json({ ...this.wxa('modifyDomain', 'POST', authorizerToken, options), body }, modifyDomainResponseSchema);
  }

  async setWebviewDomain(authorizerToken: string, request: SetWebviewDomainRequest, options?: CallOptions): Promise<WebviewDomainResponse> {
    const body = validated(setWebviewDomainRequestSchema, request, 'setwebviewdomain');
    return this.http.json({ ...this.wxa('setWebviewDomain', 'POST', authorizerToken, options), body }, webviewDomainResponseSchema);
  }

  /**
   * Never repeated after a timeout: a lost answer may hide an accepted submission (then a second one gets 85009
   * or, worse, burns quota). On WeChatNetworkError with `outcomeUnknown`, read get_latest_auditstatus instead.
   */
  async submitAudit(authorizerToken: string, request: SubmitAuditRequest, options?: CallOptions): Promise<SubmitAuditResponse> {
    const body = validated(submitAuditRequestSchema, request, 'submit_audit');
    return this.http.json({ ...this.wxa('submitAudit', 'POST', authorizerToken, options), body }, submitAuditResponseSchema);
  }

  async getAuditStatus(authorizerToken: string, auditId: number, options?: CallOptions): Promise<AuditStatusResponse> {
    const body = validated(auditIdRequestSchema, { auditid: auditId }, 'get_auditstatus');
    return this.http.json({ ...this.wxa('getAuditStatus', 'POST', authorizerToken, options), body }, auditStatusResponseSchema);
  }

  async getLatestAuditStatus(authorizerToken: string, options?: CallOptions): Promise<LatestAuditStatusResponse> {
    return this.http.json(this.wxa('getLatestAuditStatus', 'GET', authorizerToken, options), latestAuditStatusResponseSchema);
  }

  async undoCodeAudit(authorizerToken: string, options?: CallOptions): Promise<void> {
    await this.http.json(this.wxa('undoCodeAudit', 'GET', authorizerToken, options), okResponseSchema);
  }

  async speedupAudit(authorizerToken: string, auditId: number, options?: CallOptions): Promise<void> {
    const body = validated(auditIdRequestSchema, { auditid: auditId }, 'speedupaudit');
    await this.http.json({ ...this.wxa('speedupAudit', 'POST', authorizerToken, options), body }, okResponseSchema);
  }

  /** The platform's monthly submit and speed-up quota (shared by all its mini programs). */
  async queryQuota(authorizerToken: string, options?: CallOptions): Promise<QuotaResponse> {
    return this.http.json(this.wxa('queryQuota', 'GET', authorizerToken, options), quotaResponseSchema);
  }

  /** Releases the latest approved version. The body must be exactly `{}` (an empty body gets 44002). */
  async release(authorizerToken: string, options?: CallOptions): Promise<void> {
    await this.http.json({ ...this.wxa('release', 'POST', authorizerToken, options), body: {} }, okResponseSchema);
  }

  /** Rolls the live version back to the previous one, or to `appVersion` from getHistoryVersions. */
  async revertCodeRelease(authorizerToken: string, appVersion?: number, options?: CallOptions): Promise<void> {
    await this.http.json(
      { ...this.wxa('revertCodeRelease', 'GET', authorizerToken, options), query: { app_version: appVersion } },
      okResponseSchema,
    );
  }

  async getHistoryVersions(authorizerToken: string, options?: CallOptions): Promise<HistoryVersionsResponse> {
    return this.http.json(
      { ...this.wxa('getHistoryVersions', 'GET', authorizerToken, options), query: { action: 'get_history_version' } },
      historyVersionsResponseSchema,
    );
  }

  /**
   * Releases the latest approved version to `gray_percentage` % of users, or raises the running plan's share
   * (doc grayRelease: 85079 never released, 85080 not approved, 85081 invalid percentage, 85082 not higher).
   */
  async grayRelease(authorizerToken: string, request: GrayReleaseRequest, options?: CallOptions): Promise<void> {
    const body = validated(grayReleaseRequestSchema, request, 'grayrelease');
    await this.http.json({ ...this.wxa('grayRelease', 'POST', authorizerToken, options), body }, okResponseSchema);
  }

  /** The current phased release: status, share, creation time (doc getGrayReleasePlan). */
  async getGrayReleasePlan(authorizerToken: string, options?: CallOptions): Promise<GrayReleasePlanResponse> {
    return this.http.json(this.wxa('getGrayReleasePlan', 'GET', authorizerToken, options), grayReleasePlanResponseSchema);
  }

  /** Cancels the running phased release: its users go back to the version before it (doc revertGrayRelease). */
  async revertGrayRelease(authorizerToken: string, options?: CallOptions): Promise<void> {
    await this.http.json(this.wxa('revertGrayRelease', 'GET', authorizerToken, options), okResponseSchema);
  }

  /** Plugins the mini program has applied for or been granted. */
  async plugins(authorizerToken: string, options?: CallOptions): Promise<PluginListResponse> {
    const body: PluginRequest = { action: 'list' };
    return this.http.json({ ...this.wxa('plugins', 'POST', authorizerToken, options), body }, pluginListResponseSchema);
  }

  async applyPlugin(authorizerToken: string, pluginAppId: string, reason?: string, options?: CallOptions): Promise<void> {
    const body = validated(
      pluginRequestSchema,
      reason === undefined ? { action: 'apply', plugin_appid: pluginAppId } : { action: 'apply', plugin_appid: pluginAppId, reason },
      'plugin apply',
    );
    await this.http.json({ ...this.wxa('applyPlugin', 'POST', authorizerToken, options), body }, okResponseSchema);
  }

  async unbindPlugin(authorizerToken: string, pluginAppId: string, options?: CallOptions): Promise<void> {
    const body = validated(pluginRequestSchema, { action: 'unbind', plugin_appid: pluginAppId }, 'plugin unbind');
    await this.http.json({ ...this.wxa('unbindPlugin', 'POST', authorizerToken, options), body }, okResponseSchema);
  }

  /** Adds an experience-version tester by WeChat id. */
  async bindTester(authorizerToken: string, wechatId: string, options?: CallOptions): Promise<BindTesterResponse> {
    const body = validated(bindTesterRequestSchema, { wechatid: wechatId }, 'bind_tester');
    return this.http.json({ ...this.wxa('bindTester', 'POST', authorizerToken, options), body }, bindTesterResponseSchema);
  }

  /** The current experience and live versions. */
  async getVersionInfo(authorizerToken: string, options?: CallOptions): Promise<VersionInfoResponse> {
    return this.http.json({ ...this.wxa('getVersionInfo', 'POST', authorizerToken, options), body: {} }, versionInfoResponseSchema);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Go-live readiness reads (reference wechat-go-live.md)

  /** ICP filing status and rejection reasons (doc api_geticpentranceinfo; sets 18 or 156). */
  async getIcpEntranceInfo(authorizerToken: string, options?: CallOptions): Promise<IcpEntranceInfoResponse> {
    return this.http.json(this.wxa('getIcpEntranceInfo', 'GET', authorizerToken, options), icpEntranceInfoResponseSchema);
  }

  /** Verification, name, avatar and introduction (doc api_getaccountbasicinfo: POST, set 30). */
  async getAccountBasicInfo(authorizerToken: string, options?: CallOptions): Promise<AccountBasicInfoResponse> {
    return this.http.json(
      { ...this.wxa('getAccountBasicInfo', 'POST', authorizerToken, options), body: {} },
      accountBasicInfoResponseSchema,
    );
  }

  /** The privacy (location) interfaces and whether WeChat granted each (doc getPrivacyInterface). */
  async getPrivacyInterface(authorizerToken: string, options?: CallOptions): Promise<PrivacyInterfaceResponse> {
    return this.http.json(this.wxa('getPrivacyInterface', 'GET', authorizerToken, options), privacyInterfaceResponseSchema);
  }

  /** The platform's own registered mini program server domains (modify_wxa_server_domain `get`, component token). */
  async getPlatformServerDomains(componentToken: string, options?: CallOptions): Promise<PlatformServerDomainResponse> {
    return this.http.json(
      {
        ...this.op('getPlatformServerDomains', 'POST', options),
        token: { param: 'access_token', value: componentToken },
        body: { action: 'get' },
      },
      platformServerDomainResponseSchema,
    );
  }

  /** The order-centre path (doc api_getorderpathinfo: POST, set 18): `infoType` 0 the one in effect, 1 the one applied for. */
  async getOrderPathInfo(authorizerToken: string, infoType: 0 | 1, options?: CallOptions): Promise<OrderPathInfoResponse> {
    return this.http.json(
      { ...this.wxa('getOrderPathInfo', 'POST', authorizerToken, options), body: { info_type: infoType } },
      orderPathInfoResponseSchema,
    );
  }

  // ---------------------------------------------------------------------------------------------------------

  private op(name: OperationName, method: 'GET' | 'POST', options: CallOptions | undefined): WeChatRequest {
    const { path, idempotent } = OPERATIONS[name];
    return { method, path, idempotent, ...options };
  }

  private wxa(name: OperationName, method: 'GET' | 'POST', authorizerToken: string, options: CallOptions | undefined): WeChatRequest {
    return { ...this.op(name, method, options), token: { param: 'access_token', value: authorizerToken } };
  }
}

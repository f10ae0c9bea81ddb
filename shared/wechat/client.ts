/**
 * The WeChat client the handlers use: the operations of `ComponentApi`, addressed by appid instead of token.
 *
 * Tokens come from a `TokenSource` (the store-backed token manager in production). When WeChat rejects a token
 * (40001/40014/42001) the client reports exactly that token to the source, which invalidates it only if it is
 * still the stored one (another instance may have refreshed already — blindly refreshing here is how peers
 * cause refresh storms), then the call is retried once with whatever token the source now hands out. A second
 * token error surfaces: looping would hammer the token endpoints' daily quota.
 */

import { nextAuditQuotaRenewal } from '../domain/audit-quota';
import type { AuthorizationPageInput, CommitInput, ComponentApi } from './component-api';
import { isTokenError, WeChatNetworkError } from './errcodes';
import type { GrayReleasePlanResponse, GrayReleaseRequest } from './gray-release-schemas';
import type { BinaryResponse, CallOptions } from './http';
import type {
  AccountBasicInfoResponse,
  IcpEntranceInfoResponse,
  PlatformServerDomainResponse,
  PrivacyInterfaceResponse,
} from './readiness-schemas';
import type {
  AuditStatusResponse,
  AuthorizerInfoResponse,
  AuthorizerListResponse,
  BindTesterResponse,
  CategoryListResponse,
  CodePrivacyInfoResponse,
  HistoryVersionsResponse,
  LatestAuditStatusResponse,
  ModifyDomainRequest,
  ModifyDomainResponse,
  PageListResponse,
  PluginListResponse,
  PreAuthCodeResponse,
  PrivacySettingResponse,
  QueryAuthResponse,
  QuotaResponse,
  SetPrivacySettingRequest,
  SetWebviewDomainRequest,
  SubmitAuditRequest,
  SubmitAuditResponse,
  TemplateListResponse,
  VersionInfoResponse,
  WebviewDomainResponse,
} from './schemas';

export interface TokenSource {
  componentToken(): Promise<string>;
  authorizerToken(authorizerAppId: string): Promise<string>;
  /**
   * Called with the token that WeChat rejected (40001/40014/42001); the source must invalidate it only if it is
   * still the stored one (another instance may already have refreshed), then the client retries ONCE.
   */
  componentTokenRejected(failedToken: string): Promise<void>;
  authorizerTokenRejected(authorizerAppId: string, failedToken: string): Promise<void>;
}

export interface WeChatClientOptions {
  api: ComponentApi;
  tokens: TokenSource;
}

export class WeChatClient {
  readonly api: ComponentApi;
  private readonly tokens: TokenSource;

  constructor(options: WeChatClientOptions) {
    this.api = options.api;
    this.tokens = options.tokens;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Platform calls (component token)

  startPushTicket(options?: CallOptions): Promise<void> {
    return this.api.startPushTicket(options);
  }

  createPreAuthCode(options?: CallOptions): Promise<PreAuthCodeResponse> {
    return this.withComponentToken((t) => this.api.createPreAuthCode(t, options), options);
  }

  authorizationPageUrl(input: AuthorizationPageInput): string {
    return this.api.authorizationPageUrl(input);
  }

  queryAuth(authorizationCode: string, options?: CallOptions): Promise<QueryAuthResponse> {
    return this.withComponentToken((t) => this.api.queryAuth(t, authorizationCode, options), options);
  }

  getAuthorizerInfo(authorizerAppId: string, options?: CallOptions): Promise<AuthorizerInfoResponse> {
    return this.withComponentToken((t) => this.api.getAuthorizerInfo(t, authorizerAppId, options), options);
  }

  getAuthorizerList(offset: number, count: number, options?: CallOptions): Promise<AuthorizerListResponse> {
    return this.withComponentToken((t) => this.api.getAuthorizerList(t, offset, count, options), options);
  }

  getTemplateList(templateType?: 0 | 1, options?: CallOptions): Promise<TemplateListResponse> {
    return this.withComponentToken((t) => this.api.getTemplateList(t, templateType, options), options);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Code management (authorizer token of `appId`)

  commit(appId: string, input: CommitInput, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.commit(t, input, options), options);
  }

  getQrcode(appId: string, path?: string, options?: CallOptions): Promise<BinaryResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getQrcode(t, path, options), options);
  }

  getMaterial(appId: string, mediaId: string, options?: CallOptions): Promise<BinaryResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getMaterial(t, mediaId, options), options);
  }

  getCategory(appId: string, options?: CallOptions): Promise<CategoryListResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getCategory(t, options), options);
  }

  getPage(appId: string, options?: CallOptions): Promise<PageListResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getPage(t, options), options);
  }

  getPrivacySetting(appId: string, privacyVer?: 1 | 2, options?: CallOptions): Promise<PrivacySettingResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getPrivacySetting(t, privacyVer, options), options);
  }

  setPrivacySetting(appId: string, setting: SetPrivacySettingRequest, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.setPrivacySetting(t, setting, options), options);
  }

  getCodePrivacyInfo(appId: string, options?: CallOptions): Promise<CodePrivacyInfoResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getCodePrivacyInfo(t, options), options);
  }

  modifyDomain(appId: string, request: ModifyDomainRequest, options?: CallOptions): Promise<ModifyDomainResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.modifyDomain(t, request, options), options);
  }

  setWebviewDomain(appId: string, request: SetWebviewDomainRequest, options?: CallOptions): Promise<WebviewDomainResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.setWebviewDomain(t, request, options), options);
  }

  submitAudit(appId: string, request: SubmitAuditRequest, options?: CallOptions): Promise<SubmitAuditResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.submitAudit(t, request, options), options);
  }

  getAuditStatus(appId: string, auditId: number, options?: CallOptions): Promise<AuditStatusResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getAuditStatus(t, auditId, options), options);
  }

  getLatestAuditStatus(appId: string, options?: CallOptions): Promise<LatestAuditStatusResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getLatestAuditStatus(t, options), options);
  }

  undoCodeAudit(appId: string, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.undoCodeAudit(t, options), options);
  }

  speedupAudit(appId: string, auditId: number, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.speedupAudit(t, auditId, options), options);
  }

  queryQuota(appId: string, options?: CallOptions): Promise<QuotaResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.queryQuota(t, options), options);
  }

  release(appId: string, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.release(t, options), options);
  }

  revertCodeRelease(appId: string, appVersion?: number, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.revertCodeRelease(t, appVersion, options), options);
  }

  getHistoryVersions(appId: string, options?: CallOptions): Promise<HistoryVersionsResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getHistoryVersions(t, options), options);
  }

  // ---- Rollouts: phased release and the audit quota's renewal (issue 15) -----------------------------------

  grayRelease(appId: string, request: GrayReleaseRequest, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.grayRelease(t, request, options), options);
  }

  getGrayReleasePlan(appId: string, options?: CallOptions): Promise<GrayReleasePlanResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getGrayReleasePlan(t, options), options);
  }

  revertGrayRelease(appId: string, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.revertGrayRelease(t, options), options);
  }

  /**
   * queryquota with the instant the quota renews (epoch ms), which WeChat does not answer: the next month's start in
   * China (`nextAuditQuotaRenewal`, which cites the source). `now` is the caller's clock, epoch ms.
   */
  async getAuditQuota(appId: string, now: number, options?: CallOptions): Promise<QuotaResponse & { renewsAt: number }> {
    return { ...(await this.queryQuota(appId, options)), renewsAt: nextAuditQuotaRenewal(now) };
  }

  plugins(appId: string, options?: CallOptions): Promise<PluginListResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.plugins(t, options), options);
  }

  applyPlugin(appId: string, pluginAppId: string, reason?: string, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.applyPlugin(t, pluginAppId, reason, options), options);
  }

  unbindPlugin(appId: string, pluginAppId: string, options?: CallOptions): Promise<void> {
    return this.withAuthorizerToken(appId, (t) => this.api.unbindPlugin(t, pluginAppId, options), options);
  }

  bindTester(appId: string, wechatId: string, options?: CallOptions): Promise<BindTesterResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.bindTester(t, wechatId, options), options);
  }

  getVersionInfo(appId: string, options?: CallOptions): Promise<VersionInfoResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getVersionInfo(t, options), options);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Go-live readiness reads

  getIcpEntranceInfo(appId: string, options?: CallOptions): Promise<IcpEntranceInfoResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getIcpEntranceInfo(t, options), options);
  }

  getAccountBasicInfo(appId: string, options?: CallOptions): Promise<AccountBasicInfoResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getAccountBasicInfo(t, options), options);
  }

  getPrivacyInterface(appId: string, options?: CallOptions): Promise<PrivacyInterfaceResponse> {
    return this.withAuthorizerToken(appId, (t) => this.api.getPrivacyInterface(t, options), options);
  }

  getPlatformServerDomains(options?: CallOptions): Promise<PlatformServerDomainResponse> {
    return this.withComponentToken((t) => this.api.getPlatformServerDomains(t, options), options);
  }

  // ---------------------------------------------------------------------------------------------------------

  private async withComponentToken<T>(call: (token: string) => Promise<T>, options?: CallOptions): Promise<T> {
    const token = await untilAborted(this.tokens.componentToken(), options?.signal);
    try {
      return await call(token);
    } catch (error) {
      if (!isTokenError(error)) throw error;
      await this.tokens.componentTokenRejected(token);
      return call(await untilAborted(this.tokens.componentToken(), options?.signal));
    }
  }

  private async withAuthorizerToken<T>(appId: string, call: (token: string) => Promise<T>, options?: CallOptions): Promise<T> {
    const token = await untilAborted(this.tokens.authorizerToken(appId), options?.signal);
    try {
      return await call(token);
    } catch (error) {
      if (!isTokenError(error)) throw error;
      await this.tokens.authorizerTokenRejected(appId, token);
      return call(await untilAborted(this.tokens.authorizerToken(appId), options?.signal));
    }
  }
}

/**
 * The token, or the caller's cancellation if it comes first: a refresh WeChat is slow to answer (its own retries
 * take up to ~15 s) must not hold a caller past its deadline. The refresh carries on by itself and stores its token.
 */
function untilAborted(token: Promise<string>, signal: AbortSignal | undefined): Promise<string> {
  if (!signal) return token;
  const aborted = () => new WeChatNetworkError({ endpoint: 'access token', failure: 'aborted', outcomeUnknown: false });
  if (signal.aborted) {
    token.catch(() => undefined);
    return Promise.reject(aborted());
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    token.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

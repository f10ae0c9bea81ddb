/**
 * Everything the simulated WeChat remembers, and every rule it enforces, with no I/O.
 *
 * Time comes only from the injected clock and nothing here sets a timer: whatever is "due" (an audit that should
 * have been decided by now) is settled by `settleDue()`, which the server calls before each request and the
 * simulator calls from its own timers. So a test can drive the whole machine with a fake clock alone.
 *
 * Pushes are not sent from here: the operations that cause one return a `PushRequest` and the caller queues it.
 * WeChat's refusals are thrown as `WxFailure` (errcode + errmsg); misuse of the control API as `SimulatorError`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { types } from 'node:util';
import { nextAuditQuotaRenewal } from '../../shared/domain/audit-quota';
import { PRIVACY_KEY_LABELS, PRIVACY_KEY_OF_API } from '../../shared/domain/privacy-guide';
import type { WeChatXmlInput } from '../../shared/wechat/xml';
import { type AuditProfile, drawAudit } from './audit-profiles';
import { SimulatorError, wxFail } from './errors';
import {
  accountBasicInfo,
  defaultGoLive,
  type GoLiveRecord,
  type GoLiveStatePatch,
  icpEntranceInfo,
  orderPathInfo,
  type PlatformPenalty,
  patchGoLive,
  privacyInterfaceList,
  releaseBlockedByIcp,
  submitRefusal,
} from './go-live';
import {
  activePlan,
  complete,
  GRAY_STATUS,
  type GrayPlanRecord,
  type GrayReleaseInput,
  grayActive,
  newPlan,
  planAnswer,
  planSnapshot,
  raise,
  validPercentage,
} from './gray-release';
import { type CallsSpent, type RateLimitRule, spendCall } from './rate-limits';
import type {
  AuditDecision,
  AuditSnapshot,
  AuditStatusCode,
  LiveVersionSnapshot,
  MiniProgramSnapshot,
  MiniProgramSpec,
  QuotaSettings,
  QuotaSnapshot,
  RegisteredDomains,
  ScanInput,
  SimulatorComponent,
  TemplateSpec,
  TokenKind,
  VersionSnapshot,
} from './types';

// ---------------------------------------------------------------------------------------------------------------
// Constants

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** A superseded token (component, authorizer or refresh) keeps working this long [C staff, reference §3.2/§3.6]. */
export const GRACE_MS = 5 * MINUTE;
export const TICKET_TTL_MS = 12 * HOUR;
export const CODE_TTL_SECONDS = 600;
/** WeChat keeps this many live versions for revertcoderelease (reference §4.11). */
const RELEASE_HISTORY_SIZE = 5;
/** Daily and monthly budgets roll over at 00:00 China Standard Time, like WeChat's. */
const CST_OFFSET_MS = 8 * HOUR;

/** Permission sets granted when the admin keeps every box ticked (18 = code management, 40 = plugins). */
export const DEFAULT_FUNC_SCOPE_IDS: readonly number[] = [
  17, 18, 19, 25, 30, 31, 36, 37, 40, 41, 45, 48, 49, 51, 52, 57, 65, 67, 70, 71, 73, 76, 81, 84, 85, 86, 88, 93, 99, 102, 104, 105,
];
/**
 * Sets one third-party platform at a time may hold for a mini program (doc miniprogram_authority, 权限集互斥 是).
 * 18 among them: while a platform holds it, the mini program can no longer publish through mp.weixin.qq.com.
 */
export const EXCLUSIVE_FUNC_SCOPE_IDS: ReadonlySet<number> = new Set([18, 25, 40, 41, 45, 49, 51, 73, 76, 81]);
/** The permission set every /wxa code-management API needs. */
export const SCOPE_CODE_MANAGEMENT = 18;
export const SCOPE_PLUGINS = 40;
/** auth_type values whose authorization page lists mini programs (1 = official accounts only, 4/5/8 other kinds). */
const AUTH_TYPES_WITH_MINI_PROGRAMS: ReadonlySet<number> = new Set([2, 3, 6]);

export const DEFAULT_QUOTA: QuotaSettings = {
  submitRest: 20,
  submitLimit: 20,
  speedupRest: 10,
  speedupLimit: 10,
  undoPerDay: 5,
  undoPerMonth: 10,
  componentTokenDaily: 2000,
  testersPerMiniProgram: 15,
  miniProgramsPerTester: 50,
};

const DEFAULT_CATEGORY = { first_class: '工具', second_class: '效率', first_id: 287, second_id: 616 };
const DEFAULT_TEMPLATE_PAGES = ['pages/index/index'];
/** The geolocation APIs `requiredPrivateInfos` declares and WeChat grants one by one (submitAudit doc, 61040). */
const LOCATION_APIS: ReadonlySet<string> = new Set([
  'getLocation',
  'chooseLocation',
  'choosePoi',
  'getFuzzyLocation',
  'onLocationChange',
  'startLocationUpdate',
  'startLocationUpdateBackground',
  'chooseAddress',
]);

// ---------------------------------------------------------------------------------------------------------------
// Records

interface TokenRecord {
  kind: 'component' | 'authorizer';
  /** Component appid for component tokens, mini program appid for authorizer tokens. */
  appId: string;
  expiresAt: number;
  /** Set once superseded or invalidated: from this instant on the token answers 40001. */
  deadAt: number | null;
}

interface RefreshTokenRecord {
  appId: string;
  deadAt: number | null;
  revoked: boolean;
}

interface PreAuthCodeRecord {
  expiresAt: number;
  used: boolean;
  /** What the authorization page was last opened with, so a later scan can honour it. */
  page?: AuthPageParams;
}

export interface AuthPageParams {
  redirectUri?: string;
  authType?: number;
  bizAppId?: string;
  categoryIds?: number[];
}

interface AuthCodeRecord {
  appId: string;
  expiresAt: number;
  used: boolean;
}

interface TemplateRecord {
  templateId: number;
  userVersion: string;
  userDesc: string;
  pages: string[];
  templateType: 0 | 1;
  createdAt: number;
  privacyApis: string[];
  requiredPrivateInfos: string[];
  sourceMiniProgramAppid: string;
}

interface Version extends VersionSnapshot {
  /** Privacy APIs the code uses (`wx.getLocation`), as the post-commit scan finds them. */
  privacyApis: string[];
  /** The geolocation APIs declared by `requiredPrivateInfos` (ext_json's, else the template's). */
  declaredPrivateInfos: string[];
  /** The guide's privacy keys the code needs (getprivacysetting privacy_list). */
  privacyKeys: string[];
  privacyScanUntil: number;
}

type ServerDomainList = 'requestdomain' | 'wsrequestdomain' | 'uploaddomain' | 'downloaddomain' | 'udpdomain' | 'tcpdomain';
export const SERVER_DOMAIN_LISTS: readonly ServerDomainList[] = [
  'requestdomain',
  'wsrequestdomain',
  'uploaddomain',
  'downloaddomain',
  'udpdomain',
  'tcpdomain',
];
/** The scheme each list takes (doc 设置服务器域名; sockets wss, udp/tcp their own). */
const DOMAIN_SCHEME: Readonly<Record<ServerDomainList | 'webviewdomain', string>> = {
  requestdomain: 'https:',
  wsrequestdomain: 'wss:',
  uploaddomain: 'https:',
  downloaddomain: 'https:',
  udpdomain: 'udp:',
  tcpdomain: 'tcp:',
  webviewdomain: 'https:',
};
/** "Request域名、Socket域名、Uploadfile域名、Download域名、Udp域名、tcp的设置数量均最大支持200个" (doc 设置服务器域名). */
const MAX_DOMAINS = 200;

/** An audit as the state keeps it: its snapshot, with the submitted version as a record. */
type AuditRecord = Omit<AuditSnapshot, 'version'> & { version: Version };

interface PrivacySetting {
  ownerSetting: Record<string, string>;
  settingList: { privacy_key: string; privacy_text: string }[];
  updatedAt: number;
}

export interface MiniProgramRecord {
  appId: string;
  nickName: string;
  principalName: string;
  userName: string;
  /** A system openid used as FromUserName of audit pushes. */
  systemOpenId: string;
  profileComplete: boolean;
  ungrantedPrivacyApis: string[];
  plugins: { appId: string; status: 1 | 2 | 3 | 4 }[];
  categories: { first_class: string; second_class: string; first_id: number; second_id: number }[];
  authorization: 'never' | 'authorized' | 'revoked';
  funcScopeIds: number[];
  /** Exclusive sets another third-party platform holds for this mini program: no scan here grants them. */
  heldByOtherPlatform: number[];
  authTime?: number;
  currentRefreshToken?: string;
  testers: { wechatid: string; userstr: string }[];
  exp?: Version;
  audits: AuditRecord[];
  live?: LiveVersionSnapshot;
  releaseHistory: LiveVersionSnapshot[];
  nextAppVersion: number;
  undo: { dayKey: number; today: number; monthKey: number; thisMonth: number };
  privacy: { dev?: PrivacySetting; live?: PrivacySetting };
  domains: Record<ServerDomainList, string[]>;
  webviewDomains: string[];
}

/** A push the caller must queue: to the authorization-event URL, or to the message URL of one mini program. */
export type PushRequest =
  | { channel: 'component'; label: string; message: WeChatXmlInput }
  | { channel: 'message'; label: string; appId: string; userName: string; openId: string; message: WeChatXmlInput };

export interface StateConfig {
  component: SimulatorComponent;
  now: () => number;
  tokenTtlSeconds: number;
  privacyScanMs: number;
  auditDecisionDelayMs: number | null;
  quota: QuotaSettings;
  registeredDomains: RegisteredDomains;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const opaque = (bytes: number): string => randomBytes(bytes).toString('base64url');
const sha1Hex = (text: string): string => createHash('sha1').update(text).digest('hex');
const seconds = (ms: number): number => Math.floor(ms / SECOND);
const cstDayKey = (ms: number): number => Math.floor((ms + CST_OFFSET_MS) / (24 * HOUR));
const cstMonthKey = (ms: number): number => {
  const d = new Date(ms + CST_OFFSET_MS);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// util.types, not instanceof: structuredClone may hand back another realm's Map (jest's sandbox, a vm context).
const kindOf = (value: unknown): string =>
  types.isMap(value) ? 'map' : types.isSet(value) ? 'set' : Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
/** A field that may be null holds an object otherwise: either kind fits it. */
const sameKind = (current: unknown, restored: unknown): boolean => {
  if (current === undefined) return false;
  const kinds = new Set([kindOf(current), kindOf(restored)]);
  return kinds.size === 1 || (kinds.has('null') && kinds.has('object'));
};

const simError = (code: string, category: SimulatorError['category'], message: string): SimulatorError =>
  new SimulatorError(code, category, message);

const unknownMiniProgram = (appId: string): SimulatorError =>
  simError('MINI_PROGRAM_UNKNOWN', 'not-found', `no mini program ${appId} is registered in the simulator`);

/** The permission sets the page offers: those of `category_id_list`, else all. */
const offeredScopes = (page: AuthPageParams): readonly number[] =>
  page.categoryIds !== undefined && page.categoryIds.length > 0 ? page.categoryIds : DEFAULT_FUNC_SCOPE_IDS;

// ---------------------------------------------------------------------------------------------------------------
// State

export class SimState {
  private readonly cfg: StateConfig;
  private readonly tickets: { ticket: string; issuedAt: number }[] = [];
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly preAuthCodes = new Map<string, PreAuthCodeRecord>();
  private readonly authCodes = new Map<string, AuthCodeRecord>();
  private readonly miniPrograms = new Map<string, MiniProgramRecord>();
  private readonly templates = new Map<number, TemplateRecord>();
  private quotaState: QuotaSettings;
  private quotaMonthKey: number;
  private componentTokenDay: { dayKey: number; used: number };
  private nextAuditId = 420000001;
  /** ICP filing, verification, bans… by mini program appid (go-live.ts); a mini program not listed has the defaults. */
  private readonly goLive = new Map<string, GoLiveRecord>();
  private platformPenalty: { errcode: PlatformPenalty | null } = { errcode: null };
  /** Call-rate limits set by the control API (rate-limits.ts), and what each account spent of them. */
  private rateLimitRules: RateLimitRule[] = [];
  private readonly callsSpent = new Map<string, CallsSpent>();
  /** How audits of each template's versions go (audit-profiles.ts), by template id; absent: `auditDecisionDelayMs`. */
  private readonly auditProfiles = new Map<number, AuditProfile>();
  /** The last phased release of each mini program by appid (gray-release.ts); absent: never phased. */
  private readonly grayPlans = new Map<string, GrayPlanRecord>();

  constructor(cfg: StateConfig) {
    this.cfg = cfg;
    this.quotaState = { ...cfg.quota };
    this.quotaMonthKey = cstMonthKey(cfg.now());
    this.componentTokenDay = { dayKey: cstDayKey(cfg.now()), used: 0 };
  }

  get component(): SimulatorComponent {
    return this.cfg.component;
  }

  /**
   * Everything this simulated WeChat holds but its configuration, for a host that keeps it across restarts
   * (persistence.ts). Generic over the fields, so a field added later is kept with no code here.
   */
  snapshot(): Record<string, unknown> {
    const { cfg: _cfg, ...fields } = this;
    return structuredClone(fields);
  }

  /** Takes back the fields of a snapshot this state still has, of the same kind; an older snapshot loads what fits. */
  restore(snapshot: Readonly<Record<string, unknown>>): void {
    for (const [name, value] of Object.entries(snapshot)) {
      if (name !== 'cfg' && sameKind(Reflect.get(this, name), value)) Reflect.set(this, name, structuredClone(value));
    }
  }

  private now(): number {
    return this.cfg.now();
  }

  setRegisteredDomains(domains: RegisteredDomains): void {
    this.cfg.registeredDomains = { ...this.cfg.registeredDomains, ...domains };
  }

  setTiming(patch: { privacyScanMs?: number; auditDecisionDelayMs?: number | null }): void {
    if (patch.privacyScanMs !== undefined) this.cfg.privacyScanMs = patch.privacyScanMs;
    if (patch.auditDecisionDelayMs !== undefined) this.cfg.auditDecisionDelayMs = patch.auditDecisionDelayMs;
  }

  // ---- verify ticket and component token (reference §3.1, §3.2) ---------------------------------------------

  issueTicket(): { ticket: string; push: PushRequest } {
    const ticket = `ticket@@@${opaque(48)}`;
    const now = this.now();
    this.tickets.push({ ticket, issuedAt: now });
    if (this.tickets.length > 10) this.tickets.shift();
    return {
      ticket,
      push: {
        channel: 'component',
        label: 'component_verify_ticket',
        message: {
          AppId: this.component.appId,
          CreateTime: seconds(now),
          InfoType: 'component_verify_ticket',
          ComponentVerifyTicket: ticket,
        },
      },
    };
  }

  checkComponentCredentials(appId: string | undefined, secret: string | undefined, secretField: string): void {
    if (appId === undefined || appId === '') wxFail(41018);
    if (appId !== this.component.appId) wxFail(40013);
    if (secret === undefined || secret === '') wxFail(41004, `${secretField} missing`);
    if (secret !== this.component.secret) wxFail(40125);
  }

  componentToken(body: { appId?: string; secret?: string; ticket?: string }): {
    component_access_token: string;
    expires_in: number;
  } {
    this.checkComponentCredentials(body.appId, body.secret, 'component_appsecret');
    const now = this.now();
    const dayKey = cstDayKey(now);
    if (this.componentTokenDay.dayKey !== dayKey) this.componentTokenDay = { dayKey, used: 0 };
    if (this.componentTokenDay.used >= this.quotaState.componentTokenDaily) wxFail(45009);
    this.componentTokenDay.used += 1;

    const ticket = body.ticket ?? '';
    const index = this.tickets.findIndex((t) => t.ticket === ticket);
    const issued = this.tickets[index];
    if (ticket === '' || issued === undefined) wxFail(61006);
    // Only the latest ticket and the one before it are accepted: keeping the previous one covers a missed push.
    if (index < this.tickets.length - 2 || now - issued.issuedAt > TICKET_TTL_MS) wxFail(61005);

    const token = `91_${opaque(96)}`;
    this.supersede('component', this.component.appId, now);
    this.tokens.set(token, {
      kind: 'component',
      appId: this.component.appId,
      expiresAt: now + this.cfg.tokenTtlSeconds * SECOND,
      deadAt: null,
    });
    return { component_access_token: token, expires_in: this.cfg.tokenTtlSeconds };
  }

  /** Older live tokens of this owner stop working GRACE_MS from now. */
  private supersede(kind: TokenRecord['kind'], appId: string, now: number): void {
    for (const record of this.tokens.values()) {
      if (record.kind === kind && record.appId === appId && record.deadAt === null) record.deadAt = now + GRACE_MS;
    }
  }

  /** Validates a token for a component API; an authorizer token there is 61014. */
  checkComponentToken(token: string | undefined): void {
    this.checkToken(token, 'component');
  }

  /** Validates a token for an authorizer (/wxa) API and returns the mini program it belongs to. */
  checkAuthorizerToken(token: string | undefined): string {
    return this.checkToken(token, 'authorizer').appId;
  }

  private checkToken(token: string | undefined, kind: TokenRecord['kind']): TokenRecord {
    if (token === undefined || token === '') wxFail(41001);
    const record = this.tokens.get(token);
    if (record === undefined) wxFail(40001);
    if (record.kind !== kind) wxFail(kind === 'component' ? 61014 : 40001);
    const now = this.now();
    if (now >= record.expiresAt) wxFail(42001);
    if (record.deadAt !== null && now >= record.deadAt) wxFail(40001);
    return record;
  }

  expireTokens(which: TokenKind): void {
    const now = this.now();
    for (const record of this.tokens.values()) {
      if (which === 'all' || which === record.kind) record.expiresAt = Math.min(record.expiresAt, now);
    }
  }

  // ---- authorization (reference §3.3–§3.8) --------------------------------------------------------------

  createPreAuthCode(): { pre_auth_code: string; expires_in: number } {
    const code = `preauthcode@@@${opaque(42)}`;
    this.preAuthCodes.set(code, { expiresAt: this.now() + CODE_TTL_SECONDS * SECOND, used: false });
    return { pre_auth_code: code, expires_in: CODE_TTL_SECONDS };
  }

  private usablePreAuthCode(code: string): PreAuthCodeRecord {
    const record = this.preAuthCodes.get(code);
    if (record === undefined) throw simError('PRE_AUTH_CODE_INVALID', 'invalid', 'pre_auth_code is invalid');
    if (record.used) throw simError('PRE_AUTH_CODE_USED', 'conflict', 'pre_auth_code has already been used');
    if (this.now() >= record.expiresAt) {
      throw simError('PRE_AUTH_CODE_EXPIRED', 'conflict', 'pre_auth_code has expired');
    }
    return record;
  }

  /**
   * What the authorization page shows for these parameters: the mini programs the admin may pick and the
   * permission sets offered. Remembers the parameters on the pre-auth code for the scan that follows.
   */
  openAuthPage(preAuthCode: string, params: AuthPageParams): { miniPrograms: MiniProgramSnapshot[]; scopeIds: number[] } {
    const record = this.usablePreAuthCode(preAuthCode);
    record.page = params;
    const listed = [...this.miniPrograms.values()].filter((mp) => {
      if (params.bizAppId !== undefined && params.bizAppId !== '') return mp.appId === params.bizAppId;
      return AUTH_TYPES_WITH_MINI_PROGRAMS.has(params.authType ?? 3);
    });
    return {
      miniPrograms: listed.map((mp) => this.snapshotOf(mp)),
      scopeIds: [...offeredScopes(params)],
    };
  }

  /** The admin's scan and consent: consumes the pre-auth code, (re)grants, issues an auth code. */
  scan(input: ScanInput, fallbackRedirectUri: string): { authCode: string; redirectUrl: string; push?: PushRequest } {
    const record = this.usablePreAuthCode(input.preAuthCode);
    const mp = this.miniPrograms.get(input.appId);
    if (mp === undefined) throw unknownMiniProgram(input.appId);

    const page = record.page ?? {};
    const bizAppId = input.bizAppId ?? page.bizAppId;
    if (bizAppId !== undefined && bizAppId !== '') {
      // biz_appid wins over auth_type: only that account's admin can authorize on this page.
      if (bizAppId !== mp.appId) {
        throw simError('BIZ_APPID_MISMATCH', 'forbidden', `this authorization page is restricted to ${bizAppId}`);
      }
    } else {
      const authType = input.authType ?? page.authType ?? 3;
      if (!AUTH_TYPES_WITH_MINI_PROGRAMS.has(authType)) {
        const message = `auth_type=${authType} does not allow mini programs to authorize`;
        throw simError('AUTH_TYPE_EXCLUDES_MINI_PROGRAMS', 'forbidden', message);
      }
    }

    const offered = offeredScopes(page);
    // An exclusive set another platform holds cannot be granted here: the page shows it taken.
    const granted = [...new Set(input.funcScopeIds ?? offered)].filter((id) => !mp.heldByOtherPlatform.includes(id)).sort((a, b) => a - b);
    if (granted.length === 0) {
      throw simError(
        'NO_PERMISSION_SETS',
        'invalid',
        'at least one permission set must be granted (none left that another platform does not hold)',
      );
    }
    // Without category_id_list the page offers every published set, so any id the caller names is fine.
    const restricted = page.categoryIds !== undefined && page.categoryIds.length > 0;
    const notOffered = restricted ? granted.filter((id) => !offered.includes(id)) : [];
    if (notOffered.length > 0) {
      const message = `permission sets ${notOffered.join(',')} were not requested by category_id_list`;
      throw simError('PERMISSION_SET_NOT_OFFERED', 'invalid', message);
    }

    record.used = true;
    const now = this.now();
    const wasAuthorized = mp.authorization === 'authorized';
    const sameSets = wasAuthorized && mp.funcScopeIds.length === granted.length && mp.funcScopeIds.every((id, i) => id === granted[i]);

    // Re-authorization replaces the refresh token and the access tokens of the previous grant [O].
    this.invalidateAuthorizerCredentials(mp.appId, now);
    const refreshToken = `refreshtoken@@@${opaque(32)}`;
    this.refreshTokens.set(refreshToken, { appId: mp.appId, deadAt: null, revoked: false });
    mp.currentRefreshToken = refreshToken;
    mp.authorization = 'authorized';
    mp.funcScopeIds = granted;
    mp.authTime = now;
    // An authorization clears the development guide set before it (staff answer, community thread
    // 0004eefe404f70c738c01a9ef66400; reference wechat-go-live.md): the platform sets it again after the commit.
    delete mp.privacy.dev;

    const authCode = `queryauthcode@@@${opaque(42)}`;
    const expiresAt = now + CODE_TTL_SECONDS * SECOND;
    this.authCodes.set(authCode, { appId: mp.appId, expiresAt, used: false });

    const redirectBase = input.redirectUri ?? page.redirectUri ?? fallbackRedirectUri;
    const separator = redirectBase.includes('?') ? '&' : '?';
    const redirectUrl = `${redirectBase}${separator}auth_code=${encodeURIComponent(authCode)}&expires_in=${CODE_TTL_SECONDS}`;

    // updateauthorized is not sent when the set of permission sets did not change [O].
    const infoType = wasAuthorized ? (sameSets ? undefined : 'updateauthorized') : 'authorized';
    if (infoType === undefined) return { authCode, redirectUrl };
    return {
      authCode,
      redirectUrl,
      push: {
        channel: 'component',
        label: infoType,
        message: {
          AppId: this.component.appId,
          CreateTime: seconds(now),
          InfoType: infoType,
          AuthorizerAppid: mp.appId,
          AuthorizationCode: authCode,
          AuthorizationCodeExpiredTime: seconds(expiresAt),
          PreAuthCode: input.preAuthCode,
        },
      },
    };
  }

  private invalidateAuthorizerCredentials(appId: string, now: number): void {
    for (const record of this.refreshTokens.values()) if (record.appId === appId) record.revoked = true;
    for (const record of this.tokens.values()) {
      if (record.kind === 'authorizer' && record.appId === appId) record.deadAt = Math.min(record.deadAt ?? now, now);
    }
  }

  revoke(appId: string): PushRequest {
    const mp = this.requireMiniProgram(appId);
    if (mp.authorization !== 'authorized') {
      throw simError('NOT_AUTHORIZED', 'conflict', `${appId} has not authorized the platform`);
    }
    const now = this.now();
    this.invalidateAuthorizerCredentials(appId, now);
    mp.authorization = 'revoked';
    delete mp.currentRefreshToken;
    return {
      channel: 'component',
      label: 'unauthorized',
      message: {
        AppId: this.component.appId,
        CreateTime: seconds(now),
        InfoType: 'unauthorized',
        AuthorizerAppid: appId,
      },
    };
  }

  invalidateRefreshToken(appId: string): void {
    this.requireMiniProgram(appId);
    for (const record of this.refreshTokens.values()) if (record.appId === appId) record.revoked = true;
  }

  private funcInfo(mp: MiniProgramRecord): { funcscope_category: { id: number } }[] {
    return mp.funcScopeIds.map((id) => ({ funcscope_category: { id } }));
  }

  private issueAuthorizerToken(appId: string, now: number): string {
    const token = `92_${opaque(96)}`;
    this.supersede('authorizer', appId, now);
    const expiresAt = now + this.cfg.tokenTtlSeconds * SECOND;
    this.tokens.set(token, { kind: 'authorizer', appId, expiresAt, deadAt: null });
    return token;
  }

  queryAuth(code: string | undefined): Record<string, unknown> {
    const record = code === undefined ? undefined : this.authCodes.get(code);
    if (record === undefined || record.used) wxFail(61009);
    const now = this.now();
    if (now >= record.expiresAt) wxFail(61010);
    record.used = true;
    const mp = this.requireMiniProgram(record.appId);
    if (mp.authorization !== 'authorized' || mp.currentRefreshToken === undefined) wxFail(61009);
    return {
      authorization_info: {
        authorizer_appid: mp.appId,
        authorizer_access_token: this.issueAuthorizerToken(mp.appId, now),
        expires_in: this.cfg.tokenTtlSeconds,
        authorizer_refresh_token: mp.currentRefreshToken,
        func_info: this.funcInfo(mp),
      },
    };
  }

  /** Exchanges a refresh token for a new access token AND a new refresh token; the old one lives GRACE_MS more. */
  authorizerToken(appId: string | undefined, refreshToken: string | undefined): Record<string, unknown> {
    const record = refreshToken === undefined ? undefined : this.refreshTokens.get(refreshToken);
    const now = this.now();
    const dead = record !== undefined && record.deadAt !== null && now >= record.deadAt;
    if (record === undefined || record.appId !== appId || record.revoked || dead) wxFail(61023);
    const mp = this.requireMiniProgram(record.appId);
    if (mp.authorization !== 'authorized') wxFail(61023);

    for (const other of this.refreshTokens.values()) {
      if (other.appId === mp.appId && other.deadAt === null && !other.revoked) other.deadAt = now + GRACE_MS;
    }
    const rotated = `refreshtoken@@@${opaque(32)}`;
    this.refreshTokens.set(rotated, { appId: mp.appId, deadAt: null, revoked: false });
    mp.currentRefreshToken = rotated;
    return {
      authorizer_access_token: this.issueAuthorizerToken(mp.appId, now),
      expires_in: this.cfg.tokenTtlSeconds,
      authorizer_refresh_token: rotated,
    };
  }

  private authorizedMiniProgram(appId: string | undefined): MiniProgramRecord {
    const mp = appId === undefined ? undefined : this.miniPrograms.get(appId);
    if (mp === undefined || mp.authorization !== 'authorized') wxFail(61003);
    return mp;
  }

  authorizerInfo(appId: string | undefined): Record<string, unknown> {
    const mp = this.authorizedMiniProgram(appId);
    return {
      authorizer_info: {
        nick_name: mp.nickName,
        head_img: `http://wx.qlogo.cn/mmopen/sim/${mp.appId}/0`,
        service_type_info: { id: 0 },
        verify_type_info: { id: 0 },
        user_name: mp.userName,
        alias: '',
        qrcode_url: `http://mmbiz.qpic.cn/mmbiz_jpg/sim/${mp.appId}/0`,
        business_info: { open_pay: 0, open_shake: 0, open_scan: 0, open_card: 0, open_store: 0 },
        idc: 1,
        principal_name: mp.principalName,
        signature: mp.profileComplete ? `${mp.nickName} — simulated mini program` : '',
        MiniProgramInfo: {
          network: {
            RequestDomain: [],
            WsRequestDomain: [],
            UploadDomain: [],
            DownloadDomain: [],
            UDPDomain: [],
            TCPDomain: [],
            BizDomain: [],
          },
          categories: mp.categories.map((c) => ({ first: c.first_class, second: c.second_class })),
          visit_status: 0,
        },
        register_type: 0,
        account_status: 1,
        basic_config: { is_phone_configured: true, is_email_configured: true },
      },
      authorization_info: {
        authorizer_appid: mp.appId,
        authorizer_refresh_token: mp.currentRefreshToken ?? '',
        func_info: this.funcInfo(mp),
      },
    };
  }

  authorizerList(offset: number, count: number): Record<string, unknown> {
    if (count > 500) wxFail(40170);
    const authorized = [...this.miniPrograms.values()].filter((mp) => mp.authorization === 'authorized');
    return {
      total_count: authorized.length,
      list: authorized.slice(offset, offset + count).map((mp) => ({
        authorizer_appid: mp.appId,
        refresh_token: mp.currentRefreshToken ?? '',
        auth_time: seconds(mp.authTime ?? 0),
      })),
    };
  }

  // ---- templates (reference §4.1) -------------------------------------------------------------------------

  addTemplate(spec: TemplateSpec): void {
    this.templates.set(spec.templateId, {
      templateId: spec.templateId,
      userVersion: spec.userVersion,
      userDesc: spec.userDesc,
      pages: spec.pages !== undefined && spec.pages.length > 0 ? [...spec.pages] : [...DEFAULT_TEMPLATE_PAGES],
      templateType: spec.templateType ?? 0,
      createdAt: spec.createdAt ?? this.now(),
      sourceMiniProgramAppid: spec.sourceMiniProgramAppid ?? `wxsimdev${String(spec.templateId % 1e10).padStart(10, '0')}`,
      privacyApis: [...(spec.privacyApis ?? [])],
      requiredPrivateInfos: [...(spec.requiredPrivateInfos ?? [])],
    });
  }

  templateList(templateType: number | undefined): Record<string, unknown> {
    const list = [...this.templates.values()].filter((t) => templateType === undefined || t.templateType === templateType);
    return {
      template_list: list.map((t) => ({
        create_time: seconds(t.createdAt),
        user_version: t.userVersion,
        user_desc: t.userDesc,
        template_id: t.templateId,
        draft_id: t.templateId,
        source_miniprogram_appid: t.sourceMiniProgramAppid,
        source_miniprogram: `simulator dev mini program ${t.sourceMiniProgramAppid}`,
        developer: 'simulator',
        template_type: t.templateType,
        category_list: [],
        audit_scene: 0,
        audit_status: 0,
        reason: '',
      })),
    };
  }

  // ---- mini programs: registration and permissions ------------------------------------------------------

  /** Registers a mini program, or updates the profile of one already known (its authorization and audits stay). */
  addMiniProgram(spec: MiniProgramSpec): void {
    const existing = this.miniPrograms.get(spec.appId);
    const profile = {
      nickName: spec.nickName,
      principalName: spec.principalName,
      userName: spec.userName ?? existing?.userName ?? `gh_${sha1Hex(spec.appId).slice(0, 12)}`,
      profileComplete: spec.profileComplete ?? existing?.profileComplete ?? true,
      ungrantedPrivacyApis: spec.ungrantedPrivacyApis ?? existing?.ungrantedPrivacyApis ?? [],
      plugins: spec.plugins?.map((p) => ({ appId: p.appId, status: p.status ?? 2 })) ?? existing?.plugins ?? [],
      categories: spec.categories?.map((c) => ({ ...c })) ?? existing?.categories ?? [{ ...DEFAULT_CATEGORY }],
      heldByOtherPlatform: [...(spec.heldByOtherPlatform ?? existing?.heldByOtherPlatform ?? [])],
    };
    const notExclusive = profile.heldByOtherPlatform.filter((id) => !EXCLUSIVE_FUNC_SCOPE_IDS.has(id));
    if (notExclusive.length > 0) {
      throw simError(
        'SET_NOT_EXCLUSIVE',
        'invalid',
        `permission sets ${notExclusive.join(',')} are not exclusive: any number of platforms may hold them`,
      );
    }
    if (existing !== undefined) {
      Object.assign(existing, profile);
      return;
    }
    const now = this.now();
    const live = spec.released === undefined ? undefined : this.releasedBefore(spec.released, now);
    this.miniPrograms.set(spec.appId, {
      appId: spec.appId,
      ...profile,
      systemOpenId: `o${sha1Hex(`system:${spec.appId}`).slice(0, 27)}`,
      authorization: 'never',
      funcScopeIds: [],
      testers: [],
      audits: [],
      ...(live === undefined ? {} : { live }),
      releaseHistory: live === undefined ? [] : [live],
      nextAppVersion: live === undefined ? 1 : live.appVersion + 1,
      undo: { dayKey: cstDayKey(now), today: 0, monthKey: cstMonthKey(now), thisMonth: 0 },
      privacy: {},
      domains: { requestdomain: [], wsrequestdomain: [], uploaddomain: [], downloaddomain: [], udpdomain: [], tcpdomain: [] },
      webviewDomains: [],
    });
  }

  /** The version online before the simulation began: the template's pages, no ext_json of ours, version 1. */
  private releasedBefore(released: NonNullable<MiniProgramSpec['released']>, now: number): LiveVersionSnapshot {
    const template = this.templates.get(released.templateId);
    if (template === undefined) {
      throw simError('TEMPLATE_UNKNOWN', 'invalid', `released: template ${released.templateId} is not in the library`);
    }
    return {
      templateId: template.templateId,
      userVersion: released.userVersion,
      userDesc: released.userDesc ?? '',
      extJson: '{}',
      pages: [...template.pages],
      committedAt: now,
      appVersion: 1,
      releasedAt: now,
    };
  }

  private requireMiniProgram(appId: string): MiniProgramRecord {
    const mp = this.miniPrograms.get(appId);
    if (mp === undefined) throw unknownMiniProgram(appId);
    return mp;
  }

  /** Whether this platform holds set 18 for the mini program now (doc miniprogram_authority: then mp cannot publish). */
  private holdsCodeManagement(mp: MiniProgramRecord): boolean {
    return mp.authorization === 'authorized' && mp.funcScopeIds.includes(SCOPE_CODE_MANAGEMENT);
  }

  /** For /wxa APIs: the token's mini program, with the permission set the API needs (else 61007). */
  miniProgramFor(appId: string, scope: number): MiniProgramRecord {
    const mp = this.miniPrograms.get(appId);
    // An authorizer token outlives nothing: revocation kills it, so a missing record is a simulator bug.
    if (mp === undefined || mp.authorization !== 'authorized') wxFail(40001);
    if (!mp.funcScopeIds.includes(scope)) wxFail(61007);
    return mp;
  }

  setPluginStatus(appId: string, pluginAppId: string, status: 1 | 2 | 3 | 4): void {
    const mp = this.requireMiniProgram(appId);
    const plugin = mp.plugins.find((p) => p.appId === pluginAppId);
    if (plugin === undefined) mp.plugins.push({ appId: pluginAppId, status });
    else plugin.status = status;
  }

  // ---- code: commit, pages, categories, QR (reference §4.2–§4.4) ---------------------------------------

  commit(mp: MiniProgramRecord, input: { templateId: unknown; extJson: unknown; userVersion: string; userDesc: string }): void {
    // A number, or a numeric string; anything else (e.g. a doubly quoted id) names no template.
    const templateId =
      typeof input.templateId === 'number' || (typeof input.templateId === 'string' && /^\d+$/.test(input.templateId))
        ? Number(input.templateId)
        : NaN;
    const template = this.templates.get(templateId);
    if (template === undefined) wxFail(85014);

    // ext_json travels as a JSON *string*; an object there is a data-format error (peers §2.8).
    if (input.extJson === undefined || input.extJson === '') wxFail(85013);
    if (typeof input.extJson !== 'string') wxFail(47001);
    let ext: unknown;
    try {
      ext = JSON.parse(input.extJson);
    } catch {
      wxFail(85013);
    }
    if (!isPlainObject(ext)) wxFail(85048);

    let pages = template.pages;
    if (ext.pages !== undefined) {
      if (!Array.isArray(ext.pages) || !ext.pages.every((p): p is string => typeof p === 'string')) wxFail(85013);
      if (ext.pages.length === 0) wxFail(85013);
      // ext_json pages may only select among the template's pages.
      const unknownPage = ext.pages.find((p) => !template.pages.includes(p));
      if (unknownPage !== undefined) wxFail(85045, `some path in ext_json not exist: ${unknownPage}`);
      pages = ext.pages;
    }

    for (const provider of pluginProviders(ext)) {
      const granted = mp.plugins.some((p) => p.appId === provider && p.status === 2);
      if (!granted) wxFail(80082, `miniprogram has no permission to plugin[${provider}]`);
    }

    // ext_json's requiredPrivateInfos replaces the template's wholesale (reference §4.2); an API it declares is one
    // the code calls. The scan's privacy_list is what those APIs collect (doc 小程序用户隐私保护指引内容介绍).
    const declared = Array.isArray(ext.requiredPrivateInfos)
      ? ext.requiredPrivateInfos.filter((v): v is string => typeof v === 'string')
      : template.requiredPrivateInfos;
    const privacyApis = [...new Set([...template.privacyApis, ...declared.map((api) => `wx.${api}`)])];
    const privacyKeys = [...new Set(privacyApis.flatMap((api) => PRIVACY_KEY_OF_API[api] ?? []))];
    const now = this.now();
    mp.exp = {
      templateId,
      userVersion: input.userVersion,
      userDesc: input.userDesc,
      extJson: input.extJson,
      pages: [...pages],
      committedAt: now,
      privacyApis,
      declaredPrivateInfos: [...declared],
      privacyKeys,
      privacyScanUntil: now + this.cfg.privacyScanMs,
    };
  }

  pages(mp: MiniProgramRecord): { page_list: string[] } {
    if (mp.exp === undefined) wxFail(86001);
    return { page_list: [...mp.exp.pages] };
  }

  categories(mp: MiniProgramRecord): Record<string, unknown> {
    return { category_list: mp.categories.map((c) => ({ ...c })) };
  }

  /** What the experience QR encodes; WeChat's real ones point at an open.weixin.qq.com experience page. */
  experienceUrl(mp: MiniProgramRecord, path: string | undefined): string {
    if (mp.exp === undefined) wxFail(86001);
    const query = path !== undefined && path !== '' ? `&path=${encodeURIComponent(path)}` : '';
    return `https://open.weixin.qq.com/sns/getexpappinfo?appid=${mp.appId}${query}#wechat-redirect`;
  }

  // ---- privacy (reference §4.6) ---------------------------------------------------------------------------

  private privacyScanRunning(mp: MiniProgramRecord): boolean {
    return mp.exp !== undefined && this.now() < mp.exp.privacyScanUntil;
  }

  /**
   * The scan's findings, as API names (doc api_getcodeprivacyinfo: "wx.getLocation"): geolocation APIs the mini
   * program has no permission for, and those the code calls without declaring them in requiredPrivateInfos.
   * The guide plays no part here: it is checked by the audit.
   */
  private privacyApiProblems(mp: MiniProgramRecord, version: Version): { without_auth_list: string[]; without_conf_list: string[] } {
    const location = [...new Set([...version.privacyApis, ...version.declaredPrivateInfos.map((api) => `wx.${api}`)])].filter((api) =>
      LOCATION_APIS.has(api.replace(/^wx\./, '')),
    );
    return {
      without_auth_list: location.filter((api) => mp.ungrantedPrivacyApis.includes(api.replace(/^wx\./, ''))),
      without_conf_list: location.filter((api) => !version.declaredPrivateInfos.includes(api.replace(/^wx\./, ''))),
    };
  }

  codePrivacyInfo(mp: MiniProgramRecord): Record<string, unknown> {
    if (mp.exp === undefined) wxFail(86001);
    if (this.privacyScanRunning(mp)) wxFail(61039);
    return this.privacyApiProblems(mp, mp.exp);
  }

  /** privacy_list keys the development guide leaves without a purpose (doc product/privacy_setting, 常见问题 1). */
  private undeclaredPrivacyKeys(mp: MiniProgramRecord, version: Version): string[] {
    const declared = new Set(mp.privacy.dev?.settingList.filter((s) => s.privacy_text.trim() !== '').map((s) => s.privacy_key) ?? []);
    return version.privacyKeys.filter((key) => !declared.has(key));
  }

  getPrivacySetting(mp: MiniProgramRecord, privacyVer: 1 | 2): Record<string, unknown> {
    const version = privacyVer === 1 ? mp.live : mp.exp;
    const setting = privacyVer === 1 ? mp.privacy.live : mp.privacy.dev;
    const keys = privacyVer === 1 ? (mp.live === undefined ? [] : this.liveVersionKeys(mp)) : (mp.exp?.privacyKeys ?? []);
    return {
      code_exist: version === undefined ? 0 : 1,
      privacy_list: version === undefined ? [] : keys,
      setting_list: (setting?.settingList ?? []).map((s) => ({
        ...s,
        privacy_label: PRIVACY_LABELS[s.privacy_key] ?? s.privacy_key,
      })),
      update_time: setting === undefined ? 0 : seconds(setting.updatedAt),
      owner_setting: setting?.ownerSetting ?? {},
      privacy_desc: {
        privacy_desc_list: Object.entries(PRIVACY_LABELS).map(([key, desc]) => ({ privacy_key: key, privacy_desc: desc })),
      },
    };
  }

  setPrivacySetting(
    mp: MiniProgramRecord,
    input: {
      privacyVer: 1 | 2;
      ownerSetting: Record<string, string>;
      settingList: { privacy_key: string; privacy_text: string }[];
    },
  ): void {
    if (input.privacyVer === 1 && mp.live === undefined) wxFail(86074);
    const setting: PrivacySetting = {
      ownerSetting: { ...input.ownerSetting },
      settingList: input.settingList.map((s) => ({ ...s })),
      updatedAt: this.now(),
    };
    if (input.privacyVer === 1) mp.privacy.live = setting;
    else mp.privacy.dev = setting;
  }

  /** The privacy keys of the live version's code (its audit kept them). */
  private liveVersionKeys(mp: MiniProgramRecord): string[] {
    const released = mp.audits.filter((a) => a.released).at(-1);
    return released === undefined ? [] : [...released.version.privacyKeys];
  }

  // ---- server and web-view domains (doc 设置服务器域名 / 设置业务域名; WxJava WxOpenMaService) -------------------

  /** Whether the platform registered `domain`'s host (a web-view domain may be a subdomain of a registered one). */
  private registered(kind: 'server' | 'webview', domain: string): boolean {
    const hosts = this.cfg.registeredDomains[kind];
    if (hosts === undefined) return true;
    const host = new URL(domain).hostname;
    return hosts.some((h) => host === h || (kind === 'webview' && host.endsWith(`.${h}`)));
  }

  /**
   * A domain as WeChat keeps it (scheme://host[:port]), or 85301 when it breaks the rules: the list's scheme, no
   * path, no IP address. Deviation: loopback hosts over http pass, so a local run (PUBLIC_BASE_URL
   * http://127.0.0.1:…) can build; WeChat itself refuses both.
   */
  private checkedDomain(list: ServerDomainList | 'webviewdomain', value: string): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      wxFail(85301, `invalid domain ${value}`);
    }
    const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
    const schemeOk = url.protocol === DOMAIN_SCHEME[list] || (loopback && url.protocol === 'http:' && DOMAIN_SCHEME[list] === 'https:');
    const bare = (url.pathname === '/' || url.pathname === '') && url.search === '' && !value.endsWith('/');
    const ip = /^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname) && !loopback;
    if (!schemeOk || !bare || ip) {
      wxFail(
        85301,
        `no domain to modify after filtered, please confirm the domain has been set in miniprogram or open, and follows the rule of domains: ${value}`,
      );
    }
    return `${url.protocol}//${url.host}`;
  }

  private domainLists(mp: MiniProgramRecord): Record<ServerDomainList, string[]> {
    return Object.fromEntries(SERVER_DOMAIN_LISTS.map((list) => [list, [...mp.domains[list]]])) as Record<ServerDomainList, string[]>;
  }

  /**
   * modify_domain. Domains the platform has not registered are filtered out; when nothing is left to change WeChat
   * answers 85017 "no domain to modify after filtered" — for an `add` of domains already there too (WxJava
   * WxMaErrorMsgEnum 85017: 没有新增域名，请确认小程序已经添加了域名或该域名是否没有在第三方平台添加).
   */
  modifyDomain(mp: MiniProgramRecord, action: string, lists: Partial<Record<ServerDomainList, string[]>>): Record<string, unknown> {
    if (action === 'get') return this.domainLists(mp);
    if (action !== 'add' && action !== 'delete' && action !== 'set') wxFail(40097, 'invalid action');
    const given = Object.fromEntries(
      SERVER_DOMAIN_LISTS.map((list) => [list, (lists[list] ?? []).map((d) => this.checkedDomain(list, d))]),
    ) as Record<ServerDomainList, string[]>;
    const next = this.domainLists(mp);
    let changed = false;
    for (const list of SERVER_DOMAIN_LISTS) {
      const kept = given[list].filter((d) => this.registered('server', d));
      if (action === 'delete') {
        const remaining = next[list].filter((d) => !given[list].includes(d));
        changed ||= remaining.length !== next[list].length;
        next[list] = remaining;
      } else if (action === 'add') {
        const fresh = [...new Set(kept.filter((d) => !next[list].includes(d)))];
        changed ||= fresh.length > 0;
        next[list] = [...next[list], ...fresh];
      } else {
        changed ||= kept.length > 0 || given[list].length === 0;
        next[list] = [...new Set(kept)];
      }
      if (next[list].length > MAX_DOMAINS) wxFail(85016);
    }
    if (!changed && action !== 'delete')
      wxFail(85017, 'no domain to modify after filtered, please confirm the domain has been set in miniprogram or open');
    mp.domains = next;
    return this.domainLists(mp);
  }

  /** setwebviewdomain (业务域名): only the platform's web-view domains or their subdomains (89021). */
  webviewDomain(mp: MiniProgramRecord, action: string, domains: string[]): Record<string, unknown> {
    if (action === 'get') return { webviewdomain: [...mp.webviewDomains] };
    if (action !== 'add' && action !== 'delete' && action !== 'set') wxFail(40097, 'invalid action');
    if (this.cfg.registeredDomains.webview?.length === 0) wxFail(89020);
    const given = domains.map((d) => this.checkedDomain('webviewdomain', d));
    if (action !== 'delete' && given.some((d) => !this.registered('webview', d))) wxFail(89021);
    const next =
      action === 'delete'
        ? mp.webviewDomains.filter((d) => !given.includes(d))
        : action === 'add'
          ? [...new Set([...mp.webviewDomains, ...given])]
          : [...new Set(given)];
    if (next.length > MAX_DOMAINS) wxFail(89029);
    if (next.length === mp.webviewDomains.length && next.every((d) => mp.webviewDomains.includes(d))) wxFail(89019);
    mp.webviewDomains = next;
    return { webviewdomain: [...next] };
  }

  /** URLs in an ext_json the code would download from a domain that is not one of its downloadFile domains. */
  private unreachableUrls(mp: MiniProgramRecord, extJson: string): string[] {
    const urls: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string' && /^https?:\/\//.test(value)) urls.push(value);
      else if (Array.isArray(value)) value.forEach(walk);
      else if (isPlainObject(value)) Object.values(value).forEach(walk);
    };
    try {
      walk(JSON.parse(extJson));
    } catch {
      return [];
    }
    const allowed = new Set(mp.domains.downloaddomain.map((d) => d.toLowerCase()));
    return urls.filter((url) => !allowed.has(new URL(url).origin.toLowerCase()));
  }

  // ---- audit (reference §4.7–§4.10, state machine §4.13) -------------------------------------------------

  /**
   * The monthly submit and speed-up quotas ("当月分配quota", "当月分配加急次数": doc query_quota) refill when the month
   * turns in China (shared/domain/audit-quota.ts has the sources), checked lazily on the injected clock.
   */
  private rollQuota(): void {
    const monthKey = cstMonthKey(this.now());
    if (monthKey !== this.quotaMonthKey) {
      this.quotaMonthKey = monthKey;
      this.quotaState.submitRest = this.quotaState.submitLimit;
      this.quotaState.speedupRest = this.quotaState.speedupLimit;
    }
  }

  private latestAudit(mp: MiniProgramRecord): AuditRecord | undefined {
    return mp.audits[mp.audits.length - 1];
  }

  private pendingAudit(mp: MiniProgramRecord): AuditRecord | undefined {
    const latest = this.latestAudit(mp);
    return latest !== undefined && (latest.status === 2 || latest.status === 4) ? latest : undefined;
  }

  submitAudit(
    mp: MiniProgramRecord,
    input: { itemList?: { first_id: number; second_id: number }[]; privacyApiNotUse?: boolean; ugcDeclared?: boolean },
  ): { auditid: number; autoDecideAt?: number } {
    if (mp.exp === undefined) wxFail(85086);
    if (this.pendingAudit(mp) !== undefined) wxFail(85009);
    const refusal = submitRefusal({
      record: this.goLiveOf(mp),
      platformPenalty: this.platformPenalty.errcode,
      everReleased: this.everReleased(mp),
      everSubmitted: mp.audits.length > 0,
      // The submitted items, as the mini program's categories name them (an unknown one is refused below: 85077).
      categories:
        input.itemList === undefined
          ? mp.categories
          : mp.categories.filter((c) => input.itemList?.some((i) => i.second_id === c.second_id)),
      ugcDeclared: input.ugcDeclared === true,
    });
    if (refusal !== null) wxFail(refusal);
    if (this.privacyScanRunning(mp)) wxFail(61039);
    if (!mp.profileComplete) wxFail(86002);
    // 61040: a geolocation API without permission or undeclared, unless the submitter promises not to use it (doc
    // submitAudit 注意事项, privacy_api_not_use; errmsg from doc api_getcodeprivacyinfo).
    const problems = this.privacyApiProblems(mp, mp.exp);
    const refused = [...problems.without_auth_list, ...problems.without_conf_list];
    if (refused.length > 0 && input.privacyApiNotUse !== true) {
      wxFail(
        61040,
        `代码中含有ext.json未配置或无权限的隐私接口${refused.join(',')}，请配置并申请权限或者承诺不使用这些接口(设置参数privacy_api_not_use为true)后再提交审核`,
      );
    }
    if (input.itemList !== undefined) {
      if (input.itemList.length === 0 || input.itemList.length > 5) wxFail(85023);
      if (mp.categories.length === 0) wxFail(85008);
      for (const item of input.itemList) {
        const known = mp.categories.some((c) => c.first_id === item.first_id && c.second_id === item.second_id);
        if (!known) wxFail(85077, `category is invalid: ${item.first_id}/${item.second_id}`);
      }
    }
    this.rollQuota();
    if (this.quotaState.submitRest <= 0) wxFail(85085);
    this.quotaState.submitRest -= 1;

    const now = this.now();
    const delay = this.cfg.auditDecisionDelayMs;
    const audit: AuditRecord = {
      auditid: this.nextAuditId++,
      status: 2,
      undeclaredPrivacyKeys: this.undeclaredPrivacyKeys(mp, mp.exp),
      screenshots: [],
      submittedAt: now,
      speedup: false,
      released: false,
      version: {
        ...mp.exp,
        pages: [...mp.exp.pages],
        privacyApis: [...mp.exp.privacyApis],
        declaredPrivateInfos: [...mp.exp.declaredPrivateInfos],
        privacyKeys: [...mp.exp.privacyKeys],
      },
    };
    const profile = this.auditProfiles.get(audit.version.templateId);
    if (profile !== undefined) {
      const draw = drawAudit(profile, audit.auditid);
      audit.autoDecideAt = now + draw.delayMs;
      audit.plannedDecision = draw.decision;
    } else if (delay !== null) {
      audit.autoDecideAt = now + delay;
    }
    mp.audits.push(audit);
    return audit.autoDecideAt === undefined ? { auditid: audit.auditid } : { auditid: audit.auditid, autoDecideAt: audit.autoDecideAt };
  }

  private auditById(mp: MiniProgramRecord, auditid: number): AuditRecord {
    const audit = mp.audits.find((a) => a.auditid === auditid);
    if (audit === undefined) wxFail(85012);
    return audit;
  }

  auditStatus(mp: MiniProgramRecord, auditid: number): Record<string, unknown> {
    return auditFields(this.auditById(mp, auditid));
  }

  latestAuditStatus(mp: MiniProgramRecord): Record<string, unknown> {
    const audit = this.latestAudit(mp);
    if (audit === undefined) wxFail(85058);
    const fields = auditFields(audit);
    return {
      auditid: audit.auditid,
      ...fields,
      // The doc table spells it `screenshot`, the doc examples `ScreenShot`: send both.
      ...(fields.screenshot === undefined ? {} : { ScreenShot: fields.screenshot }),
      user_version: audit.version.userVersion,
      user_desc: audit.version.userDesc,
      submit_audit_time: seconds(audit.submittedAt),
    };
  }

  undoAudit(mp: MiniProgramRecord): void {
    const audit = this.pendingAudit(mp);
    // An audit WeChat has already approved or rejected cannot be withdrawn: 87012 "forbid revert this version
    // release" (staff answer, community thread 0002423c6b85c083bd7a318fd5b800); nothing to withdraw at all: 85019.
    const latestStatus = this.latestAudit(mp)?.status;
    if (audit === undefined) wxFail(latestStatus === 0 || latestStatus === 1 ? 87012 : 85019);
    const now = this.now();
    const dayKey = cstDayKey(now);
    const monthKey = cstMonthKey(now);
    if (mp.undo.dayKey !== dayKey) mp.undo = { ...mp.undo, dayKey, today: 0 };
    if (mp.undo.monthKey !== monthKey) mp.undo = { ...mp.undo, monthKey, thisMonth: 0 };
    if (mp.undo.today >= this.quotaState.undoPerDay || mp.undo.thisMonth >= this.quotaState.undoPerMonth) wxFail(87013);
    mp.undo.today += 1;
    mp.undo.thisMonth += 1;
    audit.status = 3;
    audit.decidedAt = now;
    delete audit.autoDecideAt;
    delete audit.plannedDecision;
  }

  speedupAudit(mp: MiniProgramRecord, auditid: number): void {
    const audit = this.auditById(mp, auditid);
    if (audit.status !== 2) wxFail(89402);
    if (audit.speedup) wxFail(89404);
    this.rollQuota();
    if (this.quotaState.speedupRest <= 0) wxFail(89405);
    this.quotaState.speedupRest -= 1;
    audit.speedup = true;
  }

  queryQuota(): Record<string, number> {
    this.rollQuota();
    const q = this.quotaState;
    return { rest: q.submitRest, limit: q.submitLimit, speedup_rest: q.speedupRest, speedup_limit: q.speedupLimit };
  }

  /** Whether `mediaId` is a rejection screenshot this mini program was handed (what get_material may serve it). */
  isScreenshotOf(mp: MiniProgramRecord, mediaId: string): boolean {
    return mp.audits.some((audit) => audit.screenshots.includes(mediaId));
  }

  /** Decides the pending audit of a mini program (control API, or the automatic approval when due). */
  decideAudit(appId: string, decision: AuditDecision, opts: { reason?: string; screenshots?: string[] } = {}): PushRequest {
    const mp = this.requireMiniProgram(appId);
    const audit = this.pendingAudit(mp);
    if (audit === undefined) {
      throw simError('NO_PENDING_AUDIT', 'conflict', `${appId} has no audit under review or delayed`);
    }
    return this.applyDecision(mp, audit, decision, opts);
  }

  private applyDecision(
    mp: MiniProgramRecord,
    audit: AuditRecord,
    decision: AuditDecision,
    opts: { reason?: string; screenshots?: string[] },
  ): PushRequest {
    const now = this.now();
    const base = { ToUserName: mp.userName, FromUserName: mp.systemOpenId, CreateTime: seconds(now), MsgType: 'event' };
    delete audit.autoDecideAt;
    delete audit.plannedDecision;
    audit.decidedAt = now;
    const push = (label: string, message: WeChatXmlInput): PushRequest => ({
      channel: 'message',
      label,
      appId: mp.appId,
      userName: mp.userName,
      openId: mp.systemOpenId,
      message,
    });
    // The audit checks the guide against what the code collects and rejects a version whose guide leaves a detected
    // key out (doc product/privacy_setting 规则说明 2; the reason as WeChat words it, community thread quoting an
    // audit of 2022-07: "小程序内涉及收集…相关接口或组件，请通过接口完善【用户隐私保护指引】后再重新提审").
    if (decision === 'approve' && audit.undeclaredPrivacyKeys.length > 0) {
      const labels = audit.undeclaredPrivacyKeys
        .map((key) => `"${PRIVACY_KEY_LABELS[key as keyof typeof PRIVACY_KEY_LABELS] ?? key}"`)
        .join('、');
      return this.applyDecision(mp, audit, 'reject', {
        reason: `小程序功能不符合规则:<br>(1):你好，小程序内涉及收集${labels}相关接口或组件，请通过接口完善【用户隐私保护指引】后再重新提审<br>`,
      });
    }
    switch (decision) {
      case 'approve':
        audit.status = 0;
        delete audit.reason;
        audit.screenshots = [];
        return push('weapp_audit_success', { ...base, Event: 'weapp_audit_success', SuccTime: seconds(now) });
      case 'reject': {
        audit.status = 1;
        audit.reason = opts.reason ?? '1:小程序名称与内容不符<br>';
        // WeChat sends screenshots of what the reviewer saw; without given ids the simulator hands out one of its own,
        // which get_material then serves (as it serves any id it handed out).
        audit.screenshots = [...(opts.screenshots ?? [`sim_screenshot_${audit.auditid}_1`])];
        const screenshot = audit.screenshots.join('|');
        return push('weapp_audit_fail', {
          ...base,
          Event: 'weapp_audit_fail',
          Reason: audit.reason,
          FailTime: seconds(now),
          ScreenShot: screenshot === '' ? undefined : screenshot,
        });
      }
      case 'delay':
        audit.status = 4;
        audit.reason = opts.reason ?? '审核延期，请耐心等待';
        audit.screenshots = [];
        return push('weapp_audit_delay', {
          ...base,
          Event: 'weapp_audit_delay',
          Reason: audit.reason,
          DelayTime: seconds(now),
        });
    }
  }

  /** Approves every audit whose automatic decision is due, and completes phases at day 15; returns the pushes. */
  settleDue(): PushRequest[] {
    const now = this.now();
    const pushes: PushRequest[] = [];
    for (const plan of this.grayPlans.values()) if (grayActive(plan) && plan.fullReleaseAt <= now) complete(plan);
    for (const mp of this.miniPrograms.values()) {
      const audit = this.latestAudit(mp);
      if (audit !== undefined && audit.status === 2 && audit.autoDecideAt !== undefined && audit.autoDecideAt <= now) {
        const reason = audit.plannedDecision === 'reject' ? this.auditProfiles.get(audit.version.templateId)?.reason : undefined;
        pushes.push(this.applyDecision(mp, audit, audit.plannedDecision ?? 'approve', reason === undefined ? {} : { reason }));
      }
    }
    return pushes;
  }

  /** The earliest pending automatic decision, so the simulator can set one timer for it. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const mp of this.miniPrograms.values()) {
      const at = this.latestAudit(mp)?.autoDecideAt;
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    for (const plan of this.grayPlans.values()) {
      if (grayActive(plan) && (next === undefined || plan.fullReleaseAt < next)) next = plan.fullReleaseAt;
    }
    return next;
  }

  // ---- go-live prerequisites (go-live.ts; reference wechat-go-live.md) -------------------------------------

  private goLiveOf(mp: MiniProgramRecord): GoLiveRecord {
    let record = this.goLive.get(mp.appId);
    if (record === undefined) {
      record = defaultGoLive();
      this.goLive.set(mp.appId, record);
    }
    return record;
  }

  private everReleased(mp: MiniProgramRecord): boolean {
    return mp.live !== undefined || mp.releaseHistory.length > 0;
  }

  setGoLive(appId: string, patch: GoLiveStatePatch): void {
    patchGoLive(this.goLiveOf(this.requireMiniProgram(appId)), patch, this.now());
  }

  setPlatformPenalty(errcode: PlatformPenalty | null): void {
    this.platformPenalty = { errcode };
  }

  icpEntranceInfo(mp: MiniProgramRecord): Record<string, unknown> {
    return icpEntranceInfo(this.goLiveOf(mp));
  }

  accountBasicInfo(mp: MiniProgramRecord): Record<string, unknown> {
    return accountBasicInfo(this.goLiveOf(mp), mp);
  }

  privacyInterfaces(mp: MiniProgramRecord): Record<string, unknown> {
    return privacyInterfaceList(this.goLiveOf(mp), mp.ungrantedPrivacyApis);
  }

  orderPathInfo(mp: MiniProgramRecord, infoType: 0 | 1): Record<string, unknown> {
    return orderPathInfo(this.goLiveOf(mp), infoType) ?? wxFail(61041, 'The appuin has not set orderpath');
  }

  /**
   * modify_wxa_server_domain (component token): the platform's own mini program server domains, `;`-joined hosts
   * (peers: wxcloudrun-wxcomponent ServerDomainRes, SKIT CgibinComponentModifyWxaServerDomainResponse). A simulator
   * configured without a list restricts nothing and so has none to show: its answer leaves the lists out.
   */
  platformServerDomains(action: string, hosts: readonly string[]): Record<string, unknown> {
    if (action === 'add' || action === 'set') {
      const kept = action === 'add' ? (this.cfg.registeredDomains.server ?? []) : [];
      this.setRegisteredDomains({ server: [...new Set([...kept, ...hosts])] });
    } else if (action !== 'get') {
      wxFail(40097, 'invalid action');
    }
    const registered = this.cfg.registeredDomains.server;
    if (registered === undefined) return {};
    return {
      published_wxa_server_domain: registered.join(';'),
      testing_wxa_server_domain: registered.join(';'),
      invalid_wxa_server_domain: '',
    };
  }

  // ---- release and rollback (reference §4.11) -------------------------------------------------------------

  release(mp: MiniProgramRecord): void {
    const latest = this.latestAudit(mp);
    if (latest === undefined) wxFail(85019);
    const plan = this.grayPlans.get(mp.appId);
    const phasing = activePlan(plan);
    if (phasing !== undefined) {
      // A full release of the version being phased in completes the plan (the mp console's 全量发布 during a phase;
      // that `release` does this through the API is UNCONFIRMED). Any other version waits: "若存在正在分阶段发布的小程序
      // 版本，不可发布新版本" (小程序分阶段发布功能介绍 rule 3); WeChat's errcode for it is not documented.
      if (phasing.auditid !== latest.auditid) this.refuseWhilePhased();
      complete(phasing);
      return;
    }
    if (latest.status !== 0) wxFail(85020);
    if (latest.released) wxFail(85052);
    if (releaseBlockedByIcp(this.goLiveOf(mp), this.everReleased(mp)))
      wxFail(85020, 'status not allowed: icp filing required before first release');
    this.publish(mp, latest);
    // "当线上版本的上一个版本是分阶段发布并已撤销发布，那么当前线上版本不可回退" (rule 5): nothing to roll back to.
    if (plan?.status === GRAY_STATUS.deleted && !plan.releasedOver) {
      mp.releaseHistory = mp.releaseHistory.slice(-1);
      plan.releasedOver = true;
    }
  }

  /** Makes the latest approved version the live one (a full release, or the start of a phased one). */
  private publish(mp: MiniProgramRecord, latest: AuditRecord): void {
    const { privacyApis: _apis, declaredPrivateInfos: _declared, privacyKeys: _keys, privacyScanUntil: _scan, ...version } = latest.version;
    const live: LiveVersionSnapshot = {
      ...version,
      pages: [...version.pages],
      appVersion: mp.nextAppVersion++,
      releasedAt: this.now(),
    };
    latest.released = true;
    mp.live = live;
    // Releasing through the platform keeps only the platform's domains (doc 设置服务器域名: "小程序原先自己配置的服务器
    // 域名将被删除，只保留第三方平台的域名").
    for (const list of SERVER_DOMAIN_LISTS) mp.domains[list] = mp.domains[list].filter((d) => this.registered('server', d));
    mp.webviewDomains = mp.webviewDomains.filter((d) => this.registered('webview', d));
    mp.releaseHistory.push(live);
    if (mp.releaseHistory.length > RELEASE_HISTORY_SIZE) mp.releaseHistory.shift();
  }

  // ---- call-rate limits (rate-limits.ts) ------------------------------------------------------------------

  /** Replaces the rules; an empty list lifts every limit. What was spent today stays spent. */
  setRateLimits(rules: readonly RateLimitRule[]): void {
    this.rateLimitRules = rules.map((r) => ({ ...r }));
  }

  rateLimits(): RateLimitRule[] {
    return this.rateLimitRules.map((r) => ({ ...r }));
  }

  /**
   * Spends one call of `path` for the mini program (authorizer token) or else the platform: 45009 once the day's
   * budget is spent, 45011 once the minute's is.
   */
  spendCall(path: string, authorizerAppId: string | undefined): void {
    const account = authorizerAppId ?? this.component.appId;
    const refusal = spendCall(this.rateLimitRules, this.callsSpent, { account, path, now: this.now() });
    if (refusal !== null) wxFail(refusal);
  }

  // ---- audit profiles (audit-profiles.ts) -----------------------------------------------------------------

  /** Audits submitted from now on of this template's versions follow `profile`; those under review keep their draw. */
  setAuditProfile(profile: AuditProfile): void {
    this.auditProfiles.set(profile.templateId, { ...profile });
  }

  clearAuditProfiles(): void {
    this.auditProfiles.clear();
  }

  auditProfileList(): AuditProfile[] {
    return [...this.auditProfiles.values()].map((p) => ({ ...p }));
  }

  // ---- phased release (gray-release.ts) -------------------------------------------------------------------

  /** Rule 3 of 小程序分阶段发布功能介绍: nothing new goes live while a phase runs. The errcode is not documented. */
  private refuseWhilePhased(): never {
    return wxFail(85020, 'status not allowed: a phased release (grayrelease) is running');
  }

  /**
   * grayrelease: starts a plan for the latest approved version, or raises the running plan's share. The phased version
   * is the live one from the start (getversioninfo, get_history_version); the users outside the share keep the
   * previous one, which a revert puts back.
   */
  grayRelease(mp: MiniProgramRecord, input: GrayReleaseInput): void {
    const percentage = validPercentage(input);
    if (percentage === null) wxFail(85081);
    const plan = activePlan(this.grayPlans.get(mp.appId));
    const latest = this.latestAudit(mp);
    if (plan !== undefined) {
      if (latest?.auditid !== plan.auditid) this.refuseWhilePhased();
      const refusal = raise(plan, input, percentage);
      if (refusal !== null) wxFail(refusal);
      return;
    }
    // A first version must be released in full (rule 4; doc grayRelease 85079 "小程序尚未发布").
    if (mp.live === undefined) wxFail(85079);
    if (latest === undefined || latest.status !== 0) wxFail(85080);
    if (latest.released) wxFail(85052);
    const previousLive = mp.live;
    this.publish(mp, latest);
    this.grayPlans.set(mp.appId, newPlan(input, percentage, latest.auditid, previousLive, this.now()));
  }

  grayReleasePlan(mp: MiniProgramRecord): Record<string, unknown> {
    return planAnswer(this.grayPlans.get(mp.appId));
  }

  /**
   * revertgrayrelease: the users the phase reached go back to the version before it (doc revertGrayRelease), so that
   * version is live again and the phased one leaves the rollback history. With no phase running there is nothing
   * to cancel: WeChat's errcode for that is not documented; the simulator answers 87012 like a refused rollback.
   */
  revertGrayRelease(mp: MiniProgramRecord): void {
    const plan = activePlan(this.grayPlans.get(mp.appId));
    if (plan === undefined) wxFail(87012, 'forbid revert: no phased release is running');
    const phased = mp.live?.appVersion;
    plan.status = GRAY_STATUS.deleted;
    mp.live = plan.previousLive;
    mp.releaseHistory = mp.releaseHistory.filter((v) => v.appVersion !== phased);
  }

  /** The admin pauses or resumes a running phase from the mp console; nothing else changes. */
  setGrayReleasePaused(appId: string, paused: boolean): void {
    const plan = activePlan(this.grayPlans.get(this.requireMiniProgram(appId).appId));
    if (plan === undefined) throw simError('NO_PHASED_RELEASE', 'conflict', `${appId} has no phased release running or paused`);
    plan.status = paused ? GRAY_STATUS.paused : GRAY_STATUS.running;
  }

  historyVersions(mp: MiniProgramRecord): Record<string, unknown> {
    // Oldest first, as the doc example of get_history_version lists them. A real answer quoted in community thread
    // 0004e8c568cc00397cf463ed061000 lists newest first (app_version 454, 452, 451 …): callers must not rely on the
    // order (ours does not).
    const previous = mp.releaseHistory.slice(0, -1);
    return {
      version_list: previous.map((v) => ({
        app_version: v.appVersion,
        user_version: v.userVersion,
        user_desc: v.userDesc,
        commit_time: seconds(v.committedAt),
      })),
    };
  }

  revertRelease(mp: MiniProgramRecord, appVersion: number | undefined): void {
    // 87011 "this version has been released in beta test, and therefore cannot be rolled back" (doc revertcoderelease;
    // 小程序分阶段发布功能介绍 rule 3: "…不可回退已全量发布的线上版本").
    if (activePlan(this.grayPlans.get(mp.appId)) !== undefined) wxFail(87011);
    const history = mp.releaseHistory;
    if (history.length < 2) wxFail(87012);
    const targetIndex = appVersion === undefined ? history.length - 2 : history.findIndex((v) => v.appVersion === appVersion);
    const target = history[targetIndex];
    if (target === undefined || targetIndex >= history.length - 1) wxFail(87012);
    // One rollback per release (doc revertcoderelease: 当前版本回退后，不能再调用版本回退接口，也不会再查到版本信息):
    // after it nothing is listed and nothing can be rolled back until a new release. That release can be rolled
    // back to the version live now only; whether WeChat still offers older ones then is not documented.
    mp.releaseHistory = [target];
    mp.live = target;
  }

  versionInfo(mp: MiniProgramRecord): Record<string, unknown> {
    return {
      ...(mp.exp === undefined
        ? {}
        : {
            exp_info: {
              exp_time: seconds(mp.exp.committedAt),
              exp_version: mp.exp.userVersion,
              exp_desc: mp.exp.userDesc,
            },
          }),
      ...(mp.live === undefined
        ? {}
        : {
            release_info: {
              release_time: seconds(mp.live.releasedAt),
              release_version: mp.live.userVersion,
              release_desc: mp.live.userDesc,
            },
          }),
    };
  }

  // ---- plugins and testers (reference §4.12) -------------------------------------------------------------

  plugin(mp: MiniProgramRecord, input: { action: string; pluginAppId?: string }): Record<string, unknown> {
    const find = (): { appId: string; status: 1 | 2 | 3 | 4 } | undefined => mp.plugins.find((p) => p.appId === input.pluginAppId);
    switch (input.action) {
      case 'list':
        return {
          plugin_list: mp.plugins.map((p) => ({
            appid: p.appId,
            status: p.status,
            nickname: `plugin ${p.appId}`,
            headimgurl: `http://wx.qlogo.cn/mmhead/sim/${p.appId}/0`,
          })),
        };
      case 'apply': {
        if (input.pluginAppId === undefined || !/^wx[0-9a-zA-Z]{16}$/.test(input.pluginAppId)) wxFail(89239);
        if (find() !== undefined) wxFail(89237);
        mp.plugins.push({ appId: input.pluginAppId, status: 1 });
        return {};
      }
      case 'unbind': {
        const plugin = find();
        if (plugin === undefined) wxFail(89244);
        if (plugin.status === 1) wxFail(89243);
        mp.plugins = mp.plugins.filter((p) => p !== plugin);
        return {};
      }
      case 'update': {
        const plugin = find();
        if (plugin === undefined || plugin.status !== 2) wxFail(89244);
        return {};
      }
      default:
        return wxFail(47001, `data format error: unknown action ${input.action}`);
    }
  }

  bindTester(mp: MiniProgramRecord, wechatid: string): { userstr: string } {
    // WeChat ids: 6–20 characters, a letter first, then letters, digits, '_' or '-'.
    if (!/^[A-Za-z][A-Za-z0-9_-]{5,19}$/.test(wechatid)) wxFail(85001);
    if (mp.testers.some((t) => t.wechatid === wechatid)) wxFail(85004);
    if (mp.testers.length >= this.quotaState.testersPerMiniProgram) wxFail(85002);
    const testing = [...this.miniPrograms.values()].filter((other) => other.testers.some((t) => t.wechatid === wechatid)).length;
    if (testing >= this.quotaState.miniProgramsPerTester) wxFail(85003);
    const userstr = sha1Hex(`${mp.appId}:${wechatid}`);
    mp.testers.push({ wechatid, userstr });
    return { userstr };
  }

  unbindTester(mp: MiniProgramRecord, who: { wechatid?: string; userstr?: string }): void {
    const before = mp.testers.length;
    mp.testers = mp.testers.filter((t) => t.wechatid !== who.wechatid && t.userstr !== who.userstr);
    if (mp.testers.length === before) wxFail(85001);
  }

  // ---- quotas and snapshots -------------------------------------------------------------------------------

  setQuota(patch: Partial<QuotaSettings>): void {
    this.rollQuota();
    this.quotaState = { ...this.quotaState, ...patch };
  }

  quota(): QuotaSnapshot {
    this.rollQuota();
    const used = this.componentTokenDay.dayKey === cstDayKey(this.now()) ? this.componentTokenDay.used : 0;
    return { ...this.quotaState, componentTokenUsedToday: used, renewsAt: nextAuditQuotaRenewal(this.now()) };
  }

  miniProgramSnapshot(appId: string): MiniProgramSnapshot | undefined {
    const mp = this.miniPrograms.get(appId);
    return mp === undefined ? undefined : this.snapshotOf(mp);
  }

  miniProgramIds(): string[] {
    return [...this.miniPrograms.keys()];
  }

  private snapshotOf(mp: MiniProgramRecord): MiniProgramSnapshot {
    const now = this.now();
    const version = (v: Version): VersionSnapshot => ({
      templateId: v.templateId,
      userVersion: v.userVersion,
      userDesc: v.userDesc,
      extJson: v.extJson,
      pages: [...v.pages],
      committedAt: v.committedAt,
    });
    const snapshot: MiniProgramSnapshot = {
      appId: mp.appId,
      nickName: mp.nickName,
      principalName: mp.principalName,
      userName: mp.userName,
      profileComplete: mp.profileComplete,
      domains: {
        ...Object.fromEntries(SERVER_DOMAIN_LISTS.map((list) => [list, [...mp.domains[list]]])),
        webviewdomain: [...mp.webviewDomains],
      } as MiniProgramSnapshot['domains'],
      unreachableUrls: {
        exp: mp.exp === undefined ? [] : this.unreachableUrls(mp, mp.exp.extJson),
        live: mp.live === undefined ? [] : this.unreachableUrls(mp, mp.live.extJson),
      },
      authorization: mp.authorization,
      funcScopeIds: [...mp.funcScopeIds],
      heldByOtherPlatform: [...mp.heldByOtherPlatform],
      publishesOnMp: !this.holdsCodeManagement(mp) && !mp.heldByOtherPlatform.includes(SCOPE_CODE_MANAGEMENT),
      plugins: mp.plugins.map((p) => ({ ...p })),
      categories: mp.categories.map((c) => ({ ...c })),
      testers: mp.testers.map((t) => t.wechatid),
      audits: mp.audits.map((a) => ({
        auditid: a.auditid,
        status: a.status,
        undeclaredPrivacyKeys: [...a.undeclaredPrivacyKeys],
        ...(a.reason === undefined ? {} : { reason: a.reason }),
        screenshots: [...a.screenshots],
        submittedAt: a.submittedAt,
        ...(a.decidedAt === undefined ? {} : { decidedAt: a.decidedAt }),
        ...(a.autoDecideAt === undefined ? {} : { autoDecideAt: a.autoDecideAt }),
        ...(a.plannedDecision === undefined ? {} : { plannedDecision: a.plannedDecision }),
        speedup: a.speedup,
        released: a.released,
        version: version(a.version),
      })),
      releaseHistory: mp.releaseHistory.map((v) => ({ ...v, pages: [...v.pages] })),
      undo: {
        today: mp.undo.dayKey === cstDayKey(now) ? mp.undo.today : 0,
        thisMonth: mp.undo.monthKey === cstMonthKey(now) ? mp.undo.thisMonth : 0,
      },
    };
    if (mp.authTime !== undefined) snapshot.authTime = mp.authTime;
    if (mp.privacy.dev !== undefined) {
      snapshot.privacyGuide = {
        ownerSetting: { ...mp.privacy.dev.ownerSetting },
        settingList: mp.privacy.dev.settingList.map((x) => ({ ...x })),
      };
    }
    if (mp.exp !== undefined) snapshot.exp = version(mp.exp);
    if (mp.live !== undefined) snapshot.live = { ...mp.live, pages: [...mp.live.pages] };
    const plan = this.grayPlans.get(mp.appId);
    if (plan !== undefined) snapshot.grayRelease = planSnapshot(plan);
    return snapshot;
  }
}

const PRIVACY_LABELS: Readonly<Record<string, string>> = PRIVACY_KEY_LABELS;

function auditFields(audit: AuditRecord): { status: AuditStatusCode; reason?: string; screenshot?: string } {
  if (audit.status === 1) return { status: 1, reason: audit.reason ?? '', screenshot: audit.screenshots.join('|') };
  if (audit.status === 4) return { status: 4, reason: audit.reason ?? '' };
  return { status: audit.status };
}

/** Plugin providers referenced by ext_json: top-level `plugins` and each sub-package's `plugins`. */
function pluginProviders(ext: Record<string, unknown>): string[] {
  const providers: string[] = [];
  const collect = (plugins: unknown): void => {
    if (!isPlainObject(plugins)) return;
    for (const declaration of Object.values(plugins)) {
      if (isPlainObject(declaration) && typeof declaration.provider === 'string') providers.push(declaration.provider);
    }
  };
  collect(ext.plugins);
  const subPackages = ext.subPackages ?? ext.subpackages;
  if (Array.isArray(subPackages)) for (const sub of subPackages) if (isPlainObject(sub)) collect(sub.plugins);
  return [...new Set(providers)];
}

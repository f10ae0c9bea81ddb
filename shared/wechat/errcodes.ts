/**
 * WeChat errcodes and the typed errors the WeChat client raises.
 *
 * WeChat answers almost every failure with HTTP 200 and `{errcode, errmsg}`; the table below turns a bare number
 * into something the rest of the system can act on: a `kind` (what to do about it) that decides both the retry
 * policy of the client and the `ErrorCategory` the HTTP layer maps to a status. Codes come from
 * reference/wechat-open-platform.md §3–§6; unknown codes get kind 'other' rather than a guess.
 */
import { AppError, type AppErrorOptions, type ErrorCategory } from '../domain/errors';

export type WeChatErrorKind =
  | 'token' // the access token is stale: refresh it (compare-and-set) and retry once
  | 'transient' // WeChat failed on its side; the same request may succeed later
  | 'quota' // a daily/monthly/minute budget is used up: retrying now only burns more quota
  | 'auth' // the authorization/credentials themselves are gone or wrong: needs re-authorization or config
  | 'state' // the mini program is in a state that forbids the call right now (conflict)
  | 'input' // the request is wrong
  | 'permission' // the platform or account is not allowed to do this
  | 'other';

export interface ErrcodeInfo {
  readonly meaning: string;
  readonly kind: WeChatErrorKind;
}

const e = (kind: WeChatErrorKind, meaning: string): ErrcodeInfo => ({ kind, meaning });

export const WECHAT_ERRCODES: Readonly<Record<number, ErrcodeInfo>> = {
  [-1]: e('transient', 'WeChat system error (busy); retry later'),

  // Tokens and credentials (§3, §6)
  40001: e('token', 'access token invalid or not the latest'),
  40014: e('token', 'invalid access token'),
  42001: e('token', 'access token expired'),
  42007: e('auth', 'access token and refresh token invalidated (admin changed password); re-authorization needed'),
  40013: e('auth', 'invalid appid'),
  40007: e('input', 'invalid media_id (get_material: no permanent material with that id for this account)'),
  40125: e('auth', 'invalid appsecret'),
  40164: e('permission', 'caller IP is not in the whitelist'),
  40170: e('input', 'count exceeds the maximum (500) for api_get_authorizer_list'),
  41001: e('input', 'access token missing'),
  41004: e('input', 'appsecret missing'),
  41018: e('input', 'component_appid missing'),
  43001: e('input', 'GET required'),
  43002: e('input', 'POST required'),
  44002: e('input', 'empty POST body'),
  47001: e('input', 'data format error (malformed JSON or wrong field type)'),
  48001: e('permission', 'API not authorized for this account'),
  48006: e('quota', 'clear_quota monthly reset limit reached'),
  61003: e('auth', 'the account has not authorized this platform (or revoked it)'),
  61004: e('permission', 'caller IP is not registered in the platform whitelist'),
  61005: e('auth', 'component_verify_ticket expired'),
  61006: e('auth', 'component_verify_ticket invalid'),
  61007: e('permission', 'API not covered by the permission sets granted to the platform'),
  61009: e('auth', 'authorization code invalid or already used'),
  61010: e('auth', 'authorization code expired'),
  61011: e('auth', 'invalid component'),
  61014: e('input', 'a component access token is required for component APIs'),
  61023: e('auth', 'authorizer refresh token invalid; re-authorization or api_get_authorizer_list needed'),
  61024: e('input', 'component accounts must get tokens through api_component_token'),
  76003: e('input', 'cgi_path invalid (must start with / and carry no host)'),

  // Quotas and rate limits (§6)
  45009: e('quota', 'daily API call quota reached'),
  45011: e('quota', 'per-minute API call quota reached'),

  // Templates (§4.1)
  85064: e('input', 'template not found'),
  85065: e('state', 'template library is full (200 templates)'),

  // Commit (§4.2)
  85013: e('input', 'invalid ext_json (parse failure or invalid path)'),
  85014: e('input', 'template does not exist'),
  85043: e('input', 'template error'),
  85044: e('input', 'code package too large'),
  85045: e('input', 'a path in ext_json does not exist'),
  85046: e('input', 'a tabBar page path is missing from the page list'),
  85047: e('input', 'pages are empty'),
  85048: e('input', 'ext_json could not be parsed'),
  85310: e('input', 'requiredPrivateInfos has an invalid format'),
  85311: e('input', 'requiredPrivateInfos contains mutually exclusive entries'),
  85312: e('permission', 'no permission for an API listed in requiredPrivateInfos'),
  80066: e('input', 'invalid plugin version'),
  80067: e('input', 'plugin not found'),
  80082: e('permission', 'the mini program has no permission to use a plugin referenced by the code'),
  9402202: e('state', 'concurrent operation limit; wait for the previous operation to finish'),
  9402203: e('input', 'ext_json of a standard template may only contain extAppid, ext and window'),
  9400001: e('state', 'the development mini program has live streaming enabled; cannot submit'),

  // Testers. 85001–85003 are about the person, not the code: a build records them as refused testers and succeeds
  // (`TESTER_REFUSALS`); failing it would make every retry commit again and fail on the same person.
  85001: e('input', 'WeChat id does not exist or is not searchable'),
  85002: e('state', 'the mini program has reached its tester limit'),
  85003: e('state', 'this WeChat user is a tester of too many mini programs'),
  85004: e('state', 'this WeChat user is already a tester'),

  // Privacy (§4.6)
  61039: e('state', 'privacy scan after commit still running; retry in about a minute'),
  61040: e('input', 'privacy API configuration problem (e.g. requiredPrivateInfos missing)'),
  86074: e('state', 'privacy_ver=1 requires a live version'),
  86072: e('input', 'store_expire_timestamp of the privacy guide is invalid'),

  // Server and web-view domains (doc 设置服务器域名 / 设置业务域名; WxJava WxMaErrorMsgEnum)
  85015: e('input', 'the account is not a mini program'),
  85016: e('input', 'too many domains'),
  85017: e('state', 'no domain to modify: already set, or not registered as a mini program server domain of the platform'),
  85018: e('state', 'the domain is not registered on the third-party platform'),
  85301: e('input', 'a domain breaks the rules (https/wss scheme, no IP, registered on the platform)'),
  89019: e('state', 'web-view domains unchanged'),
  89020: e('state', 'the platform has no web-view domains registered'),
  89021: e('state', 'the web-view domain is not one of the platform or a subdomain of one'),
  89029: e('input', 'too many web-view domains'),
  89231: e('permission', 'personal mini programs cannot set web-view domains'),

  // Submit audit (§4.7)
  85006: e('input', 'invalid tag format'),
  85007: e('input', 'invalid page path'),
  85008: e('state', 'the mini program has no approved category'),
  85009: e('state', 'a version is already under audit'),
  85010: e('input', 'item_list entry has empty required fields'),
  85011: e('input', 'invalid title'),
  85023: e('input', 'item_list must hold 1 to 5 items'),
  85051: e('input', 'version_desc too long'),
  85077: e('input', 'category invalid (delisted or not configured)'),
  85085: e('quota', 'monthly submit_audit quota of the platform reached'),
  85086: e('state', 'code must be committed before submitting for audit'),
  85087: e('input', 'navigateToMiniProgramAppIdList is required'),
  85092: e('input', 'preview_info has an invalid format'),
  85093: e('input', 'preview_info has too many items'),
  85094: e('input', 'ugc_declare is required for this category'),
  86000: e('permission', 'the mini program is not developed through a third-party platform'),
  86001: e('state', 'no committed code'),
  86002: e('state', 'nickname, avatar or introduction of the mini program is not set'),
  86007: e('permission', 'submission forbidden for this mini program'),
  86008: e('permission', 'platform audit capability restricted (all audits)'),
  86009: e('permission', 'platform audit capability restricted (new mini programs)'),
  86010: e('permission', 'platform audit capability restricted (iterations)'),
  87006: e('permission', 'mini games cannot be submitted this way'),

  // Audit status (§4.8)
  85012: e('input', 'invalid audit id'),
  85058: e('state', 'no valid audit id exists for this mini program'),

  // Undo / speed-up (§4.9, §4.10)
  87013: e('quota', 'undo-audit quota used up (5 per day, 10 per month)'),
  89401: e('transient', 'system unstable; retry the speed-up later'),
  89402: e('state', 'the audit is not in the queue'),
  89403: e('state', 'this kind of audit cannot be expedited'),
  89404: e('state', 'the audit was already expedited'),
  89405: e('quota', 'monthly speed-up quota used up'),

  // Release and rollback (§4.11)
  85019: e('state', 'no version under or after audit'),
  85020: e('state', 'status does not allow release (latest audit not approved)'),
  85052: e('state', 'this version is already released'),
  87011: e('state', 'a gray release is in progress; cannot revert'),

  // Phased release (doc grayRelease)
  85079: e('state', 'the mini program has no online version yet: a first version must be released in full'),
  85080: e('state', 'the latest audit is not approved'),
  85081: e('input', 'invalid gray percentage (an integer 0–100; 0 only with members first)'),
  85082: e('state', 'the gray percentage must be higher than the current one'),
  87012: e('state', 'cannot revert: the audit is already decided, or there is no version to roll back to'),

  // Plugins (§4.12)
  89236: e('permission', 'this plugin cannot be applied for'),
  89237: e('state', 'plugin already added'),
  89238: e('state', 'plugin count limit reached'),
  89239: e('input', 'plugin does not exist'),
  89243: e('state', 'a pending plugin application cannot be deleted'),
  89244: e('input', 'no such plugin appid'),
  89248: e('input', 'invalid code type'),
};

const UNKNOWN: ErrcodeInfo = { kind: 'other', meaning: 'unknown WeChat errcode' };

export const errcodeInfo = (errcode: number): ErrcodeInfo => WECHAT_ERRCODES[errcode] ?? UNKNOWN;

/**
 * The errcodes our code decides on, by name. Each is named after its errmsg or meaning on the endpoint's doc page
 * (reference/wechat-open-platform.md §3–§6 and its errcode table quote them); `WECHAT_ERRCODES` has the kinds.
 */
export const ERRCODE = {
  /** 40001 "invalid credential, access_token is invalid or not latest". */
  ACCESS_TOKEN_INVALID: 40001,
  /** 40007 "invalid media_id" (get_material). */
  INVALID_MEDIA_ID: 40007,
  /** 40014 "invalid access_token". */
  ACCESS_TOKEN_MALFORMED: 40014,
  /** 42001 "access_token expired". */
  ACCESS_TOKEN_EXPIRED: 42001,
  /** 42007 access_token and refresh_token invalidated: the admin changed the password. */
  AUTHORIZER_TOKENS_REVOKED: 42007,
  /** 61003 "component is not authorized by this account". */
  NOT_AUTHORIZED_BY_ACCOUNT: 61003,
  /** 61005 "component ticket is expired". */
  COMPONENT_TICKET_EXPIRED: 61005,
  /** 61006 "component ticket is invalid". */
  COMPONENT_TICKET_INVALID: 61006,
  /** 61023 "refresh_token is invalid". */
  REFRESH_TOKEN_INVALID: 61023,
  /** 61039 (get_code_privacy_info, submit_audit): the privacy scan after a commit has not finished. */
  PRIVACY_SCAN_RUNNING: 61039,
  /** 61040 (submit_audit): the code's privacy API configuration is wrong. */
  PRIVACY_CONFIG_INVALID: 61040,
  /** 85001 (bind_tester): the WeChat id does not exist or cannot be searched. */
  TESTER_NOT_FOUND: 85001,
  /** 85002 (bind_tester): the mini program has its maximum of testers. */
  TESTER_LIMIT_OF_MINI_PROGRAM: 85002,
  /** 85003 (bind_tester): the person is a tester of too many mini programs. */
  TESTER_LIMIT_OF_PERSON: 85003,
  /** 85004 (bind_tester): the person is a tester already. */
  ALREADY_A_TESTER: 85004,
  /** 85008 (submit_audit): the mini program has no approved service category. */
  NO_CATEGORY: 85008,
  /** 85009 (submit_audit) "already submit a version under auditing". */
  AUDIT_ALREADY_PENDING: 85009,
  /** 85015 (modify_domain): the account is not a mini program. */
  NOT_A_MINI_PROGRAM: 85015,
  /** 85016 (modify_domain): too many domains. */
  TOO_MANY_DOMAINS: 85016,
  /** 85017 (modify_domain) "no domain to modify". */
  NO_DOMAIN_TO_MODIFY: 85017,
  /** 85018 (modify_domain): the domain is not registered on the third-party platform. */
  DOMAIN_NOT_ON_PLATFORM: 85018,
  /** 85019 (release, undocodeaudit): no version under or after audit. */
  NO_VERSION_IN_AUDIT: 85019,
  /** 85020 (release, undocodeaudit): the status does not allow it (the latest audit is not approved / not in review). */
  STATUS_FORBIDS_RELEASE: 85020,
  /** 85052 (release) "app is already released". */
  ALREADY_RELEASED: 85052,
  /** 85058 (get_latest_auditstatus) "no valid audit_id exist". */
  NO_AUDIT: 85058,
  /** 85301 (modify_domain): a domain breaks the rules (https/wss, no IP, registered on the platform). */
  DOMAIN_BREAKS_RULES: 85301,
  /** 85079 (grayrelease) "miniprogram has no online release": a first version goes out in full. */
  GRAY_NO_ONLINE_RELEASE: 85079,
  /** 85080 (grayrelease) "miniprogram commit not approved". */
  GRAY_NOT_APPROVED: 85080,
  /** 85081 (grayrelease) "invalid gray percentage". */
  GRAY_PERCENTAGE_INVALID: 85081,
  /** 85082 (grayrelease) "gray percentage too low": not higher than the running plan's (a repeated step gets it too). */
  GRAY_PERCENTAGE_NOT_HIGHER: 85082,
  /** 87011 (revertcoderelease): a phased release is running, so the live version cannot be rolled back. */
  GRAY_RELEASE_RUNNING: 87011,
  /** 87012 (revertcoderelease, undocodeaudit): cannot revert. */
  CANNOT_REVERT: 87012,
  /** 87013 (undocodeaudit): no undo left (5 a day, 10 a month). */
  UNDO_QUOTA_USED_UP: 87013,
  /** 89020 (setwebviewdomain): the platform has no web-view domains registered. */
  NO_WEBVIEW_DOMAINS_ON_PLATFORM: 89020,
  /** 89021 (setwebviewdomain): the domain is not one of the platform's or a subdomain of one. */
  WEBVIEW_DOMAIN_NOT_OF_PLATFORM: 89021,
  /** 89029 (setwebviewdomain): too many web-view domains. */
  TOO_MANY_WEBVIEW_DOMAINS: 89029,
  /** 89231 (setwebviewdomain): personal mini programs cannot set web-view domains. */
  PERSONAL_NO_WEBVIEW_DOMAINS: 89231,
} as const;

export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([
  ERRCODE.ACCESS_TOKEN_INVALID,
  ERRCODE.ACCESS_TOKEN_MALFORMED,
  ERRCODE.ACCESS_TOKEN_EXPIRED,
]);

/** `/wxa/bind_tester` refusing one tester: no such WeChat id, the mini program's tester limit, the person's limit. */
export const TESTER_REFUSALS: ReadonlySet<number> = new Set([
  ERRCODE.TESTER_NOT_FOUND,
  ERRCODE.TESTER_LIMIT_OF_MINI_PROGRAM,
  ERRCODE.TESTER_LIMIT_OF_PERSON,
]);

const CATEGORY_OF_KIND: Readonly<Record<WeChatErrorKind, ErrorCategory>> = {
  quota: 'rate-limited',
  transient: 'unavailable',
  // A token error that reaches the caller means the refresh-and-retry already failed once: try again later.
  token: 'unavailable',
  state: 'conflict',
  input: 'invalid',
  permission: 'forbidden',
  auth: 'forbidden',
  other: 'unavailable',
};

export const categoryOfKind = (kind: WeChatErrorKind): ErrorCategory => CATEGORY_OF_KIND[kind];

/** Stable code for an errcode: `WECHAT_85009`; -1 gets a name because `WECHAT_-1` reads like a typo. */
export const codeOfErrcode = (errcode: number): string => (errcode === -1 ? 'WECHAT_SYSTEM_ERROR' : `WECHAT_${errcode}`);

/** errmsg ends with ` rid: 6650a1b2-1c2d3e4f-5a6b7c8d`; the rid is what WeChat support asks for. */
export const parseRid = (errmsg: string): string | undefined => /\brid:\s*([0-9A-Za-z-]+)/.exec(errmsg)?.[1];

const SECRET_PARAMS = [
  'access_token',
  'component_access_token',
  'authorizer_access_token',
  'component_appsecret',
  'authorizer_refresh_token',
  'refresh_token',
  'component_verify_ticket',
];
const TOKEN_PARAM = new RegExp(`\\b(${SECRET_PARAMS.join('|')})=[^&#\\s"']*`, 'gi');

/** Removes token-like query parameters from a URL (or any text quoting one). */
export const redactUrl = (text: string): string => text.replace(TOKEN_PARAM, '$1=***');

/**
 * Redacts token-like parameters and every known secret value. Defence in depth: WeChat errmsgs do not normally
 * echo secrets, but an error message ends up in logs, so nothing that reached WeChat as a credential may leave.
 */
export const redact = (text: string, secrets: readonly string[] = []): string => {
  let out = redactUrl(text);
  for (const secret of secrets) {
    // Short values would redact innocent words; real tokens and secrets are long.
    if (secret.length >= 8) out = out.split(secret).join('***');
  }
  return out;
};

export interface WeChatApiErrorInit {
  errcode: number;
  errmsg: string;
  /** Path of the WeChat API, e.g. `/wxa/submit_audit`; never the query string (tokens live there). */
  endpoint: string;
  attempts?: number;
}

/** WeChat answered, and the answer was an errcode ≠ 0. */
export class WeChatApiError extends AppError {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly errcode: number;
  readonly errmsg: string;
  readonly meaning: string;
  readonly kind: WeChatErrorKind;
  readonly endpoint: string;
  readonly rid: string | undefined;
  /** HTTP attempts made before giving up (retries of -1 included). */
  readonly attempts: number;

  constructor(init: WeChatApiErrorInit, options: AppErrorOptions = {}) {
    const info = errcodeInfo(init.errcode);
    super(`WeChat ${init.endpoint} failed: errcode ${init.errcode} (${info.meaning}): ${init.errmsg}`, {
      ...options,
      details: { ...options.details, errcode: init.errcode, endpoint: init.endpoint },
    });
    this.errcode = init.errcode;
    this.errmsg = init.errmsg;
    this.meaning = info.meaning;
    this.kind = info.kind;
    this.endpoint = init.endpoint;
    this.rid = parseRid(init.errmsg);
    this.attempts = init.attempts ?? 1;
    this.code = codeOfErrcode(init.errcode);
    this.category = categoryOfKind(info.kind);
  }
}

/** A budget is used up (45009, 45011, 85085, 89405, 87013, 48006): never retried by the client. */
export class WeChatQuotaError extends WeChatApiError {}

/** Builds the right subclass for an errcode. */
export const wechatApiError = (init: WeChatApiErrorInit): WeChatApiError =>
  errcodeInfo(init.errcode).kind === 'quota' ? new WeChatQuotaError(init) : new WeChatApiError(init);

export const isTokenError = (error: unknown): error is WeChatApiError =>
  error instanceof WeChatApiError && TOKEN_ERRCODES.has(error.errcode);

export type NetworkFailure =
  | 'timeout' // our per-call timeout fired
  | 'aborted' // the caller's signal fired (e.g. middy's early timeout)
  | 'connect' // no connection was made: the request never reached WeChat
  | 'connection' // the connection broke after the request may have been sent
  | 'http-status'; // WeChat (or a proxy in front) answered 5xx

export interface WeChatNetworkErrorInit {
  endpoint: string;
  failure: NetworkFailure;
  status?: number;
  attempts?: number;
  /**
   * True when WeChat may have executed the call although we saw no answer (timeout, broken connection, 5xx).
   * For non-idempotent calls (submit_audit, release …) the caller must reconcile by reading state, not resend.
   */
  outcomeUnknown: boolean;
}

/** WeChat could not be reached or did not answer usefully (timeout, connection error, 5xx). */
export class WeChatNetworkError extends AppError {
  readonly code = 'WECHAT_UNREACHABLE';
  readonly category = 'unavailable' as const;
  readonly endpoint: string;
  readonly failure: NetworkFailure;
  readonly status: number | undefined;
  readonly attempts: number;
  readonly outcomeUnknown: boolean;

  constructor(init: WeChatNetworkErrorInit, options: AppErrorOptions = {}) {
    const what = init.failure === 'http-status' ? `HTTP ${init.status ?? '5xx'}` : init.failure;
    super(`WeChat ${init.endpoint} unreachable: ${what}`, {
      ...options,
      details: { ...options.details, endpoint: init.endpoint, failure: init.failure },
    });
    this.endpoint = init.endpoint;
    this.failure = init.failure;
    this.status = init.status;
    this.attempts = init.attempts ?? 1;
    this.outcomeUnknown = init.outcomeUnknown;
  }
}

/**
 * WeChat answered something we do not understand (not JSON, or JSON not matching the schema). Not retried: the
 * same request would get the same answer. `cause` holds the zod issues (field paths and expectations, no values).
 */
export class WeChatResponseError extends AppError {
  readonly code = 'WECHAT_BAD_RESPONSE';
  readonly category = 'unavailable' as const;
  readonly endpoint: string;
  readonly status: number | undefined;

  constructor(endpoint: string, reason: string, options: AppErrorOptions & { status?: number } = {}) {
    super(`WeChat ${endpoint} returned an unexpected response: ${reason}`, {
      ...options,
      details: { ...options.details, endpoint },
    });
    this.endpoint = endpoint;
    this.status = options.status;
  }
}

export type WeChatError = WeChatApiError | WeChatNetworkError | WeChatResponseError;

/**
 * Errcodes that answer a question the caller asks on purpose, per endpoint: not failures, so they are not logged as
 * failed calls. 85058 from get_latest_auditstatus: the mini program has no audit yet (asked before adopting or
 * withdrawing one); 85052 from release: already released (a resumed release); 85019/85020 from undocodeaudit:
 * nothing is under review any more (decided meanwhile).
 */
const EXPECTED_ANSWERS: Readonly<Record<string, readonly number[]>> = {
  '/wxa/get_latest_auditstatus': [ERRCODE.NO_AUDIT],
  '/wxa/release': [ERRCODE.ALREADY_RELEASED],
  '/wxa/undocodeaudit': [ERRCODE.NO_VERSION_IN_AUDIT, ERRCODE.STATUS_FORBIDS_RELEASE],
};

export const isExpectedAnswer = (endpoint: string, errcode: number): boolean => EXPECTED_ANSWERS[endpoint]?.includes(errcode) ?? false;

export const isWeChatError = (error: unknown): error is WeChatError =>
  error instanceof WeChatApiError || error instanceof WeChatNetworkError || error instanceof WeChatResponseError;

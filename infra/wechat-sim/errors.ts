/**
 * The two ways the simulator says no.
 *
 * `WxFailure` is WeChat saying no: it becomes the HTTP 200 `{errcode, errmsg: "… rid: …"}` body the real API
 * sends. `SimulatorError` is the *test harness* being misused (scanning with a used pre-auth code, deciding an
 * audit that is not pending): it is thrown from the control methods and becomes a 4xx JSON answer under `/sim/*`.
 */
import { AppError, type AppErrorOptions, type ErrorCategory } from '../../shared/domain/errors';

/** errmsg texts as WeChat writes them (English variants; the ` rid: …` suffix is added by the server). */
export const ERRMSG: Readonly<Record<number, string>> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40007: 'invalid media_id',
  40013: 'invalid appid',
  40125: 'invalid appsecret',
  40170: 'args count exceed count limit',
  41001: 'access_token missing',
  41004: 'appsecret missing',
  41018: 'missing component_appid',
  40097: 'invalid args',
  42001: 'access_token expired',
  42007: 'access_token and refresh_token exception',
  43001: 'require GET method',
  43002: 'require POST method',
  44002: 'empty post data',
  45009: 'reach max api daily quota limit',
  // 公共错误码 (doc Return_code_descriptions_new).
  45011: 'api minute-quota reach limit mustslower retry next minute',
  47001: 'data format error',
  61003: 'component is not authorized by this account',
  61005: 'component ticket is expired',
  61006: 'component ticket is invalid',
  61007: 'api is unauthorized to component',
  61009: 'code is invalid',
  61010: 'code is expired',
  61014: 'must use component token for component api',
  61023: 'refresh_token is invalid',
  61039: 'privacy info check task is not finished, please retry in about a minute',
  61040: 'privacy api is not declared in ext.json requiredPrivateInfos or has no permission',
  85001: 'wechatid not exist or not searchable',
  85002: 'tester count of this miniprogram reach limit',
  85003: 'this wechatid is tester of too many miniprograms',
  85004: 'this wechatid is already a tester',
  85008: 'miniprogram has no approved category',
  85009: 'already has an auditing version',
  85012: 'invalid audit id',
  85013: 'invalid ext_json',
  85014: 'template not exist',
  85016: 'exceed domain count limit',
  85017: 'no domain to modify after filtered',
  85301: 'no domain to modify after filtered, and follows the rule of domains',
  85019: 'no version under audit',
  85020: 'status not allowed',
  85023: 'item_list count is invalid, should be 1 to 5',
  85045: 'some path in ext_json not exist',
  85048: 'parse ext_json fail',
  85052: 'app is already released',
  85058: 'no valid audit_id exist',
  85077: 'category is invalid',
  // doc grayRelease's errcode table.
  85079: 'miniprogram has no online release',
  85080: 'miniprogram commit not approved',
  85081: 'invalid gray percentage',
  85082: 'gray percentage too low',
  85085: 'submit audit reach limit, please try later',
  85086: 'must commit before submit audit',
  86001: 'no committed code',
  86002: 'miniprogram has not completed init (nickname, avatar and intro required)',
  86074: 'privacy_ver 1 requires a released version',
  89019: 'webview domain not change',
  89020: 'the component has not set webview domain',
  89021: 'the domain is not a webview domain of the component or its subdomain',
  89029: 'exceed webview domain count limit',
  // doc revertcoderelease (en): "This version has been released in beta test, and therefore cannot be rolled back".
  87011: 'version is in gray release, cannot revert',
  // WeChat's text as a staff answer quotes it for withdrawing a decided audit (community thread
  // 0002423c6b85c083bd7a318fd5b800); doc revertcoderelease gives no text for its 87012 (cannot be rolled back).
  87012: 'forbid revert this version release',
  87013: 'no quota to undo code',
  89237: 'plugin already added',
  89239: 'plugin not exist',
  89243: 'pending application cannot be deleted',
  89244: 'no such plugin appid',
  89402: 'the audit is not in the audit queue',
  89404: 'the audit has already been speeded up',
  89405: 'speedup quota used up this month',
};

export class WxFailure extends Error {
  readonly errmsg: string;
  constructor(
    readonly errcode: number,
    errmsg?: string,
  ) {
    const text = errmsg ?? ERRMSG[errcode] ?? 'error';
    super(`${errcode} ${text}`);
    this.name = 'WxFailure';
    this.errmsg = text;
  }
}

/** Throws the WeChat error `errcode`; typed `never` so it can end a branch. */
export function wxFail(errcode: number, errmsg?: string): never {
  throw new WxFailure(errcode, errmsg);
}

export class SimulatorError extends AppError {
  readonly code: string;
  readonly category: ErrorCategory;
  constructor(code: string, category: ErrorCategory, message: string, options: AppErrorOptions = {}) {
    super(message, options);
    this.code = code;
    this.category = category;
  }
}

/**
 * What a mini program the platform develops needs set at WeChat besides its code, before it is submitted and
 * released: the user privacy guide and the server domains (reference wechat-go-live.md items 5–8, §4.6 of
 * wechat-open-platform.md). Both are set by a build step and checked again right before each submit: an
 * authorization clears the guide, and the mini program's admin may change its domains on mp.weixin.qq.com meanwhile.
 *
 * The guide and the extra domains are read from the app when the step runs (they are settings, not code, and a
 * failed step is fixed by changing the app's config and retrying); what the code itself implies (its
 * `requiredPrivateInfos`) is read from the deployment's ext_json, which is the code that was committed.
 */
import type { App } from '../domain/app';
import type { Deployment } from '../domain/deployment';
import { parseExtJson } from '../domain/ext-json';
import type { WeChatAppid } from '../domain/ids';
import { isPrivacyKey, PRIVACY_KEY_OF_API, PrivacyGuideIncomplete, privacyKeysToDeclare, privacySettingFor } from '../domain/privacy-guide';
import { DOMAIN_LISTS, type DomainSet, describeDomains, domainsNeeded, isEmptyDomainSet, missingDomains } from '../domain/server-domains';
import { ERRCODE, WeChatApiError } from '../wechat/errcodes';
import type { CallOptions } from '../wechat/http';
import type { CodePrivacyInfoResponse, ModifyDomainResponse, PrivacySettingResponse } from '../wechat/schemas';
import type { Services } from './context';
import type { CheckReads } from './readiness/hand-over';

/** How a step ended: done, "look again later" (WeChat's scan still runs), or a failure for the user to fix. */
export type StepResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'later' }
  | { readonly kind: 'fail'; readonly reason: string; readonly retryable: boolean; readonly errcode?: number };

const DONE: StepResult = { kind: 'done' };
const LATER: StepResult = { kind: 'later' };

// ------------------------------------------------------------------------------------------------ privacy

/**
 * WeChat's privacy scan of the committed code, or null while it still runs (61039, "retry in about a minute"). Its
 * lists name APIs (`wx.getLocation`), not guide keys (doc api_getcodeprivacyinfo). Read by the build and submit
 * steps and by the readiness report.
 */
export async function privacyScan(
  services: Services,
  appid: WeChatAppid,
  call: CallOptions | undefined,
): Promise<CodePrivacyInfoResponse | null> {
  try {
    return await services.wechat.client.getCodePrivacyInfo(appid, call);
  } catch (error) {
    if (error instanceof WeChatApiError && error.errcode === ERRCODE.PRIVACY_SCAN_RUNNING) return null;
    throw error;
  }
}

const requiredPrivateInfosOf = (deployment: Deployment): string[] => {
  const declared = parseExtJson(deployment.extJson)?.requiredPrivateInfos;
  return Array.isArray(declared) ? declared.filter((api): api is string => typeof api === 'string') : [];
};

/**
 * Sets the guide for what WeChat detected in the code, what its `requiredPrivateInfos` implies and what the app's
 * owner declares (`privacy-guide.ts`). Nothing to declare: nothing is set. No contact: the user is told to add one.
 * `read`: getprivacysetting's answer when the caller has just read it.
 */
export async function privacyGuideFor(
  services: Services,
  appid: WeChatAppid,
  app: App,
  requiredPrivateInfos: readonly string[],
  call: CallOptions | undefined,
  read?: PrivacySettingResponse,
): Promise<ReturnType<typeof privacySettingFor>> {
  const guide = app.config.privacyGuide;
  const detected = (read ?? (await services.wechat.client.getPrivacySetting(appid, 2, call))).privacy_list;
  const keys = privacyKeysToDeclare({ detected, requiredPrivateInfos: [...requiredPrivateInfos], guide });
  return privacySettingFor(
    app.kind,
    guide,
    keys,
    detected.filter((key) => !isPrivacyKey(key)),
  );
}

async function setGuide(
  services: Services,
  deployment: Deployment,
  app: App,
  call: CallOptions | undefined,
  read?: PrivacySettingResponse,
): Promise<StepResult> {
  const appid = deployment.miniProgramAppid;
  const body = await privacyGuideFor(services, appid, app, requiredPrivateInfosOf(deployment), call, read);
  if (body === null) return DONE;
  if (body instanceof PrivacyGuideIncomplete) return { kind: 'fail', reason: body.message, retryable: true };
  await services.wechat.client.setPrivacySetting(appid, body, call);
  return DONE;
}

/** The build step: once WeChat's scan of the commit is done (its `privacy_list` is complete then), set the guide. */
export async function applyPrivacyGuide(
  services: Services,
  deployment: Deployment,
  app: App,
  call: CallOptions | undefined,
): Promise<StepResult> {
  if (!(await privacyScan(services, deployment.miniProgramAppid, call))) return LATER;
  return setGuide(services, deployment, app, call);
}

/**
 * What `get_code_privacy_info` reports, as the user can fix it. Both make submit_audit fail with 61040 (doc
 * submitAudit, 注意事项): an API the mini program has no permission for is applied for on WeChat's side and the same
 * build retried; an API the code uses without declaring it in `requiredPrivateInfos` needs a new build.
 */
function scanProblem(scan: CodePrivacyInfoResponse): StepResult | null {
  if (scan.without_auth_list.length > 0) {
    return {
      kind: 'fail',
      retryable: true,
      errcode: ERRCODE.PRIVACY_CONFIG_INVALID,
      reason:
        `WeChat has not granted this mini program the privacy APIs ${scan.without_auth_list.join(', ')}: apply for them ` +
        '(mp.weixin.qq.com 开发管理 → 接口设置, or apply_privacy_interface), then retry',
    };
  }
  if (scan.without_conf_list.length > 0) {
    const names = scan.without_conf_list.map((api) => api.replace(/^wx\./, ''));
    const keys = [...new Set(scan.without_conf_list.flatMap((api) => PRIVACY_KEY_OF_API[api] ?? []))];
    return {
      kind: 'fail',
      retryable: false,
      errcode: ERRCODE.PRIVACY_CONFIG_INVALID,
      reason:
        `the code uses ${scan.without_conf_list.join(', ')} without declaring ${names.length === 1 ? 'it' : 'them'} in requiredPrivateInfos: ` +
        `add ${names.join(', ')} to the app's config.requiredPrivateInfos (a lowcode app; the iot-video template declares its own)` +
        `${keys.length > 0 ? `, so its privacy guide declares ${keys.join(', ')} too,` : ''} and build again`,
    };
  }
  return null;
}

// ------------------------------------------------------------------------------------------------ domains

/** WeChat's refusals that only registering the domain on the platform (or fixing it) can cure. */
const DOMAIN_REFUSALS: ReadonlySet<number> = new Set([
  ERRCODE.NOT_A_MINI_PROGRAM,
  ERRCODE.TOO_MANY_DOMAINS,
  ERRCODE.NO_DOMAIN_TO_MODIFY,
  ERRCODE.DOMAIN_NOT_ON_PLATFORM,
  ERRCODE.DOMAIN_BREAKS_RULES,
  ERRCODE.NO_WEBVIEW_DOMAINS_ON_PLATFORM,
  ERRCODE.WEBVIEW_DOMAIN_NOT_OF_PLATFORM,
  ERRCODE.TOO_MANY_WEBVIEW_DOMAINS,
  ERRCODE.PERSONAL_NO_WEBVIEW_DOMAINS,
]);

const refusedDomains = (error: WeChatApiError, wanted: DomainSet): StepResult => ({
  kind: 'fail',
  retryable: true,
  errcode: error.errcode,
  reason:
    `WeChat refused the domains ${describeDomains(wanted)} (${error.errcode}: ${error.meaning}): register them as the platform's ` +
    'mini program server (or web-view) domains on open.weixin.qq.com (开发资料), or fix the app’s config.serverDomains, then retry',
});

/**
 * Adds what is missing of `needed` (`get` first, unless the caller has just read it as `current`: an `add` of a
 * domain already there answers 85017), then reads the lists again to check WeChat kept them.
 */
async function ensureServerDomains(
  services: Services,
  appid: WeChatAppid,
  needed: DomainSet,
  call: CallOptions | undefined,
  current?: ModifyDomainResponse,
): Promise<StepResult> {
  const { client } = services.wechat;
  const missing = missingDomains(needed, current ?? (await client.modifyDomain(appid, { action: 'get' }, call)));
  if (DOMAIN_LISTS.every((list) => missing[list].length === 0)) return DONE;
  const { requestdomain, wsrequestdomain, uploaddomain, downloaddomain } = missing;
  try {
    // Every list is required, unchanged ones empty (doc 设置服务器域名).
    await client.modifyDomain(
      appid,
      { action: 'add', requestdomain, wsrequestdomain, uploaddomain, downloaddomain, udpdomain: [], tcpdomain: [] },
      call,
    );
  } catch (error) {
    if (error instanceof WeChatApiError && DOMAIN_REFUSALS.has(error.errcode))
      return refusedDomains(error, { ...missing, webviewdomain: [] });
    throw error;
  }
  const still = missingDomains(needed, await client.modifyDomain(appid, { action: 'get' }, call));
  return DOMAIN_LISTS.every((list) => still[list].length === 0) ? DONE : unkept({ ...still, webviewdomain: [] });
}

async function ensureWebviewDomains(
  services: Services,
  appid: WeChatAppid,
  needed: DomainSet,
  call: CallOptions | undefined,
): Promise<StepResult> {
  if (needed.webviewdomain.length === 0) return DONE;
  const { client } = services.wechat;
  const missing = missingDomains(needed, await client.setWebviewDomain(appid, { action: 'get' }, call)).webviewdomain;
  if (missing.length === 0) return DONE;
  const wanted = { requestdomain: [], wsrequestdomain: [], uploaddomain: [], downloaddomain: [], webviewdomain: missing };
  try {
    await client.setWebviewDomain(appid, { action: 'add', webviewdomain: missing }, call);
  } catch (error) {
    if (error instanceof WeChatApiError && DOMAIN_REFUSALS.has(error.errcode)) return refusedDomains(error, wanted);
    throw error;
  }
  const still = missingDomains(needed, await client.setWebviewDomain(appid, { action: 'get' }, call)).webviewdomain;
  return still.length === 0 ? DONE : unkept({ ...wanted, webviewdomain: still });
}

/** WeChat drops a domain the platform has not registered without a word (85017 only when nothing is left). */
const unkept = (set: DomainSet): StepResult => ({
  kind: 'fail',
  retryable: true,
  reason:
    `WeChat did not keep the domains ${describeDomains(set)}: it drops those not registered as the platform's mini program ` +
    'server (or web-view) domains — register them on open.weixin.qq.com (开发资料), or fix the app’s config.serverDomains, then retry',
});

/**
 * The app's domains on its mini program (the build's step; readiness's `set-domains` fix): the backend's asset host
 * (the ext_json's image URLs) and the app's `serverDomains`, checked with `get` first (`current`: the server
 * domains as the caller has just read them) and after.
 */
export async function setDomains(
  services: Services,
  appid: WeChatAppid,
  app: App,
  call: CallOptions | undefined,
  current?: ModifyDomainResponse,
): Promise<StepResult> {
  const needed = domainsNeeded(services.config.publicBaseUrl, app.config.serverDomains);
  if (isEmptyDomainSet(needed)) return DONE;
  const server = await ensureServerDomains(services, appid, needed, call, current);
  return server.kind === 'done' ? ensureWebviewDomains(services, appid, needed, call) : server;
}

// ------------------------------------------------------------------------------------------------ submit

/**
 * Right before submit_audit, in WeChat's order (commit → get_code_privacy_info → setprivacysetting → submit_audit,
 * staff answer in community thread 0004eefe404f70c738c01a9ef66400): the scan has finished and found nothing
 * WeChat would refuse the submit for, the guide is set again (an authorization since the build cleared it), and
 * the domains are still there. `read`: what the user's check has just read of these (`HandOver`), not read again.
 */
export async function prepareSubmit(
  services: Services,
  deployment: Deployment,
  app: App,
  call: CallOptions | undefined,
  read: CheckReads = {},
): Promise<StepResult> {
  const scan = read.privacyScan !== undefined ? read.privacyScan : await privacyScan(services, deployment.miniProgramAppid, call);
  if (!scan) return LATER;
  const problem = scanProblem(scan);
  if (problem) return problem;
  const guide = await setGuide(services, deployment, app, call, read.privacySetting);
  if (guide.kind !== 'done') return guide;
  return setDomains(services, deployment.miniProgramAppid, app, call, read.serverDomains);
}

import { type App, declaredPrivateInfosOf } from '../../domain/app';
import type { Deployment } from '../../domain/deployment';
import { AppError } from '../../domain/errors';
import type { MiniProgram } from '../../domain/mini-program';
import { privacyKeysToDeclare } from '../../domain/privacy-guide';
import { type Fact, known, notKnown, type ReadinessFacts } from '../../domain/readiness';
import { permissionSetsFor } from '../../domain/rules';
import { DOMAIN_LISTS, domainsNeeded, missingDomains } from '../../domain/server-domains';
import { sharedSignal } from '../../runtime/abort';
import { ERRCODE, WeChatApiError } from '../../wechat/errcodes';
import type { CallOptions } from '../../wechat/http';
import type { IcpEntranceInfoResponse } from '../../wechat/readiness-schemas';
import type { CategoryListResponse, CodePrivacyInfoResponse, VersionInfoResponse } from '../../wechat/schemas';
import type { Services } from '../context';
import { latestDeploymentOf } from '../deployments/slots';
import { privacyScan } from '../go-live-settings';
import { noteAuditQuota } from '../webhooks/quota';
import type { CheckReads } from './hand-over';

// ---------------------------------------------------------------------------------------------------------------
// Facts

/** One WeChat read as a fact: WeChat's refusals and an unreachable WeChat are `unknown`, with the reason. */
export async function fact<T>(read: () => Promise<T>): Promise<Fact<T>> {
  try {
    return known(await read());
  } catch (error) {
    if (error instanceof WeChatApiError) return notKnown(`${error.meaning} (WeChat ${error.errcode})`, error.errcode);
    if (error instanceof AppError) return notKnown(error.message);
    throw error;
  }
}

const SET_ACCOUNT_INFO = 30;
const SET_PLUGINS = 40;
const notGranted = <T>(set: number): Fact<T> => notKnown(`permission set ${set} was not granted`, 61007);

const hostOf = (domain: string): string => {
  try {
    return new URL(domain).hostname.toLowerCase();
  } catch {
    return domain.toLowerCase();
  }
};

const AWAITING_AUDIT: ReadonlySet<string> = new Set(['submitting', 'auditing']);

export interface GatherOptions {
  /** A build the user retries after WeChat's refusal (`retryRefused`) is not held back by that refusal. */
  ignoreRefusals?: boolean;
  /** The app's latest deployment when the caller has just read it (the build, with the app's slot). */
  latest?: Deployment | null;
  /** The mini program's categories when the caller has just read them (the submit step, for its audit item). */
  categories?: CategoryListResponse;
}

/** The facts, and WeChat's answers as read (`CheckReads`) for a check to hand over to the step after it. */
export async function gatherFacts(
  services: Services,
  mp: MiniProgram,
  app: App | null,
  call: CallOptions,
  options: GatherOptions = {},
): Promise<{ facts: ReadinessFacts; reads: CheckReads }> {
  // A dozen facts are read from WeChat at once, each listening to the caller's signal until it answers.
  if (call.signal) sharedSignal(call.signal);
  const { client } = services.wechat;
  const appid = mp.appid;
  const latest = app === null ? null : options.latest !== undefined ? options.latest : await latestDeploymentOf(services, app.id);
  const locationApis = app === null ? [] : [...declaredPrivateInfosOf(app)];
  const needed = app === null ? null : domainsNeeded(services.config.publicBaseUrl, app.config.serverDomains);
  const domainHosts = needed === null ? [] : [...new Set(DOMAIN_LISTS.flatMap((list) => needed[list]).map(hostOf))];
  const requiredPlugins = app?.requiredPlugins.map((p) => p.appId) ?? [];
  const granted = (set: number) => mp.funcScopeIds.includes(set);

  const [icp, basicInfo, categories, versions, privacySetting, privacyInterfaces, scan, platform, own, plugins, quota, audit, orderPath] =
    await Promise.all([
      fact(() => client.getIcpEntranceInfo(appid, call)),
      granted(SET_ACCOUNT_INFO) ? fact(() => client.getAccountBasicInfo(appid, call)) : notGranted<never>(SET_ACCOUNT_INFO),
      options.categories ? known(options.categories) : fact(() => client.getCategory(appid, call)),
      fact(() => client.getVersionInfo(appid, call)),
      fact(() => client.getPrivacySetting(appid, 2, call)),
      locationApis.length > 0 ? fact(() => client.getPrivacyInterface(appid, call)) : known({ interface_list: [] }),
      latest?.state === 'built' ? fact(() => privacyScan(services, appid, call)) : null,
      domainHosts.length > 0 ? fact(() => client.getPlatformServerDomains(call)) : null,
      domainHosts.length > 0 ? fact(() => client.modifyDomain(appid, { action: 'get' }, call)) : null,
      requiredPlugins.length === 0
        ? known({ plugin_list: [] })
        : granted(SET_PLUGINS)
          ? fact(() => client.plugins(appid, call))
          : notGranted<never>(SET_PLUGINS),
      fact(() => client.queryQuota(appid, call)),
      // 85058: there never was an audit.
      factUnless(() => client.getLatestAuditStatus(appid, call), ERRCODE.NO_AUDIT, null),
      orderPathFact(services, appid, call),
    ]);

  const guide = app?.config.privacyGuide;
  const detected = privacySetting.known ? privacySetting.value.privacy_list : [];
  if (quota.known) await noteAuditQuota(services, quota.value);
  const facts: ReadinessFacts = {
    funcScopeIds: mp.funcScopeIds,
    requiredScopeIds: permissionSetsFor('authorize-app', { plugins: requiredPlugins.length > 0 }).required.map((set) => set.id),
    icp: mapFact(icp, icpOf),
    basicInfo: mapFact(basicInfo, (r) => ({
      verified: r.wx_verify_info?.qualification_verify,
      nickname: r.nickname ?? '',
      signature: r.signature_info?.signature ?? '',
      headImage: r.head_image_info?.head_image_url ?? '',
    })),
    categories: mapFact(categories, (r) => r.category_list),
    everReleased: mapFact(versions, everReleasedOf),
    privacyGuide: {
      keysToDeclare: privacyKeysToDeclare({ detected, requiredPrivateInfos: locationApis, guide }),
      configHasContact: guide !== undefined,
      setAtWeChat: mapFact(privacySetting, (r) => r.setting_list.length > 0),
    },
    locationApis,
    privacyInterfaces: mapFact(privacyInterfaces, (r) =>
      r.interface_list.map((i) => ({ api: i.api_name, status: i.status, ...(i.fail_reason ? { failReason: i.fail_reason } : {}) })),
    ),
    privacyScan: scan === null ? null : mapFact(scan, scanOf),
    domainsNeeded: domainHosts,
    platformDomains: platform === null ? known([]) : mapFact(platform, (r) => r.published_wxa_server_domain ?? null),
    // List by list, as the build sets them: a host set for requests but needed for downloads is still missing.
    miniProgramDomainsMissing:
      own === null || needed === null
        ? known([])
        : mapFact(own, (r) => {
            const missing = missingDomains({ ...needed, webviewdomain: [] }, r);
            return DOMAIN_LISTS.filter((list) => missing[list].length > 0).map((list) => `${list} ${missing[list].join(', ')}`);
          }),
    plugins: {
      required: requiredPlugins,
      list: mapFact(plugins, (r) => r.plugin_list.map((p) => ({ appId: p.appid, status: p.status }))),
    },
    quota: mapFact(quota, (r) => ({ rest: r.rest, limit: r.limit })),
    latestAudit: mapFact(audit, (latest) => (latest === null ? null : { auditId: Number(latest.auditid), status: latest.status })),
    ugcDeclared: app?.config.ugcDeclaration !== undefined,
    orderPath,
    ownAuditId: latest !== null && AWAITING_AUDIT.has(latest.state) ? (latest.audit?.auditId ?? null) : null,
    refusals:
      !options.ignoreRefusals && latest?.state === 'failed' && latest.failure?.errcode != null
        ? [{ errcode: latest.failure.errcode, at: latest.failure.at }]
        : [],
  };
  const answered = <T>(f: Fact<T> | null): T | undefined => (f?.known ? f.value : undefined);
  const reads: CheckReads = {
    latestAudit: answered(audit),
    privacyScan: answered(scan),
    privacySetting: answered(privacySetting),
    serverDomains: answered(own),
    categories: answered(categories),
  };
  return { facts, reads };
}

export const mapFact = <T, U>(f: Fact<T>, to: (value: T) => U): Fact<U> => (f.known ? known(to(f.value)) : f);
export const icpOf = (r: IcpEntranceInfoResponse) => ({ status: r.info.status, available: r.info.available, auditData: r.info.audit_data });
export const everReleasedOf = (r: VersionInfoResponse): boolean => r.release_info !== undefined && r.release_info !== null;

/** A read whose refusal `errcode` is itself the answer (`meaning`): "nothing yet" rather than "not known". */
async function factUnless<T>(read: () => Promise<T>, errcode: number, meaning: T): Promise<Fact<T>> {
  try {
    return known(await read());
  } catch (error) {
    if (error instanceof WeChatApiError && error.errcode === errcode) return known(meaning);
    return fact(() => Promise.reject(error));
  }
}

/** The scan of the last commit as the build and submit steps read it (`privacyScan`): null while it still runs. */
const scanOf = (scan: CodePrivacyInfoResponse | null) =>
  scan === null
    ? { running: true, withoutAuth: [], withoutConf: [] }
    : { running: false, withoutAuth: scan.without_auth_list, withoutConf: scan.without_conf_list };

/**
 * getorderpathinfo: the path in effect (info_type 0), else the one applied for (info_type 1) — 61041 where there is
 * none — so a mini program with a path costs one call.
 */
async function orderPathFact(services: Services, appid: string, call: CallOptions): Promise<ReadinessFacts['orderPath']> {
  const read = (infoType: 0 | 1) => services.wechat.client.getOrderPathInfo(appid, infoType, call).then((r) => r.msg);
  const online = await factUnless(read.bind(null, 0), ERRCODE.NO_ORDER_PATH, null);
  if (!online.known) return online;
  if (online.value !== null && online.value.path !== '') return known({ online: online.value.path, applied: null });
  const applied = await factUnless(read.bind(null, 1), ERRCODE.NO_ORDER_PATH, null);
  return mapFact(applied, (msg) => ({ online: null, applied: msg === null ? null : { path: msg.path, status: msg.status } }));
}

/**
 * Go-live readiness of a mini program (with the app linked to it): reads what WeChat holds — ICP filing,
 * verification, profile, categories, privacy guide and interfaces, domains, plugins, quota, the latest audit — and
 * what the app needs, and lets `shared/domain/readiness.ts` judge each prerequisite (issue 18).
 *
 * A report is kept for `READINESS_TTL_MS` (store, shared by every instance): a console refreshing its page does not
 * spend WeChat's call budget (~12 calls a report). The build gate and the actions read afresh.
 *
 * Every WeChat read is one fact: a refusal (61007 for a set not granted, 45009 …) or an unreachable WeChat makes
 * that fact `unknown`, never the whole report fail.
 */
import { z } from 'zod';
import type { App } from '../domain/app';
import type { Deployment } from '../domain/deployment';
import { AppError, ConflictError, DuplicateKeyError, NotFoundError } from '../domain/errors';
import { buildExtJson, parseExtJson } from '../domain/ext-json';
import type { AccountId, AssetId } from '../domain/ids';
import type { MiniProgram } from '../domain/mini-program';
import { privacyKeysToDeclare, privacySettingFor } from '../domain/privacy-guide';
import {
  BUILD_GATE,
  blockingFor,
  evaluateReadiness,
  type Fact,
  icpFilingItem,
  known,
  notKnown,
  READINESS_ACTIONS,
  READINESS_ITEM_IDS,
  READINESS_STAGES,
  READINESS_STATUSES,
  type ReadinessActionId,
  type ReadinessFacts,
  type ReadinessItem,
  type ReadinessItemId,
  type ReadinessStage,
} from '../domain/readiness';
import { permissionSetsFor } from '../domain/rules';
import { DOMAIN_LISTS, domainsNeeded } from '../domain/server-domains';
import { defineCollection } from '../store/port';
import { WeChatApiError } from '../wechat/errcodes';
import type { CallOptions } from '../wechat/http';
import type { IcpEntranceInfoResponse } from '../wechat/readiness-schemas';
import type { VersionInfoResponse } from '../wechat/schemas';
import type { Services } from './context';

/** How long a report is shown again without asking WeChat: a console refresh, not a change the user made. */
export const READINESS_TTL_MS = 60_000;

const words = z.object({ zh: z.string(), en: z.string() });

export const readinessItemSchema = z.lazy(() =>
  z.object({
    id: z.enum(READINESS_ITEM_IDS),
    status: z.enum(READINESS_STATUSES),
    blocks: z.enum(READINESS_STAGES).nullable().meta({ description: 'The first step WeChat refuses while this item is blocking' }),
    title: words,
    wechat: z.object({
      source: z.string().meta({ description: 'The WeChat API read, or the step it refused' }),
      says: z.string(),
      errcode: z.number().int().optional(),
    }),
    fix: words.nullable().meta({ description: 'What the user can do, in Chinese and English' }),
    where: z.string().optional().meta({ description: 'Where a person fixes it' }),
    action: z
      .enum(READINESS_ACTIONS)
      .optional()
      .meta({ description: 'A fix this backend applies by API: POST /v1/mini-programs/{appid}/readiness/{action}' }),
  }),
);

export const readinessReportSchema = z.lazy(() =>
  z.object({
    appid: z.string(),
    appId: z.string().nullable().meta({ description: 'The app linked to the mini program, whose needs were checked' }),
    checkedAt: z.number().int(),
    /** Until when this report is served again without asking WeChat. */
    freshUntil: z.number().int(),
    ready: z.boolean().meta({ description: 'No item is blocking' }),
    blocking: z.array(z.enum(READINESS_ITEM_IDS)),
    items: z.array(readinessItemSchema),
  }),
);
export type ReadinessReport = z.infer<typeof readinessReportSchema>;

const readinessReportsCollection = defineCollection({ name: 'readinessReports', schema: readinessReportSchema });

/** A build (or release) refused up front, with the whole list of what blocks it. */
export class NotReadyError extends AppError {
  readonly code = 'NOT_READY_TO_GO_LIVE';
  readonly category = 'conflict' as const;
}

/** An action or report asked of a mini program in a state that does not allow it (no app linked, no contact). */
export class ReadinessConflictError extends AppError {
  readonly code: string;
  readonly category = 'conflict' as const;
  constructor(code: string, message: string, options: { field?: string } = {}) {
    super(message, options);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Facts

/** One WeChat read as a fact: WeChat's refusals and an unreachable WeChat are `unknown`, with the reason. */
async function fact<T>(read: () => Promise<T>): Promise<Fact<T>> {
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

/** The app's build as it would be committed now: what its code declares (requiredPrivateInfos). */
function requiredPrivateInfosOf(s: Services, app: App, appid: MiniProgram['appid']): string[] {
  const ext = parseExtJson(
    buildExtJson(app, { extAppid: appid, assetUrl: (id: AssetId) => `${s.config.publicBaseUrl}/v1/public/assets/${id}` }),
  );
  const declared = ext?.requiredPrivateInfos;
  return Array.isArray(declared) ? declared.filter((api): api is string => typeof api === 'string') : [];
}

const AWAITING_AUDIT: ReadonlySet<string> = new Set(['submitting', 'auditing']);

async function gatherFacts(s: Services, mp: MiniProgram, app: App | null, call: CallOptions): Promise<ReadinessFacts> {
  const { client } = s.wechat;
  const appid = mp.appid;
  const latest = app === null ? null : await latestDeployment(s, app.id);
  const locationApis = app === null ? [] : requiredPrivateInfosOf(s, app, appid);
  const needed = app === null ? null : domainsNeeded(s.config.publicBaseUrl, app.config.serverDomains);
  const domainHosts = needed === null ? [] : [...new Set(DOMAIN_LISTS.flatMap((list) => needed[list]).map(hostOf))];
  const requiredPlugins = app?.requiredPlugins.map((p) => p.appId) ?? [];
  const granted = (set: number) => mp.funcScopeIds.includes(set);

  const [icp, basicInfo, categories, versions, privacySetting, privacyInterfaces, privacyScan, platform, own, plugins, quota, audit] =
    await Promise.all([
      fact(() => client.getIcpEntranceInfo(appid, call)),
      granted(SET_ACCOUNT_INFO) ? fact(() => client.getAccountBasicInfo(appid, call)) : notGranted<never>(SET_ACCOUNT_INFO),
      fact(() => client.getCategory(appid, call)),
      fact(() => client.getVersionInfo(appid, call)),
      fact(() => client.getPrivacySetting(appid, 2, call)),
      locationApis.length > 0 ? fact(() => client.getPrivacyInterface(appid, call)) : known({ interface_list: [] }),
      latest?.state === 'built' ? scanFact(s, appid, call) : null,
      domainHosts.length > 0 ? fact(() => client.getPlatformServerDomains(call)) : null,
      domainHosts.length > 0 ? fact(() => client.modifyDomain(appid, { action: 'get' }, call)) : null,
      requiredPlugins.length === 0
        ? known({ plugin_list: [] })
        : granted(SET_PLUGINS)
          ? fact(() => client.plugins(appid, call))
          : notGranted<never>(SET_PLUGINS),
      fact(() => client.queryQuota(appid, call)),
      latestAuditFact(s, appid, call),
    ]);

  const guide = app?.config.privacyGuide;
  const detected = privacySetting.known ? privacySetting.value.privacy_list : [];
  return {
    funcScopeIds: mp.funcScopeIds,
    requiredScopeIds: permissionSetsFor('authorize-app', { plugins: requiredPlugins.length > 0 }).required.map((set) => set.id),
    icp: map(icp, icpOf),
    basicInfo: map(basicInfo, (r) => ({
      verified: r.wx_verify_info?.qualification_verify,
      nickname: r.nickname ?? '',
      signature: r.signature_info?.signature ?? '',
      headImage: r.head_image_info?.head_image_url ?? '',
    })),
    categories: map(categories, (r) => r.category_list),
    everReleased: map(versions, everReleasedOf),
    privacyGuide: {
      keysToDeclare: privacyKeysToDeclare({ detected, requiredPrivateInfos: locationApis, guide }),
      configHasContact: guide !== undefined,
      setAtWeChat: map(privacySetting, (r) => r.setting_list.length > 0),
    },
    locationApis,
    privacyInterfaces: map(privacyInterfaces, (r) =>
      r.interface_list.map((i) => ({ api: i.api_name, status: i.status, ...(i.fail_reason ? { failReason: i.fail_reason } : {}) })),
    ),
    privacyScan,
    domainsNeeded: domainHosts,
    platformDomains: platform === null ? known([]) : map(platform, (r) => r.published_wxa_server_domain ?? null),
    miniProgramDomains: own === null ? known([]) : map(own, (r) => [...new Set(DOMAIN_LISTS.flatMap((list) => r[list] ?? []).map(hostOf))]),
    plugins: { required: requiredPlugins, list: map(plugins, (r) => r.plugin_list.map((p) => ({ appId: p.appid, status: p.status }))) },
    quota: map(quota, (r) => ({ rest: r.rest, limit: r.limit })),
    latestAudit: audit,
    ownAuditId: latest !== null && AWAITING_AUDIT.has(latest.state) ? (latest.audit?.auditId ?? null) : null,
    refusals:
      latest?.state === 'failed' && latest.failure?.errcode != null ? [{ errcode: latest.failure.errcode, at: latest.failure.at }] : [],
  };
}

const map = <T, U>(f: Fact<T>, to: (value: T) => U): Fact<U> => (f.known ? known(to(f.value)) : f);
const icpOf = (r: IcpEntranceInfoResponse) => ({ status: r.info.status, available: r.info.available, auditData: r.info.audit_data });
const everReleasedOf = (r: VersionInfoResponse): boolean => r.release_info !== undefined && r.release_info !== null;

/** get_code_privacy_info: 61039 means the scan of the last commit still runs. */
async function scanFact(s: Services, appid: string, call: CallOptions): Promise<ReadinessFacts['privacyScan']> {
  try {
    const scan = await s.wechat.client.getCodePrivacyInfo(appid, call);
    return known({ running: false, withoutAuth: scan.without_auth_list, withoutConf: scan.without_conf_list });
  } catch (error) {
    if (error instanceof WeChatApiError && error.errcode === 61039) return known({ running: true, withoutAuth: [], withoutConf: [] });
    return fact(() => Promise.reject(error));
  }
}

/** get_latest_auditstatus: 85058 means there never was an audit. */
async function latestAuditFact(s: Services, appid: string, call: CallOptions): Promise<ReadinessFacts['latestAudit']> {
  try {
    const latest = await s.wechat.client.getLatestAuditStatus(appid, call);
    return known({ auditId: Number(latest.auditid), status: latest.status });
  } catch (error) {
    if (error instanceof WeChatApiError && error.errcode === 85058) return known(null);
    return fact(() => Promise.reject(error));
  }
}

async function latestDeployment(s: Services, appId: string): Promise<Deployment | null> {
  const [newest] = await s.db.deployments.find({ where: { appId }, orderBy: { field: 'createdAt', direction: 'desc' }, limit: 1 });
  return newest?.data ?? null;
}

// ---------------------------------------------------------------------------------------------------------------
// Reports

const cacheId = (appid: string, appId: string | null): string => `${appid}_${appId ?? 'none'}`;

/** Reads every fact now and stores the report for the next `READINESS_TTL_MS`. */
async function freshReport(s: Services, mp: MiniProgram, app: App | null, signal?: AbortSignal): Promise<ReadinessReport> {
  const items = evaluateReadiness(await gatherFacts(s, mp, app, signal ? { signal } : {}));
  const checkedAt = s.clock();
  const report: ReadinessReport = {
    appid: mp.appid,
    appId: app?.id ?? null,
    checkedAt,
    freshUntil: checkedAt + READINESS_TTL_MS,
    ready: items.every((i) => i.status !== 'blocking'),
    blocking: items.filter((i) => i.status === 'blocking').map((i) => i.id),
    items,
  };
  const reports = s.store.collection(readinessReportsCollection);
  const id = cacheId(mp.appid, report.appId);
  try {
    const stored = await reports.get(id);
    const options = { expiresAt: report.freshUntil };
    if (stored) await reports.update(id, stored.version, report, options);
    else await reports.insert(id, report, options);
  } catch (error) {
    // Another instance stored its report meanwhile: both are fresh, keep theirs.
    if (!(error instanceof ConflictError || error instanceof DuplicateKeyError)) throw error;
  }
  return report;
}

async function reportFor(
  s: Services,
  mp: MiniProgram,
  app: App | null,
  options: { fresh?: boolean; signal?: AbortSignal },
): Promise<ReadinessReport> {
  if (!options.fresh) {
    const cached = await s.store.collection(readinessReportsCollection).get(cacheId(mp.appid, app?.id ?? null));
    if (cached) return cached.data;
  }
  return freshReport(s, mp, app, options.signal);
}

async function ownMiniProgram(s: Services, accountId: AccountId, appid: string): Promise<MiniProgram> {
  const stored = await s.db.miniPrograms.get(appid);
  if (!stored || stored.data.accountId !== accountId) {
    throw new NotFoundError(`mini program ${appid} not found`, { code: 'MINI_PROGRAM_NOT_FOUND', field: 'appid' });
  }
  return stored.data;
}

async function linkedApp(s: Services, mp: MiniProgram): Promise<App | null> {
  if (mp.linkedAppId === null) return null;
  const app = (await s.db.apps.get(mp.linkedAppId))?.data ?? null;
  return app !== null && app.miniProgramAppid === mp.appid && app.accountId === mp.accountId ? app : null;
}

/** `GET /v1/mini-programs/{appid}/readiness`: the mini program with the app linked to it, if any. */
export async function miniProgramReadiness(
  s: Services,
  accountId: AccountId,
  appid: string,
  options: { fresh?: boolean; signal?: AbortSignal } = {},
): Promise<ReadinessReport> {
  const mp = await ownMiniProgram(s, accountId, appid);
  return reportFor(s, mp, await linkedApp(s, mp), options);
}

/** `GET /v1/apps/{appId}/readiness`: the app's mini program, checked for what this app needs. */
export async function appReadiness(
  s: Services,
  accountId: AccountId,
  appId: string,
  options: { fresh?: boolean; signal?: AbortSignal } = {},
): Promise<ReadinessReport> {
  const app = (await s.db.apps.get(appId))?.data;
  if (!app || app.accountId !== accountId) throw new NotFoundError(`app ${appId} not found`, { code: 'APP_NOT_FOUND', field: 'appId' });
  if (!app.miniProgramAppid) {
    throw new ReadinessConflictError('APP_NOT_LINKED', 'the app has no mini program yet: authorize one for it first');
  }
  return reportFor(s, await ownMiniProgram(s, accountId, app.miniProgramAppid), app, options);
}

/**
 * The check before a build (and before a release): reads afresh, and refuses with every item blocking the given
 * stages — the whole list at once, before anything is stored.
 */
export async function assertReady(
  s: Services,
  mp: MiniProgram,
  app: App,
  stages: readonly ReadinessStage[],
  signal?: AbortSignal,
  except: readonly ReadinessItemId[] = [],
): Promise<void> {
  const report = await freshReport(s, mp, app, signal);
  const blocking = blockingFor(report.items, stages).filter((item) => !except.includes(item.id));
  if (blocking.length === 0) return;
  const list = blocking.map((i) => `${i.title.en}: ${i.wechat.says}`).join('; ');
  throw new NotReadyError(`the mini program is not ready to go live — ${list}`, {
    details: { blocking: blocking.map((i) => i.id), items: blocking satisfies ReadinessItem[] },
  });
}

export const assertReadyToBuild = (s: Services, mp: MiniProgram, app: App, signal?: AbortSignal): Promise<void> =>
  assertReady(s, mp, app, BUILD_GATE, signal);

/** Before a user's submit: the deployment's mini program with its app, for what blocks a build or a submit. */
export async function assertReadyToSubmit(s: Services, d: Deployment, signal?: AbortSignal): Promise<void> {
  const [mp, app] = await Promise.all([s.db.miniPrograms.get(d.miniProgramAppid), s.db.apps.get(d.appId)]);
  // A link lost meanwhile is the pipeline's to report (DEPLOYMENT_APP_UNLINKED), with its own words.
  if (!mp || !app || app.data.miniProgramAppid !== d.miniProgramAppid) return;
  // The scan's findings are the submit step's to report, API by API, as the deployment's failure (61040).
  await assertReady(s, mp.data, app.data, BUILD_GATE, signal, ['privacy-scan']);
}

/**
 * Before a release: a mini program never released must be ICP-filed. WeChat does not document what `release`
 * answers for an unfiled one (community reports 85020, unconfirmed), so the status API is read first. Facts WeChat
 * does not tell do not stop the release: WeChat decides then.
 */
export async function assertReadyToRelease(s: Services, mp: MiniProgram, signal?: AbortSignal): Promise<void> {
  const call = signal ? { signal } : {};
  const [icp, versions] = await Promise.all([
    fact(() => s.wechat.client.getIcpEntranceInfo(mp.appid, call)),
    fact(() => s.wechat.client.getVersionInfo(mp.appid, call)),
  ]);
  const item = icpFilingItem({
    icp: map(icp, icpOf),
    everReleased: map(versions, everReleasedOf),
  });
  if (item.status !== 'blocking') return;
  throw new NotReadyError(`the mini program is not ready to go live — ${item.title.en}: ${item.wechat.says}`, {
    details: { blocking: [item.id], items: [item] },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Actions: fixes this backend applies by API

/**
 * Applies one fix, then answers the report read afresh. `set-privacy-guide` sets the guide from the app's config for
 * what is known to be collected (the build sets it again after each commit); `set-domains` adds the domains the app
 * needs to the mini program (what the build's domain step does).
 */
export async function runReadinessAction(
  s: Services,
  accountId: AccountId,
  appid: string,
  action: ReadinessActionId,
  signal?: AbortSignal,
): Promise<ReadinessReport> {
  const mp = await ownMiniProgram(s, accountId, appid);
  const app = await linkedApp(s, mp);
  if (app === null) throw new ReadinessConflictError('APP_NOT_LINKED', `mini program ${appid} has no app linked: nothing to set from`);
  const call = signal ? { signal } : {};
  const { client } = s.wechat;
  if (action === 'set-privacy-guide') {
    const detected = (await client.getPrivacySetting(appid, 2, call)).privacy_list;
    const keys = privacyKeysToDeclare({
      detected,
      requiredPrivateInfos: requiredPrivateInfosOf(s, app, mp.appid),
      guide: app.config.privacyGuide,
    });
    const body = privacySettingFor(app.kind, app.config.privacyGuide, keys);
    if (body === null) {
      throw new ReadinessConflictError(
        'NOTHING_TO_DECLARE',
        'no user information is known to be collected yet (nothing committed, no requiredPrivateInfos): the build sets the guide after its commit',
      );
    }
    if (!('privacy_ver' in body)) {
      throw new ReadinessConflictError('PRIVACY_GUIDE_INCOMPLETE', body.message, { field: 'config.privacyGuide.contact' });
    }
    await client.setPrivacySetting(appid, body, call);
  } else {
    const needed = domainsNeeded(s.config.publicBaseUrl, app.config.serverDomains);
    const current = await client.modifyDomain(appid, { action: 'get' }, call);
    const missing = (list: (typeof DOMAIN_LISTS)[number]) => needed[list].filter((d) => !(current[list] ?? []).includes(d));
    if (DOMAIN_LISTS.some((list) => missing(list).length > 0)) {
      await client.modifyDomain(
        appid,
        {
          action: 'add',
          requestdomain: missing('requestdomain'),
          wsrequestdomain: missing('wsrequestdomain'),
          uploaddomain: missing('uploaddomain'),
          downloaddomain: missing('downloaddomain'),
          udpdomain: [],
          tcpdomain: [],
        },
        call,
      );
    }
  }
  return freshReport(s, mp, app, signal);
}

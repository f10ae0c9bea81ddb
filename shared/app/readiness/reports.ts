/**
 * Readiness reports (kept `READINESS_TTL_MS` in the store, so a console refresh does not spend WeChat's call budget)
 * and the gates before a build, a submit and a release. `shared/domain/readiness.ts` judges each prerequisite.
 */

import type { App } from '../../domain/app';
import type { Deployment } from '../../domain/deployment';
import { AppError, ConflictError, DuplicateKeyError } from '../../domain/errors';
import type { AccountId } from '../../domain/ids';
import type { MiniProgram } from '../../domain/mini-program';
import {
  BUILD_GATE,
  blockingFor,
  evaluateReadiness,
  icpFilingItem,
  READINESS_ACTIONS,
  READINESS_ITEM_IDS,
  READINESS_STAGES,
  READINESS_STATUSES,
  REFUSAL_ONLY_ITEMS,
  type ReadinessItem,
  type ReadinessItemId,
  type ReadinessStage,
} from '../../domain/readiness';
import * as z from '../../domain/zod';
import { defineCollection } from '../../store/port';
import type { CategoryListResponse } from '../../wechat/schemas';
import { getApp, getMiniProgram } from '../catalog';
import type { Services } from '../context';
import { everReleasedOf, fact, type GatherOptions, gatherFacts, icpOf, mapFact } from './facts';
import type { CheckReads, HandOver } from './hand-over';

/** How long a report is shown again without asking WeChat: a console refresh, not a change the user made. */
export const READINESS_TTL_MS = 60_000;

const words = z.object({ zh: z.string(), en: z.string() });

export const readinessItemSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    id: z.enum(READINESS_ITEM_IDS),
    status: z.enum(READINESS_STATUSES),
    blocks: z.described(z.nullable(z.enum(READINESS_STAGES)), 'The first step WeChat refuses while this item is blocking'),
    title: words,
    wechat: z.object({
      source: z.described(z.string(), 'The WeChat API read, or the step it refused'),
      says: z.string(),
      errcode: z.optional(z.number().check(z.int())),
    }),
    fix: z.described(z.nullable(words), 'What the user can do, in Chinese and English'),
    where: z.described(z.optional(z.string()), 'Where a person fixes it'),
    action: z.described(
      z.optional(z.enum(READINESS_ACTIONS)),
      'A fix this backend applies by API: POST /v1/mini-programs/{appid}/readiness/{action}',
    ),
  }),
);

export const readinessReportSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    appid: z.string(),
    appId: z.described(z.nullable(z.string()), 'The app linked to the mini program, whose needs were checked'),
    checkedAt: z.number().check(z.int()),
    /** Until when this report is served again without asking WeChat. */
    freshUntil: z.number().check(z.int()),
    ready: z.described(z.boolean(), 'No item is blocking'),
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
// Reports

const cacheId = (appid: string, appId: string | null): string => `${appid}_${appId ?? 'none'}`;

/** Reads every fact now and stores the report for the next `READINESS_TTL_MS`. */
export async function freshReport(
  services: Services,
  mp: MiniProgram,
  app: App | null,
  signal?: AbortSignal,
  options: GatherOptions = {},
): Promise<ReadinessReport> {
  return (await readReport(services, mp, app, signal, options)).report;
}

/** `freshReport`, with WeChat's answers as read for a check to hand over to its step. */
async function readReport(
  services: Services,
  mp: MiniProgram,
  app: App | null,
  signal: AbortSignal | undefined,
  options: GatherOptions,
): Promise<{ report: ReadinessReport; reads: CheckReads }> {
  const { facts, reads } = await gatherFacts(services, mp, app, signal ? { signal } : {}, options);
  const items = evaluateReadiness(facts);
  const checkedAt = services.clock();
  const report: ReadinessReport = {
    appid: mp.appid,
    appId: app?.id ?? null,
    checkedAt,
    freshUntil: checkedAt + READINESS_TTL_MS,
    ready: items.every((i) => i.status !== 'blocking'),
    blocking: items.filter((i) => i.status === 'blocking').map((i) => i.id),
    items,
  };
  // Without the refusals it is not the report a console should see.
  if (options.ignoreRefusals) return { report, reads };
  const reports = services.store.collection(readinessReportsCollection);
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
  return { report, reads };
}

const cachedReport = async (services: Services, mp: MiniProgram, app: App | null): Promise<ReadinessReport | null> =>
  (await services.store.collection(readinessReportsCollection).get(cacheId(mp.appid, app?.id ?? null)))?.data ?? null;

async function reportFor(
  services: Services,
  mp: MiniProgram,
  app: App | null,
  options: { fresh?: boolean; signal?: AbortSignal },
): Promise<ReadinessReport> {
  const cached = options.fresh ? null : await cachedReport(services, mp, app);
  return cached ?? freshReport(services, mp, app, options.signal);
}

export async function linkedApp(services: Services, mp: MiniProgram): Promise<App | null> {
  if (mp.linkedAppId === null) return null;
  const app = (await services.db.apps.get(mp.linkedAppId))?.data ?? null;
  return app !== null && app.miniProgramAppid === mp.appid && app.accountId === mp.accountId ? app : null;
}

/** `GET /v1/mini-programs/{appid}/readiness`: the mini program with the app linked to it, if any. */
export async function miniProgramReadiness(
  services: Services,
  accountId: AccountId,
  appid: string,
  options: { fresh?: boolean; signal?: AbortSignal } = {},
): Promise<ReadinessReport> {
  const mp = (await getMiniProgram(services, accountId, appid)).data;
  return reportFor(services, mp, await linkedApp(services, mp), options);
}

/** `GET /v1/apps/{appId}/readiness`: the app's mini program, checked for what this app needs. */
export async function appReadiness(
  services: Services,
  accountId: AccountId,
  appId: string,
  options: { fresh?: boolean; signal?: AbortSignal } = {},
): Promise<ReadinessReport> {
  const app = (await getApp(services, accountId, appId)).data;
  if (!app.miniProgramAppid) {
    throw new ReadinessConflictError('APP_NOT_LINKED', 'the app has no mini program yet: authorize one for it first');
  }
  return reportFor(services, (await getMiniProgram(services, accountId, app.miniProgramAppid)).data, app, options);
}

/**
 * The check before a build (and before a submit): reads afresh, and refuses with every item blocking the given
 * stages — the whole list at once, before anything is stored. Answers what it read from WeChat.
 */
async function assertReady(
  services: Services,
  mp: MiniProgram,
  app: App,
  stages: readonly ReadinessStage[],
  signal?: AbortSignal,
  options: { except?: readonly ReadinessItemId[] } & GatherOptions = {},
): Promise<CheckReads> {
  const { except, ...gather } = options;
  const { report, reads } = await readReport(services, mp, app, signal, gather);
  const blocking = blockingFor(report.items, stages).filter((item) => !except?.includes(item.id));
  if (blocking.length === 0) return reads;
  const list = blocking.map((i) => `${i.title.en}: ${i.wechat.says}`).join('; ');
  // A bar known only from WeChat's refusal has no status to wait for: the user may build again to let WeChat decide.
  const onlyRefused = blocking.some((i) => i.wechat.errcode !== undefined && REFUSAL_ONLY_ITEMS.has(i.id));
  throw new NotReadyError(
    `the mini program is not ready to go live — ${list}${onlyRefused ? ' (once the bar is lifted, build with retryRefused: true)' : ''}`,
    { details: { blocking: blocking.map((i) => i.id), items: blocking satisfies ReadinessItem[] } },
  );
}

/** `latest`: the app's latest deployment, which the build has just read (with its slot). */
export async function assertReadyToBuild(
  services: Services,
  mp: MiniProgram,
  app: App,
  options: { retryRefused: boolean; latest: Deployment | null },
  signal?: AbortSignal,
): Promise<void> {
  await assertReady(services, mp, app, BUILD_GATE, signal, { ignoreRefusals: options.retryRefused, latest: options.latest });
}

/**
 * Before a user's submit: the deployment's mini program with its app (as the command's link check has just read
 * them), for what blocks a build or a submit. Answers what it read, for the submit step that follows in the same
 * invocation.
 */
export async function assertReadyToSubmit(
  services: Services,
  deployment: Deployment,
  linked: { miniProgram: MiniProgram; app: App },
  signal?: AbortSignal,
): Promise<HandOver> {
  // Its age counts from before the reads.
  const at = services.clock();
  // The scan's findings are the submit step's to report, API by API, as the deployment's failure (61040). The
  // deployment submitted is open, so it is the app's latest: the report does not read the slot for it again.
  const { miniProgram, app } = linked;
  const reads = await assertReady(services, miniProgram, app, BUILD_GATE, signal, { except: ['privacy-scan'], latest: deployment });
  return { step: 'submitAudit', appid: deployment.miniProgramAppid, at, reads };
}

/**
 * Before a release: a mini program never released must be ICP-filed. WeChat does not document what `release`
 * answers for an unfiled one (community reports 85020, unconfirmed), so the status API is read first. Facts WeChat
 * does not tell do not stop the release: WeChat decides then. Answers that the filing was found not blocking, for
 * the release step that follows in the same invocation.
 */
export async function assertReadyToRelease(services: Services, mp: MiniProgram, signal?: AbortSignal): Promise<HandOver> {
  const at = services.clock();
  const item = await releaseBlocker(services, mp, signal);
  if (item === null) return { step: 'release', appid: mp.appid, at };
  throw new NotReadyError(`the mini program is not ready to go live — ${item.title.en}: ${item.wechat.says}`, {
    details: { blocking: [item.id], items: [item] },
  });
}

/** The ICP filing item when it blocks the release: two reads of WeChat's status APIs. */
export async function releaseBlocker(services: Services, mp: MiniProgram, signal?: AbortSignal): Promise<ReadinessItem | null> {
  const call = signal ? { signal } : {};
  const [icp, versions] = await Promise.all([
    fact(() => services.wechat.client.getIcpEntranceInfo(mp.appid, call)),
    fact(() => services.wechat.client.getVersionInfo(mp.appid, call)),
  ]);
  const item = icpFilingItem({ icp: mapFact(icp, icpOf), everReleased: mapFact(versions, everReleasedOf) });
  return item.status === 'blocking' ? item : null;
}

/**
 * Items the submit step sees to itself, in WeChat's order and with its own words: the scan, the guide and the
 * domains (`prepareSubmit`), the category it submits, another audit (85009, adopted when it is the deployment's own).
 */
const SUBMIT_STEP_OWN_ITEMS: ReadonlySet<ReadinessItemId> = new Set([
  'privacy-scan',
  'privacy-guide',
  'mini-program-domains',
  'category',
  'pending-audit',
]);

/**
 * What the worker's submit step checks before submit_audit when no user's check has just passed in the same
 * invocation (a retry, the poller; see `HandOver`): the first item a fact shows blocking a build or a submit — a
 * prerequisite lost since the build. The report kept for the last minute is trusted when it shows nothing, read
 * again when it shows something (the user may have fixed it since), read now when there is none: at most one
 * report per step. Bars known only from an earlier refusal are left to WeChat: a retry is the user saying the bar
 * may be gone. `mp`, `app`: as the step's link check read them; `read`: what the step has just read from WeChat
 * itself (the categories), which a fresh report does not read again.
 */
export async function submitBlocker(
  services: Services,
  mp: MiniProgram,
  app: App,
  read: { categories: CategoryListResponse },
  signal?: AbortSignal,
): Promise<ReadinessItem | null> {
  const blockerOf = (report: ReadinessReport) =>
    blockingFor(report.items, BUILD_GATE).find((item) => !SUBMIT_STEP_OWN_ITEMS.has(item.id) && item.wechat.errcode === undefined) ?? null;
  const cached = await cachedReport(services, mp, app);
  if (cached !== null && blockerOf(cached) === null) return null;
  return blockerOf(await freshReport(services, mp, app, signal, read));
}

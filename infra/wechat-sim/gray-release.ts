/**
 * Phased release (分阶段发布, "gray release"): a newly approved version goes to a share of users that only grows,
 * while the others keep the version released before it. Pure data and rules; `SimState` keeps one plan per mini
 * program and applies them to its versions.
 *
 * Sources:
 * - doc grayRelease (openApi code-management/grayRelease): POST /wxa/grayrelease, set 18; `release` is a full
 *   release, this call creates a plan "可以多次调用本次接口，将灰度的比例（gray_percentage）逐渐增大";
 *   gray_percentage 0–100 integer, 0 only with support_experiencer_first or support_debuger_first; errcodes 85079
 *   "miniprogram has no online release" (小程序没有线上版本，即小程序尚未发布), 85080 "miniprogram commit not approved"
 *   (小程序提交的审核未审核通过), 85081 "invalid gray percentage" (无效的发布比例), 85082 "gray percentage too low"
 *   (当前的发布比例需要比之前设置的高). The peers agree (RsCode.WeChat GrayReleaseResponse, dows-sdk GrayReleaseRequest).
 * - doc getGrayReleasePlan: gray_release_plan {status 0 初始状态 · 1 执行中 · 2 暂停中 · 3 执行完毕 · 4 被删除,
 *   create_timestamp, gray_percentage, support_debuger_first, support_experiencer_first}.
 * - doc revertGrayRelease: GET, cancels the plan "在小程序分阶段发布期间，可以随时调用"; the users it reached go back to
 *   the version before it. No errcode of its own is documented.
 * - WeChat's 小程序分阶段发布功能介绍 (mp admin help, mirrored on kancloud): a plan not revoked is fully released by the
 *   platform on day 15; the share only grows; revoking leaves every user on the last fully released version; while a
 *   phased release runs "不可发布新版本、不可回退已全量发布的线上版本"; a first version must be released in full; "当线上
 *   版本的上一个版本是分阶段发布并已撤销发布，那么当前线上版本不可回退".
 */
import * as z from '../../shared/domain/zod';
import type { GrayReleasePlanSnapshot, LiveVersionSnapshot } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;
/** "平台将在第15天全量发布小程序新版本" (小程序分阶段发布功能介绍, rule 1). */
export const GRAY_FULL_RELEASE_AFTER_MS = 15 * DAY_MS;

export const GRAY_STATUS = { initial: 0, running: 1, paused: 2, completed: 3, deleted: 4 } as const;
export type GrayStatus = (typeof GRAY_STATUS)[keyof typeof GRAY_STATUS];

export interface GrayPlanRecord {
  status: GrayStatus;
  percentage: number;
  supportExperiencerFirst: boolean;
  supportDebugerFirst: boolean;
  createdAt: number;
  /** The audit whose version is being phased in. */
  auditid: number;
  /** The version the users outside the share keep, and what a revert puts back. */
  previousLive: LiveVersionSnapshot;
  /** When the platform releases it in full by itself (rule 1), unless revoked or completed before. */
  fullReleaseAt: number;
  /** Set once a full release followed this plan's revocation: rule 5 bars rolling that one release back. */
  releasedOver: boolean;
}

export interface GrayReleaseInput {
  grayPercentage: unknown;
  supportExperiencerFirst: boolean;
  supportDebugerFirst: boolean;
}

/** The request body as WeChat takes it; the percentage's range is WeChat's 85081, not a format error. */
export const grayReleaseBodySchema = z.object({
  gray_percentage: z.unknown(),
  support_experiencer_first: z._default(z.boolean(), false),
  support_debuger_first: z._default(z.boolean(), false),
});

/** A plan that still shares users between two versions (running or paused by the admin). */
export const grayActive = (plan: GrayPlanRecord): boolean => plan.status === GRAY_STATUS.running || plan.status === GRAY_STATUS.paused;

/** The plan of a mini program if it is active, so the caller gets it narrowed. */
export const activePlan = (plan: GrayPlanRecord | undefined): GrayPlanRecord | undefined =>
  plan !== undefined && grayActive(plan) ? plan : undefined;

/**
 * The percentage asked for, or 85081: an integer 0–100, and 0 only when the plan goes to project or experience
 * members first (doc grayRelease, gray_percentage: "如果gray_percentage=0，support_experiencer_first与
 * support_debuger_first二选一必填").
 */
export function validPercentage(input: GrayReleaseInput): number | null {
  const p = input.grayPercentage;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 100) return null;
  if (p === 0 && !input.supportExperiencerFirst && !input.supportDebugerFirst) return null;
  return p;
}

export function newPlan(
  input: GrayReleaseInput,
  percentage: number,
  auditid: number,
  previousLive: LiveVersionSnapshot,
  now: number,
): GrayPlanRecord {
  return {
    status: percentage === 100 ? GRAY_STATUS.completed : GRAY_STATUS.running,
    percentage,
    supportExperiencerFirst: input.supportExperiencerFirst,
    supportDebugerFirst: input.supportDebugerFirst,
    createdAt: now,
    auditid,
    previousLive,
    fullReleaseAt: now + GRAY_FULL_RELEASE_AFTER_MS,
    releasedOver: false,
  };
}

/**
 * Raises a running plan's share: 85082 unless strictly higher (doc grayRelease); 100 completes it. A paused plan
 * raised runs again (the admin's pause is undone by a new step; WeChat does not document this case).
 */
export function raise(plan: GrayPlanRecord, input: GrayReleaseInput, percentage: number): 85082 | null {
  if (percentage <= plan.percentage) return 85082;
  plan.percentage = percentage;
  plan.supportExperiencerFirst ||= input.supportExperiencerFirst;
  plan.supportDebugerFirst ||= input.supportDebugerFirst;
  plan.status = percentage === 100 ? GRAY_STATUS.completed : GRAY_STATUS.running;
  return null;
}

/** Every user gets the phased version: by a step to 100, a full release, or the platform on day 15. */
export function complete(plan: GrayPlanRecord): void {
  plan.status = GRAY_STATUS.completed;
  plan.percentage = 100;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * getgrayreleaseplan's `gray_release_plan`. A mini program never phased answers status 0 (初始状态) and zeros:
 * what WeChat answers then is not documented.
 */
export function planAnswer(plan: GrayPlanRecord | undefined): Record<string, unknown> {
  return {
    gray_release_plan: {
      status: plan?.status ?? GRAY_STATUS.initial,
      create_timestamp: plan === undefined ? 0 : seconds(plan.createdAt),
      gray_percentage: plan?.percentage ?? 0,
      support_experiencer_first: plan?.supportExperiencerFirst ?? false,
      support_debuger_first: plan?.supportDebugerFirst ?? false,
    },
  };
}

export function planSnapshot(plan: GrayPlanRecord): GrayReleasePlanSnapshot {
  return {
    status: plan.status,
    percentage: plan.percentage,
    supportExperiencerFirst: plan.supportExperiencerFirst,
    supportDebugerFirst: plan.supportDebugerFirst,
    createdAt: plan.createdAt,
    auditid: plan.auditid,
    previousAppVersion: plan.previousLive.appVersion,
    fullReleaseAt: plan.fullReleaseAt,
  };
}

/** The mp admin pausing or resuming a plan from the console (the API has no call for it). */
export const grayPauseSchema = z.strictObject({ appId: z.string().check(z.minLength(1)), paused: z.boolean() });

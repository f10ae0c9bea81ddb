/**
 * A rollout takes one template version to many apps' mini programs, in waves (issue 15): a canary, then growing
 * waves, each member an ordinary deployment through the normal pipeline. Like `deployment.ts`, everything here is
 * pure: the plan, the member and rollout state machines, the gate between waves, what pause and abort do to each
 * member. The app layer (shared/app/rollouts) stores the results with compare-and-set and does the WeChat work.
 *
 *   rollout:  running ─pause→ paused ─resume→ running
 *             running ─halt (the gate)→ halted ─resume (accepts the wave's failures so far)→ running
 *             running|paused|halted ─abort→ aborting ─(every member settled)→ aborted
 *             running ─(last wave settled)→ completed ─retry→ running
 *   member:   pending ─start→ starting ─started→ building ─┬→ auditing → approved → releasing → released
 *             (the deployment's state is mirrored)         ├→ rejected / failed (bad: counted by the gate)
 *                                                          └→ cancelled / withdrawn (neutral)
 *             pending ─skip→ skipped · rejected|failed ─retry→ pending · auditing ─abort, leave→ left
 *             (a failed, rejected or withdrawn member whose deployment the rollout then cancels keeps its state)
 *
 * Decisions a reader can rely on:
 * - Paused: nothing new is started, submitted or released; what WeChat is doing (builds under way, audits) goes on
 *   and is recorded. Halted is the same, set by the gate. Approved members wait for resume.
 * - A wave is settled when none of its members is pending or active. The gate halts as soon as the wave's bad
 *   share (rejected + failed, minus those accepted at a resume) passes the threshold, not only at the wave's end.
 * - Abort: pending → skipped; building, built or approved → cancelled; in review → withdrawn (then its deployment
 *   cancelled, freeing the app), or left under review (the operator's choice); rejected → its deployment cancelled;
 *   releasing → waits for the release; released → left as released, or rolled back if asked.
 */

import { appLabelSchema } from './app';
import { appKindSchema } from './app-kind';
import { nextAuditQuotaRenewal } from './audit-quota';
import { type Actor, actorSchema } from './common';
import { DEPLOYMENT_STATES, type DeploymentState } from './deployment-states';
import { AppError } from './errors';
import {
  accountIdSchema,
  appIdSchema,
  deploymentIdSchema,
  newRolloutId,
  type RolloutId,
  rolloutIdSchema,
  timestampSchema,
  weChatAppidSchema,
} from './ids';
import {
  ACTIVE_ROLLOUT_STATES,
  countStates,
  isBad,
  isSettled,
  MEMBER_STATES,
  type MemberCounts,
  type MemberState,
  ROLLOUT_STATES,
  type RolloutState,
} from './rollout-states';
import * as z from './zod';

// ---------------------------------------------------------------------------------------------------------
// States

// The states are plain values of their own (the console shares them without zod).
export * from './rollout-states';

// ---------------------------------------------------------------------------------------------------------
// The plan

export { newRolloutId, type RolloutId, rolloutIdSchema };

export const selectionSchema = /* @__PURE__ */ z.lazy(() =>
  z
    .strictObject({
      /** Apps built from one of these templates (the app's `templateId`). */
      templateIds: z.optional(z.array(z.number().check(z.int(), z.nonnegative())).check(z.minLength(1), z.maxLength(50))),
      kinds: z.optional(z.array(appKindSchema).check(z.minLength(1))),
      appIds: z.optional(z.array(appIdSchema).check(z.minLength(1), z.maxLength(10_000))),
      /** Apps carrying at least one of these labels. */
      labels: z.optional(z.array(appLabelSchema).check(z.minLength(1), z.maxLength(20))),
    })
    .check(z.refine((s) => Object.values(s).some((v) => v !== undefined), 'select apps by templateIds, kinds, appIds or labels')),
);
export type Selection = z.infer<typeof selectionSchema>;

/** An app matches when it passes every filter given (a filter's list: any of it). */
export const matchesSelection = (app: { id: string; templateId: number; kind: string; labels: readonly string[] }, s: Selection): boolean =>
  (s.templateIds === undefined || s.templateIds.includes(app.templateId)) &&
  (s.kinds === undefined || (s.kinds as readonly string[]).includes(app.kind)) &&
  (s.appIds === undefined || (s.appIds as readonly string[]).includes(app.id)) &&
  (s.labels === undefined || s.labels.some((label) => app.labels.includes(label)));

const percent = z.number().check(z.gt(0), z.lte(100));

export const wavePlanSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** The first wave: a number of apps, or a share of them (at least one app). */
    canary: z._default(
      z.union([z.strictObject({ count: z.number().check(z.int(), z.gte(1), z.lte(10_000)) }), z.strictObject({ percent })]),
      { count: 1 },
    ),
    /** The waves after it, as the cumulative share of all members each one reaches; the last is 100. */
    percents: z._default(z.array(percent).check(z.minLength(1), z.maxLength(20)), [10, 50, 100]).check(
      z.refine((list) => list.every((p, i) => i === 0 || p > (list[i - 1] ?? 0)), 'each wave reaches a larger share than the one before'),
      z.refine((list) => list[list.length - 1] === 100, 'the last wave reaches 100'),
    ),
  }),
);
export type WavePlan = z.infer<typeof wavePlanSchema>;

/**
 * The sizes of the waves for `n` members: the canary, then each cumulative share rounded up; a wave the rounding
 * leaves empty is dropped. The sizes add up to `n`.
 */
export const planWaveSizes = (n: number, plan: WavePlan): number[] => {
  if (n <= 0) return [];
  const canary = 'count' in plan.canary ? plan.canary.count : Math.ceil((n * plan.canary.percent) / 100);
  const sizes = [Math.min(n, Math.max(1, canary))];
  let reached = sizes[0] ?? 0;
  for (const p of plan.percents) {
    const end = Math.max(reached, Math.min(n, Math.ceil((n * p) / 100)));
    if (end > reached) sizes.push(end - reached);
    reached = end;
  }
  if (reached < n) sizes.push(n - reached);
  return sizes;
};

export const gateSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** The canary halts when its share of rejected or failed members is over this (0: any). */
    canaryMaxBadShare: z._default(z.number().check(z.gte(0), z.lte(1)), 0),
    /** The same for every later wave. */
    waveMaxBadShare: z._default(z.number().check(z.gte(0), z.lte(1)), 0.1),
  }),
);
export type Gate = z.infer<typeof gateSchema>;

export const releasePolicySchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** `on-approval`: each mini program is released once approved; `manual`: approved ones wait for the wave's release. */
    mode: z._default(z.enum(['on-approval', 'manual']), 'on-approval'),
    /**
     * Phased release (WeChat's grayrelease): each member goes live to these shares of its users in turn, at least
     * `stepMs` apart, then in full. A mini program's first release is always in full (WeChat: 85079).
     */
    phased: z.optional(
      z.strictObject({
        percents: z.array(z.number().check(z.int(), z.gte(1), z.lte(99))).check(
          z.minLength(1),
          z.maxLength(10),
          z.refine((list) => list.every((p, i) => i === 0 || p > (list[i - 1] ?? 0)), 'each step reaches a larger share (WeChat: 85082)'),
        ),
        stepMs: z._default(z.number().check(z.int(), z.gte(0), z.lte(15 * 86_400_000)), 3_600_000),
      }),
    ),
  }),
);
export type ReleasePolicy = z.infer<typeof releasePolicySchema>;

export const rolloutInputSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** The template library version every member commits (`GET /v1/templates`). */
    templateId: z.number().check(z.int(), z.nonnegative()),
    userVersion: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
    userDesc: z._default(z.string().check(z.maxLength(1000)), ''),
    selection: selectionSchema,
    waves: z._default(wavePlanSchema, { canary: { count: 1 }, percents: [10, 50, 100] }),
    gate: z._default(gateSchema, { canaryMaxBadShare: 0, waveMaxBadShare: 0.1 }),
    release: z._default(releasePolicySchema, { mode: 'on-approval' }),
    /** An app whose own deployment is open: wait for it to close, or skip the app. */
    busyApps: z._default(z.enum(['wait', 'skip']), 'wait'),
    /** Audit submits of the platform's monthly quota the rollout never spends (for urgent single fixes). */
    quotaReserve: z._default(z.number().check(z.int(), z.gte(0), z.lte(100_000)), 5),
    /** Members started at most per driver tick, so a rollout's WeChat calls are spread and other work is not starved. */
    startsPerTick: z._default(z.number().check(z.int(), z.gte(1), z.lte(500)), 20),
  }),
);
export type RolloutInput = z.infer<typeof rolloutInputSchema>;

export const abortOptionsSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** Members under review: withdraw the audit (the mini program's undo budget allowing) or leave it running. */
    inReview: z._default(z.enum(['withdraw', 'leave']), 'withdraw'),
    /** Members already released: left live, or rolled back to the version before. */
    released: z._default(z.enum(['leave', 'rollback']), 'leave'),
  }),
);
export type AbortOptions = z.infer<typeof abortOptionsSchema>;

// ---------------------------------------------------------------------------------------------------------
// Documents

export const ROLLOUT_COMMANDS = [
  'create',
  'pause',
  'resume',
  'halt',
  'abort',
  'aborted',
  'advance',
  'complete',
  'retry',
  'releaseWave',
  'waitForQuota',
  'quotaAvailable',
] as const;
export type RolloutCommandType = (typeof ROLLOUT_COMMANDS)[number];

export const rolloutHistoryEntrySchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    at: timestampSchema,
    from: z.nullable(z.enum(ROLLOUT_STATES)),
    to: z.enum(ROLLOUT_STATES),
    command: z.enum(ROLLOUT_COMMANDS),
    actor: actorSchema,
    /** The wave current after the change (0 = the canary). */
    wave: z.number().check(z.int(), z.nonnegative()),
    cause: z.optional(z.string()),
  }),
);
export type RolloutHistoryEntry = z.infer<typeof rolloutHistoryEntrySchema>;

const countsSchema = /* @__PURE__ */ z.lazy(() => z.record(z.enum(MEMBER_STATES), z.number().check(z.int(), z.nonnegative())));
export const waveSchema = z.object({
  size: z.number().check(z.int(), z.nonnegative()),
  /** Bad members the operator accepted by resuming after a halt: the gate counts only those beyond. */
  acceptedBad: z.number().check(z.int(), z.nonnegative()),
  /** Manual release policy: the operator released this wave's approved members. */
  released: z.boolean(),
});
export type Wave = z.infer<typeof waveSchema>;

export const rolloutSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    id: rolloutIdSchema,
    /** Null: a platform rollout, over every account that allows platform-managed updates. */
    accountId: z.nullable(accountIdSchema),
    templateId: z.number().check(z.int(), z.nonnegative()),
    userVersion: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
    userDesc: z.string().check(z.maxLength(1000)),
    selection: selectionSchema,
    plan: wavePlanSchema,
    gate: gateSchema,
    release: releasePolicySchema,
    busyApps: z.enum(['wait', 'skip']),
    quotaReserve: z.number().check(z.int(), z.nonnegative()),
    startsPerTick: z.number().check(z.int(), z.positive()),
    waves: z.array(waveSchema),
    memberCount: z.number().check(z.int(), z.nonnegative()),
    state: z.enum(ROLLOUT_STATES),
    currentWave: z.number().check(z.int(), z.nonnegative()),
    stateReason: z.nullable(z.string()),
    /** What the rollout waits for besides WeChat's decisions: the quota, until it renews. */
    waiting: z.nullable(
      z.object({ for: z.literal('quota'), until: timestampSchema, rest: z.number().check(z.int()), reserve: z.number().check(z.int()) }),
    ),
    abort: z.nullable(abortOptionsSchema),
    /** Members per state as the driver last counted them (the members are the truth). */
    counts: countsSchema,
    history: z.array(rolloutHistoryEntrySchema),
    createdBy: actorSchema,
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  }),
);
export type Rollout = z.infer<typeof rolloutSchema>;

export const memberHistoryEntrySchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    at: timestampSchema,
    from: z.enum(MEMBER_STATES),
    to: z.enum(MEMBER_STATES),
    deploymentId: z.nullable(deploymentIdSchema),
    cause: z.optional(z.string()),
  }),
);

export const rolloutMemberSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    rolloutId: rolloutIdSchema,
    accountId: accountIdSchema,
    appId: appIdSchema,
    miniProgramAppid: z.nullable(weChatAppidSchema),
    wave: z.number().check(z.int(), z.nonnegative()),
    state: z.enum(MEMBER_STATES),
    deploymentId: z.nullable(deploymentIdSchema),
    /** The deployment's state when last mirrored. */
    deploymentState: z.nullable(z.enum(DEPLOYMENT_STATES)),
    /** Deployments of earlier attempts (retries start a new one). */
    previousDeploymentIds: z.array(deploymentIdSchema),
    reason: z.nullable(z.string()),
    /** When the member's current start began: a start cut by a crash adopts the deployment made since. */
    startingAt: z.nullable(timestampSchema),
    submittedAt: z.nullable(timestampSchema),
    decidedAt: z.nullable(timestampSchema),
    /** While phasing: the share of users reached (grayrelease) and when. */
    phase: z._default(z.nullable(z.object({ percentage: z.number().check(z.int()), at: timestampSchema })), null),
    history: z.array(memberHistoryEntrySchema),
    updatedAt: timestampSchema,
  }),
);
export type RolloutMember = z.infer<typeof rolloutMemberSchema>;

export const memberIdOf = (rolloutId: string, appId: string): string => `${rolloutId}:${appId}`;

export interface NewMember {
  accountId: RolloutMember['accountId'];
  appId: RolloutMember['appId'];
  miniProgramAppid: RolloutMember['miniProgramAppid'];
}

/**
 * A new rollout and its members, in wave order as given (the caller orders them). A member without a mini
 * program is skipped at once, and counts in its wave.
 */
export const createRollout = (
  input: RolloutInput,
  ids: { id: RolloutId; accountId: Rollout['accountId'] },
  selected: readonly NewMember[],
  ctx: { at: number; actor: Actor },
): { rollout: Rollout; members: RolloutMember[] } => {
  const sizes = planWaveSizes(selected.length, input.waves);
  const waveOf: number[] = sizes.flatMap((size, wave) => Array.from({ length: size }, () => wave));
  const members = selected.map((m, i): RolloutMember => {
    const skipped = m.miniProgramAppid === null;
    return {
      rolloutId: ids.id,
      ...m,
      wave: waveOf[i] ?? 0,
      state: skipped ? 'skipped' : 'pending',
      deploymentId: null,
      deploymentState: null,
      previousDeploymentIds: [],
      reason: skipped ? 'the app has no mini program' : null,
      startingAt: null,
      submittedAt: null,
      decidedAt: null,
      phase: null,
      history: skipped ? [{ at: ctx.at, from: 'pending', to: 'skipped', deploymentId: null, cause: 'the app has no mini program' }] : [],
      updatedAt: ctx.at,
    };
  });
  const rollout: Rollout = {
    id: ids.id,
    accountId: ids.accountId,
    templateId: input.templateId,
    userVersion: input.userVersion,
    userDesc: input.userDesc,
    selection: input.selection,
    plan: input.waves,
    gate: input.gate,
    release: input.release,
    busyApps: input.busyApps,
    quotaReserve: input.quotaReserve,
    startsPerTick: input.startsPerTick,
    waves: sizes.map((size) => ({ size, acceptedBad: 0, released: false })),
    memberCount: members.length,
    state: 'running',
    currentWave: 0,
    stateReason: null,
    waiting: null,
    abort: null,
    counts: countStates(members),
    history: [
      {
        at: ctx.at,
        from: null,
        to: 'running',
        command: 'create',
        actor: ctx.actor,
        wave: 0,
        cause: `${members.length} apps in ${sizes.length} waves`,
      },
    ],
    createdBy: ctx.actor,
    createdAt: ctx.at,
    updatedAt: ctx.at,
  };
  return { rollout, members };
};

// ---------------------------------------------------------------------------------------------------------
// Members

export type MemberEvent =
  | { type: 'start' }
  | { type: 'started'; deploymentId: RolloutMember['deploymentId'] & string }
  /** The member's deployment as it stands (mirrored by the driver, or on a push). */
  | { type: 'deployment'; state: DeploymentState; reason: string | null; submittedAt?: number | null; decidedAt?: number | null }
  | { type: 'skip'; reason: string }
  | { type: 'fail'; reason: string }
  | { type: 'retry' }
  | { type: 'leave'; reason: string }
  /** A phased release reached this share of the member's users (grayrelease answered). */
  | { type: 'phased'; percentage: number }
  /** The phased release was revoked (revertgrayrelease by an abort, or at WeChat): its users are back on the old version. */
  | { type: 'phaseReverted'; reason: string }
  /** Pending, for this reason (a busy app, the quota): from pending no state change and no history. */
  | { type: 'wait'; reason: string };

export class RolloutMemberTransitionError extends AppError {
  readonly code = 'ROLLOUT_MEMBER_INVALID_TRANSITION';
  readonly category = 'conflict' as const;
}

/** The member state a deployment state means. */
export const memberStateOfDeployment = (state: DeploymentState): MemberState => {
  switch (state) {
    case 'configuring':
    case 'building':
    case 'built':
      return 'building';
    case 'submitting':
    case 'auditing':
      return 'auditing';
    case 'approved':
    case 'releasing':
    case 'released':
    case 'rejected':
    case 'withdrawn':
    case 'cancelled':
    case 'failed':
    case 'rolled-back':
      return state;
    case 'voided':
      // The app lost its mini program (unbind, unauthorized): not the version's fault.
      return 'cancelled';
  }
};

/** Applies `event`; returns the same object when nothing changes (a repeat), throws for an impossible event. */
export const memberTransition = (member: RolloutMember, event: MemberEvent, at: number): RolloutMember => {
  const refuse = (): never => {
    throw new RolloutMemberTransitionError(`member ${member.appId} of rollout ${member.rolloutId} (${member.state}) cannot ${event.type}`, {
      details: { appId: member.appId, state: member.state, event: event.type },
    });
  };
  const move = (to: MemberState, patch: Partial<RolloutMember>, cause?: string | null): RolloutMember => {
    const deploymentId = patch.deploymentId === undefined ? member.deploymentId : patch.deploymentId;
    if (to === member.state && Object.entries(patch).every(([k, v]) => member[k as keyof RolloutMember] === v)) return member;
    const entry = { at, from: member.state, to, deploymentId, ...(cause ? { cause } : {}) };
    return {
      ...member,
      ...patch,
      state: to,
      reason: cause ?? (to === member.state ? member.reason : null),
      history: to === member.state ? member.history : [...member.history, entry],
      updatedAt: Math.max(member.updatedAt, at),
    };
  };
  switch (event.type) {
    case 'start':
      if (member.state === 'starting') return member;
      return member.state === 'pending' ? move('starting', { startingAt: at }) : refuse();
    case 'started':
      if (member.state !== 'starting') return member.deploymentId === event.deploymentId ? member : refuse();
      return move('building', { deploymentId: event.deploymentId, deploymentState: 'building', startingAt: null });
    case 'deployment': {
      // Only a member with a deployment mirrors it; `left` and `skipped` are the rollout's final word.
      if (member.deploymentId === null || member.state === 'left' || member.state === 'pending' || member.state === 'starting')
        return member;
      // Closed by the rollout after the fact (a failure, a rejection or a withdrawal, then cancelled to free the
      // app): the member keeps what happened to it, which is what the gate and the operator must see.
      if (['failed', 'rejected', 'withdrawn', 'rolled-back'].includes(member.state) && event.state === 'cancelled') {
        return member.deploymentState === 'cancelled'
          ? member
          : { ...member, deploymentState: 'cancelled', updatedAt: Math.max(member.updatedAt, at) };
      }
      // A phase runs while the deployment stays approved: its full release is the pipeline's release.
      if (member.state === 'phasing' && event.state === 'approved') return member;
      const to = memberStateOfDeployment(event.state);
      const patch: Partial<RolloutMember> = { deploymentState: event.state };
      if (event.submittedAt !== undefined) patch.submittedAt = event.submittedAt;
      if (event.decidedAt !== undefined) patch.decidedAt = event.decidedAt;
      const bad = to === 'rejected' || to === 'failed' || to === 'cancelled' || to === 'withdrawn';
      return move(to, patch, bad ? (event.reason ?? to) : to === member.state ? member.reason : null);
    }
    case 'skip':
      if (member.state === 'skipped') return member;
      return member.state === 'pending' || member.state === 'starting' ? move('skipped', { startingAt: null }, event.reason) : refuse();
    case 'fail':
      if (member.state === 'failed') return member;
      // Before its deployment exists (the build refused), or a step of ours refused (a submit's readiness check).
      return ['pending', 'starting', 'building', 'approved'].includes(member.state)
        ? move('failed', { startingAt: null }, event.reason)
        : refuse();
    case 'retry':
      if (member.state !== 'rejected' && member.state !== 'failed') return refuse();
      return move(
        'pending',
        {
          deploymentId: null,
          deploymentState: null,
          startingAt: null,
          submittedAt: null,
          decidedAt: null,
          previousDeploymentIds: member.deploymentId
            ? [...member.previousDeploymentIds, member.deploymentId]
            : member.previousDeploymentIds,
        },
        'retried',
      );
    case 'leave':
      if (member.state === 'left') return member;
      // Left under review by choice, or left live because WeChat refused to withdraw or roll it back.
      return member.state === 'auditing' || member.state === 'released' ? move('left', {}, event.reason) : refuse();
    case 'phased':
      if (member.state !== 'approved' && member.state !== 'phasing') return refuse();
      if (member.phase?.percentage === event.percentage) return member;
      {
        // Every share reached is an entry of its own (phasing → phasing), as the operator wants to see each.
        const cause = `live to ${event.percentage} % of users`;
        const entry = { at, from: member.state, to: 'phasing' as const, deploymentId: member.deploymentId, cause };
        return {
          ...member,
          state: 'phasing',
          phase: { percentage: event.percentage, at },
          reason: cause,
          history: [...member.history, entry],
          updatedAt: Math.max(member.updatedAt, at),
        };
      }
    case 'phaseReverted':
      if (member.state === 'rolled-back') return member;
      return member.state === 'phasing' ? move('rolled-back', { phase: null }, event.reason) : refuse();
    case 'wait':
      // A start that found the app busy, or was cut before its deployment existed, is pending again.
      if (member.state === 'starting') return move('pending', { startingAt: null }, event.reason);
      if (member.state !== 'pending') return refuse();
      return member.reason === event.reason ? member : { ...member, reason: event.reason, updatedAt: Math.max(member.updatedAt, at) };
  }
};

/** The pipeline action the rollout takes next for a member, or null (nothing, or wait). */
export type MemberStep =
  | 'start'
  | 'adopt'
  | 'submit'
  | 'release'
  | 'phase'
  | 'revert'
  | 'cancel'
  | 'withdraw'
  | 'leave'
  | 'rollback'
  | 'skip';

/** How long a start may go without recording its deployment before another driver looks for it (crash). */
export const START_STALE_MS = 5 * 60_000;

export const nextMemberStep = (rollout: Rollout, member: RolloutMember, at: number): MemberStep | null => {
  if (member.state === 'starting') return at - (member.startingAt ?? 0) >= START_STALE_MS ? 'adopt' : null;
  if (rollout.state === 'aborting') {
    const options = rollout.abort ?? { inReview: 'withdraw', released: 'leave' };
    switch (member.state) {
      case 'pending':
        return 'skip';
      case 'building':
      case 'approved':
        return 'cancel';
      case 'phasing':
        return 'revert';
      case 'rolled-back':
        // A reverted phase leaves its deployment approved: closing it frees the app.
        return member.deploymentState === 'approved' ? 'cancel' : null;
      case 'auditing':
        if (options.inReview === 'leave') return 'leave';
        // An audit being submitted cannot be withdrawn yet: its submit finishes first.
        return member.deploymentState === 'auditing' ? 'withdraw' : null;
      case 'released':
        return options.released === 'rollback' ? 'rollback' : null;
      case 'rejected':
      case 'withdrawn':
        // Such a deployment stays open (it could be resubmitted): closing it frees the app.
        return member.deploymentState === 'rejected' || member.deploymentState === 'withdrawn' ? 'cancel' : null;
      default:
        return null;
    }
  }
  if (rollout.state !== 'running' || member.wave > rollout.currentWave) return null;
  if (member.state === 'pending') return 'start';
  if (member.state === 'building' && member.deploymentState === 'built') return 'submit';
  if (member.state === 'approved' && (rollout.release.mode === 'on-approval' || rollout.waves[member.wave]?.released === true)) {
    return rollout.release.phased ? 'phase' : 'release';
  }
  // The next share (or the full release) once the step's time has passed; a paused rollout holds its phases.
  if (member.state === 'phasing' && at - (member.phase?.at ?? 0) >= (rollout.release.phased?.stepMs ?? 0)) return 'phase';
  return null;
};

/** The share a phasing member goes to next; null: the full release. */
export const nextPhasePercentage = (rollout: Rollout, member: RolloutMember): number | null => {
  const reached = member.phase?.percentage ?? 0;
  return rollout.release.phased?.percents.find((p) => p > reached) ?? null;
};

/** Whether abort is done: every member settled, and nothing left for abort to do to any. */
export const abortDone = (rollout: Rollout, members: readonly RolloutMember[], at: number): boolean =>
  members.every((m) => isSettled(m.state) && nextMemberStep(rollout, m, at) === null);

// ---------------------------------------------------------------------------------------------------------
// The gate

export type GateDecision = { kind: 'halt'; reason: string } | { kind: 'advance'; to: number } | { kind: 'complete' } | { kind: 'hold' };

/** A wave's bad members beyond those accepted, and whether they pass its threshold. */
export const overThreshold = (rollout: Rollout, wave: number, bad: number): boolean => {
  const w = rollout.waves[wave];
  if (!w || w.size === 0) return false;
  const threshold = wave === 0 ? rollout.gate.canaryMaxBadShare : rollout.gate.waveMaxBadShare;
  return (bad - w.acceptedBad) / w.size > threshold;
};

/** What the gate says of a running rollout, from its members as they stand. */
export const gateDecision = (rollout: Rollout, members: readonly RolloutMember[]): GateDecision => {
  if (rollout.state !== 'running') return { kind: 'hold' };
  const wave = rollout.currentWave;
  const inWave = members.filter((m) => m.wave === wave);
  const bad = inWave.filter((m) => isBad(m.state));
  if (overThreshold(rollout, wave, bad.length)) {
    const size = rollout.waves[wave]?.size ?? inWave.length;
    const threshold = wave === 0 ? rollout.gate.canaryMaxBadShare : rollout.gate.waveMaxBadShare;
    const first = bad.find((m) => m.reason);
    return {
      kind: 'halt',
      reason: `${bad.length} of ${size} members of ${wave === 0 ? 'the canary' : `wave ${wave}`} rejected or failed (threshold ${Math.round(threshold * 100)} %)${first ? `; ${first.appId}: ${first.reason}` : ''}`,
    };
  }
  // Earlier waves too: a retried member of an earlier wave must settle before the rollout ends.
  if (!members.filter((m) => m.wave <= wave).every((m) => isSettled(m.state))) return { kind: 'hold' };
  return wave + 1 < rollout.waves.length ? { kind: 'advance', to: wave + 1 } : { kind: 'complete' };
};

// ---------------------------------------------------------------------------------------------------------
// The rollout's own transitions

export type RolloutCommand =
  | { type: 'pause'; reason?: string }
  | { type: 'resume'; reason?: string; badInWave: number }
  | { type: 'halt'; reason: string }
  | { type: 'abort'; options: AbortOptions; reason?: string }
  | { type: 'aborted' }
  | { type: 'advance'; to: number }
  | { type: 'complete' }
  | { type: 'retry'; count: number }
  | { type: 'releaseWave'; wave: number }
  | { type: 'waitForQuota'; until: number; rest: number }
  | { type: 'quotaAvailable' };

export class RolloutTransitionError extends AppError {
  readonly code: string;
  readonly category = 'conflict' as const;
  constructor(code: string, message: string, details: Record<string, unknown>) {
    super(message, { details });
    this.code = code;
  }
}

export interface RolloutTransitionResult {
  rollout: Rollout;
  changed: boolean;
}

/**
 * Applies `command`. Repeats change nothing (`changed: false`); a command the state forbids throws
 * `RolloutTransitionError` (`ROLLOUT_CLOSED`, `ROLLOUT_INVALID_TRANSITION`).
 */
export const rolloutTransition = (
  rollout: Rollout,
  command: RolloutCommand,
  ctx: { at: number; actor: Actor },
): RolloutTransitionResult => {
  const same = { rollout, changed: false };
  const refuse = (message: string): never => {
    const closed = rollout.state === 'aborted' || (rollout.state === 'completed' && command.type !== 'retry');
    throw new RolloutTransitionError(
      closed ? 'ROLLOUT_CLOSED' : 'ROLLOUT_INVALID_TRANSITION',
      `Rollout ${rollout.id} (${rollout.state}): ${message}`,
      {
        rolloutId: rollout.id,
        state: rollout.state,
        command: command.type,
      },
    );
  };
  const move = (to: RolloutState, patch: Partial<Rollout>, cause?: string): RolloutTransitionResult => {
    const next: Rollout = { ...rollout, ...patch, state: to };
    const entry: RolloutHistoryEntry = {
      at: ctx.at,
      from: rollout.state,
      to,
      command: command.type,
      actor: ctx.actor,
      wave: next.currentWave,
      ...(cause ? { cause } : {}),
    };
    return {
      rollout: {
        ...next,
        stateReason: to === rollout.state ? rollout.stateReason : (cause ?? null),
        history: [...rollout.history, entry],
        updatedAt: Math.max(rollout.updatedAt, ctx.at),
      },
      changed: true,
    };
  };
  const s = rollout.state;
  switch (command.type) {
    case 'pause':
      if (s === 'paused') return same;
      return s === 'running' ? move('paused', {}, command.reason ?? 'paused') : refuse('only a running rollout can be paused');
    case 'resume': {
      if (s === 'running') return same;
      if (s !== 'paused' && s !== 'halted') return refuse('only a paused or halted rollout can be resumed');
      // Resuming after a halt accepts the wave's failures so far: the gate then counts only new ones.
      const waves = rollout.waves.map((w, i) =>
        i === rollout.currentWave && s === 'halted' ? { ...w, acceptedBad: Math.max(w.acceptedBad, command.badInWave) } : w,
      );
      return move('running', { waves }, command.reason ?? 'resumed');
    }
    case 'halt':
      if (s === 'halted') return same;
      return s === 'running' ? move('halted', {}, command.reason) : refuse('only a running rollout halts');
    case 'abort':
      if (s === 'aborting' || s === 'aborted') return same;
      if (s === 'completed') return refuse('it completed: release a new rollout to change the fleet');
      return move('aborting', { abort: command.options, waiting: null }, command.reason ?? 'aborted');
    case 'aborted':
      if (s === 'aborted') return same;
      return s === 'aborting' ? move('aborted', {}, 'every member settled') : refuse('only an aborting rollout ends aborted');
    case 'advance':
      if (rollout.currentWave >= command.to) return same;
      return s === 'running' && command.to === rollout.currentWave + 1 && command.to < rollout.waves.length
        ? move('running', { currentWave: command.to }, `wave ${rollout.currentWave} settled; wave ${command.to} starts`)
        : refuse(`cannot advance to wave ${command.to}`);
    case 'complete':
      if (s === 'completed') return same;
      return s === 'running' ? move('completed', { waiting: null }, 'every wave settled') : refuse('only a running rollout completes');
    case 'retry':
      if (s === 'aborting' || s === 'aborted') return refuse('an aborted rollout is not retried');
      return move(s === 'completed' ? 'running' : s, {}, `${command.count} members retried`);
    case 'releaseWave': {
      if (rollout.release.mode !== 'manual') return refuse('its members are released when approved: there is no wave to release');
      if (command.wave > rollout.currentWave || command.wave >= rollout.waves.length) return refuse(`wave ${command.wave} has not started`);
      if (rollout.waves[command.wave]?.released) return same;
      if (s !== 'running' && s !== 'paused' && s !== 'halted') return refuse('only a rollout under way releases a wave');
      const waves = rollout.waves.map((w, i) => (i === command.wave ? { ...w, released: true } : w));
      return move(s, { waves }, `wave ${command.wave} released by the operator`);
    }
    case 'waitForQuota':
      if (rollout.waiting?.until === command.until) return same;
      return move(
        s,
        { waiting: { for: 'quota', until: command.until, rest: command.rest, reserve: rollout.quotaReserve } },
        `waiting for quota until ${new Date(command.until).toISOString()} (${command.rest} left, ${rollout.quotaReserve} kept in reserve)`,
      );
    case 'quotaAvailable':
      return rollout.waiting === null ? same : move(s, { waiting: null }, 'quota available again');
  }
};

// ---------------------------------------------------------------------------------------------------------
// Quota and progress

/** The quota's renewal (the 1st, 00:00 China time): one rule, `audit-quota.ts`. */
export const nextQuotaRenewal = nextAuditQuotaRenewal;

/** Per wave: its size and members per state. The sum over states is the wave's size. */
export const countsByWave = (rollout: Rollout, members: readonly RolloutMember[]): { wave: number; size: number; counts: MemberCounts }[] =>
  rollout.waves.map((w, wave) => ({ wave, size: w.size, counts: countStates(members.filter((m) => m.wave === wave)) }));

/**
 * When the rollout should end, from the audit times observed so far: each remaining wave takes the mean time
 * from submit to decision. Null before any audit was decided, and once the rollout is closed.
 */
export const estimatedEnd = (rollout: Rollout, members: readonly RolloutMember[], at: number): number | null => {
  if (!ACTIVE_ROLLOUT_STATES.includes(rollout.state) || rollout.state === 'aborting') return null;
  const durations = members.flatMap((m) => (m.submittedAt !== null && m.decidedAt !== null ? [m.decidedAt - m.submittedAt] : []));
  if (durations.length === 0) return null;
  const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
  const waveLeft = members.some((m) => m.wave === rollout.currentWave && !isSettled(m.state)) ? 1 : 0;
  return Math.round(at + mean * (rollout.waves.length - rollout.currentWave - 1 + waveLeft));
};

/**
 * A deployment is one version of an app on its way to one mini program: build, audit, release (DESIGN §4).
 * Every change of its state goes through `transition`, one pure function; handlers never set a state by hand.
 *
 *   configuring ─startBuild→ building[commit → privacy → domains → qrcode → testers] ─buildSucceeded→ built ─submitAudit→ submitting
 *   submitting ─auditSubmitted→ auditing[(delayed)] ─┬ auditApproved → approved ─startRelease→ releasing ─released→ released ─rollback→ rolled-back
 *                                                    ├ auditRejected → rejected ─submitAudit→ submitting (resubmit after a fix)
 *                                                    └ withdraw      → withdrawn ─submitAudit→ submitting
 *   building|submitting|releasing ─fail→ failed ─retry (if retryable)→ back where it failed
 *   configuring|building|built|approved|rejected|withdrawn|failed(retryable) ─cancel→ cancelled
 *   anything not terminal ─void (unbind, unauthorized)→ voided
 *
 * Decisions the frontends can rely on:
 * - One deployment is one attempt. Terminal states (cancelled, voided, released, rolled-back, and failed when not
 *   retryable) never change again, except released → rolled-back. "Cancel returns the app to configuring" means
 *   the app has no open deployment any more; the next build is a new deployment.
 * - A rejected or withdrawn audit leaves the deployment open: if the fix is outside the code (profile, category,
 *   privacy settings) `submitAudit` resubmits the same build; if the code or config must change, cancel it and
 *   build a new deployment.
 * - Work at WeChat that may outlive a request is recorded *before* it is done (building, submitting, releasing),
 *   with `nextPollAt` set, so the poller resumes it if the instance dies; `building` knows its step. Only the
 *   writer whose transition returned `changed: true` (and whose compare-and-set won) performs its `effects`:
 *   that is how two concurrent publishes make one release call.
 * - An audit is WeChat's: once it runs, nothing of ours can make it fail. A poll that WeChat refuses (45009 quota,
 *   a lost authorization) only means "look again later", so `auditing` never goes to `failed` (`fail` is ignored
 *   there); a deployment stored as failed-from-auditing by older code can still be retried or cancelled.
 * - A lost authorization (61023, 42007, revoked tokens) is not a failure of the deployment either: whatever it was
 *   doing waits (its poll backs off) until the admin authorizes the mini program again, then resumes by itself
 *   (`pollNow`). The user expects the audit WeChat keeps running to be releasable once the platform is authorized
 *   again, not a deployment closed for a reason that was never its own.
 * - Testers WeChat refuses (85001 no such WeChat id, 85002 the mini program's tester limit, 85003 the person's) do
 *   not fail a build: the code is committed and its QR stored, and no retry could change WeChat's answer. The build
 *   succeeds, the refused testers are listed with the reason (`refusedTesters`), and can be bound later
 *   (`withTestersBound`) once the cause is gone.
 * - Repeats are no-ops (`changed: false`, no history entry): the same request twice, a re-delivered or stale
 *   WeChat event, a worker reporting a step another worker already recorded. WeChat audit events never throw
 *   (they carry no audit id: an event that does not apply to this deployment's current audit is ignored).
 *   A command that makes no sense in the current state throws `InvalidTransitionError` with a stable code.
 *
 * The schemas are `z.lazy`: built on their first parse rather than at every cold start's import (`lazyTarget` in
 * common.ts gives the built schema, to derive another from it).
 */

import { type Actor, actorSchema } from './common';
import {
  DEPLOYMENT_STATES,
  type DeploymentState,
  IN_FLIGHT_STATES,
  type InFlightState,
  isInFlightState,
  isOpenState,
  OPEN_STATES,
} from './deployment-states';
import { AppError } from './errors';
import * as z from './zod';

export { DEPLOYMENT_STATES, type DeploymentState, IN_FLIGHT_STATES, type InFlightState, OPEN_STATES };

import type { AccountId, AppId, AssetId, DeploymentId, WeChatAppid } from './ids';
import { accountIdSchema, appIdSchema, assetIdSchema, deploymentIdSchema, timestampSchema, weChatAppidSchema } from './ids';

export const deploymentStateSchema = z.enum(DEPLOYMENT_STATES);

/**
 * commit code → set the user privacy guide → set the server domains → fetch and store the experience QR → bind
 * testers. The guide and the domains follow the commit (WeChat's order: commit, privacy scan, setprivacysetting;
 * domains before release) and precede the QR, so the experience version already runs as the released one will.
 */
export const BUILD_STEPS = ['commit', 'privacy', 'domains', 'qrcode', 'testers'] as const;
export const buildStepSchema = z.enum(BUILD_STEPS);
export type BuildStep = z.infer<typeof buildStepSchema>;

export const COMMAND_TYPES = [
  'startBuild',
  'buildCommitted',
  'privacyGuideSet',
  'domainsSet',
  'qrStored',
  'buildSucceeded',
  'cancel',
  'submitAudit',
  'auditSubmitted',
  'auditApproved',
  'auditRejected',
  'auditDelayed',
  'withdraw',
  'startRelease',
  'released',
  'releaseAlreadyDone',
  'rollback',
  'fail',
  'retry',
  'void',
] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

export type DeploymentCommand =
  | { type: 'startBuild' }
  | { type: 'buildCommitted' }
  | { type: 'privacyGuideSet' }
  | { type: 'domainsSet' }
  | { type: 'qrStored'; qrAssetId: AssetId }
  // `refusedTesters`: those WeChat would not bind (tester limits, unknown WeChat id): the build is done without them.
  | { type: 'buildSucceeded'; boundTesters: readonly string[]; refusedTesters?: readonly TesterRefusal[] }
  // `auditId`: an audit of this deployment's that the caller found at WeChat (and withdrew if it was under review)
  // without having recorded it (a submit whose answer was lost): the history keeps it, so no later deployment adopts it.
  | { type: 'cancel'; reason?: string; auditId?: number }
  | { type: 'submitAudit' }
  | { type: 'auditSubmitted'; auditId: number }
  // Audit results: `auditId` is absent for pushes (they carry none) and present when read by polling.
  | { type: 'auditApproved'; auditId?: number }
  | { type: 'auditRejected'; reason: string; screenshots: readonly string[]; auditId?: number }
  | { type: 'auditDelayed'; reason: string; auditId?: number }
  | { type: 'withdraw'; auditId?: number }
  | { type: 'startRelease' }
  | { type: 'released' }
  | { type: 'releaseAlreadyDone' }
  | { type: 'rollback' }
  | { type: 'fail'; reason: string; retryable: boolean; errcode?: number }
  | { type: 'retry' }
  | { type: 'void'; reason: string; auditId?: number };

// ---------------------------------------------------------------------------------------------------------
// The document

export const auditSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    auditId: z.number().check(z.int(), z.positive()),
    submittedAt: timestampSchema,
    /** WeChat's reason for a delayed review (status 4); the audit is still under review. */
    delayReason: z.nullable(z.string()),
    /** Rejection reason (may contain `<br>`, as WeChat sends it). */
    reason: z.nullable(z.string()),
    /** Rejection screenshots: permanent media ids. */
    screenshots: z.array(z.string()),
    decidedAt: z.nullable(timestampSchema),
  }),
);
export type Audit = z.infer<typeof auditSchema>;

export const failureSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    at: timestampSchema,
    reason: z.string(),
    retryable: z.boolean(),
    errcode: z.nullable(z.number().check(z.int())),
    /** Where `retry` goes back to. */
    from: z.enum(IN_FLIGHT_STATES),
    step: z.nullable(buildStepSchema),
  }),
);
export type Failure = z.infer<typeof failureSchema>;

/**
 * A tester WeChat refused to bind, and why: 85001 (no such WeChat id), 85002 (the mini program has all the
 * testers it may have), 85003 (the person tests too many mini programs). None is a fault of the code, and no
 * retry of the build can change it, so the build succeeds without them and they are listed here for the user, to
 * bind again once the cause is gone (`bindTestersLater`).
 */
export const testerRefusalSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    wechatId: z.string().check(z.minLength(1), z.maxLength(64)),
    errcode: z.number().check(z.int()),
    reason: z.string(),
    at: timestampSchema,
  }),
);
export type TesterRefusal = z.infer<typeof testerRefusalSchema>;

export const historyEntrySchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    at: timestampSchema,
    from: deploymentStateSchema,
    to: deploymentStateSchema,
    /** The build step reached, when `to` is building. */
    step: z.optional(buildStepSchema),
    command: z.enum(COMMAND_TYPES),
    actor: actorSchema,
    cause: z.optional(z.string()),
    errcode: z.optional(z.number().check(z.int())),
    auditId: z.optional(z.number().check(z.int())),
  }),
);
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export const deploymentSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    id: deploymentIdSchema,
    accountId: accountIdSchema,
    appId: appIdSchema,
    miniProgramAppid: weChatAppidSchema,
    templateId: z.number().check(z.int(), z.nonnegative()),
    /** `user_version` (WeChat: at most 64 characters). */
    userVersion: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
    /** `user_desc`. */
    userDesc: z.string().check(z.maxLength(1000)),
    /** The ext_json committed, fixed when the deployment is created so a resumed build commits the same code. */
    extJson: z.string().check(z.minLength(2)),
    /** WeChat ids to bind as experience testers. */
    testers: z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.maxLength(100)),
    state: deploymentStateSchema,
    /** Non-null exactly when building. */
    buildStep: z.nullable(buildStepSchema),
    /** The current (latest) audit; earlier ones are in the history. */
    audit: z.nullable(auditSchema),
    /** Non-null exactly when failed. */
    failure: z.nullable(failureSchema),
    /** Why the deployment is in its state (rejection, delay, failure, cancel or void reason), for display. */
    stateReason: z.nullable(z.string()),
    qrAssetId: z.nullable(assetIdSchema),
    boundTesters: z.array(z.string()),
    /** Testers WeChat refused, with its reason (absent in documents stored before 2026-12: none recorded). */
    refusedTesters: z._default(z.array(testerRefusalSchema), []),
    releasedAt: z.nullable(timestampSchema),
    /** When the poller should look at it; non-null exactly in the in-flight states. */
    nextPollAt: z.nullable(timestampSchema),
    /** Polls since the state last changed; drives the backoff. */
    pollAttempts: z.number().check(z.int(), z.nonnegative()),
    history: z.array(historyEntrySchema),
    createdBy: actorSchema,
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  }),
);
export type Deployment = z.infer<typeof deploymentSchema>;

export interface NewDeployment {
  readonly id: DeploymentId;
  readonly accountId: AccountId;
  readonly appId: AppId;
  readonly miniProgramAppid: WeChatAppid;
  readonly templateId: number;
  readonly userVersion: string;
  readonly userDesc: string;
  readonly extJson: string;
  readonly testers?: readonly string[];
}

export const createDeployment = (input: NewDeployment, ctx: { at: number; actor: Actor }): Deployment => ({
  id: input.id,
  accountId: input.accountId,
  appId: input.appId,
  miniProgramAppid: input.miniProgramAppid,
  templateId: input.templateId,
  userVersion: input.userVersion,
  userDesc: input.userDesc,
  extJson: input.extJson,
  testers: [...(input.testers ?? [])],
  state: 'configuring',
  buildStep: null,
  audit: null,
  failure: null,
  stateReason: null,
  qrAssetId: null,
  boundTesters: [],
  refusedTesters: [],
  releasedAt: null,
  nextPollAt: null,
  pollAttempts: 0,
  history: [],
  createdBy: ctx.actor,
  createdAt: ctx.at,
  updatedAt: ctx.at,
});

// ---------------------------------------------------------------------------------------------------------
// Errors

export const DEPLOYMENT_ERROR_CODES = [
  'DEPLOYMENT_INVALID_TRANSITION',
  /** Terminal: nothing more can happen to this deployment; build a new one. */
  'DEPLOYMENT_CLOSED',
  /** Failed but retryable: `retry` or `cancel` it. */
  'DEPLOYMENT_FAILED',
  'DEPLOYMENT_NOT_BUILT',
  'DEPLOYMENT_NOT_APPROVED',
  'DEPLOYMENT_NOT_IN_REVIEW',
  /** Cancel while WeChat reviews it: withdraw the audit first. */
  'DEPLOYMENT_IN_REVIEW',
  'DEPLOYMENT_NOT_RELEASED',
  'DEPLOYMENT_NOT_RETRYABLE',
  /** WeChat reports an audit id other than the one recorded. */
  'DEPLOYMENT_AUDIT_MISMATCH',
] as const;
export type DeploymentErrorCode = (typeof DEPLOYMENT_ERROR_CODES)[number];

export class InvalidTransitionError extends AppError {
  readonly code: DeploymentErrorCode;
  readonly category = 'conflict' as const;

  constructor(deployment: Deployment, command: CommandType, code: DeploymentErrorCode, message: string) {
    super(message, {
      details: {
        deploymentId: deployment.id,
        from: deployment.state,
        command,
        ...(deployment.buildStep ? { step: deployment.buildStep } : {}),
      },
    });
    this.code = code;
  }
}

/** Testers asked for a deployment that has no experience version to test (not built yet, or closed). */
export class TestersNotBindableError extends AppError {
  readonly code: Extract<DeploymentErrorCode, 'DEPLOYMENT_NOT_BUILT' | 'DEPLOYMENT_CLOSED'>;
  readonly category = 'conflict' as const;

  constructor(deployment: Deployment, code: TestersNotBindableError['code'], message: string) {
    super(`Deployment ${deployment.id} (${deployment.state}): ${message}`, {
      details: { deploymentId: deployment.id, from: deployment.state },
    });
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Polling

export const FIRST_POLL_DELAY_MS = 2 * 60_000;
export const MAX_POLL_DELAY_MS = 30 * 60_000;
/** How long a build, submit or release may go quiet before the poller assumes its instance died and resumes. */
export const RESUME_AFTER_MS = 2 * 60_000;
const JITTER = 0.2;

/**
 * Delay before poll number `attempt` (0 = the first): 2, 4, 8, 16, then 30 minutes. WeChat decides in 1–7 days
 * and pushes the result, so polling is the safety net and must not spend the per-appid quota. Jitter only
 * shortens (by up to 20%), so the maximum holds and 10,000 audits submitted together do not poll together.
 * `random` returns [0, 1); the default gives no jitter.
 */
export const nextPollDelay = (attempt: number, random: () => number = () => 0): number => {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 10);
  const delay = Math.min(MAX_POLL_DELAY_MS, FIRST_POLL_DELAY_MS * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(delay * (1 - JITTER * r));
};

const pollAtFor = (state: DeploymentState, at: number, random?: () => number): number | null => {
  switch (state) {
    case 'auditing':
      return at + nextPollDelay(0, random);
    case 'building':
    case 'submitting':
    case 'releasing':
      return at + RESUME_AFTER_MS;
    default:
      return null;
  }
};

/** A poll that changed nothing: look again later, a little later each time. Not a transition: no history. */
export const pollLater = (deployment: Deployment, ctx: { at: number; random?: () => number }): Deployment => {
  if (deployment.nextPollAt === null) return deployment;
  const pollAttempts = deployment.pollAttempts + 1;
  return {
    ...deployment,
    pollAttempts,
    nextPollAt: ctx.at + nextPollDelay(pollAttempts, ctx.random),
    updatedAt: Math.max(deployment.updatedAt, ctx.at),
  };
};

/**
 * Whatever the deployment was waiting for is back (the mini program was authorized again): look at it at the next
 * poller tick instead of after the backoff. Not a transition: no history.
 */
export const pollNow = (deployment: Deployment, at: number): Deployment => {
  if (deployment.nextPollAt === null || deployment.nextPollAt <= at) return deployment;
  return { ...deployment, nextPollAt: at, pollAttempts: 0, updatedAt: Math.max(deployment.updatedAt, at) };
};

/**
 * Testers bound (or refused again) after the build, once their cause is gone — the mini program has room again, the
 * person tests fewer mini programs. Bound ones leave the refused list; every one asked for joins `testers`. Only a
 * deployment whose build is done and which is still open has an experience version to test. Not a transition: the
 * state does not change, so no history.
 */
export const withTestersBound = (
  deployment: Deployment,
  result: { bound: readonly string[]; refused: readonly TesterRefusal[] },
  at: number,
): Deployment => {
  if (isTerminal(deployment)) throw new TestersNotBindableError(deployment, 'DEPLOYMENT_CLOSED', 'it is closed; build a new deployment.');
  if (
    deployment.state === 'configuring' ||
    deployment.state === 'building' ||
    (deployment.state === 'failed' && deployment.failure?.from === 'building')
  ) {
    throw new TestersNotBindableError(deployment, 'DEPLOYMENT_NOT_BUILT', 'testers are bound once it is built.');
  }
  const asked = new Set([...result.bound, ...result.refused.map((r) => r.wechatId)]);
  return {
    ...deployment,
    testers: [...new Set([...deployment.testers, ...asked])],
    boundTesters: [...new Set([...deployment.boundTesters, ...result.bound])],
    refusedTesters: [...deployment.refusedTesters.filter((r) => !asked.has(r.wechatId)), ...result.refused],
    updatedAt: Math.max(deployment.updatedAt, at),
  };
};

export const isDue = (deployment: Deployment, now: number): boolean => deployment.nextPollAt !== null && deployment.nextPollAt <= now;

// ---------------------------------------------------------------------------------------------------------
// Queries

export const isInFlight = (deployment: Deployment): boolean => isInFlightState(deployment.state);

export const isTerminal = (deployment: Deployment): boolean => !isOpenState(deployment.state, deployment.failure);

/** Whether WeChat may be reviewing this deployment's code, so closing it should undo the audit. */
export const auditMayBeLive = (deployment: Deployment): boolean => {
  const state = deployment.state === 'failed' ? deployment.failure?.from : deployment.state;
  return state === 'submitting' || state === 'auditing';
};

/** What WeChat says is the mini program's latest audit (`get_latest_auditstatus`). */
export interface LatestAudit {
  readonly auditId: number;
  /** 0 approved · 1 rejected · 2 under review · 3 withdrawn · 4 delayed. */
  readonly status: 0 | 1 | 2 | 3 | 4;
  /** `submit_audit_time` in ms, when WeChat sent it. */
  readonly submittedAt: number | null;
}

/**
 * How far WeChat's clock (and its whole-second `submit_audit_time`) may be behind ours. Small on purpose: an audit
 * no deployment recorded that WeChat received this long before our submission began would be taken for ours.
 */
export const SUBMIT_CLOCK_SKEW_MS = 10_000;

/** Every audit id this deployment has recorded: the current audit and those of earlier rounds. */
export const auditIdsOf = (deployment: Deployment): number[] => {
  const ids = new Set<number>();
  for (const entry of deployment.history) if (entry.auditId !== undefined) ids.add(entry.auditId);
  if (deployment.audit) ids.add(deployment.audit.auditId);
  return [...ids];
};

/**
 * When the submission now in progress began: the first move to `submitting` since the last audit this deployment
 * recorded. A retry after a failed submit stays in the same submission: the audit its lost first attempt made is
 * still its own.
 */
const submissionStartedAt = (deployment: Deployment): number | null => {
  let started: number | null = null;
  for (const entry of deployment.history) {
    if (entry.auditId !== undefined) started = null;
    else if (entry.to === 'submitting' && started === null) started = entry.at;
  }
  return started;
};

/**
 * Whether WeChat's latest audit is this deployment's own, so adopting (or withdrawing) it is safe. WeChat keeps one
 * audit per mini program and neither its pushes nor `undocodeaudit` name one, so taking another deployment's audit
 * would release (or withdraw) code this deployment never submitted.
 * - Under review (or failed there, stored by older code): only the audit it recorded.
 * - Submitting (or failed there): an audit whose answer we lost. It is ours if no deployment recorded it already
 *   (`elsewhere`: the audit ids of the mini program's other deployments), this one did not go through it in an
 *   earlier round, and WeChat received it after this submission began.
 */
export const ownsAudit = (deployment: Deployment, latest: LatestAudit, elsewhere: ReadonlySet<number>): boolean => {
  const phase = deployment.state === 'failed' ? deployment.failure?.from : deployment.state;
  if (phase === 'auditing') return deployment.audit?.auditId === latest.auditId;
  if (phase !== 'submitting') return false;
  if (elsewhere.has(latest.auditId) || auditIdsOf(deployment).includes(latest.auditId)) return false;
  const started = submissionStartedAt(deployment);
  if (started === null) return false;
  return latest.submittedAt === null || latest.submittedAt >= started - SUBMIT_CLOCK_SKEW_MS;
};

/** The state plus where inside it: what a history entry records a change of. */
export const phaseOf = (deployment: Deployment): string => {
  if (deployment.state === 'building') return `building:${deployment.buildStep ?? '?'}`;
  if (deployment.state === 'auditing' && deployment.audit?.delayReason != null) return 'auditing:delayed';
  return deployment.state;
};

/** A deployment's next WeChat call (`pendingWork`): a build step, the submit, an audit poll, the release. */
export type Work =
  | 'commitCode'
  | 'setPrivacyGuide'
  | 'setDomains'
  | 'fetchQrCode'
  | 'bindTesters'
  | 'submitAudit'
  | 'pollAudit'
  | 'release';

/** What the writer whose transition changed the deployment (and whose write won) does at WeChat. */
export interface Effects {
  /** The work the new phase starts with (`pendingWork`), or null when it has none or the phase did not change. */
  readonly next: Work | null;
  /** Closing the deployment withdraws its audit at WeChat first. */
  readonly undoAudit: boolean;
}

export const NO_EFFECTS: Effects = { next: null, undoAudit: false };

/** What WeChat says of an audit, from a poll, the latest audit or a push: 0 approved · 1 rejected · 2 under review · 3 withdrawn · 4 delayed. */
export interface AuditVerdict {
  readonly status: LatestAudit['status'];
  /** Pushes name no audit. */
  readonly auditId?: number | undefined;
  readonly reason?: string | null | undefined;
  readonly screenshots?: readonly string[] | undefined;
}

/** The command WeChat's word on an audit makes, or null while it is still under review. */
export const auditCommandOf = (verdict: AuditVerdict): DeploymentCommand | null => {
  const id = verdict.auditId === undefined ? {} : { auditId: verdict.auditId };
  switch (verdict.status) {
    case 0:
      return { type: 'auditApproved', ...id };
    case 1:
      return { type: 'auditRejected', ...id, reason: verdict.reason ?? 'rejected', screenshots: [...(verdict.screenshots ?? [])] };
    case 2:
      return null;
    case 3:
      return { type: 'withdraw', ...id };
    case 4:
      return { type: 'auditDelayed', ...id, reason: verdict.reason ?? 'delayed' };
  }
};

const STEP_WORK: Record<BuildStep, Work> = {
  commit: 'commitCode',
  privacy: 'setPrivacyGuide',
  domains: 'setDomains',
  qrcode: 'fetchQrCode',
  testers: 'bindTesters',
};

/**
 * What has to happen next for an in-flight deployment; the poller calls it for due deployments. For
 * `submitAudit`, first ask WeChat for the latest audit: the submit may have happened before the instance died
 * (WeChat: do not blindly retry a submit).
 */
export const pendingWork = (deployment: Deployment): Work | null => {
  switch (deployment.state) {
    case 'building':
      return deployment.buildStep ? STEP_WORK[deployment.buildStep] : null;
    case 'submitting':
      return 'submitAudit';
    case 'auditing':
      return 'pollAudit';
    case 'releasing':
      return 'release';
    default:
      return null;
  }
};

// ---------------------------------------------------------------------------------------------------------
// The transition function

export interface TransitionContext {
  readonly at: number;
  readonly actor: Actor;
  /** For the poll jitter; [0, 1). */
  readonly random?: () => number;
}

/** Why a command changed nothing: done already, overtaken by later events, or the deployment is closed. */
export type IgnoredBecause = 'repeat' | 'stale' | 'closed';

export type TransitionResult =
  | { readonly deployment: Deployment; readonly changed: true; readonly effects: Effects }
  | { readonly deployment: Deployment; readonly changed: false; readonly effects: typeof NO_EFFECTS; readonly ignored: IgnoredBecause };

interface Move {
  readonly to: DeploymentState;
  readonly step?: BuildStep;
  readonly patch?: Partial<Deployment>;
  readonly cause?: string;
  readonly errcode?: number;
  readonly auditId?: number;
  readonly undoAudit?: boolean;
}
/** What a command does to a deployment: a move, or nothing and why. */
type Decision = Move | { readonly ignore: IgnoredBecause };

const refuse = (d: Deployment, command: DeploymentCommand, code: DeploymentErrorCode, message: string): never => {
  throw new InvalidTransitionError(d, command.type, code, `Deployment ${d.id} (${d.state}): ${message}`);
};

/** The refusal for a command that a closed or failed deployment cannot take. */
const refuseClosed = (d: Deployment, command: DeploymentCommand, otherwise: string): never => {
  if (d.state === 'failed' && d.failure?.retryable) {
    return refuse(d, command, 'DEPLOYMENT_FAILED', `it failed (${d.failure.reason}); retry or cancel it.`);
  }
  if (isTerminal(d)) return refuse(d, command, 'DEPLOYMENT_CLOSED', 'it is closed; build a new deployment.');
  return refuse(d, command, 'DEPLOYMENT_INVALID_TRANSITION', otherwise);
};

const overtaken = (d: Deployment): Decision => ({ ignore: isTerminal(d) ? 'closed' : 'stale' });

const newAudit = (auditId: number, at: number): Audit => ({
  auditId,
  submittedAt: at,
  delayReason: null,
  reason: null,
  screenshots: [],
  decidedAt: null,
});

const closingAudit = (auditId: number | undefined): { auditId?: number } => (auditId === undefined ? {} : { auditId });

/** A worker reports that a build step is done. */
const buildProgress = (d: Deployment, command: DeploymentCommand, done: BuildStep, next: Move): Decision => {
  if (d.state === 'configuring') return refuse(d, command, 'DEPLOYMENT_NOT_BUILT', 'the build has not started.');
  if (d.state !== 'building' || d.buildStep === null) return overtaken(d);
  const reached = BUILD_STEPS.indexOf(d.buildStep);
  const expected = BUILD_STEPS.indexOf(done);
  if (reached > expected) return { ignore: 'stale' };
  if (reached < expected) return refuse(d, command, 'DEPLOYMENT_INVALID_TRANSITION', `the build is still at step ${d.buildStep}.`);
  return next;
};

type AuditResult = Extract<DeploymentCommand, { type: 'auditApproved' | 'auditRejected' | 'auditDelayed' }>;

/** Audit results come from pushes (no audit id) and polls (with one); neither may throw. */
const auditResult = (d: Deployment, command: AuditResult, at: number): Decision => {
  let audit = d.audit;
  if (d.state === 'submitting' && command.auditId !== undefined && command.auditId !== audit?.auditId) {
    // The result overtook our own record of the submit (WeChat may answer before we stored the audit id).
    audit = newAudit(command.auditId, at);
  } else if (d.state !== 'auditing' || audit === null) {
    const repeat =
      (command.type === 'auditApproved' && d.state === 'approved') || (command.type === 'auditRejected' && d.state === 'rejected');
    const sameAudit = command.auditId === undefined || command.auditId === audit?.auditId;
    return repeat && sameAudit ? { ignore: 'repeat' } : overtaken(d);
  } else if (command.auditId !== undefined && command.auditId !== audit.auditId) {
    return { ignore: 'stale' };
  }
  switch (command.type) {
    case 'auditApproved':
      return { to: 'approved', auditId: audit.auditId, patch: { audit: { ...audit, decidedAt: at } } };
    case 'auditRejected':
      return {
        to: 'rejected',
        auditId: audit.auditId,
        cause: command.reason,
        patch: { audit: { ...audit, reason: command.reason, screenshots: [...command.screenshots], decidedAt: at } },
      };
    case 'auditDelayed':
      if (d.state === 'auditing' && audit.delayReason !== null) return { ignore: 'repeat' };
      return { to: 'auditing', auditId: audit.auditId, cause: command.reason, patch: { audit: { ...audit, delayReason: command.reason } } };
  }
};

const decide = (d: Deployment, command: DeploymentCommand, ctx: TransitionContext): Decision => {
  const { state } = d;
  switch (command.type) {
    case 'startBuild':
      if (state === 'configuring') return { to: 'building', step: 'commit' };
      if (state === 'building' || state === 'built') return { ignore: 'repeat' };
      return refuseClosed(d, command, 'it has been built already; build a new deployment.');

    case 'buildCommitted':
      return buildProgress(d, command, 'commit', { to: 'building', step: 'privacy' });
    case 'privacyGuideSet':
      return buildProgress(d, command, 'privacy', { to: 'building', step: 'domains' });
    case 'domainsSet':
      return buildProgress(d, command, 'domains', { to: 'building', step: 'qrcode' });
    case 'qrStored':
      return buildProgress(d, command, 'qrcode', { to: 'building', step: 'testers', patch: { qrAssetId: command.qrAssetId } });
    case 'buildSucceeded':
      return buildProgress(d, command, 'testers', {
        to: 'built',
        patch: { boundTesters: [...command.boundTesters], refusedTesters: [...(command.refusedTesters ?? [])] },
      });

    case 'cancel':
      switch (state) {
        case 'cancelled':
          return { ignore: 'repeat' };
        case 'submitting':
        case 'auditing':
          return refuse(d, command, 'DEPLOYMENT_IN_REVIEW', 'WeChat is reviewing it; withdraw the audit first.');
        case 'releasing':
          return refuse(d, command, 'DEPLOYMENT_INVALID_TRANSITION', 'it is being released.');
        case 'configuring':
        case 'building':
        case 'built':
        case 'approved':
        case 'rejected':
        case 'withdrawn':
          return { to: 'cancelled', cause: command.reason ?? 'cancelled' };
        default:
          if (state === 'failed' && d.failure?.retryable) {
            return {
              to: 'cancelled',
              cause: command.reason ?? 'cancelled',
              undoAudit: auditMayBeLive(d),
              ...closingAudit(command.auditId),
            };
          }
          return refuseClosed(d, command, 'it cannot be cancelled.');
      }

    case 'submitAudit':
      switch (state) {
        case 'built':
        case 'rejected':
        case 'withdrawn':
          return { to: 'submitting' };
        case 'submitting':
        case 'auditing':
          return { ignore: 'repeat' };
        case 'configuring':
        case 'building':
          return refuse(d, command, 'DEPLOYMENT_NOT_BUILT', 'it can be submitted for audit once it is built.');
        case 'approved':
        case 'releasing':
          return refuse(d, command, 'DEPLOYMENT_INVALID_TRANSITION', 'WeChat has approved it already.');
        default:
          return refuseClosed(d, command, 'it cannot be submitted.');
      }

    case 'auditSubmitted':
      switch (state) {
        case 'submitting':
          return { to: 'auditing', auditId: command.auditId, patch: { audit: newAudit(command.auditId, ctx.at) } };
        case 'configuring':
        case 'building':
        case 'built':
          return refuse(d, command, 'DEPLOYMENT_INVALID_TRANSITION', 'it was not being submitted.');
        case 'cancelled':
        case 'voided':
        case 'failed':
          return overtaken(d);
        default:
          if (d.audit?.auditId === command.auditId) return state === 'auditing' ? { ignore: 'repeat' } : overtaken(d);
          return refuse(d, command, 'DEPLOYMENT_AUDIT_MISMATCH', `its audit is ${d.audit?.auditId ?? 'unknown'}, not ${command.auditId}.`);
      }

    case 'auditApproved':
    case 'auditRejected':
    case 'auditDelayed':
      return auditResult(d, command, ctx.at);

    case 'withdraw':
      if (state === 'auditing' && d.audit) {
        if (command.auditId !== undefined && command.auditId !== d.audit.auditId) return { ignore: 'stale' };
        return { to: 'withdrawn', auditId: d.audit.auditId, patch: { audit: { ...d.audit, decidedAt: ctx.at } } };
      }
      if (state === 'withdrawn') {
        return { ignore: command.auditId === undefined || command.auditId === d.audit?.auditId ? 'repeat' : 'stale' };
      }
      if (isTerminal(d) || state === 'failed') return refuseClosed(d, command, '');
      return refuse(
        d,
        command,
        'DEPLOYMENT_NOT_IN_REVIEW',
        state === 'submitting' ? 'the submission is still in progress.' : 'no audit is in progress.',
      );

    case 'startRelease':
      switch (state) {
        case 'approved':
          return { to: 'releasing' };
        case 'releasing':
        case 'released':
          return { ignore: 'repeat' };
        case 'configuring':
        case 'building':
        case 'built':
        case 'submitting':
        case 'auditing':
        case 'rejected':
        case 'withdrawn':
          return refuse(d, command, 'DEPLOYMENT_NOT_APPROVED', 'only a version WeChat has approved can be released.');
        default:
          return refuseClosed(d, command, 'it cannot be released.');
      }

    case 'released':
    case 'releaseAlreadyDone':
      switch (state) {
        case 'releasing':
          return command.type === 'released'
            ? { to: 'released', patch: { releasedAt: ctx.at } }
            : {
                to: 'released',
                errcode: 85052,
                cause: 'WeChat reports this version already released (85052)',
                patch: { releasedAt: ctx.at },
              };
        case 'released':
          return { ignore: 'repeat' };
        case 'approved':
          return refuse(d, command, 'DEPLOYMENT_INVALID_TRANSITION', 'the release was not started.');
        case 'rolled-back':
        case 'cancelled':
        case 'voided':
        case 'failed':
          return overtaken(d);
        default:
          return refuse(d, command, 'DEPLOYMENT_NOT_APPROVED', 'only a version WeChat has approved can be released.');
      }

    case 'rollback':
      if (state === 'released') return { to: 'rolled-back' };
      if (state === 'rolled-back') return { ignore: 'repeat' };
      return refuse(d, command, 'DEPLOYMENT_NOT_RELEASED', 'only the released version can be rolled back.');

    case 'fail':
      if (state === 'failed') return { ignore: 'repeat' };
      if (!isInFlightState(state)) return overtaken(d);
      // Nothing of ours runs while WeChat reviews: a poll it refused is looked at again later (header).
      if (state === 'auditing') return { ignore: 'stale' };
      return {
        to: 'failed',
        cause: command.reason,
        ...(command.errcode === undefined ? {} : { errcode: command.errcode }),
        patch: {
          failure: {
            at: ctx.at,
            reason: command.reason,
            retryable: command.retryable,
            errcode: command.errcode ?? null,
            from: state,
            step: d.buildStep,
          },
        },
      };

    case 'retry':
      if (state === 'failed' && d.failure?.retryable) {
        const { from, step } = d.failure;
        return from === 'building' ? { to: from, step: step ?? 'commit' } : { to: from };
      }
      if (isInFlight(d)) return { ignore: 'repeat' };
      return refuse(
        d,
        command,
        'DEPLOYMENT_NOT_RETRYABLE',
        state === 'failed' ? 'its failure cannot be retried; build a new deployment.' : 'it has not failed.',
      );

    case 'void':
      if (state === 'voided') return { ignore: 'repeat' };
      if (isTerminal(d)) return { ignore: 'closed' };
      return { to: 'voided', cause: command.reason, undoAudit: auditMayBeLive(d), ...closingAudit(command.auditId) };
  }
};

/**
 * Applies `command` to `deployment`. Returns the new deployment with one more history entry and the WeChat calls
 * to make (`changed: true`), or the same deployment and why nothing happened (`changed: false`). Throws
 * `InvalidTransitionError` for a command the current state forbids.
 */
export const transition = (deployment: Deployment, command: DeploymentCommand, ctx: TransitionContext): TransitionResult => {
  const decision = decide(deployment, command, ctx);
  if ('ignore' in decision) return { deployment, changed: false, effects: NO_EFFECTS, ignored: decision.ignore };

  const entry: HistoryEntry = {
    at: ctx.at,
    from: deployment.state,
    to: decision.to,
    ...(decision.step ? { step: decision.step } : {}),
    command: command.type,
    actor: ctx.actor,
    ...(decision.cause === undefined ? {} : { cause: decision.cause }),
    ...(decision.errcode === undefined ? {} : { errcode: decision.errcode }),
    ...(decision.auditId === undefined ? {} : { auditId: decision.auditId }),
  };
  const next: Deployment = {
    ...deployment,
    failure: null,
    ...decision.patch,
    state: decision.to,
    buildStep: decision.to === 'building' ? (decision.step ?? 'commit') : null,
    stateReason: decision.cause ?? null,
    nextPollAt: pollAtFor(decision.to, ctx.at, ctx.random),
    pollAttempts: 0,
    history: [...deployment.history, entry],
    // Instances' clocks differ a little; a document's updatedAt must not go backwards.
    updatedAt: Math.max(deployment.updatedAt, ctx.at),
  };

  const effects: Effects = {
    next: phaseOf(next) === phaseOf(deployment) ? null : pendingWork(next),
    undoAudit: decision.undoAudit === true,
  };
  return { deployment: next, changed: true, effects };
};

/** Whether `command` would change the deployment, without applying it: check before calling WeChat. */
export const wouldChange = (deployment: Deployment, command: DeploymentCommand, ctx: TransitionContext): boolean =>
  transition(deployment, command, ctx).changed;

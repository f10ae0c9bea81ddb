/**
 * The audit at WeChat, which keeps one per mini program and names none in its pushes or in `undocodeaudit`: whether
 * the latest one is this deployment's own (`ownsAudit`), adopting it, withdrawing it, and polling it.
 */
import { auditCommandOf, auditIdsOf, type Deployment, type DeploymentCommand, type LatestAudit, ownsAudit } from '../../domain/deployment';
import type { WeChatAppid } from '../../domain/ids';
import { ERRCODE, WeChatApiError } from '../../wechat/errcodes';
import type { LatestAuditStatusResponse } from '../../wechat/schemas';
import type { Services } from '../context';
import { callOf } from './leases';
import { type Applied, applyCommand, SYSTEM, type Versioned, WECHAT } from './state-changes';

type FoundAudit = LatestAudit & { reason: string | null; screenshots: string[] };

/** get_latest_auditstatus's answer, or null when the mini program never had an audit (85058). */
async function readLatestAudit(services: Services, appid: WeChatAppid, signal?: AbortSignal): Promise<LatestAuditStatusResponse | null> {
  try {
    return await services.wechat.client.getLatestAuditStatus(appid, callOf(signal));
  } catch (error) {
    if (error instanceof WeChatApiError && error.errcode === ERRCODE.NO_AUDIT) return null;
    throw error;
  }
}

const foundAudit = (latest: LatestAuditStatusResponse | null): FoundAudit | null =>
  latest === null
    ? null
    : {
        auditId: Number(latest.auditid),
        status: latest.status,
        submittedAt: latest.submit_audit_time === undefined ? null : latest.submit_audit_time * 1000,
        reason: latest.reason ?? null,
        screenshots: latest.screenshots,
      };

/** The latest audit of a mini program, or null when it never had one. */
const latestAuditOf = async (services: Services, appid: WeChatAppid, signal?: AbortSignal): Promise<FoundAudit | null> =>
  foundAudit(await readLatestAudit(services, appid, signal));

/**
 * Audit ids the mini program's other deployments recorded: none of them can be this deployment's submission. Only
 * an audit WeChat received moments ago gets this far (`ownsAudit`), so the most recent deployments are enough.
 */
async function auditIdsElsewhere(services: Services, deployment: Deployment): Promise<Set<number>> {
  const others = await services.db.deployments.find({
    where: { miniProgramAppid: deployment.miniProgramAppid },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit: 200,
  });
  return new Set(others.filter((o) => o.id !== deployment.id).flatMap((o) => auditIdsOf(o.data)));
}

const NONE: ReadonlySet<number> = new Set();

/** Whether `latest` is this deployment's own audit; the cheap checks first, the other deployments only if needed. */
async function isOwnAudit(services: Services, deployment: Deployment, latest: LatestAudit): Promise<boolean> {
  if (!ownsAudit(deployment, latest, NONE)) return false;
  // Under review, its own audit is the one it recorded; only an unrecorded submission could be another's.
  if (deployment.audit?.auditId === latest.auditId) return true;
  return ownsAudit(deployment, latest, await auditIdsElsewhere(services, deployment));
}

/**
 * A submitting deployment takes WeChat's latest audit as its own when it is (the submit's answer was lost), in
 * whatever state WeChat has it now — under review, delayed, or already decided. Returns the last change it made,
 * or null when it adopted nothing. `read`: WeChat's answer as the user's check has just read it (`HandOver`).
 */
export async function adoptOwnAudit(
  services: Services,
  deployment: Deployment,
  signal?: AbortSignal,
  read?: LatestAuditStatusResponse | null,
): Promise<Applied | null> {
  const latest = read === undefined ? await latestAuditOf(services, deployment.miniProgramAppid, signal) : foundAudit(read);
  if (!latest || !(await isOwnAudit(services, deployment, latest))) return null;
  // Withdrawn: nothing left to adopt, and submitting again is what the user asked for.
  if (latest.status === 3) return null;
  let applied: Applied | null = null;
  if (latest.status === 2 || latest.status === 4) {
    applied = await applyCommand(services, deployment.id, { type: 'auditSubmitted', auditId: latest.auditId }, SYSTEM);
  }
  const verdict = auditCommandOf(latest);
  if (verdict) applied = await applyCommand(services, deployment.id, verdict, WECHAT);
  return applied;
}

export interface Withdrawal {
  outcome: 'withdrawn' | 'not-under-review' | 'not-ours' | 'no-audit';
  /** This deployment's audit as found at WeChat, for its closing history entry (it may never have recorded it). */
  auditId?: number;
}

/**
 * Withdraws this deployment's audit at WeChat if it is still under review there; never another's (undocodeaudit
 * withdraws whatever is pending). Safe to repeat: an audit already decided or withdrawn needs nothing. WeChat's
 * refusals (87013: no undo left today) and unknown outcomes are thrown, for the caller to decide.
 */
export async function withdrawOwnAudit(services: Services, deployment: Deployment, signal?: AbortSignal): Promise<Withdrawal> {
  const latest = await latestAuditOf(services, deployment.miniProgramAppid, signal);
  if (!latest) return { outcome: 'no-audit' };
  if (!(await isOwnAudit(services, deployment, latest))) return { outcome: 'not-ours' };
  const { auditId } = latest;
  if (latest.status !== 2 && latest.status !== 4) return { outcome: 'not-under-review', auditId };
  try {
    await services.wechat.client.undoCodeAudit(deployment.miniProgramAppid, callOf(signal));
  } catch (error) {
    if (!decidedMeanwhile(error)) throw error;
    // Decided between the two calls: taken as such only once WeChat shows the decision.
    const now = await latestAuditOf(services, deployment.miniProgramAppid, signal);
    if (now?.auditId === auditId && now.status !== 2 && now.status !== 4) return { outcome: 'not-under-review', auditId };
    throw error;
  }
  return { outcome: 'withdrawn', auditId };
}

/**
 * WeChat's answers to `undocodeaudit` when nothing is under review any more: no audit, status forbids it, and 87012
 * "forbid revert this version release" for an audit already approved or rejected (staff answer, community thread
 * 0002423c6b85c083bd7a318fd5b800).
 */
const DECIDED_MEANWHILE: ReadonlySet<number> = new Set([
  ERRCODE.NO_VERSION_IN_AUDIT,
  ERRCODE.STATUS_FORBIDS_RELEASE,
  ERRCODE.CANNOT_REVERT,
]);

export const decidedMeanwhile = (error: unknown): error is WeChatApiError =>
  error instanceof WeChatApiError && DECIDED_MEANWHILE.has(error.errcode);

/** The closing command, carrying the audit found at WeChat when the deployment had not recorded it. */
export const closingWith = <C extends Extract<DeploymentCommand, { type: 'cancel' | 'void' }>>(
  cmd: C,
  deployment: Deployment,
  found: Withdrawal,
): C => (found.auditId !== undefined && found.auditId !== deployment.audit?.auditId ? { ...cmd, auditId: found.auditId } : cmd);

/**
 * Asks WeChat about the audit under review; a decision (or its withdrawal) is recorded, a delay once. `read`: the
 * deployment at its version as the worker read it, which the decision is recorded on.
 */
export async function pollAudit(
  services: Services,
  deployment: Deployment,
  signal?: AbortSignal,
  read?: Versioned,
): Promise<Applied | 'later'> {
  const auditId = deployment.audit?.auditId;
  if (auditId === undefined) return 'later';
  const answer = await services.wechat.client.getAuditStatus(deployment.miniProgramAppid, auditId, callOf(signal));
  const command = auditCommandOf({ auditId, status: answer.status, reason: answer.reason, screenshots: answer.screenshots });
  if (!command) return 'later';
  const applied = await applyCommand(services, deployment.id, command, WECHAT, read);
  // A decision this poll recorded is one no push had told of (a push would have recorded it first).
  if (applied.changed && command.type !== 'auditDelayed') services.metrics.record('audits_reconciled_by_poller', 1, {});
  // A delay is news once; after it the audit is still under review and is polled again later.
  return applied.changed && command.type !== 'auditDelayed' ? applied : 'later';
}

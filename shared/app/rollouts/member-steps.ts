/**
 * What the driver does to one member: start its deployment (or adopt a start a crash cut short), step its phased
 * release, revert a phase on abort, and turn a refusal into a failed member that frees its app.
 */
import type { Deployment } from '../../domain/deployment';
import { isOpenState } from '../../domain/deployment-states';
import { AppError, isAppError } from '../../domain/errors';
import type { DeploymentId } from '../../domain/ids';
import { nextPhasePercentage, type Rollout, type RolloutMember } from '../../domain/rollout';
import type { Stored } from '../../store/port';
import { ERRCODE, WeChatApiError } from '../../wechat/errcodes';
import { GRAY_RELEASE_STATUS } from '../../wechat/gray-release-schemas';
import type { Services } from '../context';
import {
  assertReleasable,
  cancelDeployment,
  DeploymentConflictError,
  latestDeploymentOf,
  releaseDeployment,
  startBuild,
} from '../deployments';
import { callOf } from '../deployments/leases';
import { applyMemberEvent, rolloutActor } from './store';

/**
 * One step of a member's phased release (grayrelease): the next share, or the full release once the last share's
 * time has passed (or WeChat completed the plan itself, on day 15). Returns true when the member is recorded and
 * needs no mirror of its deployment (still approved while phasing).
 */
export async function phaseStep(
  services: Services,
  rollout: Rollout,
  member: Stored<RolloutMember>,
  deploymentId: DeploymentId,
  signal?: AbortSignal,
): Promise<boolean> {
  const m = member.data;
  const appid = m.miniProgramAppid;
  if (appid === null) return true;
  const full = async () => {
    await refusedAsFailure(services, member, () =>
      releaseDeployment(services, m.accountId, deploymentId, rolloutActor(rollout.id), signal),
    );
    return false;
  };
  if (m.state === 'phasing') {
    // Watch the plan: the mini program's admin may have revoked it, or WeChat released it in full by itself.
    const plan = (await services.wechat.client.getGrayReleasePlan(appid, callOf(signal))).gray_release_plan;
    if (plan.status === GRAY_RELEASE_STATUS.deleted) {
      await applyMemberEvent(services, member.id, { type: 'phaseReverted', reason: 'the phased release was revoked at WeChat' });
      return true;
    }
    if (plan.status === GRAY_RELEASE_STATUS.completed) return full();
  }
  const percentage = nextPhasePercentage(rollout, m);
  if (percentage === null) return full();
  const deployment = (await services.db.deployments.get(deploymentId))?.data;
  if (!deployment) return true;
  try {
    // grayrelease puts the version live too: the release's own checks first. Raising a running plan's share puts
    // nothing new live: the filing, read from WeChat (two calls) when the plan started, is not read again; the
    // mini program must still be the app's.
    await assertReleasable(services, m.accountId, deployment, { link: true, filing: m.state !== 'phasing' }, signal);
    await services.wechat.client.grayRelease(appid, { gray_percentage: percentage }, callOf(signal));
  } catch (error) {
    // A first release must be in full (85079); a share already reached (a repeated step after a crash) is 85082.
    if (error instanceof WeChatApiError && error.errcode === ERRCODE.GRAY_NO_ONLINE_RELEASE) return full();
    if (!(error instanceof WeChatApiError && error.errcode === ERRCODE.GRAY_PERCENTAGE_NOT_HIGHER)) {
      if (!isRefusal(error)) throw error;
      await applyMemberEvent(services, member.id, { type: 'fail', reason: `phased release refused: ${error.message}` });
      return true;
    }
  }
  await applyMemberEvent(services, member.id, { type: 'phased', percentage });
  return true;
}

/** Abort during a phase: the users it reached go back to the version before (revertgrayrelease), and the app is freed. */
export async function revertPhase(services: Services, member: Stored<RolloutMember>, signal?: AbortSignal): Promise<void> {
  const m = member.data;
  if (m.miniProgramAppid === null || m.deploymentId === null) return;
  const plan = (await services.wechat.client.getGrayReleasePlan(m.miniProgramAppid, callOf(signal))).gray_release_plan;
  if (plan.status === GRAY_RELEASE_STATUS.running || plan.status === GRAY_RELEASE_STATUS.paused) {
    await services.wechat.client.revertGrayRelease(m.miniProgramAppid, callOf(signal));
  }
  await applyMemberEvent(services, member.id, { type: 'phaseReverted', reason: 'rollout aborted: phased release reverted' });
}

/** A refusal of ours or WeChat's for this member, as opposed to a passing failure (tried again next tick). */
const isRefusal = (error: unknown): error is AppError =>
  isAppError(error) &&
  !['unavailable', 'internal', 'rate-limited'].includes(error.category) &&
  !(error instanceof WeChatApiError && (error.kind === 'transient' || error.kind === 'token'));

/** A refusal of ours or WeChat's for this member (not a passing failure) fails the member and frees the app. */
export async function refusedAsFailure(services: Services, member: Stored<RolloutMember>, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!isRefusal(error)) throw error;
    // Failed first, then its deployment closed (so the app is free): the mirror keeps a failed member failed.
    await applyMemberEvent(services, member.id, { type: 'fail', reason: error.message });
    const deploymentId = member.data.deploymentId;
    if (deploymentId !== null && member.data.state !== 'approved') {
      const actor = rolloutActor(member.data.rolloutId);
      await cancelDeployment(services, member.data.accountId, deploymentId, actor, `rollout: ${error.message}`).catch((cause: unknown) => {
        services.log.warn('could not cancel a failed member’s deployment', { deploymentId, error: cause });
      });
    }
  }
}

/** Starts the member's deployment; the member once started (or its start adopted), else null. */
export async function startMember(
  services: Services,
  rollout: Rollout,
  member: Stored<RolloutMember>,
  signal?: AbortSignal,
): Promise<Stored<RolloutMember> | null> {
  const m = member.data;
  // The app's own deployment (the account's, or another rollout's) is open: wait for it, or skip the app.
  const latest = await latestDeploymentOf(services, m.appId);
  const previous = latest && (m.previousDeploymentIds as readonly string[]).includes(latest.id) ? latest : null;
  if (previous) {
    // A retried member's earlier attempt (rejected, or failed but retryable) still holds the app: close it.
    await cancelDeployment(services, m.accountId, previous.id, rolloutActor(rollout.id), 'rollout: retried with a new build').catch(
      (error: unknown) => {
        if (!(error instanceof AppError)) throw error;
      },
    );
  }
  // Read again only when the earlier attempt was just cancelled.
  const busy = busyWith(previous ? await latestDeploymentOf(services, m.appId) : latest);
  if (busy) {
    if (rollout.busyApps === 'skip') await applyMemberEvent(services, member.id, { type: 'skip', reason: `the app is busy: ${busy}` });
    else await applyMemberEvent(services, member.id, { type: 'wait', reason: `waiting for the app: ${busy}` });
    return null;
  }
  const intent = await applyMemberEvent(services, member.id, { type: 'start' });
  if (!intent?.changed) return null;
  try {
    const deployment = await startBuild(
      services,
      m.accountId,
      m.appId,
      { userVersion: rollout.userVersion, userDesc: rollout.userDesc || `rollout ${rollout.id}`, templateId: rollout.templateId },
      rolloutActor(rollout.id),
      signal,
    );
    return (await applyMemberEvent(services, member.id, { type: 'started', deploymentId: deployment.id }))?.stored ?? null;
  } catch (error) {
    if (error instanceof DeploymentConflictError && error.code === 'DEPLOYMENT_ALREADY_OPEN') {
      // Another start of this member got there first (its deployment is ours), or the app just became busy.
      const adopted = await adoptStart(services, rollout, member);
      if (adopted) return adopted;
      await applyMemberEvent(services, member.id, { type: 'wait', reason: `waiting for the app: ${error.message}` });
      return null;
    }
    if (isAppError(error) && error.category !== 'unavailable' && error.category !== 'internal') {
      await applyMemberEvent(services, member.id, { type: 'fail', reason: `${error.code}: ${error.message}` });
      return null;
    }
    // Unknown outcome (WeChat unreachable, the tick's end): the member stays starting and is adopted or restarted.
    throw error;
  }
}

/** What keeps the app from a new deployment now (its open deployment, by the one-open-deployment rule), or null. */
const busyWith = (latest: Deployment | null): string | null =>
  latest && isOpenState(latest.state, latest.failure) ? `deployment ${latest.id} is ${latest.state}` : null;

/**
 * A start whose outcome is unknown (its instance died, or the slot said the app was busy): the deployment this
 * rollout made for the app since the start began is the member's; none means it never got made.
 */
export async function adoptStart(
  services: Services,
  rollout: Rollout,
  member: Stored<RolloutMember>,
): Promise<Stored<RolloutMember> | null> {
  const since = (member.data.startingAt ?? member.data.updatedAt) - 60_000;
  const made = await services.db.deployments.find({
    where: { appId: member.data.appId, createdAt: { gte: since } },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit: 10,
  });
  const ours = made.find((d) => d.data.createdBy.kind === 'system' && d.data.createdBy.id === rolloutActor(rollout.id).id);
  if (ours && !member.data.previousDeploymentIds.includes(ours.data.id)) {
    return (await applyMemberEvent(services, member.id, { type: 'started', deploymentId: ours.data.id }))?.stored ?? null;
  }
  if (member.data.state === 'starting')
    await applyMemberEvent(services, member.id, { type: 'wait', reason: 'the start was interrupted; starting again' });
  return null;
}

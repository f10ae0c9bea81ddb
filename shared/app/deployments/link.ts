/**
 * Whether a deployment's app still holds its mini program, checked right before every act at WeChat: a worker step
 * that finds the link lost voids the deployment instead, a caller's command is refused.
 */

import type { App } from '../../domain/app';
import { auditMayBeLive, type Deployment, SUBMIT_CLOCK_SKEW_MS } from '../../domain/deployment';
import type { MiniProgram } from '../../domain/mini-program';
import type { Stored } from '../../store/port';
import type { Services } from '../context';
import { closingWith, type Withdrawal, withdrawOwnAudit } from './audits';
import { callOf } from './leases';
import { applyCommand, DeploymentConflictError, type StepOutcome, SYSTEM } from './state-changes';

export interface LinkLoss {
  reason: string;
  /** The platform still acts for the mini program (it serves another app now): its own audit can be withdrawn. */
  platformActs: boolean;
}

/**
 * Why the deployment may no longer act at WeChat, or null if it may: its app and its mini program must still point
 * at each other, and the mini program must not have revoked the platform. Otherwise the mini program serves
 * another app now — maybe another account's — and this deployment's code or release would land on it.
 * A mini program waiting for a new scan (`needs-reauth`) is still this app's: the step fails at WeChat and waits.
 */
export async function linkLoss(services: Services, deployment: Deployment): Promise<LinkLoss | null> {
  const link = await linkOf(services, deployment);
  return 'loss' in link ? link.loss : null;
}

/** The app and the mini program of a link that holds: what a step or a command's check reads of them. */
export interface Linked {
  app: App;
  miniProgram: MiniProgram;
}

/**
 * `linkLoss`, or the app and mini program it read when the link holds: a worker step that needs the app's settings
 * (or the mini program) uses that read. `mp`: the mini program as the caller has just read it.
 */
export async function linkOf(
  services: Services,
  deployment: Deployment,
  mp?: Stored<MiniProgram> | null,
): Promise<{ loss: LinkLoss } | Linked> {
  const [app, miniProgram] = await Promise.all([
    services.db.apps.get(deployment.appId),
    mp !== undefined ? mp : services.db.miniPrograms.get(deployment.miniProgramAppid),
  ]);
  if (!miniProgram || miniProgram.data.status === 'unauthorized') {
    return { loss: { reason: `the mini program ${deployment.miniProgramAppid} no longer authorizes this platform`, platformActs: false } };
  }
  if (!app || app.data.miniProgramAppid !== deployment.miniProgramAppid || miniProgram.data.linkedAppId !== deployment.appId) {
    return {
      loss: {
        reason: `the app ${deployment.appId} is no longer linked to the mini program ${deployment.miniProgramAppid}`,
        platformActs: miniProgram.data.status === 'authorized',
      },
    };
  }
  return { app: app.data, miniProgram: miniProgram.data };
}

/**
 * Closes a deployment that lost its mini program instead of acting, as the void at the time of the loss would have
 * (`voidLostDeployments`): its own audit is withdrawn when the platform still acts for the mini program, and a
 * release whose answer was lost before the loss counts as done — a deployment is never reported voided while its
 * version went live.
 */
export async function voidUnlinked(services: Services, deployment: Deployment, loss: LinkLoss, signal?: AbortSignal): Promise<StepOutcome> {
  if (deployment.state === 'releasing' && loss.platformActs && (await wentLive(services, deployment, signal))) {
    return applyCommand(services, deployment.id, { type: 'releaseAlreadyDone' }, SYSTEM);
  }
  let found: Withdrawal = { outcome: 'no-audit' };
  if (loss.platformActs && auditMayBeLive(deployment)) {
    try {
      found = await withdrawOwnAudit(services, deployment, signal);
    } catch (error) {
      // Cut by the caller's end: record nothing, so the next run withdraws the audit before voiding (voided now, a
      // live unrecorded audit would block the mini program's next submit until WeChat decides).
      if (signal?.aborted) return 'stopped';
      services.log.warn('could not withdraw the audit of a deployment that lost its mini program', { deploymentId: deployment.id, error });
    }
  }
  services.log.warn('deployment voided before acting: its app lost the mini program', {
    deploymentId: deployment.id,
    appId: deployment.appId,
    miniProgramAppid: deployment.miniProgramAppid,
  });
  const closing = closingWith({ type: 'void', reason: `${loss.reason}: nothing more was done at WeChat` }, deployment, found);
  return applyCommand(services, deployment.id, closing, SYSTEM);
}

/** Whether the live version is this deployment's, released since it started releasing (a release answer lost). */
async function wentLive(services: Services, deployment: Deployment, signal?: AbortSignal): Promise<boolean> {
  const live = (await services.wechat.client.getVersionInfo(deployment.miniProgramAppid, callOf(signal))).release_info;
  const since = deployment.history.findLast((entry) => entry.to === 'releasing')?.at;
  if (!live || since === undefined || live.release_version !== deployment.userVersion) return false;
  return live.release_time === undefined || live.release_time * 1000 >= since - SUBMIT_CLOCK_SKEW_MS;
}

/**
 * `linkLoss` for a caller's command: refused, with the reason, rather than voided. The deployment's audit, if any,
 * is not the code the mini program's app would publish now. Answers what it read; `mp`: the mini program as the
 * caller has just read it.
 */
export async function assertStillLinked(services: Services, deployment: Deployment, mp?: Stored<MiniProgram> | null): Promise<Linked> {
  const link = await linkOf(services, deployment, mp);
  if (!('loss' in link)) return link;
  throw new DeploymentConflictError(
    'DEPLOYMENT_APP_UNLINKED',
    `${link.loss.reason}: this deployment cannot go further; authorize the mini program for the app again and build a new deployment`,
    { deploymentId: deployment.id, appId: deployment.appId, miniProgramAppid: deployment.miniProgramAppid },
  );
}

/**
 * Unbinding a mini program from an account, and voiding the open deployments of a mini program that left its app
 * (unbind, unauthorized, another app authorized): each closed under its lease, its own audit withdrawn first.
 */
import { primaryOf, unbindPrimary } from '../../domain/account';
import { unlinkApp } from '../../domain/app';
import type { Actor } from '../../domain/common';
import { auditMayBeLive, isTerminal } from '../../domain/deployment';
import type { AccountId, AppId, WeChatAppid } from '../../domain/ids';
import { unlinkMiniProgram } from '../../domain/mini-program';
import type { Write } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import { getAccount, getMiniProgram } from '../catalog';
import type { Services } from '../context';
import { commitWithEvents, miniProgramWriteEvents } from '../webhooks/outbox';
import { closingWith, type Withdrawal, withdrawOwnAudit } from './audits';
import { acquireWaiting, type DeploymentLease } from './leases';
import { findOpen } from './slots';
import { applyCommand, DeploymentConflictError, readDeployment } from './state-changes';
import { runSteps } from './worker';

/**
 * Closes every open deployment of a mini program, undoing a live audit first when asked (unbind). Each one is
 * closed under its lease, so it never happens while another instance is calling WeChat for it; a release already
 * under way is finished first when asked (unbind), since it may have reached WeChat — a deployment is never
 * reported voided while its version went live. One whose lease stays busy does not stop the others: they are
 * closed, then DEPLOYMENT_BUSY is thrown for the caller to try again (the busy one's worker re-checks the link
 * before its next call at WeChat, `linkLoss`).
 */
export async function voidDeploymentsOf(
  services: Services,
  appid: WeChatAppid,
  reason: string,
  actor: Actor,
  options: { undoAudit: boolean; finishReleases?: boolean /** Only this app's deployments. */; appId?: AppId },
): Promise<number> {
  const open = await findOpen(services, { miniProgramAppid: appid, ...(options.appId === undefined ? {} : { appId: options.appId }) }, 100);
  let voided = 0;
  let busy: unknown = null;
  for (const candidate of open) {
    let lease: DeploymentLease;
    try {
      lease = await acquireWaiting(services, candidate.id, 10_000);
    } catch (error) {
      busy ??= error;
      continue;
    }
    try {
      let deployment = (await readDeployment(services, candidate.id)).data;
      if (deployment.state === 'releasing' && options.finishReleases) deployment = await runSteps(services, deployment.id);
      if (isTerminal(deployment)) continue;
      let found: Withdrawal = { outcome: 'no-audit' };
      if (options.undoAudit && auditMayBeLive(deployment)) {
        try {
          found = await withdrawOwnAudit(services, deployment);
        } catch (error) {
          // The deployment is voided whatever WeChat says; the audit, if it survives, can never be released by us.
          services.log.warn('could not withdraw the audit of a voided deployment', { deploymentId: deployment.id, error });
        }
      }
      const applied = await applyCommand(services, deployment.id, closingWith({ type: 'void', reason }, deployment, found), actor);
      if (applied.changed) voided += 1;
    } finally {
      await lease.release();
    }
  }
  if (busy !== null) throw busy;
  return voided;
}

export const PRIMARY_UNBIND_WARNING =
  "This was the account's primary mini program: the account's other mini programs cannot publish until a primary mini program is bound again.";

export async function unbindMiniProgram(
  services: Services,
  accountId: AccountId,
  appid: string,
  options: { force: boolean },
  actor: Actor,
): Promise<{ appid: string; voided: number; wasPrimary: boolean; warning: string | null }> {
  const mp = await getMiniProgram(services, accountId, appid);
  const account = await getAccount(services, accountId);
  const wasPrimary = primaryOf(account.data)?.appid === appid;
  if (wasPrimary && !options.force) {
    throw new DeploymentConflictError('PRIMARY_UNBIND_NEEDS_FORCE', `${PRIMARY_UNBIND_WARNING} Send force: true to unbind it anyway.`, {
      appid,
    });
  }
  const voided = await voidDeploymentsOf(services, mp.data.appid, 'the mini program was unbound', actor, {
    undoAudit: true,
    finishReleases: true,
  });
  // The mini program, its app and the account's primary change in one batch, read again after a lost race.
  await retryOnConflict(`unbind mini program ${appid}`, async () => {
    const current = await services.db.miniPrograms.get(appid);
    const latestAccount = await getAccount(services, accountId);
    if (!current) return;
    const at = services.clock();
    const { miniProgram, displaced } = unlinkMiniProgram(current.data, 'unbound', { at, actor });
    const writes: Write[] = [];
    if (displaced) {
      const app = await services.db.apps.get(displaced.appId);
      if (app && app.data.miniProgramAppid === appid)
        writes.push(services.db.apps.updateWrite(app.id, app.version, unlinkApp(app.data, displaced.loss)));
    }
    if (primaryOf(latestAccount.data)?.appid === appid) {
      const unbound = unbindPrimary(latestAccount.data, at, 'unbound through the API (force: true)');
      writes.push(services.db.accounts.updateWrite(latestAccount.id, latestAccount.version, unbound));
    }
    if (miniProgram !== current.data) writes.push(services.db.miniPrograms.updateWrite(appid, current.version, miniProgram));
    if (writes.length > 0)
      await commitWithEvents(services.store, writes, miniProgramWriteEvents(services.randomBytes, current, miniProgram, at));
  });
  return { appid, voided, wasPrimary, warning: wasPrimary ? PRIMARY_UNBIND_WARNING : null };
}

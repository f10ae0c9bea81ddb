/**
 * WeChat's audit pushes (weapp_audit_success, _fail, _delay): they update the mini program's deployment under review
 * at once, and adopt the audit for one whose submit's answer was lost.
 */
import { type AuditVerdict, auditCommandOf, type DeploymentCommand } from '../../domain/deployment';
import type { WeChatAppid } from '../../domain/ids';
import type { Services } from '../context';
import { adoptOwnAudit } from './audits';
import { acquireWaiting, type DeploymentLease } from './leases';
import { applyCommand, DeploymentConflictError, readDeployment, WECHAT } from './state-changes';

export interface AuditEvent {
  type: 'weapp_audit_success' | 'weapp_audit_fail' | 'weapp_audit_delay';
  reason?: string;
  screenshots?: readonly string[];
}

/** The audit status each push reports (get_auditstatus's numbering). */
const PUSH_STATUS: Readonly<Record<AuditEvent['type'], AuditVerdict['status']>> = {
  weapp_audit_success: 0,
  weapp_audit_fail: 1,
  weapp_audit_delay: 4,
};

/**
 * An audit push updates the mini program's deployment under review at once. Pushes carry no audit id: one under
 * review takes it as is; one still submitting (the submit's answer was lost, or has not been recorded yet) asks
 * WeChat for its latest audit and adopts it if it is its own — the push is recorded as processed and never comes
 * again, so ignoring it would leave the deployment to submit a second audit.
 */
export async function handleAuditEvent(services: Services, appid: WeChatAppid, event: AuditEvent): Promise<string> {
  const candidates = await services.db.deployments.find({
    where: { miniProgramAppid: appid, state: { in: ['submitting', 'auditing'] } },
    limit: 5,
  });
  if (candidates.length === 0) return 'no deployment under review';
  const cmd = auditCommandOf({ status: PUSH_STATUS[event.type], reason: event.reason, screenshots: event.screenshots });
  if (!cmd) return 'still under review';
  const results: string[] = [];
  for (const candidate of candidates) {
    if (candidate.data.state === 'submitting') {
      results.push(`${candidate.id}: ${await reconcileSubmitting(services, candidate.id, cmd)}`);
      continue;
    }
    const applied = await applyCommand(services, candidate.id, cmd, WECHAT);
    results.push(`${candidate.id}: ${applied.changed ? applied.deployment.state : 'unchanged'}`);
  }
  return results.join('; ');
}

/** A push for a submitting deployment, under its lease (a worker may be recording the submit's answer right now). */
async function reconcileSubmitting(services: Services, id: string, cmd: DeploymentCommand): Promise<string> {
  let lease: DeploymentLease;
  try {
    // WeChat waits 5 s for the answer to a push.
    lease = await acquireWaiting(services, id, 2_000);
  } catch (error) {
    if (error instanceof DeploymentConflictError && error.code === 'DEPLOYMENT_BUSY')
      return 'busy; the worker submitting it records the audit';
    throw error;
  }
  try {
    const deployment = (await readDeployment(services, id)).data;
    if (deployment.state === 'auditing') {
      const applied = await applyCommand(services, id, cmd, WECHAT);
      return applied.changed ? applied.deployment.state : 'unchanged';
    }
    if (deployment.state !== 'submitting') return `unchanged (${deployment.state})`;
    try {
      if ((await adoptOwnAudit(services, deployment)) === null) return 'unchanged (the latest audit is not its own)';
    } catch (error) {
      // The poller resumes the submit, and the submit adopts the audit first: the push is not the only way there.
      services.log.warn('could not look up the audit a push is about', { deploymentId: id, error });
      return 'unchanged (lookup failed; the poller reconciles)';
    }
    return (await readDeployment(services, id)).data.state;
  } finally {
    await lease.release();
  }
}

/**
 * Recording a deployment's state: every change is `transition` plus a compare-and-set of the document, and only the
 * writer whose change won acts on its `effects` (docs/pipeline.md). Also the poll-time changes that are no transition.
 */
import type { Actor } from '../../domain/common';
import {
  type Deployment,
  type DeploymentCommand,
  type Effects,
  IN_FLIGHT_STATES,
  NO_EFFECTS,
  pollLater,
  pollNow,
  type TransitionResult,
  transition,
} from '../../domain/deployment';
import { AppError, ConflictError, NotFoundError } from '../../domain/errors';
import type { AccountId, AppId, WeChatAppid } from '../../domain/ids';
import { deploymentStateEvents } from '../../domain/webhooks/state-changes';
import type { Stored } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import type { Services } from '../context';
import { commitWithEvents } from '../webhooks/outbox';

/** The actor of the changes the pipeline makes by itself. */
export const SYSTEM: Actor = { kind: 'system' };

/** The actor of what WeChat decided (an audit's outcome, from a poll or a push). */
export const WECHAT: Actor = { kind: 'wechat' };

export class DeploymentConflictError extends AppError {
  readonly code: string;
  readonly category = 'conflict' as const;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message, details ? { details } : {});
    this.code = code;
  }
}

export interface Applied {
  deployment: Deployment;
  version: number;
  changed: boolean;
  effects: Effects;
}

/**
 * How a worker step ended: the change it recorded; `later` (nothing to record yet: the poller looks again); or
 * `stopped` (the caller's signal ended the run: nothing is recorded and the deployment stays due).
 */
export type StepOutcome = Applied | 'later' | 'stopped';

/** A deployment as read (or written) at a version. */
export type Versioned = Pick<Stored<Deployment>, 'version' | 'data'>;

/**
 * One transition, stored with compare-and-set; on a lost race it re-reads and decides again. `read`: the deployment
 * as the caller has just read or written it, decided on without reading it again; when that copy cannot tell (the
 * command refused or changing nothing there: the copy may be behind) or another writer changed the deployment
 * since, it is decided again on the deployment read afresh.
 */
export async function applyCommand(
  services: Services,
  id: string,
  command: DeploymentCommand,
  actor: Actor,
  read?: Versioned,
): Promise<Applied> {
  if (read !== undefined) {
    const applied = await applyOnCopy(services, id, command, actor, read);
    if (applied) return applied;
  }
  return retryOnConflict(`apply ${command.type} to deployment ${id}`, async () => {
    const stored = await readDeployment(services, id);
    const result = transition(stored.data, command, { at: services.clock(), actor, random: services.random });
    if (!result.changed) return { deployment: stored.data, version: stored.version, changed: false, effects: NO_EFFECTS };
    return record(services, id, command, stored, result);
  });
}

/** The change decided on the caller's copy and written on its version; null when the copy cannot tell or lost. */
async function applyOnCopy(
  services: Services,
  id: string,
  command: DeploymentCommand,
  actor: Actor,
  read: Versioned,
): Promise<Applied | null> {
  let result: TransitionResult;
  try {
    result = transition(read.data, command, { at: services.clock(), actor, random: services.random });
  } catch (error) {
    if (error instanceof AppError) return null;
    throw error;
  }
  if (!result.changed) return null;
  try {
    return await record(services, id, command, read, result);
  } catch (error) {
    if (error instanceof ConflictError) return null;
    throw error;
  }
}

/** Writes a change by compare-and-set on `stored`'s version (`ConflictError` when it moved on). */
async function record(
  services: Services,
  id: string,
  command: DeploymentCommand,
  stored: Versioned,
  result: Extract<TransitionResult, { changed: true }>,
): Promise<Applied> {
  // The change and the webhook events reporting it, in one batch (the outbox): neither is ever stored alone.
  await commitWithEvents(
    services.store,
    [services.db.deployments.updateWrite(id, stored.version, result.deployment)],
    deploymentStateEvents(stored.data, result.deployment, services.randomBytes),
  );
  recordAuditDecision(services, command, result.deployment);
  return { deployment: result.deployment, version: stored.version + 1, changed: true, effects: result.effects };
}

/**
 * An audit decided (by a push or a poll, whichever recorded it: only the winning write gets here): its latency from
 * the submit and the decision by template, for rejection rates. The template id is a small set, the app's choice.
 */
function recordAuditDecision(services: Pick<Services, 'metrics'>, command: DeploymentCommand, after: Deployment): void {
  if (command.type !== 'auditApproved' && command.type !== 'auditRejected') return;
  const audit = after.audit;
  if (audit?.decidedAt == null) return;
  const decision = command.type === 'auditApproved' ? 'approved' : 'rejected';
  services.metrics.record('audit_decisions', 1, { template: String(after.templateId), decision });
  services.metrics.record('audit_latency', (audit.decidedAt - audit.submittedAt) / 1000, { decision });
}

/** An account's deployment; another account's is not found, as one that does not exist. */
export async function getDeployment(services: Services, accountId: AccountId, id: string): Promise<Stored<Deployment>> {
  const stored = await services.db.deployments.get(id);
  if (!stored || stored.data.accountId !== accountId) {
    throw new NotFoundError(`deployment ${id} not found`, { code: 'DEPLOYMENT_NOT_FOUND', field: 'deploymentId' });
  }
  return stored;
}

export async function readDeployment(services: Services, id: string): Promise<Stored<Deployment>> {
  const stored = await services.db.deployments.get(id);
  if (!stored) throw new NotFoundError(`deployment ${id} not found`, { code: 'DEPLOYMENT_NOT_FOUND' });
  return stored;
}

/**
 * The mini program was authorized again: deployments that waited for it are looked at by the next poller tick
 * rather than after their backoff (up to 30 minutes). Only those of `appId`, the app the mini program serves now:
 * another app's deployments there lost it with this authorization, and hurrying them would only race their void.
 */
export async function resumeDeploymentsOf(services: Services, appid: WeChatAppid, appId: AppId | null): Promise<number> {
  if (appId === null) return 0;
  const waiting = await services.db.deployments.find({
    where: { miniProgramAppid: appid, appId, state: { in: [...IN_FLIGHT_STATES] } },
    limit: 100,
  });
  let resumed = 0;
  for (const stored of waiting) {
    const next = pollNow(stored.data, services.clock());
    if (next === stored.data) continue;
    // One try, no retry: a conflict means it changed meanwhile, and whoever changed it scheduled it.
    if (await writeUnlessChanged(services, stored, next)) resumed += 1;
  }
  return resumed;
}

/** A step found nothing to record yet: look again a little later each time. Not a transition: no history. */
export async function postpone(services: Services, stored: Pick<Stored<Deployment>, 'id' | 'version' | 'data'>): Promise<void> {
  // One try, no retry: somebody changed it meanwhile, and their write wins.
  await writeUnlessChanged(services, stored, pollLater(stored.data, { at: services.clock(), random: services.random }));
}

/** Writes `next` if the deployment is still at the version read; false when another writer got there first. */
async function writeUnlessChanged(
  services: Services,
  stored: Pick<Stored<Deployment>, 'id' | 'version'>,
  next: Deployment,
): Promise<boolean> {
  try {
    await services.db.deployments.update(stored.id, stored.version, next);
    return true;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    return false;
  }
}

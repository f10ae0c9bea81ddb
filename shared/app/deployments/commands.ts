/**
 * What an account asks of its deployments through the API: cancel, submit, retry, release, undo or speed up the
 * audit, roll back, bind testers later. Each is refused when the deployment's app no longer holds its mini program.
 */
import type { Actor } from '../../domain/common';
import { type Deployment, type DeploymentCommand, transition, withTestersBound, wouldChange } from '../../domain/deployment';
import { NotFoundError, ValidationError } from '../../domain/errors';
import type { AccountId } from '../../domain/ids';
import { whoCanPublish } from '../../domain/rules';
import type { Stored } from '../../store/port';
import { updateWithRetry } from '../../store/retry';
import { ERRCODE, WeChatApiError } from '../../wechat/errcodes';
import { getAccount } from '../catalog';
import type { Services } from '../context';
import { assertReadyToRelease, assertReadyToSubmit, type HandOver } from '../readiness';
import { closingWith, decidedMeanwhile, pollAudit, withdrawOwnAudit } from './audits';
import { acquireWaiting } from './leases';
import { assertStillLinked } from './link';
import { applyCommand, DeploymentConflictError, getDeployment, readDeployment } from './state-changes';
import { bindTesters } from './steps';
import { advance } from './worker';

const MAX_TESTERS = 100;

/** Commands that make WeChat act on the mini program's code: only for the app the mini program serves now. */
const LINKED_ONLY: ReadonlySet<DeploymentCommand['type']> = new Set(['submitAudit', 'retry', 'startRelease']);

const undoesAudit = (deployment: Deployment, cmd: DeploymentCommand, actor: Actor, at: number): boolean =>
  transition(deployment, cmd, { at, actor }).effects.undoAudit;

/**
 * Runs a command for an account; if it starts WeChat work, does that work now (the poller is the fallback). An
 * audit poll is not such work: it waits for its time.
 */
async function runCommand(
  services: Services,
  accountId: AccountId,
  id: string,
  cmd: DeploymentCommand,
  actor: Actor,
  signal?: AbortSignal,
): Promise<Deployment> {
  return runOn(services, await getDeployment(services, accountId, id), cmd, actor, signal, { linkChecked: false });
}

/** What a command's own check did: checked the link itself; read WeChat for the step it starts. */
interface Checked {
  linkChecked: boolean;
  handOver?: HandOver | undefined;
}

/**
 * `runCommand` on the deployment as the caller has just read it (the command itself is applied to the stored one
 * by compare-and-set); `linkChecked`: the caller has just checked that its app holds the mini program; `handOver`:
 * what its readiness check read, for the step the command starts.
 */
async function runOn(
  services: Services,
  stored: Stored<Deployment>,
  cmd: DeploymentCommand,
  actor: Actor,
  signal: AbortSignal | undefined,
  options: Checked,
): Promise<Deployment> {
  const { id } = stored;
  const at = services.clock();
  if (LINKED_ONLY.has(cmd.type) && !options.linkChecked && wouldChange(stored.data, cmd, { at, actor }))
    await assertStillLinked(services, stored.data);
  if (undoesAudit(stored.data, cmd, actor, at)) return withdrawThenApply(services, id, cmd, actor);
  const applied = await applyCommand(services, id, cmd, actor, stored);
  const { next } = applied.effects;
  if (applied.changed && next !== null && next !== 'pollAudit') return advance(services, id, signal, options.handOver);
  return applied.deployment;
}

/**
 * A command whose effect is undoing the audit (cancelling a deployment that failed around its audit): WeChat first,
 * then the record, under the deployment's lease so no worker talks to WeChat for it meanwhile. A refused withdrawal
 * (87013: no undo left today) leaves the deployment as it was, for the user to cancel again later: cancelled with
 * its audit still live, the version could be approved with nobody to see it.
 */
async function withdrawThenApply(services: Services, id: string, cmd: DeploymentCommand, actor: Actor): Promise<Deployment> {
  const lease = await acquireWaiting(services, id, 10_000);
  try {
    const current = await readDeployment(services, id);
    let closing = cmd;
    if (cmd.type === 'cancel' && undoesAudit(current.data, cmd, actor, services.clock())) {
      const found = await withdrawOwnAudit(services, current.data);
      services.log.info('audit of a closing deployment', { deploymentId: id, ...found });
      closing = closingWith(cmd, current.data, found);
    }
    return (await applyCommand(services, id, closing, actor, current)).deployment;
  } finally {
    await lease.release();
  }
}

export const cancelDeployment = (services: Services, accountId: AccountId, id: string, actor: Actor, reason = 'cancelled by the account') =>
  runCommand(services, accountId, id, { type: 'cancel', reason }, actor);

/**
 * Runs a submit or a release after `check`, which is told whether the command would start anything: the readiness
 * checks read WeChat only then, and a repeated submit or release is answered as the deployment stands. The
 * deployment is read once for both; `check` answers whether it checked the link (`assertStillLinked`) itself, and
 * what it read for the step (the step, run next in this invocation, does not read it again).
 */
async function runChecked(
  services: Services,
  accountId: AccountId,
  id: string,
  type: 'submitAudit' | 'startRelease',
  actor: Actor,
  signal: AbortSignal | undefined,
  check: (deployment: Deployment, starts: boolean) => Promise<Checked>,
): Promise<Deployment> {
  const stored = await getDeployment(services, accountId, id);
  const checked = await check(stored.data, wouldChange(stored.data, { type }, { at: services.clock(), actor }));
  return runOn(services, stored, { type }, actor, signal, checked);
}

export const submitForAudit = (services: Services, accountId: AccountId, id: string, actor: Actor, signal?: AbortSignal) =>
  runChecked(services, accountId, id, 'submitAudit', actor, signal, async (deployment, starts) => {
    if (!starts) return { linkChecked: false };
    // The link first (a lost one is refused with its own words), then the whole readiness list before WeChat's
    // submit, not the first errcode WeChat would answer, on the app and mini program the link check read.
    const linked = await assertStillLinked(services, deployment);
    return { linkChecked: true, handOver: await assertReadyToSubmit(services, deployment, linked, signal) };
  });

export const retryDeployment = (services: Services, accountId: AccountId, id: string, actor: Actor, signal?: AbortSignal) =>
  runCommand(services, accountId, id, { type: 'retry' }, actor, signal);

/** Release: only an approved deployment, only while the account may publish. Already released counts as done. */
export const releaseDeployment = (services: Services, accountId: AccountId, id: string, actor: Actor, signal?: AbortSignal) =>
  runChecked(services, accountId, id, 'startRelease', actor, signal, async (deployment, starts) => ({
    linkChecked: starts,
    handOver: await assertReleasable(services, accountId, deployment, { link: starts, filing: starts }, signal),
  }));

/**
 * What a release checks before it starts, also before a rollout's phased release (grayrelease puts the version live
 * too): the mini program is there, the account may publish, and with `link` it is still the app's, with `filing` it
 * is filed. Answers the filing status found not blocking, for the release step (none when not read).
 */
export async function assertReleasable(
  services: Services,
  accountId: AccountId,
  deployment: Deployment,
  check: { link: boolean; filing: boolean },
  signal?: AbortSignal,
): Promise<HandOver | undefined> {
  const account = await getAccount(services, accountId);
  const mp = await services.db.miniPrograms.get(deployment.miniProgramAppid);
  if (!mp) throw new NotFoundError('the deployment’s mini program is gone', { code: 'MINI_PROGRAM_NOT_FOUND' });
  // Here first (not in `runCommand`) so that the reason is the clearest one.
  if (check.link) await assertStillLinked(services, deployment, mp);
  const allowed = whoCanPublish(account.data, mp.data, services.config.requireSameSubject);
  if (!allowed.ok) throw allowed.error;
  // WeChat's answer to releasing an unfiled mini program is undocumented: its filing status is read first.
  return check.filing ? assertReadyToRelease(services, mp.data, signal) : undefined;
}

/**
 * WeChat first, then the record: a refused undo (87013 budget) must leave the audit as it was. Only while the app
 * holds the mini program: `undocodeaudit` withdraws whatever is under review, which would be the new app's audit.
 */
export async function undoAudit(services: Services, accountId: AccountId, id: string, actor: Actor): Promise<Deployment> {
  const stored = await getDeployment(services, accountId, id);
  const cmd: DeploymentCommand = { type: 'withdraw', ...(stored.data.audit ? { auditId: stored.data.audit.auditId } : {}) };
  if (!wouldChange(stored.data, cmd, { at: services.clock(), actor })) return (await applyCommand(services, id, cmd, actor)).deployment;
  await assertStillLinked(services, stored.data);
  try {
    await services.wechat.client.undoCodeAudit(stored.data.miniProgramAppid);
  } catch (error) {
    // WeChat decided before the withdrawal (its push not here yet): its decision is adopted, and the withdrawal is
    // then refused as for any decided audit (DEPLOYMENT_NOT_IN_REVIEW), the deployment showing what WeChat decided.
    if (!decidedMeanwhile(error) || (await pollAudit(services, stored.data)) === 'later') throw error;
  }
  return (await applyCommand(services, id, cmd, actor, stored)).deployment;
}

export async function speedUpAudit(services: Services, accountId: AccountId, id: string): Promise<Deployment> {
  const stored = await getDeployment(services, accountId, id);
  if (stored.data.state !== 'auditing' || !stored.data.audit) {
    throw new DeploymentConflictError('DEPLOYMENT_NOT_IN_REVIEW', 'only a deployment under review can be sped up', {
      state: stored.data.state,
    });
  }
  await assertStillLinked(services, stored.data);
  await services.wechat.client.speedupAudit(stored.data.miniProgramAppid, stored.data.audit.auditId);
  return stored.data;
}

/** Only while the app holds the mini program: reverting it after another app released there would undo theirs. */
export async function rollbackDeployment(services: Services, accountId: AccountId, id: string, actor: Actor): Promise<Deployment> {
  const stored = await getDeployment(services, accountId, id);
  if (!wouldChange(stored.data, { type: 'rollback' }, { at: services.clock(), actor }))
    return (await applyCommand(services, id, { type: 'rollback' }, actor)).deployment;
  await assertStillLinked(services, stored.data);
  try {
    await services.wechat.client.revertCodeRelease(stored.data.miniProgramAppid);
  } catch (error) {
    if (error instanceof WeChatApiError && error.errcode === ERRCODE.CANNOT_REVERT) throw await rollbackRefusal(services, stored.data);
    throw error;
  }
  return (await applyCommand(services, id, { type: 'rollback' }, actor, stored)).deployment;
}

/**
 * WeChat refuses a rollback (`CANNOT_REVERT`) when it has no version to go back to: the live one is the first released, or
 * was itself reached by a rollback — one rollback per release (doc revertcoderelease: 当前版本回退后，不能再调用版本
 * 回退接口). WeChat's answer does not say which; the mini program's deployments do: a rollback recorded after the
 * last release recorded is the second case.
 */
async function rollbackRefusal(services: Services, deployment: Deployment): Promise<DeploymentConflictError> {
  const deployments = await services.db.deployments.find({
    where: { miniProgramAppid: deployment.miniProgramAppid },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit: 200,
  });
  const lastAt = (state: Deployment['state']) =>
    Math.max(0, ...deployments.flatMap((o) => o.data.history.filter((entry) => entry.to === state).map((entry) => entry.at)));
  const details = { deploymentId: deployment.id, miniProgramAppid: deployment.miniProgramAppid, errcode: ERRCODE.CANNOT_REVERT };
  if (lastAt('rolled-back') > lastAt('released')) {
    return new DeploymentConflictError(
      'ROLLBACK_ALREADY_USED',
      `the mini program ${deployment.miniProgramAppid} was rolled back already, and WeChat allows one rollback per release: release a new version, which can then be rolled back`,
      details,
    );
  }
  return new DeploymentConflictError(
    'ROLLBACK_NO_PREVIOUS_VERSION',
    `WeChat has no earlier version of the mini program ${deployment.miniProgramAppid} to roll back to: a first release, or one whose previous version was not released through this platform, cannot be rolled back`,
    details,
  );
}

/**
 * Binds testers to a built deployment's mini program after the build: by default those WeChat refused then (see
 * `bindTesters`), once their cause is gone; or the ones given. Refused again, they stay listed with the new reason.
 */
export async function bindTestersLater(
  services: Services,
  accountId: AccountId,
  id: string,
  testers: readonly string[] | undefined,
  signal?: AbortSignal,
): Promise<Deployment> {
  const stored = await getDeployment(services, accountId, id);
  // Refused before WeChat is asked: not built yet, or closed.
  withTestersBound(stored.data, { bound: [], refused: [] }, services.clock());
  const wanted = [...new Set(testers ?? stored.data.refusedTesters.map((r) => r.wechatId))];
  if (wanted.length === 0) return stored.data;
  if (new Set([...stored.data.testers, ...wanted]).size > MAX_TESTERS) {
    throw new ValidationError(
      `a deployment has at most ${MAX_TESTERS} testers`,
      [{ path: 'body.testers', message: `at most ${MAX_TESTERS} testers in all` }],
      { code: 'TOO_MANY_TESTERS' },
    );
  }
  await assertStillLinked(services, stored.data);
  const result = await bindTesters(services, stored.data.miniProgramAppid, wanted, signal);
  const updated = await updateWithRetry(services.db.deployments, id, (current) => withTestersBound(current.data, result, services.clock()));
  if (!updated) throw new NotFoundError(`deployment ${id} not found`, { code: 'DEPLOYMENT_NOT_FOUND' });
  return updated.stored.data;
}

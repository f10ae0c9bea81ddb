/**
 * The rollout driver: what the poller's timer does for every rollout under way, after it polled the audits.
 *
 * How it stays correct with many pollers, crashes and retries:
 * - One driver per rollout at a time (a lease). Each tick first mirrors every member's deployment (audit pushes and
 *   users' commands changed those), so the gate acts on a decision at the latest one tick after it.
 * - Every member step is one compare-and-set of the member. A start is recorded first (`starting`, with its time),
 *   then made through the pipeline's own build entry (`startBuild`: every single-deployment rule holds, the app's
 *   build slot above all), then its deployment recorded. A start cut by a crash is found again: the deployment the
 *   rollout made for the app since (its `createdBy` names the rollout) is adopted, else the member is pending again.
 *   Two starts of one app cannot both build: the slot lets one through, and the other adopts its deployment.
 * - Submits, releases, cancels and withdrawals are the pipeline's commands, which are no-ops when repeated.
 * - The platform's audit quota is read before anything that will spend it; the rollout never goes below its
 *   reserve and says until when it waits (the quota renews monthly).
 * - Work per tick is bounded (starts per tick, the tick's budget): what is left is for the next tick.
 */
import { randomBytes } from 'node:crypto';
import {
  ACTIVE_MEMBER_STATES,
  ACTIVE_ROLLOUT_STATES,
  abortDone,
  countStates,
  gateDecision,
  type MemberEvent,
  type MemberStep,
  nextMemberStep,
  nextQuotaRenewal,
  type Rollout,
  type RolloutMember,
} from '../../domain/rollout';
import { sharedSignal } from '../../runtime/abort';
import { createLeases } from '../../store/leases';
import type { Stored } from '../../store/port';
import { WeChatApiError } from '../../wechat/errcodes';
import type { Services } from '../context';
import {
  cancelDeployment,
  DeploymentConflictError,
  releaseDeployment,
  rollbackDeployment,
  submitForAudit,
  undoAudit,
} from '../deployments';
import { callOf } from '../deployments/leases';
import { noteAuditQuota } from '../webhooks/quota';
import { adoptStart, phaseStep, refusedAsFailure, revertPhase, startMember } from './member-steps';
import { applyMemberEvent, applyRolloutCommand, membersOf, rolloutActor, rolloutCollections } from './store';

const LEASE_MS = 2 * 60_000;
/** Settled members whose deployment can still move (resubmitted by the account, rolled back, cancelled by abort). */
const MIRRORED_SETTLED: readonly RolloutMember['state'][] = ['rejected', 'withdrawn', 'released'];
/**
 * Members a driver works on at once: each start is a build of some 25 WeChat calls one after the other, each phase
 * step three or four. Waiting on WeChat is what a tick spends its time on (bench/rollout.ts): as many at once as
 * `pollDue` polls audits against the same WeChat.
 */
const CONCURRENCY = 16;

export interface RolloutTickSummary {
  rollouts: number;
  skippedBusy: number;
  started: number;
  submitted: number;
  released: number;
  synced: number;
  errors: number;
}

const emptySummary = (): RolloutTickSummary => ({
  rollouts: 0,
  skippedBusy: 0,
  started: 0,
  submitted: 0,
  released: 0,
  synced: 0,
  errors: 0,
});

/** One driver tick over every rollout under way, within `signal` (the poller's budget). */
export async function driveRollouts(services: Services, budget?: AbortSignal): Promise<RolloutTickSummary> {
  // Every concurrent WeChat call of the tick listens to it.
  const signal = budget ? sharedSignal(budget) : undefined;
  const summary = emptySummary();
  const { rollouts } = rolloutCollections(services);
  const open = await rollouts.find({ where: { state: { in: [...ACTIVE_ROLLOUT_STATES] } }, orderBy: { field: 'createdAt' }, limit: 1000 });
  const leases = createLeases(services.store, services.clock);
  for (const stored of open) {
    if (signal?.aborted) break;
    const lease = await leases.acquire(`rollout:${stored.id}`, randomBytes(6).toString('hex'), LEASE_MS);
    if (!lease) {
      summary.skippedBusy += 1;
      continue;
    }
    try {
      summary.rollouts += 1;
      await driveRollout(services, stored.id, summary, signal);
    } catch (error) {
      summary.errors += 1;
      services.log.error('rollout tick failed', { rolloutId: stored.id, error });
    } finally {
      await leases.release(lease);
    }
  }
  return summary;
}

async function driveRollout(services: Services, id: string, summary: RolloutTickSummary, signal?: AbortSignal): Promise<void> {
  const { rollouts } = rolloutCollections(services);
  const rollout = (await rollouts.get(id))?.data;
  if (!rollout) return;
  // 1. What the pipeline did since: each member with a deployment mirrors it (the list is kept up to date with
  // what the mirror wrote, not read again: a rollout's members are read once for the steps and once for the gate).
  const members = await membersOf(services, id);
  for (const [i, m] of members.entries()) {
    if (m.data.deploymentId !== null && (ACTIVE_MEMBER_STATES.includes(m.data.state) || MIRRORED_SETTLED.includes(m.data.state))) {
      const synced = await syncMember(services, m);
      if (synced) {
        members[i] = synced;
        summary.synced += 1;
      }
    }
  }

  // 2. Member steps, bounded by the quota and the starts per tick.
  await runSteps(services, rollout, members, summary, signal);

  // 3. The gate and the rollout's own state, from the members as they now stand.
  const now = (await membersOf(services, id)).map((m) => m.data);
  await applyRolloutCommand(
    services,
    'any',
    id,
    (r) => {
      if (r.state === 'aborting') return abortDone(r, now, services.clock()) ? { type: 'aborted' } : null;
      const gate = gateDecision(r, now);
      if (gate.kind === 'halt') return { type: 'halt', reason: gate.reason };
      if (gate.kind === 'advance') return { type: 'advance', to: gate.to };
      if (gate.kind === 'complete') return { type: 'complete' };
      return null;
    },
    { kind: 'system' },
    (r) => ({ ...r, counts: countStates(now) }),
  );
}

/**
 * Mirrors the member's deployment; the member as written when that changed it, else null. A deployment the member
 * mirrors already (most of them, most ticks) costs its one read; a change is written on the member as the caller
 * read it (`member`), which is read again only when another writer changed it since.
 */
async function syncMember(services: Services, member: Stored<RolloutMember>): Promise<Stored<RolloutMember> | null> {
  if (member.data.deploymentId === null) return null;
  const deployment = (await services.db.deployments.get(member.data.deploymentId))?.data;
  if (!deployment) return null;
  const event: MemberEvent = {
    type: 'deployment',
    state: deployment.state,
    reason: deployment.stateReason,
    submittedAt: deployment.audit?.submittedAt ?? null,
    decidedAt: deployment.audit?.decidedAt ?? null,
  };
  const result = await applyMemberEvent(services, member.id, event, member);
  return result?.changed === true ? result.stored : null;
}

interface Budget {
  /** Submits the quota allows beyond the reserve; null when unknown (WeChat not asked, or it did not answer). */
  submits: number | null;
  starts: number;
  /**
   * Submits already promised: the rollout's members started but not yet submitted, and every start of this tick
   * (other rollouts' too: the quota is the platform's).
   */
  inBuild: number;
}

async function runSteps(
  services: Services,
  rollout: Rollout,
  members: readonly Stored<RolloutMember>[],
  summary: RolloutTickSummary,
  signal?: AbortSignal,
): Promise<void> {
  const at = services.clock();
  const work = members
    .map((m) => ({ m, step: nextMemberStep(rollout, m.data, at) }))
    .filter((w): w is { m: Stored<RolloutMember>; step: MemberStep } => w.step !== null);
  const spending = work.filter((w) => w.step === 'start' || w.step === 'submit');
  // Counted once per tick (not per start): started but not yet submitted, each will spend one submit.
  const inBuild = members.filter((m) => m.data.state === 'starting' || m.data.state === 'building').length;
  const budget: Budget = {
    submits: spending.length > 0 ? await quotaBeyondReserve(services, rollout, members, signal) : null,
    starts: rollout.startsPerTick,
    inBuild: inBuild + summary.started,
  };
  if (spending.length > 0 && budget.submits !== null) {
    // The count each start checks (`doStep`): a rollout whose starts another rollout's took this tick waits too.
    const startable = budget.submits - budget.inBuild;
    const wantsToStart = work.some((w) => w.step === 'start');
    if (wantsToStart && startable <= 0) await waitForQuota(services, rollout, budget.submits + rollout.quotaReserve);
    else if (rollout.waiting) await applyRolloutCommand(services, 'any', rollout.id, { type: 'quotaAvailable' }, { kind: 'system' });
  }
  let next = 0;
  const worker = async () => {
    for (;;) {
      if (signal?.aborted) return;
      const item = work[next++];
      if (!item) return;
      try {
        await doStep(services, rollout, item.m, item.step, budget, summary, signal);
      } catch (error) {
        summary.errors += 1;
        services.log.warn('rollout member step failed; tried again next tick', {
          rolloutId: rollout.id,
          appId: item.m.data.appId,
          step: item.step,
          error,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function waitForQuota(services: Services, rollout: Rollout, rest: number): Promise<void> {
  const until = nextQuotaRenewal(services.clock());
  await applyRolloutCommand(services, 'any', rollout.id, { type: 'waitForQuota', until, rest }, { kind: 'system' });
}

/**
 * The platform's submits left beyond the rollout's reserve (WeChat `queryquota`: one quota per platform, asked
 * through any authorized mini program — here a member's). Null when WeChat did not answer: nothing that spends is
 * started this tick.
 */
async function quotaBeyondReserve(
  services: Services,
  rollout: Rollout,
  members: readonly Stored<RolloutMember>[],
  signal?: AbortSignal,
): Promise<number | null> {
  const candidates = [
    ...new Set(members.flatMap((m) => (m.data.miniProgramAppid && m.data.state !== 'skipped' ? [m.data.miniProgramAppid] : []))),
  ];
  for (const appid of candidates.slice(0, 3)) {
    try {
      const quota = await services.wechat.client.queryQuota(appid, callOf(signal));
      await noteAuditQuota(services, quota);
      return Math.max(0, quota.rest - rollout.quotaReserve);
    } catch (error) {
      services.log.warn('queryquota failed for a rollout', { rolloutId: rollout.id, appid, error });
    }
  }
  return null;
}

async function doStep(
  services: Services,
  rollout: Rollout,
  member: Stored<RolloutMember>,
  step: MemberStep,
  budget: Budget,
  summary: RolloutTickSummary,
  signal?: AbortSignal,
): Promise<void> {
  const m = member.data;
  const actor = rolloutActor(rollout.id);
  const deploymentId = m.deploymentId;
  switch (step) {
    case 'start': {
      if (budget.starts <= 0 || budget.submits === null || budget.submits - budget.inBuild <= 0) return;
      budget.starts -= 1;
      const started = await startMember(services, rollout, member, signal);
      if (!started) return;
      budget.inBuild += 1;
      summary.started += 1;
      // The build ran as far as this tick allowed: the member shows where it got (built, usually).
      await syncMember(services, started);
      return;
    }
    case 'adopt':
      await adoptStart(services, rollout, member);
      return;
    case 'submit':
      if (deploymentId === null || budget.submits === null || budget.submits <= 0) return;
      budget.submits -= 1;
      await refusedAsFailure(services, member, () => submitForAudit(services, m.accountId, deploymentId, actor, signal));
      summary.submitted += 1;
      break;
    case 'release':
      if (deploymentId === null) return;
      await refusedAsFailure(services, member, () => releaseDeployment(services, m.accountId, deploymentId, actor, signal));
      summary.released += 1;
      break;
    case 'phase':
      if (deploymentId === null) return;
      if (await phaseStep(services, rollout, member, deploymentId, signal)) return;
      break;
    case 'revert':
      await revertPhase(services, member, signal);
      return;
    case 'skip':
      await applyMemberEvent(services, member.id, { type: 'skip', reason: 'rollout aborted before it started' });
      return;
    case 'cancel':
      if (deploymentId !== null) await cancelDeployment(services, m.accountId, deploymentId, actor, 'rollout aborted');
      break;
    case 'leave':
      await applyMemberEvent(services, member.id, { type: 'leave', reason: 'rollout aborted: left under review, as asked' });
      return;
    case 'withdraw':
    case 'rollback':
      if (deploymentId === null) return;
      try {
        await (step === 'withdraw' ? undoAudit : rollbackDeployment)(services, m.accountId, deploymentId, actor);
      } catch (error) {
        // WeChat refused (no undo left today, no version to go back to): the member stays as it is, and says why.
        if (!(error instanceof WeChatApiError) && !(error instanceof DeploymentConflictError)) throw error;
        await applyMemberEvent(services, member.id, { type: 'leave', reason: `rollout aborted; ${step} refused: ${error.message}` });
        return;
      }
      break;
  }
  await syncMember(services, member);
}

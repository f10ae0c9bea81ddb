/**
 * The worker: does a deployment's pending WeChat work step after step under its lease, whoever runs it (the
 * request that started the work, or the poller if that instance died), and decides what a failed step means.
 */
import type { Deployment, Work } from '../../domain/deployment';
import { pendingWork } from '../../domain/deployment';
import { AppError } from '../../domain/errors';
import { refusalReason } from '../../domain/readiness';
import { ERRCODE, WeChatApiError, WeChatNetworkError } from '../../wechat/errcodes';
import { AuthorizerNotAuthorizedError } from '../../wechat/tokens';
import type { Services } from '../context';
import { markMiniProgramNeedsReauth } from '../mini-programs';
import type { HandOver } from '../readiness';
import { tryLease } from './leases';
import { linkOf, voidUnlinked } from './link';
import { postpone, readDeployment, type StepOutcome, type Versioned } from './state-changes';
import { doStep, failWith } from './steps';

/** At most this many steps per run: a build is five, then the submit and a first poll. */
const MAX_STEPS = 8;

/**
 * Does the deployment's pending WeChat work under its lease and returns the deployment as it stands; if another
 * instance holds the lease, returns at once (that instance is on it). `signal` is the caller's end: no step starts
 * after it and the WeChat call in flight is cut there, leaving the deployment due for the next tick. `handOver`:
 * what the user's check in this invocation has just read, for the first step (the one the command started).
 */
export async function advance(services: Services, id: string, signal?: AbortSignal, handOver?: HandOver): Promise<Deployment> {
  const lease = await tryLease(services, id);
  if (!lease) return (await readDeployment(services, id)).data;
  try {
    return await runSteps(services, id, signal, handOver);
  } finally {
    await lease.release();
  }
}

/** The steps themselves; the caller holds the deployment's lease. */
export async function runSteps(services: Services, id: string, signal?: AbortSignal, handOver?: HandOver): Promise<Deployment> {
  let current = await readDeployment(services, id);
  let work = pendingWork(current.data);
  for (let steps = 0; work !== null && steps < MAX_STEPS && !signal?.aborted; steps++) {
    // Only the first step may use the check's reads: any later one comes after WeChat was acted on.
    const step = await perform(services, current, work, signal, steps === 0 ? handOver : undefined);
    if (step === 'stopped') break;
    if (step === 'later') {
      await postpone(services, current);
      break;
    }
    if (step.changed) {
      // The transition the step recorded knows what comes next.
      current = { ...current, data: step.deployment, version: step.version };
      work = step.effects.next;
    } else {
      // Another writer recorded it first: see where that left the deployment.
      current = await readDeployment(services, id);
      work = pendingWork(current.data);
    }
  }
  return (await readDeployment(services, id)).data;
}

async function perform(
  services: Services,
  current: Versioned,
  work: Work,
  signal: AbortSignal | undefined,
  handOver: HandOver | undefined,
): Promise<StepOutcome> {
  const deployment = current.data;
  try {
    // Checked before every step, the audit poll too: the app may have lost the mini program since the last one, and
    // the void at the time of the loss is only best effort (an audit left running would hold the app's build slot).
    const link = await linkOf(services, deployment);
    if ('loss' in link) return await voidUnlinked(services, deployment, link.loss, signal);
    return await doStep(services, current, work, link, signal, handOver);
  } catch (error) {
    return recordFailure(services, current, work, error, signal);
  }
}

/** WeChat's answers that mean the mini program itself must authorize the platform again. */
const AUTHORIZER_LOST_ERRCODES: ReadonlySet<number> = new Set([
  ERRCODE.AUTHORIZER_TOKENS_REVOKED,
  ERRCODE.NOT_AUTHORIZED_BY_ACCOUNT,
  ERRCODE.REFRESH_TOKEN_INVALID,
]);

/**
 * Unknown outcomes wait for the poller; WeChat's refusals and our own become a recorded failure — except a lost
 * authorization, which waits whatever the step (the mini program is marked `needs-reauth`, and the deployment
 * resumes once authorized again: docs/pipeline.md), and a refused audit poll, which only means "look again later".
 */
async function recordFailure(
  services: Services,
  current: Versioned,
  work: Work,
  error: unknown,
  signal?: AbortSignal,
): Promise<StepOutcome> {
  const deployment = current.data;
  const about = { deploymentId: deployment.id, state: deployment.state };
  // Cut by the caller's end (whatever the error says, its outcome is unknown): the next run repeats the step.
  if (signal?.aborted) {
    services.log.info('deployment step stopped at the caller’s deadline', { ...about, work });
    return 'stopped';
  }
  if (error instanceof WeChatNetworkError) {
    services.log.warn('deployment step postponed: WeChat unreachable', { ...about, error });
    return 'later';
  }
  if (error instanceof AuthorizerNotAuthorizedError || (error instanceof WeChatApiError && error.kind === 'auth')) {
    if (error instanceof WeChatApiError && AUTHORIZER_LOST_ERRCODES.has(error.errcode)) {
      await markMiniProgramNeedsReauth(services, deployment.miniProgramAppid, `${error.meaning} (WeChat ${error.errcode})`);
    } else if (error instanceof AuthorizerNotAuthorizedError && error.code === 'MINI_PROGRAM_NEEDS_REAUTH') {
      // Also marked by the token manager's hook where it is wired; not every instance wires it.
      await markMiniProgramNeedsReauth(services, deployment.miniProgramAppid, error.message);
    }
    services.log.warn('deployment waits for the mini program to be authorized again', { ...about, error });
    return 'later';
  }
  if (error instanceof WeChatApiError) {
    if (error.kind === 'transient' || error.kind === 'token') {
      services.log.warn('deployment step postponed', { ...about, errcode: error.errcode });
      return 'later';
    }
    if (work === 'pollAudit') {
      services.log.warn('audit poll refused by WeChat; polling again later', { deploymentId: deployment.id, errcode: error.errcode });
      return 'later';
    }
    const retryable = error.kind === 'quota' || error.kind === 'state';
    // A refusal for a go-live prerequisite says what the readiness report says of it.
    const reason = refusalReason(error.errcode, error.meaning)?.reason ?? `${error.meaning} (WeChat ${error.errcode})`;
    return failWith(services, current, { reason, retryable, errcode: error.errcode });
  }
  if (error instanceof AppError && error.category === 'unavailable') {
    services.log.warn('deployment step postponed: a dependency is unavailable', { ...about, error });
    return 'later';
  }
  throw error;
}

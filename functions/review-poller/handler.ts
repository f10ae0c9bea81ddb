/**
 * `review-poller` (timer): claims due deployments with leases and does their pending work — polls audits with
 * backoff (reconciling pushes WeChat never delivered), resumes builds, submits and releases whose instance died —
 * with bounded concurrency and a time budget below the function's timeout; then drives the rollouts under way
 * (shared/app/rollouts/driver.ts) in what is left of the budget. Logs a summary of the tick.
 */

import type { Context } from 'aws-lambda';
import { services } from '../../shared/app/compose';
import type { Services } from '../../shared/app/context';
import { pollDue } from '../../shared/app/deployments';
import { driveRollouts } from '../../shared/app/rollouts/driver';
import { cloudEntry } from '../../shared/runtime/entry';
import type { ScheduledEvent } from '../../shared/runtime/shim';

/**
 * Time kept back from the function's limit. The tick itself stops at its budget (WeChat calls in flight are cut
 * there, see `pollDue`); what is left is for closing up after the cut — releasing leases, the summary — so the
 * platform never kills a tick with a lease held.
 */
export const RESERVE_MS = 5_000;

export function makeHandler(services: Services, options: { concurrency?: number } = {}) {
  return async (event: ScheduledEvent, context?: Context) => {
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 60_000;
    const startedAt = Date.now();
    const budgetMs = Math.max(1_000, remaining - RESERVE_MS);
    const summary = await pollDue(services, { budgetMs, concurrency: options.concurrency ?? 16 });
    // Rollouts after the audits (DESIGN §8), within what is left of the same budget: their decisions are in by now.
    const rollouts = await driveRollouts(services, AbortSignal.timeout(Math.max(1, budgetMs - (Date.now() - startedAt))));
    services.metrics.record('poller_tick_duration', (Date.now() - startedAt) / 1000, {});
    services.metrics.record('poller_tick_budget', budgetMs / 1000, {});
    if (summary.stoppedByBudget) services.metrics.record('poller_ticks_stopped_by_budget', 1, {});
    services.log.info('poller tick', { trigger: event.triggerName, ...summary, rollouts });
    return { ...summary, rollouts };
  };
}

export const handler = cloudEntry({ name: 'review-poller', http: false, schedule: true }, async () => ({
  schedule: makeHandler(await services()),
}));

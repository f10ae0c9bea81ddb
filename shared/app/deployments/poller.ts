/**
 * The poller: each tick does the pending work of every deployment that is due — audit polls, and builds, submits
 * and releases whose instance died — within a time budget.
 */
import { eitherSignal, sharedSignal } from '../../runtime/abort';
import type { Services } from '../context';
import { advance } from './worker';

export interface PollSummary {
  due: number;
  processed: number;
  changed: number;
  skippedBusy: number;
  errors: number;
  stoppedByBudget: boolean;
  durationMs: number;
}

/**
 * One poller tick: claims due deployments (leases inside `advance`), with bounded concurrency, and does their pending
 * work. The budget ends the tick below the function's timeout on the wall clock (what the platform kills by): no
 * deployment starts after it, and the steps under way are cut there, between steps or mid-call (docs/pipeline.md).
 */
export async function pollDue(
  services: Services,
  options: { budgetMs: number; concurrency?: number; limit?: number; signal?: AbortSignal },
): Promise<PollSummary> {
  const startedAt = Date.now();
  const combined = options.signal ? eitherSignal(AbortSignal.timeout(options.budgetMs), options.signal) : null;
  // Every concurrent WeChat call and backoff of the tick listens to it, and lets go when it ends.
  const budget = sharedSignal(combined?.signal ?? AbortSignal.timeout(options.budgetMs));
  const due = await services.db.deployments.find({
    where: { nextPollAt: { lte: services.clock() } },
    orderBy: { field: 'nextPollAt' },
    limit: options.limit ?? 10_000,
  });
  const summary: PollSummary = {
    due: due.length,
    processed: 0,
    changed: 0,
    skippedBusy: 0,
    errors: 0,
    stoppedByBudget: false,
    durationMs: 0,
  };
  let next = 0;
  const worker = async () => {
    for (;;) {
      if (budget.aborted) {
        if (next < due.length) summary.stoppedByBudget = true;
        return;
      }
      const item = due[next++];
      if (!item) return;
      try {
        const after = await advance(services, item.id, budget);
        summary.processed += 1;
        if (after.state !== item.data.state || after.buildStep !== item.data.buildStep) summary.changed += 1;
        else if (budget.aborted) summary.stoppedByBudget = true;
        else if (after.nextPollAt === item.data.nextPollAt) summary.skippedBusy += 1;
      } catch (error) {
        summary.errors += 1;
        services.log.error('poll of a deployment failed', { deploymentId: item.id, error });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  } finally {
    combined?.release();
  }
  summary.durationMs = Date.now() - startedAt;
  return summary;
}

/**
 * `webhooks` (timer, every minute): fans new outbox events out to the endpoints that subscribe to them and sends
 * what is due — first attempts the after-request run did not make (a frozen or killed instance), and retries on the
 * backoff schedule. Its own function rather than a step of `review-poller`: delivery waits on customers' servers
 * (up to 10 s an attempt), which must not eat the poller's audit budget, and it needs no WeChat client, so its
 * bundle and cold start stay small.
 */
import type { Context } from 'aws-lambda';
import { webhookWorkerOf } from '../../shared/app/webhooks/compose';
import { type Foundation, foundation } from '../../shared/runtime/compose';
import { cloudEntry } from '../../shared/runtime/entry';
import type { ScheduledEvent } from '../../shared/runtime/shim';

/** Kept back from the function's time limit for the last attempt's bookkeeping and the summary line. */
const RESERVE_MS = 15_000;

export type WebhooksDeps = Pick<Foundation, 'config' | 'log' | 'store'> & { clock?: () => number };

export function makeHandler(deps: WebhooksDeps) {
  const worker = webhookWorkerOf(deps);
  return async (event: ScheduledEvent, context?: Context) => {
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 60_000;
    const run = await worker.run({ budgetMs: Math.max(1_000, remaining - RESERVE_MS) });
    const { lagsMs, ...counts } = run;
    deps.log.info('webhooks tick', { trigger: event.triggerName, ...counts, maxLagMs: lagsMs.length ? Math.max(...lagsMs) : null });
    return counts;
  };
}

export const handler = cloudEntry({ name: 'webhooks', http: false, schedule: true }, async () => ({
  schedule: makeHandler(await foundation()),
}));

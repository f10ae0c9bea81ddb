/**
 * The webhook services built from what a function already has (config, store, log, clock), and the in-process
 * delivery that runs right after a state change: a process that wrote events rings `notifyOutbox`, and one run
 * of the worker (single-flight: a ring during a run asks for one more) delivers them without waiting for the
 * timer. Where the process freezes after answering (SCF between invocations) the run resumes or dies with it;
 * the outbox and the `webhooks` timer make sure nothing is lost either way.
 */
import { randomBytes } from 'node:crypto';
import type { Foundation } from '../../runtime/compose';
import { invocationMetrics, type MetricsRecorder } from '../../runtime/metrics';
import { createSecretBox } from '../../store/secret-box';
import { webhookCollections } from './collections';
import { createEndpointService } from './endpoints';
import { believedWithoutEndpoints, onOutbox, sawNoEndpoints } from './outbox';
import { createWebhookWorker } from './worker';

export type WebhookPlatform = Pick<Foundation, 'config' | 'log' | 'store'> & {
  clock?: () => number;
  random?: () => number;
  metrics?: MetricsRecorder;
};

function depsOf(p: WebhookPlatform) {
  return {
    store: p.store,
    box: createSecretBox(p.config.dataKey),
    log: p.log,
    mode: p.config.env,
    clock: p.clock ?? Date.now,
    random: p.random ?? Math.random,
    randomBytes: (size: number) => randomBytes(size),
    metrics: p.metrics ?? invocationMetrics,
  };
}

export const webhookEndpointsOf = (p: WebhookPlatform) => createEndpointService(depsOf(p));
export const webhookWorkerOf = (p: WebhookPlatform) => createWebhookWorker(depsOf(p));

/** How long an after-request run may take: what a receiver answering slowly may cost a warm instance. */
const IMMEDIATE_BUDGET_MS = 10_000;

/** How long "no endpoint exists" is believed without asking the store again. */
const NO_ENDPOINTS_RECHECK_MS = 5_000;

const started = new WeakSet<object>();

/** Delivers right after each state change made in this process (once per store). */
export function deliverAfterStateChanges(p: WebhookPlatform): void {
  if (started.has(p.store)) return;
  started.add(p.store);
  const worker = webhookWorkerOf(p);
  const endpoints = webhookCollections(p.store).endpoints;
  const clock = p.clock ?? Date.now;
  // Most platforms have no endpoint for most of their life: one read every few seconds says so, instead of a
  // worker run (fan-out, queue reads) after every state change. The timer fans out what is skipped.
  const anyEndpoint = async (): Promise<boolean> => {
    if (believedWithoutEndpoints(p.store, clock())) return false;
    const found = (await endpoints.find({ limit: 1 })).length > 0;
    if (!found) sawNoEndpoints(p.store, clock() + NO_ENDPOINTS_RECHECK_MS);
    return found;
  };
  let running = false;
  let again = false;
  const runOnce = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      if (!(await anyEndpoint())) return;
      do {
        again = false;
        await worker.run({ budgetMs: IMMEDIATE_BUDGET_MS });
      } while (again);
    } catch (error) {
      // The timer retries; an after-request run must never take the request's process down.
      p.log.warn('immediate webhook delivery failed', { error });
    } finally {
      running = false;
    }
  };
  onOutbox(p.store, () => void runOnce());
}

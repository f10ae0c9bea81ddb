/**
 * The delivery worker, run by the `webhooks` timer and, right after a state change, by the process that made it:
 * 1. fan-out: each new outbox event becomes one delivery per subscribed, enabled endpoint, and its group's queue
 *    is made due — deliveries, queues and the event's `dispatched` flag in one batch, so a crash repeats the step
 *    whole or not at all (never a second delivery for one event and endpoint);
 * 2. send: due queues are claimed (compare-and-set on the queue = a lease) and drained in `sequence` order; a
 *    failure puts the queue off by the backoff schedule, so later events of that deployment wait behind it.
 * At-least-once: a worker killed after a receiver answered but before the delivery was marked sends it again, with
 * the same `webhook-id` (the event id), which is what a receiver de-duplicates on.
 */

import { ConflictError } from '../../domain/errors';
import type { RandomBytes } from '../../domain/ids';
import type { EndpointMode } from '../../domain/webhooks/addresses';
import { deliveryBody, endpointReceives, makeEvent, newEventId } from '../../domain/webhooks/events';
import { DISABLE_AFTER_MS, nextAttemptDelayMs } from '../../domain/webhooks/schedule';
import type { Logger } from '../../runtime/logger';
import type { MetricsRecorder } from '../../runtime/metrics';
import { guardedPost, type PostOutcome, type Resolve } from '../../runtime/outbound/guarded-post';
import type { DocumentStore, Stored, Write } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import type { SecretBox } from '../../store/secret-box';
import { type Attempt, type Delivery, type DeliveryQueue, ownerOf, type WebhookEndpoint, webhookCollections } from './collections';
import { deliveryIdOf, enqueueWrites, newDelivery } from './deliveries';
import { WEBHOOK_RETENTION_MS } from './outbox';
import { endpointSecrets } from './secrets';
import { signedHeaders } from './signing';

export interface WebhookWorkerDeps {
  store: DocumentStore;
  box: SecretBox;
  log: Logger;
  mode: EndpointMode;
  clock: () => number;
  random: () => number;
  randomBytes: RandomBytes;
  /** Tests make names resolve where they want. */
  resolve?: Resolve;
  /** Per attempt. */
  timeoutMs?: number;
  /** Queues drained at once. */
  concurrency?: number;
  /** webhook_deliveries by outcome and webhook_delivery_lag. */
  metrics?: MetricsRecorder;
}

export interface DeliveryRun {
  fannedOut: number;
  delivered: number;
  failed: number;
  gaveUp: number;
  endpointsDisabled: number;
  /** ms from the event to its successful delivery, one per delivery. */
  lagsMs: number[];
  /** Queues whose draining failed (logged); the others were drained all the same. */
  queueErrors: number;
  stoppedByBudget: boolean;
}

export const ATTEMPT_TIMEOUT_MS = 10_000;
/** What a log entry keeps of an answer. */
export const ANSWER_LOG_CHARS = 256;
const LOG_ATTEMPTS_KEPT = 10;
const BATCH = 100;

type StoredQueue = Stored<DeliveryQueue>;

export function createWebhookWorker(deps: WebhookWorkerDeps) {
  const c = webhookCollections(deps.store);
  const timeoutMs = deps.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  // The lease a worker takes on a queue: long enough for one attempt and its bookkeeping.
  const leaseMs = timeoutMs * 3;

  /** Fans out up to BATCH new events; returns how many. */
  async function fanOut(): Promise<number> {
    const events = await c.outbox.find({ where: { dispatched: false }, orderBy: { field: 'occurredAt' }, limit: BATCH });
    if (events.length === 0) return 0;
    const at = deps.clock();
    const endpointsByOwner = new Map<string, Stored<WebhookEndpoint>[]>();
    const endpointsOf = async (owner: string) => {
      let found = endpointsByOwner.get(owner);
      if (!found) endpointsByOwner.set(owner, (found = await c.endpoints.find({ where: { owner } })));
      return found;
    };
    // Queues this batch already touched: one write per queue per batch.
    const touched = new Set<string>();
    const writes: Write[] = [];
    for (const event of events) {
      const candidates = [
        ...(await endpointsOf(event.data.owner)),
        ...(event.data.owner === 'platform' ? [] : await endpointsOf('platform')),
      ];
      for (const endpoint of candidates) {
        if (!endpoint.data.enabled || !endpointReceives(endpoint.data, event.data)) continue;
        const delivery = newDelivery(event.data, event.id, endpoint.id, at);
        const id = deliveryIdOf(event.id, endpoint.id);
        if (touched.has(delivery.group)) {
          writes.push(c.deliveries.insertWrite(id, delivery, { expiresAt: delivery.occurredAt + WEBHOOK_RETENTION_MS }));
          continue;
        }
        writes.push(...enqueueWrites(c, id, delivery, null, await c.queues.get(delivery.group), at));
        touched.add(delivery.group);
      }
      writes.push(c.outbox.updateWrite(event.id, event.version, { ...event.data, dispatched: true }));
    }
    try {
      await deps.store.commit(writes);
    } catch (error) {
      // Another worker fanned these out first: their deliveries exist; read again.
      if (!(error instanceof ConflictError)) throw error;
    }
    return events.length;
  }

  async function endpointOf(id: string): Promise<Stored<WebhookEndpoint> | null> {
    return c.endpoints.get(id);
  }

  async function attempt(endpoint: Stored<WebhookEndpoint>, delivery: Stored<Delivery>): Promise<PostOutcome> {
    const event = await c.outbox.get(delivery.data.eventId);
    if (!event) return { kind: 'refused', reason: 'the event has expired', latencyMs: 0 };
    const body = deliveryBody(event.data);
    const headers = signedHeaders(endpointSecrets(deps.box, endpoint, deps.clock()), delivery.data.eventId, deps.clock(), body);
    return guardedPost(endpoint.data.url, headers, body, {
      mode: deps.mode,
      timeoutMs,
      maxAnswerBytes: ANSWER_LOG_CHARS * 4,
      ...(deps.resolve ? { resolve: deps.resolve } : {}),
    });
  }

  /** Endpoint bookkeeping after an attempt; disables an endpoint that has failed for the whole retry window. */
  async function recordEndpoint(endpoint: Stored<WebhookEndpoint>, ok: boolean, run: DeliveryRun): Promise<void> {
    const at = deps.clock();
    const e = endpoint.data;
    try {
      if (ok) {
        if (e.failingSince !== null || e.lastSuccessAt === null || at - e.lastSuccessAt > 60_000) {
          await c.endpoints.update(endpoint.id, endpoint.version, { ...e, failingSince: null, lastSuccessAt: at, updatedAt: at });
        }
        return;
      }
      const failingSince = e.failingSince ?? at;
      if (at - failingSince < DISABLE_AFTER_MS) {
        if (e.failingSince === null) await c.endpoints.update(endpoint.id, endpoint.version, { ...e, failingSince, updatedAt: at });
        return;
      }
      const reason = `every delivery failed since ${new Date(failingSince).toISOString()}`;
      const eventId = newEventId(at, deps.randomBytes);
      const disabled = makeEvent({
        type: 'webhook_endpoint.disabled',
        accountId: e.accountId,
        subject: endpoint.id,
        sequence: endpoint.version + 1,
        occurredAt: at,
        data: { accountId: e.accountId, endpointId: endpoint.id, url: e.url, failingSince, reason },
      });
      // The account is told by its other endpoints (and the endpoint's own status); in one batch with the disable.
      await deps.store.commit([
        c.endpoints.updateWrite(endpoint.id, endpoint.version, { ...e, enabled: false, disabledReason: reason, updatedAt: at }),
        c.outbox.insertWrite(eventId, { ...disabled, owner: ownerOf(e.accountId) }, { expiresAt: at + WEBHOOK_RETENTION_MS }),
      ]);
      run.endpointsDisabled += 1;
      deps.log.warn('webhook endpoint disabled', { endpointId: endpoint.id, failingSince });
    } catch (error) {
      // Another attempt of the same endpoint recorded first; its bookkeeping stands.
      if (!(error instanceof ConflictError)) throw error;
    }
  }

  function logEntry(outcome: PostOutcome, at: number): Attempt {
    if (outcome.kind === 'answered') {
      const ok = outcome.status >= 200 && outcome.status < 300;
      const redirect = outcome.status >= 300 && outcome.status < 400 ? 'redirect not followed; ' : '';
      return {
        at,
        outcome: ok ? 'delivered' : 'failed',
        status: outcome.status,
        latencyMs: outcome.latencyMs,
        answer: (redirect + outcome.answer).slice(0, ANSWER_LOG_CHARS),
      };
    }
    return {
      at,
      outcome: outcome.kind === 'refused' ? 'refused' : 'failed',
      status: null,
      latencyMs: outcome.latencyMs,
      answer: outcome.reason.slice(0, ANSWER_LOG_CHARS),
    };
  }

  /** Sends a claimed queue's deliveries in order until it is empty, one fails, or the deadline passes. */
  async function drain(group: string, claimedVersion: number, deadline: number, run: DeliveryRun): Promise<void> {
    let queueVersion = claimedVersion;
    for (;;) {
      const [head] = await c.deliveries.find({ where: { group, status: 'pending' }, orderBy: { field: 'sequence' }, limit: 1 });
      const at = deps.clock();
      if (!head || at >= deadline) {
        // Empty: idle. Out of time: due now, for the next run. A new version means a fan-out added to the queue
        // since it was claimed: look again.
        const queue = await c.queues.get(group);
        if (!queue) return;
        if (queue.version !== queueVersion && at < deadline) {
          queueVersion = queue.version;
          continue;
        }
        try {
          await c.queues.update(group, queue.version, { ...queue.data, nextAttemptAt: head ? at : null });
          return;
        } catch (error) {
          ignoreConflict(error);
          if (at >= deadline) return;
          continue;
        }
      }
      const endpoint = await endpointOf(head.data.endpointId);
      if (!endpoint?.data.enabled) {
        await c.deliveries.update(head.id, head.version, { ...head.data, status: 'skipped', nextAttemptAt: null, updatedAt: at });
        continue;
      }
      const outcome = await attempt(endpoint, head);
      const entry = logEntry(outcome, at);
      const log = [...head.data.log, entry].slice(-LOG_ATTEMPTS_KEPT);
      const attempts = head.data.attempts + 1;
      const now = deps.clock();
      if (entry.outcome === 'delivered') {
        const marked = await c.deliveries
          .update(head.id, head.version, { ...head.data, status: 'delivered', attempts, nextAttemptAt: null, log, updatedAt: now })
          .then(
            () => true,
            (error: unknown) => {
              ignoreConflict(error);
              return false;
            },
          );
        // Lost to a redelivery request that re-queued it meanwhile: it goes out again, as asked.
        if (!marked) continue;
        run.delivered += 1;
        run.lagsMs.push(now - head.data.occurredAt);
        deps.metrics?.record('webhook_deliveries', 1, { outcome: 'delivered' });
        deps.metrics?.record('webhook_delivery_lag', (now - head.data.occurredAt) / 1000, {});
        await recordEndpoint(endpoint, true, run);
        continue;
      }
      run.failed += 1;
      deps.metrics?.record('webhook_deliveries', 1, { outcome: 'failed' });
      await recordEndpoint(endpoint, false, run);
      const delay = nextAttemptDelayMs(attempts, deps.random);
      if (delay === null) {
        await c.deliveries.update(head.id, head.version, {
          ...head.data,
          status: 'failed',
          attempts,
          nextAttemptAt: null,
          log,
          updatedAt: now,
        });
        run.gaveUp += 1;
        deps.metrics?.record('webhook_deliveries', 1, { outcome: 'gave-up' });
        continue;
      }
      const retryAt = now + delay;
      await putOff(group, head, { ...head.data, attempts, nextAttemptAt: retryAt, log, updatedAt: now });
      return;
    }
  }

  /**
   * Records a failed attempt and puts its queue off until the retry, in one batch. A fan-out touching the queue
   * meanwhile only bumps its version: read both again and retry (the shared rule, never a silent give-up that would
   * lose the attempt and its log entry). A delivery re-queued meanwhile (a redelivery request) keeps its new state.
   */
  async function putOff(group: string, head: Stored<Delivery>, retrying: Delivery): Promise<void> {
    await retryOnConflict(`put off webhook queue ${group}`, async () => {
      const [queue, delivery] = await Promise.all([c.queues.get(group), c.deliveries.get(head.id)]);
      if (!queue) return;
      const untouched = delivery?.version === head.version;
      await deps.store.commit([
        ...(untouched
          ? [c.deliveries.updateWrite(head.id, head.version, retrying, { expiresAt: head.data.occurredAt + WEBHOOK_RETENTION_MS })]
          : []),
        c.queues.updateWrite(group, queue.version, {
          ...queue.data,
          nextAttemptAt: untouched ? (retrying.nextAttemptAt ?? deps.clock()) : deps.clock(),
        }),
      ]);
    });
  }

  /** One run: fan out what is new, then drain due queues until nothing is due or `budgetMs` is spent. */
  async function run(options: { budgetMs: number }): Promise<DeliveryRun> {
    const deadline = deps.clock() + options.budgetMs;
    const result: DeliveryRun = {
      fannedOut: 0,
      delivered: 0,
      failed: 0,
      gaveUp: 0,
      endpointsDisabled: 0,
      lagsMs: [],
      queueErrors: 0,
      stoppedByBudget: false,
    };
    const concurrency = deps.concurrency ?? 16;
    for (;;) {
      if (deps.clock() >= deadline) {
        result.stoppedByBudget = true;
        return result;
      }
      for (let n = await fanOut(); n > 0 && deps.clock() < deadline; n = await fanOut()) result.fannedOut += n;
      const now = deps.clock();
      const due = await c.queues.find({ where: { nextAttemptAt: { lte: now } }, orderBy: { field: 'nextAttemptAt' }, limit: BATCH });
      if (due.length === 0) return result;
      let claimedAny = false;
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < due.length; i = next++) {
          const queue = due[i];
          if (!queue) continue;
          let claimed: StoredQueue;
          try {
            claimed = await c.queues.update(queue.id, queue.version, { ...queue.data, nextAttemptAt: deps.clock() + leaseMs });
          } catch (error) {
            ignoreConflict(error);
            continue;
          }
          claimedAny = true;
          try {
            await drain(queue.id, claimed.version, Math.min(deadline, deps.clock() + leaseMs - timeoutMs), result);
          } catch (error) {
            // One endpoint's trouble (a secret that will not open, a store error) is its queue's alone: the queue
            // stays claimed until its lease ends and is tried again then; every other queue is drained meanwhile.
            result.queueErrors += 1;
            deps.log.error('a webhook queue could not be drained', { group: queue.id, endpointId: queue.data.endpointId, error });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, lane));
      // Every due queue was someone else's: they are being drained; nothing more for this run.
      if (!claimedAny) return result;
    }
  }

  return { run, fanOut };
}

function ignoreConflict(error: unknown): void {
  if (!(error instanceof ConflictError)) throw error;
}

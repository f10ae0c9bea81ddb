/**
 * The webhook collections (DESIGN §8): endpoints per account (or the platform admin's), the outbox of events
 * written with the state changes they report, and one delivery document per (event, endpoint) — the retry queue
 * and the delivery log at once.
 */

import { lazyTarget } from '../../domain/common';
import { accountIdSchema, timestampSchema } from '../../domain/ids';
import { webhookEventSchema, webhookEventTypeSchema } from '../../domain/webhooks/events';
import * as z from '../../domain/zod';
import { type Collection, type DocumentStore, defineCollection } from '../../store/port';

/** `accountId` null = the platform admin's endpoint. `owner` repeats it as a string, since null equality is not portable. */
export const webhookEndpointSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    accountId: z.nullable(accountIdSchema),
    owner: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(webhookEventTypeSchema).check(z.minLength(1)),
    enabled: z.boolean(),
    /** Why it is disabled: by its owner, or after failing for the whole retry window. */
    disabledReason: z.nullable(z.string()),
    /** Sealed (`SecretBox`) `whsec_…`: needed in clear to sign, so it is encrypted, not hashed. */
    secret: z.string(),
    /** The secret before the last rotation, still signing until `previousSecretUntil`. */
    previousSecret: z.nullable(z.string()),
    previousSecretUntil: z.nullable(timestampSchema),
    /** Since when every attempt has failed; null once one succeeds. */
    failingSince: z.nullable(timestampSchema),
    lastSuccessAt: z.nullable(timestampSchema),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  }),
);
export type WebhookEndpoint = z.infer<typeof webhookEndpointSchema>;

export const webhookEndpointsCollection = defineCollection({ name: 'webhookEndpoints', schema: webhookEndpointSchema, indexes: ['owner'] });

/** The outbox: an event and whose it is (`owner`: the account id or `platform`), until fanned out (`dispatched`). */
export const outboxSchema = /* @__PURE__ */ z.lazy(() => z.extend(lazyTarget(webhookEventSchema), { owner: z.string() }));
export type OutboxDocument = z.infer<typeof outboxSchema>;
export const outboxCollection = defineCollection({
  name: 'webhookOutbox',
  schema: outboxSchema,
  indexes: ['owner', 'dispatched', 'occurredAt'],
});

/**
 * One queue per group (endpoint × subject): deliveries of a group go out one at a time in `sequence` order, so a
 * receiver sees a deployment's events in order even after an outage. `nextAttemptAt` null = nothing to send;
 * a worker holding the queue sets it ahead (its lease) while it sends.
 */
export const queueSchema = /* @__PURE__ */ z.lazy(() => z.object({ endpointId: z.string(), nextAttemptAt: z.nullable(timestampSchema) }));
export type DeliveryQueue = z.infer<typeof queueSchema>;
export const queuesCollection = defineCollection({ name: 'webhookQueues', schema: queueSchema, indexes: ['nextAttemptAt', 'endpointId'] });

export const attemptSchema = z.object({
  at: timestampSchema,
  outcome: z.enum(['delivered', 'failed', 'refused']),
  /** The receiver's HTTP status; null when it never answered. */
  status: z.nullable(z.number().check(z.int())),
  latencyMs: z.number().check(z.int(), z.nonnegative()),
  /** The start of the answer or of the failure's reason. */
  answer: z.string(),
});
export type Attempt = z.infer<typeof attemptSchema>;

export const deliveryStatusSchema = z.enum(['pending', 'delivered', 'failed', 'skipped']);

export const deliverySchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    eventId: z.string(),
    eventType: webhookEventTypeSchema,
    endpointId: z.string(),
    /** Deliveries of one group go out in `sequence` order: one endpoint × one subject (deployment, mini program). */
    group: z.string(),
    sequence: z.number().check(z.int(), z.nonnegative()),
    occurredAt: timestampSchema,
    status: deliveryStatusSchema,
    /** Attempts since it was (re)queued: drives the backoff. */
    attempts: z.number().check(z.int(), z.nonnegative()),
    /** When a pending delivery that failed is tried again (its queue holds the schedule); null otherwise. */
    nextAttemptAt: z.nullable(timestampSchema),
    /** The latest attempts, newest last. */
    log: z.array(attemptSchema),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  }),
);
export type Delivery = z.infer<typeof deliverySchema>;
export const deliveriesCollection = defineCollection({
  name: 'webhookDeliveries',
  schema: deliverySchema,
  indexes: ['endpointId', 'status', 'nextAttemptAt', 'group', 'sequence', 'eventId', 'createdAt'],
});

export interface WebhookCollections {
  endpoints: Collection<WebhookEndpoint, 'owner'>;
  outbox: Collection<OutboxDocument, 'owner' | 'dispatched' | 'occurredAt'>;
  queues: Collection<DeliveryQueue, 'nextAttemptAt' | 'endpointId'>;
  deliveries: Collection<Delivery, 'endpointId' | 'status' | 'nextAttemptAt' | 'group' | 'sequence' | 'eventId' | 'createdAt'>;
}

const opened = new WeakMap<DocumentStore, WebhookCollections>();

/** Opened once per store: a state change anywhere in the app can add outbox writes without new wiring. */
export function webhookCollections(store: DocumentStore): WebhookCollections {
  let collections = opened.get(store);
  if (!collections) {
    collections = {
      endpoints: store.collection(webhookEndpointsCollection),
      outbox: store.collection(outboxCollection),
      queues: store.collection(queuesCollection),
      deliveries: store.collection(deliveriesCollection),
    };
    opened.set(store, collections);
  }
  return collections;
}

export const ownerOf = (accountId: string | null): string => accountId ?? 'platform';

/**
 * A delivery (one event for one endpoint) and the writes that queue it: shared by the worker's fan-out and by
 * an endpoint's "send again".
 */
import type { Stored, Write } from '../../store/port';
import type { Delivery, DeliveryQueue, OutboxDocument, WebhookCollections } from './collections';
import { WEBHOOK_RETENTION_MS } from './outbox';

export const deliveryIdOf = (eventId: string, endpointId: string) => `${eventId}.${endpointId}`;
export const groupOf = (endpointId: string, subject: string) => `${endpointId}.${subject}`;

export function newDelivery(
  event: Pick<OutboxDocument, 'type' | 'subject' | 'sequence' | 'occurredAt'>,
  eventId: string,
  endpointId: string,
  at: number,
): Delivery {
  return {
    eventId,
    eventType: event.type,
    endpointId,
    group: groupOf(endpointId, event.subject),
    sequence: event.sequence,
    occurredAt: event.occurredAt,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: at,
    log: [],
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * The writes that queue `delivery` (new, or again): the delivery, and its group's queue touched. An idle queue
 * becomes due; a due or held one keeps its time but gets a new version, so a worker that just found the queue
 * empty and tries to set it idle loses that compare-and-set and looks again (the new delivery is never stranded).
 */
export function enqueueWrites(
  c: WebhookCollections,
  id: string,
  delivery: Delivery,
  existing: Stored<Delivery> | null,
  queue: Stored<DeliveryQueue> | null,
  at: number,
): Write[] {
  const expiresAt = delivery.occurredAt + WEBHOOK_RETENTION_MS;
  // A queue lives for the retention after its last enqueue (every delivery in it is retried well within that), then
  // goes with the purge: one per endpoint × deployment would otherwise pile up for ever.
  const queueExpiresAt = at + WEBHOOK_RETENTION_MS;
  return [
    existing
      ? c.deliveries.updateWrite(id, existing.version, delivery, { expiresAt })
      : c.deliveries.insertWrite(id, delivery, { expiresAt }),
    queue
      ? c.queues.updateWrite(
          delivery.group,
          queue.version,
          { ...queue.data, nextAttemptAt: queue.data.nextAttemptAt ?? at },
          { expiresAt: queueExpiresAt },
        )
      : c.queues.insertWrite(delivery.group, { endpointId: delivery.endpointId, nextAttemptAt: at }, { expiresAt: queueExpiresAt }),
  ];
}

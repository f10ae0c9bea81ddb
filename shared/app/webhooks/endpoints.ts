/**
 * Webhook endpoints of one owner — an account, or the platform admin (`owner` = `platform`): create (the secret
 * is shown once), list, read, update (URL, event types, description, enabled), delete, rotate the secret (the old
 * one keeps signing for an overlap), send a test event, the delivery log, and redelivery.
 */
import { AppError, NotFoundError, ValidationError } from '../../domain/errors';
import { newWebhookEndpointId, type RandomBytes } from '../../domain/ids';
import { checkEndpointUrl, type EndpointMode } from '../../domain/webhooks/addresses';
import { endpointReceives, makeEvent, newEventId, PLATFORM_EVENT_TYPES, type WebhookEventType } from '../../domain/webhooks/events';
import type { DocumentStore, Stored, Write } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import type { SecretBox } from '../../store/secret-box';
import { type Delivery, type WebhookCollections, type WebhookEndpoint, webhookCollections } from './collections';
import { deliveryIdOf, enqueueWrites, newDelivery } from './deliveries';
import { endpointCreated, notifyOutbox, WEBHOOK_RETENTION_MS } from './outbox';
import { secretBinding } from './secrets';
import { newSigningSecret } from './signing';

export const MAX_ENDPOINTS_PER_OWNER = 20;
/** How long the previous secret keeps signing after a rotation unless the request says otherwise. */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3_600_000;
const QUEUE_DELETE_BATCH = 100;
/** Events one redelivery request queues at most; `more` says to ask again from the last one's time. */
export const REDELIVER_LIMIT = 500;

export interface EndpointServices {
  store: DocumentStore;
  box: SecretBox;
  mode: EndpointMode;
  clock: () => number;
  randomBytes: RandomBytes;
}

export interface EndpointInput {
  url: string;
  eventTypes: readonly WebhookEventType[];
  description?: string | undefined;
}

/** A conflict with the owner's state (too many endpoints), not a lost compare-and-set: never retried as one. */
export class WebhookEndpointLimitError extends AppError {
  readonly code = 'WEBHOOK_ENDPOINT_LIMIT';
  readonly category = 'conflict' as const;
}

function checkedUrl(url: string, mode: EndpointMode): string {
  const verdict = checkEndpointUrl(url, mode);
  if (!verdict.ok) {
    throw new ValidationError(`body.url: ${verdict.reason}`, [{ path: 'body.url', message: verdict.reason }], {
      code: 'WEBHOOK_URL_REFUSED',
    });
  }
  return verdict.url.toString();
}

function checkedEventTypes(owner: string, types: readonly WebhookEventType[]): WebhookEventType[] {
  const platformOnly = types.filter((type) => owner !== 'platform' && PLATFORM_EVENT_TYPES.includes(type));
  if (platformOnly.length > 0) {
    const message = `${platformOnly.join(', ')} go only to the platform admin's endpoints`;
    throw new ValidationError(`body.eventTypes: ${message}`, [{ path: 'body.eventTypes', message }], {
      code: 'WEBHOOK_EVENT_TYPE_NOT_ALLOWED',
    });
  }
  return [...new Set(types)];
}

export function createEndpointService(s: EndpointServices) {
  const c: WebhookCollections = webhookCollections(s.store);

  async function get(owner: string, id: string): Promise<Stored<WebhookEndpoint>> {
    const stored = await c.endpoints.get(id);
    // Another owner's endpoint answers exactly like a missing one.
    if (!stored || stored.data.owner !== owner) throw new NotFoundError(`webhook endpoint ${id} not found`, { code: 'WEBHOOK_NOT_FOUND' });
    return stored;
  }

  return {
    get,

    list: (owner: string) => c.endpoints.find({ where: { owner }, orderBy: { field: 'id' }, limit: MAX_ENDPOINTS_PER_OWNER * 2 }),

    async create(owner: string, accountId: WebhookEndpoint['accountId'], input: EndpointInput) {
      const url = checkedUrl(input.url, s.mode);
      const eventTypes = checkedEventTypes(owner, input.eventTypes);
      const existing = await c.endpoints.find({ where: { owner }, limit: MAX_ENDPOINTS_PER_OWNER });
      if (existing.length >= MAX_ENDPOINTS_PER_OWNER) {
        throw new WebhookEndpointLimitError(`at most ${MAX_ENDPOINTS_PER_OWNER} webhook endpoints; delete one first`);
      }
      const id = newWebhookEndpointId(s.randomBytes);
      const secret = newSigningSecret(s.randomBytes);
      const at = s.clock();
      const stored = await c.endpoints.insert(id, {
        accountId,
        owner,
        url,
        description: input.description ?? '',
        eventTypes,
        enabled: true,
        disabledReason: null,
        secret: s.box.seal(secret, secretBinding(id, 'current')),
        previousSecret: null,
        previousSecretUntil: null,
        failingSince: null,
        lastSuccessAt: null,
        createdAt: at,
        updatedAt: at,
      });
      endpointCreated(s.store);
      return { endpoint: stored, secret };
    },

    async update(owner: string, id: string, patch: Partial<EndpointInput> & { enabled?: boolean | undefined }) {
      const url = patch.url === undefined ? undefined : checkedUrl(patch.url, s.mode);
      const eventTypes = patch.eventTypes === undefined ? undefined : checkedEventTypes(owner, patch.eventTypes);
      return retryOnConflict(`update webhook endpoint ${id}`, async () => {
        const stored = await get(owner, id);
        const e = stored.data;
        const enabled = patch.enabled ?? e.enabled;
        // Turning an endpoint back on starts its failure clock afresh.
        const reEnabled = enabled && !e.enabled;
        return c.endpoints.update(id, stored.version, {
          ...e,
          url: url ?? e.url,
          eventTypes: eventTypes ?? e.eventTypes,
          description: patch.description ?? e.description,
          enabled,
          disabledReason: enabled ? null : e.enabled ? 'disabled by its owner' : e.disabledReason,
          failingSince: reEnabled ? null : e.failingSince,
          updatedAt: s.clock(),
        });
      });
    },

    /**
     * The endpoint goes first (no fan-out reaches it after), then its queues, a batch at a time; its deliveries stay
     * as the log until they expire. A queue a fan-out created in between is drained to `skipped` and expires.
     */
    async remove(owner: string, id: string): Promise<void> {
      await get(owner, id);
      await c.endpoints.delete(id);
      for (;;) {
        const deleted = await retryOnConflict(`delete the queues of webhook endpoint ${id}`, async () => {
          const queues = await c.queues.find({ where: { endpointId: id }, limit: QUEUE_DELETE_BATCH });
          if (queues.length > 0) await s.store.commit(queues.map((q) => c.queues.deleteWrite(q.id, q.version)));
          return queues.length;
        });
        if (deleted < QUEUE_DELETE_BATCH) return;
      }
    },

    async rotateSecret(owner: string, id: string, overlapMs: number = DEFAULT_ROTATION_OVERLAP_MS) {
      const secret = newSigningSecret(s.randomBytes);
      const stored = await retryOnConflict(`rotate webhook secret ${id}`, async () => {
        const current = await get(owner, id);
        const at = s.clock();
        const previous = s.box.open(current.data.secret, secretBinding(id, 'current'));
        return c.endpoints.update(id, current.version, {
          ...current.data,
          secret: s.box.seal(secret, secretBinding(id, 'current')),
          previousSecret: overlapMs > 0 ? s.box.seal(previous, secretBinding(id, 'previous')) : null,
          previousSecretUntil: overlapMs > 0 ? at + overlapMs : null,
          updatedAt: at,
        });
      });
      return { endpoint: stored, secret };
    },

    /** A `webhook.test` event for this endpoint only, queued like any other. */
    async sendTest(owner: string, id: string): Promise<string> {
      const endpoint = await get(owner, id);
      const at = s.clock();
      const eventId = newEventId(at, s.randomBytes);
      const event = makeEvent({
        type: 'webhook.test',
        accountId: endpoint.data.accountId,
        subject: eventId,
        sequence: 0,
        occurredAt: at,
        data: { accountId: endpoint.data.accountId, endpointId: id, message: 'A test event sent on request.' },
      });
      const delivery = newDelivery(event, eventId, id, at);
      await s.store.commit([
        // Already dispatched: it is for this endpoint alone, whatever the others subscribe to.
        c.outbox.insertWrite(eventId, { ...event, dispatched: true, owner }, { expiresAt: at + WEBHOOK_RETENTION_MS }),
        ...enqueueWrites(c, deliveryIdOf(eventId, id), delivery, null, await c.queues.get(delivery.group), at),
      ]);
      notifyOutbox(s.store);
      return eventId;
    },

    async deliveries(owner: string, id: string, query: { status?: Delivery['status'] | undefined; limit: number }) {
      await get(owner, id);
      return c.deliveries.find({
        where: { endpointId: id, ...(query.status ? { status: query.status } : {}) },
        orderBy: { field: 'createdAt', direction: 'desc' },
        limit: query.limit,
      });
    },

    /**
     * Queues again one event, or every event since a time that this endpoint receives (even one it missed because
     * it was created later or disabled then). Each goes out with its original id.
     */
    async redeliver(owner: string, id: string, which: { eventId: string } | { since: number }) {
      const endpoint = await get(owner, id);
      const events =
        'eventId' in which
          ? [await c.outbox.get(which.eventId)].filter((e) => e !== null)
          : await c.outbox.find({
              where: { occurredAt: { gte: which.since }, ...(owner === 'platform' ? {} : { owner }) },
              orderBy: { field: 'occurredAt' },
              limit: REDELIVER_LIMIT,
            });
      const wanted = events.filter((e) =>
        e.data.type === 'webhook.test' ? e.data.data.endpointId === id : endpointReceives(endpoint.data, e.data),
      );
      if ('eventId' in which && wanted.length === 0) {
        throw new NotFoundError(`event ${which.eventId} not found for this endpoint`, { code: 'WEBHOOK_EVENT_NOT_FOUND' });
      }
      let queued = 0;
      for (const event of wanted) {
        await retryOnConflict(`redeliver ${event.id}`, async () => {
          const at = s.clock();
          const deliveryId = deliveryIdOf(event.id, id);
          const existing = await c.deliveries.get(deliveryId);
          if (existing?.data.status === 'pending') return;
          const fresh = newDelivery(event.data, event.id, id, at);
          const delivery = existing
            ? { ...existing.data, status: 'pending' as const, attempts: 0, nextAttemptAt: at, updatedAt: at }
            : fresh;
          const writes: Write[] = enqueueWrites(c, deliveryId, delivery, existing, await c.queues.get(fresh.group), at);
          await s.store.commit(writes);
          queued += 1;
        });
      }
      if (queued > 0) notifyOutbox(s.store);
      const last = events.at(-1);
      return {
        queued,
        more: !('eventId' in which) && events.length === REDELIVER_LIMIT,
        ...(last ? { lastOccurredAt: last.data.occurredAt } : {}),
      };
    },
  };
}
export type EndpointService = ReturnType<typeof createEndpointService>;

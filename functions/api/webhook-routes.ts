/**
 * `/v1/webhooks` (an account's endpoints, account API key) and `/v1/platform/webhooks` (the platform admin's, which
 * hear every account and the platform's own events): create, list, read, update, delete, rotate the secret, send
 * a test event, the delivery log and redelivery. The same routes twice, one owner each.
 */

import type { Services } from '../../shared/app/context';
import { type Delivery, ownerOf, type WebhookEndpoint } from '../../shared/app/webhooks/collections';
import { webhookEndpointsOf } from '../../shared/app/webhooks/compose';
import { webhookEndpointIdSchema } from '../../shared/domain/ids';
import { WEBHOOK_EVENT_TYPES, webhookEventTypeSchema } from '../../shared/domain/webhooks/events';
import * as z from '../../shared/domain/zod';
import { type AnyRoute, json, route } from '../../shared/runtime/http/route';
import type { Stored } from '../../shared/store/port';
import { accountScope, type OwnerScope, platformScope } from './owner-scopes';

const webhookParams = /* @__PURE__ */ z.lazy(() =>
  z.object({
    webhookId: z.described(webhookEndpointIdSchema, 'a webhook endpoint id (whk_…)'),
  }),
);

const eventTypes = z.described(
  z.array(webhookEventTypeSchema).check(z.minLength(1), z.maxLength(WEBHOOK_EVENT_TYPES.length)),
  'The event types to receive (see the webhooks section of this document).',
);
const url = z.described(
  z.string().check(z.minLength(1), z.maxLength(2048)),
  'https only in the cloud; private, loopback and metadata addresses are refused.',
);
const description = z.string().check(z.maxLength(256));

export const webhookView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.object({
      id: z.string(),
      url: z.string(),
      description: z.string(),
      eventTypes: z.array(webhookEventTypeSchema),
      enabled: z.boolean(),
      disabledReason: z.nullable(z.string()),
      failingSince: z.described(
        z.nullable(z.number().check(z.int())),
        'Since when every attempt has failed; null while deliveries succeed.',
      ),
      lastSuccessAt: z.nullable(z.number().check(z.int())),
      previousSecretUntil: z.described(
        z.nullable(z.number().check(z.int())),
        'Until when the secret before the last rotation still signs too.',
      ),
      createdAt: z.number().check(z.int()),
      updatedAt: z.number().check(z.int()),
    }),
    { id: 'WebhookEndpoint' },
  ),
);

const webhookWithSecret = /* @__PURE__ */ z.lazy(() =>
  z.object({
    webhook: webhookView,
    secret: z.described(z.string(), 'The signing secret (whsec_…), shown this once.'),
  }),
);

const deliveryView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.object({
      id: z.string(),
      eventId: z.described(z.string(), 'The webhook-id header of every attempt.'),
      eventType: webhookEventTypeSchema,
      status: z.enum(['pending', 'delivered', 'failed', 'skipped']),
      attempts: z.number().check(z.int()),
      nextAttemptAt: z.nullable(z.number().check(z.int())),
      occurredAt: z.number().check(z.int()),
      log: z.array(
        z.object({
          at: z.number().check(z.int()),
          outcome: z.enum(['delivered', 'failed', 'refused']),
          status: z.nullable(z.number().check(z.int())),
          latencyMs: z.number().check(z.int()),
          answer: z.described(z.string(), 'The start of the answer (or of the failure), truncated.'),
        }),
      ),
    }),
    { id: 'WebhookDelivery' },
  ),
);

const toWebhookView = ({ id, data: e }: Stored<WebhookEndpoint>): z.infer<typeof webhookView> => ({
  id,
  url: e.url,
  description: e.description,
  eventTypes: e.eventTypes,
  enabled: e.enabled,
  disabledReason: e.disabledReason,
  failingSince: e.failingSince,
  lastSuccessAt: e.lastSuccessAt,
  previousSecretUntil: e.previousSecretUntil,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

const toDeliveryView = ({ id, data: d }: Stored<Delivery>): z.infer<typeof deliveryView> => ({
  id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt,
  occurredAt: d.occurredAt,
  log: d.log,
});

const redeliverBody = /* @__PURE__ */ z.lazy(() =>
  z.union([
    z.strictObject({
      eventId: z.described(z.string().check(z.minLength(1), z.maxLength(64)), 'One event, sent again with its id.'),
    }),
    z.strictObject({
      since: z.described(z.number().check(z.int(), z.nonnegative()), 'Every event since this time (epoch ms), oldest first.'),
    }),
  ]),
);

function ownerRoutes(endpoints: ReturnType<typeof webhookEndpointsOf>, { prefix, auth, whose, who }: OwnerScope): AnyRoute[] {
  const one = `${prefix}/{webhookId}`;
  return [
    route({
      method: 'POST',
      path: prefix,
      status: 201,
      auth,
      summary: `Create a webhook endpoint of ${who}; its signing secret is in this answer only`,
      body: z.lazy(() => z.strictObject({ url, eventTypes, description: z.optional(description) })),
      response: webhookWithSecret,
      handle: async ({ body, principal }) => {
        const accountId = whose(principal);
        const { endpoint, secret } = await endpoints.create(ownerOf(accountId), accountId, body);
        return json(201, { webhook: toWebhookView(endpoint), secret });
      },
    }),
    route({
      method: 'GET',
      path: prefix,
      auth,
      summary: `The webhook endpoints of ${who}`,
      response: z.lazy(() => z.object({ webhooks: z.array(webhookView) })),
      handle: async ({ principal }) => json(200, { webhooks: (await endpoints.list(ownerOf(whose(principal)))).map(toWebhookView) }),
    }),
    route({
      method: 'GET',
      path: one,
      auth,
      summary: 'A webhook endpoint',
      params: webhookParams,
      response: webhookView,
      handle: async ({ params, principal }) => json(200, toWebhookView(await endpoints.get(ownerOf(whose(principal)), params.webhookId))),
    }),
    route({
      method: 'PATCH',
      path: one,
      auth,
      summary: 'Change a webhook endpoint: URL, event types, description; `enabled: false` disables it, `true` enables it again',
      params: webhookParams,
      body: z.lazy(() =>
        z.strictObject({
          url: z.optional(url),
          eventTypes: z.optional(eventTypes),
          description: z.optional(description),
          enabled: z.optional(z.boolean()),
        }),
      ),
      response: webhookView,
      handle: async ({ params, body, principal }) =>
        json(200, toWebhookView(await endpoints.update(ownerOf(whose(principal)), params.webhookId, body))),
    }),
    route({
      method: 'DELETE',
      path: one,
      status: 204,
      auth,
      summary: 'Delete a webhook endpoint (its pending deliveries are dropped)',
      params: webhookParams,
      handle: async ({ params, principal }) => {
        await endpoints.remove(ownerOf(whose(principal)), params.webhookId);
        return { status: 204, empty: true };
      },
    }),
    route({
      method: 'POST',
      path: `${one}/rotate-secret`,
      auth,
      summary: 'A new signing secret (shown once); the previous one keeps signing too for `overlapSeconds` (default one day)',
      params: webhookParams,
      body: z.lazy(() =>
        z.strictObject({
          overlapSeconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(7 * 86_400))),
        }),
      ),
      response: webhookWithSecret,
      handle: async ({ params, body, principal }) => {
        const overlapMs = body.overlapSeconds === undefined ? undefined : body.overlapSeconds * 1000;
        const { endpoint, secret } = await endpoints.rotateSecret(ownerOf(whose(principal)), params.webhookId, overlapMs);
        return json(200, { webhook: toWebhookView(endpoint), secret });
      },
    }),
    route({
      method: 'POST',
      path: `${one}/test`,
      status: 202,
      auth,
      summary: 'Send a webhook.test event to this endpoint; its delivery shows in the delivery log',
      params: webhookParams,
      response: z.lazy(() => z.object({ eventId: z.string() })),
      handle: async ({ params, principal }) =>
        json(202, { eventId: await endpoints.sendTest(ownerOf(whose(principal)), params.webhookId) }),
    }),
    route({
      method: 'GET',
      path: `${one}/deliveries`,
      auth,
      summary:
        'The delivery log of an endpoint, newest first: each event with its attempts (time, status, latency, the start of the answer)',
      params: webhookParams,
      query: z.lazy(() =>
        z.object({
          status: z.optional(z.enum(['pending', 'delivered', 'failed', 'skipped'])),
          limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
        }),
      ),
      response: z.lazy(() => z.object({ deliveries: z.array(deliveryView) })),
      handle: async ({ params, query, principal }) =>
        json(200, { deliveries: (await endpoints.deliveries(ownerOf(whose(principal)), params.webhookId, query)).map(toDeliveryView) }),
    }),
    route({
      method: 'POST',
      path: `${one}/redeliver`,
      status: 202,
      auth,
      summary: 'Send again one event (`eventId`) or every event since a time (`since`), with their original ids',
      params: webhookParams,
      body: redeliverBody,
      response: z.lazy(() =>
        z.object({
          queued: z.number().check(z.int()),
          more: z.described(z.boolean(), 'More events than one request queues: ask again from `lastOccurredAt`.'),
          lastOccurredAt: z.optional(z.number().check(z.int())),
        }),
      ),
      handle: async ({ params, body, principal }) =>
        json(202, await endpoints.redeliver(ownerOf(whose(principal)), params.webhookId, body)),
    }),
  ];
}

/** One endpoint service (and secret box) for both owners' routes, built once per cold start. */
export const webhookRoutes = (services: Services, endpoints = webhookEndpointsOf(services)): AnyRoute[] => [
  ...ownerRoutes(endpoints, accountScope('/v1/webhooks', 'the account')),
  ...ownerRoutes(endpoints, platformScope('/v1/platform/webhooks', 'the platform admin (every account’s events, and the platform’s)')),
];

/**
 * The events the platform tells integrators about: stable type names, one zod schema per type (the OpenAPI
 * document's `webhooks` section is generated from these), and the body every delivery carries.
 *
 * The body follows Standard Webhooks 1.0's recommended payload — `{ type, timestamp, data }` — and the event id is
 * the `webhook-id` header, the same on every retry, so a receiver de-duplicates on it. Events about one subject (a
 * deployment, a mini program) carry `data.sequence`, increasing with each event of that subject, so a receiver can
 * drop an older event that arrives after a newer one.
 */

import { deploymentStateSchema, historyEntrySchema } from '../deployment';
import { accountIdSchema, appIdSchema, deploymentIdSchema, type RandomBytes, weChatAppidSchema } from '../ids';
import { ROLLOUT_STATES, rolloutHistoryEntrySchema } from '../rollout';
import * as z from '../zod';

export const WEBHOOK_EVENT_TYPES = [
  'deployment.state_changed',
  'mini_program.linked',
  'mini_program.unlinked',
  'mini_program.needs_reauth',
  'authorization.refused',
  'quota.low',
  'rollout.state_changed',
  'webhook_endpoint.disabled',
  'webhook.test',
] as const;
export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

/** Events about the platform itself rather than one account: only the platform admin's endpoints receive them. */
export const PLATFORM_EVENT_TYPES: readonly WebhookEventType[] = ['quota.low'];

const sequence = z.described(
  z.number().check(z.int(), z.positive()),
  'Increases with every event about the same subject (deployment or mini program): drop one lower than the last you applied.',
);

const deploymentStateChanged = /* @__PURE__ */ z.lazy(() =>
  z.object({
    accountId: accountIdSchema,
    deploymentId: deploymentIdSchema,
    appId: appIdSchema,
    miniProgramAppid: weChatAppidSchema,
    sequence,
    from: deploymentStateSchema,
    to: deploymentStateSchema,
    /** The history entry of the transition, as `GET /v1/deployments/{id}` lists it. */
    entry: historyEntrySchema,
    /** WeChat's reason (rejection, delay) or ours (failure, cancel, void), when the new state has one. */
    reason: z.nullable(z.string()),
  }),
);

const miniProgramLinked = /* @__PURE__ */ z.lazy(() =>
  z.object({ accountId: accountIdSchema, appid: weChatAppidSchema, appId: appIdSchema, sequence }),
);
const miniProgramUnlinked = /* @__PURE__ */ z.lazy(() =>
  z.object({
    accountId: accountIdSchema,
    appid: weChatAppidSchema,
    appId: z.nullable(appIdSchema),
    reason: z.string(),
    sequence,
  }),
);
const miniProgramNeedsReauth = /* @__PURE__ */ z.lazy(() =>
  z.object({ accountId: accountIdSchema, appid: weChatAppidSchema, reason: z.string(), sequence }),
);
const authorizationRefused = /* @__PURE__ */ z.lazy(() =>
  z.object({
    accountId: accountIdSchema,
    appid: z.nullable(weChatAppidSchema),
    purpose: z.enum(['bind-primary', 'authorize-app']),
    code: z.described(z.string(), 'The stable error code the authorization page showed.'),
    reason: z.string(),
  }),
);
const quotaLow = /* @__PURE__ */ z.lazy(() =>
  z.object({
    remaining: z.number().check(z.int(), z.nonnegative()),
    limit: z.number().check(z.int(), z.nonnegative()),
    threshold: z.number().check(z.int(), z.nonnegative()),
  }),
);
const rolloutStateChanged = /* @__PURE__ */ z.lazy(() =>
  z.object({
    accountId: z.described(z.nullable(accountIdSchema), 'Null for a platform rollout (heard by the platform admin only).'),
    rolloutId: z.string(),
    sequence,
    from: z.nullable(z.enum(ROLLOUT_STATES)),
    to: z.enum(ROLLOUT_STATES),
    /** The history entry, as `GET /v1/rollouts/{id}` lists it (a wave advancing is an entry from running to running). */
    entry: rolloutHistoryEntrySchema,
    counts: z.described(z.record(z.string(), z.number().check(z.int())), 'Members per state at the change.'),
  }),
);
const endpointDisabled = /* @__PURE__ */ z.lazy(() =>
  z.object({
    accountId: z.nullable(accountIdSchema),
    endpointId: z.string(),
    url: z.string(),
    failingSince: z.number().check(z.int()),
    reason: z.string(),
  }),
);
const testEvent = /* @__PURE__ */ z.lazy(() =>
  z.object({ accountId: z.nullable(accountIdSchema), endpointId: z.string(), message: z.string() }),
);

export const WEBHOOK_EVENT_DATA = {
  'deployment.state_changed': deploymentStateChanged,
  'mini_program.linked': miniProgramLinked,
  'mini_program.unlinked': miniProgramUnlinked,
  'mini_program.needs_reauth': miniProgramNeedsReauth,
  'authorization.refused': authorizationRefused,
  'quota.low': quotaLow,
  'rollout.state_changed': rolloutStateChanged,
  'webhook_endpoint.disabled': endpointDisabled,
  'webhook.test': testEvent,
} as const satisfies Record<WebhookEventType, z.ZodMiniType>;

export const WEBHOOK_EVENT_SUMMARIES: Record<WebhookEventType, string> = {
  'deployment.state_changed': 'A deployment moved to another state (with the history entry and the reason).',
  'mini_program.linked': 'A mini program was authorized and linked to an app.',
  'mini_program.unlinked': 'A mini program was unlinked from its app (unbind, another app took it, or WeChat unauthorized it).',
  'mini_program.needs_reauth': 'WeChat no longer accepts the mini program’s refresh token: its admin must scan again.',
  'authorization.refused': 'A scan was refused (other subject, missing permission sets…), with the reason.',
  'quota.low': 'The platform’s audit quota for the month is running low (platform admin endpoints only).',
  'rollout.state_changed':
    'A rollout changed: started, paused, resumed, halted by its gate (with why), a wave advanced, waiting for quota, aborted, completed.',
  'webhook_endpoint.disabled': 'An endpoint failed for about three days and was disabled.',
  'webhook.test': 'Sent on request, to check an endpoint.',
};

export type WebhookEventData<T extends WebhookEventType> = z.infer<(typeof WEBHOOK_EVENT_DATA)[T]>;

/** An event as the outbox keeps it. `accountId` null = a platform event. */
export const webhookEventSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    type: webhookEventTypeSchema,
    accountId: z.nullable(accountIdSchema),
    /** What the event is about (`dep_…`, `wx…`, the platform): deliveries of one subject go out in sequence order. */
    subject: z.string(),
    sequence: z.number().check(z.int(), z.nonnegative()),
    occurredAt: z.number().check(z.int(), z.nonnegative()),
    data: z.record(z.string(), z.unknown()),
    /** Fanned out to the endpoints subscribed when the worker first saw it. */
    dispatched: z.boolean(),
  }),
);
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

// Crockford base32, like our other ids; the millisecond prefix makes ids sort by time in logs.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const newEventId = (at: number, randomBytes: RandomBytes): string => {
  let body = '';
  for (const byte of randomBytes(16)) body += ALPHABET[byte & 31];
  return `evt_${at.toString(36).padStart(9, '0')}${body}`;
};

export interface NewWebhookEvent<T extends WebhookEventType> {
  type: T;
  accountId: WebhookEvent['accountId'];
  subject: string;
  sequence: number;
  occurredAt: number;
  data: WebhookEventData<T>;
}

/** Validates `data` against its type's schema now, so a malformed event fails the state change's write, not a delivery. */
export function makeEvent<T extends WebhookEventType>(input: NewWebhookEvent<T>): WebhookEvent {
  const data = WEBHOOK_EVENT_DATA[input.type].parse(input.data) as Record<string, unknown>;
  return { ...input, data, dispatched: false };
}

/** The exact bytes a delivery sends (and signs). */
export function deliveryBody(event: Pick<WebhookEvent, 'type' | 'occurredAt' | 'data'>): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(event.occurredAt).toISOString(), data: event.data });
}

/** Whether an endpoint (of `endpointAccount`, null = platform admin) receives this event. */
export function endpointReceives(
  endpoint: { accountId: string | null; eventTypes: readonly WebhookEventType[] },
  event: Pick<WebhookEvent, 'type' | 'accountId'>,
): boolean {
  if (!endpoint.eventTypes.includes(event.type)) return false;
  // The platform admin hears every account; an account hears only itself, and never platform events.
  return endpoint.accountId === null || endpoint.accountId === event.accountId;
}

/** How every delivery is signed, for the API document. */
export const SIGNING_DESCRIPTION =
  'Signed per Standard Webhooks 1.0: headers `webhook-id` (the event id, the same on every retry: de-duplicate on it), ' +
  '`webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of ' +
  '`{webhook-id}.{webhook-timestamp}.{body}` under the base64 key after `whsec_`; two signatures during a secret rotation). ' +
  'Verify with the official `standardwebhooks` library of your language.';

/** Each event type's delivery body (`{ type, timestamp, data }`), for the API document's `webhooks` section. */
export const webhookDocs = () =>
  WEBHOOK_EVENT_TYPES.map((type) => ({
    name: type,
    summary: WEBHOOK_EVENT_SUMMARIES[type],
    description: SIGNING_DESCRIPTION,
    body: z.registered(
      z.object({
        type: z.literal(type),
        timestamp: z.described(z.string(), 'When it happened (ISO 8601).'),
        data: WEBHOOK_EVENT_DATA[type],
      }),
      { id: `WebhookEvent_${type.replace(/\./g, '_')}` },
    ),
  }));

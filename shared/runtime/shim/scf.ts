/**
 * Tencent SCF event functions: API Gateway trigger (integration request), function URL, timer.
 * Sources: trigger event summary https://cloud.tencent.com/document/product/583/31439 (apigw + timer),
 * function URL https://cloud.tencent.com/document/product/583/96099, Node.js context fields
 * https://docs.cloudbase.net/en/api-reference/server/node-sdk/env (parseContext).
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import * as z from '../../domain/zod';
import {
  buildContext,
  buildHttpEvent,
  decodeRawEvent,
  looseMultiMap,
  MalformedTriggerEventError,
  pairsOf,
  parseLenient,
  parseWith,
  type ScheduledEvent,
  stringMap,
  timerToScheduledEvent,
} from './common';

/** The request as the API GW trigger gives it; the function URL's event is documented as the same format (583/96099). */
const requestFields = () => ({
  httpMethod: z.string().check(z.minLength(1)),
  path: z.string(),
  headers: looseMultiMap(),
  body: z.nullish(z.string()),
  // Only present when the API enables Base64 encoding; the official sample omits it.
  isBase64Encoded: z.nullish(z.boolean()),
  queryString: looseMultiMap(),
  queryStringParameters: looseMultiMap(),
});

const apigwEventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    ...requestFields(),
    pathParameters: stringMap(),
    stageVariables: stringMap(),
    requestContext: z.object({
      serviceId: z.string(),
      path: z.optional(z.string()),
      requestId: z.optional(z.string()),
      sourceIp: z.optional(z.string()),
      stage: z.optional(z.string()),
    }),
  }),
);
export type ScfApigwEvent = z.infer<ReturnType<typeof apigwEventSchema>>;

/**
 * Documented as the API GW format minus headerParameters, isBase64Encoded, pathParameters, queryStringParameters and
 * requestContext (583/96099). Events observed since carry them back, mostly empty:
 * `requestContext: { sourceIp }`, `isBase64Encoded: false`, `queryStringParameters: {}`, `headerParameters: {}`,
 * `pathParameters: {}` and an `x-scf-request-id` header (fixtures/scf-url-observed.json). Both shapes are read.
 */
const urlEventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    ...requestFields(),
    requestContext: z.nullish(z.object({ sourceIp: z.optional(z.string()), requestId: z.optional(z.string()) })),
  }),
);
export type ScfUrlEvent = z.infer<ReturnType<typeof urlEventSchema>>;

const timerEventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    Type: z.string().check(z.refine((type) => type.toLowerCase() === 'timer', 'Type must be "Timer" (any case)')),
    TriggerName: z.string().check(z.minLength(1)),
    Time: z.string(),
    Message: z.nullish(z.string()),
  }),
);
export type ScfTimerEvent = z.infer<ReturnType<typeof timerEventSchema>>;

// Context values are platform metadata, not input: a field of an unexpected type is treated as absent.
const contextSchema = /* @__PURE__ */ z.builtOnFirstUse(() => {
  const lenientNumber = z.catch(z.optional(z.number()), undefined);
  const lenientString = z.catch(z.optional(z.string()), undefined);
  return z.object({
    request_id: lenientString,
    function_name: lenientString,
    function_version: lenientString,
    memory_limit_in_mb: lenientNumber,
    time_limit_in_ms: lenientNumber,
    callbackWaitsForEmptyEventLoop: z.catch(z.optional(z.boolean()), undefined),
  });
});
export type ScfContext = z.infer<ReturnType<typeof contextSchema>>;

const readContext = (raw: unknown): ScfContext => parseLenient(contextSchema(), raw);

/** API GW sends either all params (`queryString`) or only declared ones (`queryStringParameters`): take the fuller. */
function queryOf(
  event: Pick<ScfApigwEvent, 'queryString' | 'queryStringParameters'>,
): Record<string, string | string[]> | null | undefined {
  return event.queryString && Object.keys(event.queryString).length > 0 ? event.queryString : event.queryStringParameters;
}

export function scfApigwToHttpEvent(raw: unknown, rawContext: unknown, receivedAtMs: number): APIGatewayProxyEvent {
  const event = parseWith('scf-apigw', apigwEventSchema(), decodeRawEvent('scf-apigw', raw));
  const { requestContext: rc } = event;
  return buildHttpEvent({
    method: event.httpMethod,
    path: event.path,
    resource: rc.path ?? event.path,
    headers: pairsOf(event.headers),
    query: pairsOf(queryOf(event)),
    pathParameters: event.pathParameters,
    stageVariables: event.stageVariables,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestId: rc.requestId ?? readContext(rawContext).request_id ?? '',
    sourceIp: rc.sourceIp ?? '',
    stage: rc.stage ?? '',
    apiId: rc.serviceId,
    requestTimeEpoch: receivedAtMs,
  });
}

/**
 * A function URL hands the body over as a string and documents no `isBase64Encoded`, and SCF's quota page
 * (583/11637) has files passed to a function base64-encoded: raw bytes that are not UTF-8 (an image) would not survive. So a client
 * uploading binary through a function URL sends the body base64-encoded and says so with
 * `Content-Transfer-Encoding: base64` (MIME's name for exactly that, RFC 2045 §6); the body then reaches the
 * handler as the bytes the client meant. Line breaks in the encoding are allowed (RFC 2045 §6.8). Should SCF itself
 * encode the body (`isBase64Encoded: true`), that layer is taken off first.
 */
const CLIENT_ENCODING_HEADER = 'content-transfer-encoding';

function urlBody(event: ScfUrlEvent, declaredEncoding: string | undefined): { body: string | null | undefined; isBase64Encoded: boolean } {
  const platformEncoded = event.isBase64Encoded ?? false;
  if (declaredEncoding?.trim().toLowerCase() !== 'base64' || !event.body) return { body: event.body, isBase64Encoded: platformEncoded };
  const sent = platformEncoded ? Buffer.from(event.body, 'base64').toString('latin1') : event.body;
  const base64 = sent.replace(/[\r\n\t ]+/g, '');
  if (!z.base64().safeParse(base64).success) {
    throw new MalformedTriggerEventError('scf-url', [
      { path: 'body', message: 'declared Content-Transfer-Encoding: base64, but the body is not base64' },
    ]);
  }
  return { body: base64, isBase64Encoded: true };
}

export function scfUrlToHttpEvent(raw: unknown, rawContext: unknown, receivedAtMs: number): APIGatewayProxyEvent {
  const event = parseWith('scf-url', urlEventSchema(), decodeRawEvent('scf-url', raw));
  const headers = pairsOf(event.headers);
  const header = (wanted: string) => headers.find(([name]) => name.toLowerCase() === wanted)?.[1];
  return buildHttpEvent({
    method: event.httpMethod,
    path: event.path,
    resource: event.path,
    headers,
    query: pairsOf(queryOf(event)),
    pathParameters: null,
    stageVariables: null,
    ...urlBody(event, header(CLIENT_ENCODING_HEADER)),
    requestId: readContext(rawContext).request_id ?? event.requestContext?.requestId ?? header('x-scf-request-id') ?? '',
    sourceIp: header('x-scf-remote-addr') ?? event.requestContext?.sourceIp ?? '',
    stage: '',
    requestTimeEpoch: receivedAtMs,
  });
}

/** SCF API GW integrated response; the function URL takes the same shape (its docs show statusCode/headers/body). */
export const scfTimerToScheduledEvent = (raw: unknown): ScheduledEvent =>
  timerToScheduledEvent('scf-timer', timerEventSchema(), raw, { triggerName: 'TriggerName', time: 'Time', payload: 'Message' });

export function scfContext(rawContext: unknown, startedAtMs: number, now: () => number): Context {
  const ctx = readContext(rawContext);
  const parts = {
    functionName: ctx.function_name,
    functionVersion: ctx.function_version,
    requestId: ctx.request_id,
    memoryLimitInMB: ctx.memory_limit_in_mb,
    timeLimitMs: ctx.time_limit_in_ms,
    callbackWaitsForEmptyEventLoop: ctx.callbackWaitsForEmptyEventLoop,
  };
  return buildContext(rawContext, parts, startedAtMs, now);
}

/**
 * The local runtime: the local gateway turns each node:http request (or fired timer) into one of these events,
 * invokes the same cloud entry the providers call, and writes the LocalHttpResult back to the socket.
 * The shapes are ours, so they carry exactly what node:http knows and nothing lossy: raw header pairs
 * (repeats kept), the raw query string, the body as base64 (binary-safe).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from '../../domain/zod';
import {
  buildContext,
  buildHttpEvent,
  checkResult,
  decodeRawEvent,
  pairsFromQueryString,
  parseLenient,
  parseWith,
  type ScheduledEvent,
  safeDecodeURIComponent,
  timerToScheduledEvent,
} from './common';

const localHttpEventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    kind: z.literal('local-http'),
    method: z.string().check(z.minLength(1)),
    /** The request-target's path as sent (still percent-encoded), without the query. */
    rawPath: z.string().check(z.startsWith('/')),
    /** Everything after "?", without the "?"; '' when there is none. */
    rawQueryString: z.string(),
    /** node's `req.rawHeaders` paired up: [name, value] in arrival order, names as the client spelled them. */
    rawHeaders: z.array(z.tuple([z.string(), z.string()])),
    /** The whole body, base64; '' when there is none. */
    bodyBase64: z.base64(),
    clientIp: z.string(),
    requestId: z.string().check(z.minLength(1)),
    /** Values the local router extracted, if it matched a template like `/accounts/{id}`. */
    pathParameters: z.optional(z.record(z.string(), z.string())),
    /** That template, when known. */
    resource: z.optional(z.string()),
  }),
);
export type LocalHttpEvent = z.infer<ReturnType<typeof localHttpEventSchema>>;

const localTimerEventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    kind: z.literal('local-timer'),
    triggerName: z.string().check(z.minLength(1)),
    /** ISO 8601. */
    fireTime: z.string(),
    payload: z.optional(z.string()),
  }),
);
export type LocalTimerEvent = z.infer<ReturnType<typeof localTimerEventSchema>>;

const localContextSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    requestId: z.catch(z.optional(z.string()), undefined),
    functionName: z.catch(z.optional(z.string()), undefined),
    /** Epoch ms by which the invocation must finish (the gateway's own timeout). */
    deadlineMs: z.catch(z.optional(z.number()), undefined),
    memoryLimitInMB: z.catch(z.optional(z.number()), undefined),
  }),
);
/** What the local gateway passes as the second argument. Every field is optional so a bare test call works. */
export type LocalContext = z.input<ReturnType<typeof localContextSchema>>;

export interface LocalHttpResult {
  statusCode: number;
  /** Lower-cased names, one pair per value (several Set-Cookie stay several), ready for `res.appendHeader`. */
  headers: [string, string][];
  bodyBase64: string;
}

export function localToHttpEvent(raw: unknown, _rawContext: unknown, receivedAtMs: number): APIGatewayProxyEvent {
  const event = parseWith('local-http', localHttpEventSchema(), decodeRawEvent('local-http', raw));
  const path = safeDecodeURIComponent(event.rawPath);
  return buildHttpEvent({
    method: event.method,
    path,
    resource: event.resource ?? path,
    headers: event.rawHeaders,
    query: pairsFromQueryString(event.rawQueryString),
    pathParameters: event.pathParameters,
    stageVariables: null,
    body: event.bodyBase64,
    // Always base64 (or null when empty): the body parser decodes, as for binary bodies on the cloud gateways.
    isBase64Encoded: event.bodyBase64 !== '',
    requestId: event.requestId,
    sourceIp: event.clientIp,
    stage: 'local',
    protocol: 'HTTP/1.1',
    requestTimeEpoch: receivedAtMs,
  });
}

export function toLocalResult(result: APIGatewayProxyResult): LocalHttpResult {
  const checked = checkResult(result);
  return {
    statusCode: checked.statusCode,
    headers: checked.headers.map(([name, value]): [string, string] => [name, value]),
    bodyBase64: checked.isBase64Encoded ? checked.body : Buffer.from(checked.body, 'utf8').toString('base64'),
  };
}

export const localTimerToScheduledEvent = (raw: unknown): ScheduledEvent =>
  timerToScheduledEvent('local-timer', localTimerEventSchema(), raw, { triggerName: 'triggerName', time: 'fireTime', payload: 'payload' });

export function localContext(rawContext: unknown, startedAtMs: number, now: () => number): Context {
  const { functionName, requestId, memoryLimitInMB, deadlineMs } = parseLenient(localContextSchema(), rawContext);
  return buildContext(rawContext, { functionName, requestId, memoryLimitInMB, deadlineMs }, startedAtMs, now);
}

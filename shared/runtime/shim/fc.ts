/**
 * Alibaba Function Compute 3.0, built-in Node.js runtime: HTTP trigger (payload version "v1") and time trigger.
 * Sources: https://help.aliyun.com/zh/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function,
 * https://www.alibabacloud.com/help/en/fc/formats-of-event-for-different-triggers (timer),
 * https://www.alibabacloud.com/help/en/functioncompute/user-guide/context (context: requestId, function.{name,
 * handler, memory, timeout}; timeout in seconds, memory in MB).
 * Event handlers receive the event as a Buffer of JSON (FC "Event handlers" page); `decodeRawEvent` handles that.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import * as z from '../../domain/zod';
import {
  buildContext,
  buildHttpEvent,
  decodeRawEvent,
  gatewayHttpSchema,
  looseMultiMap,
  pairsOf,
  parseLenient,
  parseWith,
  type ScheduledEvent,
  safeDecodeURIComponent,
  timerToScheduledEvent,
} from './common';

const httpEventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    version: z.literal('v1'),
    /** Still percent-encoded; `requestContext.http.path` is the decoded one. */
    rawPath: z.string(),
    body: z.nullish(z.string()),
    isBase64Encoded: z.nullish(z.boolean()),
    /** Repeated headers arrive comma-joined and stay that way: the split point is not recoverable. */
    headers: looseMultiMap(),
    /** Same for repeated query keys ("value1,value2"); FC gives no raw query string to recover them from. */
    queryParameters: looseMultiMap(),
    requestContext: z.object({
      accountId: z.optional(z.string()),
      domainName: z.optional(z.string()),
      http: gatewayHttpSchema(),
      requestId: z.optional(z.string()),
      timeEpoch: z.optional(z.union([z.string(), z.number()])),
    }),
  }),
);
export type FcHttpEvent = z.infer<ReturnType<typeof httpEventSchema>>;

const timerEventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    triggerTime: z.string(),
    triggerName: z.string().check(z.minLength(1)),
    payload: z.nullish(z.string()),
  }),
);
export type FcTimerEvent = z.infer<ReturnType<typeof timerEventSchema>>;

const contextSchema = /* @__PURE__ */ z.builtOnFirstUse(() => {
  const lenientNumber = z.catch(z.optional(z.number()), undefined);
  const lenientString = z.catch(z.optional(z.string()), undefined);
  return z.object({
    requestId: lenientString,
    function: z.catch(
      z.optional(
        z.object({
          name: lenientString,
          memory: lenientNumber,
          // Not in the docs (they say `memory`); accepted because other FC material calls the setting memorySize.
          memorySize: lenientNumber,
          timeout: lenientNumber,
        }),
      ),
      undefined,
    ),
    service: z.catch(z.optional(z.object({ qualifier: lenientString, versionId: lenientString })), undefined),
    callbackWaitsForEmptyEventLoop: z.catch(z.optional(z.boolean()), undefined),
  });
});
export type FcContext = z.infer<ReturnType<typeof contextSchema>>;

const readContext = (raw: unknown): FcContext => parseLenient(contextSchema(), raw);

function epochOf(value: string | number | undefined, fallback: number): number {
  const ms = Number(value);
  return value === undefined || !Number.isFinite(ms) ? fallback : ms;
}

export function fcHttpToHttpEvent(raw: unknown, rawContext: unknown, receivedAtMs: number): APIGatewayProxyEvent {
  const event = parseWith('fc-http', httpEventSchema(), decodeRawEvent('fc-http', raw));
  const { requestContext: rc } = event;
  const path = rc.http.path ?? safeDecodeURIComponent(event.rawPath);
  return buildHttpEvent({
    method: rc.http.method,
    path,
    resource: path,
    headers: pairsOf(event.headers),
    query: pairsOf(event.queryParameters),
    pathParameters: null,
    stageVariables: null,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestId: rc.requestId ?? readContext(rawContext).requestId ?? '',
    sourceIp: rc.http.sourceIp ?? '',
    stage: '',
    accountId: rc.accountId,
    domainName: rc.domainName,
    protocol: rc.http.protocol,
    userAgent: rc.http.userAgent,
    requestTimeEpoch: epochOf(rc.timeEpoch, receivedAtMs),
  });
}

export const fcTimerToScheduledEvent = (raw: unknown): ScheduledEvent =>
  timerToScheduledEvent('fc-timer', timerEventSchema(), raw, { triggerName: 'triggerName', time: 'triggerTime', payload: 'payload' });

export function fcContext(rawContext: unknown, startedAtMs: number, now: () => number): Context {
  const ctx = readContext(rawContext);
  const timeoutSeconds = ctx.function?.timeout;
  const parts = {
    functionName: ctx.function?.name,
    functionVersion: ctx.service?.versionId ?? ctx.service?.qualifier ?? 'LATEST',
    requestId: ctx.requestId,
    memoryLimitInMB: ctx.function?.memory ?? ctx.function?.memorySize,
    timeLimitMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
    callbackWaitsForEmptyEventLoop: ctx.callbackWaitsForEmptyEventLoop,
  };
  return buildContext(rawContext, parts, startedAtMs, now);
}

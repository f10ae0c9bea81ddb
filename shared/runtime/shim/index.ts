/**
 * One cloud entry for every provider: `makeCloudHandler` detects which trigger fired, turns its event into an
 * AWS-style `APIGatewayProxyEvent` (or a `ScheduledEvent`) plus a Lambda-compatible `Context`, runs the
 * function's handler and turns the result into what that provider expects back.
 *
 *   exports.main_handler = exports.handler = makeCloudHandler({ http: middyfiedHandler, schedule: cronJob });
 *
 * Normalisation rules are listed in common.ts; provider quirks in scf.ts, fc.ts, aws.ts, local.ts. Each
 * provider's schemas are built when its first event arrives (`builtOnFirstUse`), not at import.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { awsContext, awsScheduleToScheduledEvent, awsV1ToHttpEvent, awsV2ToHttpEvent, toAwsV1Result, toAwsV2Result } from './aws';
import {
  asRecord,
  decodeRawEvent,
  MalformedTriggerEventError,
  NoHandlerForTriggerError,
  type ProviderKind,
  type ScheduledEvent,
  ShimUsageError,
  standInHttpEvent,
  toFoldedResult,
  UnknownTriggerEventError,
  untakenConversionFailure,
} from './common';
import { fcContext, fcHttpToHttpEvent, fcTimerToScheduledEvent } from './fc';
import { localContext, localTimerToScheduledEvent, localToHttpEvent, toLocalResult } from './local';
import { scfApigwToHttpEvent, scfContext, scfTimerToScheduledEvent, scfUrlToHttpEvent } from './scf';

export {
  FALLBACK_TIME_LIMIT_MS,
  MalformedTriggerEventError,
  NoHandlerForTriggerError,
  type ProviderKind,
  type ScheduledEvent,
  type ShimUsageCode,
  ShimUsageError,
  takeConversionFailure,
  UnknownTriggerEventError,
} from './common';
export type { LocalContext, LocalHttpEvent, LocalHttpResult, LocalTimerEvent } from './local';

export type HttpHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type ScheduleHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

export type HttpProviderKind = 'scf-apigw' | 'scf-url' | 'fc-http' | 'aws-v1' | 'aws-v2' | 'local-http';
export type ScheduleProviderKind = Exclude<ProviderKind, HttpProviderKind>;

type ToHttpEvent = (raw: unknown, rawContext: unknown, receivedAtMs: number) => APIGatewayProxyEvent;
const httpAdapters: Record<HttpProviderKind, { toEvent: ToHttpEvent; toResult: (result: APIGatewayProxyResult) => unknown }> = {
  'scf-apigw': { toEvent: scfApigwToHttpEvent, toResult: toFoldedResult },
  'scf-url': { toEvent: scfUrlToHttpEvent, toResult: toFoldedResult },
  'fc-http': { toEvent: fcHttpToHttpEvent, toResult: toFoldedResult },
  'aws-v1': { toEvent: awsV1ToHttpEvent, toResult: toAwsV1Result },
  'aws-v2': { toEvent: awsV2ToHttpEvent, toResult: toAwsV2Result },
  'local-http': { toEvent: localToHttpEvent, toResult: toLocalResult },
};

const scheduleAdapters: Record<ScheduleProviderKind, (raw: unknown) => ScheduledEvent> = {
  'scf-timer': scfTimerToScheduledEvent,
  'fc-timer': fcTimerToScheduledEvent,
  'aws-schedule': awsScheduleToScheduledEvent,
  'local-timer': localTimerToScheduledEvent,
};

type ContextBuilder = (rawContext: unknown, startedAtMs: number, now: () => number) => Context;
const contextBuilders: Record<ProviderKind, ContextBuilder> = {
  'scf-apigw': scfContext,
  'scf-url': scfContext,
  'scf-timer': scfContext,
  'fc-http': fcContext,
  'fc-timer': fcContext,
  'aws-v1': awsContext,
  'aws-v2': awsContext,
  'aws-schedule': awsContext,
  'local-http': localContext,
  'local-timer': localContext,
};

export const isHttpKind = (kind: ProviderKind): kind is HttpProviderKind => Object.hasOwn(httpAdapters, kind);

/**
 * Tells providers apart by fields that identify them (§2.7 of the stack reference), never by a field that happens
 * to be missing: SCF's function-URL event has grown a `requestContext` (`{ sourceIp }`, seen in 2025–26) that its
 * documentation leaves out, so "httpMethod without requestContext" no longer describes it. It only sniffs; the
 * converters validate the whole event.
 * - SCF API Gateway: `requestContext.serviceId`.
 * - SCF function URL: `queryString` (SCF's name for the query; AWS calls it queryStringParameters) or an `x-scf-*`
 *   header the platform adds (`x-scf-remote-addr` in the documented sample, `x-scf-request-id` in observed ones).
 * - AWS REST (payload 1.0): `multiValueHeaders`, or `requestContext.apiId` / `requestContext.identity`, which every
 *   API Gateway proxy event carries.
 */
export function detectProvider(raw: unknown): ProviderKind {
  const event = asRecord(decodeRawEvent(undefined, raw));
  const has = (key: string): boolean => Object.hasOwn(event, key);
  if (event.kind === 'local-http' || event.kind === 'local-timer') return event.kind;
  if (typeof event.Type === 'string' && event.Type.toLowerCase() === 'timer' && has('TriggerName')) return 'scf-timer';
  if (has('triggerTime') && has('triggerName')) return 'fc-timer';
  if (event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') return 'aws-schedule';
  if (event.version === 'v1' && has('rawPath')) return 'fc-http';
  if (event.version === '2.0' && has('rawPath')) return 'aws-v2';
  if (has('httpMethod')) {
    const requestContext = asRecord(event.requestContext);
    if (Object.hasOwn(requestContext, 'serviceId')) return 'scf-apigw';
    if (has('queryString') || Object.keys(asRecord(event.headers)).some((name) => /^x-scf-/i.test(name))) return 'scf-url';
    if (has('multiValueHeaders') || Object.hasOwn(requestContext, 'apiId') || Object.hasOwn(requestContext, 'identity')) return 'aws-v1';
  }
  throw new UnknownTriggerEventError('the event matches no known trigger format', {
    details: { keys: Object.keys(event).slice(0, 20) },
  });
}

/** `receivedAtMs` fills `requestContext.requestTimeEpoch` when the provider sends no request time. */
export function toHttpEvent(
  kind: ProviderKind,
  raw: unknown,
  rawContext: unknown,
  receivedAtMs: number = Date.now(),
): APIGatewayProxyEvent {
  if (!isHttpKind(kind)) throw new ShimUsageError('TRIGGER_KIND_MISMATCH', `${kind} is not an HTTP trigger`);
  return httpAdapters[kind].toEvent(raw, rawContext, receivedAtMs);
}

export function toScheduledEvent(kind: ProviderKind, raw: unknown): ScheduledEvent {
  if (isHttpKind(kind)) throw new ShimUsageError('TRIGGER_KIND_MISMATCH', `${kind} is not a timer trigger`);
  return scheduleAdapters[kind](raw);
}

/** What the provider's gateway expects as the function's return value for an HTTP request. */
export function toProviderResult(kind: ProviderKind, result: APIGatewayProxyResult): unknown {
  if (!isHttpKind(kind)) throw new ShimUsageError('TRIGGER_KIND_MISMATCH', `${kind} takes no HTTP result`);
  return httpAdapters[kind].toResult(result);
}

/**
 * A Lambda `Context` whose getRemainingTimeInMillis() is the provider's limit minus the time since
 * `startedAtMs` (never negative), so middy's early timeout works off AWS. See FALLBACK_TIME_LIMIT_MS for
 * providers that state no limit. The provider's own context fields are kept alongside.
 */
export function toLambdaContext(kind: ProviderKind, rawContext: unknown, startedAtMs: number, now: () => number = Date.now): Context {
  return contextBuilders[kind](rawContext, startedAtMs, now);
}

/** What can be read of a request line from an event (already decoded) that failed conversion, for the access log only. */
function requestLineOf(decoded: unknown): { method: string; path: string } {
  const event = asRecord(decoded);
  const http = asRecord(asRecord(event.requestContext).http);
  const text = (...values: unknown[]) => values.find((value): value is string => typeof value === 'string' && value !== '');
  return {
    method: text(event.httpMethod, event.method, http.method)?.slice(0, 16) ?? '',
    path: text(event.path, event.rawPath, http.path)?.slice(0, 2048) ?? '',
  };
}

/**
 * A malformed HTTP event is answered, through the HTTP handler, as the 400 its MalformedTriggerEventError maps to
 * (see standInHttpEvent). Everything else the shim raises is still thrown to the platform: an unrecognised event
 * can't be told to be HTTP, so there is no one to answer; and a malformed *timer* event has no caller waiting, so
 * failing the invocation is what makes it visible (the platform records it, alerts and retries per its policy).
 */
export function makeCloudHandler(
  handlers: { http?: HttpHandler; schedule?: ScheduleHandler },
  opts: { now?: () => number } = {},
): (rawEvent: unknown, rawContext?: unknown) => Promise<unknown> {
  const now = opts.now ?? Date.now;
  return async (received, rawContext) => {
    const startedAtMs = now();
    // FC hands the event over as a Buffer of JSON: parsed once here; detection and conversion take the value.
    const rawEvent = decodeRawEvent(undefined, received);
    const kind = detectProvider(rawEvent);
    if (isHttpKind(kind)) {
      if (!handlers.http)
        throw new NoHandlerForTriggerError(`this function has no HTTP handler but a ${kind} trigger fired`, { details: { kind } });
      const context = toLambdaContext(kind, rawContext, startedAtMs, now);
      let event: APIGatewayProxyEvent;
      try {
        event = toHttpEvent(kind, rawEvent, rawContext, startedAtMs);
      } catch (error) {
        if (!(error instanceof MalformedTriggerEventError)) throw error;
        event = standInHttpEvent(error, { ...requestLineOf(rawEvent), requestId: context.awsRequestId, receivedAtMs: startedAtMs });
      }
      const result = await handlers.http(event, context);
      const unanswered = untakenConversionFailure(event);
      if (unanswered) throw unanswered;
      return toProviderResult(kind, result);
    }
    if (!handlers.schedule)
      throw new NoHandlerForTriggerError(`this function has no schedule handler but a ${kind} trigger fired`, { details: { kind } });
    return handlers.schedule(toScheduledEvent(kind, rawEvent), toLambdaContext(kind, rawContext, startedAtMs, now));
  };
}

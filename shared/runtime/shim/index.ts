/**
 * One cloud entry for every provider: `makeCloudHandler` detects which trigger fired, turns its event into an
 * AWS-style `APIGatewayProxyEvent` (or a `ScheduledEvent`) plus a Lambda-compatible `Context`, runs the
 * function's handler and turns the result into what that provider expects back.
 *
 *   exports.main_handler = exports.handler = makeCloudHandler({ http: middyfiedHandler, schedule: cronJob });
 *
 * Normalisation rules are listed in common.ts; provider quirks in scf.ts, fc.ts, aws.ts, local.ts. Each
 * provider's schemas are built when its first event arrives (`z.builtOnFirstUse`), not at import. A function bundle
 * carries only the providers it is built for (see `shims` below); the source carries them all.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { awsContext, awsScheduleToScheduledEvent, awsV1ToHttpEvent, awsV2ToHttpEvent, toAwsV1Result, toAwsV2Result } from './aws';
import {
  asRecord,
  decodeRawEvent,
  MalformedTriggerEventError,
  NoHandlerForTriggerError,
  PROVIDERS,
  type Provider,
  type ProviderKind,
  ProviderNotInBundleError,
  providerOf,
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
  PROVIDERS,
  type Provider,
  type ProviderKind,
  ProviderNotInBundleError,
  type ScheduledEvent,
  type ShimUsageCode,
  ShimUsageError,
  takeConversionFailure,
  UnknownTriggerEventError,
} from './common';
export type { LocalContext, LocalHttpEvent, LocalHttpResult, LocalTimerEvent } from './local';

export type HttpHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type ScheduleHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

const HTTP_KINDS = ['scf-apigw', 'scf-url', 'fc-http', 'aws-v1', 'aws-v2', 'local-http'] as const satisfies readonly ProviderKind[];
export type HttpProviderKind = (typeof HTTP_KINDS)[number];
export type ScheduleProviderKind = Exclude<ProviderKind, HttpProviderKind>;

type ToHttpEvent = (raw: unknown, rawContext: unknown, receivedAtMs: number) => APIGatewayProxyEvent;
type HttpAdapter = { toEvent: ToHttpEvent; toResult: (result: APIGatewayProxyResult) => unknown };
type ScheduleAdapter = (raw: unknown) => ScheduledEvent;
type ContextBuilder = (rawContext: unknown, startedAtMs: number, now: () => number) => Context;

/** One provider's adapters: a converter for each trigger kind of that provider (all of them), and its context builder. */
type KindsOf<P extends Provider, K extends ProviderKind> = Extract<K, `${P}-${string}`>;
interface ProviderShim<P extends Provider> {
  http: { [K in KindsOf<P, HttpProviderKind>]: HttpAdapter };
  schedule: { [K in KindsOf<P, ScheduleProviderKind>]: ScheduleAdapter };
  context: ContextBuilder;
}
type AnyShim = {
  http: Partial<Record<HttpProviderKind, HttpAdapter>>;
  schedule: Partial<Record<ScheduleProviderKind, ScheduleAdapter>>;
  context: ContextBuilder;
};

/**
 * The shims this code carries. A function bundle carries only the providers it is built for (scripts/build.ts
 * `--providers`, default the deploy targets SCF and FC): the build replaces each `process.env.WXA_BUNDLE_OMITS_<P>`
 * with "true" or "false" (an esbuild `define`), so a provider left out is a constant branch, dropped with its
 * adapters. Under tsx and jest they are unset: every provider is carried.
 */
const shims: { [P in Provider]: ProviderShim<P> | undefined } = {
  scf:
    process.env.WXA_BUNDLE_OMITS_SCF === 'true'
      ? undefined
      : {
          http: {
            'scf-apigw': { toEvent: scfApigwToHttpEvent, toResult: toFoldedResult },
            'scf-url': { toEvent: scfUrlToHttpEvent, toResult: toFoldedResult },
          },
          schedule: { 'scf-timer': scfTimerToScheduledEvent },
          context: scfContext,
        },
  fc:
    process.env.WXA_BUNDLE_OMITS_FC === 'true'
      ? undefined
      : {
          http: { 'fc-http': { toEvent: fcHttpToHttpEvent, toResult: toFoldedResult } },
          schedule: { 'fc-timer': fcTimerToScheduledEvent },
          context: fcContext,
        },
  aws:
    process.env.WXA_BUNDLE_OMITS_AWS === 'true'
      ? undefined
      : {
          http: {
            'aws-v1': { toEvent: awsV1ToHttpEvent, toResult: toAwsV1Result },
            'aws-v2': { toEvent: awsV2ToHttpEvent, toResult: toAwsV2Result },
          },
          schedule: { 'aws-schedule': awsScheduleToScheduledEvent },
          context: awsContext,
        },
  local:
    process.env.WXA_BUNDLE_OMITS_LOCAL === 'true'
      ? undefined
      : {
          http: { 'local-http': { toEvent: localToHttpEvent, toResult: toLocalResult } },
          schedule: { 'local-timer': localTimerToScheduledEvent },
          context: localContext,
        },
};

export const isHttpKind = (kind: ProviderKind): kind is HttpProviderKind => (HTTP_KINDS as readonly ProviderKind[]).includes(kind);

/** The providers whose shims this code carries. */
export const carriedProviders = (): Provider[] => PROVIDERS.filter((provider) => shims[provider] !== undefined);

/** The shim of `kind`'s provider, or a ProviderNotInBundleError that says how to build one that has it. */
function shimOf(kind: ProviderKind): AnyShim {
  const provider = providerOf(kind);
  const shim: AnyShim | undefined = shims[provider];
  if (shim) return shim;
  const built = carriedProviders().join(',');
  throw new ProviderNotInBundleError(
    `${kind} event: this bundle carries no ${provider} shim (built for WXA_PROVIDERS=${built}): rebuild with WXA_PROVIDERS=${built},${provider} npm run build`,
    { details: { kind, provider, carried: carriedProviders() } },
  );
}

function httpAdapterOf(kind: HttpProviderKind): HttpAdapter {
  const adapter = shimOf(kind).http[kind];
  if (!adapter) throw new ShimUsageError('TRIGGER_KIND_MISMATCH', `${kind} has no HTTP adapter`);
  return adapter;
}

function scheduleAdapterOf(kind: ScheduleProviderKind): ScheduleAdapter {
  const adapter = shimOf(kind).schedule[kind];
  if (!adapter) throw new ShimUsageError('TRIGGER_KIND_MISMATCH', `${kind} has no timer adapter`);
  return adapter;
}

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
  return httpAdapterOf(kind).toEvent(raw, rawContext, receivedAtMs);
}

export function toScheduledEvent(kind: ProviderKind, raw: unknown): ScheduledEvent {
  if (isHttpKind(kind)) throw new ShimUsageError('TRIGGER_KIND_MISMATCH', `${kind} is not a timer trigger`);
  return scheduleAdapterOf(kind)(raw);
}

/** What the provider's gateway expects as the function's return value for an HTTP request. */
export function toProviderResult(kind: ProviderKind, result: APIGatewayProxyResult): unknown {
  if (!isHttpKind(kind)) throw new ShimUsageError('TRIGGER_KIND_MISMATCH', `${kind} takes no HTTP result`);
  return httpAdapterOf(kind).toResult(result);
}

/**
 * A Lambda `Context` whose getRemainingTimeInMillis() is the provider's limit minus the time since
 * `startedAtMs` (never negative), so middy's early timeout works off AWS. See FALLBACK_TIME_LIMIT_MS for
 * providers that state no limit. The provider's own context fields are kept alongside.
 */
export function toLambdaContext(kind: ProviderKind, rawContext: unknown, startedAtMs: number, now: () => number = Date.now): Context {
  return shimOf(kind).context(rawContext, startedAtMs, now);
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
    shimOf(kind); // an event of a provider this bundle was built without fails here, named (ProviderNotInBundleError)
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

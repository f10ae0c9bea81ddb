/**
 * Pieces every provider adapter shares: the shim's errors, raw-event decoding, zod helpers, and the two
 * builders that give every provider the *same* normalised `APIGatewayProxyEvent` and Lambda `Context`.
 *
 * Normalisation rules (the same for every provider, so handlers never branch on where they run):
 * - `headers` keys are lower-case. A header that arrived several times is joined with "," (as FC and AWS
 *   HTTP API v2 already deliver it), except `cookie`, joined with "; " (the only separator a Cookie header allows).
 * - `multiValueHeaders` keeps each value as the provider delivered it: one entry per occurrence where the
 *   provider keeps them apart (AWS v1, local), a single comma-joined entry where it doesn't (FC, v2, SCF).
 * - `queryStringParameters`: the LAST value wins for a repeated key (what AWS REST v1 does: its documented
 *   sample maps `multivalueName=you&multivalueName=me` to "me"); `multiValueQueryStringParameters` has all.
 * - Empty maps become `null`, as in AWS events; the HTTP stack (`shared/runtime/http/stack.ts`) reads them as `{}`.
 * - `body` is passed through untouched (still base64 when `isBase64Encoded`); an absent or empty body is `null`.
 * - `path` is percent-decoded (FC's `requestContext.http.path` and AWS's `path` are); `resource` is the route
 *   template when the provider knows it, else the path.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { AppError, type AppErrorOptions, type FieldIssue, ValidationError } from '../../domain/errors';
import * as z from '../../domain/zod';

export type ProviderKind =
  | 'scf-apigw'
  | 'scf-url'
  | 'scf-timer'
  | 'fc-http'
  | 'fc-timer'
  | 'aws-v1'
  | 'aws-v2'
  | 'aws-schedule'
  | 'local-http'
  | 'local-timer';

/** The providers a shim exists for: each `ProviderKind` is `<provider>-<trigger>`. */
export const PROVIDERS = ['scf', 'fc', 'aws', 'local'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const providerOf = (kind: ProviderKind): Provider => kind.slice(0, kind.indexOf('-')) as Provider;

export interface ScheduledEvent {
  kind: 'schedule';
  provider: ProviderKind;
  triggerName: string;
  /** ISO 8601 in UTC, normalised through `Date#toISOString` (so always with milliseconds). */
  time: string;
  /** The trigger's configured message; `undefined` when none was configured (an empty string counts as none). */
  payload: string | undefined;
}

// ---------------------------------------------------------------------------------------------------- errors

/** The raw event matches no provider this shim knows: the function was wired to a trigger it can't read. */
export class UnknownTriggerEventError extends AppError {
  readonly code = 'TRIGGER_EVENT_UNKNOWN';
  readonly category = 'invalid' as const;
}

/** The event looks like provider X but lacks or mistypes a field the shim depends on. */
export class MalformedTriggerEventError extends ValidationError {
  constructor(kind: ProviderKind, issues: readonly FieldIssue[], options: AppErrorOptions = {}) {
    super(`malformed ${kind} trigger event`, issues, { ...options, code: 'TRIGGER_EVENT_MALFORMED', details: { kind } });
  }
}

/** A function deployed without a handler for the trigger that fired (e.g. a timer on an HTTP-only function). */
export class NoHandlerForTriggerError extends AppError {
  readonly code = 'TRIGGER_HANDLER_MISSING';
  readonly category = 'internal' as const;
}

/**
 * A known provider's event reached a bundle built without that provider's shim (scripts/build.ts `--providers`):
 * the event is recognised, so the error names its provider, but it can't be read nor answered in that provider's
 * shape. A build mistake, not the caller's: thrown to the platform, which records the failed invocation.
 */
export class ProviderNotInBundleError extends AppError {
  readonly code = 'TRIGGER_PROVIDER_NOT_IN_BUNDLE';
  readonly category = 'internal' as const;
}

export type ShimUsageCode = 'TRIGGER_KIND_MISMATCH' | 'HANDLER_RESULT_INVALID' | 'CONTEXT_CALLBACK_UNSUPPORTED';

/** Our own code used the shim wrongly (wrong kind for a converter, a handler returning no proxy result…). */
export class ShimUsageError extends AppError {
  readonly code: ShimUsageCode;
  readonly category = 'internal' as const;
  constructor(code: ShimUsageCode, message: string, options: AppErrorOptions = {}) {
    super(message, options);
    this.code = code;
  }
}

// ------------------------------------------------------------------------------------------- decode & parse

/**
 * FC hands event handlers a Buffer holding the JSON text (its docs: "the event object is of the Buffer type"),
 * and test consoles sometimes pass the JSON string: turn both into the parsed value; objects pass through.
 */
export function decodeRawEvent(kind: ProviderKind | undefined, raw: unknown): unknown {
  const text = raw instanceof Uint8Array ? Buffer.from(raw).toString('utf8') : typeof raw === 'string' ? raw : undefined;
  if (text === undefined) return raw;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    // Before detection we can't say which provider sent it; after, it's that provider's event gone wrong.
    if (kind === undefined) throw new UnknownTriggerEventError('the event is text but not JSON', { cause });
    throw new MalformedTriggerEventError(kind, [{ path: '', message: 'event is text but not JSON' }], { cause });
  }
}

const parsedBefore = new WeakSet<z.ZodMiniType>();

/**
 * Options for a parse by the shim. zod generates and compiles a parser for an object schema on its first parse (its
 * JIT), which a cold start would pay for the one event and context it parses; so each schema's first parse runs
 * zod's interpreter instead, and a warm instance compiles the fast parser at its second.
 */
export function parseOptions(schema: z.ZodMiniType): { jitless: true } | undefined {
  if (parsedBefore.has(schema)) return undefined;
  parsedBefore.add(schema);
  return { jitless: true };
}

export function parseWith<S extends z.ZodMiniType>(kind: ProviderKind, schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw, parseOptions(schema));
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  throw new MalformedTriggerEventError(kind, issues, { cause: result.error });
}

/** `Record<string, string>`; null (sent by AWS for "none") is accepted and means empty. */
export const stringMap = z.builtOnFirstUse(() => z.nullish(z.record(z.string(), z.string())));
/**
 * Some gateways send a repeated key as an array; accept both shapes where the docs don't pin it down. A null value
 * (seen from SCF function URLs for a header or query key sent without a value, e.g. `?flag`) is read as '' rather
 * than refused: the client can't choose how the gateway renders its request, and `?flag` is '' everywhere else.
 */
export const looseMultiMap = z.builtOnFirstUse(() => {
  const value = z.pipe(
    z.nullable(z.string()),
    z.transform((v) => v ?? ''),
  );
  return z.nullish(z.record(z.string(), z.union([value, z.array(value)])));
});

/** `requestContext.http` of API Gateway payload 2.0, which FC 3.0's HTTP trigger event copies field for field. */
export const gatewayHttpSchema = () =>
  z.object({
    method: z.string().check(z.minLength(1)),
    path: z.optional(z.string()),
    protocol: z.optional(z.string()),
    sourceIp: z.optional(z.string()),
    userAgent: z.optional(z.string()),
  });

export type Pair = readonly [name: string, value: string];

export const pairsOf = (map: Record<string, string | string[]> | null | undefined): Pair[] =>
  Object.entries(map ?? {}).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v): Pair => [key, v]));

export function pairsFromQueryString(rawQuery: string): Pair[] {
  return [...new URLSearchParams(rawQuery)].map(([key, value]): Pair => [key, value]);
}

/** A malformed escape must not fail the request: the raw text is then the best path we have. */
export function safeDecodeURIComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export const nonEmptyOrNull = <T>(map: Record<string, T> | null | undefined): Record<string, T> | null =>
  map && Object.keys(map).length > 0 ? { ...map } : null;

// --------------------------------------------------------------------------------------- event construction

export interface HttpParts {
  method: string;
  /** Percent-decoded request path. */
  path: string;
  /** Route template (`/users/{id}`) when the provider knows it, else the path. */
  resource: string;
  /** Every header occurrence in arrival order, names as the provider spelled them. */
  headers: readonly Pair[];
  /** Every query parameter occurrence in order, already decoded. */
  query: readonly Pair[];
  pathParameters: Record<string, string> | null | undefined;
  stageVariables: Record<string, string> | null | undefined;
  body: string | null | undefined;
  isBase64Encoded: boolean;
  requestId: string;
  sourceIp: string;
  stage: string;
  requestTimeEpoch: number;
  accountId?: string | undefined;
  apiId?: string | undefined;
  domainName?: string | undefined;
  protocol?: string | undefined;
  userAgent?: string | undefined;
  authorizer?: Record<string, unknown> | null | undefined;
}

const joinHeader = (name: string, values: readonly string[]): string => values.join(name === 'cookie' ? '; ' : ',');

/** Maps keyed by what a client sent: no prototype, so `constructor` or `__proto__` are just names. */
const keyedByClient = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

export function buildHttpEvent(parts: HttpParts): APIGatewayProxyEvent {
  const multiValueHeaders = keyedByClient<string[]>();
  for (const [rawName, value] of parts.headers) {
    const name = rawName.toLowerCase();
    // An empty header name can't exist on the wire (the AWS v1 doc sample carries one); dropping it keeps
    // `headers['']` from ever being a thing a handler could read.
    if (name === '') continue;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const headers = keyedByClient<string>();
  for (const [name, values] of Object.entries(multiValueHeaders)) headers[name] = joinHeader(name, values);

  const multiValueQuery = keyedByClient<string[]>();
  const query = keyedByClient<string>();
  for (const [key, value] of parts.query) {
    (multiValueQuery[key] ??= []).push(value);
    query[key] = value;
  }

  return {
    resource: parts.resource,
    path: parts.path,
    httpMethod: parts.method.toUpperCase(),
    headers,
    multiValueHeaders,
    // Built just above, so handed over as they are: copying a map keyed by the client costs more than building it.
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    multiValueQueryStringParameters: Object.keys(multiValueQuery).length > 0 ? multiValueQuery : null,
    pathParameters: nonEmptyOrNull(parts.pathParameters),
    stageVariables: nonEmptyOrNull(parts.stageVariables),
    body: parts.body === undefined || parts.body === null || parts.body === '' ? null : parts.body,
    isBase64Encoded: parts.isBase64Encoded,
    requestContext: {
      accountId: parts.accountId ?? '',
      apiId: parts.apiId ?? '',
      authorizer: parts.authorizer ?? null,
      ...(parts.domainName === undefined ? {} : { domainName: parts.domainName }),
      protocol: parts.protocol ?? '',
      httpMethod: parts.method.toUpperCase(),
      path: parts.path,
      stage: parts.stage,
      requestId: parts.requestId,
      requestTimeEpoch: parts.requestTimeEpoch,
      resourceId: '',
      resourcePath: parts.resource,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: parts.sourceIp,
        user: null,
        userAgent: parts.userAgent ?? headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}

// ------------------------------------------------------------------------------------------ failed HTTP events

/**
 * An HTTP event the shim cannot convert still came from a client who is owed an answer, and the one place that
 * turns an error into a status and our envelope is the HTTP stack's error middleware. So the shim hands the HTTP
 * handler a stand-in event carrying the error, the stack throws it from inside middy (`takeConversionFailure`),
 * and the shim checks afterwards that it was taken: a handler that doesn't know this convention must not answer
 * 200 to a request it never saw.
 */
const conversionFailures = new WeakMap<APIGatewayProxyEvent, { error: MalformedTriggerEventError; taken: boolean }>();

/** `method` and `path` are only what could be salvaged for the access log; nothing routes on them. */
export function standInHttpEvent(
  error: MalformedTriggerEventError,
  parts: { method: string; path: string; requestId: string; receivedAtMs: number },
): APIGatewayProxyEvent {
  const event = buildHttpEvent({
    method: parts.method,
    path: parts.path,
    resource: parts.path,
    headers: [],
    query: [],
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestId: parts.requestId,
    sourceIp: '',
    stage: '',
    requestTimeEpoch: parts.receivedAtMs,
  });
  conversionFailures.set(event, { error, taken: false });
  return event;
}

/** For the HTTP stack: the error to answer instead of handling the request, if the event is a stand-in. */
export function takeConversionFailure(event: APIGatewayProxyEvent): MalformedTriggerEventError | undefined {
  const failure = conversionFailures.get(event);
  if (!failure) return undefined;
  failure.taken = true;
  return failure.error;
}

export function untakenConversionFailure(event: APIGatewayProxyEvent): MalformedTriggerEventError | undefined {
  const failure = conversionFailures.get(event);
  return failure && !failure.taken ? failure.error : undefined;
}

export function toIsoTime(kind: ProviderKind, field: string, value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new MalformedTriggerEventError(kind, [{ path: field, message: `not a date: ${value}` }]);
  return new Date(ms).toISOString();
}

// --------------------------------------------------------------------------------------------------- results

const resultSchema = z.builtOnFirstUse(() =>
  z.object({
    statusCode: z.number().check(z.int(), z.gte(100), z.lte(599)),
    headers: z.nullish(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
    multiValueHeaders: z.nullish(z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()])))),
    body: z.nullish(z.string()),
    isBase64Encoded: z.nullish(z.boolean()),
  }),
);

export interface CheckedResult {
  statusCode: number;
  /** Lower-cased names, one pair per value; `multiValueHeaders` wins over `headers` for a name in both (AWS rule). */
  headers: Pair[];
  body: string;
  isBase64Encoded: boolean;
}

/** The handler is ours but its result crosses into the platform: check it so a bug gives a typed error. */
export function checkResult(result: APIGatewayProxyResult): CheckedResult {
  const schema = resultSchema();
  const parsed = schema.safeParse(result, parseOptions(schema));
  if (!parsed.success) {
    throw new ShimUsageError('HANDLER_RESULT_INVALID', 'the HTTP handler returned no valid APIGatewayProxyResult', {
      cause: parsed.error,
      details: { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
    });
  }
  const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = parsed.data;
  const pairs: Pair[] = [];
  const fromMulti = new Set<string>();
  for (const [name, values] of Object.entries(multiValueHeaders ?? {})) {
    fromMulti.add(name.toLowerCase());
    for (const value of values) pairs.push([name.toLowerCase(), String(value)]);
  }
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!fromMulti.has(name.toLowerCase())) pairs.push([name.toLowerCase(), String(value)]);
  }
  return { statusCode, headers: pairs, body: body ?? '', isBase64Encoded: isBase64Encoded ?? false };
}

/**
 * For providers whose response headers are a plain string map. Repeated headers are folded with ", " (RFC 9110
 * list syntax). Set-Cookie can't be folded safely (its Expires attribute contains a comma), so several cookies
 * in one response only survive on AWS and the local runtime: on SCF/FC send one cookie per response.
 */
export function foldHeaders(pairs: readonly Pair[]): Record<string, string> {
  const folded: Record<string, string> = {};
  for (const [name, value] of pairs) folded[name] = folded[name] === undefined ? value : `${folded[name]}, ${value}`;
  return folded;
}

// --------------------------------------------------------------------------------------------------- context

/**
 * Used when a provider's context carries no time limit. The platforms' *configuration* default (3 s on SCF per
 * its CreateFunction API doc, and on AWS) says nothing about how this function was configured, and guessing low
 * would make middy's early timeout abort healthy requests; 15 min is the largest limit SCF and AWS allow, so
 * with it middy never fires before the platform's own timeout would.
 */
export const FALLBACK_TIME_LIMIT_MS = 15 * 60 * 1000;

/** What a provider's context says of the invocation; what it leaves out gets the same default on every provider. */
export interface ContextParts {
  functionName?: string | undefined;
  /** '$LATEST' when the provider does not say. */
  functionVersion?: string | undefined;
  requestId?: string | undefined;
  memoryLimitInMB?: number | undefined;
  /** Absolute epoch ms by which the invocation must end, when the provider gives one (the local gateway). */
  deadlineMs?: number | undefined;
  /** Otherwise the provider's time limit, counted from the start; FALLBACK_TIME_LIMIT_MS when unknown. */
  timeLimitMs?: number | undefined;
  callbackWaitsForEmptyEventLoop?: boolean | undefined;
}

const callbacksUnsupported = (): never => {
  throw new ShimUsageError('CONTEXT_CALLBACK_UNSUPPORTED', 'callback-style completion is not supported: return a promise');
};

/**
 * The canonical context over the provider's own (`rawContext`'s fields stay readable, e.g. SCF's `request_id` for
 * logging).
 */
export function buildContext(rawContext: unknown, parts: ContextParts, startedAtMs: number, now: () => number): Context {
  const deadlineMs = parts.deadlineMs ?? startedAtMs + (parts.timeLimitMs ?? FALLBACK_TIME_LIMIT_MS);
  const context: Context = {
    callbackWaitsForEmptyEventLoop: parts.callbackWaitsForEmptyEventLoop ?? true,
    functionName: parts.functionName ?? '',
    functionVersion: parts.functionVersion ?? '$LATEST',
    invokedFunctionArn: '', // no ARNs outside AWS
    memoryLimitInMB: parts.memoryLimitInMB === undefined ? '' : String(parts.memoryLimitInMB),
    awsRequestId: parts.requestId ?? '',
    logGroupName: '',
    logStreamName: '',
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - now()),
    done: callbacksUnsupported,
    fail: callbacksUnsupported,
    succeed: callbacksUnsupported,
  };
  // The provider's own fields are copied onto the canonical context, not the other way round: on Node 20 an
  // object that gets a dozen new keys after a spread (or Object.assign onto a spread copy) costs ~20 µs per call,
  // a tenth of a push's CPU (`npx tsx bench/object-spread.ts`). Same result: canonical fields win, the rest stay.
  const raw = asRecord(rawContext);
  for (const key of Object.keys(raw))
    if (!Object.hasOwn(context, key))
      Object.defineProperty(context, key, { value: raw[key], enumerable: true, writable: true, configurable: true });
  return context;
}

export const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};

/**
 * Reads a provider's context with a schema whose every field is `.catch(undefined)`: context values are platform
 * metadata, so one of an unexpected type counts as absent, and anything but an object as an empty context.
 */
export function parseLenient<S extends z.ZodMiniType>(schema: S, rawContext: unknown): z.output<S> {
  return schema.parse(asRecord(rawContext), parseOptions(schema));
}

/**
 * SCF (API gateway and function URL) and FC3 take the same result back: one header value each, so repeated
 * headers are folded; several Set-Cookie therefore become one (send one cookie per response on those providers).
 */
export function toFoldedResult(result: APIGatewayProxyResult): {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
} {
  const checked = checkResult(result);
  return {
    statusCode: checked.statusCode,
    headers: foldHeaders(checked.headers),
    isBase64Encoded: checked.isBase64Encoded,
    body: checked.body,
  };
}

/** Every provider's timer event says the same three things, under its own field names. */
export function scheduledEvent(
  provider: ProviderKind,
  fields: { triggerName: string; time: { field: string; value: string }; payload: string | null | undefined },
): ScheduledEvent {
  return {
    kind: 'schedule',
    provider,
    triggerName: fields.triggerName,
    time: toIsoTime(provider, fields.time.field, fields.time.value),
    // An empty configured message is no message.
    payload: fields.payload || undefined,
  };
}

/** A timer trigger's event read with its schema; `keys` says which of its fields holds the trigger, time and payload. */
export function timerToScheduledEvent<N extends string, T extends string, P extends string>(
  provider: ProviderKind,
  schema: z.ZodMiniType<Record<N | T, string> & { [K in P]?: string | null | undefined }>,
  raw: unknown,
  keys: { triggerName: N; time: T; payload: P },
): ScheduledEvent {
  const event = parseWith(provider, schema, decodeRawEvent(provider, raw));
  return scheduledEvent(provider, {
    triggerName: event[keys.triggerName],
    time: { field: keys.time, value: event[keys.time] },
    payload: event[keys.payload],
  });
}

/**
 * The one middy stack every HTTP function runs behind:
 *
 *   request context (id, logger, access log) → CORS → body reader (size limit) → error handler
 *   → router (match, authenticate, check the body's media type against the route's, parse JSON, validate with zod,
 *     run the route)
 *
 * The stack parses JSON only. A route that takes another body (an image, WeChat's XML push) declares its media
 * types (`bodyTypes`) and parses the bytes itself; a body of any type the route does not declare is refused (415)
 * before anything reads it, so no JSON route ever acts on XML.
 *
 * The error handler is the only place that turns an error into an HTTP status. That includes provider events the
 * shim could not convert: they arrive as stand-ins whose error the request context throws (see shim/common.ts).
 */

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  AuthenticationError,
  type ErrorCategory,
  isAppError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../domain/errors';
import type { Logger } from '../logger';
import { takeConversionFailure } from '../shim';
import type { IdempotencyGuard } from './idempotency';
import { decodedPathProblem, NonCanonicalPathError } from './path';
import { ANY_MEDIA_TYPE, type AnyRoute, createRouter, type ErrorPage, mediaTypeOf, type Principal, type Reply, wantsJson } from './route';

export interface AccountAuthenticator {
  /** Resolves an account API key to its account id, or null. Must compare in constant time / by hash. */
  authenticate(apiKey: string): Promise<string | null>;
}

export interface HttpFunctionOptions {
  name: string;
  routes: readonly AnyRoute[];
  log: Logger;
  maxBodyBytes: number;
  corsOrigins: readonly string[];
  adminApiKey?: string;
  accounts?: AccountAuthenticator;
  /** Honours `Idempotency-Key` on POST routes when given. */
  idempotency?: IdempotencyGuard;
  /** Milliseconds before the platform's time limit at which handlers are aborted (middy early timeout). */
  timeoutEarlyMs?: number;
}

export const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'too-large': 413,
  'unsupported-media': 415,
  'rate-limited': 429,
  unavailable: 503,
  internal: 500,
};

interface RequestState {
  requestId: string;
  startedAt: number;
  log: Logger;
  rawBody: Buffer;
  headers: Record<string, string>;
  /** Extra fields for the access-log line, from `RequestContext.annotate`. */
  annotations: Record<string, unknown> | undefined;
  /** The matched route's HTML error page, once routing found one. */
  errorPage: ErrorPage | undefined;
}

type HttpRequest = middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

const states = new WeakMap<object, RequestState>();
const stateOf = (event: APIGatewayProxyEvent): RequestState => {
  const state = states.get(event);
  if (!state) throw new Error('request state missing: the request-context middleware must run first');
  return state;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const lowerCaseHeaders = (event: APIGatewayProxyEvent): Record<string, string> => {
  // No prototype: header names are the client's choice (`constructor`, `__proto__`).
  const headers = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values && values.length > 1) headers[name.toLowerCase()] = values.join(', ');
  }
  return headers;
};

const withHeaders = (response: APIGatewayProxyResult, extra: Record<string, string>): APIGatewayProxyResult => ({
  ...response,
  headers: { ...(response.headers ?? {}), ...extra },
});

export function toResult(reply: Reply): APIGatewayProxyResult {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  if ('json' in reply) {
    return {
      statusCode: reply.status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify(reply.json),
    };
  }
  if ('text' in reply) {
    return {
      statusCode: reply.status,
      headers: { 'content-type': reply.contentType ?? 'text/plain; charset=utf-8', ...headers },
      body: reply.text,
    };
  }
  if ('bytes' in reply) {
    return {
      statusCode: reply.status,
      headers: { 'content-type': reply.contentType, ...headers },
      body: reply.bytes.toString('base64'),
      isBase64Encoded: true,
    };
  }
  return { statusCode: reply.status, headers, body: '' };
}

function requestContextMiddleware(fnName: string, log: Logger): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const finish = (request: HttpRequest) => {
    const state = states.get(request.event);
    if (!state || !request.response) return;
    request.response = withHeaders(request.response, { 'x-request-id': state.requestId });
    // HEAD gets what GET would, minus the body; errors included, as no HEAD response may carry one.
    if (request.event.httpMethod.toUpperCase() === 'HEAD') request.response = { ...request.response, body: '', isBase64Encoded: false };
    state.log.info('request', {
      method: request.event.httpMethod,
      path: request.event.path,
      status: request.response.statusCode,
      durationMs: Date.now() - state.startedAt,
      ...state.annotations,
    });
  };
  return {
    before: (request) => {
      const headers = lowerCaseHeaders(request.event);
      const offered = headers['x-request-id'];
      const requestId = offered && REQUEST_ID.test(offered) ? offered : request.event.requestContext?.requestId || randomUUID();
      states.set(request.event, {
        requestId,
        startedAt: Date.now(),
        log: log.child({ fn: fnName, requestId }),
        rawBody: Buffer.alloc(0),
        headers,
        annotations: undefined,
        errorPage: undefined,
      });
      const malformed = takeConversionFailure(request.event);
      if (malformed) throw malformed;
    },
    after: finish,
    onError: finish,
  };
}

const CORS_ALLOW_HEADERS = 'authorization, content-type, idempotency-key, x-api-key, x-request-id';

function corsMiddleware(origins: readonly string[]): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const allowAll = origins.includes('*');
  const corsHeaders = (event: APIGatewayProxyEvent): Record<string, string> => {
    const origin = stateOf(event).headers.origin;
    if (!origin || !(allowAll || origins.includes(origin))) return {};
    return {
      'access-control-allow-origin': allowAll ? '*' : origin,
      'access-control-expose-headers': 'x-request-id, idempotency-replayed',
      vary: 'Origin',
    };
  };
  const addHeaders = (request: HttpRequest) => {
    if (request.response) request.response = withHeaders(request.response, corsHeaders(request.event));
  };
  return {
    before: (request) => {
      if (request.event.httpMethod.toUpperCase() !== 'OPTIONS') return undefined;
      const headers = corsHeaders(request.event);
      return {
        statusCode: 204,
        headers: Object.keys(headers).length
          ? {
              ...headers,
              'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
              'access-control-allow-headers': CORS_ALLOW_HEADERS,
              'access-control-max-age': '600',
            }
          : {},
        body: '',
      };
    },
    after: addHeaders,
    onError: addHeaders,
  };
}

/** Deeper bodies are refused: recursive validators (zod's `z.json()`) would overflow the stack on them. */
export const MAX_JSON_DEPTH = 64;

/** Iterative, so the check itself cannot overflow. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item || item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= limit) return true;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

function bodyMiddleware(maxBytes: number): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: (request) => {
      const state = stateOf(request.event);
      const raw = request.event.body ?? '';
      // Checking the encoded length first refuses a huge body before spending memory on decoding it.
      const encodedLimit = request.event.isBase64Encoded ? Math.ceil(maxBytes / 3) * 4 + 4 : maxBytes * 4;
      if (raw.length > encodedLimit) throw new PayloadTooLargeError(`request body exceeds ${maxBytes} bytes`, { field: 'body' });
      const bytes = request.event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.length > maxBytes) throw new PayloadTooLargeError(`request body exceeds ${maxBytes} bytes`, { field: 'body' });
      state.rawBody = bytes;
    },
  };
}

const isJsonMediaType = (type: string): boolean => type === 'application/json' || type.endsWith('+json');

/**
 * The body as the route takes it: refused (415) unless its media type is one the route declares — JSON for a route
 * with a `body` schema, its `bodyTypes` otherwise — and parsed only when it is JSON. A route that declares no body
 * ignores one.
 */
function parseBodyFor(route: AnyRoute, state: RequestState): unknown {
  if (state.rawBody.length === 0) return undefined;
  const type = mediaTypeOf(state.headers['content-type']);
  if (route.bodyTypes) {
    if (!route.bodyTypes.includes(type) && !route.bodyTypes.includes(ANY_MEDIA_TYPE)) {
      throw new UnsupportedMediaTypeError(`send the body as ${route.bodyTypes.join(' or ')}, not ${type || 'no content-type'}`, {
        field: 'headers.content-type',
      });
    }
    return undefined;
  }
  if (!route.schemas.body) return undefined;
  if (!isJsonMediaType(type)) {
    throw new UnsupportedMediaTypeError(`send the body as application/json, not ${type || 'no content-type'}`, {
      field: 'headers.content-type',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(state.rawBody.toString('utf8'));
  } catch (cause) {
    throw new ValidationError('request body is not valid JSON', [{ path: 'body', message: 'not valid JSON' }], {
      code: 'INVALID_JSON',
      cause,
    });
  }
  if (depthExceeds(parsed, MAX_JSON_DEPTH)) {
    throw new ValidationError(`request body nests deeper than ${MAX_JSON_DEPTH} levels`, [{ path: 'body', message: 'too deeply nested' }], {
      code: 'JSON_TOO_DEEP',
    });
  }
  return parsed;
}

/**
 * 5xx bodies say only what the caller can act on: the stable code, a fixed message and the request id to quote.
 * The error's own message and details name endpoints, hosts and internals; they go to the log line only.
 */
const SERVER_FAILURE_MESSAGE: Record<number, string> = {
  503: 'A service this request depends on is unavailable; retry later, and quote the request id if it persists.',
};
const GENERIC_SERVER_FAILURE = 'Internal error; quote the request id when reporting it.';

/** Maps an error to the status and envelope the caller gets: the one place where an HTTP status is decided. */
function errorReply(
  error: unknown,
  requestId: string,
): { status: number; envelope: { error: ErrorEnvelopeBody }; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (isAppError(error) && error.category !== 'internal') {
    const status = STATUS_BY_CATEGORY[error.category];
    if (status >= 500)
      return {
        status,
        envelope: { error: { code: error.code, message: SERVER_FAILURE_MESSAGE[status] ?? GENERIC_SERVER_FAILURE, requestId } },
        headers,
      };
    if (error instanceof AuthenticationError) headers['www-authenticate'] = 'Bearer';
    if (error instanceof MethodNotAllowedError && Array.isArray(error.details?.allowed)) headers.allow = error.details.allowed.join(', ');
    const body: ErrorEnvelopeBody = {
      code: error.code,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
      ...(error instanceof ValidationError ? { issues: error.issues } : {}),
      ...(error.details ? { details: error.details } : {}),
      requestId,
    };
    return { status, envelope: { error: body }, headers };
  }
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  return {
    status: timedOut ? 503 : 500,
    envelope: {
      error: timedOut
        ? { code: 'TIMEOUT', message: 'The request ran out of time; it is safe to retry.', requestId }
        : { code: 'INTERNAL_ERROR', message: GENERIC_SERVER_FAILURE, requestId },
    },
    headers,
  };
}

interface ErrorEnvelopeBody {
  code: string;
  message: string;
  field?: string;
  issues?: readonly { path: string; message: string }[];
  details?: Record<string, unknown>;
  requestId: string;
}

function errorHandlerMiddleware(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: (request) => {
      const error = request.error;
      const state = states.get(request.event);
      const requestId = state?.requestId ?? 'unknown';
      const log = state?.log;
      const { status, envelope, headers } = errorReply(error, requestId);
      if (isAppError(error) && error.category !== 'internal') {
        // A 4xx is the caller's mistake, answered as designed: the request's one access line says which (info,
        // no stack). Only failures of ours get a line of their own.
        if (status < 500 && state)
          state.annotations = { ...state.annotations, code: error.code, ...(error.field ? { field: error.field } : {}) };
        else log?.error('request failed', { error, code: error.code, status, details: error.details });
      } else {
        log?.error(envelope.error.code === 'TIMEOUT' ? 'request timed out' : 'request crashed', { error });
      }
      if (state?.errorPage && !wantsJson(state.headers)) {
        const { code, message, field } = envelope.error;
        const page = state.errorPage({ status, code, message, requestId, ...(field ? { field } : {}) });
        request.response = { statusCode: status, headers: { ...headers, 'content-type': 'text/html; charset=utf-8' }, body: page };
        return;
      }
      request.response = {
        statusCode: status,
        headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(envelope),
      };
    },
  };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** Reads the API key from `Authorization: Bearer …` or `X-Api-Key`. */
export const apiKeyOf = (headers: Record<string, string>): string | undefined => {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  return bearer?.[1] ?? headers['x-api-key'];
};

async function authenticate(route: AnyRoute, headers: Record<string, string>, options: HttpFunctionOptions): Promise<Principal> {
  if (route.auth === 'public') return { kind: 'public' };
  const key = apiKeyOf(headers);
  if (!key) throw new AuthenticationError('an API key is required (Authorization: Bearer <key>)', { code: 'API_KEY_MISSING' });
  if (route.auth === 'admin') {
    // Comparing digests keeps the comparison constant-time whatever the key lengths are.
    if (options.adminApiKey && timingSafeEqual(sha256(key), sha256(options.adminApiKey))) return { kind: 'admin' };
    throw new AuthenticationError('the admin API key is not valid', { code: 'API_KEY_INVALID' });
  }
  const accountId = options.accounts ? await options.accounts.authenticate(key) : null;
  if (!accountId) throw new AuthenticationError('the API key is not valid', { code: 'API_KEY_INVALID' });
  return { kind: 'account', accountId };
}

/**
 * A POST without a body means `{}` where the route's body has no required field (unbind without `force`), like
 * the routes that take no body at all; a route that needs fields still says which.
 */
const bodyOrDefault = (route: AnyRoute, rawBody: Buffer, parsed: unknown): unknown =>
  parsed === undefined && rawBody.length === 0 && route.acceptsEmptyBody() ? {} : parsed;

const queryOf = (event: APIGatewayProxyEvent): Record<string, string | undefined> =>
  Object.assign(Object.create(null) as Record<string, string | undefined>, event.queryStringParameters ?? {});

export function createHttpFunction(options: HttpFunctionOptions) {
  const match = createRouter(options.routes);

  const router = async (event: APIGatewayProxyEvent, context: Context, { signal }: { signal: AbortSignal }) => {
    const state = stateOf(event);
    const pathProblem = decodedPathProblem(event.path);
    if (pathProblem) throw new NonCanonicalPathError(pathProblem);
    const found = match(event.httpMethod, event.path);
    if (found.kind === 'none') throw new NotFoundError(`no route for ${event.httpMethod} ${event.path}`, { code: 'ROUTE_NOT_FOUND' });
    if (found.kind === 'wrong-method') {
      throw new MethodNotAllowedError(`${event.httpMethod} is not allowed on ${event.path}`, {
        details: { allowed: found.allowed },
      });
    }
    const { route, params, path } = found.match;
    state.errorPage = route.errorPage;
    const principal = await authenticate(route, state.headers, options);
    const body = parseBodyFor(route, state);
    const execute = async () =>
      toResult(
        await route.invoke({
          body: bodyOrDefault(route, state.rawBody, body),
          query: queryOf(event),
          params: { ...params, ...(event.pathParameters ?? {}) },
          headers: state.headers,
          rawBody: state.rawBody,
          method: event.httpMethod,
          path: event.path,
          requestId: state.requestId,
          principal,
          log: state.log,
          annotate: (fields) => {
            state.annotations = { ...state.annotations, ...fields };
          },
          signal,
          event,
        }),
      );
    const key = state.headers['idempotency-key'];
    if (key === undefined || route.method !== 'POST' || !options.idempotency) return execute();
    // The matched path, not the raw one: `/orders/` is the same resource as `/orders`, so one key covers both.
    const scope = `${principal.kind === 'account' ? principal.accountId : principal.kind} ${route.method} ${path}`;
    const timeLimit = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 60_000;
    return options.idempotency.run(scope, key, state.rawBody, timeLimit, execute);
  };

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: options.timeoutEarlyMs ?? 500 })
    .use(requestContextMiddleware(options.name, options.log))
    .use(corsMiddleware(options.corsOrigins))
    .use(bodyMiddleware(options.maxBodyBytes))
    .use(errorHandlerMiddleware())
    .handler(router);
}

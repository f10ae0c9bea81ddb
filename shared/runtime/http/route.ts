/**
 * Routes: what an HTTP function declares. The same declarations drive request validation, authentication, the
 * in-function router (an SCF function URL hands the whole path to one function) and the OpenAPI document.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AppError, ValidationError } from '../../domain/errors';
import type * as z from '../../domain/zod';
import type { Logger } from '../logger';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * - `public`: anybody (WeChat callbacks authenticate by signature inside the handler; health checks).
 * - `account`: an account API key; the handler sees the account id and must scope every read to it.
 * - `admin`: the platform admin key.
 */
export type AuthMode = 'public' | 'account' | 'admin';

export type Principal = { kind: 'public' } | { kind: 'account'; accountId: string } | { kind: 'admin' };

export interface RequestContext<B, Q, P> {
  readonly body: B;
  readonly query: Q;
  readonly params: P;
  /** Header names lower-cased; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly rawBody: Buffer;
  readonly method: string;
  readonly path: string;
  readonly requestId: string;
  readonly principal: Principal;
  readonly log: Logger;
  /** Adds fields to this request's one access-log line (what was done), instead of logging a line of its own. */
  readonly annotate: (fields: Record<string, unknown>) => void;
  /** Aborted shortly before the function's time limit: pass it to outbound calls. */
  readonly signal: AbortSignal;
  readonly event: APIGatewayProxyEvent;
}

/** What the error middleware knows of a failure, for a route that renders its own error page. */
export interface ErrorPageView {
  status: number;
  code: string;
  message: string;
  field?: string;
  requestId: string;
}

/**
 * Renders an error as HTML, for routes a person opens in a browser. It only renders: the status has already been
 * decided by the error middleware, and clients asking for JSON get the standard envelope instead.
 */
export type ErrorPage = (view: ErrorPageView) => string;

/** Content negotiation for routes that serve both people and programs: JSON only when it is asked for. */
export const wantsJson = (headers: Readonly<Record<string, string>>): boolean => (headers.accept ?? '').includes('application/json');

export type Reply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; text: string; contentType?: string; headers?: Record<string, string> }
  | { status: number; bytes: Buffer; contentType: string; headers?: Record<string, string> }
  | { status: number; empty: true; headers?: Record<string, string> };

export interface Route<B = unknown, Q = unknown, P = unknown> {
  readonly method: HttpMethod;
  /** Path template, `{name}` for a parameter: `/wechat/authorizers/{appid}/events`. */
  readonly path: string;
  readonly auth: AuthMode;
  readonly summary: string;
  /**
   * The status of a successful reply; 200 when left out. The OpenAPI document lists this one, so a handler that
   * answers another fails (500, logged) rather than let the document lie; errors get theirs from the stack.
   */
  readonly status?: number;
  /** A JSON body, validated with this schema: the route takes `application/json` (or `…+json`) and nothing else. */
  readonly body?: z.ZodMiniType<B>;
  /**
   * A body that is not JSON: bytes of one of these media types, which the handler reads from `rawBody` and parses
   * itself (an image; a WeChat push, whose XML is parsed only once its signature is checked). Any other type is 415,
   * unless the list holds ANY_MEDIA_TYPE (the push routes: the signature, not the label, proves a push).
   */
  readonly bodyTypes?: readonly string[];
  readonly query?: z.ZodMiniType<Q>;
  readonly params?: z.ZodMiniType<P>;
  /** For the OpenAPI document only. */
  readonly response?: z.ZodMiniType;
  /** Set on routes people open in a browser: their errors become this page unless JSON is asked for. */
  readonly errorPage?: ErrorPage;
  readonly handle: (request: RequestContext<B, Q, P>) => Promise<Reply>;
}

/**
 * A route as routers, gateways and the OpenAPI generator see it, input types erased, with or without its handler:
 * the OpenAPI document also lists the routes of functions it does not run, from their declarations.
 */
export interface DeclaredRoute {
  readonly method: HttpMethod;
  readonly path: string;
  readonly auth: AuthMode;
  readonly summary: string;
  /** The status of a successful reply. */
  readonly status: number;
  readonly schemas: { body?: z.ZodMiniType; query?: z.ZodMiniType; params?: z.ZodMiniType; response?: z.ZodMiniType };
  /** See `Route.bodyTypes`. */
  readonly bodyTypes?: readonly string[];
  readonly errorPage?: ErrorPage;
  /**
   * Whether a body-less request means `{}`: a POST whose every body field is optional. Worked out on first use and
   * kept (the schemas are lazy, built at first parse, not at a cold start); read by the stack and the OpenAPI document.
   */
  readonly acceptsEmptyBody: () => boolean;
}

/** A route a function serves: its declaration and its handler. */
export interface AnyRoute extends DeclaredRoute {
  /** Validates the raw inputs against the route's schemas, then runs its handler. */
  readonly invoke: (request: RequestContext<unknown, unknown, unknown>) => Promise<Reply>;
}

/**
 * A route without its handler. Declared in shared/routes/, where both the function that serves it (which binds
 * its handler with `bindRoutes`) and the api's OpenAPI document read it, so no function imports another.
 */
export type RouteDeclaration<B = undefined, Q = Record<string, string | undefined>, P = Record<string, string>> = Omit<
  Route<B, Q, P>,
  'handle'
>;

/** Declares a route's shape; its request types are inferred from its schemas, as `route` infers them. */
export const declareRoute = <B = undefined, Q = Record<string, string | undefined>, P = Record<string, string>>(
  declaration: RouteDeclaration<B, Q, P>,
): RouteDeclaration<B, Q, P> => declaration;

/** What a declaration's handler receives and answers. */
export type HandlerOf<D> = D extends RouteDeclaration<infer B, infer Q, infer P> ? Route<B, Q, P>['handle'] : never;

/**
 * Binds each declaration of a set to its handler. The handlers are keyed as the declarations are, so a function
 * cannot leave one of its declared routes unserved, nor serve one its declarations (and so the document) lack.
 */
export function bindRoutes<D extends Record<string, RouteDeclaration<unknown, unknown, unknown>>>(
  declarations: D,
  handlers: { readonly [K in keyof D]: HandlerOf<D[K]> },
): AnyRoute[] {
  // TypeScript cannot pair a key's declaration with the same key's handler; the mapped type above does.
  return Object.keys(declarations).map((key) => route({ ...declarations[key], handle: handlers[key] } as Route<unknown, unknown, unknown>));
}

/** The declarations of a set as the OpenAPI document reads them, for a function whose handlers it does not run. */
export const declaredRoutes = (declarations: Record<string, RouteDeclaration<unknown, unknown, unknown>>): DeclaredRoute[] =>
  Object.values(declarations).map(describe);

/** Turns zod issues into our ValidationError, with field paths such as `body.config.theme.mainColor`. */
export function parseInput<T>(schema: z.ZodMiniType<T>, value: unknown, location: 'body' | 'query' | 'params'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: [location, ...issue.path.map(String)].join('.'),
    // zod's own words for a missing body ("expected object, received undefined") name a type, not the fix.
    message: location === 'body' && value === undefined && issue.path.length === 0 ? 'send a JSON object' : issue.message,
  }));
  const first = issues[0];
  throw new ValidationError(first ? `${first.path}: ${first.message}` : `invalid ${location}`, issues, {
    code: location === 'body' ? 'INVALID_BODY' : location === 'query' ? 'INVALID_QUERY' : 'INVALID_PATH',
  });
}

/** A handler answered a success status its route does not declare: a bug, which the OpenAPI document would hide. */
export class UndeclaredStatusError extends AppError {
  readonly code = 'UNDECLARED_STATUS';
  readonly category = 'internal' as const;
}

function describe<B, Q, P>(definition: RouteDeclaration<B, Q, P>): DeclaredRoute {
  const { body, query, params, response } = definition;
  if (body && definition.bodyTypes)
    throw new Error(`${definition.method} ${definition.path}: a route takes either a JSON body or raw bodyTypes, not both`);
  let acceptsEmptyBody: boolean | undefined;
  return {
    acceptsEmptyBody: () => (acceptsEmptyBody ??= definition.method === 'POST' && body !== undefined && body.safeParse({}).success),
    method: definition.method,
    path: definition.path,
    auth: definition.auth,
    summary: definition.summary,
    status: definition.status ?? 200,
    schemas: { body, query, params, response },
    ...(definition.bodyTypes ? { bodyTypes: definition.bodyTypes } : {}),
    ...(definition.errorPage ? { errorPage: definition.errorPage } : {}),
  };
}

/** Declares a route with its handler; the handler's request types are inferred from its schemas. */
export function route<B = undefined, Q = Record<string, string | undefined>, P = Record<string, string>>(
  definition: Route<B, Q, P>,
): AnyRoute {
  const { body, query, params } = definition;
  const declared = describe(definition);
  const { status } = declared;
  return {
    ...declared,
    invoke: async (request) => {
      const reply = await definition.handle({
        ...request,
        body: (body ? parseInput(body, request.body, 'body') : undefined) as B,
        query: query ? parseInput(query, request.query, 'query') : (request.query as Q),
        params: params ? parseInput(params, request.params, 'params') : (request.params as P),
      });
      if (reply.status !== status) {
        throw new UndeclaredStatusError(`${definition.method} ${definition.path} answered ${reply.status} but declares ${status}`);
      }
      return reply;
    },
  };
}

/** In `bodyTypes`: bytes of any media type (a signed push, whose signature, not its label, says it is WeChat's). */
export const ANY_MEDIA_TYPE = '*/*';

/** The media type of a `Content-Type` header, lower-cased, without parameters (`text/xml; charset=utf-8` → `text/xml`). */
export const mediaTypeOf = (header: string | undefined): string => (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  json: body,
  ...(headers ? { headers } : {}),
});

interface CompiledRoute {
  route: AnyRoute;
  pattern: RegExp;
  names: string[];
}

export interface RouteMatch {
  route: AnyRoute;
  params: Record<string, string>;
  /** The request path without the trailing slash the pattern tolerates: `/orders/` and `/orders` are one resource. */
  path: string;
}

export type MatchResult = { kind: 'match'; match: RouteMatch } | { kind: 'wrong-method'; allowed: AllowedMethod[] } | { kind: 'none' };

/** HEAD is served wherever GET is (RFC 9110 §9.3.2), so it is never declared: the router answers it from the GET route. */
export type AllowedMethod = HttpMethod | 'HEAD';

export function compilePath(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const param = /^\{([a-zA-Z][a-zA-Z0-9]*)\}$/.exec(segment);
      if (param?.[1]) {
        names.push(param[1]);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern: new RegExp(`^${source}/?$`), names };
}

/** Drops the one trailing slash a route pattern tolerates (`/` itself stays). */
function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function createRouter(routes: readonly AnyRoute[]): (method: string, path: string) => MatchResult {
  const compiled: CompiledRoute[] = routes.map((r) => ({ route: r, ...compilePath(r.path) }));
  return (method, path) => {
    const allowed = new Set<AllowedMethod>();
    const wanted = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    for (const candidate of compiled) {
      const found = candidate.pattern.exec(path);
      if (!found) continue;
      if (candidate.route.method !== wanted) {
        allowed.add(candidate.route.method);
        if (candidate.route.method === 'GET') allowed.add('HEAD');
        continue;
      }
      const params: Record<string, string> = {};
      // The path is already percent-decoded by the shim: decoding again would turn `%25` into a broken escape.
      candidate.names.forEach((name, i) => {
        params[name] = found[i + 1] ?? '';
      });
      return { kind: 'match', match: { route: candidate.route, params, path: withoutTrailingSlash(path) } };
    }
    return allowed.size > 0 ? { kind: 'wrong-method', allowed: [...allowed] } : { kind: 'none' };
  };
}

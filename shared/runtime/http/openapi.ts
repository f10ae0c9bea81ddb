/**
 * The OpenAPI 3.1 document, generated from the same route declarations that validate requests, so the document
 * cannot drift from what the functions accept. It takes route lists rather than importing functions: the caller
 * (the `api` function) collects them, which keeps this module free of any function and of import cycles.
 *
 * zod turns each schema into JSON Schema 2020-12 (the dialect OpenAPI 3.1 uses). What zod puts under a schema's
 * own `$defs` (recursive types such as `z.json()`) is moved to `components.schemas`, because a `#/$defs/…`
 * reference inside an OpenAPI document would resolve against the document, not against the schema.
 */
import { createHash } from 'node:crypto';
import * as z from '../../domain/zod';
import type { DeclaredRoute, HttpMethod } from './route';

/** What a route declaration cannot say by itself; attach it with `documented`. */
export interface RouteDoc {
  readonly description?: string;
  /** The reply is bytes of one of these types instead of JSON (an image). */
  readonly responseContentTypes?: readonly string[];
  /**
   * Documented in place of the `body` schema, for a body the handler validates itself once it knows more (an app
   * config is checked against the app's kind, so the route only requires a JSON object).
   */
  readonly bodyDocumentedAs?: z.ZodMiniType;
}

const routeDocs = new WeakMap<DeclaredRoute, RouteDoc>();

/** Attaches documentation to a route and returns the route, so it can wrap a `route({...})` in place. */
export function documented<R extends DeclaredRoute>(route: R, doc: RouteDoc): R {
  routeDocs.set(route, doc);
  return route;
}

export const docOf = (route: DeclaredRoute): RouteDoc => routeDocs.get(route) ?? {};

/** Where a bundle serving the document finds it: the build writes it there (scripts/build.ts, functions/api). */
export const OPENAPI_FILE = 'openapi.json';

export interface DocumentedFunction {
  /** The function's folder name under `functions/`; becomes the operations' tag. */
  readonly name: string;
  readonly routes: readonly DeclaredRoute[];
  readonly description?: string;
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly servers?: readonly { url: string; description?: string }[];
  /** What the platform POSTs to its customers' endpoints: OpenAPI 3.1's top-level `webhooks`, one per event type. */
  readonly webhooks?: readonly {
    readonly name: string;
    readonly summary: string;
    readonly body: z.ZodMiniType;
    readonly description?: string;
  }[];
}

export type JsonSchema = { [key: string]: unknown };

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: JsonSchema[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
  'x-auth': DeclaredRoute['auth'];
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  servers?: { url: string; description?: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Partial<Record<Lowercase<HttpMethod>, OpenApiOperation>>>;
  webhooks?: Record<string, { post: JsonSchema }>;
  components: {
    securitySchemes: Record<string, JsonSchema>;
    schemas: Record<string, JsonSchema>;
    responses: Record<string, unknown>;
  };
}

/** The error body every function answers with (the stack's error handler). */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.described(z.string(), 'Stable code to match on, e.g. APP_NOT_FOUND.'),
    message: z.string(),
    field: z.described(z.optional(z.string()), 'Dotted path of the offending input, e.g. body.config.theme.mainColor.'),
    issues: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
    details: z.optional(z.record(z.string(), z.unknown())),
    requestId: z.string(),
  }),
});

export const SECURITY_SCHEMES = {
  accountApiKey: {
    type: 'http',
    scheme: 'bearer',
    description: "An account's API key (`Authorization: Bearer wxa_…`; `X-Api-Key` is accepted too). Every read is scoped to that account.",
  },
  adminApiKey: {
    type: 'http',
    scheme: 'bearer',
    description: "The platform operator's key (ADMIN_API_KEY).",
  },
} as const;

const SECURITY: Record<DeclaredRoute['auth'], Record<string, string[]>[]> = {
  public: [],
  account: [{ accountApiKey: [] }],
  admin: [{ adminApiKey: [] }],
};

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retried POST safe: the same key with the same body returns the first response (header `idempotency-replayed: true`) without acting again; with another body it is refused. Kept 24 hours.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
};

const BINARY = { type: 'string', format: 'binary' };

type Io = 'input' | 'output';

/**
 * Converts zod schemas and collects their shared definitions as named components. Definitions are named by a
 * hash of their content (with the definitions they reference), so the one `z.json()` definition that dozens of
 * schemas carry becomes one component instead of one per operation.
 */
class SchemaBook {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodMiniType, io: Io): JsonSchema {
    // 'any' keeps the document whole if a schema holds something JSON Schema cannot say (a transform's output).
    const raw = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    // zod marks every output object closed; a reply that gains a field later must not break a strict client.
    if (io === 'output') dropClosedObjects(raw);
    const { $schema: _dialect, $defs, ...root } = raw;
    const defs = isRecord($defs) ? ($defs as Record<string, JsonSchema>) : {};
    const names = new Map<string, string>();
    for (const local of Object.keys(defs)) names.set(local, this.nameFor(local, defs, io));
    const rootName = containsRef(root, '#') ? `Schema_${digest(JSON.stringify([root, closureOf(root, defs)]))}` : null;
    const rewrite = (value: unknown): unknown =>
      rewriteRefs(value, (ref) => {
        if (ref === '#' && rootName) return `#/components/schemas/${rootName}`;
        const local = /^#\/\$defs\/(.+)$/.exec(ref)?.[1];
        const mapped = local === undefined ? undefined : names.get(local);
        return mapped ? `#/components/schemas/${mapped}` : ref;
      });
    for (const [local, def] of Object.entries(defs)) this.add(names.get(local) ?? local, rewrite(def) as JsonSchema);
    const converted = rewrite(root) as JsonSchema;
    if (!rootName) return converted;
    this.add(rootName, converted);
    return { $ref: `#/components/schemas/${rootName}` };
  }

  private nameFor(local: string, defs: Record<string, JsonSchema>, io: Io): string {
    // zod names anonymous definitions `__schema0…`; an explicit `.meta({ id })` keeps its name, suffixed for a
    // request, since defaults make what a client sends differ from what it gets back.
    if (!local.startsWith('__')) return io === 'input' ? `${local}Input` : local;
    return `Schema_${digest(JSON.stringify(closureOf(defs[local], defs)))}`;
  }

  private add(name: string, schema: JsonSchema): void {
    const existing = this.components[name];
    if (existing && JSON.stringify(existing) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI: two different schemas are both named ${name}; give one another .meta({ id })`);
    }
    this.components[name] = schema;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 10);

function dropClosedObjects(value: unknown): void {
  if (Array.isArray(value)) value.forEach(dropClosedObjects);
  else if (isRecord(value)) {
    if (value.additionalProperties === false) delete value.additionalProperties;
    Object.values(value).forEach(dropClosedObjects);
  }
}

function rewriteRefs(value: unknown, map: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, map));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    out[key] = key === '$ref' && typeof item === 'string' ? map(item) : rewriteRefs(item, map);
  return out;
}

function collectRefs(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value))
    value.forEach((item) => {
      collectRefs(item, into);
    });
  else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') into.add(item);
      else collectRefs(item, into);
    }
  }
  return into;
}

const containsRef = (value: unknown, ref: string) => collectRefs(value, new Set()).has(ref);

/** The value with every local definition it reaches, in a stable order: equal closures mean equal schemas. */
function closureOf(value: unknown, defs: Record<string, JsonSchema>): unknown[] {
  const seen = new Set<string>();
  const queue = [...collectRefs(value, new Set())];
  while (queue.length > 0) {
    const local = /^#\/\$defs\/(.+)$/.exec(queue.shift() ?? '')?.[1];
    if (local === undefined || seen.has(local)) continue;
    seen.add(local);
    queue.push(...collectRefs(defs[local], new Set()));
  }
  return [value, ...[...seen].sort().map((local) => [local, defs[local]])];
}

const pascal = (text: string) =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');

export const operationIdOf = (fn: string, route: Pick<DeclaredRoute, 'method' | 'path'>): string => {
  const segments = route.path.split('/').map((segment) => {
    const param = /^\{(.+)\}$/.exec(segment)?.[1];
    return param ? `By${pascal(param)}` : pascal(segment);
  });
  const camelFn = pascal(fn).replace(/^./, (c) => c.toLowerCase());
  return `${camelFn}_${route.method.toLowerCase()}${segments.join('')}`;
};

const pathParamsOf = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');

/** Splits an object schema into one OpenAPI parameter per property. */
function parametersOf(schema: JsonSchema, location: 'query' | 'path', pathNames: readonly string[]): JsonSchema[] {
  const properties = isRecord(schema.properties) ? schema.properties : null;
  if (!properties) {
    // Not a plain object (a union, say): one form-exploded parameter still describes it.
    return location === 'query' ? [{ name: 'query', in: 'query', style: 'form', explode: true, schema }] : [];
  }
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return Object.entries(properties)
    .filter(([name]) => location === 'query' || pathNames.includes(name))
    .map(([name, property]) => {
      const { description, ...propertySchema } = isRecord(property) ? property : {};
      return {
        name,
        in: location,
        required: location === 'path' || required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: propertySchema,
      };
    });
}

function operationOf(fn: DocumentedFunction, route: DeclaredRoute, book: SchemaBook): OpenApiOperation {
  const doc = docOf(route);
  const pathNames = pathParamsOf(route.path);
  const { body, query, params, response } = route.schemas;

  const declaredPath = params ? parametersOf(book.convert(params, 'input'), 'path', pathNames) : [];
  const parameters: JsonSchema[] = [
    ...pathNames.map(
      (name) => declaredPath.find((p) => p.name === name) ?? { name, in: 'path', required: true, schema: { type: 'string' } },
    ),
    ...(query ? parametersOf(book.convert(query, 'input'), 'query', pathNames) : []),
    ...(route.method === 'POST' && route.auth !== 'public' ? [IDEMPOTENCY_HEADER] : []),
  ];

  const bodySchema = doc.bodyDocumentedAs ?? body;
  const requestBody: OpenApiOperation['requestBody'] = bodySchema
    ? {
        // Optional when an empty request is valid: the schema accepts `undefined`, or the stack reads a body-less
        // request as `{}` (route.acceptsEmptyBody).
        required: !((body ?? bodySchema).safeParse(undefined).success || route.acceptsEmptyBody()),
        content: { 'application/json': { schema: book.convert(bodySchema, 'input') } },
      }
    : route.bodyTypes?.length
      ? { required: true, content: Object.fromEntries(route.bodyTypes.map((type) => [type, { schema: BINARY }])) }
      : undefined;

  // The route's own declaration, which its handler cannot answer against (route.ts).
  const status = String(route.status);
  const success = doc.responseContentTypes?.length
    ? { description: 'OK', content: Object.fromEntries(doc.responseContentTypes.map((type) => [type, { schema: BINARY }])) }
    : response
      ? { description: 'OK', content: { 'application/json': { schema: book.convert(response, 'output') } } }
      : { description: 'OK' };

  return {
    operationId: operationIdOf(fn.name, route),
    summary: route.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [fn.name],
    security: SECURITY[route.auth],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [status]: success,
      '4XX': { $ref: '#/components/responses/Error' },
      '5XX': { $ref: '#/components/responses/Error' },
    },
    'x-auth': route.auth,
  };
}

/** Builds the document; a method + path declared twice (in one function or across functions) is an error. */
export function openApiDocument(functions: readonly DocumentedFunction[], info: OpenApiInfo): OpenApiDocument {
  const book = new SchemaBook();
  const paths: OpenApiDocument['paths'] = {};
  const owners = new Map<string, string>();
  for (const fn of functions) {
    for (const route of fn.routes) {
      const key = `${route.method} ${route.path}`;
      const owner = owners.get(key);
      if (owner) throw new Error(`OpenAPI: ${key} is declared by both ${owner} and ${fn.name}`);
      owners.set(key, fn.name);
      const item = (paths[route.path] ??= {});
      item[route.method.toLowerCase() as Lowercase<HttpMethod>] = operationOf(fn, route, book);
    }
  }
  const errorSchema = book.convert(errorEnvelopeSchema, 'output');
  const webhooks = info.webhooks?.length
    ? Object.fromEntries(
        info.webhooks.map((hook) => [
          hook.name,
          {
            post: {
              operationId: `webhook_${hook.name.replace(/[^a-zA-Z0-9]+/g, '_')}`,
              summary: hook.summary,
              ...(hook.description ? { description: hook.description } : {}),
              requestBody: { required: true, content: { 'application/json': { schema: book.convert(hook.body, 'output') } } },
              responses: {
                '2XX': { description: 'Received. Any other answer (or none within 10 s) is retried with backoff for about three days.' },
              },
            },
          },
        ]),
      )
    : undefined;
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    ...(info.servers?.length ? { servers: info.servers.map((s) => ({ ...s })) } : {}),
    tags: functions.map((fn) => ({ name: fn.name, ...(fn.description ? { description: fn.description } : {}) })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    ...(webhooks ? { webhooks } : {}),
    components: {
      securitySchemes: { ...SECURITY_SCHEMES },
      schemas: Object.fromEntries(Object.entries(book.components).sort(([a], [b]) => a.localeCompare(b))),
      responses: {
        Error: {
          description: 'An error, with a stable code and, for bad input, the field',
          content: { 'application/json': { schema: errorSchema } },
        },
      },
    },
  };
}

import { lowcodeConfigSchema, newAppInputSchema } from '../../domain/app';
import * as z from '../../domain/zod';
import { documented, type JsonSchema, type OpenApiDocument, openApiDocument, operationIdOf } from './openapi';
import { type AnyRoute, json, route } from './route';

const noop = async () => json(200, {});

const apiRoutes: AnyRoute[] = [
  route({
    method: 'POST',
    path: '/v1/apps',
    auth: 'account',
    summary: 'Create an app',
    body: newAppInputSchema,
    response: z.object({ id: z.string(), config: lowcodeConfigSchema }),
    handle: noop,
  }),
  route({
    method: 'GET',
    path: '/v1/apps/{appId}/items/{itemId}',
    auth: 'account',
    summary: 'An item',
    params: z.object({
      appId: z.string().clone().register(z.globalRegistry, { description: 'the app' }),
      itemId: z.string().check(z.regex(/^i_\w+$/)),
    }),
    query: z.object({ limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100))), state: z.enum(['a', 'b']) }),
    response: z.object({ ok: z.boolean() }),
    handle: noop,
  }),
  documented(
    route({
      method: 'POST',
      path: '/v1/assets',
      auth: 'account',
      summary: 'Upload',
      status: 201,
      bodyTypes: ['image/png', 'image/jpeg'],
      handle: noop,
    }),
    {},
  ),
  documented(route({ method: 'GET', path: '/v1/assets/{assetId}', auth: 'account', summary: 'Bytes', handle: noop }), {
    responseContentTypes: ['image/png'],
  }),
  documented(
    route({
      method: 'PUT',
      path: '/v1/apps/{appId}/config',
      auth: 'account',
      summary: 'Config',
      body: z.record(z.string(), z.unknown()),
      handle: noop,
    }),
    { bodyDocumentedAs: lowcodeConfigSchema, description: 'validated per kind' },
  ),
  route({
    method: 'POST',
    path: '/v1/accounts',
    auth: 'admin',
    summary: 'Create account',
    body: z.object({ name: z.string() }),
    handle: noop,
  }),
  route({
    method: 'POST',
    path: '/v1/apps/{appId}/reset',
    auth: 'account',
    summary: 'Optional body',
    body: z.optional(z.object({ colours: z.optional(z.array(z.string())) })),
    handle: noop,
  }),
];

const callbackRoutes: AnyRoute[] = [
  route({
    method: 'POST',
    path: '/wechat/component/events',
    auth: 'public',
    summary: 'WeChat pushes',
    query: z.object({ nonce: z.optional(z.string()) }),
    handle: noop,
  }),
];

const build = () =>
  openApiDocument(
    [
      { name: 'api', routes: apiRoutes, description: 'reads' },
      { name: 'authorize-callback', routes: callbackRoutes },
    ],
    { title: 'wxa-deploy', version: '1.0.0', servers: [{ url: 'https://example.com' }] },
  );

/** Every `$ref` in the document, with where it was found. */
function refsOf(value: unknown, at = '#', out: { ref: string; at: string }[] = []): { ref: string; at: string }[] {
  if (Array.isArray(value))
    value.forEach((item, i) => {
      refsOf(item, `${at}/${i}`, out);
    });
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') out.push({ ref: item, at });
      else refsOf(item, `${at}/${key}`, out);
    }
  }
  return out;
}

function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), doc);
}

const op = (doc: OpenApiDocument, path: string, method: 'get' | 'post' | 'put') => {
  const found = doc.paths[path]?.[method];
  if (!found) throw new Error(`${method} ${path} missing`);
  return found;
};

describe('openApiDocument', () => {
  it('is an OpenAPI 3.1 document listing every route of every function under its path and method', () => {
    const doc = build();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'wxa-deploy', version: '1.0.0' });
    expect(doc.servers).toEqual([{ url: 'https://example.com' }]);
    const listed = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(listed.sort()).toEqual([...apiRoutes, ...callbackRoutes].map((r) => `${r.method} ${r.path}`).sort());
    expect(doc.tags.map((t) => t.name)).toEqual(['api', 'authorize-callback']);
    expect(op(doc, '/wechat/component/events', 'post').tags).toEqual(['authorize-callback']);
    // A JSON round trip changes nothing: the document is plain data.
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('gives each operation a unique id', () => {
    const doc = build();
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((o) => o?.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(operationIdOf('authorize-callback', { method: 'POST', path: '/wechat/component/events' })).toBe(
      'authorizeCallback_postWechatComponentEvents',
    );
    expect(operationIdOf('api', { method: 'GET', path: '/v1/apps/{appId}' })).toBe('api_getV1AppsByAppId');
  });

  it('states the authentication of each route as a security requirement', () => {
    const doc = build();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['accountApiKey', 'adminApiKey']);
    expect(doc.components.securitySchemes.accountApiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(op(doc, '/v1/apps', 'post').security).toEqual([{ accountApiKey: [] }]);
    expect(op(doc, '/v1/accounts', 'post').security).toEqual([{ adminApiKey: [] }]);
    expect(op(doc, '/wechat/component/events', 'post').security).toEqual([]);
  });

  it('converts the zod body, query, path and response schemas', () => {
    const doc = build();
    const create = op(doc, '/v1/apps', 'post');
    expect(create.requestBody?.required).toBe(true);
    const body = create.requestBody?.content['application/json']?.schema as JsonSchema;
    expect(Array.isArray(body.oneOf)).toBe(true);
    expect(JSON.stringify(body)).toContain('"const":"iot-video"');
    expect(JSON.stringify(body)).toContain('^[A-Z0-9]{5}(-[A-Z0-9]{5}){5}$');
    expect(body.$schema).toBeUndefined();
    expect(body.$defs).toBeUndefined();
    const response = (create.responses['200'] as { content: Record<string, { schema: JsonSchema }> }).content['application/json']?.schema;
    expect(response).toMatchObject({ type: 'object', required: ['id', 'config'] });

    const item = op(doc, '/v1/apps/{appId}/items/{itemId}', 'get');
    expect(item.parameters).toEqual([
      { name: 'appId', in: 'path', required: true, description: 'the app', schema: { type: 'string' } },
      { name: 'itemId', in: 'path', required: true, schema: { type: 'string', pattern: '^i_\\w+$' } },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } },
      { name: 'state', in: 'query', required: true, schema: { type: 'string', enum: ['a', 'b'] } },
    ]);
  });

  it('declares path parameters even without a params schema', () => {
    const doc = build();
    expect(op(doc, '/v1/assets/{assetId}', 'get').parameters).toEqual([
      { name: 'assetId', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });

  it('documents binary bodies and replies, success statuses, optional bodies and documented-as bodies', () => {
    const doc = build();
    const upload = op(doc, '/v1/assets', 'post');
    expect(upload.requestBody).toEqual({
      required: true,
      content: {
        'image/png': { schema: { type: 'string', format: 'binary' } },
        'image/jpeg': { schema: { type: 'string', format: 'binary' } },
      },
    });
    expect(Object.keys(upload.responses)).toEqual(['201', '4XX', '5XX']);
    expect(op(doc, '/v1/assets/{assetId}', 'get').responses['200']).toEqual({
      description: 'OK',
      content: { 'image/png': { schema: { type: 'string', format: 'binary' } } },
    });
    expect(op(doc, '/v1/apps/{appId}/reset', 'post').requestBody?.required).toBe(false);
    const config = op(doc, '/v1/apps/{appId}/config', 'put');
    expect(config.description).toBe('validated per kind');
    expect(JSON.stringify(config.requestBody)).toContain('extPages');
  });

  it('documents Idempotency-Key on authenticated POSTs only', () => {
    const doc = build();
    const header = (o: ReturnType<typeof op>) => (o.parameters ?? []).find((p) => p.name === 'Idempotency-Key');
    expect(header(op(doc, '/v1/apps', 'post'))).toMatchObject({ in: 'header', required: false });
    expect(header(op(doc, '/wechat/component/events', 'post'))).toBeUndefined();
    expect(header(op(doc, '/v1/apps/{appId}/items/{itemId}', 'get'))).toBeUndefined();
  });

  it('moves recursive definitions into components, once, and every $ref resolves', () => {
    const doc = build();
    const refs = refsOf(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const { ref, at } of refs) {
      expect({ at, ref, found: resolve(doc, ref) !== undefined }).toEqual({ at, ref, found: true });
    }
    expect(JSON.stringify(doc)).not.toContain('$defs');
    // z.json() appears in many schemas (lowcode ext, window, tabBar…) and becomes a single component.
    const jsonLike = Object.values(doc.components.schemas).filter((s) => Array.isArray(s.anyOf) && s.anyOf.length === 6);
    expect(jsonLike).toHaveLength(1);
  });

  it('hoists a schema that refers to itself at its root', () => {
    type Tree = { name: string; children: Tree[] };
    const tree: z.ZodMiniType<Tree> = z.object({ name: z.string(), children: z.array(z.lazy(() => tree)) });
    const doc = openApiDocument(
      [{ name: 'api', routes: [route({ method: 'GET', path: '/tree', auth: 'public', summary: 't', response: tree, handle: noop })] }],
      { title: 't', version: '1' },
    );
    const schema = (op(doc, '/tree', 'get').responses['200'] as { content: Record<string, { schema: JsonSchema }> }).content[
      'application/json'
    ]?.schema;
    expect(schema?.$ref).toMatch(/^#\/components\/schemas\//);
    for (const { ref } of refsOf(doc)) expect(resolve(doc, ref)).toBeDefined();
  });

  it('names a schema with an id after it, apart for requests and replies, and leaves replies open to new fields', () => {
    const thing = z
      .object({ name: z.string(), tags: z._default(z.array(z.string()), []) })
      .clone()
      .register(z.globalRegistry, { id: 'Thing' });
    const doc = openApiDocument(
      [
        {
          name: 'api',
          routes: [route({ method: 'PUT', path: '/thing', auth: 'account', summary: 't', body: thing, response: thing, handle: noop })],
        },
      ],
      { title: 't', version: '1' },
    );
    const put = op(doc, '/thing', 'put');
    expect(put.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/ThingInput' });
    expect(doc.components.schemas.ThingInput).toMatchObject({ required: ['name'] });
    expect(doc.components.schemas.Thing).toMatchObject({ required: ['name', 'tags'] });
    expect(doc.components.schemas.Thing?.additionalProperties).toBeUndefined();
  });

  it('refuses a method and path declared twice', () => {
    const twice = route({ method: 'GET', path: '/x', auth: 'public', summary: 'x', handle: noop });
    expect(() =>
      openApiDocument(
        [
          { name: 'a', routes: [twice] },
          { name: 'b', routes: [twice] },
        ],
        { title: 't', version: '1' },
      ),
    ).toThrow(/GET \/x is declared by both a and b/);
  });

  it('documents the error envelope once, for every operation', () => {
    const doc = build();
    const error = resolve(doc, '#/components/responses/Error') as { content: Record<string, { schema: JsonSchema }> };
    expect(error.content['application/json']?.schema).toMatchObject({ type: 'object', required: ['error'] });
    for (const item of Object.values(doc.paths)) {
      for (const operation of Object.values(item)) expect(operation?.responses['4XX']).toEqual({ $ref: '#/components/responses/Error' });
    }
  });
});

/**
 * `GET /openapi.json` over HTTP: generated from the route declarations of every function, and in agreement with
 * what serverless.yml mounts, so neither the document nor the gateway can silently miss a route.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { routes as apiRoutes } from '../../functions/api/routes';
import type { Platform } from '../../infra/local/driver';
import { loadTemplate } from '../../infra/local/template';
import { buildFunctions } from '../../scripts/build';
import type { Services } from '../../shared/app/context';
import * as z from '../../shared/domain/zod';
import { DOCUMENTED_FUNCTIONS } from '../../shared/routes';
import { OPENAPI_FILE } from '../../shared/runtime/http/openapi';
import type { AnyRoute } from '../../shared/runtime/http/route';
import { startApiWorld } from './support';

const root = resolve(__dirname, '..', '..');
let p: Platform;
let s: Services;
let close: () => Promise<void>;
let document: Record<string, unknown>;

beforeAll(async () => {
  ({ p, s, close } = await startApiWorld());
  const reply = await fetch(`${p.url}/openapi.json`);
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toContain('application/json');
  document = z.record(z.string(), z.unknown()).parse(await reply.json());
});
afterAll(() => close());

const operation = z.catchall(
  z.object({
    operationId: z.string(),
    summary: z.string().check(z.minLength(1)),
    tags: z.array(z.string()).check(z.length(1)),
    security: z.array(z.record(z.string(), z.array(z.string()))),
    'x-auth': z.enum(['public', 'account', 'admin']),
    parameters: z.optional(
      z.array(z.object({ name: z.string(), in: z.enum(['path', 'query', 'header']), required: z.boolean(), schema: z.unknown() })),
    ),
    requestBody: z.optional(
      z.object({ required: z.boolean(), content: z.record(z.string(), z.object({ schema: z.record(z.string(), z.unknown()) })) }),
    ),
    responses: z.record(z.string(), z.unknown()),
  }),
  z.unknown(),
);
const openApi = z.object({
  openapi: z.literal('3.1.0'),
  info: z.object({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.partialRecord(z.enum(['get', 'post', 'put', 'patch', 'delete']), operation)),
  components: z.catchall(
    z.object({ securitySchemes: z.record(z.string(), z.unknown()), schemas: z.record(z.string(), z.unknown()) }),
    z.unknown(),
  ),
});

const listed = (doc: z.infer<typeof openApi>) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
  );

const keyOf = (route: Pick<AnyRoute, 'method' | 'path'>) => `${route.method} ${route.path}`;

/** The routes a function's handler module binds (`routes(s)`), with this test's services. */
async function servedRoutes(name: string): Promise<readonly AnyRoute[]> {
  const mod: { routes?: (services: Services) => readonly AnyRoute[] } = await import(join(root, 'functions', name, 'handler.ts'));
  if (!mod.routes) throw new Error(`functions/${name}/handler.ts exports no routes`);
  return mod.routes(s);
}

describe('GET /openapi.json', () => {
  it('is a public OpenAPI 3.1 document', () => {
    const doc = openApi.parse(document);
    expect(doc.info.title).toBe('wxa-deploy');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['accountApiKey', 'adminApiKey']);
  });

  it('lists every route the api declares, and every /v1 route of the api table', () => {
    const doc = openApi.parse(document);
    const keys = listed(doc).map((l) => l.key);
    const declared = apiRoutes(s).map(keyOf);
    expect(keys).toEqual(expect.arrayContaining(declared));
    for (const route of [
      'POST /v1/accounts',
      'GET /v1/accounts/{accountId}',
      'GET /v1/account',
      'POST /v1/account/api-keys',
      'POST /v1/apps',
      'GET /v1/apps',
      'GET /v1/apps/{appId}',
      'PUT /v1/apps/{appId}/config',
      'POST /v1/apps/{appId}/config/reset-theme',
      'POST /v1/assets',
      'GET /v1/assets/{assetId}',
      'GET /v1/public/assets/{assetId}',
      'POST /v1/authorizations',
      'GET /v1/mini-programs',
      'GET /v1/mini-programs/{appid}',
      'GET /v1/deployments',
      'GET /v1/deployments/{deploymentId}',
      'GET /v1/deployments/{deploymentId}/qrcode',
      'GET /v1/deployments/{deploymentId}/screenshots/{mediaId}',
      'GET /v1/quota',
      'GET /openapi.json',
    ]) {
      expect(keys).toContain(route);
    }
  });

  it('lists the routes every other HTTP function serves, tagged with its name, from their declarations', async () => {
    const doc = openApi.parse(document);
    const byKey = new Map(listed(doc).map((l) => [l.key, l.op]));
    for (const fn of DOCUMENTED_FUNCTIONS) {
      // What the function serves, not only what shared/routes declares for it.
      const served = await servedRoutes(fn.name);
      expect(served.map(keyOf)).toEqual(fn.routes.map(keyOf));
      for (const route of served)
        expect({ route: keyOf(route), tags: byKey.get(keyOf(route))?.tags }).toEqual({ route: keyOf(route), tags: [fn.name] });
    }
  });

  it('documents what serverless.yml mounts, and mounts nothing undocumented', () => {
    const doc = openApi.parse(document);
    const documented = new Map(listed(doc).map((l) => [l.key, l.op.tags[0]]));
    const mounted = loadTemplate(join(root, 'serverless.yml'), { ...process.env }).functions.flatMap((fn) =>
      fn.routes.map((r) => ({ key: keyOf(r), fn: fn.name })),
    );
    expect(mounted.map((m) => ({ ...m, documentedBy: documented.get(m.key) }))).toEqual(mounted.map((m) => ({ ...m, documentedBy: m.fn })));
    expect([...documented.keys()].sort()).toEqual(mounted.map((m) => m.key).sort());
  });

  it('registers every function that exports routes', async () => {
    const registered = new Set(['api', ...DOCUMENTED_FUNCTIONS.map((fn) => fn.name)]);
    const withRoutes: string[] = [];
    for (const name of readdirSync(join(root, 'functions'))) {
      const file = join(root, 'functions', name, 'handler.ts');
      if (!existsSync(file)) continue;
      const mod: Record<string, unknown> = await import(file);
      if (typeof mod.routes === 'function') withRoutes.push(name);
    }
    expect(withRoutes.filter((name) => !registered.has(name))).toEqual([]);
  });

  it('carries auth, parameters and converted zod schemas', () => {
    const doc = openApi.parse(document);
    const op = (method: 'get' | 'post' | 'put', path: string) => {
      const found = doc.paths[path]?.[method];
      if (!found) throw new Error(`${method} ${path} is not documented`);
      return found;
    };
    expect(op('post', '/v1/accounts').security).toEqual([{ adminApiKey: [] }]);
    expect(op('get', '/v1/apps').security).toEqual([{ accountApiKey: [] }]);
    expect(op('get', '/v1/public/assets/{assetId}').security).toEqual([]);
    expect(op('get', '/openapi.json')['x-auth']).toBe('public');

    const createApp = op('post', '/v1/apps');
    const body = JSON.stringify(createApp.requestBody?.content['application/json']?.schema);
    expect(body).toContain('"iot-video"');
    expect(body).toContain('appDownloadQrImage');
    expect(Object.keys(createApp.responses)).toContain('201');
    // The build answers 202 (it may finish in the background), and the document says so: statuses come from the routes.
    expect(Object.keys(op('post', '/v1/apps/{appId}/deployments').responses)).toEqual(['202', '4XX', '5XX']);
    expect(createApp.parameters?.map((param) => param.name)).toContain('Idempotency-Key');

    const config = op('put', '/v1/apps/{appId}/config');
    expect(JSON.stringify(config.requestBody)).toContain('mapKey');
    expect(JSON.stringify(config.requestBody)).toContain('extPages');
    // The go-live settings every kind carries: the privacy guide, the extra server domains, the UGC declaration.
    for (const field of ['privacyGuide', 'noticeMethod', 'purposes', 'serverDomains', 'webview', 'ugcDeclaration', 'hasAuditTeam'])
      expect(JSON.stringify(config.requestBody)).toContain(field);

    expect(op('get', '/v1/deployments').parameters?.map((param) => `${param.in}:${param.name}`)).toEqual([
      'query:appId',
      'query:state',
      'query:limit',
    ]);
    expect(op('get', '/v1/deployments/{deploymentId}').parameters?.map((param) => `${param.in}:${param.name}`)).toEqual([
      'path:deploymentId',
    ]);
    expect(Object.keys(op('post', '/v1/assets').requestBody?.content ?? {})).toEqual(['image/png', 'image/jpeg', 'image/gif']);
    expect(JSON.stringify(op('get', '/v1/deployments/{deploymentId}/qrcode').responses['200'])).toContain('"format":"binary"');
    expect(JSON.stringify(op('get', '/v1/deployments/{deploymentId}/screenshots/{mediaId}').responses['200'])).toContain(
      '"format":"binary"',
    );
    expect(JSON.stringify(op('get', '/v1/apps/{appId}').responses['200'])).toContain('#/components/schemas/App');
    expect(JSON.stringify(doc.components.schemas.App)).toContain('linkLostReason');
  });

  it('documents a POST body as optional where every field is, since a body-less POST reads as {} (unbind)', () => {
    const doc = openApi.parse(document);
    expect(doc.paths['/v1/mini-programs/{appid}/unbind']?.post?.requestBody?.required).toBe(false);
    expect(doc.paths['/v1/apps/{appId}/deployments']?.post?.requestBody?.required).toBe(true);
  });

  it('documents the one media type family each request body is taken in: JSON, images, or any for the push URLs', () => {
    const doc = openApi.parse(document);
    const types = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).flatMap(([method, operation]) =>
        operation?.requestBody ? [[`${method} ${path}`, Object.keys(operation.requestBody.content).join(' ')] as const] : [],
      ),
    );
    const pushes = types.filter(([key]) => key.endsWith('/events'));
    expect(pushes).toEqual([
      // Any type: WeChat's docs name none, and the signature, not the label, proves a push.
      ['post /wechat/authorizers/{appid}/events', '*/*'],
      ['post /wechat/component/events', '*/*'],
    ]);
    const others = new Set(types.filter(([key]) => !key.endsWith('/events')).map(([, taken]) => taken));
    expect(others).toEqual(new Set(['application/json', 'image/png image/jpeg image/gif']));
  });

  it('has no dangling $ref', () => {
    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) {
          if (key === '$ref' && typeof item === 'string') refs.push(item);
          else walk(item);
        }
      }
    };
    walk(document);
    expect(refs.length).toBeGreaterThan(0);
    const resolveRef = (ref: string) =>
      ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), document);
    expect(refs.filter((ref) => !ref.startsWith('#/') || resolveRef(ref) === undefined)).toEqual([]);
  });
});

// The api bundle carries no JSON-schema generator: the build generates the document and writes it next to the
// bundle, which serves it with its own URL (test/bundles.test.ts). It must be the document the source serves.
describe('the OpenAPI document the build writes for the api bundle', () => {
  it('is, byte for byte, the one generated from source (its server URL aside)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wxa-openapi-'));
    try {
      await buildFunctions(['api'], { outdir: out, stores: ['sqlite'], codeCache: false });
      const built = z.record(z.string(), z.unknown()).parse(JSON.parse(readFileSync(join(out, 'api', OPENAPI_FILE), 'utf8')));
      const served = await (await fetch(`${p.url}/openapi.json`)).text();
      expect(JSON.stringify({ ...built, servers: document.servers })).toBe(served);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/**
 * The fuzzing model shared by `fuzz.test.ts` (CI, ≥ 10k requests) and `scripts/fuzz.ts` (≥ 100k): every route
 * of serverless.yml with arbitrary path parameters, query strings, headers and bodies, sent over HTTP to the whole
 * product. The property: never a 5xx, and every 4xx of ours carries the error envelope.
 *
 * The inputs that once crashed the product are part of every run, so that a regression is found by the plain
 * `npm run fuzz` as well as in CI: malformed percent-encoding in a path (BUG-1), image sizes outside what PNG/GIF
 * allow, inherited names as query keys or headers (BUG-4). Deep JSON nesting needs more levels than `fc.json()`
 * builds: the hostile corpus has it.
 */

import { join } from 'node:path';
import fc from 'fast-check';
import * as z from '../../shared/domain/zod';
import { loadTemplate } from '../local/template';
import { errorEnvelope, pngHeader, type RawReply, rawRequest } from './wire';

export interface FuzzRoute {
  fn: string;
  method: string;
  path: string;
}

/** Every HTTP route the template mounts: what the product exposes. */
export function publicRoutes(root: string): FuzzRoute[] {
  const template = loadTemplate(join(root, 'serverless.yml'), { ...process.env });
  return template.functions.flatMap((fn) => fn.routes.map((r) => ({ fn: fn.name, method: r.method, path: r.path })));
}

/** Ids of a real world, so some requests get past validation and reach the handlers. */
export interface FuzzWorld {
  ids: Record<'appId' | 'deploymentId' | 'assetId' | 'appid' | 'accountId', readonly string[]>;
  /** `spare` is an account of its own for the key-rotation route: rotating twice revokes a key, and the others must live. */
  keys: { account: string; other: string; admin: string; spare: string };
}

export interface FuzzRequest {
  method: string;
  path: string;
  /** Pairs, not an object: a header may be named `__proto__`. */
  headers: [string, string][];
  body: Buffer | undefined;
  route: FuzzRoute;
}

/** UTF-8 bytes percent-encoded: never throws (a lone surrogate becomes U+FFFD), unlike encodeURIComponent. */
export const percentEncode = (text: string): string =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

const PARAM_KIND: Record<string, keyof FuzzWorld['ids']> = {
  appId: 'appId',
  deploymentId: 'deploymentId',
  assetId: 'assetId',
  appid: 'appid',
  accountId: 'accountId',
};
const ID_PREFIX: Record<string, string> = { appId: 'app_', deploymentId: 'dep_', assetId: 'ast_', accountId: 'acc_', appid: 'wx' };

const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));

function paramValue(name: string, world: FuzzWorld): fc.Arbitrary<string> {
  const real = world.ids[PARAM_KIND[name] ?? 'appId'];
  // A '%' in the decoded value was decoded a second time by the function's router (BUG-1).
  const text = anyText;
  const encoded = fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...real) },
      { weight: 2, arbitrary: fc.stringMatching(/^[0-9a-z]{0,70}$/).map((tail) => `${ID_PREFIX[name] ?? ''}${tail}`) },
      { weight: 1, arbitrary: fc.stringMatching(/^wx[0-9a-zA-Z]{16}$/) },
      { weight: 3, arbitrary: text.map(percentEncode) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('..', '%2e%2e', '%2F', '%00', '.', 'null', 'undefined', '__proto__', 'constructor', '%25', '%2525'),
      },
    )
    .filter((value) => value.length > 0);
  // Raw text in the path: a stray '%' is a malformed escape for the local gateway (BUG-1).
  const raw = fc
    .string({ minLength: 1, maxLength: 12 })
    .map((s) => s.replace(/[/?#\s]/g, '') || '%')
    .map((s) => (s.includes('%') ? s : `${s}%`));
  return fc.oneof(encoded, raw);
}

/** Names an object literal inherits: as a query key or header name they crashed the provider shim (BUG-4). */
const INHERITED = Object.getOwnPropertyNames(Object.prototype);

function queryArb(): fc.Arbitrary<string | undefined> {
  const known = fc.constantFrom(
    'limit',
    'state',
    'appId',
    'timestamp',
    'nonce',
    'msg_signature',
    'signature',
    'encrypt_type',
    'auth_code',
    'expires_in',
    'openid',
    'x',
  );
  const key = fc.oneof(known, fc.string({ maxLength: 8 }), fc.constantFrom(...INHERITED));
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.integer().map(String),
    fc.constantFrom('1e400', '-1', '0', '101', 'approved', 'aes'),
  );
  return fc.option(
    fc
      .array(fc.tuple(key, value), { maxLength: 4 })
      .map((pairs) => pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')),
    { nil: undefined },
  );
}

/** Bodies that look like what a route expects, damaged: they get further into the handlers than random bytes. */
const SEEDS: readonly unknown[] = [
  { name: 'Acme' },
  { kind: 'lowcode', name: 'Shop', templateId: 101, requiredPlugins: [], config: { ext: {}, extPages: {} } },
  { kind: 'iot-video', name: 'Cam', templateId: 201, config: {} },
  { ext: { a: 1 }, extPages: {}, pages: ['pages/index/index'] },
  { colours: ['mainColor'] },
  { purpose: 'bind-primary' },
  { purpose: 'authorize-app', appId: 'app_x' },
  { userVersion: '1.0.0', userDesc: 'fuzz', testers: ['t1'] },
  { force: true },
  {},
];

const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'name',
            'kind',
            'templateId',
            'config',
            'purpose',
            'appId',
            'userVersion',
            'testers',
            'force',
            'ext',
            'pages',
            'colours',
          ),
          fc.string({ maxLength: 10 }),
        ),
        fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([seed, edits]) => {
    const value: Record<string, unknown> = typeof seed === 'object' && seed !== null ? { ...(seed as Record<string, unknown>) } : {};
    for (const [key, replacement] of edits) {
      if (replacement === undefined) delete value[key];
      else value[key] = replacement;
    }
    return JSON.stringify(value);
  });

function bodyArb(): fc.Arbitrary<{ bytes: Buffer | undefined; contentType: string | undefined }> {
  const json = (text: fc.Arbitrary<string>) => text.map((t) => ({ bytes: Buffer.from(t, 'utf8'), contentType: 'application/json' }));
  const dimension = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4000 }), fc.constant(4294967295));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({ bytes: undefined, contentType: undefined }) },
    { weight: 3, arbitrary: json(mutated) },
    { weight: 2, arbitrary: json(fc.json({ maxDepth: 4 })) },
    { weight: 1, arbitrary: json(fc.string({ maxLength: 60 })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.string({ maxLength: 80 }),
          fc.constantFrom('text/xml', 'application/xml', 'text/plain', 'application/json', 'application/x-www-form-urlencoded'),
        )
        .map(([t, type]) => ({ bytes: Buffer.from(t), contentType: type })),
    },
    {
      weight: 1,
      arbitrary: fc.string({ maxLength: 60 }).map((t) => ({
        bytes: Buffer.from(`<xml><Encrypt><![CDATA[${t}]]></Encrypt><ToUserName>${t.replace(/[<&]/g, '')}</ToUserName></xml>`),
        contentType: 'text/xml',
      })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes: Buffer.from(bytes), contentType: undefined })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(dimension, dimension, fc.constantFrom('image/png', 'image/gif', 'image/jpeg', 'application/octet-stream'))
        .map(([w, h, type]) => ({ bytes: pngHeader(w, h), contentType: type })),
    },
  );
}

/** Mostly the account whose ids are in the world, so most requests get past authentication. */
const authArb = (world: FuzzWorld) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant<Record<string, string>>({}) },
    { weight: 5, arbitrary: fc.constant({ authorization: `Bearer ${world.keys.account}` }) },
    { weight: 2, arbitrary: fc.constant({ authorization: `Bearer ${world.keys.other}` }) },
    { weight: 1, arbitrary: fc.constant({ authorization: `Bearer ${world.keys.admin}` }) },
    {
      weight: 1,
      arbitrary: fc.string({ maxLength: 40 }).map((key) => ({ authorization: `Bearer ${key.replace(/[^\x21-\x7e]/g, '') || 'x'}` })),
    },
    { weight: 1, arbitrary: fc.constant({ 'x-api-key': world.keys.account }) },
  );

const visible = (text: string, fallback: string) => text.replace(/[^\x21-\x7e]/g, '') || fallback;

function extraHeaders(): fc.Arbitrary<[string, string][]> {
  const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
  const name = fc.oneof(token, fc.constantFrom(...INHERITED));
  const pairs = fc.record(
    {
      'idempotency-key': fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9._:-]{8,20}$/),
        fc.string({ maxLength: 10 }).map((s) => visible(s, 'k')),
      ),
      'x-request-id': fc.string({ maxLength: 20 }).map((s) => visible(s, 'r')),
      origin: fc.constantFrom('https://evil.example', 'null'),
      'content-type': fc.constantFrom(
        'application/json; charset=utf-8',
        'application/vnd.api+json',
        'multipart/form-data; boundary=x',
        'text/xml; charset=gbk',
      ),
    },
    { requiredKeys: [] },
  );
  return fc
    .tuple(
      pairs,
      fc.array(
        fc.tuple(
          name,
          fc.string({ maxLength: 12 }).map((v) => visible(v, 'v')),
        ),
        { maxLength: 2 },
      ),
    )
    .map(([known, other]) => [...Object.entries(known), ...other]);
}

/** Arbitraries are built once per route, not per request: building one (a regex, a oneof) costs more than using it. */
export function requestArb(routes: readonly FuzzRoute[], world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const shared = {
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    query: queryArb(),
    auth: authArb(world),
    extra: extraHeaders(),
    body: bodyArb(),
  };
  const params = new Map<string, fc.Arbitrary<string>>();
  const paramArb = (name: string) => {
    let arb = params.get(name);
    if (!arb) {
      arb = paramValue(name, world);
      params.set(name, arb);
    }
    return arb;
  };
  const perRoute = routes.map((route) => {
    const names = [...route.path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1] ?? '');
    return fc
      .record({
        method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: shared.method }),
        params: fc.tuple(...names.map(paramArb)),
        query: shared.query,
        auth: shared.auth,
        extra: shared.extra,
        body: shared.body,
      })
      .map(({ method, params: values, query, auth, extra, body }): FuzzRequest => {
        let path = route.path;
        names.forEach((name, i) => {
          path = path.replace(`{${name}}`, values[i] ?? '');
        });
        const rotates = route.path === '/v1/account/api-keys';
        const credentials = Object.entries(auth).map(([name, value]): [string, string] =>
          rotates && (value.includes(world.keys.account) || value.includes(world.keys.other))
            ? [name, `Bearer ${world.keys.spare}`]
            : [name, value],
        );
        const headers: [string, string][] = [['accept', 'application/json'], ...credentials, ...extra];
        if (body.contentType && !extra.some(([n]) => n === 'content-type')) headers.push(['content-type', body.contentType]);
        // A GET with a body is legal HTTP but pointless noise; the body matters on the other methods.
        const sendsBody = method !== 'GET' && method !== 'OPTIONS' && body.bytes !== undefined;
        return { method, path: query ? `${path}?${query}` : path, headers, body: sendsBody ? body.bytes : undefined, route };
      });
  });
  return fc.oneof(...perRoute);
}

/** The redirect routes answer people with a page (or `{ok:false, code, message}` for programs), not the envelope. */
const authResult = z.object({ ok: z.literal(false), code: z.string(), message: z.string() });
const isRedirectRoute = (route: FuzzRoute) => route.path.endsWith('/callback');

/** Why a reply breaks the property, or null. */
export function violation(request: FuzzRequest, reply: RawReply): string | null {
  if (reply.status >= 500) return `${reply.status}`;
  if (reply.status < 400 || reply.status === 431) return null;
  const type = String(reply.headers['content-type'] ?? '');
  const text = reply.body.toString('utf8');
  if (!type.includes('json')) return isRedirectRoute(request.route) && type.includes('text/html') ? null : `4xx without JSON (${type})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return '4xx with a body that is not JSON';
  }
  if (errorEnvelope.safeParse(parsed).success) return null;
  if (isRedirectRoute(request.route) && authResult.safeParse(parsed).success) return null;
  return '4xx without our error envelope';
}

export const describeRequest = (r: FuzzRequest): string =>
  `${r.method} ${r.path.slice(0, 300)} headers=${JSON.stringify(r.headers).slice(0, 300)} body=${r.body ? JSON.stringify(r.body.toString('utf8').slice(0, 300)) : '-'}`;

/** A batch of requests sent together (concurrency finds races and keeps the run short); resolves to the first violation. */
export async function sendBatch(baseUrl: string, batch: readonly FuzzRequest[], statuses?: Map<number, number>): Promise<string | null> {
  const replies = await Promise.all(
    batch.map((request) =>
      rawRequest(baseUrl, {
        method: request.method,
        path: request.path,
        headers: request.headers,
        ...(request.body ? { body: request.body } : {}),
      }),
    ),
  );
  for (const [i, reply] of replies.entries()) {
    statuses?.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    const request = batch[i];
    if (!request) continue;
    const broken = violation(request, reply);
    if (broken) return `${broken}: ${describeRequest(request)} → ${reply.status} ${reply.body.toString('utf8').slice(0, 300)}`;
  }
  return null;
}

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import fc from 'fast-check';
import { AppError, ConflictError, CorruptDocumentError, NotFoundError, ValidationError } from '../../domain/errors';
import * as z from '../../domain/zod';
import { json, route } from './route';
import { capturedHttpFunction } from './testing';

const ADMIN_KEY = 'admin-key-that-is-long-enough-0123456789';
const ACCOUNT_KEY = 'acct-key-0123456789abcdef';
const SECRET_IN_ERROR = 'postgres://user:hunter2@db.internal:5432';

/** What a WeChat client raises when WeChat can't be reached: its message and details name the endpoint. */
class UpstreamUnreachableError extends AppError {
  readonly code = 'WECHAT_UNREACHABLE';
  readonly category = 'unavailable' as const;
}

function setup() {
  const { handler, lines } = capturedHttpFunction({
    corsOrigins: ['https://console.example.com'],
    adminApiKey: ADMIN_KEY,
    accounts: { authenticate: async (key) => (key === ACCOUNT_KEY ? 'acct-1' : null) },
    routes: [
      route({
        method: 'POST',
        path: '/things/{thingId}',
        auth: 'account',
        summary: 'create',
        status: 201,
        body: z.catchall(z.object({ name: z.string().check(z.minLength(1)), size: z.number().check(z.int(), z.positive()) }), z.never()),
        params: z.object({ thingId: z.string().check(z.regex(/^t_[a-z0-9]+$/)) }),
        handle: async ({ body, params, principal }) => json(201, { ...body, id: params.thingId, principal }),
      }),
      route({
        method: 'POST',
        path: '/things/{thingId}/archive',
        auth: 'account',
        summary: 'every body field optional',
        body: z.strictObject({ force: z._default(z.boolean(), false) }),
        handle: async ({ body }) => json(200, body),
      }),
      route({
        method: 'GET',
        path: '/undeclared',
        auth: 'public',
        summary: 'answers 201 but declares 200',
        handle: async () => json(201, { made: true }),
      }),
      route({
        method: 'POST',
        path: '/notes',
        status: 201,
        auth: 'account',
        summary: 'a JSON route whose body every field of could also be an XML element',
        body: z.object({ name: z.string() }),
        handle: async ({ body }) => json(201, body),
      }),
      route({
        method: 'POST',
        path: '/pushes',
        auth: 'public',
        summary: 'a route that reads XML bytes itself',
        bodyTypes: ['text/xml', 'application/xml'],
        handle: async ({ rawBody, body }) => json(200, { raw: rawBody.toString('utf8'), parsed: body ?? null }),
      }),
      route({ method: 'GET', path: '/admin/ping', auth: 'admin', summary: 'admin', handle: async () => json(200, { pong: true }) }),
      route({
        method: 'GET',
        path: '/fail/{kind}',
        auth: 'public',
        summary: 'fails on purpose',
        handle: async ({ params }) => {
          if (params.kind === 'conflict') throw new ConflictError('somebody else changed it first');
          if (params.kind === 'missing') throw new NotFoundError('no such thing', { code: 'THING_NOT_FOUND' });
          if (params.kind === 'corrupt') throw new CorruptDocumentError(`row broken at ${SECRET_IN_ERROR}`);
          if (params.kind === 'unavailable') {
            throw new UpstreamUnreachableError('WeChat /cgi-bin/component/api_start_push_ticket unreachable: connection refused', {
              details: { endpoint: '/cgi-bin/component/api_start_push_ticket', host: 'api.weixin.qq.com' },
            });
          }
          throw new TypeError(`cannot read property of undefined (${SECRET_IN_ERROR})`);
        },
      }),
      route({
        method: 'GET',
        path: '/page/{outcome}',
        auth: 'public',
        summary: 'a page people open in a browser',
        errorPage: ({ status, code, message, field, requestId }) => `<p>${status} ${code} ${field ?? '-'} ${requestId}: ${message}</p>`,
        handle: async ({ params }) => {
          if (params.outcome === 'bad')
            throw new ValidationError('state is not signed', [{ path: 'query.state', message: 'not signed' }], { code: 'STATE_INVALID' });
          if (params.outcome === 'missing') throw new NotFoundError('no such app', { code: 'APP_NOT_FOUND' });
          if (params.outcome === 'down') throw new UpstreamUnreachableError('WeChat unreachable at 10.0.0.7');
          return { status: 200, text: '<p>done</p>', contentType: 'text/html; charset=utf-8' };
        },
      }),
      route({
        method: 'GET',
        path: '/png',
        auth: 'public',
        summary: 'binary',
        handle: async () => ({ status: 200, bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47]), contentType: 'image/png' }),
      }),
    ],
  });
  const call = (event: Partial<APIGatewayProxyEvent>) =>
    handler(
      {
        httpMethod: 'GET',
        path: '/',
        headers: {},
        multiValueHeaders: {},
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        pathParameters: null,
        stageVariables: null,
        body: null,
        isBase64Encoded: false,
        resource: '/',
        requestContext: { requestId: 'req-1' } as APIGatewayProxyEvent['requestContext'],
        ...event,
      },
      {} as Context,
    ) as Promise<APIGatewayProxyResult>;
  return { call, lines };
}

const errorOf = (result: APIGatewayProxyResult) => JSON.parse(result.body).error;

describe('the HTTP middy stack', () => {
  it('runs a valid, authenticated request and types its inputs', async () => {
    const { call } = setup();
    const result = await call({
      httpMethod: 'POST',
      path: '/things/t_abc',
      headers: { Authorization: `Bearer ${ACCOUNT_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'lamp', size: 3 }),
    });
    expect(result.statusCode).toBe(201);
    expect(JSON.parse(result.body)).toEqual({ name: 'lamp', size: 3, id: 't_abc', principal: { kind: 'account', accountId: 'acct-1' } });
    expect(result.headers?.['x-request-id']).toBe('req-1');
  });

  it('answers 400 with every offending field path', async () => {
    const { call } = setup();
    const result = await call({
      httpMethod: 'POST',
      path: '/things/t_abc',
      headers: { 'x-api-key': ACCOUNT_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '', size: -1, extra: true }),
    });
    expect(result.statusCode).toBe(400);
    const error = errorOf(result);
    expect(error.code).toBe('INVALID_BODY');
    expect(error.field).toBe('body.name');
    expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body', 'body.name', 'body.size']);
    expect(error.requestId).toBe('req-1');
  });

  it('answers 400 for a bad path parameter and for malformed JSON', async () => {
    const { call } = setup();
    const headers = { 'x-api-key': ACCOUNT_KEY, 'content-type': 'application/json' };
    const badId = await call({ httpMethod: 'POST', path: '/things/..%2F..', headers, body: '{"name":"a","size":1}' });
    expect(badId.statusCode).toBe(400);
    expect(errorOf(badId)).toMatchObject({ code: 'INVALID_PATH', field: 'params.thingId' });
    const badJson = await call({ httpMethod: 'POST', path: '/things/t_a', headers, body: '{"name":' });
    expect(badJson.statusCode).toBe(400);
    expect(errorOf(badJson)).toMatchObject({ code: 'INVALID_JSON', field: 'body' });
  });

  it('answers 415 for a body it cannot read and 413 for a body over the limit', async () => {
    const { call } = setup();
    const headers = { 'x-api-key': ACCOUNT_KEY };
    const form = await call({
      httpMethod: 'POST',
      path: '/things/t_a',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=a',
    });
    expect(form.statusCode).toBe(415);
    const huge = await call({
      httpMethod: 'POST',
      path: '/things/t_a',
      headers: { ...headers, 'content-type': 'application/json' },
      body: Buffer.alloc(2048, 'a').toString('base64'),
      isBase64Encoded: true,
    });
    expect(huge.statusCode).toBe(413);
    expect(errorOf(huge).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('reads a POST without a body as {} where every body field is optional, and names the body where one is needed', async () => {
    const { call } = setup();
    const headers = { 'x-api-key': ACCOUNT_KEY };
    const archived = await call({ httpMethod: 'POST', path: '/things/t_a/archive', headers });
    expect(archived.statusCode).toBe(200);
    expect(JSON.parse(archived.body)).toEqual({ force: false });
    const created = await call({ httpMethod: 'POST', path: '/things/t_a', headers });
    expect(created.statusCode).toBe(400);
    expect(errorOf(created)).toMatchObject({ code: 'INVALID_BODY', field: 'body', message: 'body: send a JSON object' });
  });

  it('logs a 4xx as the one info access line, with its code and field and no stack', async () => {
    const { call, lines } = setup();
    await call({
      httpMethod: 'POST',
      path: '/things/t_a',
      headers: { 'x-api-key': ACCOUNT_KEY, 'content-type': 'application/json' },
      body: '{"name":""}',
    });
    await call({ path: '/fail/missing' });
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.map((entry) => [entry.level, entry.msg, entry.status, entry.code, entry.field])).toEqual([
      ['info', 'request', 400, 'INVALID_BODY', 'body.name'],
      ['info', 'request', 404, 'THING_NOT_FOUND', undefined],
    ]);
    expect(lines.join('\n')).not.toContain('stack');
  });

  it('answers 500 when a handler answers a success status its route does not declare (the OpenAPI document lists the declared one)', async () => {
    const { call, lines } = setup();
    const result = await call({ path: '/undeclared' });
    expect(result.statusCode).toBe(500);
    expect(lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'request crashed')?.error.message).toBe(
      'GET /undeclared answered 201 but declares 200',
    );
  });

  it('refuses a path a gateway passed on unresolved (a dot segment, a backslash) rather than routing it', async () => {
    const { call } = setup();
    for (const path of ['/admin/../admin/ping', '/admin/./ping', '/admin\\ping']) {
      const reply = await call({ httpMethod: 'GET', path, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect({ path, status: reply.statusCode, code: errorOf(reply).code }).toEqual({ path, status: 404, code: 'PATH_NOT_CANONICAL' });
    }
  });

  it('never reads XML on a JSON route: 415 with a stable code, whatever XML type is declared', async () => {
    const { call } = setup();
    for (const type of ['text/xml', 'application/xml', 'text/xml; charset=utf-8', 'text/plain', '']) {
      const headers = { 'x-api-key': ACCOUNT_KEY, ...(type ? { 'content-type': type } : {}) };
      const reply = await call({ httpMethod: 'POST', path: '/notes', headers, body: '<xml><name>ViaXml</name></xml>' });
      expect({ type, status: reply.statusCode, error: errorOf(reply) }).toMatchObject({
        type,
        status: 415,
        error: { code: 'UNSUPPORTED_MEDIA_TYPE', field: 'headers.content-type' },
      });
    }
    const asJson = await call({
      httpMethod: 'POST',
      path: '/notes',
      headers: { 'x-api-key': ACCOUNT_KEY, 'content-type': 'application/json' },
      body: '{"name":"ViaJson"}',
    });
    expect(asJson.statusCode).toBe(201);
  });

  it('gives a route that declares its body types the raw bytes, unparsed, and refuses every other type', async () => {
    const { call } = setup();
    const xml = '<xml><Encrypt>abc</Encrypt></xml>';
    const taken = await call({ httpMethod: 'POST', path: '/pushes', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: xml });
    expect(taken.statusCode).toBe(200);
    expect(JSON.parse(taken.body)).toEqual({ raw: xml, parsed: null });
    for (const type of ['application/json', 'text/plain', '']) {
      const reply = await call({
        httpMethod: 'POST',
        path: '/pushes',
        headers: type ? { 'content-type': type } : {},
        body: '{"Encrypt":"abc"}',
      });
      expect({ type, status: reply.statusCode, code: errorOf(reply).code }).toEqual({ type, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
  });

  it('answers 401 without a key, with a wrong key, and with an account key on an admin route', async () => {
    const { call } = setup();
    const missing = await call({ httpMethod: 'POST', path: '/things/t_a', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(missing.statusCode).toBe(401);
    expect(errorOf(missing).code).toBe('API_KEY_MISSING');
    expect(missing.headers?.['www-authenticate']).toBe('Bearer');
    const wrong = await call({ httpMethod: 'GET', path: '/admin/ping', headers: { authorization: 'Bearer nope' } });
    expect(errorOf(wrong).code).toBe('API_KEY_INVALID');
    const account = await call({ httpMethod: 'GET', path: '/admin/ping', headers: { authorization: `Bearer ${ACCOUNT_KEY}` } });
    expect(account.statusCode).toBe(401);
    const admin = await call({ httpMethod: 'GET', path: '/admin/ping', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(admin.statusCode).toBe(200);
  });

  it('maps domain errors: 404 and 409 keep their code and message', async () => {
    const { call } = setup();
    const missing = await call({ path: '/fail/missing' });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing)).toMatchObject({ code: 'THING_NOT_FOUND', message: 'no such thing' });
    const conflict = await call({ path: '/fail/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(errorOf(conflict).code).toBe('VERSION_CONFLICT');
    const noRoute = await call({ path: '/nowhere' });
    expect(noRoute.statusCode).toBe(404);
    expect(errorOf(noRoute).code).toBe('ROUTE_NOT_FOUND');
  });

  it('answers 500 without internals for unknown errors and internal-category errors, and logs the details', async () => {
    const { call, lines } = setup();
    for (const kind of ['crash', 'corrupt']) {
      const result = await call({ path: `/fail/${kind}` });
      expect(result.statusCode).toBe(500);
      expect(JSON.parse(result.body)).toEqual({
        error: { code: 'INTERNAL_ERROR', message: 'Internal error; quote the request id when reporting it.', requestId: 'req-1' },
      });
      expect(result.body).not.toContain('hunter2');
      expect(result.body).not.toContain('TypeError');
    }
    const logged = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request crashed');
    expect(logged).toHaveLength(2);
    expect(logged[0].error.message).toContain('cannot read property');
    expect(logged[0].requestId).toBe('req-1');
  });

  it('answers CORS preflights for allowed origins only, and decorates responses', async () => {
    const { call } = setup();
    const preflight = await call({ httpMethod: 'OPTIONS', path: '/things/t_a', headers: { origin: 'https://console.example.com' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers?.['access-control-allow-origin']).toBe('https://console.example.com');
    expect(preflight.headers?.['access-control-allow-headers']).toContain('idempotency-key');
    const foreign = await call({ httpMethod: 'OPTIONS', path: '/things/t_a', headers: { origin: 'https://evil.example' } });
    expect(foreign.headers?.['access-control-allow-origin']).toBeUndefined();
    const normal = await call({ path: '/png', headers: { origin: 'https://console.example.com' } });
    expect(normal.headers?.['access-control-allow-origin']).toBe('https://console.example.com');
  });

  it('answers 503 with only a stable code, a generic message and the request id; the details go to the log', async () => {
    const { call, lines } = setup();
    const result = await call({ path: '/fail/unavailable' });
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'WECHAT_UNREACHABLE', message: expect.any(String), requestId: 'req-1' } });
    expect(result.body).not.toContain('cgi-bin');
    expect(result.body).not.toContain('weixin');
    const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'request failed');
    expect(logged).toMatchObject({
      status: 503,
      code: 'WECHAT_UNREACHABLE',
      details: { endpoint: '/cgi-bin/component/api_start_push_ticket' },
    });
    expect(logged.error.message).toContain('api_start_push_ticket unreachable');
  });

  it('answers HEAD wherever GET is served, with the same status and headers and no body', async () => {
    const { call } = setup();
    for (const path of ['/png', '/fail/missing', '/nowhere']) {
      const get = await call({ path });
      const head = await call({ httpMethod: 'HEAD', path });
      expect(head.statusCode).toBe(get.statusCode);
      expect(head.headers).toEqual(get.headers);
      expect(head.body).toBe('');
      expect(head.isBase64Encoded).toBeFalsy();
    }
    const post = await call({ httpMethod: 'HEAD', path: '/things/t_a' });
    expect(post.statusCode).toBe(405);
    expect(post.headers?.allow).toBe('POST');
    const wrong = await call({ httpMethod: 'DELETE', path: '/png' });
    expect(wrong.headers?.allow).toBe('GET, HEAD');
  });

  it("renders a browser route's errors as its page, with the status of the error's category; JSON clients get the envelope", async () => {
    const { call } = setup();
    const html = await call({ path: '/page/bad', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.statusCode).toBe(400);
    expect(html.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(html.body).toBe('<p>400 STATE_INVALID query.state req-1: state is not signed</p>');
    const missing = await call({ path: '/page/missing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('APP_NOT_FOUND');
    const down = await call({ path: '/page/down' });
    expect(down.statusCode).toBe(503);
    expect(down.body).not.toContain('10.0.0.7');

    const json = await call({ path: '/page/bad', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(400);
    expect(errorOf(json)).toMatchObject({ code: 'STATE_INVALID', field: 'query.state', requestId: 'req-1' });
    // Routes without a page answer the envelope whatever the client accepts.
    expect(errorOf(await call({ path: '/fail/missing', headers: { accept: 'text/html' } })).code).toBe('THING_NOT_FOUND');
  });

  it('returns binary bodies base64-encoded', async () => {
    const { call } = setup();
    const result = await call({ path: '/png' });
    expect(result.isBase64Encoded).toBe(true);
    expect(Buffer.from(result.body, 'base64')).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(result.headers?.['content-type']).toBe('image/png');
  });

  it('never answers 5xx for arbitrary request bodies (fast-check)', async () => {
    const { call } = setup();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        async (body) => {
          const result = await call({
            httpMethod: 'POST',
            path: '/things/t_abc',
            headers: { 'x-api-key': ACCOUNT_KEY, 'content-type': 'application/json' },
            body,
          });
          expect([201, 400]).toContain(result.statusCode);
          expect(typeof errorOf(result)?.code === 'string' || result.statusCode === 201).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

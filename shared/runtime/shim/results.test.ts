import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from '../../domain/zod';
import { type HttpProviderKind, type LocalHttpResult, makeCloudHandler, ShimUsageError, toProviderResult } from './index';
import { PNG_BYTES } from './testing';

const httpKinds: HttpProviderKind[] = ['scf-apigw', 'scf-url', 'fc-http', 'aws-v1', 'aws-v2', 'local-http'];

const text: APIGatewayProxyResult = { statusCode: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: '没有 not found' };
const json: APIGatewayProxyResult = {
  statusCode: 200,
  headers: { 'Content-Type': 'application/json', 'Content-Length': 11, 'X-Cached': false },
  body: '{"ok":true}',
};
const png: APIGatewayProxyResult = {
  statusCode: 200,
  headers: { 'Content-Type': 'image/png' },
  body: PNG_BYTES.toString('base64'),
  isBase64Encoded: true,
};
const expiring = 'b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly';
const cookies: APIGatewayProxyResult = {
  statusCode: 302,
  headers: { Location: '/home', 'Set-Cookie': 'ignored: multiValueHeaders wins' },
  multiValueHeaders: { 'Set-Cookie': ['a=1; Path=/', expiring] },
  body: '',
};

/** The result shape every non-local provider gets back, loose enough to read body and flag from any of them. */
const providerBody = z.object({ body: z.string(), isBase64Encoded: z.boolean() });

/** The response body bytes the client will receive, whichever provider carried them. */
function bytesOf(kind: HttpProviderKind, providerResult: unknown): Buffer {
  if (kind === 'local-http') return Buffer.from(z.object({ bodyBase64: z.string() }).parse(providerResult).bodyBase64, 'base64');
  const { body, isBase64Encoded } = providerBody.parse(providerResult);
  return isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

describe('toProviderResult: shapes', () => {
  it('SCF API GW and function URL: integrated response with string header values', () => {
    for (const kind of ['scf-apigw', 'scf-url'] as const) {
      expect(toProviderResult(kind, json)).toStrictEqual({
        isBase64Encoded: false,
        statusCode: 200,
        headers: { 'content-type': 'application/json', 'content-length': '11', 'x-cached': 'false' },
        body: '{"ok":true}',
      });
    }
  });

  it('FC 3.0: {statusCode, headers, isBase64Encoded, body}', () => {
    expect(toProviderResult('fc-http', text)).toStrictEqual({
      statusCode: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      isBase64Encoded: false,
      body: '没有 not found',
    });
  });

  it('AWS v1: passes headers and multiValueHeaders through, values as strings', () => {
    expect(toProviderResult('aws-v1', json)).toStrictEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'Content-Length': '11', 'X-Cached': 'false' },
      multiValueHeaders: {},
      body: '{"ok":true}',
      isBase64Encoded: false,
    });
  });

  it('AWS v2: {statusCode, headers, cookies, body, isBase64Encoded}', () => {
    expect(toProviderResult('aws-v2', text)).toStrictEqual({
      statusCode: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      cookies: [],
      body: '没有 not found',
      isBase64Encoded: false,
    });
  });

  it('local: header pairs and a base64 body', () => {
    const result: LocalHttpResult = {
      statusCode: 404,
      headers: [['content-type', 'text/plain; charset=utf-8']],
      bodyBase64: Buffer.from('没有 not found').toString('base64'),
    };
    expect(toProviderResult('local-http', text)).toStrictEqual(result);
  });

  it.each(httpKinds)('%s: a text and a JSON body reach the client byte for byte', (kind) => {
    expect(bytesOf(kind, toProviderResult(kind, text)).toString('utf8')).toBe('没有 not found');
    expect(bytesOf(kind, toProviderResult(kind, json)).toString('utf8')).toBe('{"ok":true}');
  });

  it.each(httpKinds)('%s: binary PNG bytes survive (base64 with the flag set)', (kind) => {
    const providerResult = toProviderResult(kind, png);
    expect(bytesOf(kind, providerResult).equals(PNG_BYTES)).toBe(true);
    if (kind !== 'local-http') expect(providerBody.parse(providerResult).isBase64Encoded).toBe(true);
  });
});

describe('toProviderResult: several Set-Cookie headers', () => {
  it('AWS v1 keeps them as multiValueHeaders', () => {
    expect(toProviderResult('aws-v1', cookies)).toMatchObject({ multiValueHeaders: { 'Set-Cookie': ['a=1; Path=/', expiring] } });
  });

  it('AWS v2 moves every one into cookies and drops the header', () => {
    expect(toProviderResult('aws-v2', cookies)).toStrictEqual({
      statusCode: 302,
      headers: { location: '/home' },
      cookies: ['a=1; Path=/', expiring],
      body: '',
      isBase64Encoded: false,
    });
  });

  it('local keeps one pair per cookie', () => {
    expect(toProviderResult('local-http', cookies)).toStrictEqual({
      statusCode: 302,
      headers: [
        ['set-cookie', 'a=1; Path=/'],
        ['set-cookie', expiring],
        ['location', '/home'],
      ],
      bodyBase64: '',
    });
  });

  it.each(['scf-apigw', 'scf-url', 'fc-http'] as const)('%s has a single-value map: they are folded with ", "', (kind) => {
    expect(toProviderResult(kind, cookies)).toMatchObject({ headers: { 'set-cookie': `a=1; Path=/, ${expiring}`, location: '/home' } });
  });
});

describe('toProviderResult: invalid handler results', () => {
  it.each([
    ['undefined', undefined],
    ['a string', 'hello'],
    ['a string status code', { statusCode: '200', body: '' }],
    ['a status out of range', { statusCode: 42, body: '' }],
    ['an object body', { statusCode: 200, body: { ok: true } }],
  ])('%s → ShimUsageError HANDLER_RESULT_INVALID', (_label, bad) => {
    // The cast is the point: a JS handler (or a bug) can return anything at run time.
    const call = (): unknown => toProviderResult('scf-apigw', bad as APIGatewayProxyResult);
    expect(call).toThrow(ShimUsageError);
    expect(call).toThrow(expect.objectContaining({ code: 'HANDLER_RESULT_INVALID', category: 'internal' }));
  });

  it('a timer kind takes no HTTP result', () => {
    expect(() => toProviderResult('aws-schedule', text)).toThrow(expect.objectContaining({ code: 'TRIGGER_KIND_MISMATCH' }));
  });
});

// ------------------------------------------------------------------------------------------------ round trip

/** One request as a client sends it. */
interface SentRequest {
  method: string;
  path: string;
  query: [string, string][];
  headers: [string, string][];
  body: Buffer;
}

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');
const rawQuery = (query: [string, string][]): string => new URLSearchParams(query).toString();
const single = (pairs: [string, string][]): Record<string, string> => Object.fromEntries(pairs);
const multi = (pairs: [string, string][]): Record<string, string[]> => {
  const grouped: Record<string, string[]> = {};
  for (const [key, value] of pairs) (grouped[key] ??= []).push(value);
  return grouped;
};

/** How each provider's gateway presents `req` to the function, per its documented event format. */
function asProviderEvent(kind: HttpProviderKind, req: SentRequest): unknown {
  const body = req.body.length === 0 ? '' : b64(req.body);
  const bodyFields = { body, isBase64Encoded: body !== '' };
  switch (kind) {
    case 'scf-apigw':
      return {
        httpMethod: req.method,
        path: req.path,
        headers: single(req.headers),
        queryString: single(req.query),
        queryStringParameters: {},
        requestContext: { serviceId: 'service-rt', path: req.path, requestId: 'rt-1', sourceIp: '198.51.100.7', stage: 'release' },
        ...bodyFields,
      };
    case 'scf-url':
      return {
        httpMethod: req.method,
        path: req.path,
        headers: { ...single(req.headers), 'x-scf-remote-addr': '198.51.100.7' },
        queryString: single(req.query),
        ...bodyFields,
      };
    case 'fc-http':
      return Buffer.from(
        JSON.stringify({
          version: 'v1',
          rawPath: encodePath(req.path),
          headers: single(req.headers),
          queryParameters: single(req.query),
          requestContext: { requestId: 'rt-1', http: { method: req.method, path: req.path, sourceIp: '198.51.100.7' } },
          ...bodyFields,
        }),
      );
    case 'aws-v1':
      return {
        resource: req.path,
        path: req.path,
        httpMethod: req.method,
        headers: single(req.headers),
        multiValueHeaders: multi(req.headers),
        queryStringParameters: single(req.query),
        multiValueQueryStringParameters: multi(req.query),
        pathParameters: null,
        stageVariables: null,
        requestContext: { requestId: 'rt-1', identity: { sourceIp: '198.51.100.7' } },
        ...bodyFields,
      };
    case 'aws-v2':
      return {
        version: '2.0',
        routeKey: '$default',
        rawPath: encodePath(req.path),
        rawQueryString: rawQuery(req.query),
        headers: single(req.headers),
        requestContext: { requestId: 'rt-1', http: { method: req.method, path: req.path, sourceIp: '198.51.100.7' } },
        ...bodyFields,
      };
    case 'local-http':
      return {
        kind: 'local-http',
        method: req.method,
        rawPath: encodePath(req.path),
        rawQueryString: rawQuery(req.query),
        rawHeaders: req.headers,
        bodyBase64: b64(req.body),
        clientIp: '198.51.100.7',
        requestId: 'rt-1',
      };
  }
}

/** Echoes what the handler saw; the request body comes back as the (binary) response body. */
async function echo(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  const seen = {
    method: event.httpMethod,
    path: event.path,
    query: event.multiValueQueryStringParameters,
    headers: event.multiValueHeaders,
    requestId: event.requestContext.requestId,
    sourceIp: event.requestContext.identity.sourceIp,
    awsRequestId: context.awsRequestId,
  };
  const bytes = event.body === null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  return {
    statusCode: 200,
    headers: { 'X-Seen': JSON.stringify(seen), 'Content-Type': 'application/octet-stream' },
    body: b64(bytes),
    isBase64Encoded: true,
  };
}

function seenHeaderOf(kind: HttpProviderKind, providerResult: unknown): unknown {
  const value =
    kind === 'local-http'
      ? z
          .object({ headers: z.array(z.tuple([z.string(), z.string()])) })
          .parse(providerResult)
          .headers.find(([name]) => name === 'x-seen')?.[1]
      : z.object({ headers: z.record(z.string(), z.string()) }).parse(providerResult).headers[kind === 'aws-v1' ? 'X-Seen' : 'x-seen'];
  return JSON.parse(value ?? 'null');
}

/** Repeated query keys only where the provider can carry them apart (SCF and FC documented maps can't). */
const canRepeat = (kind: HttpProviderKind): boolean => kind === 'aws-v1' || kind === 'aws-v2' || kind === 'local-http';

describe('round trip through makeCloudHandler: the handler sees exactly what was sent', () => {
  it.each(httpKinds)('%s: method, path, query, headers and a JSON body', async (kind) => {
    const req: SentRequest = {
      method: 'PUT',
      path: '/items/a b/中',
      query: canRepeat(kind)
        ? [
            ['tag', 'x'],
            ['tag', 'y & z'],
            ['page', '2'],
          ]
        : [
            ['tag', 'y & z'],
            ['page', '2'],
          ],
      headers: [
        ['Content-Type', 'application/json; charset=utf-8'],
        ['X-Request-Trace', 'abc-123'],
      ],
      body: Buffer.from('{"name":"小程序"}'),
    };
    const handler = makeCloudHandler({ http: echo });
    const providerResult = await handler(asProviderEvent(kind, req), { request_id: 'rt-1', requestId: 'rt-1', awsRequestId: 'rt-1' });

    expect(seenHeaderOf(kind, providerResult)).toEqual({
      method: 'PUT',
      path: '/items/a b/中',
      query: multi(req.query),
      headers: expect.objectContaining({ 'content-type': ['application/json; charset=utf-8'], 'x-request-trace': ['abc-123'] }),
      requestId: 'rt-1',
      sourceIp: '198.51.100.7',
      awsRequestId: 'rt-1',
    });
    expect(bytesOf(kind, providerResult).toString('utf8')).toBe('{"name":"小程序"}');
  });

  it.each(httpKinds)('%s: a PNG upload comes back byte for byte', async (kind) => {
    const req: SentRequest = { method: 'POST', path: '/qr', query: [], headers: [['Content-Type', 'image/png']], body: PNG_BYTES };
    const providerResult = await makeCloudHandler({ http: echo })(asProviderEvent(kind, req), undefined);
    expect(bytesOf(kind, providerResult).equals(PNG_BYTES)).toBe(true);
  });

  it.each(['aws-v1', 'local-http'] as const)('%s: repeated request headers arrive as separate values', async (kind) => {
    const req: SentRequest = {
      method: 'GET',
      path: '/',
      query: [],
      headers: [
        ['X-Forwarded-For', '203.0.113.1'],
        ['X-Forwarded-For', '10.0.0.1'],
      ],
      body: Buffer.alloc(0),
    };
    const providerResult = await makeCloudHandler({ http: echo })(asProviderEvent(kind, req), undefined);
    expect(seenHeaderOf(kind, providerResult)).toMatchObject({ headers: { 'x-forwarded-for': ['203.0.113.1', '10.0.0.1'] } });
  });
});

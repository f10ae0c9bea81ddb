/**
 * A provider event the shim can't convert, behind the real HTTP stack: the client gets our 400 envelope in the
 * provider's result shape (not a crash thrown to the platform), and gateway quirks the shim tolerates are served.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { json, route } from '../http/route';
import { capturedHttpFunction } from '../http/testing';
import { type LocalHttpResult, MalformedTriggerEventError, makeCloudHandler } from './index';
import { contexts, loadFixture, withFields } from './testing';

function stack() {
  const { handler: http, lines } = capturedHttpFunction({
    routes: [
      route({
        method: 'GET',
        path: '/echo',
        auth: 'public',
        summary: 'echoes what the handler saw',
        handle: async ({ headers, query }) => json(200, { a: headers.a ?? null, query }),
      }),
    ],
  });
  return { handler: makeCloudHandler({ http, schedule: async () => 'ran' }), lines };
}

const localResult = (value: unknown) => {
  const result = value as LocalHttpResult;
  return { status: result.statusCode, body: JSON.parse(Buffer.from(result.bodyBase64, 'base64').toString('utf8')) as unknown };
};

const scfUrlEvent = (changes: Record<string, unknown>) =>
  withFields(loadFixture('scf-url.json'), { httpMethod: 'GET', path: '/echo', body: undefined, headers: {}, queryString: {}, ...changes });

describe('an HTTP event the shim cannot convert', () => {
  it('local: an absolute-form request target is answered 400 with our envelope, naming the field', async () => {
    const { handler, lines } = stack();
    const event = withFields(loadFixture('local-http.json'), {
      method: 'GET',
      rawPath: 'http://example.com/v1/health',
      pathParameters: undefined,
      resource: undefined,
    });
    const result = localResult(await handler(event, contexts.local));
    expect(result).toEqual({
      status: 400,
      body: {
        error: {
          code: 'TRIGGER_EVENT_MALFORMED',
          message: 'malformed local-http trigger event',
          field: 'rawPath',
          issues: [{ path: 'rawPath', message: expect.any(String) }],
          details: { kind: 'local-http' },
          requestId: 'local-ctx-request-id',
        },
      },
    });
    // The access log still has its line, with what could be read of the request.
    expect(lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'request')).toMatchObject({
      method: 'GET',
      path: 'http://example.com/v1/health',
      status: 400,
    });
  });

  it('SCF function URL: a mistyped field is answered 400 in the SCF result shape', async () => {
    const { handler } = stack();
    const result = (await handler(scfUrlEvent({ headers: { accept: 42 } }), contexts.scf)) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(400);
    expect(result.headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(result.body).error).toMatchObject({
      code: 'TRIGGER_EVENT_MALFORMED',
      field: 'headers.accept',
      requestId: 'scf-ctx-request-id',
    });
  });

  it('SCF function URL: a header or query key the gateway renders as null is read as present and empty', async () => {
    const { handler } = stack();
    const result = (await handler(
      scfUrlEvent({ headers: { a: null }, queryString: { flag: null, tag: ['x', null] } }),
      contexts.scf,
    )) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ a: '', query: { flag: '', tag: '' } });
  });

  it('is still thrown to the platform by a handler that does not answer it, and for a timer', async () => {
    const echo = async (): Promise<APIGatewayProxyResult> => ({ statusCode: 200, body: 'never saw the request' });
    const event = withFields(loadFixture('local-http.json'), { rawPath: 'http://example.com/' });
    await expect(makeCloudHandler({ http: echo })(event, contexts.local)).rejects.toBeInstanceOf(MalformedTriggerEventError);
    const timer = withFields(loadFixture('scf-timer.json'), { Time: 'yesterday' });
    await expect(stack().handler(timer, contexts.scf)).rejects.toBeInstanceOf(MalformedTriggerEventError);
  });
});

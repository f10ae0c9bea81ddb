import { AppError } from '../../domain/errors';
import {
  detectProvider,
  type HttpProviderKind,
  MalformedTriggerEventError,
  type ProviderKind,
  type ScheduleProviderKind,
  ShimUsageError,
  toHttpEvent,
  toScheduledEvent,
  UnknownTriggerEventError,
} from './index';
import { contexts, loadFixture, PNG_BYTES, RECEIVED_AT, thrownBy, withFields } from './testing';

const contextFor = (kind: ProviderKind): unknown =>
  kind.startsWith('scf') ? contexts.scf : kind.startsWith('fc') ? contexts.fc : kind.startsWith('local') ? contexts.local : undefined;

const httpKinds: HttpProviderKind[] = ['scf-apigw', 'scf-url', 'fc-http', 'aws-v1', 'aws-v2', 'local-http'];
const scheduleKinds: ScheduleProviderKind[] = ['scf-timer', 'fc-timer', 'aws-schedule', 'local-timer'];

describe('documented sample events', () => {
  it.each(httpKinds)('%s: detected and normalised to the expected APIGatewayProxyEvent', (kind) => {
    const raw = loadFixture(`${kind}.json`);
    expect(detectProvider(raw)).toBe(kind);
    expect(toHttpEvent(kind, raw, contextFor(kind), RECEIVED_AT)).toEqual(loadFixture(`${kind}.expected.json`));
  });

  it.each(scheduleKinds)('%s: detected and normalised to the expected ScheduledEvent', (kind) => {
    const raw = loadFixture(`${kind}.json`);
    expect(detectProvider(raw)).toBe(kind);
    expect(toScheduledEvent(kind, raw)).toEqual(loadFixture(`${kind}.expected.json`));
  });
});

describe('SCF function-URL events with a requestContext (as observed, not as documented)', () => {
  it('are detected by what identifies SCF, not by a missing requestContext, and keep their query and client ip', () => {
    const raw = loadFixture('scf-url-observed.json');
    expect(detectProvider(raw)).toBe('scf-url');
    expect(toHttpEvent('scf-url', raw, contexts.scf, RECEIVED_AT)).toEqual(loadFixture('scf-url-observed.expected.json'));
  });

  it('keep auth_code and state, whichever SCF marker the event carries', () => {
    const query = { auth_code: 'queryauthcode@@@abc', expires_in: '3600', state: 'payload.mac' };
    const observed = withFields(loadFixture('scf-url-observed.json'), { path: '/wechat/bind/callback', queryString: query });
    const onlyHeader = withFields(observed, { queryString: undefined, queryStringParameters: query });
    const documented = withFields(loadFixture('scf-url.json'), {
      httpMethod: 'GET',
      path: '/wechat/bind/callback',
      queryString: query,
      requestContext: { sourceIp: '203.0.113.9' },
    });
    for (const raw of [observed, onlyHeader, documented]) {
      expect(detectProvider(raw)).toBe('scf-url');
      expect(toHttpEvent('scf-url', raw, contexts.scf).queryStringParameters).toEqual(query);
    }
  });

  it('an AWS REST event is still AWS: it carries multiValueHeaders and requestContext.apiId / identity', () => {
    const raw = loadFixture('aws-v1.json');
    expect(detectProvider(raw)).toBe('aws-v1');
    expect(detectProvider(withFields(raw, { multiValueHeaders: undefined }))).toBe('aws-v1');
  });

  it('an HTTP-looking event with no provider marker is not guessed at', () => {
    expect(thrownBy(() => detectProvider({ httpMethod: 'GET', path: '/', requestContext: { sourceIp: '1.2.3.4' } }))).toBeInstanceOf(
      UnknownTriggerEventError,
    );
  });
});

describe('FC delivers events as a Buffer (or a JSON string)', () => {
  it.each(['fc-http', 'fc-timer'] as const)('%s from a Buffer and from a string', (kind) => {
    const text = JSON.stringify(loadFixture(`${kind}.json`));
    const expected = loadFixture(`${kind}.expected.json`);
    for (const raw of [Buffer.from(text), text, new Uint8Array(Buffer.from(text))]) {
      expect(detectProvider(raw)).toBe(kind);
      const normalised = kind === 'fc-http' ? toHttpEvent(kind, raw, contexts.fc, RECEIVED_AT) : toScheduledEvent(kind, raw);
      expect(normalised).toEqual(expected);
    }
  });
});

describe('request id and client ip', () => {
  it('fall back to the context request id when the event has none', () => {
    const scf = loadFixture('scf-apigw.json');
    const scfRc = withFields(withFields(scf, {}).requestContext, { requestId: undefined });
    expect(toHttpEvent('scf-apigw', withFields(scf, { requestContext: scfRc }), contexts.scf).requestContext.requestId).toBe(
      'scf-ctx-request-id',
    );

    const fc = loadFixture('fc-http.json');
    const fcRc = withFields(withFields(fc, {}).requestContext, { requestId: undefined });
    expect(toHttpEvent('fc-http', withFields(fc, { requestContext: fcRc }), contexts.fc).requestContext.requestId).toBe(
      'fc-ctx-request-id',
    );

    const v1 = loadFixture('aws-v1.json');
    const v1Rc = withFields(withFields(v1, {}).requestContext, { requestId: undefined });
    expect(toHttpEvent('aws-v1', withFields(v1, { requestContext: v1Rc }), { awsRequestId: 'aws-ctx' }).requestContext.requestId).toBe(
      'aws-ctx',
    );
  });

  it('is empty, not undefined, when neither event nor context has one', () => {
    const event = toHttpEvent('scf-url', loadFixture('scf-url.json'), undefined);
    expect(event.requestContext.requestId).toBe('');
  });

  it('takes the SCF function URL client ip from x-scf-remote-addr whatever its case', () => {
    const raw = withFields(loadFixture('scf-url.json'), { headers: { 'X-SCF-Remote-Addr': '203.0.113.9' } });
    expect(toHttpEvent('scf-url', raw, contexts.scf).requestContext.identity.sourceIp).toBe('203.0.113.9');
  });
});

describe('query strings', () => {
  it('SCF API GW: uses queryString (all params) over queryStringParameters, falling back when it is absent or empty', () => {
    const raw = loadFixture('scf-apigw.json');
    expect(toHttpEvent('scf-apigw', raw, undefined).queryStringParameters).toEqual({ foo: 'bar', bob: 'alice' });
    for (const queryString of [undefined, {}]) {
      const declaredOnly = withFields(raw, { queryString });
      expect(toHttpEvent('scf-apigw', declaredOnly, undefined).queryStringParameters).toEqual({ foo: 'bar' });
    }
  });

  it('SCF API GW: a repeated key delivered as an array keeps every value, last one wins in the single map', () => {
    const raw = withFields(loadFixture('scf-apigw.json'), { queryString: { tag: ['a', 'b'] } });
    const event = toHttpEvent('scf-apigw', raw, undefined);
    expect(event.queryStringParameters).toEqual({ tag: 'b' });
    expect(event.multiValueQueryStringParameters).toEqual({ tag: ['a', 'b'] });
  });

  it('AWS v2: parses rawQueryString (decoding %XX and +) rather than the comma-joined map', () => {
    const raw = withFields(loadFixture('aws-v2.json'), { rawQueryString: 'q=a%2Cb&q=c+d&e=%E4%B8%AD' });
    const event = toHttpEvent('aws-v2', raw, undefined);
    expect(event.multiValueQueryStringParameters).toEqual({ q: ['a,b', 'c d'], e: ['中'] });
    expect(event.queryStringParameters).toEqual({ q: 'c d', e: '中' });
  });

  it('AWS v2: without rawQueryString, uses queryStringParameters as given', () => {
    const raw = withFields(loadFixture('aws-v2.json'), { rawQueryString: undefined });
    expect(toHttpEvent('aws-v2', raw, undefined).multiValueQueryStringParameters).toEqual({
      parameter1: ['value1,value2'],
      parameter2: ['value'],
    });
  });

  it('is null (not {}) when the request has none', () => {
    const raw = withFields(loadFixture('local-http.json'), { rawQueryString: '' });
    const event = toHttpEvent('local-http', raw, undefined);
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
  });
});

describe('headers', () => {
  it('AWS v1: merges headers missing from multiValueHeaders and folds keys that differ only in case', () => {
    const raw = withFields(loadFixture('aws-v1.json'), {
      headers: { 'X-Only-Single': 'one', Accept: 'ignored: multiValueHeaders wins' },
      multiValueHeaders: { Accept: ['text/html'], accept: ['application/json'] },
    });
    const event = toHttpEvent('aws-v1', raw, undefined);
    expect(event.multiValueHeaders).toEqual({ accept: ['text/html', 'application/json'], 'x-only-single': ['one'] });
    expect(event.headers).toEqual({ accept: 'text/html,application/json', 'x-only-single': 'one' });
  });

  it('AWS v2: keeps an explicit cookie header rather than rebuilding it from cookies', () => {
    const raw = withFields(loadFixture('aws-v2.json'), { headers: { Cookie: 'x=1' } });
    expect(toHttpEvent('aws-v2', raw, undefined).headers).toEqual({ cookie: 'x=1' });
  });
});

describe('bodies', () => {
  it.each([
    ['scf-apigw', { body: 'iVBORw0KGgo=', isBase64Encoded: true }],
    ['fc-http', { body: 'iVBORw0KGgo=', isBase64Encoded: true }],
    ['aws-v1', { body: 'iVBORw0KGgo=', isBase64Encoded: true }],
    ['aws-v2', { body: 'iVBORw0KGgo=', isBase64Encoded: true }],
  ] as const)('%s: a base64 body passes through untouched', (kind, fields) => {
    const event = toHttpEvent(kind, withFields(loadFixture(`${kind}.json`), fields), undefined);
    expect(event.body).toBe('iVBORw0KGgo=');
    expect(event.isBase64Encoded).toBe(true);
  });

  it('SCF function URL: a body the client declared base64 reaches the handler as those bytes, whether or not SCF encoded it again', () => {
    const clientSent = PNG_BYTES.toString('base64');
    const declared = { 'content-type': 'image/png', 'Content-Transfer-Encoding': 'BASE64' };
    const plain = withFields(loadFixture('scf-url-observed.json'), { httpMethod: 'POST', headers: declared, body: clientSent });
    const doubled = withFields(plain, { body: Buffer.from(clientSent).toString('base64'), isBase64Encoded: true });
    for (const raw of [plain, doubled]) {
      const event = toHttpEvent('scf-url', raw, contexts.scf);
      expect(event.isBase64Encoded).toBe(true);
      expect(Buffer.from(event.body ?? '', 'base64').equals(PNG_BYTES)).toBe(true);
    }
    // Without the declaration a text body stays text.
    const text = toHttpEvent('scf-url', withFields(plain, { headers: { 'content-type': 'text/plain' } }), contexts.scf);
    expect({ body: text.body, isBase64Encoded: text.isBase64Encoded }).toEqual({ body: clientSent, isBase64Encoded: false });
  });

  it.each([undefined, null, ''])('an absent or empty body (%p) becomes null, not base64', (body) => {
    expect(toHttpEvent('fc-http', withFields(loadFixture('fc-http.json'), { body }), undefined).body).toBeNull();
    const local = toHttpEvent('local-http', withFields(loadFixture('local-http.json'), { bodyBase64: '' }), undefined);
    expect(local.body).toBeNull();
    expect(local.isBase64Encoded).toBe(false);
  });
});

describe('paths', () => {
  it('local: decodes the raw path, keeping it raw when an escape is malformed', () => {
    const ok = toHttpEvent(
      'local-http',
      withFields(loadFixture('local-http.json'), { rawPath: '/a%2Fb/%E4%B8%AD', resource: undefined }),
      undefined,
    );
    expect(ok.path).toBe('/a/b/中');
    expect(ok.resource).toBe('/a/b/中');
    const bad = toHttpEvent('local-http', withFields(loadFixture('local-http.json'), { rawPath: '/x/%E0%A4%A' }), undefined);
    expect(bad.path).toBe('/x/%E0%A4%A');
  });

  it('FC: decodes rawPath when requestContext.http.path is missing', () => {
    const raw = loadFixture('fc-http.json');
    const rc = withFields(raw, {}).requestContext;
    const http = { method: 'GET', sourceIp: '1.2.3.4' };
    const event = toHttpEvent('fc-http', withFields(raw, { rawPath: '/a%20b', requestContext: withFields(rc, { http }) }), undefined);
    expect(event.path).toBe('/a b');
  });

  it('AWS v2: uses the route template of a routeKey as resource', () => {
    const raw = withFields(loadFixture('aws-v2.json'), { routeKey: 'POST /my/{id}' });
    expect(toHttpEvent('aws-v2', raw, undefined).resource).toBe('/my/{id}');
  });
});

describe('timers', () => {
  it('SCF: Type is compared case-insensitively and an empty Message means no payload', () => {
    const raw = withFields(loadFixture('scf-timer.json'), { Type: 'timer', Message: '' });
    expect(detectProvider(raw)).toBe('scf-timer');
    expect(toScheduledEvent('scf-timer', raw)).toEqual({
      kind: 'schedule',
      provider: 'scf-timer',
      triggerName: 'EveryDay',
      time: '2019-02-21T11:49:00.000Z',
      payload: undefined,
    });
  });

  it('EventBridge: takes the rule name after an event-bus segment and serialises a non-empty detail', () => {
    const raw = withFields(loadFixture('aws-schedule.json'), {
      resources: ['arn:aws:events:us-east-2:123456789012:rule/my-bus/nightly'],
      detail: { batch: 5 },
    });
    const event = toScheduledEvent('aws-schedule', raw);
    expect(event.triggerName).toBe('nightly');
    expect(event.payload).toBe('{"batch":5}');
  });
});

describe('unrecognised and malformed events', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an array', [{ httpMethod: 'GET' }]],
    ['an empty object', {}],
    ['an S3 notification', { Records: [{ eventSource: 'aws:s3' }] }],
    ['text that is not JSON', 'hello'],
    ['a Buffer that is not JSON', Buffer.from([0xff, 0x00])],
  ])('%s → UnknownTriggerEventError', (_label, raw) => {
    const error = thrownBy(() => detectProvider(raw));
    expect(error).toBeInstanceOf(UnknownTriggerEventError);
    expect(error).toMatchObject({ code: 'TRIGGER_EVENT_UNKNOWN', category: 'invalid' });
  });

  it.each([
    ['scf-apigw', 'httpMethod', withFields(loadFixture('scf-apigw.json'), { httpMethod: 42 })],
    ['scf-apigw', 'headers', withFields(loadFixture('scf-apigw.json'), { headers: ['Accept'] })],
    ['scf-url', 'path', withFields(loadFixture('scf-url.json'), { path: undefined })],
    ['fc-http', 'requestContext', withFields(loadFixture('fc-http.json'), { requestContext: undefined })],
    ['fc-http', 'requestContext.http.method', withFields(loadFixture('fc-http.json'), { requestContext: { http: {} } })],
    ['aws-v1', 'multiValueHeaders.Accept', withFields(loadFixture('aws-v1.json'), { multiValueHeaders: { Accept: 'text/html' } })],
    ['aws-v2', 'cookies', withFields(loadFixture('aws-v2.json'), { cookies: 'a=1' })],
    ['local-http', 'bodyBase64', withFields(loadFixture('local-http.json'), { bodyBase64: 'not base64!' })],
    ['local-http', 'rawHeaders.0', withFields(loadFixture('local-http.json'), { rawHeaders: [['Host']] })],
  ] as const)('%s with a bad %s → MalformedTriggerEventError naming the field', (kind, field, raw) => {
    expect(detectProvider(raw)).toBe(kind);
    const error = thrownBy(() => toHttpEvent(kind, raw, undefined));
    expect(error).toBeInstanceOf(MalformedTriggerEventError);
    expect(error).toMatchObject({ code: 'TRIGGER_EVENT_MALFORMED', category: 'invalid', details: { kind } });
    expect(error).toHaveProperty('field', expect.stringContaining(field));
  });

  it.each([
    ['scf-timer', 'Time', withFields(loadFixture('scf-timer.json'), { Time: 'yesterday' })],
    ['scf-timer', 'TriggerName', withFields(loadFixture('scf-timer.json'), { TriggerName: 7 })],
    ['fc-timer', 'triggerTime', withFields(loadFixture('fc-timer.json'), { triggerTime: 12 })],
    ['aws-schedule', 'resources', withFields(loadFixture('aws-schedule.json'), { resources: [] })],
    ['local-timer', 'triggerName', withFields(loadFixture('local-timer.json'), { triggerName: '' })],
  ] as const)('%s with a bad %s → MalformedTriggerEventError', (kind, field, raw) => {
    expect(detectProvider(raw)).toBe(kind);
    const error = thrownBy(() => toScheduledEvent(kind, raw));
    expect(error).toBeInstanceOf(MalformedTriggerEventError);
    expect(error).toHaveProperty('field', field);
  });

  it('a converter given text that is not JSON reports a malformed event of that kind', () => {
    expect(thrownBy(() => toHttpEvent('fc-http', Buffer.from('{'), undefined))).toBeInstanceOf(MalformedTriggerEventError);
  });

  it('converters refuse the wrong family of kind', () => {
    expect(thrownBy(() => toHttpEvent('scf-timer', loadFixture('scf-timer.json'), undefined))).toMatchObject({
      code: 'TRIGGER_KIND_MISMATCH',
    });
    expect(thrownBy(() => toScheduledEvent('fc-http', loadFixture('fc-http.json')))).toBeInstanceOf(ShimUsageError);
  });

  it('every error raised is an AppError, never a TypeError', () => {
    const junk: unknown[] = [
      { httpMethod: null, queryString: null, requestContext: null },
      { httpMethod: 'GET', requestContext: { serviceId: 1 } },
      { version: 'v1', rawPath: '/x', requestContext: 'nope' },
      { version: '2.0', rawPath: '/x', requestContext: { http: null } },
      { kind: 'local-http' },
      { kind: 'local-timer', fireTime: 'soon' },
      { Type: 'TIMER', TriggerName: null },
      { triggerTime: null, triggerName: 'x' },
      { source: 'aws.events', 'detail-type': 'Scheduled Event' },
    ];
    for (const raw of junk) {
      const kind = detectProvider(raw);
      const error = thrownBy(() =>
        scheduleKinds.some((k) => k === kind) ? toScheduledEvent(kind, raw) : toHttpEvent(kind, raw, undefined),
      );
      expect(error).toBeInstanceOf(AppError);
    }
  });
});

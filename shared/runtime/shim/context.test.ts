import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  FALLBACK_TIME_LIMIT_MS,
  makeCloudHandler,
  NoHandlerForTriggerError,
  type ScheduledEvent,
  toLambdaContext,
  UnknownTriggerEventError,
} from './index';
import { contexts, loadFixture, RECEIVED_AT } from './testing';

/** A clock the test moves by hand. */
function clock(start: number): { now: () => number; advance: (ms: number) => void } {
  let current = start;
  return { now: () => current, advance: (ms) => void (current += ms) };
}

describe('toLambdaContext', () => {
  it('SCF: fields mapped, remaining time = time_limit_in_ms − elapsed, never negative, vendor fields kept', () => {
    const time = clock(1_000);
    const context = toLambdaContext('scf-apigw', contexts.scf, 1_000, time.now);
    expect(context).toMatchObject({
      functionName: 'wxa-deploy-webhook',
      functionVersion: '$LATEST',
      awsRequestId: 'scf-ctx-request-id',
      memoryLimitInMB: '256',
      callbackWaitsForEmptyEventLoop: true,
      request_id: 'scf-ctx-request-id',
      tencentcloud_region: 'ap-guangzhou',
    });
    expect(context.getRemainingTimeInMillis()).toBe(20_000);
    time.advance(5_000);
    expect(context.getRemainingTimeInMillis()).toBe(15_000);
    time.advance(60_000);
    expect(context.getRemainingTimeInMillis()).toBe(0);
  });

  it('FC: timeout is in seconds; memory from function.memory, or memorySize', () => {
    const time = clock(0);
    const context = toLambdaContext('fc-http', contexts.fc, 0, time.now);
    expect(context).toMatchObject({
      functionName: 'wxa-deploy-webhook',
      awsRequestId: 'fc-ctx-request-id',
      memoryLimitInMB: '128',
      functionVersion: '1',
    });
    expect(context.getRemainingTimeInMillis()).toBe(60_000);
    const viaMemorySize = toLambdaContext(
      'fc-timer',
      { requestId: 'r', function: { name: 'f', memorySize: 1024, timeout: 3 } },
      0,
      time.now,
    );
    expect(viaMemorySize.memoryLimitInMB).toBe('1024');
    expect(viaMemorySize.getRemainingTimeInMillis()).toBe(3_000);
  });

  it('AWS: a real Lambda context is returned as is, keeping its own clock', () => {
    const lambdaContext: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: 'fn',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn',
      memoryLimitInMB: '128',
      awsRequestId: 'aws-1',
      logGroupName: '/aws/lambda/fn',
      logStreamName: 'stream',
      getRemainingTimeInMillis: () => 1234,
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    expect(toLambdaContext('aws-v1', lambdaContext, 0)).toBe(lambdaContext);
    expect(toLambdaContext('aws-schedule', lambdaContext, 0).getRemainingTimeInMillis()).toBe(1234);
  });

  it('AWS: a partial context (tests, emulators) gets the fallback limit', () => {
    const context = toLambdaContext('aws-v2', { awsRequestId: 'x', memoryLimitInMB: '512' }, 0, () => 0);
    expect(context).toMatchObject({ awsRequestId: 'x', memoryLimitInMB: '512' });
    expect(context.getRemainingTimeInMillis()).toBe(FALLBACK_TIME_LIMIT_MS);
  });

  it('local: deadlineMs is absolute, so the start time does not matter', () => {
    const context = toLambdaContext('local-http', contexts.local, 0, () => RECEIVED_AT);
    expect(context).toMatchObject({ functionName: 'webhook', awsRequestId: 'local-ctx-request-id', memoryLimitInMB: '512' });
    expect(context.getRemainingTimeInMillis()).toBe(30_000);
  });

  it.each([
    ['scf-timer', undefined],
    ['scf-url', { time_limit_in_ms: 'twenty seconds', memory_limit_in_mb: null }],
    ['fc-http', { function: 'nope' }],
    ['local-timer', 'not an object'],
  ] as const)('%s with a missing or odd context (%p): no throw, fallback limit', (kind, rawContext) => {
    const context = toLambdaContext(kind, rawContext, 100, () => 100);
    expect(context.getRemainingTimeInMillis()).toBe(FALLBACK_TIME_LIMIT_MS);
    expect(context.functionName).toBe('');
    expect(context.memoryLimitInMB).toBe('');
  });

  it('callback-style completion is refused with a typed error', () => {
    const context = toLambdaContext('scf-apigw', contexts.scf, 0);
    expect(() => context.succeed('x')).toThrow(expect.objectContaining({ code: 'CONTEXT_CALLBACK_UNSUPPORTED' }));
    expect(() => context.done()).toThrow(expect.objectContaining({ code: 'CONTEXT_CALLBACK_UNSUPPORTED' }));
    expect(() => context.fail('x')).toThrow(expect.objectContaining({ code: 'CONTEXT_CALLBACK_UNSUPPORTED' }));
  });
});

describe('makeCloudHandler', () => {
  const ok = async (): Promise<APIGatewayProxyResult> => ({ statusCode: 204, body: '' });

  it('routes a timer to the schedule handler with the normalised event and a context; its result passes through', async () => {
    const seen: { event?: ScheduledEvent; remaining?: number } = {};
    const handler = makeCloudHandler(
      {
        http: ok,
        schedule: async (event, context) => {
          seen.event = event;
          seen.remaining = context.getRemainingTimeInMillis();
          return { refreshed: 3 };
        },
      },
      { now: () => RECEIVED_AT },
    );
    await expect(handler(loadFixture('scf-timer.json'), contexts.scf)).resolves.toEqual({ refreshed: 3 });
    expect(seen.event).toEqual(loadFixture('scf-timer.expected.json'));
    expect(seen.remaining).toBe(20_000);
  });

  it('routes HTTP to the http handler and answers in the provider shape', async () => {
    const handler = makeCloudHandler({ http: ok }, { now: () => RECEIVED_AT });
    await expect(handler(loadFixture('scf-apigw.json'), contexts.scf)).resolves.toStrictEqual({
      isBase64Encoded: false,
      statusCode: 204,
      headers: {},
      body: '',
    });
    await expect(handler(Buffer.from(JSON.stringify(loadFixture('fc-http.json'))), contexts.fc)).resolves.toStrictEqual({
      statusCode: 204,
      headers: {},
      isBase64Encoded: false,
      body: '',
    });
  });

  it('parses an event FC hands over as a Buffer of JSON once, for detection and conversion alike', async () => {
    const handler = makeCloudHandler({ http: ok }, { now: () => RECEIVED_AT });
    const text = JSON.stringify(loadFixture('fc-http.json'));
    const parse = jest.spyOn(JSON, 'parse');
    try {
      await handler(Buffer.from(text), contexts.fc);
      expect(parse.mock.calls.filter(([parsed]) => parsed === text)).toHaveLength(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('fills requestTimeEpoch from the injected clock when the provider sends no time', async () => {
    let event: APIGatewayProxyEvent | undefined;
    const handler = makeCloudHandler(
      {
        http: async (received) => {
          event = received;
          return ok();
        },
      },
      { now: () => RECEIVED_AT },
    );
    await handler(loadFixture('scf-url.json'), contexts.scf);
    expect(event).toEqual(loadFixture('scf-url.expected.json'));
  });

  it('a timer on a function without a schedule handler → NoHandlerForTriggerError', async () => {
    const handler = makeCloudHandler({ http: ok });
    for (const kind of ['scf-timer', 'fc-timer', 'aws-schedule', 'local-timer']) {
      const call = handler(loadFixture(`${kind}.json`), undefined);
      await expect(call).rejects.toBeInstanceOf(NoHandlerForTriggerError);
      await expect(call).rejects.toMatchObject({ code: 'TRIGGER_HANDLER_MISSING', details: { kind } });
    }
  });

  it('an HTTP request on a schedule-only function → NoHandlerForTriggerError', async () => {
    const handler = makeCloudHandler({ schedule: async () => undefined });
    await expect(handler(loadFixture('aws-v2.json'), undefined)).rejects.toMatchObject({
      code: 'TRIGGER_HANDLER_MISSING',
      details: { kind: 'aws-v2' },
    });
  });

  it('an unknown event → UnknownTriggerEventError; a handler returning junk → HANDLER_RESULT_INVALID', async () => {
    await expect(makeCloudHandler({ http: ok })({ hello: 'world' })).rejects.toBeInstanceOf(UnknownTriggerEventError);
    // The cast is the point: at run time a handler can return anything.
    const broken = async (): Promise<APIGatewayProxyResult> => undefined as unknown as APIGatewayProxyResult;
    await expect(makeCloudHandler({ http: broken })(loadFixture('aws-v1.json'))).rejects.toMatchObject({ code: 'HANDLER_RESULT_INVALID' });
  });

  it("middy's early timeout fires on SCF thanks to the synthesised getRemainingTimeInMillis", async () => {
    const slow = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 20 }).handler(
      async (_event, _context, { signal }) => {
        await new Promise((resolve) => {
          // Far longer than the test could wait: only the early timeout's abort ends it in time.
          const timer = setTimeout(resolve, 60_000);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
        return { statusCode: 200, body: 'too late' };
      },
    );
    const started = Date.now();
    const call = makeCloudHandler({ http: slow })(loadFixture('scf-apigw.json'), { ...contexts.scf, time_limit_in_ms: 100 });
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

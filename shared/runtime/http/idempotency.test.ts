import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from '../../domain/zod';
import type { DocumentStore } from '../../store/port';
import { openSqliteStore } from '../../store/sqlite';
import { createIdempotencyGuard, idempotencyCollection } from './idempotency';
import { json, route } from './route';
import { capturedHttpFunction } from './testing';

const KEY = 'acct-key-0123456789abcdef';

function setup() {
  const store = openSqliteStore({ path: ':memory:' });
  let runs = 0;
  let failNext = false;
  let release: (() => void) | undefined;
  const { handler } = capturedHttpFunction({
    accounts: { authenticate: async (key) => (key === KEY ? 'acct-1' : key === 'other-account-key-000' ? 'acct-2' : null) },
    idempotency: createIdempotencyGuard(store),
    routes: [
      route({
        method: 'POST',
        path: '/orders',
        auth: 'account',
        summary: 'create',
        status: 201,
        body: z.object({ item: z.string() }),
        handle: async ({ body }) => {
          runs += 1;
          if (release) await new Promise<void>((resolve) => (release = resolve));
          if (failNext) {
            failNext = false;
            throw new Error('database went away');
          }
          return json(201, { order: runs, item: body.item });
        },
      }),
    ],
  });
  const post = (body: unknown, key = 'order-key-0001', apiKey = KEY, path = '/orders') =>
    handler(
      {
        httpMethod: 'POST',
        path,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
        isBase64Encoded: false,
        requestContext: { requestId: 'r' },
      } as unknown as APIGatewayProxyEvent,
      {} as Context,
    ) as Promise<APIGatewayProxyResult>;
  return {
    post,
    runs: () => runs,
    failOnce: () => (failNext = true),
    hold: () => (release = () => undefined),
    unhold: () => release?.(),
  };
}

/** A replay answers what the first request answered (201 and its body), marked as replayed. */
function expectReplayOf(repeat: { statusCode: number; body: string; headers?: Record<string, unknown> }, first: { body: string }) {
  expect(repeat.statusCode).toBe(201);
  expect(repeat.body).toBe(first.body);
  expect(repeat.headers?.['idempotency-replayed']).toBe('true');
}

describe('Idempotency-Key', () => {
  it('replays the stored response for a repeated request without running it again', async () => {
    const t = setup();
    const first = await t.post({ item: 'lamp' });
    const second = await t.post({ item: 'lamp' });
    expect(first.statusCode).toBe(201);
    expectReplayOf(second, first);
    expect(t.runs()).toBe(1);
  });

  it('refuses the same key with a different body', async () => {
    const t = setup();
    await t.post({ item: 'lamp' });
    const reused = await t.post({ item: 'sofa' });
    expect(reused.statusCode).toBe(400);
    expect(JSON.parse(reused.body).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(t.runs()).toBe(1);
  });

  it('answers 409 to a repeat that arrives while the first is still running', async () => {
    const t = setup();
    t.hold();
    const first = t.post({ item: 'lamp' });
    await new Promise((resolve) => setImmediate(resolve));
    const concurrent = await t.post({ item: 'lamp' });
    expect(concurrent.statusCode).toBe(409);
    expect(JSON.parse(concurrent.body).error.code).toBe('IDEMPOTENCY_KEY_IN_USE');
    t.unhold();
    expect((await first).statusCode).toBe(201);
    expect(t.runs()).toBe(1);
  });

  it('forgets a key whose request failed, so the retry runs', async () => {
    const t = setup();
    t.failOnce();
    expect((await t.post({ item: 'lamp' })).statusCode).toBe(500);
    const retry = await t.post({ item: 'lamp' });
    expect(retry.statusCode).toBe(201);
    expect(t.runs()).toBe(2);
  });

  it('treats a trailing slash as the same resource: the repeat is replayed, not run again', async () => {
    const t = setup();
    const first = await t.post({ item: 'lamp' });
    const slashed = await t.post({ item: 'lamp' }, 'order-key-0001', KEY, '/orders/');
    expectReplayOf(slashed, first);
    expect(t.runs()).toBe(1);
  });

  it('keeps keys of different accounts apart and rejects malformed keys', async () => {
    const t = setup();
    await t.post({ item: 'lamp' });
    expect((await t.post({ item: 'lamp' }, 'order-key-0001', 'other-account-key-000')).headers?.['idempotency-replayed']).toBeUndefined();
    expect(t.runs()).toBe(2);
    const bad = await t.post({ item: 'lamp' }, 'x');
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID', field: 'headers.idempotency-key' });
  });
});

describe('Idempotency-Key claims racing each other', () => {
  it('a takeover of a dead claim that loses to a request which completed meanwhile replays that response instead of a 409', async () => {
    let now = 1_000;
    const store = openSqliteStore({ path: ':memory:', clock: () => now });
    const records = store.collection(idempotencyCollection);
    const body = Buffer.from('{"item":"lamp"}');
    // A first invocation claims the key and dies: its claim outlives its time limit.
    const guard = createIdempotencyGuard(store, () => now);
    void guard.run('acct-1 POST /orders', 'order-key-0001', body, 1_000, () => new Promise(() => undefined));
    await new Promise((resolve) => setImmediate(resolve));
    now += 5_000;
    // While this retry takes the dead claim over, another retry takes it over first and completes.
    let raced = false;
    const racing: DocumentStore = {
      ...store,
      collection: (spec) => {
        const collection = store.collection(spec);
        return {
          ...collection,
          update: async (id, expectedVersion, data, options) => {
            if (!raced) {
              raced = true;
              const current = await records.get(id);
              if (current) {
                const response = { statusCode: 201, headers: {}, body: '{"order":2}', isBase64Encoded: false };
                await records.update(id, current.version, { ...current.data, status: 'completed', response });
              }
            }
            return collection.update(id, expectedVersion, data, options);
          },
        };
      },
    };
    let ran = false;
    const result = await createIdempotencyGuard(racing, () => now).run('acct-1 POST /orders', 'order-key-0001', body, 1_000, async () => {
      ran = true;
      return { statusCode: 201, body: '{"order":3}' };
    });
    expect(raced).toBe(true);
    expect(ran).toBe(false);
    expect(result).toMatchObject({ statusCode: 201, body: '{"order":2}', headers: { 'idempotency-replayed': 'true' } });
  });
});

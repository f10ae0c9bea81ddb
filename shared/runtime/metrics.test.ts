/**
 * The per-invocation collector: one EMF record per invocation (on stdout, as a log pipeline reads it), written when
 * the handler returns and when it throws, with only the bounded labels the metrics declare.
 */
import fs from 'node:fs';
import * as z from '../domain/zod';
import { cloudEntry } from './entry';
import { registerSecret } from './logger';
import { invocationMetrics, METRICS, withInvocationMetrics } from './metrics';

/** The JSON lines written to stdout (fd 1, or `process.stdout` after a failed write) while `run` runs. */
async function captureStdout(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const take = (chunk: string | Uint8Array) => lines.push(...Buffer.from(chunk).toString('utf8').split('\n').filter(Boolean));
  const streamSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    take(chunk);
    return true;
  });
  const realWriteSync = fs.writeSync;
  const fdSpy = jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, bytes: Uint8Array, offset?: number | null) => {
    if (fd !== 1) return realWriteSync(fd, bytes, offset);
    take(bytes.subarray(offset ?? 0));
    return bytes.length - (offset ?? 0);
  }) as typeof fs.writeSync);
  try {
    await run().catch(() => undefined);
  } finally {
    streamSpy.mockRestore();
    fdSpy.mockRestore();
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

const timerEvent = { kind: 'local-timer', triggerName: 'tick', fireTime: new Date(0).toISOString() };
const timerContext = { requestId: 'req-1', functionName: 'wxa-review-poller', deadlineMs: Date.now() + 60_000 };

it('writes exactly one EMF record per invocation, with every metric recorded in it and the labels in series', async () => {
  const handler = cloudEntry({ name: 'review-poller', http: false, schedule: true }, async () => ({
    schedule: async () => {
      invocationMetrics.record('wechat_calls', 1, { operation: '/wxa/get_auditstatus', errcode: '0' });
      invocationMetrics.record('wechat_calls', 1, { operation: '/wxa/get_auditstatus', errcode: '0' });
      invocationMetrics.record('wechat_calls', 1, { operation: '/wxa/release', errcode: '-1' });
      invocationMetrics.record('audit_latency', 86_400, { decision: 'approved' });
      invocationMetrics.record('audit_latency', 3_600, { decision: 'rejected' });
      invocationMetrics.record('poller_tick_budget', 55, {});
      return 'done';
    },
  }));
  const records = await captureStdout(() => handler(timerEvent, timerContext));
  expect(records).toHaveLength(1);
  const [record] = records;
  expect(record).toMatchObject({
    _aws: {
      CloudWatchMetrics: [
        {
          Namespace: 'wxa-deploy',
          Dimensions: [['service', 'function']],
          Metrics: expect.arrayContaining([
            { Name: 'wechat_calls', Unit: 'Count' },
            { Name: 'audit_latency', Unit: 'Seconds' },
            { Name: 'invocation_errors', Unit: 'Count' },
          ]),
        },
      ],
    },
    service: 'wxa-deploy',
    function: 'review-poller',
    trigger: 'schedule',
    wechat_calls: 3,
    audit_latency: [86_400, 3_600],
    poller_tick_budget: 55,
    invocation_errors: 0,
  });
  expect(record?.series).toEqual(
    expect.arrayContaining([
      { metric: 'wechat_calls', labels: { operation: '/wxa/get_auditstatus', errcode: '0' }, value: 2 },
      { metric: 'wechat_calls', labels: { operation: '/wxa/release', errcode: '-1' }, value: 1 },
      { metric: 'audit_latency', labels: { decision: 'rejected' }, values: [3_600] },
    ]),
  );
  // Every metric named in the directive is a root member, as EMF requires.
  const emf = z
    .object({ _aws: z.object({ CloudWatchMetrics: z.array(z.object({ Metrics: z.array(z.object({ Name: z.string() })) })) }) })
    .parse(record);
  for (const { Name } of emf._aws.CloudWatchMetrics.flatMap((d) => d.Metrics)) expect(record).toHaveProperty(Name);
});

it('writes the record when the handler throws, counting the error, and the error still reaches the caller', async () => {
  let thrown: unknown;
  const records = await captureStdout(() =>
    withInvocationMetrics({ function: 'publish', trigger: 'http' }, async () => {
      invocationMetrics.record('wechat_errors', 1, { operation: '/wxa/release', errcode: '85052' });
      throw new Error('boom');
    }).catch((error: unknown) => {
      thrown = error;
    }),
  );
  expect(thrown).toBeInstanceOf(Error);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ function: 'publish', invocation_errors: 1, wechat_errors: 1 });
});

it('an HTTP answer of 5xx counts as an error; two concurrent invocations each get their own record', async () => {
  const records = await captureStdout(() =>
    Promise.all([
      withInvocationMetrics(
        { function: 'api', trigger: 'http' },
        async () => {
          await new Promise((resolve) => setImmediate(resolve));
          invocationMetrics.record('token_refreshes', 1, { kind: 'authorizer', outcome: 'ok' });
          return { statusCode: 503 };
        },
        (result) => result.statusCode >= 500,
      ),
      withInvocationMetrics({ function: 'review', trigger: 'http' }, async () => {
        invocationMetrics.record('push_lag', 2, { source: 'authorizer' });
        return { statusCode: 200 };
      }),
    ]),
  );
  expect(records).toHaveLength(2);
  const api = records.find((r) => r.function === 'api');
  const review = records.find((r) => r.function === 'review');
  expect(api).toMatchObject({ invocation_errors: 1, token_refreshes: 1 });
  expect(api).not.toHaveProperty('push_lag');
  expect(review).toMatchObject({ invocation_errors: 0, push_lag: [2] });
  expect(review).not.toHaveProperty('token_refreshes');
});

it('carries no appid, id, URL or secret: a label value that is not a short identifier is written as "other"', async () => {
  const secret = 'secretTokenValue_0123456789';
  registerSecret(secret);
  const records = await captureStdout(() =>
    withInvocationMetrics({ function: 'api', trigger: 'http' }, async () => {
      invocationMetrics.record('wechat_calls', 1, { operation: `/wxa/commit?access_token=${secret} x`, errcode: '0' });
    }),
  );
  const line = JSON.stringify(records);
  expect(line).not.toContain(secret);
  expect(records[0]?.series).toEqual([{ metric: 'wechat_calls', labels: { operation: 'other', errcode: '0' }, value: 1 }]);
  // What may label a metric is fixed in one table: never an appid, deployment, account or endpoint.
  const labels = Object.values(METRICS).flatMap((m) => [...m.labels]);
  expect(labels.filter((l) => /app|deployment|account|endpoint|id$/i.test(l))).toEqual([]);
});

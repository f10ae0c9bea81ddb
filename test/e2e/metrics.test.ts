/**
 * Metrics from a real deployment run, through the local runtime (every invocation through its cloud entry) and the
 * WeChat simulator: each invocation's one EMF record carries the WeChat calls by operation and errcode and, where
 * the audit push was received, the decision by template and its latency and the push's lag; the Prometheus text
 * at `/metrics` (prom-client) has the same metrics; neither names a mini program, a deployment, an account or a key.
 */
import * as z from '../../shared/domain/zod';

jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

import { expectStatus, type Platform, startPlatform } from '../../infra/local/driver';
import { observeMetrics } from '../../shared/runtime/metrics';
import { openServices } from '../api/support';
import { readyApp } from '../reliability/support';
import { readDeployment, requestAction, requestBuild } from '../support/e2e';

let p: Platform;
const lines: string[] = [];
let stopObserving: () => void;
beforeAll(async () => {
  stopObserving = observeMetrics({ line: (line) => lines.push(line) });
  p = await startPlatform();
});
afterAll(async () => {
  stopObserving();
  await p.close();
});

const seriesSchema = z.object({
  metric: z.string(),
  labels: z.record(z.string(), z.string()),
  value: z.optional(z.number()),
  values: z.optional(z.array(z.number())),
});
const recordSchema = z.catchall(
  z.object({
    _aws: z.object({ CloudWatchMetrics: z.array(z.object({ Namespace: z.string(), Dimensions: z.array(z.array(z.string())) })) }),
    function: z.string(),
    series: z.array(seriesSchema),
  }),
  z.unknown(),
);
type MetricRecord = z.infer<typeof recordSchema>;

/** One Prometheus text sample line: `name{a="x",b="y"} value`. */
function parsePrometheus(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
      return { name: match[1] ?? '', labels, value: Number(match[3]) };
    });
}

it('a build, a submit and a rejection push produce the WeChat-call and audit metrics with low-cardinality dimensions', async () => {
  const { api, appId, target, accountId, apiKey } = await readyApp(p);
  const built = await requestBuild(api, appId, { userVersion: '1.0.0', userDesc: 'metrics' });
  expect(built.state).toBe('built');
  expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');
  await p.sim.decideAudit(target, 'reject', { reason: '页面内容不完整' });
  expect((await readDeployment(api, built.id)).state).toBe('rejected');
  const { templateId } = z.object({ templateId: z.number() }).parse(expectStatus(await api.get(`/v1/deployments/${built.id}`), 200).body);

  const records: MetricRecord[] = lines.map((line) => recordSchema.parse(JSON.parse(line)));
  for (const record of records) {
    expect(record._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'wxa-deploy', Dimensions: [['service', 'function']] });
  }
  const series = (fn: string, metric: string) =>
    records.filter((r) => r.function === fn).flatMap((r) => r.series.filter((s) => s.metric === metric));

  // The build's WeChat calls, by API path and errcode, in the records of the function that built.
  const builds = records.filter((r) => r.series.some((s) => s.labels.operation === '/wxa/commit'));
  expect(builds.length).toBeGreaterThan(0);
  expect(builds.flatMap((r) => r.series)).toContainEqual({
    metric: 'wechat_calls',
    labels: { operation: '/wxa/commit', errcode: '0' },
    value: 1,
  });
  expect(series('review', 'wechat_calls')).toContainEqual(
    expect.objectContaining({ labels: { operation: '/wxa/submit_audit', errcode: '0' } }),
  );

  // The rejection push: the decision by template, its latency, and the push's lag, in the review function's record.
  expect(series('review', 'audit_decisions')).toContainEqual({
    metric: 'audit_decisions',
    labels: { template: String(templateId), decision: 'rejected' },
    value: 1,
  });
  const latency = series('review', 'audit_latency').find((s) => s.labels.decision === 'rejected');
  expect(latency?.values).toHaveLength(1);
  expect(latency?.values?.[0]).toBeGreaterThanOrEqual(0);
  expect(series('review', 'push_lag')).toContainEqual(expect.objectContaining({ labels: { source: 'authorizer' } }));

  // No id, appid or key in any record.
  const all = lines.join('\n');
  for (const id of [target, built.id, appId, accountId, apiKey]) expect(all).not.toContain(id);
  expect(all).not.toMatch(/access_token|whsec_/);

  const response = await fetch(`${p.url}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  const samples = parsePrometheus(text);
  const value = (name: string, labels: Record<string, string>) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  expect(value('wxa_wechat_calls_total', { operation: '/wxa/commit', errcode: '0' })).toBeGreaterThanOrEqual(1);
  expect(value('wxa_audit_decisions_total', { template: String(templateId), decision: 'rejected' })).toBeGreaterThanOrEqual(1);
  expect(value('wxa_audit_latency_seconds_count', { decision: 'rejected' })).toBeGreaterThanOrEqual(1);
  expect(value('wxa_push_lag_seconds_count', { source: 'authorizer' })).toBeGreaterThanOrEqual(1);
  expect(text).toMatch(/^# TYPE wxa_audit_latency_seconds histogram$/m);
  for (const id of [target, built.id, appId, accountId, apiKey]) expect(text).not.toContain(id);
});

it('token refreshes, the audit quota read and a poller tick against its budget are in their invocations’ records', async () => {
  const from = lines.length;
  const { api } = await readyApp(p);
  expect((await api.get('/v1/quota')).status).toBe(200);
  await p.pollNow();
  const records = lines.slice(from).map((line) => recordSchema.parse(JSON.parse(line)));
  const quota = records.find((r) => r.function === 'api' && 'audit_quota_left' in r);
  expect(quota?.audit_quota_left).toEqual(expect.any(Number));
  const tick = records.find((r) => r.function === 'review-poller');
  expect(tick).toMatchObject({ trigger: 'schedule', poller_tick_duration: [expect.any(Number)], poller_tick_budget: expect.any(Number) });
  expect(Number(tick?.poller_tick_budget)).toBeGreaterThan(0);
  // The first WeChat call of the run needed a component token; each refresh is counted by kind and outcome.
  const refreshes = lines
    .map((line) => recordSchema.parse(JSON.parse(line)))
    .flatMap((r) => r.series.filter((x) => x.metric === 'token_refreshes'));
  expect(refreshes).toContainEqual(expect.objectContaining({ labels: { kind: 'component', outcome: 'ok' } }));
});

it('a decision whose push never came is counted as reconciled by the poller, in the poller tick’s record', async () => {
  const { api, appId, target } = await readyApp(p);
  const built = await requestBuild(api, appId, { userVersion: '1.0.0', userDesc: 'metrics' });
  expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');
  p.sim.setFaults({ dropPushRate: 1 });
  try {
    await p.sim.decideAudit(target, 'approve');
  } finally {
    p.sim.setFaults({ dropPushRate: 0 });
  }
  // The poll is due now rather than after its backoff (what waiting would do).
  const { s, close } = openServices();
  try {
    const stored = await s.db.deployments.get(built.id);
    if (!stored) throw new Error('the deployment should be stored');
    await s.db.deployments.update(built.id, stored.version, { ...stored.data, nextPollAt: s.clock() });
  } finally {
    await close();
  }
  const from = lines.length;
  await p.pollNow();
  expect((await readDeployment(api, built.id)).state).toBe('approved');
  const tick = lines
    .slice(from)
    .map((line) => recordSchema.parse(JSON.parse(line)))
    .find((r) => r.function === 'review-poller');
  expect(tick).toMatchObject({ audits_reconciled_by_poller: 1 });
  expect(tick?.series).toContainEqual(
    expect.objectContaining({ metric: 'audit_decisions', labels: expect.objectContaining({ decision: 'approved' }) }),
  );
});

/**
 * `GET /v1/metrics/summary` over HTTP: an account sees its own deployments by state (and the age of the oldest),
 * another account's are not counted, the platform admin's summary counts every account, and no id appears in it.
 */

import { client, type Platform, pngOfWidth } from '../../infra/local/driver';
import type { Services } from '../../shared/app/context';
import { webhookCollections } from '../../shared/app/webhooks/collections';
import { newDelivery } from '../../shared/app/webhooks/deliveries';
import { WEBHOOK_RETENTION_MS } from '../../shared/app/webhooks/outbox';
import { type Deployment, type DeploymentCommand, pollLater, transition } from '../../shared/domain/deployment';
import { type AccountId, type AppId, accountIdSchema, type WeChatAppid } from '../../shared/domain/ids';
import * as z from '../../shared/domain/zod';
import { openServices, seedDeployment, startApiPlatform, uniqueAppid } from './support';

let p: Platform;
let s: Services;
let closeServices: () => Promise<void>;
beforeAll(async () => {
  p = await startApiPlatform();
  ({ s, close: closeServices } = openServices());
});
afterAll(async () => {
  await closeServices();
  await p.close();
});

const summary = z.object({ deployments: z.record(z.string(), z.object({ count: z.number(), oldestAgeMs: z.nullable(z.number()) })) });

async function newAccount() {
  const reply = z
    .object({ account: z.object({ id: accountIdSchema }), apiKey: z.string() })
    .parse((await client(p.url, p.adminKey).post('/v1/accounts', { name: `metrics ${Math.random()}` })).body);
  return { api: client(p.url, reply.apiKey), accountId: reply.account.id as AccountId };
}

it('counts an account’s deployments by state, not another account’s; the admin’s summary counts all; no ids', async () => {
  const mine = await newAccount();
  const theirs = await newAccount();
  const before = summary.parse((await client(p.url, p.adminKey).get('/v1/platform/metrics/summary')).body);
  await seedDeployment(s, { accountId: mine.accountId, appId: 'app_metrics', appid: 'wx00000000metrics1', at: s.clock() - 60_000 });
  const reply = await mine.api.get('/v1/metrics/summary');
  expect(reply.status).toBe(200);
  const own = summary.parse(reply.body);
  expect(own.deployments.configuring).toMatchObject({ count: 1 });
  expect(own.deployments.configuring?.oldestAgeMs).toBeGreaterThanOrEqual(60_000);
  expect(JSON.stringify(reply.body)).not.toMatch(/acc_|dep_|app_|wx0/);
  expect(summary.parse((await theirs.api.get('/v1/metrics/summary')).body).deployments.configuring).toMatchObject({ count: 0 });
  const all = summary.parse((await client(p.url, p.adminKey).get('/v1/platform/metrics/summary')).body);
  expect(all.deployments.configuring?.count).toBe((before.deployments.configuring?.count ?? 0) + 1);
});

it('the local runtime serves Prometheus text made by prom-client: invocations and deployments by state, no ids', async () => {
  const mine = await newAccount();
  await seedDeployment(s, { accountId: mine.accountId, appId: 'app_metrics', appid: 'wx00000000metrics2', at: s.clock() });
  await mine.api.get('/v1/metrics/summary');
  const response = await fetch(`${p.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  expect(text).toMatch(/^wxa_invocations_total\{fn="api",trigger="http",outcome="ok"\} \d+$/m);
  expect(text).toMatch(/^wxa_deployments\{state="configuring"\} [1-9]\d*$/m);
  expect(text).toMatch(/^# TYPE wxa_invocation_duration_seconds histogram$/m);
  // The same buckets as the functions' other seconds histograms (SECONDS_BUCKETS), up to five minutes.
  expect(text).toMatch(/^wxa_invocation_duration_seconds_bucket\{[^}]*le="300"[^}]*\} \d+$/m);
  expect(text).not.toMatch(/acc_|dep_|app_|wx0|whsec_/);
});

const DAY = 86_400_000;

/** A built deployment of `accountId`, then `steps` applied at their times, stored. */
async function deploymentThrough(
  accountId: AccountId,
  builtAt: number,
  steps: { command: DeploymentCommand; at: number }[],
  templateId = 101,
): Promise<Deployment> {
  const seeded = await seedDeployment(s, {
    accountId,
    appId: 'app_metrics' as AppId,
    appid: uniqueAppid() as WeChatAppid,
    at: builtAt,
    built: pngOfWidth(64),
  });
  let d: Deployment = { ...seeded, templateId };
  for (const step of steps) d = transition(d, step.command, { at: step.at, actor: { kind: 'wechat' } }).deployment;
  const stored = await s.db.deployments.get(d.id);
  await s.db.deployments.update(d.id, stored?.version ?? 0, d);
  return d;
}

const submitted = (at: number, auditId: number) => [
  { command: { type: 'submitAudit' } as const, at },
  { command: { type: 'auditSubmitted', auditId } as const, at },
];

it('says how long the oldest deployment has been in its state, not since the poll that last wrote it', async () => {
  const mine = await newAccount();
  const now = s.clock();
  const d = await deploymentThrough(mine.accountId, now - 4 * DAY, submitted(now - 3 * DAY, 4001));
  expect(d.state).toBe('auditing');
  // The poller looked a minute ago: the document was written then, the audit has been under review for three days.
  const stored = await s.db.deployments.get(d.id);
  await s.db.deployments.update(d.id, stored?.version ?? 0, pollLater(d, { at: now - 60_000 }));
  const own = summary.parse((await mine.api.get('/v1/metrics/summary')).body);
  expect(own.deployments.auditing?.oldestAgeMs).toBeGreaterThanOrEqual(3 * DAY);
});

it('counts an account’s webhook deliveries through its own endpoints, however many another account has', async () => {
  const mine = await newAccount();
  const theirs = await newAccount();
  const endpoint = z.object({ webhook: z.object({ id: z.string() }) });
  const create = async (api: typeof mine.api) =>
    endpoint.parse((await api.post('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', eventTypes: ['deployment.state_changed'] })).body)
      .webhook.id;
  const theirEndpoint = await create(theirs.api);
  const myEndpoint = await create(mine.api);
  const w = webhookCollections(s.store);
  const at = s.clock();
  const pending = (endpointId: string, n: number) => {
    const delivery = newDelivery(
      { type: 'deployment.state_changed', subject: `dep_${n}`, sequence: n, occurredAt: at },
      `evt_${endpointId}_${n}`,
      endpointId,
      at,
    );
    return w.deliveries.insertWrite(`evt_${endpointId}_${n}.${endpointId}`, delivery, { expiresAt: at + WEBHOOK_RETENTION_MS });
  };
  // More than a whole read's worth of another account's waiting deliveries, stored before mine.
  for (let batch = 0; batch < 21; batch++)
    await s.store.commit(Array.from({ length: 500 }, (_, i) => pending(theirEndpoint, batch * 500 + i)));
  await s.store.commit([pending(myEndpoint, 0)]);
  const own = z
    .object({ webhooks: z.object({ pendingDeliveries: z.object({ count: z.number() }) }) })
    .parse((await mine.api.get('/v1/metrics/summary')).body);
  expect(own.webhooks.pendingDeliveries.count).toBe(1);
});

it('reports audit latency percentiles and the rejection rate by template from the deployments’ histories', async () => {
  const mine = await newAccount();
  const now = s.clock();
  await deploymentThrough(mine.accountId, now - 10 * DAY, [
    ...submitted(now - 9 * DAY, 5001),
    { command: { type: 'auditRejected', reason: 'incomplete', screenshots: [] }, at: now - 8 * DAY },
  ]);
  await deploymentThrough(mine.accountId, now - 10 * DAY, [
    ...submitted(now - 9 * DAY, 5002),
    { command: { type: 'auditApproved' }, at: now - 7 * DAY },
  ]);
  await deploymentThrough(
    mine.accountId,
    now - 10 * DAY,
    [...submitted(now - 9 * DAY, 5003), { command: { type: 'auditApproved' }, at: now - 6 * DAY }],
    202,
  );
  const audits = z
    .object({
      audits: z.object({
        decided: z.number(),
        latencyMs: z.object({ p50: z.nullable(z.number()), p90: z.nullable(z.number()) }),
        byTemplate: z.array(z.object({ templateId: z.number(), decided: z.number(), rejected: z.number(), rejectionRate: z.number() })),
      }),
    })
    .parse((await mine.api.get('/v1/metrics/summary')).body).audits;
  expect(audits.decided).toBe(3);
  expect(audits.latencyMs).toEqual({ p50: 2 * DAY, p90: 3 * DAY });
  expect(audits.byTemplate).toEqual([
    { templateId: 101, decided: 2, rejected: 1, rejectionRate: 0.5 },
    { templateId: 202, decided: 1, rejected: 0, rejectionRate: 0 },
  ]);
});

/**
 * `GET /v1/metrics/summary` over HTTP: an account sees its own deployments by state (and the age of the oldest),
 * another account's are not counted, the platform admin's summary counts every account, and no id appears in it.
 */
import { z } from 'zod';
import { client, type Platform } from '../../infra/local/driver';
import type { Services } from '../../shared/app/context';
import { type AccountId, accountIdSchema } from '../../shared/domain/ids';
import { openServices, seedDeployment, startApiPlatform } from './support';

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

const summary = z.object({ deployments: z.record(z.string(), z.object({ count: z.number(), oldestAgeMs: z.number().nullable() })) });

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
  expect(text).not.toMatch(/acc_|dep_|app_|wx0|whsec_/);
});

/**
 * `/v1/webhooks` and `/v1/platform/webhooks` over HTTP through the local runtime: an endpoint is created (secret
 * shown once), a test event reaches a receiver verifying with `standardwebhooks` right after the request (no timer),
 * the delivery log shows it, redelivery sends it again with the same id, a rotation's new secret verifies, another
 * account sees 404, bad URLs are refused with a field, and the OpenAPI document lists every event type.
 */

import { client } from '../../infra/local/driver';
import { WEBHOOK_EVENT_TYPES } from '../../shared/domain/webhooks/events';
import * as z from '../../shared/domain/zod';
import { startedForFile } from '../support/for-file';
import { startReceiver } from '../webhooks/support';
import { errorOf, startApiPlatform } from './support';

const platform = startedForFile(startApiPlatform, (started) => started.close());
const receiver = startedForFile(startReceiver, (started) => started.close());

const created = z.object({ webhook: z.object({ id: z.string(), url: z.string(), enabled: z.boolean() }), secret: z.string() });
const deliveries = z.object({
  deliveries: z.array(
    z.object({ eventId: z.string(), status: z.string(), attempts: z.number(), log: z.array(z.object({ status: z.nullable(z.number()) })) }),
  ),
});

async function newAccount() {
  const reply = await client(platform().url, platform().adminKey).post('/v1/accounts', { name: `webhooks ${Math.random()}` });
  return client(platform().url, z.object({ apiKey: z.string() }).parse(reply.body).apiKey);
}

describe('webhook endpoints over HTTP', () => {
  it('create, test event delivered right away and verified, delivery log, redelivery with the same id', async () => {
    const api = await newAccount();
    const reply = await api.post('/v1/webhooks', { url: receiver().url, eventTypes: ['deployment.state_changed'], description: 'ops' });
    expect(reply.status).toBe(201);
    const { webhook, secret } = created.parse(reply.body);
    expect(secret).toMatch(/^whsec_/);
    receiver().secrets.push(secret);
    // The secret is never shown again.
    expect(JSON.stringify((await api.get(`/v1/webhooks/${webhook.id}`)).body)).not.toContain(secret);

    const before = receiver().received.length;
    const test = await api.post(`/v1/webhooks/${webhook.id}/test`);
    expect(test.status).toBe(202);
    const { eventId } = z.object({ eventId: z.string() }).parse(test.body);
    await receiver().arrived(before + 1);
    expect(receiver().received.at(-1)).toMatchObject({ id: eventId, type: 'webhook.test', data: { endpointId: webhook.id } });

    const log = deliveries.parse((await api.get(`/v1/webhooks/${webhook.id}/deliveries`)).body).deliveries;
    expect(log[0]).toMatchObject({ eventId, status: 'delivered', attempts: 1, log: [{ status: 204 }] });

    expect((await api.post(`/v1/webhooks/${webhook.id}/redeliver`, { eventId })).body).toMatchObject({ queued: 1 });
    await receiver().arrived(before + 2);
    expect(receiver().received.at(-1)?.id).toBe(eventId);
    expect(receiver().unverified).toBe(0);
  });

  it('rotation: the new secret verifies the next delivery', async () => {
    const api = await newAccount();
    const { webhook } = created.parse((await api.post('/v1/webhooks', { url: receiver().url, eventTypes: ['mini_program.linked'] })).body);
    const rotated = created.parse((await api.post(`/v1/webhooks/${webhook.id}/rotate-secret`, { overlapSeconds: 0 })).body);
    receiver().secrets.push(rotated.secret);
    const before = receiver().received.length;
    await api.post(`/v1/webhooks/${webhook.id}/test`);
    await receiver().arrived(before + 1);
    expect(receiver().unverified).toBe(0);
  });

  it('another account’s endpoint is 404; a disabled endpoint says why; delete answers 204', async () => {
    const mine = await newAccount();
    const theirs = await newAccount();
    const { webhook } = created.parse(
      (await mine.post('/v1/webhooks', { url: receiver().url, eventTypes: ['deployment.state_changed'] })).body,
    );
    const foreign = await theirs.get(`/v1/webhooks/${webhook.id}`);
    expect(foreign.status).toBe(404);
    expect(errorOf(foreign).code).toBe('WEBHOOK_NOT_FOUND');
    const disabled = await mine.raw('PATCH', `/v1/webhooks/${webhook.id}`, { enabled: false });
    expect(disabled.body).toMatchObject({ enabled: false, disabledReason: 'disabled by its owner' });
    expect((await mine.raw('DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(204);
    expect((await mine.get(`/v1/webhooks/${webhook.id}`)).status).toBe(404);
  });

  it('refuses a URL that is not http(s), and platform-only events on an account endpoint, naming the field', async () => {
    const api = await newAccount();
    const bad = await api.post('/v1/webhooks', { url: 'ftp://example.com/x', eventTypes: ['deployment.state_changed'] });
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', field: 'body.url' });
    const platformOnly = await api.post('/v1/webhooks', { url: receiver().url, eventTypes: ['quota.low'] });
    expect(errorOf(platformOnly)).toMatchObject({ code: 'WEBHOOK_EVENT_TYPE_NOT_ALLOWED', field: 'body.eventTypes' });
    const admin = client(platform().url, platform().adminKey);
    expect((await admin.post('/v1/platform/webhooks', { url: receiver().url, eventTypes: ['quota.low'] })).status).toBe(201);
    // The admin key is not an account key, and an account key is not the admin's.
    expect((await api.get('/v1/platform/webhooks')).status).toBe(401);
  });

  it('the OpenAPI document lists every event type in its webhooks section', async () => {
    const doc = z
      .object({ webhooks: z.record(z.string(), z.object({ post: z.object({ requestBody: z.unknown() }) })) })
      .parse((await client(platform().url, '').get('/openapi.json')).body);
    expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
  });
});

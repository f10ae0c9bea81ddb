/**
 * Delivery end to end over real sockets and a real SQLite store: events written with their state change are
 * delivered, verified by the official `standardwebhooks` library, once per event; a receiver down for hours gets
 * every event in order per deployment (time moved by jest's fake Date); rotation signs with both secrets.
 */
import { openCollections } from '../../shared/app/context';
import { webhookCollections } from '../../shared/app/webhooks/collections';
import { createWebhookWorker } from '../../shared/app/webhooks/worker';
import { RETRY_WINDOW_MS } from '../../shared/domain/webhooks/schedule';
import type { DocumentStore } from '../../shared/store/port';
import { ACCOUNT, LIFECYCLE, openWorld, type Receiver, startReceiver, type World } from './support';

let world: World;
let receiver: Receiver;

beforeEach(async () => {
  receiver = await startReceiver();
  world = openWorld();
});
afterEach(async () => {
  jest.useRealTimers();
  await receiver.close();
  await world.close();
});

async function subscribe(types: Parameters<World['endpoints']['create']>[2]['eventTypes'] = ['deployment.state_changed']) {
  const { endpoint, secret } = await world.endpoints.create(ACCOUNT, ACCOUNT, { url: receiver.url, eventTypes: types });
  receiver.secrets.push(secret);
  return endpoint;
}

const sequencesOf = (r: Receiver, deploymentId: string) =>
  r.received.filter((e) => e.data.deploymentId === deploymentId).map((e) => e.data.sequence as number);

describe('webhook delivery', () => {
  it('delivers every state change, signed so the official library verifies it, once per event', async () => {
    await subscribe();
    const d = await world.newDeployment();
    let current = d;
    for (const command of LIFECYCLE) current = await world.change(current, command);
    const run = await world.worker.run({ budgetMs: 60_000 });

    expect(receiver.unverified).toBe(0);
    expect(run.delivered).toBe(LIFECYCLE.length);
    expect(sequencesOf(receiver, d.id)).toEqual(LIFECYCLE.map((_, i) => i + 1));
    expect(new Set(receiver.received.map((e) => e.id)).size).toBe(LIFECYCLE.length);
    const last = receiver.received.at(-1);
    expect(last).toMatchObject({
      type: 'deployment.state_changed',
      data: { from: 'releasing', to: 'released', entry: { command: 'released' } },
    });

    // Nothing is sent twice by a later run.
    await world.worker.run({ budgetMs: 60_000 });
    expect(receiver.received).toHaveLength(LIFECYCLE.length);
  });

  it('another account’s events do not reach an account’s endpoint; the platform admin’s endpoint hears both', async () => {
    await subscribe();
    const { secret } = await world.endpoints.create('platform', null, { url: receiver.url, eventTypes: ['deployment.state_changed'] });
    receiver.secrets.push(secret);
    const mine = await world.newDeployment();
    const theirs = await world.newDeployment('acc_someoneelse');
    await world.change(mine, { type: 'startBuild' });
    await world.change(theirs, { type: 'startBuild' });
    await world.worker.run({ budgetMs: 60_000 });
    // mine: to the account's endpoint and the platform's; theirs: to the platform's only.
    expect(receiver.received.map((e) => e.data.accountId).sort()).toEqual(['acc_someoneelse', ACCOUNT, ACCOUNT]);
  });

  it('a receiver down for hours gets every event afterwards, in order per deployment, with the same webhook-id on every retry', async () => {
    jest.useFakeTimers({
      doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'nextTick', 'queueMicrotask'],
    });
    jest.setSystemTime(Date.UTC(2026, 11, 1, 8));
    await subscribe();
    receiver.status = 503;
    const deployments = [await world.newDeployment(), await world.newDeployment(), await world.newDeployment()];
    const states = [...deployments];
    // Interleaved changes over six hours while the receiver is down; the worker runs every minute as the timer does.
    const hours = 6;
    for (let minute = 0; minute < hours * 60; minute++) {
      if (minute % 30 === 0 && minute / 30 < LIFECYCLE.length) {
        for (let i = 0; i < states.length; i++) {
          const state = states[i];
          const command = LIFECYCLE[minute / 30];
          if (state && command) states[i] = await world.change(state, command);
        }
      }
      await world.worker.run({ budgetMs: 30_000 });
      jest.setSystemTime(Date.now() + 60_000);
    }
    expect(receiver.received).toHaveLength(0);
    const attemptsWhileDown = receiver.requests;
    // Backoff: far fewer attempts than one per queue per minute.
    expect(attemptsWhileDown).toBeLessThan(hours * 60 * deployments.length);

    receiver.status = 204;
    for (let minute = 0; minute < 24 * 60 && receiver.received.length < deployments.length * 12; minute++) {
      await world.worker.run({ budgetMs: 30_000 });
      jest.setSystemTime(Date.now() + 60_000);
    }
    for (const d of deployments) expect(sequencesOf(receiver, d.id)).toEqual(LIFECYCLE.map((_, i) => i + 1));
    expect(receiver.unverified).toBe(0);
    // The deliveries that were retried kept their event's id: the log's attempts all name one delivery per event.
    const { deliveries } = webhookCollections(world.store);
    const all = await deliveries.find({ limit: 1000 });
    expect(all.every((x) => x.data.status === 'delivered')).toBe(true);
    expect(new Set(receiver.received.map((e) => e.id))).toEqual(new Set(all.map((x) => x.data.eventId)));
    expect(Math.max(...all.map((x) => x.data.attempts))).toBeGreaterThan(3);
  });

  it('an endpoint failing for the whole retry window is disabled, and the account’s other endpoint is told', async () => {
    jest.useFakeTimers({
      doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'nextTick', 'queueMicrotask'],
    });
    jest.setSystemTime(Date.UTC(2026, 11, 1, 8));
    const down = await startReceiver({ status: 500 });
    try {
      const failing = (await world.endpoints.create(ACCOUNT, ACCOUNT, { url: down.url, eventTypes: ['deployment.state_changed'] }))
        .endpoint;
      await subscribe(['webhook_endpoint.disabled']);
      const d = await world.newDeployment();
      let current = await world.change(d, { type: 'startBuild' });
      const start = Date.now();
      while (Date.now() - start < RETRY_WINDOW_MS + 3_600_000) {
        await world.worker.run({ budgetMs: 30_000 });
        jest.setSystemTime(Date.now() + 15 * 60_000);
        // Changes keep coming, so the endpoint keeps being tried.
        if ((Date.now() - start) % (6 * 3_600_000) === 0) current = await world.change(current, { type: 'cancel' }).catch(() => current);
      }
      const stored = await world.endpoints.get(ACCOUNT, failing.id);
      expect(stored.data).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('every delivery failed since') });
      await world.worker.run({ budgetMs: 30_000 });
      expect(receiver.received.map((e) => e.type)).toEqual(['webhook_endpoint.disabled']);
      expect(receiver.received[0]?.data).toMatchObject({ endpointId: failing.id, url: down.url });
    } finally {
      await down.close();
    }
  });

  it('after a secret rotation both secrets sign during the overlap, then only the new one', async () => {
    jest.useFakeTimers({
      doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'nextTick', 'queueMicrotask'],
    });
    jest.setSystemTime(Date.UTC(2026, 11, 1, 8));
    const endpoint = await subscribe();
    const oldSecret = receiver.secrets[0] ?? '';
    const { secret: newSecret } = await world.endpoints.rotateSecret(ACCOUNT, endpoint.id, 3_600_000);
    const d = await world.newDeployment();
    // A receiver that has not updated yet still verifies during the overlap.
    receiver.secrets = [oldSecret];
    await world.change(d, { type: 'startBuild' });
    await world.worker.run({ budgetMs: 60_000 });
    expect(receiver.received).toHaveLength(1);
    // After the overlap, the old secret no longer verifies; the new one does.
    jest.setSystemTime(Date.now() + 2 * 3_600_000);
    await world.change(d, { type: 'buildCommitted' });
    await world.worker.run({ budgetMs: 60_000 });
    expect(receiver.unverified).toBe(1);
    receiver.secrets = [newSecret];
    jest.setSystemTime(Date.now() + 60_000);
    await world.worker.run({ budgetMs: 60_000 });
    expect(receiver.received).toHaveLength(2);
  });

  it('keeps the deployment documents untouched by delivery (the outbox is separate)', async () => {
    await subscribe();
    const d = await world.newDeployment();
    await world.change(d, { type: 'startBuild' });
    const before = await openCollections(world.store).deployments.get(d.id);
    expect(before?.data.state).toBe('building');
    const run = await world.worker.run({ budgetMs: 60_000 });
    // The event did go out: the worker read the outbox, sent, and marked its delivery...
    expect(run.delivered).toBe(1);
    expect(receiver.received.map((e) => e.data.deploymentId)).toEqual([d.id]);
    // ...and wrote nothing to the deployment it reported on.
    expect(await openCollections(world.store).deployments.get(d.id)).toEqual(before);
  });

  it('an endpoint whose queue cannot be drained does not stop the run: the other endpoints still get their events', async () => {
    const broken = await subscribe();
    await subscribe();
    // The broken endpoint's stored secret no longer opens (a bad key rotation, a damaged document).
    const { endpoints } = webhookCollections(world.store);
    const stored = await endpoints.get(broken.id);
    if (!stored) throw new Error('the endpoint should be stored');
    await endpoints.update(broken.id, stored.version, { ...stored.data, secret: 'not a sealed secret' });
    const d = await world.newDeployment();
    await world.change(d, { type: 'startBuild' });
    const run = await world.worker.run({ budgetMs: 60_000 });
    expect(run).toMatchObject({ delivered: 1, queueErrors: 1 });
    expect(receiver.received.map((e) => e.data.deploymentId)).toEqual([d.id]);
  });

  it('a failed attempt is recorded even when fan-outs keep touching its queue while it is put off', async () => {
    // Six fan-outs in a row win the race for the queue: the put-off's first six writes lose.
    let racesLeft = 6;
    const racing: DocumentStore = {
      collection: (spec) => world.store.collection(spec),
      purgeExpired: () => world.store.purgeExpired(),
      close: () => world.store.close(),
      commit: async (writes) => {
        const putOff =
          writes.some((w) => w.op === 'update' && w.collection === 'webhookQueues') &&
          writes.some((w) => w.op === 'update' && w.collection === 'webhookDeliveries');
        if (putOff && racesLeft > 0) {
          racesLeft -= 1;
          // What a fan-out does to the queue: a new version.
          const queue = (await webhookCollections(world.store).queues.find({ limit: 1 }))[0];
          if (queue) await webhookCollections(world.store).queues.update(queue.id, queue.version, queue.data);
        }
        return world.store.commit(writes);
      },
    };
    const worker = createWebhookWorker({ ...world.workerDeps, store: racing });
    await subscribe();
    receiver.status = 503;
    const d = await world.newDeployment();
    await world.change(d, { type: 'startBuild' });
    await worker.run({ budgetMs: 60_000 });
    expect(receiver.requests).toBe(1);
    const [delivery] = await webhookCollections(world.store).deliveries.find({ limit: 10 });
    expect(delivery?.data).toMatchObject({
      status: 'pending',
      attempts: 1,
      log: [expect.objectContaining({ outcome: 'failed', status: 503 })],
    });
    const [queue] = await webhookCollections(world.store).queues.find({ limit: 10 });
    expect(queue?.data.nextAttemptAt).toBe(delivery?.data.nextAttemptAt);
  });
});

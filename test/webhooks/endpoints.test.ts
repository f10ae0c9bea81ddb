/**
 * The endpoint service against the real SQLite store: the endpoint limit is a refusal, not a lost race; deleting an
 * endpoint takes its delivery queues with it; queues expire once nothing has been queued on them for the retention.
 */
import { webhookCollections } from '../../shared/app/webhooks/collections';
import { MAX_ENDPOINTS_PER_OWNER } from '../../shared/app/webhooks/endpoints';
import { WEBHOOK_RETENTION_MS } from '../../shared/app/webhooks/outbox';
import { retryOnConflict } from '../../shared/store/retry';
import { ACCOUNT, openWorld, type World } from './support';

let world: World;
beforeEach(() => {
  world = openWorld();
});
afterEach(() => world.close());

const create = () => world.endpoints.create(ACCOUNT, ACCOUNT, { url: 'http://127.0.0.1:9/hook', eventTypes: ['deployment.state_changed'] });

it('the endpoint limit is refused at once with its own code, even inside the compare-and-set retry', async () => {
  for (let i = 0; i < MAX_ENDPOINTS_PER_OWNER; i++) await create();
  let tries = 0;
  const refused = await retryOnConflict('create an endpoint', () => {
    tries += 1;
    return create();
  }).catch((error: unknown) => error);
  // A lost race is retried; a limit is not one: retrying ten times would only hide it behind CONFLICT_RETRIES_EXHAUSTED.
  expect(tries).toBe(1);
  expect(refused).toMatchObject({ code: 'WEBHOOK_ENDPOINT_LIMIT', category: 'conflict' });
});

it('deleting an endpoint deletes its delivery queues', async () => {
  const { endpoint } = await create();
  const kept = (await create()).endpoint;
  for (let i = 0; i < 3; i++) await world.change(await world.newDeployment(), { type: 'startBuild' });
  await world.worker.fanOut();
  const { queues } = webhookCollections(world.store);
  expect(await queues.find({ where: { endpointId: endpoint.id } })).toHaveLength(3);
  await world.endpoints.remove(ACCOUNT, endpoint.id);
  expect(await queues.find({ where: { endpointId: endpoint.id } })).toEqual([]);
  expect(await queues.find({ where: { endpointId: kept.id } })).toHaveLength(3);
});

it('a queue nothing was queued on for the retention is purged; one still in use is not', async () => {
  jest.useFakeTimers({
    doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'nextTick', 'queueMicrotask'],
  });
  try {
    jest.setSystemTime(Date.UTC(2026, 11, 1, 8));
    // A store opened now reads the faked clock (one opened before captured the real Date.now).
    await world.close();
    world = openWorld();
    await create();
    const idle = await world.newDeployment();
    await world.change(idle, { type: 'startBuild' });
    await world.worker.fanOut();
    jest.setSystemTime(Date.now() + WEBHOOK_RETENTION_MS / 2);
    // Another deployment's queue is used again later.
    const busy = await world.change(await world.newDeployment(), { type: 'startBuild' });
    await world.worker.fanOut();
    jest.setSystemTime(Date.now() + WEBHOOK_RETENTION_MS / 2 + 60_000);
    await world.change(busy, { type: 'buildCommitted' });
    await world.worker.fanOut();
    await world.store.purgeExpired();
    const left = await webhookCollections(world.store).queues.find({ limit: 10 });
    expect(left.map((q) => q.id.split('.')[1])).toEqual([busy.id]);
  } finally {
    jest.useRealTimers();
  }
});

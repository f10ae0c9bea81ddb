import { ConflictError } from '../domain/errors';
import type { DocumentStore } from '../store/port';
import { ConflictRetriesExhaustedError, DEFAULT_RETRY_POLICY } from '../store/retry';
import { openSqliteStore } from '../store/sqlite';
import { createInbox, inboxCollection, type PushFacts } from './inbox';

const facts: PushFacts = { source: 'component', type: 'unauthorized', appId: 'wxaaaabbbbccccdd01', createTime: 1 };

describe('inbox', () => {
  let store: DocumentStore;
  beforeEach(() => {
    store = openSqliteStore({ path: ':memory:', clock: () => 1_000 });
  });
  afterEach(() => store.close());

  it('completes an entry an older release left `received`, and reports a recorded push as a duplicate', async () => {
    await store
      .collection(inboxCollection)
      .insert('push', { ...facts, receivedAt: 1, status: 'received', processedAt: null, outcome: null });
    const inbox = createInbox(store, () => 2_000);
    expect(await inbox.record('push', facts, 1, 'processed', 'revoked')).toBe('recorded');
    expect(await inbox.handled('push')).toEqual({ status: 'processed', outcome: 'revoked' });
    expect(await inbox.record('push', facts, 1, 'processed', 'again')).toBe('duplicate');
  });

  it('gives up recording a push whose entry keeps changing under it with a typed error, instead of retrying forever', async () => {
    await store
      .collection(inboxCollection)
      .insert('push', { ...facts, receivedAt: 1, status: 'received', processedAt: null, outcome: null });
    let lost = 0;
    const racing: DocumentStore = {
      ...store,
      collection: (spec) => ({
        ...store.collection(spec),
        update: async () => {
          lost++;
          if (lost <= 50) throw new ConflictError('another writer won', { details: {} });
          throw new Error('not reached: the race was never given up');
        },
      }),
    };
    await expect(createInbox(racing).record('push', facts, 1, 'processed', 'revoked')).rejects.toBeInstanceOf(
      ConflictRetriesExhaustedError,
    );
    expect(lost).toBe(DEFAULT_RETRY_POLICY.attempts);
    expect(await createInbox(store).handled('push')).toBeNull();
  });
});

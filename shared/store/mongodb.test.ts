/**
 * The MongoDB adapter runs the same contract as SQLite when TEST_MONGODB_URL points at a server (a replica set or
 * Atlas: batches use transactions), e.g. TEST_MONGODB_URL='mongodb://127.0.0.1:27017/?replicaSet=rs0'.
 * Without it the contract is skipped with the reason printed. The translation to MongoDB filters, sorts and
 * updates is tested here without a server.
 */
import { type IndexDescription, MongoClient, MongoServerError } from 'mongodb';
import * as z from '../domain/zod';
import { encodeDocument, NEVER } from './document-codec';
import { contentUpdate, openMongoStore, PURGE_GRACE_MS, translateSort, translateWhere } from './mongodb';
import { defineCollection } from './port';
import { describeStoreContract } from './store.contract';

const url = process.env.TEST_MONGODB_URL;

if (!url) {
  console.log('MongoDB contract skipped: set TEST_MONGODB_URL (a replica set or Atlas URL; transactions need one) to run it');
  describe.skip('DocumentStore contract: mongodb (needs TEST_MONGODB_URL)', () => {
    it('runs against a real server', () => undefined);
  });
} else {
  const dbName = `wxa_contract_${process.pid}_${Date.now()}`;
  const admin = () => new MongoClient(url).connect();

  // The contract's fake clock is in 2023: a TTL index would let the server delete its documents mid-test.
  describeStoreContract('mongodb (separate clients)', {
    connect: async (clock) => openMongoStore({ url, dbName, clock, ttlIndex: false, shareClient: false }),
    reset: async () => {
      const client = await admin();
      await client.db(dbName).dropDatabase();
      await client.close();
    },
    corrupt: async (collection, id, rawJson) => {
      const client = await admin();
      await client
        .db(dbName)
        .collection<{ _id: string }>(collection)
        .updateOne({ _id: id }, { $set: { body: rawJson } });
      await client.close();
    },
  });

  describe('mongodb indexes', () => {
    const ttlDb = `${dbName}_ttl`;
    afterAll(async () => {
      const client = await admin();
      await client.db(ttlDb).dropDatabase();
      await client.close();
    });

    it('creates the TTL index on purgeAt, the expiry index and one per declared field', async () => {
      const store = openMongoStore({ url, dbName: ttlDb });
      const things = store.collection(defineCollection({ name: 'things', schema: z.object({ owner: z.string() }), indexes: ['owner'] }));
      await things.insert('a', { owner: 'x' }, { expiresAt: Date.now() + 60_000 });
      const client = await admin();
      const indexes = await client.db(ttlDb).collection('things').indexes();
      await client.close();
      expect(indexes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ key: { purgeAt: 1 }, expireAfterSeconds: 0 }),
          expect.objectContaining({ key: { expiresAt: 1 } }),
          expect.objectContaining({ key: { 'idx.owner': 1 } }),
        ]),
      );
      await store.close();
    });
  });
}

describe('mongodb translation (no server)', () => {
  const now = 1_700_000_000_000;

  it('filters live documents on idx.<field> with equality, null, in and ranges', () => {
    expect(
      translateWhere({ owner: 'acct-1', dueAt: null, archived: false, state: { in: ['new', 'busy'] }, priority: { gte: 1, lt: 5 } }, now),
    ).toEqual({
      expiresAt: { $gt: now },
      'idx.owner': 'acct-1',
      'idx.dueAt': null,
      'idx.archived': false,
      'idx.state': { $in: ['new', 'busy'] },
      'idx.priority': { $lt: 5, $gte: 1 },
    });
    expect(translateWhere(undefined, now)).toEqual({ expiresAt: { $gt: now } });
  });

  it('ignores a range without bounds, as SQLite and CloudBase do (MongoDB would read `{}` as "equals {}")', () => {
    expect(translateWhere({ priority: {} }, now)).toEqual({ expiresAt: { $gt: now } });
    expect(translateWhere({ priority: { lt: undefined }, owner: 'a' }, now)).toEqual({ expiresAt: { $gt: now }, 'idx.owner': 'a' });
  });

  it('orders by the field then _id in the same direction, or by _id alone', () => {
    expect(translateSort({ field: 'priority', direction: 'desc' })).toEqual({ 'idx.priority': -1, _id: -1 });
    expect(translateSort({ field: 'id' })).toEqual({ _id: 1 });
    expect(translateSort(undefined)).toBeUndefined();
  });

  it('writes the content, bumps the version, and keeps, sets or clears the expiry (TTL date one grace period later)', () => {
    const spec = defineCollection({ name: 'things', schema: z.object({ owner: z.string() }), indexes: ['owner'] });
    const doc = encodeDocument(spec, 'a', 2, { owner: 'x' }, undefined);
    expect(doc).toEqual({ _id: 'a', version: 2, expiresAt: NEVER, body: '{"owner":"x"}', idx: { owner: 'x' } });
    expect(contentUpdate(doc, undefined)).toEqual({ $set: { body: doc.body, idx: doc.idx }, $inc: { version: 1 } });
    expect(contentUpdate(doc, null)).toEqual({
      $set: { body: doc.body, idx: doc.idx, expiresAt: NEVER },
      $unset: { purgeAt: '' },
      $inc: { version: 1 },
    });
    expect(contentUpdate(doc, now)).toEqual({
      $set: { body: doc.body, idx: doc.idx, expiresAt: now, purgeAt: new Date(now + PURGE_GRACE_MS) },
      $inc: { version: 1 },
    });
  });
});

/**
 * The store's connection and index handling against the real driver where no server is needed (an unreachable
 * address) and otherwise against a fake client given through the `connect` seam: just enough of the driver's
 * client, database and collection for `get`.
 */
describe('mongodb expiry sweep (no server)', () => {
  it("deletes only this store's expired documents, not another application's that share the database", async () => {
    const things = defineCollection({ name: 'things', schema: z.object({ owner: z.string() }), indexes: ['owner'] });
    const ours = encodeDocument(things, 'a', 3, { owner: 'x' }, 1_000);
    const theirs = [
      { _id: 'session-1', expiresAt: 1_000, user: 'someone' },
      { _id: 'cache-1', expiresAt: 1_000, version: 2, body: { not: 'ours' } },
    ];
    const seen: Record<string, unknown>[] = [];
    const deleted: unknown[] = [];
    // The few query operators a sweep filter may use, read the way MongoDB reads them.
    const matches = (doc: Record<string, unknown>, filter: Record<string, Record<string, unknown>>) =>
      Object.entries(filter).every(([field, condition]) => {
        const value = doc[field];
        return Object.entries(condition).every(([op, operand]) => {
          if (op === '$lte') return typeof value === 'number' && value <= (operand as number);
          if (op === '$type')
            return operand === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value) : typeof value === operand;
          throw new Error(`operator ${op} not modelled`);
        });
      });
    const collections: Record<string, Record<string, unknown>[]> = {
      things: [ours as unknown as Record<string, unknown>],
      sessions: theirs,
    };
    const db = {
      listCollections: () => ({ toArray: async () => Object.keys(collections).map((name) => ({ name })) }),
      collection: (name: string) => ({
        deleteMany: async (filter: Record<string, Record<string, unknown>>) => {
          seen.push(filter);
          const gone = (collections[name] ?? []).filter((doc) => matches(doc, filter));
          deleted.push(...gone.map((doc) => doc._id));
          return { deletedCount: gone.length };
        },
      }),
    };
    const client = { db: () => db, close: async () => undefined };
    const store = openMongoStore({
      url: 'mongodb://fake',
      dbName: 'shared',
      connect: async () => client as unknown as MongoClient,
      ensureIndexes: false,
    });
    expect(await store.purgeExpired()).toBe(1);
    expect(deleted).toEqual(['a']);
    expect(seen).toHaveLength(2);
    await store.close();
  });
});

describe('mongodb connection and indexes (no server)', () => {
  const things = defineCollection({ name: 'things', schema: z.object({ owner: z.string() }), indexes: ['owner'] });
  const stored = encodeDocument(things, 'a', 1, { owner: 'x' }, null);
  const silent = { warn: () => undefined };

  function fakeClient(createIndexes: (indexes: IndexDescription[]) => Promise<unknown> = async () => []) {
    const collection = {
      collectionName: 'things',
      createIndexes: jest.fn(createIndexes),
      findOne: async (filter: { _id: string }) => (filter._id === stored._id ? stored : null),
    };
    const client = { db: () => ({ collection: () => collection }), close: async () => undefined };
    return { client: client as unknown as MongoClient, collection };
  }

  it('an unreachable server fails the calls that use the store, and does not end the process when none does', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const store = openMongoStore({ url: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200', dbName: 'cold', shareClient: false });
      // A cold start whose request never touches the store: longer than a failed server selection takes.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(unhandled).toEqual([]);
      await expect(store.collection(things).get('a')).rejects.toThrow(/ECONNREFUSED|Server selection/i);
      await store.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a warm instance whose first connection failed connects again on its next call, once for concurrent calls', async () => {
    const { client } = fakeClient();
    let reachable = false;
    let attempts = 0;
    const connect = async () => {
      attempts++;
      await new Promise((resolve) => setImmediate(resolve));
      if (!reachable) throw new Error('connect ECONNREFUSED 10.0.0.9:27017');
      return client;
    };
    const items = openMongoStore({ url: 'mongodb://db.internal', dbName: 'app', connect, log: silent }).collection(things);

    const down = await Promise.allSettled([items.get('a'), items.get('a')]);
    expect(down.map((r) => r.status === 'rejected' && String(r.reason))).toEqual([
      expect.stringMatching(/ECONNREFUSED/),
      expect.stringMatching(/ECONNREFUSED/),
    ]);
    expect(attempts).toBe(1);

    reachable = true;
    const [first, second] = await Promise.all([items.get('a'), items.get('missing')]);
    expect(first?.data).toEqual({ owner: 'x' });
    expect(second).toBeNull();
    expect(attempts).toBe(2);
    expect(await items.get('a')).not.toBeNull();
    expect(attempts).toBe(2);
  });

  it('keeps working when an index already exists under another name or options (85/86), and says so in the log', async () => {
    const created: string[] = [];
    const { client, collection } = fakeClient(async (indexes) => {
      if (indexes.some((index) => index.name === 'idx_owner')) {
        throw new MongoServerError({
          message: 'Index already exists with a different name: owner_1',
          code: 85,
          codeName: 'IndexOptionsConflict',
        });
      }
      created.push(...indexes.map((index) => String(index.name)));
      return [];
    });
    const warn = jest.fn();
    const items = openMongoStore({ url: 'mongodb://db.internal', dbName: 'app', connect: async () => client, log: { warn } }).collection(
      things,
    );

    expect((await items.get('a'))?.data).toEqual({ owner: 'x' });
    expect(await items.get('a')).not.toBeNull();
    // The other indexes are still made; the conflicting one is reported once, not on every call.
    expect(created.sort()).toEqual(['expiresAt', 'purgeAt_ttl']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({ collection: 'things', index: 'idx_owner' });
    expect(collection.createIndexes).toHaveBeenCalledTimes(4);
  });

  it('still fails on other index errors, and tries again on the next call', async () => {
    let fail = true;
    const { client } = fakeClient(async () => {
      if (fail) throw new MongoServerError({ message: 'not authorized on app to execute command', code: 13, codeName: 'Unauthorized' });
      return [];
    });
    const items = openMongoStore({ url: 'mongodb://db.internal', dbName: 'app', connect: async () => client, log: silent }).collection(
      things,
    );
    await expect(items.get('a')).rejects.toThrow(/not authorized/);
    fail = false;
    expect(await items.get('a')).not.toBeNull();
  });
});

/**
 * The MongoDB adapter runs the same contract as SQLite when TEST_MONGODB_URL points at a server (a replica set or
 * Atlas: batches use transactions), e.g. TEST_MONGODB_URL='mongodb://127.0.0.1:27017/?replicaSet=rs0'.
 * Without it the contract is skipped with the reason printed. The translation to MongoDB filters, sorts and
 * updates is tested here without a server.
 */
import { MongoClient } from 'mongodb';
import { z } from 'zod';
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
      await client.db(dbName).collection<{ _id: string }>(collection).updateOne({ _id: id }, { $set: { body: rawJson } });
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
      expect(indexes).toEqual(expect.arrayContaining([
        expect.objectContaining({ key: { purgeAt: 1 }, expireAfterSeconds: 0 }),
        expect.objectContaining({ key: { expiresAt: 1 } }),
        expect.objectContaining({ key: { 'idx.owner': 1 } }),
      ]));
      await store.close();
    });
  });
}

describe('mongodb translation (no server)', () => {
  const now = 1_700_000_000_000;

  it('filters live documents on idx.<field> with equality, null, in and ranges', () => {
    expect(translateWhere({ owner: 'acct-1', dueAt: null, archived: false, state: { in: ['new', 'busy'] }, priority: { gte: 1, lt: 5 } }, now)).toEqual({
      expiresAt: { $gt: now },
      'idx.owner': 'acct-1',
      'idx.dueAt': null,
      'idx.archived': false,
      'idx.state': { $in: ['new', 'busy'] },
      'idx.priority': { $lt: 5, $gte: 1 },
    });
    expect(translateWhere(undefined, now)).toEqual({ expiresAt: { $gt: now } });
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
    expect(contentUpdate(doc, null)).toEqual({ $set: { body: doc.body, idx: doc.idx, expiresAt: NEVER }, $unset: { purgeAt: '' }, $inc: { version: 1 } });
    expect(contentUpdate(doc, now)).toEqual({ $set: { body: doc.body, idx: doc.idx, expiresAt: now, purgeAt: new Date(now + PURGE_GRACE_MS) }, $inc: { version: 1 } });
  });
});

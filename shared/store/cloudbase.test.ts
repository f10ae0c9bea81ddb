/**
 * The CloudBase adapter runs the same contract as SQLite when a CloudBase environment is given:
 *   TEST_TCB_ENV=<env id> TEST_TCB_SECRET_ID=… TEST_TCB_SECRET_KEY=… (keys with TCB database access).
 * Without them the contract is skipped with the reason printed. The translation to CloudBase queries is tested
 * here without a server, through the SDK's own query serializer; the document mapping too.
 */
import { init } from '@cloudbase/node-sdk';
import { ConfigError, ConflictError, CorruptDocumentError, DuplicateKeyError } from '../domain/errors';
import * as z from '../domain/zod';
import {
  assertCloudbaseCredentials,
  isCollectionMissing,
  openCloudbaseStore,
  type TcbCommand,
  type TcbDatabase,
  translateWhere,
  writeFields,
} from './cloudbase';
import { CloudbaseModel } from './cloudbase-model';
import { decodeDocument, encodeDocument, NEVER } from './document-codec';
import { defineCollection } from './port';
import { describeStoreContract } from './store.contract';

const envId = process.env.TEST_TCB_ENV;
const secretId = process.env.TEST_TCB_SECRET_ID;
const secretKey = process.env.TEST_TCB_SECRET_KEY;

/** The real SDK database, offline: building queries sends nothing. */
const offlineDb = () => init({ env: 'offline-test', secretId: 'id', secretKey: 'key' }).database() as unknown as TcbDatabase;

if (!envId || !secretId || !secretKey) {
  console.log('CloudBase contract skipped: set TEST_TCB_ENV, TEST_TCB_SECRET_ID and TEST_TCB_SECRET_KEY to run it against an environment');
  describe.skip('DocumentStore contract: cloudbase (needs TEST_TCB_ENV + keys)', () => {
    it('runs against a real environment', () => undefined);
  });
} else {
  // Collections of the test run are prefixed, emptied after each test, and left for reuse by the next run.
  const prefix = 'contract_';
  const database = init({ env: envId, secretId, secretKey }).database() as unknown as TcbDatabase;
  const opened = new Set<string>();
  describeStoreContract('cloudbase', {
    connect: async (clock) => {
      const store = openCloudbaseStore({ envId, secretId, secretKey, clock, prefix });
      const original = store.collection.bind(store);
      store.collection = (spec) => {
        opened.add(spec.name);
        return original(spec);
      };
      return store;
    },
    reset: async () => {
      for (const name of opened) {
        try {
          await database
            .collection(prefix + name)
            .where({ version: database.command.gte(0) })
            .remove();
        } catch (error) {
          if (!isCollectionMissing(error)) throw error;
        }
      }
    },
    corrupt: async (collection, id, rawJson) => {
      await database
        .collection(prefix + collection)
        .doc(id)
        .update({ body: rawJson });
    },
  });
}

/**
 * The whole contract through the real SDK, with its transport answered by an in-memory model of the CloudBase
 * server (cloudbase-model.ts): checks the adapter's logic against the API as documented, not CloudBase itself.
 */
describe('cloudbase adapter over the SDK and a server model', () => {
  const model = new CloudbaseModel();
  let restore: () => void = () => {};
  beforeAll(() => {
    restore = model.install(offlineDb());
  });
  afterAll(() => restore());

  describeStoreContract('cloudbase (SDK + in-memory server model)', {
    connect: async (clock) => openCloudbaseStore({ envId: 'offline-test', database: offlineDb(), clock }),
    reset: async () => model.collections.clear(),
    corrupt: async (collection, id, rawJson) => {
      const doc = model.collections.get(collection)?.get(id);
      if (doc) doc.body = rawJson;
    },
  });

  it('creates a missing collection on first write and records it in the catalog that purgeExpired sweeps', async () => {
    model.collections.clear();
    let now = 1_000;
    const store = openCloudbaseStore({ envId: 'offline-test', database: offlineDb(), clock: () => now });
    const things = store.collection(defineCollection({ name: 'things', schema: z.object({ owner: z.string() }), indexes: ['owner'] }));
    await things.insert('a', { owner: 'x' }, { expiresAt: 2_000 });
    expect([...model.collections.keys()].sort()).toEqual(['things', 'wxaCollections']);
    expect([...(model.collections.get('wxaCollections')?.values() ?? [])]).toEqual([{ _id: 'things', indexes: ['owner'] }]);
    now = 3_000;
    // A store that never opened `things` (the maintenance function) still sweeps it, through the catalog.
    expect(await openCloudbaseStore({ envId: 'offline-test', database: offlineDb(), clock: () => now }).purgeExpired()).toBe(1);
  });

  it("pages past CloudBase's 1000-document limit", async () => {
    model.collections.clear();
    const many = defineCollection({ name: 'many', schema: z.object({ n: z.number() }), indexes: ['n'] });
    const things = openCloudbaseStore({ envId: 'offline-test', database: offlineDb(), clock: () => 1 }).collection(many);
    await things.insert('first', { n: 0 });
    const docs = model.collections.get('many');
    for (let n = 1; n < 2105; n++) {
      const id = `d${String(n).padStart(5, '0')}`;
      docs?.set(id, { ...encodeDocument(many, id, 1, { n }, null) });
    }
    expect(await things.find()).toHaveLength(2105);
    expect((await things.find({ orderBy: { field: 'n', direction: 'desc' }, limit: 1500 })).map((d) => d.data.n).slice(0, 2)).toEqual([
      2104, 2103,
    ]);
  });

  /** Puts `around` between the SDK and the model for one test: to cut pages short, lose answers, or fail requests. */
  const intercept = (
    around: (api: string, params: Record<string, unknown>, next: (api: string, params: Record<string, unknown>) => unknown) => unknown,
  ) => {
    const next = CloudbaseModel.prototype.handle.bind(model);
    model.handle = (api, params) => around(api, params, next);
  };
  afterEach(() => Reflect.deleteProperty(model, 'handle'));

  const many = defineCollection({ name: 'many', schema: z.object({ n: z.nullable(z.number()) }), indexes: ['n'] });
  /** A store over an emptied server model. */
  const freshStore = () => {
    model.collections.clear();
    return openCloudbaseStore({ envId: 'offline-test', database: offlineDb(), clock: () => 1 });
  };
  /** `many` in a fresh store, created by a first insert, so that the next insert is a plain add. */
  const createdMany = async () => {
    const items = freshStore().collection(many);
    await items.insert('first', { n: 0 });
    return items;
  };
  const idOf = (n: number) => `d${String(n).padStart(5, '0')}`;
  const fill = (count: number, n: (i: number) => number | null) => {
    const docs = new Map<string, Record<string, unknown>>();
    for (let i = 1; i <= count; i++) docs.set(idOf(i), { ...encodeDocument(many, idOf(i), 1, { n: n(i) }, null) });
    model.collections.set('many', docs);
    return docs;
  };

  it('lists every document once when others are deleted or inserted between two pages', async () => {
    const items = freshStore().collection(many);
    for (const query of [{}, { orderBy: { field: 'n' as const, direction: 'desc' as const } }]) {
      const docs = fill(2500, (i) => (i % 11 === 0 ? null : i % 7));
      let pages = 0;
      intercept((api, params, next) => {
        const answer = next(api, params);
        if (api === 'database.getDocument' && ++pages === 1) {
          // Another instance, after the first page was read: deletes two documents that were on it, adds one.
          const served = (answer as { data: { list: string[] } }).data.list.map((text) => (JSON.parse(text) as { _id: string })._id);
          for (const id of served.slice(0, 2)) docs.delete(id);
          docs.set('d00000', { ...encodeDocument(many, 'd00000', 1, { n: 0 }, null) });
        }
        return answer;
      });
      const ids = (await items.find(query)).map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Every document that was there all along is listed (the one added mid-listing may or may not be).
      expect(ids.filter((id) => id !== 'd00000')).toHaveLength(2500);
      Reflect.deleteProperty(model, 'handle');
    }
  });

  it('pages by key through nulls, numbers, strings and booleans in either direction, even when pages come back short', async () => {
    model.collections.clear();
    const mixed = defineCollection({
      name: 'mixed',
      schema: z.object({ v: z.nullable(z.union([z.number(), z.string(), z.boolean()])), even: z.boolean() }),
      indexes: ['v', 'even'],
    });
    const values = [null, -3, 0, 2.5, 7, '', 'a', 'b', false, true];
    const docs = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < 80; i++) {
      const id = `m${String((i * 37) % 80).padStart(2, '0')}`;
      docs.set(id, { ...encodeDocument(mixed, id, 1, { v: values[i % values.length] ?? null, even: i % 2 === 0 }, null) });
    }
    model.collections.set('mixed', docs);
    // The server cuts every page at 7 documents, whatever limit was asked for.
    intercept((api, params, next) =>
      next(api, api === 'database.getDocument' ? { ...params, limit: Math.min(Number(params.limit), 7) } : params),
    );
    const items = openCloudbaseStore({ envId: 'offline-test', database: offlineDb(), clock: () => 1 }).collection(mixed);

    const rank = (v: unknown) => (v === null ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3);
    const byKey = (a: { id: string; v: unknown }, b: { id: string; v: unknown }) =>
      rank(a.v) - rank(b.v) || (a.v === b.v ? 0 : (a.v as number) < (b.v as number) ? -1 : 1) || (a.id < b.id ? -1 : 1);
    const all = [...docs.values()].map((doc) => ({
      id: String(doc._id),
      ...(JSON.parse(String(doc.body)) as { v: unknown; even: boolean }),
    }));
    const ascending = [...all].sort(byKey).map((d) => d.id);
    const evenAscending = all
      .filter((d) => d.even)
      .sort(byKey)
      .map((d) => d.id);

    expect((await items.find({ orderBy: { field: 'v' } })).map((d) => d.id)).toEqual(ascending);
    expect((await items.find({ orderBy: { field: 'v', direction: 'desc' } })).map((d) => d.id)).toEqual([...ascending].reverse());
    expect((await items.find({ where: { even: true }, orderBy: { field: 'v', direction: 'desc' } })).map((d) => d.id)).toEqual(
      [...evenAscending].reverse(),
    );
    expect((await items.find({ orderBy: { field: 'v' }, limit: 30 })).map((d) => d.id)).toEqual(ascending.slice(0, 30));
    expect((await items.find()).map((d) => d.id)).toEqual(all.map((d) => d.id).sort());
    expect((await items.find({ orderBy: { field: 'id', direction: 'desc' } })).map((d) => d.id)).toEqual(
      all
        .map((d) => d.id)
        .sort()
        .reverse(),
    );
  });

  it('reports a batch that keeps losing write conflicts as a ConflictError, having written nothing', async () => {
    const store = freshStore();
    const items = store.collection(many);
    await items.insert('a', { n: 1 });
    let commits = 0;
    intercept((api, params, next) => {
      if (api !== 'database.commitTransaction') return next(api, params);
      commits++;
      // What the SDK's TcbError carries when the server answers DATABASE_TRANSACTION_CONFLICT.
      throw Object.assign(new Error('database transaction conflict'), { code: 'DATABASE_TRANSACTION_CONFLICT', requestId: 'r' });
    });
    const error = await store
      .commit([items.updateWrite('a', 1, { n: 2 }), items.insertWrite('b', { n: 3 })])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'VERSION_CONFLICT' });
    expect(commits).toBeGreaterThan(1); // the SDK's own retries ran first
    Reflect.deleteProperty(model, 'handle');
    expect(await items.get('a')).toMatchObject({ version: 1, data: { n: 1 } });
    expect(await items.get('b')).toBeNull();
  });

  it('an insert whose add landed but whose answer was lost succeeds instead of reporting its own document as a duplicate', async () => {
    const items = await createdMany();
    intercept((api, params, next) => {
      const answer = next(api, params);
      if (api === 'database.insertDocument') throw Object.assign(new Error('ESOCKETTIMEDOUT'), { code: 'ESOCKETTIMEDOUT' });
      return answer;
    });
    expect(await items.insert('a', { n: 1 })).toEqual({ id: 'a', version: 1, expiresAt: null, data: { n: 1 } });
    // A second insert of the very same document is still refused: the stored one is not its write.
    await expect(items.insert('a', { n: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
    Reflect.deleteProperty(model, 'handle');
    expect(await items.get('a')).toEqual({ id: 'a', version: 1, expiresAt: null, data: { n: 1 } });
  });

  it('an add that keeps failing with nothing stored is tried three times, then fails with its own error', async () => {
    const items = await createdMany();
    let adds = 0;
    intercept((api, params, next) => {
      if (api !== 'database.insertDocument') return next(api, params);
      adds++;
      throw Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET' });
    });
    await expect(items.insert('a', { n: 1 })).rejects.toThrow('ECONNRESET');
    expect(adds).toBe(3);
    expect(model.collections.get('many')?.has('a')).toBe(false);
  });

  it('a failed add is sent again at once, and an insert it lands on its second try succeeds', async () => {
    const items = await createdMany();
    let adds = 0;
    intercept((api, params, next) => {
      if (api === 'database.insertDocument' && ++adds === 1) throw Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET' });
      return next(api, params);
    });
    expect(await items.insert('a', { n: 1 })).toEqual({ id: 'a', version: 1, expiresAt: null, data: { n: 1 } });
    expect(adds).toBe(2);
  });

  it('a takeover of an expired document that loses races is retried as a race, not on the failed-add budget of three', async () => {
    model.collections.clear();
    let now = 1;
    const items = openCloudbaseStore({ envId: 'offline-test', database: offlineDb(), clock: () => now }).collection(many);
    await items.insert('a', { n: 1 }, { expiresAt: 10 });
    now = 20; // 'a' has expired: an insert takes it over with a compare-and-set on its version
    let takeovers = 0;
    intercept((api, params, next) => {
      // Three takeovers in a row find the version moved (other writers' compare-and-sets), the fourth wins.
      if (api === 'database.modifyDocument' && params.transactionId === undefined && ++takeovers <= 3)
        return { data: { updated: 0 }, requestId: 'r' };
      return next(api, params);
    });
    expect(await items.insert('a', { n: 2 })).toEqual({ id: 'a', version: 2, expiresAt: null, data: { n: 2 } });
    expect(takeovers).toBe(4);
  });

  it.each(['[ResourceExist] Table exist', 'ResourceExist: collection things', 'create table failed (-501001)'])(
    'creating a collection another instance just created is not an error (%s)',
    async (message) => {
      model.collections.clear();
      intercept((api, params, next) => {
        if (api !== 'database.addCollection' || params.collectionName !== 'many') return next(api, params);
        model.collections.set('many', new Map());
        throw Object.assign(new Error(message), { code: 'FailedOperation' });
      });
      const items = openCloudbaseStore({ envId: 'offline-test', database: offlineDb(), clock: () => 1 }).collection(many);
      expect((await items.insert('a', { n: 1 })).version).toBe(1);
      expect([...(model.collections.get('many')?.keys() ?? [])]).toEqual(['a']);
    },
  );
});

describe('cloudbase translation (real SDK serializer, no request)', () => {
  const now = 1_700_000_000_000;
  const serialized = (filter: Record<string, unknown> | null) => {
    const query = offlineDb()
      .collection('c')
      .where(filter ?? {}) as unknown as { _fieldFilters: string };
    return JSON.parse(query._fieldFilters) as unknown;
  };
  const int = (n: number) => ({ $numberInt: String(n) });
  const long = (n: number) => ({ $numberLong: String(n) });

  it('filters live documents on idx.<field> with equality, null, booleans, in and ranges', () => {
    const _ = offlineDb().command;
    const filter = translateWhere(
      _,
      { owner: 'acct-1', dueAt: null, archived: true, state: { in: ['new', 'busy'] }, priority: { gte: 1, lt: 5 } },
      now,
    );
    expect(serialized(filter)).toEqual({
      expiresAt: { $gt: long(now) },
      'idx.owner': 'acct-1',
      'idx.dueAt': null,
      'idx.archived': true,
      'idx.state': { $in: ['new', 'busy'] },
      // The SDK lifts a field's chained range into one top-level $and.
      $and: [{ 'idx.priority': { $lt: int(5) } }, { 'idx.priority': { $gte: int(1) } }],
    });
  });

  it('keeps every bound when two fields have ranges', () => {
    const filter = translateWhere(offlineDb().command, { priority: { gt: 1, lte: 3 }, dueAt: { lt: 9, gte: 2 } }, now);
    expect((serialized(filter) as { $and: unknown[] }).$and).toEqual([
      { 'idx.priority': { $lte: int(3) } },
      { 'idx.priority': { $gt: int(1) } },
      { 'idx.dueAt': { $lt: int(9) } },
      { 'idx.dueAt': { $gte: int(2) } },
    ]);
  });

  it('short-circuits an empty `in` (nothing can match) instead of sending it', () => {
    expect(translateWhere(offlineDb().command, { state: { in: [] } }, now)).toBeNull();
  });

  it('writes only the fields it means to: expiry kept unless given, idx replaced whole', () => {
    const db = offlineDb();
    const spec = defineCollection({
      name: 'things',
      schema: z.object({ owner: z.string(), n: z.optional(z.number()) }),
      indexes: ['owner', 'n'],
    });
    const doc = encodeDocument(spec, 'a', 3, { owner: 'x' }, now + 5);
    expect(Object.keys(writeFields(db.command as TcbCommand, doc, undefined))).toEqual(['version', 'body', 'idx']);
    expect(writeFields(db.command as TcbCommand, doc, null)).toMatchObject({ version: 3, body: '{"owner":"x"}', expiresAt: NEVER });
    expect(doc.idx).toEqual({ owner: 'x', n: null });
  });
});

/**
 * The adapter against the SDK with its transport replaced: what goes on the wire for a compare-and-set and an
 * insert, and how the documented answers (`updated`, DATABASE_DUPLICATE_WRITE) are read. The answers are scripted
 * from the SDK source and CloudBase's error-code list, not recorded from a server.
 */
describe('cloudbase requests (SDK transport replaced)', () => {
  const things = defineCollection({ name: 'things', schema: z.object({ owner: z.string() }), indexes: ['owner'] });
  const now = 1_700_000_000_000;

  function scripted(answers: ((api: string, param: Record<string, unknown>) => unknown)[]) {
    const db = offlineDb();
    const sent: { api: string; param: Record<string, unknown> }[] = [];
    const probe = db.collection('things') as unknown as { _request: object };
    const proto = Object.getPrototypeOf(probe._request) as { send: (api: string, param: Record<string, unknown>) => Promise<unknown> };
    const original = proto.send;
    proto.send = async (api, param) => {
      sent.push({ api, param });
      const answer = answers.shift();
      if (!answer) throw new Error(`unexpected ${api}`);
      return answer(api, param);
    };
    const store = openCloudbaseStore({ envId: 'offline-test', database: db, clock: () => now });
    return { items: store.collection(things), sent, restore: () => (proto.send = original) };
  }

  const parse = (text: unknown) => JSON.parse(String(text)) as unknown;

  it('compare-and-set: one where({ _id, version, live }).update, updated === 1 wins, 0 is a conflict', async () => {
    const { items, sent, restore } = scripted([() => ({ data: { updated: 1 } }), () => ({ data: { updated: 0 } })]);
    try {
      expect(await items.update('a', 4, { owner: 'y' }, { expiresAt: null })).toEqual({
        id: 'a',
        version: 5,
        expiresAt: null,
        data: { owner: 'y' },
      });
      await expect(items.update('a', 4, { owner: 'z' }, { expiresAt: null })).rejects.toThrow(/no longer at version 4/);
      expect(sent[0]?.api).toBe('database.modifyDocument');
      expect(parse(sent[0]?.param.query)).toEqual({
        _id: 'a',
        version: { $numberInt: '4' },
        expiresAt: { $gt: { $numberLong: String(now) } },
      });
      expect(parse(sent[0]?.param.data)).toEqual({
        $set: { version: { $numberInt: '5' }, body: '{"owner":"y"}', idx: { owner: 'y' }, expiresAt: { $numberLong: String(NEVER) } },
      });
      expect(sent[0]?.param).toMatchObject({ queryType: 'WHERE', upsert: false });
    } finally {
      restore();
    }
  });

  it('insert: add with _id; DATABASE_DUPLICATE_WRITE over a live document is a DuplicateKeyError', async () => {
    const live = JSON.stringify({ _id: 'a', version: 1, expiresAt: NEVER, body: '{"owner":"x"}', idx: { owner: 'x' } });
    const { items, sent, restore } = scripted([
      () => ({ data: { insertedIds: ['a'] } }),
      () => ({ code: 'DATABASE_DUPLICATE_WRITE', message: 'duplicate' }),
      () => ({ data: { list: [live] } }),
    ]);
    try {
      expect(await items.insert('a', { owner: 'x' })).toEqual({ id: 'a', version: 1, expiresAt: null, data: { owner: 'x' } });
      expect(sent[0]?.api).toBe('database.insertDocument');
      expect(((sent[0]?.param.data ?? []) as string[]).map(parse)).toEqual([
        {
          _id: 'a',
          version: { $numberInt: '1' },
          expiresAt: { $numberLong: String(NEVER) },
          body: '{"owner":"x"}',
          idx: { owner: 'x' },
          insertToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
        },
      ]);
      await expect(items.insert('a', { owner: 'x' })).rejects.toMatchObject({ code: 'DUPLICATE_KEY' });
      expect(sent.map((s) => s.api)).toEqual(['database.insertDocument', 'database.insertDocument', 'database.getDocument']);
    } finally {
      restore();
    }
  });
});

describe('document mapping', () => {
  const spec = defineCollection({ name: 'things', schema: z.object({ owner: z.string(), tags: z.array(z.string()) }), indexes: ['owner'] });

  it('round-trips data exactly, including keys the databases cannot hold as field names', () => {
    const data = { owner: 'x', tags: ['a.b', '$c'], 'odd.key': 1, $weird: true } as unknown as { owner: string; tags: string[] };
    const doc = encodeDocument(spec, 'id-1', 1, data, null);
    expect(doc.expiresAt).toBe(NEVER);
    const loose = defineCollection({
      name: 'things',
      schema: z.looseObject({ owner: z.string(), tags: z.array(z.string()) }),
      indexes: ['owner'],
    });
    expect(decodeDocument(loose, doc)).toEqual({ id: 'id-1', version: 1, expiresAt: null, data });
  });

  it('reports documents that are not ours, not JSON, or off-schema as CorruptDocumentError', () => {
    expect(() => decodeDocument(spec, { _id: 'a', version: 1 })).toThrow(CorruptDocumentError);
    expect(() => decodeDocument(spec, { _id: 'a', version: 1, expiresAt: NEVER, body: '{nope' })).toThrow(/not JSON/);
    expect(() => decodeDocument(spec, { _id: 'a', version: 1, expiresAt: NEVER, body: '{"owner":1}' })).toThrow(
      /does not match its schema/,
    );
  });

  it("recognises CloudBase's missing-collection errors", () => {
    expect(isCollectionMissing({ code: 'DATABASE_COLLECTION_NOT_EXIST', message: 'x' })).toBe(true);
    expect(isCollectionMissing(new Error('[ResourceNotFound] Db or Table not exist'))).toBe(true);
    expect(isCollectionMissing({ code: 'DATABASE_DUPLICATE_WRITE' })).toBe(false);
  });
});

describe('credentials', () => {
  const items = defineCollection({ name: 'items', schema: z.object({ n: z.number() }) });
  const credentialVariables = ['TENCENTCLOUD_SECRETID', 'TENCENTCLOUD_SECRETKEY', 'TENCENTCLOUD_SESSIONTOKEN', 'CLOUDBASE_APIKEY'] as const;
  const saved = Object.fromEntries(credentialVariables.map((name) => [name, process.env[name]]));
  afterEach(() => {
    for (const name of credentialVariables) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('a function without a role fails its store calls with a configuration error, not an unhandled rejection', async () => {
    for (const name of credentialVariables) delete process.env[name];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const store = openCloudbaseStore({ envId: 'no-role-env' });
      // A turn of the event loop before the first call: the failed initialisation must not count as unhandled.
      await new Promise((resolve) => setImmediate(resolve));
      const error = await store
        .collection(items)
        .get('a')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ field: 'TENCENTCLOUD_SECRETID', message: expect.stringContaining('role') });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('accepts explicit keys, the role keys SCF sets, or a CloudBase API key', () => {
    for (const name of credentialVariables) delete process.env[name];
    expect(() => assertCloudbaseCredentials({ secretId: 'id', secretKey: 'key' })).not.toThrow();
    expect(() => assertCloudbaseCredentials({}, { TENCENTCLOUD_SECRETID: 'id', TENCENTCLOUD_SECRETKEY: 'key' })).not.toThrow();
    expect(() => assertCloudbaseCredentials({}, { CLOUDBASE_APIKEY: 'k' })).not.toThrow();
    expect(() => assertCloudbaseCredentials({ secretId: 'id' }, { TENCENTCLOUD_SECRETID: 'id' })).toThrow(ConfigError);
  });
});

/**
 * MongoDB adapter (official driver, `mongodb@6`: v7 needs Node ≥ 20.19 and SCF runs Node 18): the driver calls
 * under `document-base.ts`.
 *
 * Documents use the layout of `document-codec.ts`. Mapping of the port:
 * - compare-and-set: `findOneAndUpdate({ _id, version, expiresAt > now }, { $set, $inc: { version: 1 } })`;
 *   no match is a `ConflictError`.
 * - insert-if-absent: first take over an *expired* document with the same id (a findOneAndUpdate that bumps its
 *   version, so a stale holder cannot write the new one), else `insertOne`; duplicate key (11000) on the unique
 *   `_id` is a `DuplicateKeyError`. That order also works inside a transaction, where a failed insert aborts.
 * - expiry: reads filter `expiresAt > now` themselves; `purgeAt` (a BSON Date, set only on expiring documents,
 *   `PURGE_GRACE_MS` after the expiry) carries a TTL index that reclaims space without the `maintenance` timer.
 *   The monitor runs about once a minute, so it never decides visibility.
 * - batches: one transaction per `commit` (`session.withTransaction`, which needs a replica set or Atlas).
 * - the client is cached per URL in the module, so warm invocations reuse its connection pool. It connects on the
 *   first store call, and a failed connection is retried by the next call (see `LazyClient`).
 */
import {
  type ClientSession,
  type Db,
  type Filter,
  type IndexDescription,
  MongoClient,
  type Collection as MongoCollection,
  MongoServerError,
  type UpdateFilter,
} from 'mongodb';
import { type AnySpec, type DocumentDriver, duplicateError, openDocumentStore } from './document-base';
import { encodeExpiry, fieldPath, type StoredDocument } from './document-codec';
import type { Clock, Condition, DocumentStore, FindQuery, StoreLogger } from './port';

export interface MongoStoreOptions {
  url: string;
  dbName: string;
  clock?: Clock;
  /** Create the indexes on first use of each collection (idempotent). Default true. */
  ensureIndexes?: boolean;
  /** Create the TTL index on `purgeAt`. Off in the contract tests, whose fake clock lives in 2023. Default true. */
  ttlIndex?: boolean;
  /** Reuse the module's cached client for this URL (default), or open a private one (tests: real separate connections). */
  shareClient?: boolean;
  /** How to connect (tests: a fake client). A store given one never shares its client. */
  connect?: (url: string) => Promise<MongoClient>;
  /** Where to report an index that could not be created as declared (the runtime passes its logger). Default: stderr. */
  log?: StoreLogger;
}

type MongoFilter = Filter<StoredDocument>;

const consoleWarnings: StoreLogger = { warn: (message, fields) => console.warn(message, fields ?? {}) };

/**
 * The TTL monitor deletes a document this long after it expired. Reads ignore it from `expiresAt` on; the delay
 * keeps the expired document around so that an insert reusing its id bumps its version (a deleted one restarts at
 * 1, which a stale holder of version 1 — e.g. of a lease — could then compare-and-set).
 */
export const PURGE_GRACE_MS = 60 * 60 * 1000;

type Connect = (url: string) => Promise<MongoClient>;

function connect(url: string): Promise<MongoClient> {
  // Defaults for a function instance (one request at a time; fail a cold start fast); the URL's own options win.
  const has = (option: string) => new RegExp(`[?&]${option}=`, 'i').test(url);
  const client = new MongoClient(url, {
    ...(has('maxPoolSize') ? {} : { maxPoolSize: 5 }),
    ...(has('serverSelectionTimeoutMS') ? {} : { serverSelectionTimeoutMS: 5000 }),
  });
  return client.connect().catch(async (error: unknown) => {
    await client.close().catch(() => undefined);
    throw error;
  });
}

/**
 * A client that connects on first use, not when the store is opened: a cold start whose request never reads the
 * store must not fail (or, with nobody awaiting the attempt, die of an unhandled rejection) because the database
 * is unreachable. A failed attempt is forgotten, so a warm instance recovers on its next call once the database is
 * back instead of re-throwing the old error until it is recycled; calls made meanwhile share the one attempt.
 */
class LazyClient {
  private pending: Promise<MongoClient> | undefined;
  users = 0;

  constructor(
    private readonly url: string,
    private readonly open: Connect,
  ) {}

  get(): Promise<MongoClient> {
    if (!this.pending) {
      const attempt: Promise<MongoClient> = this.open(this.url).catch((error: unknown) => {
        if (this.pending === attempt) this.pending = undefined;
        throw error;
      });
      this.pending = attempt;
    }
    return this.pending;
  }

  async close(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    await (await pending?.catch(() => undefined))?.close();
  }
}

const clients = new Map<string, LazyClient>();

function acquireClient(url: string, share: boolean, open: Connect): { client: LazyClient; release: () => Promise<void> } {
  if (!share) {
    const client = new LazyClient(url, open);
    return { client, release: () => client.close() };
  }
  let client = clients.get(url);
  if (!client) {
    client = new LazyClient(url, open);
    clients.set(url, client);
  }
  client.users++;
  const held = client;
  let released = false;
  return {
    client: held,
    release: async () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users === 0 && clients.get(url) === held) {
        clients.delete(url);
        await held.close();
      }
    },
  };
}

/** Port condition → MongoDB filter on `idx.<field>` (unit-tested without a server). */
export function translateWhere(where: Partial<Record<string, Condition>> | undefined, now: number): MongoFilter {
  const filter: Record<string, unknown> = { expiresAt: { $gt: now } };
  for (const [field, condition] of Object.entries(where ?? {})) {
    if (condition === undefined) continue;
    const path = fieldPath(field);
    if (condition === null || typeof condition !== 'object') filter[path] = condition;
    else if ('in' in condition) filter[path] = { $in: [...condition.in] };
    else {
      const range: Record<string, unknown> = {};
      for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
        if (condition[op] !== undefined) range[`$${op}`] = condition[op];
      }
      // An empty object would mean "equals {}" to MongoDB and match nothing; no bound means no condition.
      if (Object.keys(range).length > 0) filter[path] = range;
    }
  }
  return filter as MongoFilter;
}

export function translateSort(orderBy: FindQuery<string>['orderBy']): Record<string, 1 | -1> | undefined {
  if (!orderBy) return undefined;
  const direction = orderBy.direction === 'desc' ? -1 : 1;
  const path = fieldPath(orderBy.field);
  return path === '_id' ? { _id: direction } : { [path]: direction, _id: direction };
}

/** The `$set`/`$unset` that write a document's content and (when given) its expiry. */
export function contentUpdate(doc: StoredDocument, expiresAt: number | null | undefined): UpdateFilter<StoredDocument> {
  const set: Partial<StoredDocument> & { purgeAt?: Date } = { body: doc.body, idx: doc.idx };
  if (expiresAt === undefined) return { $set: set, $inc: { version: 1 } };
  set.expiresAt = encodeExpiry(expiresAt);
  if (expiresAt === null) return { $set: set, $unset: { purgeAt: '' }, $inc: { version: 1 } } as UpdateFilter<StoredDocument>;
  set.purgeAt = new Date(expiresAt + PURGE_GRACE_MS);
  return { $set: set, $inc: { version: 1 } } as UpdateFilter<StoredDocument>;
}

const withPurgeAt = (doc: StoredDocument, expiresAt: number | null | undefined) =>
  expiresAt === null || expiresAt === undefined ? doc : { ...doc, purgeAt: new Date(expiresAt + PURGE_GRACE_MS) };

const isDuplicateKey = (error: unknown) => error instanceof MongoServerError && error.code === 11000;

/**
 * IndexOptionsConflict (85) / IndexKeySpecsConflict (86): an index on the same key exists under another name or
 * with other options (made by hand, or by an older version). It still serves the queries, and failing here would
 * fail every call on the collection, since each awaits its indexes.
 */
const isIndexConflict = (error: unknown) => error instanceof MongoServerError && (error.code === 85 || error.code === 86);

async function ensureIndexes(col: MongoCollection<StoredDocument>, indexes: IndexDescription[], log: StoreLogger): Promise<void> {
  try {
    await col.createIndexes(indexes);
    return;
  } catch (error) {
    if (!isIndexConflict(error)) throw error;
  }
  // The batch fails as a whole: create the others one by one so that one conflict does not cost them.
  for (const index of indexes) {
    try {
      await col.createIndexes([index]);
    } catch (error) {
      if (!isIndexConflict(error)) throw error;
      log.warn('mongodb index exists with another name or options; keeping it', {
        collection: col.collectionName,
        index: index.name,
        key: index.key,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/**
 * What the sweep deletes: expired documents of this store's shape only. MONGODB_DB may be shared with other
 * applications, whose collections the sweep also walks; a document of theirs that merely has a numeric
 * `expiresAt` must not go.
 */
const expiredDocumentsFilter = (now: number) => ({
  expiresAt: { $lte: now },
  version: { $type: 'number' },
  body: { $type: 'string' },
  idx: { $type: 'object' },
});

export function openMongoStore(options: MongoStoreOptions): DocumentStore {
  const clock = options.clock ?? Date.now;
  const log = options.log ?? consoleWarnings;
  const { client, release } = options.connect
    ? acquireClient(options.url, false, options.connect)
    : acquireClient(options.url, options.shareClient ?? true, connect);
  const database = async (): Promise<Db> => (await client.get()).db(options.dbName);
  const indexed = new Map<string, Promise<void>>();

  const collectionOf = async (spec: AnySpec): Promise<MongoCollection<StoredDocument>> => {
    const col = (await database()).collection<StoredDocument>(spec.name);
    if (options.ensureIndexes === false) return col;
    let ready = indexed.get(spec.name);
    if (!ready) {
      ready = ensureIndexes(
        col,
        [
          { key: { expiresAt: 1 }, name: 'expiresAt' },
          ...(options.ttlIndex === false ? [] : [{ key: { purgeAt: 1 }, name: 'purgeAt_ttl', expireAfterSeconds: 0 }]),
          ...spec.indexes.map((field) => ({ key: { [fieldPath(field)]: 1 as const }, name: `idx_${field}` })),
        ],
        log,
      );
      ready.catch(() => indexed.delete(spec.name));
      indexed.set(spec.name, ready);
    }
    await ready;
    return col;
  };

  const inSession = (session: ClientSession | undefined) => (session ? { session } : {});

  const driver: DocumentDriver<ClientSession> = {
    getLive: async (spec, id, now) => (await collectionOf(spec)).findOne({ _id: id, expiresAt: { $gt: now } } as MongoFilter),
    getAny: async (spec, id, session) => (await collectionOf(spec)).findOne({ _id: id } as MongoFilter, inSession(session)),
    insert: async (spec, doc, expiresAt, session) => {
      const col = await collectionOf(spec);
      const takenOver = await col.findOneAndUpdate(
        { _id: doc._id, expiresAt: { $lte: clock() } } as MongoFilter,
        contentUpdate(doc, expiresAt),
        {
          returnDocument: 'after',
          ...inSession(session),
        },
      );
      if (takenOver) return takenOver;
      try {
        await col.insertOne(withPurgeAt(doc, expiresAt), inSession(session));
        return doc;
      } catch (error) {
        if (isDuplicateKey(error)) throw duplicateError(spec.name, doc._id);
        throw error;
      }
    },
    compareAndSet: async (spec, expectedVersion, doc, expiresAt, now, session) =>
      (await collectionOf(spec)).findOneAndUpdate(
        { _id: doc._id, version: expectedVersion, expiresAt: { $gt: now } } as MongoFilter,
        contentUpdate(doc, expiresAt),
        { returnDocument: 'after', ...inSession(session) },
      ),
    compareAndDelete: async (spec, id, expectedVersion, now, session) => {
      const filter = { _id: id, version: expectedVersion, expiresAt: { $gt: now } } as MongoFilter;
      return (await (await collectionOf(spec)).deleteOne(filter, inSession(session))).deletedCount > 0;
    },
    deleteAny: async (spec, id) => (await (await collectionOf(spec)).deleteOne({ _id: id } as MongoFilter)).deletedCount > 0,
    find: async (spec, query, now) => {
      let cursor = (await collectionOf(spec)).find(translateWhere(query.where, now));
      const sort = translateSort(query.orderBy);
      if (sort) cursor = cursor.sort(sort);
      // Never 0 here: Mongo reads limit(0) as "no limit", and the base answers a zero limit itself.
      if (query.limit !== undefined) cursor = cursor.limit(query.limit);
      return cursor.toArray();
    },
    transaction: async (specs, apply) => {
      // Indexes cannot be created inside a transaction: make sure they exist first.
      for (const spec of specs) await collectionOf(spec);
      const session = (await client.get()).startSession();
      try {
        await session.withTransaction(() => apply(session));
      } finally {
        await session.endSession();
      }
    },
    purgeExpired: async (_opened, now) => {
      const db = await database();
      let purged = 0;
      for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
        if (name.startsWith('system.')) continue;
        purged += (await db.collection(name).deleteMany(expiredDocumentsFilter(now))).deletedCount;
      }
      return purged;
    },
    close: release,
  };

  return openDocumentStore(driver, clock);
}

/**
 * MongoDB adapter (official driver, `mongodb@6`: v7 needs Node ≥ 20.19 and SCF runs Node 18).
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
import type { z } from 'zod';
import { ConflictError, DuplicateKeyError } from '../domain/errors';
import { createLogger, type Logger } from '../runtime/logger';
import { assertIndexed, decodeDocument, encodeDocument, encodeExpiry, fieldPath, isLive, type StoredDocument } from './document-codec';
import type { Clock, Collection, CollectionSpec, Condition, DocumentStore, FindQuery, Stored, Write, WriteOptions } from './port';
import { validateForWrite, writeBuilders } from './port';

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
  /** Where to report an index that could not be created as declared. Default: a JSON logger on stdout. */
  log?: Pick<Logger, 'warn'>;
}

type MongoFilter = Filter<StoredDocument>;

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

async function ensureIndexes(col: MongoCollection<StoredDocument>, indexes: IndexDescription[], log: Pick<Logger, 'warn'>): Promise<void> {
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
  const log = options.log ?? createLogger();
  const { client, release } = options.connect
    ? acquireClient(options.url, false, options.connect)
    : acquireClient(options.url, options.shareClient ?? true, connect);
  const database = async (): Promise<Db> => (await client.get()).db(options.dbName);
  const specs = new Map<string, CollectionSpec<z.ZodType, string>>();
  const indexed = new Map<string, Promise<void>>();

  const specOf = (name: string) => {
    const spec = specs.get(name);
    if (!spec) throw new Error(`collection ${name} was not opened on this store`);
    return spec;
  };

  const collectionOf = async (name: string): Promise<MongoCollection<StoredDocument>> => {
    const col = (await database()).collection<StoredDocument>(name);
    if (options.ensureIndexes === false) return col;
    let ready = indexed.get(name);
    if (!ready) {
      const spec = specOf(name);
      ready = ensureIndexes(
        col,
        [
          { key: { expiresAt: 1 }, name: 'expiresAt' },
          ...(options.ttlIndex === false ? [] : [{ key: { purgeAt: 1 }, name: 'purgeAt_ttl', expireAfterSeconds: 0 }]),
          ...spec.indexes.map((field) => ({ key: { [fieldPath(field)]: 1 as const }, name: `idx_${field}` })),
        ],
        log,
      );
      ready.catch(() => indexed.delete(name));
      indexed.set(name, ready);
    }
    await ready;
    return col;
  };

  const applyInsert = async (
    name: string,
    id: string,
    validated: unknown,
    expiresAt: number | null,
    session?: ClientSession,
  ): Promise<StoredDocument> => {
    const col = await collectionOf(name);
    const doc = encodeDocument(specOf(name), id, 1, validated, expiresAt);
    const takenOver = await col.findOneAndUpdate({ _id: id, expiresAt: { $lte: clock() } } as MongoFilter, contentUpdate(doc, expiresAt), {
      returnDocument: 'after',
      ...(session ? { session } : {}),
    });
    if (takenOver) return takenOver;
    try {
      await col.insertOne(withPurgeAt(doc, expiresAt), session ? { session } : {});
      return doc;
    } catch (error) {
      if (isDuplicateKey(error)) throw new DuplicateKeyError(`${name} ${id} already exists`, { details: { collection: name, id } });
      throw error;
    }
  };

  const applyUpdate = async (
    name: string,
    id: string,
    expectedVersion: number,
    validated: unknown,
    expiresAt: number | null | undefined,
    session?: ClientSession,
  ): Promise<StoredDocument> => {
    const col = await collectionOf(name);
    const doc = encodeDocument(specOf(name), id, expectedVersion + 1, validated, expiresAt);
    const updated = await col.findOneAndUpdate(
      { _id: id, version: expectedVersion, expiresAt: { $gt: clock() } } as MongoFilter,
      contentUpdate(doc, expiresAt),
      { returnDocument: 'after', ...(session ? { session } : {}) },
    );
    if (!updated) {
      throw new ConflictError(`${name} ${id} is no longer at version ${expectedVersion}`, {
        details: { collection: name, id, expectedVersion },
      });
    }
    return updated;
  };

  const applyDelete = async (name: string, id: string, expectedVersion: number | undefined, session?: ClientSession): Promise<boolean> => {
    const col = await collectionOf(name);
    const opts = session ? { session } : {};
    if (expectedVersion === undefined) return (await col.deleteOne({ _id: id } as MongoFilter, opts)).deletedCount > 0;
    const now = clock();
    const { deletedCount } = await col.deleteOne({ _id: id, version: expectedVersion, expiresAt: { $gt: now } } as MongoFilter, opts);
    if (deletedCount > 0) return true;
    const current = await col.findOne({ _id: id } as MongoFilter, opts);
    if (current && isLive(current, now)) {
      throw new ConflictError(`${name} ${id} is no longer at version ${expectedVersion}`, {
        details: { collection: name, id, expectedVersion },
      });
    }
    return false;
  };

  const collection = <S extends z.ZodType, F extends string>(spec: CollectionSpec<S, F>): Collection<z.output<S>, F> => {
    type T = z.output<S>;
    specs.set(spec.name, spec);
    const name = spec.name;
    const read = (raw: unknown) => decodeDocument<T>(spec, raw);

    return {
      name,
      get: async (id) => {
        const col = await collectionOf(name);
        const raw = await col.findOne({ _id: id, expiresAt: { $gt: clock() } } as MongoFilter);
        return raw ? read(raw) : null;
      },
      insert: async (id, data, options: WriteOptions = {}) =>
        read(await applyInsert(name, id, validateForWrite(spec, id, data), options.expiresAt ?? null)),
      update: async (id, expectedVersion, data, options: WriteOptions = {}) =>
        read(await applyUpdate(name, id, expectedVersion, validateForWrite(spec, id, data), options.expiresAt)),
      delete: async (id, expectedVersion) => applyDelete(name, id, expectedVersion),
      find: async (query: FindQuery<F> = {}): Promise<Stored<T>[]> => {
        for (const field of Object.keys(query.where ?? {})) assertIndexed(spec, field);
        if (query.orderBy) assertIndexed(spec, query.orderBy.field);
        // Mongo reads limit(0) as "no limit".
        if (query.limit !== undefined && Math.floor(query.limit) <= 0) return [];
        const col = await collectionOf(name);
        let cursor = col.find(translateWhere(query.where, clock()));
        const sort = translateSort(query.orderBy);
        if (sort) cursor = cursor.sort(sort);
        if (query.limit !== undefined) cursor = cursor.limit(Math.floor(query.limit));
        return (await cursor.toArray()).map(read);
      },
      ...writeBuilders<T>(spec),
    };
  };

  const commit = async (writes: readonly Write[]): Promise<void> => {
    for (const write of writes) specOf(write.collection);
    // Indexes cannot be created inside a transaction: make sure they exist first.
    for (const name of new Set(writes.map((w) => w.collection))) await collectionOf(name);
    const session = (await client.get()).startSession();
    try {
      await session.withTransaction(async () => {
        for (const write of writes) {
          if (write.op === 'insert') await applyInsert(write.collection, write.id, write.data, write.expiresAt ?? null, session);
          else if (write.op === 'update') {
            await applyUpdate(write.collection, write.id, write.expectedVersion, write.data, write.expiresAt, session);
          } else if (!(await applyDelete(write.collection, write.id, write.expectedVersion, session))) {
            throw new ConflictError(`${write.collection} ${write.id} no longer exists`, {
              details: { collection: write.collection, id: write.id },
            });
          }
        }
      });
    } finally {
      await session.endSession();
    }
  };

  return {
    collection,
    commit,
    purgeExpired: async () => {
      const db = await database();
      const now = clock();
      let purged = 0;
      for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
        if (name.startsWith('system.')) continue;
        purged += (await db.collection(name).deleteMany(expiredDocumentsFilter(now))).deletedCount;
      }
      return purged;
    },
    close: release,
  };
}

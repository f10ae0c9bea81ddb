/**
 * CloudBase (TCB) document database adapter, on `@cloudbase/node-sdk`: the driver calls under `document-base.ts`.
 *
 * Documents use the layout of `document-codec.ts`. Mapping of the port:
 * - compare-and-set: `where({ _id, version: expected, expiresAt: _.gt(now) }).update({ version: expected + 1, … })`
 *   and `updated === 1`; anything else is a `ConflictError`.
 * - insert-if-absent: `add({ _id, version: 1, insertToken, … })`; when it fails, the stored document decides: the
 *   one this call wrote (its token; the add landed but its answer was lost) → success, another live one → a
 *   `DuplicateKeyError` (CloudBase answers DATABASE_DUPLICATE_WRITE), expired → taken over by a
 *   compare-and-set on its version (bumped, so a stale holder cannot write the new document). A lost race there
 *   is retried by the one retry rule (`retry.ts`); an add that failed with nothing stored is a failed request, sent
 *   again where it failed (three tries), never passed off as a race.
 * - find: ordered by the caller's field (if any) then `_id`, and paged by key (`pageAfter`), not by `skip`.
 * - expiry: reads filter `expiresAt > now`; CloudBase has no TTL index, so `purgeExpired` (the `maintenance`
 *   timer) removes `expiresAt <= now` with `where(...).remove()` in every collection of the catalog.
 * - batches: `db.runTransaction`, with single-document reads and `set`/`remove` in it (the only operations
 *   CloudBase transactions allow); a throw rolls the transaction back, write conflicts are retried by the SDK
 *   (three times) and then reported as a `ConflictError`.
 * - collections: created on first use if missing (CloudBase refuses writes to a missing collection), and recorded
 *   in the `wxaCollections` catalog that `purgeExpired` and `infra/cloudbase/setup.ts` read. The setup script
 *   creates the collections and their indexes ahead of time.
 *
 * Inside SCF the SDK signs requests with the function role's temporary keys (TENCENTCLOUD_SECRETID/…);
 * elsewhere pass `secretId`/`secretKey`.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError, ConflictError } from '../domain/errors';
import { type AnySpec, conflictError, type DocumentDriver, duplicateError, openDocumentStore } from './document-base';
import { encodeExpiry, fieldPath, isLive, type StoredDocument } from './document-codec';
import type { Clock, Condition, DocumentStore, Scalar } from './port';
import { backoffMs, ConflictRetriesExhaustedError, pause, type RetryPolicy, retryOnConflict } from './retry';

// ---------------------------------------------------------------------------------------------------------
// The slice of @cloudbase/node-sdk's database API used here (its own typings are `any` throughout).

/** A query or update command built by `db.command` (`_`); opaque to the adapter. */
export interface TcbCommandValue {
  and(...others: TcbCommandValue[]): TcbCommandValue;
}

export interface TcbCommand {
  gt(value: unknown): TcbCommandValue;
  gte(value: unknown): TcbCommandValue;
  lt(value: unknown): TcbCommandValue;
  lte(value: unknown): TcbCommandValue;
  in(values: unknown[]): TcbCommandValue;
  set(value: unknown): TcbCommandValue;
  /** Logic commands over whole filters; `where` accepts what they return. */
  and(filters: TcbFilter[]): TcbFilter;
  or(filters: TcbFilter[]): TcbFilter;
}

export type TcbFilter = Record<string, unknown>;

export interface TcbQuery {
  where(filter: TcbFilter): TcbQuery;
  orderBy(field: string, direction: 'asc' | 'desc'): TcbQuery;
  limit(n: number): TcbQuery;
  skip(n: number): TcbQuery;
  get(): Promise<{ data?: unknown[]; code?: string; message?: string }>;
  update(data: Record<string, unknown>): Promise<{ updated?: number; code?: string; message?: string }>;
  remove(): Promise<{ deleted?: number | string; code?: string; message?: string }>;
}

export interface TcbDocumentRef {
  /** Outside a transaction `data` is an array of 0..1 documents; inside one, the document or null. */
  get(): Promise<{ data?: unknown; code?: string; message?: string }>;
  set(data: Record<string, unknown>): Promise<{ updated?: number; code?: string; message?: string }>;
  update(data: Record<string, unknown>): Promise<{ updated?: number; code?: string; message?: string }>;
  remove(): Promise<{ deleted?: number | string; code?: string; message?: string }>;
}

export interface TcbCollection extends TcbQuery {
  doc(id: string): TcbDocumentRef;
  add(data: Record<string, unknown>): Promise<{ id?: string; code?: string; message?: string }>;
}

export interface TcbTransaction {
  collection(name: string): { doc(id: string): TcbDocumentRef };
}

export interface TcbDatabase {
  command: TcbCommand;
  collection(name: string): TcbCollection;
  runTransaction<R>(callback: (transaction: TcbTransaction) => Promise<R>, times?: number): Promise<R>;
  createCollection(name: string): Promise<unknown>;
}

export interface CloudbaseStoreOptions {
  envId: string;
  /** The environment's region (TCB_REGION); without it the SDK uses TENCENTCLOUD_REGION, the function's own. */
  region?: string;
  clock?: Clock;
  secretId?: string;
  secretKey?: string;
  /** Prepended to every collection name (tests isolate themselves with it). */
  prefix?: string;
  /** An already-initialised database (tests; or a caller that shares one SDK app). */
  database?: TcbDatabase;
}

/** The catalog of collections this adapter or the setup script created (CloudBase's node SDK cannot list them). */
export const CATALOG_COLLECTION = 'wxaCollections';

/** CloudBase returns at most 1000 documents per `get()` (100 without a limit). */
export const PAGE_SIZE = 1000;

/**
 * Three tries, the second at once, the third after up to 50 ms: an add that keeps failing with nothing stored is an
 * outage, not a race, and fails with its own error.
 */
const ADD_RETRY_POLICY: RetryPolicy = { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 };

export class CloudbaseRequestError extends Error {
  override readonly name = 'CloudbaseRequestError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

const codeOf = (error: unknown): string => {
  if (!error || typeof error !== 'object') return '';
  const record = error as Record<string, unknown>;
  return String(record.code ?? record.errCode ?? '');
};
const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String((error as { message?: unknown })?.message ?? '');

export const isCollectionMissing = (error: unknown): boolean =>
  /DATABASE_COLLECTION_NOT_EXIST|-502005/.test(codeOf(error)) ||
  /COLLECTION_NOT_EXIST|collection not exist|Db or Table not exist/i.test(messageOf(error));
const isCollectionPresent = (error: unknown): boolean =>
  /ALREADY_EXIST|ResourceExist|-501001/i.test(codeOf(error)) || /already exist|Table exist|ResourceExist|-501001/i.test(messageOf(error));
/** What `runTransaction` throws once its own retries of a write conflict are used up. */
const isTransactionConflict = (error: unknown): boolean => codeOf(error) === 'DATABASE_TRANSACTION_CONFLICT';

/** A stored document as this adapter writes it: `insertToken` tells an insert its own document from another's. */
type CloudbaseDocument = StoredDocument & { insertToken?: string };

/** With `throwOnCode` off (or in a few SDK paths) failures come back as `{ code, message }`: make them throw. */
function ok<R extends { code?: string; message?: string }>(result: R): R {
  if (result && typeof result === 'object' && typeof result.code === 'string' && result.code !== '') {
    throw new CloudbaseRequestError(result.code, result.message ?? '');
  }
  return result;
}

/** Port condition → CloudBase `where` object on `idx.<field>` (unit-tested against the real SDK serializer). */
export function translateWhere(_: TcbCommand, where: Partial<Record<string, Condition>> | undefined, now: number): TcbFilter | null {
  const filter: TcbFilter = { expiresAt: _.gt(now) };
  for (const [field, condition] of Object.entries(where ?? {})) {
    if (condition === undefined) continue;
    const path = fieldPath(field);
    if (condition === null || typeof condition !== 'object') filter[path] = condition;
    else if ('in' in condition) {
      // Nothing can match an empty list; skip the request.
      if (condition.in.length === 0) return null;
      filter[path] = _.in([...condition.in]);
    } else {
      const commands: TcbCommandValue[] = [];
      if (condition.lt !== undefined) commands.push(_.lt(condition.lt));
      if (condition.lte !== undefined) commands.push(_.lte(condition.lte));
      if (condition.gt !== undefined) commands.push(_.gt(condition.gt));
      if (condition.gte !== undefined) commands.push(_.gte(condition.gte));
      const [first, ...rest] = commands;
      if (first) filter[path] = rest.length ? first.and(...rest) : first;
    }
  }
  return filter;
}

/** The order CloudBase (like MongoDB) sorts values of different types in: null, numbers, strings, booleans. */
const TYPE_ORDER = ['null', 'number', 'string', 'boolean'] as const;
type ScalarType = (typeof TYPE_ORDER)[number];
const typeOf = (value: Scalar): ScalarType => (value === null ? 'null' : (typeof value as Exclude<ScalarType, 'null'>));

/** A condition every value of one type meets (range operators only ever match values of their own type). */
function anyOf(_: TcbCommand, type: ScalarType): unknown {
  if (type === 'null') return null;
  if (type === 'number') return _.gte(-Number.MAX_VALUE);
  if (type === 'string') return _.gte('');
  return _.in([false, true]);
}

/**
 * The documents after `last` in the order `(path, _id)`, both in `direction`: how `find` asks for its next page.
 * Unlike `skip`, a key does not shift when documents before it are written or deleted between two pages, so none
 * is skipped or read twice. Values of the types that sort after `last.value`'s (before, descending) are added as
 * branches of their own, since `gt`/`lt` never cross types.
 */
function pageAfter(_: TcbCommand, path: string, direction: 'asc' | 'desc', last: { id: string; value: Scalar }): TcbFilter {
  const after = (value: unknown) => (direction === 'asc' ? _.gt(value) : _.lt(value));
  if (path === '_id') return { _id: after(last.id) };
  const branches: TcbFilter[] = [{ [path]: last.value, _id: after(last.id) }];
  if (last.value !== null) branches.push({ [path]: after(last.value) });
  const rank = TYPE_ORDER.indexOf(typeOf(last.value));
  for (const type of direction === 'asc' ? TYPE_ORDER.slice(rank + 1) : TYPE_ORDER.slice(0, rank)) {
    branches.push({ [path]: anyOf(_, type) });
  }
  return _.or(branches);
}

/** The fields written on insert / compare-and-set, with `body` and `idx` replaced whole (`_.set`). */
export function writeFields(_: TcbCommand, doc: StoredDocument, expiresAt: number | null | undefined): Record<string, unknown> {
  return {
    version: doc.version,
    body: doc.body,
    idx: _.set(doc.idx),
    ...(expiresAt === undefined ? {} : { expiresAt: encodeExpiry(expiresAt) }),
  };
}

const asDocument = (raw: unknown): CloudbaseDocument | null => {
  const doc = Array.isArray(raw) ? raw[0] : raw;
  return doc && typeof doc === 'object' ? (doc as CloudbaseDocument) : null;
};

/**
 * The SDK checks its credentials in a promise nobody awaits (an unhandled rejection, which ends a Node 18 process)
 * and then sends the request unsigned. So the adapter checks first, and a function deployed without a role fails
 * its store calls with a configuration error that says what to do, instead of its instance dying.
 */
export function assertCloudbaseCredentials(
  options: Pick<CloudbaseStoreOptions, 'secretId' | 'secretKey'>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (options.secretId && options.secretKey) return;
  if (env.TENCENTCLOUD_SECRETID && env.TENCENTCLOUD_SECRETKEY) return; // SCF sets them from the function's role
  if (env.CLOUDBASE_APIKEY) return;
  throw new ConfigError(
    'CloudBase needs credentials: give the function a role with CloudBase database access (SCF then sets TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY and TENCENTCLOUD_SESSIONTOKEN), or set those variables',
    { field: 'TENCENTCLOUD_SECRETID' },
  );
}

async function initDatabase(options: CloudbaseStoreOptions): Promise<TcbDatabase> {
  assertCloudbaseCredentials(options);
  // `require`, not `import()`: the function bundles are CommonJS and require the SDK shipped next to them
  // (scripts/build.ts). Through `import()` Node sees the bundled SDK's CommonJS exports as `default` only, so
  // `init` was undefined and every cloud function failed at its first store call ("t is not a function").
  const { init } = require('@cloudbase/node-sdk') as typeof import('@cloudbase/node-sdk');
  const app = init({
    env: options.envId,
    ...(options.region ? { region: options.region } : {}),
    ...(options.secretId && options.secretKey ? { secretId: options.secretId, secretKey: options.secretKey } : {}),
  });
  return app.database() as unknown as TcbDatabase;
}

export function openCloudbaseStore(options: CloudbaseStoreOptions): DocumentStore {
  const clock = options.clock ?? Date.now;
  const prefix = options.prefix ?? '';
  const database = options.database ? Promise.resolve(options.database) : initDatabase(options);
  // Failing to initialise is reported by every store call that awaits `database`; until one does, it is not unhandled.
  database.catch(() => undefined);

  /** Runs `operation`; if the collection does not exist yet, creates it (and records it) and runs it again. */
  const withCollection = async <R>(spec: AnySpec, operation: (db: TcbDatabase) => Promise<R>): Promise<R> => {
    const db = await database;
    try {
      return await operation(db);
    } catch (error) {
      if (!isCollectionMissing(error)) throw error;
      await createCollection(db, spec);
      return operation(db);
    }
  };

  const createCollection = async (db: TcbDatabase, spec: AnySpec) => {
    for (const target of [prefix + spec.name, prefix + CATALOG_COLLECTION]) {
      try {
        const result = await db.createCollection(target);
        if (result && typeof result === 'object') ok(result as { code?: string; message?: string });
      } catch (error) {
        if (!isCollectionPresent(error)) throw error;
      }
    }
    try {
      ok(await db.collection(prefix + CATALOG_COLLECTION).add({ _id: spec.name, indexes: [...spec.indexes] }));
    } catch {
      // Already recorded (DATABASE_DUPLICATE_WRITE): the catalog is append-only.
    }
  };

  const col = (db: TcbDatabase, name: string) => db.collection(prefix + name);
  /** Inside a transaction CloudBase allows only single-document get/set/remove: reads decide, `set` writes. */
  const txDoc = (tx: TcbTransaction, name: string, id: string) => tx.collection(prefix + name).doc(id);
  const readInTx = async (tx: TcbTransaction, name: string, id: string) => asDocument(ok(await txDoc(tx, name, id).get()).data);
  const setInTx = async (tx: TcbTransaction, name: string, doc: StoredDocument) => {
    const { _id, ...fields } = doc;
    ok(await txDoc(tx, name, _id).set(fields));
    return doc;
  };

  /** The stored document whatever its expiry (or null), for the paths that must tell "expired" from "absent". */
  const readRaw = async (db: TcbDatabase, name: string, id: string): Promise<CloudbaseDocument | null> =>
    asDocument(ok(await col(db, name).doc(id).get()).data);

  /**
   * Insert outside a batch. An add that timed out may still have landed: the same body and version are not proof
   * that it did (another caller may insert the very same document), the token is.
   * Two kinds of failure, each retried where it happens: a failed add request (a timeout, a reset: nothing stored)
   * is sent again by `addOrFindStored`, at most ADD_RETRY_POLICY.attempts times, then fails with its own error; a
   * takeover of an expired document that loses its compare-and-set is a lost race, retried by the one retry rule.
   */
  const addOrTakeOver = (db: TcbDatabase, spec: AnySpec, doc: StoredDocument, expiresAt: number | null) => {
    const _ = db.command;
    const { name } = spec;
    const id = doc._id;
    const insertToken = randomUUID();
    const isOwn = (stored: CloudbaseDocument) =>
      stored.insertToken === insertToken && stored.version === 1 && stored.body === doc.body && stored.expiresAt === doc.expiresAt;
    /** Null when the add landed; else what is stored under the id (ours if only the add's answer was lost). */
    const addOrFindStored = async (): Promise<CloudbaseDocument | null> => {
      for (let tries = 1; ; tries++) {
        try {
          ok(await col(db, name).add({ ...doc, insertToken }));
          return null;
        } catch (error) {
          if (isCollectionMissing(error)) throw error;
          const stored = await readRaw(db, name, id);
          if (stored) return stored;
          // Nothing stored, yet the add failed: the request failed, not a race. Send it again, or give up with its error.
          if (tries >= ADD_RETRY_POLICY.attempts) throw error;
          await pause(backoffMs(ADD_RETRY_POLICY, tries));
        }
      }
    };
    const attempt = async (): Promise<StoredDocument | 'duplicate'> => {
      const existing = await addOrFindStored();
      if (!existing || isOwn(existing)) return doc;
      if (isLive(existing, clock())) return 'duplicate';
      const next = { ...doc, version: existing.version + 1 };
      const { updated } = ok(
        await col(db, name)
          .where({ _id: id, version: existing.version, expiresAt: _.lte(clock()) })
          .update(writeFields(_, next, expiresAt)),
      );
      if (updated !== 1) throw conflictError(name, id, existing.version);
      return next;
    };
    return retryOnConflict(`insert ${name}/${id}`, attempt).then(
      (stored) => {
        if (stored === 'duplicate') throw duplicateError(name, id);
        return stored;
      },
      (error: unknown) => {
        // A takeover lost every time means another inserter holds the id.
        if (error instanceof ConflictRetriesExhaustedError) throw duplicateError(name, id);
        throw error;
      },
    );
  };

  const driver: DocumentDriver<TcbTransaction> = {
    getLive: (spec, id, now) =>
      withCollection(spec, async (db) =>
        asDocument(
          ok(
            await col(db, spec.name)
              .where({ _id: id, expiresAt: db.command.gt(now) })
              .limit(1)
              .get(),
          ).data,
        ),
      ),
    getAny: (spec, id, tx) => (tx ? readInTx(tx, spec.name, id) : withCollection(spec, (db) => readRaw(db, spec.name, id))),
    insert: async (spec, doc, expiresAt, tx) => {
      if (!tx) return withCollection(spec, (db) => addOrTakeOver(db, spec, doc, expiresAt));
      const current = await readInTx(tx, spec.name, doc._id);
      if (current && isLive(current, clock())) throw duplicateError(spec.name, doc._id);
      return setInTx(tx, spec.name, { ...doc, version: current ? current.version + 1 : 1 });
    },
    compareAndSet: async (spec, expectedVersion, doc, expiresAt, now, tx) => {
      const id = doc._id;
      if (tx) {
        const current = await readInTx(tx, spec.name, id);
        if (!current || !isLive(current, now) || current.version !== expectedVersion) return null;
        return setInTx(tx, spec.name, expiresAt === undefined ? { ...doc, expiresAt: current.expiresAt } : doc);
      }
      return withCollection(spec, async (db) => {
        const _ = db.command;
        const filter: TcbFilter = { _id: id, version: expectedVersion, expiresAt: _.gt(now) };
        let kept = doc;
        if (expiresAt === undefined) {
          // The result must report the expiry it kept: read it, and pin it in the compare-and-set.
          const current = await readRaw(db, spec.name, id);
          if (!current || current.version !== expectedVersion || !isLive(current, now)) return null;
          kept = { ...doc, expiresAt: current.expiresAt };
          filter.expiresAt = current.expiresAt;
        }
        const { updated } = ok(
          await col(db, spec.name)
            .where(filter)
            .update(writeFields(_, kept, expiresAt)),
        );
        return updated === 1 ? kept : null;
      });
    },
    compareAndDelete: async (spec, id, expectedVersion, now, tx) => {
      if (tx) {
        const current = await readInTx(tx, spec.name, id);
        if (!current || !isLive(current, now) || current.version !== expectedVersion) return false;
        ok(await txDoc(tx, spec.name, id).remove());
        return true;
      }
      return withCollection(spec, async (db) => {
        const { deleted } = ok(
          await col(db, spec.name)
            .where({ _id: id, version: expectedVersion, expiresAt: db.command.gt(now) })
            .remove(),
        );
        return Number(deleted ?? 0) > 0;
      });
    },
    deleteAny: (spec, id) => withCollection(spec, async (db) => Number(ok(await col(db, spec.name).doc(id).remove()).deleted ?? 0) > 0),
    find: (spec, query, now) =>
      withCollection(spec, async (db) => {
        const _ = db.command;
        const filter = translateWhere(_, query.where, now);
        if (!filter) return [];
        const wanted = query.limit ?? Infinity;
        // Always a total order (ties by `_id`, like SQLite's `ORDER BY field, id`), so that pages can follow keys.
        const field = query.orderBy && query.orderBy.field !== 'id' ? query.orderBy.field : undefined;
        const path = field === undefined ? '_id' : fieldPath(field);
        const direction = query.orderBy?.direction === 'desc' ? 'desc' : 'asc';
        const found: CloudbaseDocument[] = [];
        let last: { id: string; value: Scalar } | undefined;
        while (found.length < wanted) {
          let q = col(db, spec.name)
            .where(last ? _.and([filter, pageAfter(_, path, direction, last)]) : filter)
            .orderBy(path, direction);
          if (path !== '_id') q = q.orderBy('_id', direction);
          const page = (ok(await q.limit(Math.min(PAGE_SIZE, wanted - found.length)).get()).data ?? []) as CloudbaseDocument[];
          // Only an empty page ends the listing: a short one need not (the server may cut a page short).
          const tail = page[page.length - 1];
          if (!tail) break;
          found.push(...page);
          last = { id: tail._id, value: field === undefined ? tail._id : (tail.idx?.[field] ?? null) };
        }
        return found;
      }),
    transaction: async (specs, apply) => {
      const db = await database;
      const lostRace = (error: unknown) =>
        isTransactionConflict(error)
          ? new ConflictError('a concurrent write kept conflicting with this batch; nothing was written', { cause: error })
          : error;
      try {
        await db.runTransaction(apply);
      } catch (error) {
        if (!isCollectionMissing(error)) throw lostRace(error);
        for (const spec of specs) await createCollection(db, spec);
        await db.runTransaction(apply).catch((retryError: unknown) => {
          throw lostRace(retryError);
        });
      }
    },
    purgeExpired: async (opened, now) => {
      const db = await database;
      const names = new Set(opened.map((spec) => spec.name));
      try {
        const catalog =
          ok(
            await db
              .collection(prefix + CATALOG_COLLECTION)
              .limit(PAGE_SIZE)
              .get(),
          ).data ?? [];
        for (const entry of catalog) {
          const id = (entry as { _id?: unknown })._id;
          if (typeof id === 'string') names.add(id);
        }
      } catch (error) {
        if (!isCollectionMissing(error)) throw error;
      }
      let purged = 0;
      for (const name of names) {
        try {
          purged += Number(
            ok(
              await col(db, name)
                .where({ expiresAt: db.command.lte(now) })
                .remove(),
            ).deleted ?? 0,
          );
        } catch (error) {
          if (!isCollectionMissing(error)) throw error;
        }
      }
      return purged;
    },
    // The SDK keeps no connection to close (HTTP requests with keep-alive agents).
    close: async () => undefined,
  };

  return openDocumentStore(driver, clock);
}

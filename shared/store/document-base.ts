/**
 * What the document-database adapters (CloudBase, MongoDB) share, as Powertools' `BasePersistenceLayer` does for
 * its stores: the port's collections (write validation, encoding, reading back, indexed-field checks), the version
 * and expiry rules, and the write-batch bookkeeping. An adapter supplies only its driver calls (`DocumentDriver`).
 * The lost-race errors are built here too, so that every adapter (SQLite included) words them alike.
 */

import { ConflictError, DuplicateKeyError } from '../domain/errors';
import type * as z from '../domain/zod';
import { assertIndexed, decodeDocument, decodeExpiry, encodeDocument, isLive, type StoredDocument, writtenBack } from './document-codec';
import {
  type Clock,
  type Collection,
  type CollectionSpec,
  type Condition,
  type DocumentStore,
  dataForBatch,
  type FindQuery,
  type Stored,
  validateForWrite,
  type Write,
  type WriteOptions,
  writeBuilders,
} from './port';

export type AnySpec = CollectionSpec<z.ZodMiniType, string>;

export const conflictError = (collection: string, id: string, expectedVersion: number): ConflictError =>
  new ConflictError(`${collection} ${id} is no longer at version ${expectedVersion}`, { details: { collection, id, expectedVersion } });

export const duplicateError = (collection: string, id: string): DuplicateKeyError =>
  new DuplicateKeyError(`${collection} ${id} already exists`, { details: { collection, id } });

/** A batch deletes a document that is gone (or expired) since it was read. */
export const vanishedError = (collection: string, id: string): ConflictError =>
  new ConflictError(`${collection} ${id} no longer exists`, { details: { collection, id } });

/** `find` as the driver receives it: fields checked against the indexes, `limit` a whole number > 0 or absent. */
export interface DriverQuery {
  readonly where: Partial<Record<string, Condition>> | undefined;
  readonly orderBy: FindQuery<string>['orderBy'];
  readonly limit: number | undefined;
}

/**
 * The driver calls of one database. `Tx` is its transaction handle: the write calls receive it inside `commit`
 * (undefined outside), so one batch applies the same rules as single writes.
 */
export interface DocumentDriver<Tx> {
  /** The live document (`expiresAt > now`) with this id, as the database returns it, or null. */
  getLive(spec: AnySpec, id: string, now: number): Promise<unknown>;
  /** The stored document whatever its expiry, or null: tells "expired" from "absent". */
  getAny(spec: AnySpec, id: string, tx: Tx | undefined): Promise<{ readonly version: number; readonly expiresAt: number } | null>;
  /**
   * Stores `doc` (version 1) unless a live document has its id (then a `DuplicateKeyError`). An expired one is
   * taken over with its version bumped, so that a stale holder cannot compare-and-set the new document.
   */
  insert(spec: AnySpec, doc: StoredDocument, expiresAt: number | null, tx: Tx | undefined): Promise<StoredDocument>;
  /**
   * Compare-and-set: replaces the live document at `expectedVersion` with `doc` (already at the next version);
   * `expiresAt` undefined keeps the stored expiry. Null when no document matched.
   */
  compareAndSet(
    spec: AnySpec,
    expectedVersion: number,
    doc: StoredDocument,
    expiresAt: number | null | undefined,
    now: number,
    tx: Tx | undefined,
  ): Promise<StoredDocument | null>;
  /** Deletes the live document at `expectedVersion`; false when none matched. */
  compareAndDelete(spec: AnySpec, id: string, expectedVersion: number, now: number, tx: Tx | undefined): Promise<boolean>;
  /** Deletes whatever is stored under `id`; false when nothing was. */
  deleteAny(spec: AnySpec, id: string): Promise<boolean>;
  /** The live documents matching, in a total order (the field, then `_id`), as the database returns them. */
  find(spec: AnySpec, query: DriverQuery, now: number): Promise<unknown[]>;
  /** Runs `apply` in one transaction: every write or none. */
  transaction(specs: readonly AnySpec[], apply: (tx: Tx) => Promise<void>): Promise<void>;
  purgeExpired(opened: readonly AnySpec[], now: number): Promise<number>;
  close(): Promise<void>;
}

/** The port's `DocumentStore` over a driver: everything that is not a database call. */
export function openDocumentStore<Tx>(driver: DocumentDriver<Tx>, clock: Clock): DocumentStore {
  const specs = new Map<string, AnySpec>();
  const specOf = (name: string): AnySpec => {
    const spec = specs.get(name);
    if (!spec) throw new Error(`collection ${name} was not opened on this store`);
    return spec;
  };

  const insert = (spec: AnySpec, id: string, validated: unknown, expiresAt: number | null, tx?: Tx) =>
    driver.insert(spec, encodeDocument(spec, id, 1, validated, expiresAt), expiresAt, tx);

  const update = async (
    spec: AnySpec,
    id: string,
    expectedVersion: number,
    validated: unknown,
    expiresAt: number | null | undefined,
    tx?: Tx,
  ): Promise<StoredDocument> => {
    const doc = encodeDocument(spec, id, expectedVersion + 1, validated, expiresAt);
    const stored = await driver.compareAndSet(spec, expectedVersion, doc, expiresAt, clock(), tx);
    if (!stored) throw conflictError(spec.name, id, expectedVersion);
    return stored;
  };

  /**
   * A single write's result, from the document the driver reports written: its body is the text this write
   * encoded from validated data (the adapters return it, or the database's copy of it), so it is not validated again.
   */
  const writtenBy = <T>(stored: StoredDocument): Stored<T> =>
    writtenBack<T>(stored._id, stored.version, decodeExpiry(stored.expiresAt), stored.body);

  /** A compare-and-delete that matched nothing is a lost race if a live document is there, else "already gone". */
  const deleteAt = async (spec: AnySpec, id: string, expectedVersion: number, tx?: Tx): Promise<boolean> => {
    const now = clock();
    if (await driver.compareAndDelete(spec, id, expectedVersion, now, tx)) return true;
    const current = await driver.getAny(spec, id, tx);
    if (current && isLive(current, now)) throw conflictError(spec.name, id, expectedVersion);
    return false;
  };

  const applyInBatch = async (write: Write, tx: Tx): Promise<void> => {
    const spec = specOf(write.collection);
    if (write.op === 'insert') await insert(spec, write.id, dataForBatch(spec, write), write.expiresAt ?? null, tx);
    else if (write.op === 'update') await update(spec, write.id, write.expectedVersion, dataForBatch(spec, write), write.expiresAt, tx);
    // In a batch the delete was decided on a read: a document gone since then is a lost race too.
    else if (!(await deleteAt(spec, write.id, write.expectedVersion, tx))) throw vanishedError(write.collection, write.id);
  };

  const collection = <S extends z.ZodMiniType, F extends string>(spec: CollectionSpec<S, F>): Collection<z.output<S>, F> => {
    type T = z.output<S>;
    specs.set(spec.name, spec);
    const read = (raw: unknown) => decodeDocument<T>(spec, raw);
    return {
      name: spec.name,
      get: async (id) => {
        const raw = await driver.getLive(spec, id, clock());
        return raw ? read(raw) : null;
      },
      insert: async (id, data, options: WriteOptions = {}) =>
        writtenBy<T>(await insert(spec, id, validateForWrite(spec, id, data), options.expiresAt ?? null)),
      update: async (id, expectedVersion, data, options: WriteOptions = {}) =>
        writtenBy<T>(await update(spec, id, expectedVersion, validateForWrite(spec, id, data), options.expiresAt)),
      delete: async (id, expectedVersion) =>
        expectedVersion === undefined ? driver.deleteAny(spec, id) : deleteAt(spec, id, expectedVersion),
      find: async (query: FindQuery<F> = {}): Promise<Stored<T>[]> => {
        for (const field of Object.keys(query.where ?? {})) assertIndexed(spec, field);
        if (query.orderBy) assertIndexed(spec, query.orderBy.field);
        const limit = query.limit === undefined ? undefined : Math.max(0, Math.floor(query.limit));
        if (limit === 0) return [];
        return (await driver.find(spec, { where: query.where, orderBy: query.orderBy, limit }, clock())).map(read);
      },
      ...writeBuilders<T>(spec),
    };
  };

  return {
    collection,
    commit: async (writes) => {
      const touched = [...new Set(writes.map((write) => specOf(write.collection)))];
      await driver.transaction(touched, async (tx) => {
        for (const write of writes) await applyInBatch(write, tx);
      });
    },
    purgeExpired: () => driver.purgeExpired([...specs.values()], clock()),
    close: () => driver.close(),
  };
}

/**
 * The document-store port. Each database has one adapter (`sqlite.ts`, `cloudbase.ts`, `mongodb.ts`; the last two
 * over `document-base.ts`) and every adapter must pass `store.contract.ts`.
 *
 * Design choices, so the cloud document databases can implement it faithfully:
 * - Every document has an `id` and a `version`; every write that depends on a read is a compare-and-set on the
 *   version (`update`, `delete` with a version). A lost race is a `ConflictError`, never a silent overwrite.
 * - Multi-document atomicity is a *write batch* (`commit`): all writes apply or none do. It takes no callback,
 *   so no lock is held across an `await` (which on SQLite would stall every other connection) and it maps onto
 *   CloudBase and MongoDB transactions directly. Reads happen before; the versions in the batch make it safe.
 * - Documents may expire (`expiresAt`, epoch ms). Expired documents are invisible at once, even before a
 *   sweep (`purgeExpired`) deletes them, because cloud TTL monitors run late.
 * - Documents are validated with their collection's zod schema when read back.
 */

import { CorruptDocumentError } from '../domain/errors';
import type * as z from '../domain/zod';

export type Scalar = string | number | boolean | null;

export interface CollectionSpec<S extends z.ZodMiniType, F extends string> {
  readonly name: string;
  /** Usually a `z.lazy`: a function opens every collection it might use, and only the ones a request reads need building. */
  readonly schema: S;
  /** The top-level fields `find` may filter and order by. Adapters index them. */
  readonly indexes: readonly F[];
}

export const defineCollection = <S extends z.ZodMiniType, const F extends string = never>(spec: {
  name: string;
  schema: S;
  indexes?: readonly F[];
}): CollectionSpec<S, F> => {
  if (!/^[a-zA-Z][a-zA-Z0-9]*$/.test(spec.name)) throw new Error(`collection name ${spec.name} must be alphanumeric`);
  for (const field of spec.indexes ?? []) {
    if (!/^[a-zA-Z][a-zA-Z0-9]*$/.test(field)) throw new Error(`indexed field ${field} must be a top-level name`);
  }
  return { name: spec.name, schema: spec.schema, indexes: spec.indexes ?? [] };
};

export interface Stored<T> {
  readonly id: string;
  readonly version: number;
  /** Epoch ms after which the document no longer exists; null = forever. */
  readonly expiresAt: number | null;
  readonly data: T;
}

export type Condition = Scalar | { in: readonly Scalar[] } | { lt?: Scalar; lte?: Scalar; gt?: Scalar; gte?: Scalar };

export interface FindQuery<F extends string> {
  where?: Partial<Record<F, Condition>>;
  orderBy?: { field: F | 'id'; direction?: 'asc' | 'desc' };
  limit?: number;
}

export interface WriteOptions {
  expiresAt?: number | null;
}

export type Write =
  | { op: 'insert'; collection: string; id: string; data: unknown; expiresAt?: number | null }
  | { op: 'update'; collection: string; id: string; expectedVersion: number; data: unknown; expiresAt?: number | null }
  | { op: 'delete'; collection: string; id: string; expectedVersion: number };

export interface Collection<T, F extends string> {
  readonly name: string;
  get(id: string): Promise<Stored<T> | null>;
  /** Fails with `DuplicateKeyError` if a live document with this id exists (an expired one is replaced). */
  insert(id: string, data: T, options?: WriteOptions): Promise<Stored<T>>;
  /** Compare-and-set: applies only if the stored version equals `expectedVersion`, else `ConflictError`. */
  update(id: string, expectedVersion: number, data: T, options?: WriteOptions): Promise<Stored<T>>;
  /** With a version: compare-and-delete (`ConflictError` on mismatch). Returns false if nothing was there. */
  delete(id: string, expectedVersion?: number): Promise<boolean>;
  find(query?: FindQuery<F>): Promise<Stored<T>[]>;
  /** Builders for `DocumentStore.commit`; they validate `data` now so a bad batch fails before any write. */
  insertWrite(id: string, data: T, options?: WriteOptions): Write;
  updateWrite(id: string, expectedVersion: number, data: T, options?: WriteOptions): Write;
  deleteWrite(id: string, expectedVersion: number): Write;
}

export interface DocumentStore {
  collection<S extends z.ZodMiniType, F extends string>(spec: CollectionSpec<S, F>): Collection<z.output<S>, F>;
  /** Applies every write or none. The first failing write's error (ConflictError, DuplicateKeyError…) is thrown. */
  commit(writes: readonly Write[]): Promise<void>;
  /** Deletes documents whose `expiresAt` has passed; returns how many. Safe to call from many instances. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

export type Clock = () => number;

/** The logging the store needs (an adapter's warnings); the runtime passes its own logger, which fits. */
export interface StoreLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Writing a document that would not read back is a bug in the caller: refuse it before touching the file. */
export const validateForWrite = (spec: CollectionSpec<z.ZodMiniType, string>, id: string, data: unknown): unknown => {
  const parsed = spec.schema.safeParse(data);
  if (!parsed.success) {
    throw new CorruptDocumentError(`refusing to write an invalid ${spec.name} document ${id}`, { cause: parsed.error });
  }
  return parsed.data;
};

/**
 * The writes the builders below made, whose `data` is already the schema's output: `commit` does not validate
 * them a second time. A batch may also hold writes built by hand (`Write` is a plain type); those are validated
 * by `commit` as a single write would be.
 */
const builtWrites = new WeakSet<Write>();
const built = (write: Write): Write => {
  builtWrites.add(write);
  return write;
};

/** The data a batch write stores: validated once, by its builder, or now if the write was built by hand. */
export const dataForBatch = (spec: CollectionSpec<z.ZodMiniType, string>, write: Extract<Write, { op: 'insert' | 'update' }>): unknown =>
  builtWrites.has(write) ? write.data : validateForWrite(spec, write.id, write.data);

/**
 * The three write builders every adapter's collections offer for `commit`: validated now, so a bad batch fails
 * before any write. Adapters spread this into their collection objects.
 */
export function writeBuilders<T>(
  spec: CollectionSpec<z.ZodMiniType, string>,
): Pick<Collection<T, string>, 'insertWrite' | 'updateWrite' | 'deleteWrite'> {
  return {
    insertWrite: (id, data, options: WriteOptions = {}) =>
      built({
        op: 'insert',
        collection: spec.name,
        id,
        data: validateForWrite(spec, id, data),
        expiresAt: options.expiresAt ?? null,
      }),
    updateWrite: (id, expectedVersion, data, options: WriteOptions = {}) =>
      built({
        op: 'update',
        collection: spec.name,
        id,
        expectedVersion,
        data: validateForWrite(spec, id, data),
        ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
      }),
    deleteWrite: (id, expectedVersion) => ({ op: 'delete', collection: spec.name, id, expectedVersion }),
  };
}

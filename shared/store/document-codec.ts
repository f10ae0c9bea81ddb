/**
 * How the document databases (CloudBase, MongoDB) store a port document:
 *
 *   { _id, version, expiresAt, body: '<JSON of data>', idx: { <declared index field>: <scalar> } }
 *
 * - `body` is the document as JSON text, like SQLite's `body` column: data round-trips exactly, whatever keys it
 *   has (`$`-prefixed or dotted keys are refused or ambiguous as field names in both databases), and a write
 *   replaces it whole (CloudBase's `update` merges nested objects field by field).
 * - `idx` copies only the fields `find` may filter and order by, so the databases index `idx.<field>`.
 * - `expiresAt` is always a number: "never" is stored as `NEVER`, so "live" is one range condition
 *   (`expiresAt > now`) instead of an OR with null, whose null semantics differ between the two databases.
 */

import { CorruptDocumentError } from '../domain/errors';
import type * as z from '../domain/zod';
import type { CollectionSpec, Scalar, Stored } from './port';

/** The largest epoch-ms a JavaScript Date can hold: stored for "never expires". */
export const NEVER = 8_640_000_000_000_000;

export interface StoredDocument {
  _id: string;
  version: number;
  expiresAt: number;
  body: string;
  idx: Record<string, Scalar>;
}

export const encodeExpiry = (expiresAt: number | null | undefined): number =>
  expiresAt === null || expiresAt === undefined ? NEVER : expiresAt;
export const decodeExpiry = (stored: number): number | null => (stored >= NEVER ? null : stored);

/** Copies the declared index fields; a missing field is null (as SQLite's json_extract sees it). */
export function indexValues(spec: CollectionSpec<z.ZodMiniType, string>, data: unknown): Record<string, Scalar> {
  const source = data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  const idx: Record<string, Scalar> = {};
  for (const field of spec.indexes) {
    const value = source[field];
    if (value === undefined || value === null) idx[field] = null;
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') idx[field] = value;
    // Filtering on a non-scalar is not part of the port; keep something comparable rather than fail the write.
    else idx[field] = JSON.stringify(value);
  }
  return idx;
}

export function encodeDocument(
  spec: CollectionSpec<z.ZodMiniType, string>,
  id: string,
  version: number,
  validatedData: unknown,
  expiresAt: number | null | undefined,
): StoredDocument {
  return {
    _id: id,
    version,
    expiresAt: encodeExpiry(expiresAt),
    body: JSON.stringify(validatedData),
    idx: indexValues(spec, validatedData),
  };
}

/** A stored body read back: JSON, validated with the collection's schema, as every read returns it. */
export function decodeBody<T>(spec: CollectionSpec<z.ZodMiniType, string>, id: string, body: string): T {
  let parsedJson: unknown;
  try {
    parsedJson = JSON.parse(body);
  } catch (cause) {
    throw new CorruptDocumentError(`${spec.name} document ${id} is not JSON`, { cause });
  }
  const parsed = spec.schema.safeParse(parsedJson);
  if (!parsed.success) {
    throw new CorruptDocumentError(`${spec.name} document ${id} does not match its schema`, { cause: parsed.error });
  }
  return parsed.data as T;
}

/**
 * What a write returns: the body it just validated and stored, as JSON gives it back (the same value a `get`
 * would return), parsed from the text it wrote and not validated a second time.
 */
export const writtenBack = <T>(id: string, version: number, expiresAt: number | null, body: string): Stored<T> => ({
  id,
  version,
  expiresAt,
  data: JSON.parse(body) as T,
});

/** Reads a raw database document back into the port's shape, validating it with the collection's schema. */
export function decodeDocument<T>(spec: CollectionSpec<z.ZodMiniType, string>, raw: unknown): Stored<T> {
  const doc = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const id = typeof doc._id === 'string' ? doc._id : String(doc._id ?? '?');
  if (typeof doc.version !== 'number' || typeof doc.expiresAt !== 'number' || typeof doc.body !== 'string') {
    throw new CorruptDocumentError(`${spec.name} document ${id} is not a wxa-deploy document`, {
      details: { collection: spec.name, id },
    });
  }
  return { id, version: doc.version, expiresAt: decodeExpiry(doc.expiresAt), data: decodeBody<T>(spec, id, doc.body) };
}

export const isLive = (doc: { expiresAt: number }, now: number): boolean => doc.expiresAt > now;

/** The database field a port field filters and orders on. */
export const fieldPath = (field: string): string => (field === 'id' ? '_id' : `idx.${field}`);

export function assertIndexed(spec: CollectionSpec<z.ZodMiniType, string>, field: string): void {
  if (field !== 'id' && !spec.indexes.includes(field)) throw new Error(`${spec.name}.${field} is not an indexed field`);
}

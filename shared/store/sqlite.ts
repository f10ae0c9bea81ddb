/**
 * SQLite adapter (better-sqlite3): the embedded default for local runs and tests. One file, WAL journal.
 *
 * Each collection is a table `(id, version, expires_at, body JSON)` with an expression index per declared field,
 * created (if missing) by the connection's first operation on that collection rather than when it is opened: a
 * function opens every collection its services might use, and a request touches a few.
 * better-sqlite3 is synchronous, so every operation — including a whole `commit` batch — runs to completion
 * before the event loop turns: no lock is ever held across an `await`, and connections in one process cannot
 * deadlock each other. Other processes wait on SQLite's busy timeout.
 */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type * as z from '../domain/zod';
import { conflictError, duplicateError, vanishedError } from './document-base';
import { assertIndexed, decodeBody, writtenBack } from './document-codec';
import type { Clock, Collection, CollectionSpec, Condition, DocumentStore, FindQuery, Scalar, Stored, Write, WriteOptions } from './port';
import { dataForBatch, validateForWrite, writeBuilders } from './port';

interface Row {
  id: string;
  version: number;
  expires_at: number | null;
  body: string;
}

/** What a write's RETURNING gives back: the body is the one the write just bound, so it need not come back. */
type WrittenRow = Omit<Row, 'body'>;

/** The statements of one collection's single-document operations, prepared once per connection. */
interface CollectionStatements {
  select: Database.Statement;
  insert: Database.Statement;
  update: Database.Statement;
  deleteAny: Database.Statement;
  deleteAt: Database.Statement;
}

export interface SqliteStoreOptions {
  /** File path, or ':memory:' (a private database per connection). */
  path: string;
  clock?: Clock;
  /** How long a write waits for another process's lock before failing. */
  busyTimeoutMs?: number;
}

const tableOf = (collection: string) => `c_${collection}`;
const fieldExpr = (field: string) => (field === 'id' ? 'id' : `json_extract(body, '$.${field}')`);
const LIVE = '(expires_at IS NULL OR expires_at > @now)';

/** SQLite binds no booleans; JSON booleans come back from json_extract as 1/0, so compare against those. */
const bindable = (value: Scalar): string | number | null => (typeof value === 'boolean' ? (value ? 1 : 0) : value);

export function openSqliteStore(options: SqliteStoreOptions): DocumentStore {
  const clock = options.clock ?? Date.now;
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // with WAL: durable across process crashes, not necessarily power loss
  const schemas = new Map<string, CollectionSpec<z.ZodMiniType, string>>();
  /** Collections whose table and indexes this connection has made sure of. */
  const tablesEnsured = new Set<string>();
  const statements = new Map<string, Database.Statement>();

  const prepare = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const specOf = (collection: string) => {
    const spec = schemas.get(collection);
    if (!spec) throw new Error(`collection ${collection} was not opened on this store`);
    return spec;
  };

  /**
   * The table of an opened collection, created with its indexes if missing. `commit` makes sure of its tables
   * before its transaction begins: a rolled-back batch would take a table it created with it, while this
   * connection remembered the table as made.
   */
  const tableFor = (collection: string): string => {
    const table = tableOf(collection);
    if (tablesEnsured.has(collection)) return table;
    const spec = specOf(collection);
    db.exec(`CREATE TABLE IF NOT EXISTS "${table}" (
      id TEXT PRIMARY KEY, version INTEGER NOT NULL, expires_at INTEGER, body TEXT NOT NULL CHECK (json_valid(body)))`);
    db.exec(`CREATE INDEX IF NOT EXISTS "${table}__expires" ON "${table}"(expires_at) WHERE expires_at IS NOT NULL`);
    for (const field of spec.indexes) {
      db.exec(`CREATE INDEX IF NOT EXISTS "${table}__${field}" ON "${table}"(${fieldExpr(field)})`);
    }
    tablesEnsured.add(collection);
    return table;
  };

  /**
   * Each collection's statements, prepared at its first use (after its table is made sure of): an operation then
   * neither builds its SQL text nor looks it up.
   */
  const collectionStatements = new Map<string, CollectionStatements>();
  const statementsOf = (collection: string): CollectionStatements => {
    let prepared = collectionStatements.get(collection);
    if (prepared) return prepared;
    const table = tableFor(collection);
    prepared = {
      select: db.prepare(`SELECT id, version, expires_at, body FROM "${table}" WHERE id = @id AND ${LIVE}`),
      // An expired document with the same id is replaced, and its version carried forward so a writer still
      // holding the old version can never compare-and-set the new document by accident.
      insert: db.prepare(
        `INSERT INTO "${table}" (id, version, expires_at, body) VALUES (@id, 1, @expiresAt, @body)
         ON CONFLICT(id) DO UPDATE SET version = version + 1, expires_at = excluded.expires_at, body = excluded.body
         WHERE expires_at IS NOT NULL AND expires_at <= @now
         RETURNING id, version, expires_at`,
      ),
      update: db.prepare(
        `UPDATE "${table}"
         SET version = version + 1, body = @body, expires_at = CASE WHEN @keepExpiry THEN expires_at ELSE @expiresAt END
         WHERE id = @id AND version = @expectedVersion AND ${LIVE}
         RETURNING id, version, expires_at`,
      ),
      deleteAny: db.prepare(`DELETE FROM "${table}" WHERE id = @id`),
      deleteAt: db.prepare(`DELETE FROM "${table}" WHERE id = @id AND version = @expectedVersion AND ${LIVE}`),
    };
    collectionStatements.set(collection, prepared);
    return prepared;
  };

  const readBack = <T>(collection: string, row: Row): Stored<T> => ({
    id: row.id,
    version: row.version,
    expiresAt: row.expires_at,
    data: decodeBody<T>(specOf(collection), row.id, row.body),
  });

  const selectRow = (collection: string, id: string): Row | undefined =>
    statementsOf(collection).select.get({ id, now: clock() }) as Row | undefined;

  // The raw write operations, synchronous so that `commit` can run them inside one SQLite transaction.
  const applyInsert = (collection: string, id: string, body: string, expiresAt: number | null): WrittenRow => {
    const row = statementsOf(collection).insert.get({ id, body, expiresAt, now: clock() }) as WrittenRow | undefined;
    if (!row) throw duplicateError(collection, id);
    return row;
  };

  const applyUpdate = (
    collection: string,
    id: string,
    expectedVersion: number,
    body: string,
    expiresAt: number | null | undefined,
  ): WrittenRow => {
    const row = statementsOf(collection).update.get({
      id,
      body,
      expectedVersion,
      keepExpiry: expiresAt === undefined ? 1 : 0,
      expiresAt: expiresAt ?? null,
      now: clock(),
    }) as WrittenRow | undefined;
    if (!row) throw conflictError(collection, id, expectedVersion);
    return row;
  };

  const applyDelete = (collection: string, id: string, expectedVersion: number | undefined): boolean => {
    const statements = statementsOf(collection);
    if (expectedVersion === undefined) return statements.deleteAny.run({ id }).changes > 0;
    const deleted = statements.deleteAt.run({
      id,
      expectedVersion,
      now: clock(),
    }).changes;
    if (deleted > 0) return true;
    if (selectRow(collection, id)) throw conflictError(collection, id, expectedVersion);
    return false;
  };

  const runBatch = db.transaction((writes: readonly Write[]) => {
    for (const write of writes) {
      if (write.op === 'insert') {
        applyInsert(write.collection, write.id, JSON.stringify(dataForBatch(specOf(write.collection), write)), write.expiresAt ?? null);
      } else if (write.op === 'update') {
        const body = JSON.stringify(dataForBatch(specOf(write.collection), write));
        applyUpdate(write.collection, write.id, write.expectedVersion, body, write.expiresAt);
      } else if (!applyDelete(write.collection, write.id, write.expectedVersion)) {
        throw vanishedError(write.collection, write.id);
      }
    }
  });

  const buildWhere = (where: Partial<Record<string, Condition>> | undefined, params: Record<string, unknown>): string[] => {
    const clauses = [LIVE];
    let n = 0;
    for (const [field, condition] of Object.entries(where ?? {})) {
      if (condition === undefined) continue;
      const expr = fieldExpr(field);
      const param = () => `p${n++}`;
      if (condition === null || typeof condition !== 'object') {
        const p = param();
        params[p] = bindable(condition);
        clauses.push(condition === null ? `${expr} IS NULL` : `${expr} = @${p}`);
      } else if ('in' in condition) {
        // `IN (NULL)` is never true in SQL; MongoDB and CloudBase let a null in the list match a null field.
        const names = condition.in
          .filter((value) => value !== null)
          .map((value) => {
            const p = param();
            params[p] = bindable(value);
            return `@${p}`;
          });
        const matches = names.length === 0 ? [] : [`${expr} IN (${names.join(', ')})`];
        if (condition.in.includes(null)) matches.push(`${expr} IS NULL`);
        clauses.push(matches.length === 0 ? '0' : `(${matches.join(' OR ')})`);
      } else {
        for (const [op, sql] of [
          ['lt', '<'],
          ['lte', '<='],
          ['gt', '>'],
          ['gte', '>='],
        ] as const) {
          const value = condition[op];
          if (value === undefined) continue;
          const p = param();
          params[p] = bindable(value);
          clauses.push(`${expr} ${sql} @${p}`);
        }
      }
    }
    return clauses;
  };

  const collection = <S extends z.ZodMiniType, F extends string>(spec: CollectionSpec<S, F>): Collection<z.output<S>, F> => {
    type T = z.output<S>;
    // The first opening of a name decides its schema and indexes for this connection.
    if (!schemas.has(spec.name)) schemas.set(spec.name, spec);
    const name = spec.name;
    const decided = specOf(name);

    return {
      name,
      get: async (id) => {
        const row = selectRow(name, id);
        return row ? readBack<T>(name, row) : null;
      },
      insert: async (id, data, options: WriteOptions = {}) => {
        const body = JSON.stringify(validateForWrite(decided, id, data));
        const row = applyInsert(name, id, body, options.expiresAt ?? null);
        return writtenBack<T>(row.id, row.version, row.expires_at, body);
      },
      update: async (id, expectedVersion, data, options: WriteOptions = {}) => {
        const body = JSON.stringify(validateForWrite(decided, id, data));
        const row = applyUpdate(name, id, expectedVersion, body, options.expiresAt);
        return writtenBack<T>(row.id, row.version, row.expires_at, body);
      },
      delete: async (id, expectedVersion) => applyDelete(name, id, expectedVersion),
      find: async (query: FindQuery<F> = {}) => {
        const params: Record<string, unknown> = { now: clock() };
        for (const field of Object.keys(query.where ?? {})) assertIndexed(decided, field);
        const clauses = buildWhere(query.where, params);
        let sql = `SELECT id, version, expires_at, body FROM "${tableFor(name)}" WHERE ${clauses.join(' AND ')}`;
        if (query.orderBy) {
          assertIndexed(decided, query.orderBy.field);
          const direction = query.orderBy.direction === 'desc' ? 'DESC' : 'ASC';
          sql += ` ORDER BY ${fieldExpr(query.orderBy.field)} ${direction}, id ${direction}`;
        }
        if (query.limit !== undefined) {
          params.limit = Math.max(0, Math.floor(query.limit));
          sql += ' LIMIT @limit';
        }
        return (prepare(sql).all(params) as Row[]).map((row) => readBack<T>(name, row));
      },
      ...writeBuilders<T>(spec),
    };
  };

  return {
    collection,
    commit: async (writes) => {
      for (const write of writes) tableFor(write.collection);
      runBatch.immediate(writes);
    },
    purgeExpired: async () => {
      const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c\\_%' ESCAPE '\\'`).all() as {
        name: string;
      }[];
      let purged = 0;
      const now = clock();
      for (const { name } of tables) {
        purged += db.prepare(`DELETE FROM "${name}" WHERE expires_at IS NOT NULL AND expires_at <= ?`).run(now).changes;
      }
      return purged;
    },
    close: async () => {
      if (db.open) db.close();
    },
  };
}

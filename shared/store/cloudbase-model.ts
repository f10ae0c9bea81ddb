/**
 * TEST SUPPORT: an in-memory model of the CloudBase database *server*, plugged in under the real
 * `@cloudbase/node-sdk` by replacing its request transport (`send(api, params)`). The SDK still builds and
 * serialises every query, update and transaction; only the answers come from here.
 *
 * It models what the adapter relies on, as the SDK source and CloudBase's documentation describe it: Extended-JSON
 * queries with dotted paths, $and/$or, $gt/$gte/$lt/$lte/$in/$eq/$ne; `$set`/`$inc`/`$unset` updates (`merge`) and
 * whole-document `set` (upsert); DATABASE_DUPLICATE_WRITE on an existing `_id`; DATABASE_COLLECTION_NOT_EXIST;
 * orderBy/offset/limit (max 1000); transactions whose writes apply at commit and vanish on abort. It is a model,
 * not CloudBase: passing against it shows the adapter is consistent with that reading of the API, nothing more.
 */
import { BSON } from 'mongodb';
import type { TcbDatabase } from './cloudbase';

type Doc = Record<string, unknown>;
type Params = Record<string, unknown>;

const { EJSON } = BSON;

const parse = (text: unknown): unknown => (typeof text === 'string' ? EJSON.parse(text, { relaxed: true }) : text);

function get(doc: Doc, path: string): unknown {
  let current: unknown = doc;
  for (const key of path.split('.')) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Doc)[key];
  }
  return current;
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const keys = path.split('.');
  let current = doc;
  for (const key of keys.slice(0, -1)) {
    if (!current[key] || typeof current[key] !== 'object') current[key] = {};
    current = current[key] as Doc;
  }
  current[keys[keys.length - 1] ?? ''] = value;
}

function unsetPath(doc: Doc, path: string): void {
  const keys = path.split('.');
  const parent = keys.length > 1 ? get(doc, keys.slice(0, -1).join('.')) : doc;
  if (parent && typeof parent === 'object') delete (parent as Doc)[keys[keys.length - 1] ?? ''];
}

const equal = (a: unknown, b: unknown): boolean =>
  (a === null || a === undefined) && (b === null || b === undefined) ? true : JSON.stringify(a) === JSON.stringify(b);

function compare(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return null;
}

function matchCondition(value: unknown, condition: unknown): boolean {
  if (condition && typeof condition === 'object' && !Array.isArray(condition) && Object.keys(condition).every((k) => k.startsWith('$'))) {
    return Object.entries(condition as Doc).every(([op, operand]) => {
      const order = compare(value, operand);
      switch (op) {
        case '$eq':
          return equal(value, operand);
        case '$ne':
          return !equal(value, operand);
        case '$gt':
          return order !== null && order > 0;
        case '$gte':
          return order !== null && order >= 0;
        case '$lt':
          return order !== null && order < 0;
        case '$lte':
          return order !== null && order <= 0;
        case '$in':
          return Array.isArray(operand) && operand.some((o) => equal(value, o));
        default:
          throw new Error(`model: unsupported operator ${op}`);
      }
    });
  }
  return equal(value, condition);
}

function matches(doc: Doc, query: unknown): boolean {
  if (!query || typeof query !== 'object') return true;
  return Object.entries(query as Doc).every(([key, condition]) => {
    if (key === '$and') return (condition as unknown[]).every((q) => matches(doc, q));
    if (key === '$or') return (condition as unknown[]).some((q) => matches(doc, q));
    return matchCondition(get(doc, key), condition);
  });
}

function sortKey(a: unknown, b: unknown): number {
  // Like MongoDB: null/missing first, then numbers, then strings, then booleans.
  const rank = (v: unknown) => (v === null || v === undefined ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3);
  return rank(a) - rank(b) || (compare(a, b) ?? 0);
}

interface Transaction {
  writes: Map<string, Map<string, Doc | null>>;
}

export class CloudbaseModel {
  readonly collections = new Map<string, Map<string, Doc>>();
  private readonly transactions = new Map<string, Transaction>();
  private nextTransaction = 1;
  readonly requests: string[] = [];

  /** Routes every request of the SDK (all of its `Db.reqClass` instances) here; returns the undo. */
  install(db: TcbDatabase): () => void {
    const probe = db.collection('probe') as unknown as { _request: object };
    const proto = Object.getPrototypeOf(probe._request) as { send: (api: string, params: Params) => Promise<unknown> };
    const original = proto.send;
    proto.send = async (api: string, params: Params) => {
      // A real server answers asynchronously: let racing requests interleave.
      await new Promise((resolve) => setImmediate(resolve));
      return this.handle(api, params ?? {});
    };
    return () => {
      proto.send = original;
    };
  }

  private view(name: string, transactionId: unknown): Map<string, Doc> | null {
    const base = this.collections.get(name);
    if (!base) return null;
    const tx = typeof transactionId === 'string' ? this.transactions.get(transactionId) : undefined;
    const overlay = tx?.writes.get(name);
    if (!overlay) return base;
    const merged = new Map(base);
    for (const [id, doc] of overlay) {
      if (doc) merged.set(id, doc);
      else merged.delete(id);
    }
    return merged;
  }

  private write(name: string, transactionId: unknown, id: string, doc: Doc | null) {
    const tx = typeof transactionId === 'string' ? this.transactions.get(transactionId) : undefined;
    if (tx) {
      const overlay = tx.writes.get(name) ?? new Map<string, Doc | null>();
      overlay.set(id, doc);
      tx.writes.set(name, overlay);
      return;
    }
    const collection = this.collections.get(name);
    if (!collection) throw new Error('unreachable');
    if (doc) collection.set(id, doc);
    else collection.delete(id);
  }

  private select(params: Params): Doc[] | { code: string; message: string } {
    const name = String(params.collectionName);
    const docs = this.view(name, params.transactionId);
    if (!docs) return { code: 'DATABASE_COLLECTION_NOT_EXIST', message: `collection ${name} not exists` };
    const query = parse(params.query);
    return [...docs.values()].filter((doc) => matches(doc, query));
  }

  handle(api: string, params: Params): unknown {
    this.requests.push(api);
    const name = String(params.collectionName ?? '');
    switch (api) {
      case 'database.addCollection':
        if (this.collections.has(name)) return { code: 'DATABASE_COLLECTION_ALREADY_EXIST', message: 'exists' };
        this.collections.set(name, new Map());
        return { requestId: 'r' };
      case 'database.startTransaction': {
        const id = `tx-${this.nextTransaction++}`;
        this.transactions.set(id, { writes: new Map() });
        return { transactionId: id, requestId: 'r' };
      }
      case 'database.commitTransaction': {
        const tx = this.transactions.get(String(params.transactionId));
        this.transactions.delete(String(params.transactionId));
        for (const [collection, writes] of tx?.writes ?? []) {
          for (const [id, doc] of writes) {
            if (doc) this.collections.get(collection)?.set(id, doc);
            else this.collections.get(collection)?.delete(id);
          }
        }
        return { requestId: 'r' };
      }
      case 'database.abortTransaction':
        this.transactions.delete(String(params.transactionId));
        return { requestId: 'r' };
      case 'database.insertDocument': {
        const docs = this.view(name, params.transactionId);
        if (!docs) return { code: 'DATABASE_COLLECTION_NOT_EXIST', message: `collection ${name} not exists` };
        const ids: string[] = [];
        for (const item of params.data as string[]) {
          const doc = parse(item) as Doc;
          const id = String(doc._id ?? `auto-${Math.random().toString(36).slice(2)}`);
          if (docs.has(id)) return { code: 'DATABASE_DUPLICATE_WRITE', message: `E11000 duplicate key _id ${id}` };
          this.write(name, params.transactionId, id, { ...doc, _id: id });
          ids.push(id);
        }
        return { data: { insertedIds: ids }, requestId: 'r' };
      }
      case 'database.getDocument': {
        const found = this.select(params);
        if (!Array.isArray(found)) return found;
        const order = parse(params.order) as Record<string, number> | undefined;
        if (order) {
          found.sort((a, b) => {
            for (const [field, direction] of Object.entries(order)) {
              const c = sortKey(get(a, field), get(b, field)) * (direction < 0 ? -1 : 1);
              if (c !== 0) return c;
            }
            return 0;
          });
        }
        const offset = Number(params.offset ?? 0);
        const limit = Math.min(Number(params.limit ?? 100), 1000);
        const page = found.slice(offset, offset + limit);
        return { data: { list: page.map((doc) => EJSON.stringify(doc)) }, requestId: 'r' };
      }
      case 'database.modifyDocument': {
        const found = this.select(params);
        if (!Array.isArray(found)) return found;
        const targets = params.multi === false ? found.slice(0, 1) : found;
        const data = parse(params.data) as Doc;
        if (params.merge === false) {
          // `doc(id).set(...)`: replace, or insert with the query's _id.
          const id = String((parse(params.query) as Doc)._id);
          this.write(name, params.transactionId, id, { ...data, _id: id });
          return { data: { updated: targets.length, upsert_id: targets.length ? undefined : id }, requestId: 'r' };
        }
        for (const target of targets) {
          const next = structuredClone(target);
          for (const [op, fields] of Object.entries(data)) {
            for (const [path, value] of Object.entries(fields as Doc)) {
              if (op === '$set') setPath(next, path, value);
              else if (op === '$inc') setPath(next, path, Number(get(next, path) ?? 0) + Number(value));
              else if (op === '$unset') unsetPath(next, path);
              else throw new Error(`model: unsupported update ${op}`);
            }
          }
          this.write(name, params.transactionId, String(target._id), next);
        }
        return { data: { updated: targets.length }, requestId: 'r' };
      }
      case 'database.removeDocument': {
        const found = this.select(params);
        if (!Array.isArray(found)) return found;
        const targets = params.multi === false ? found.slice(0, 1) : found;
        for (const target of targets) this.write(name, params.transactionId, String(target._id), null);
        return { data: { deleted: targets.length }, requestId: 'r' };
      }
      default:
        throw new Error(`model: unsupported request ${api}`);
    }
  }
}

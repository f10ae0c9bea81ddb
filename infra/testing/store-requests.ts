/**
 * Store requests counted where each adapter call becomes one: at better-sqlite3's statements (every `get`/`all`/
 * `run` of a SELECT is a read request, of an INSERT/UPDATE/DELETE a write; rows returned by reads are counted too).
 * A get, an insert, a compare-and-set update and a find are one database request each on CloudBase too. Used by
 * bench/cost.ts (the bill of a deployment) and by the tests that keep a deployment's path from reading twice.
 */
import Database from 'better-sqlite3';

export interface StoreRequests {
  reads: number;
  rowsRead: number;
  writes: number;
  /** Per collection (`c_<name>` tables); `(other)` for the adapter's own statements. */
  byTable: Map<string, { reads: number; writes: number }>;
}

type Listener = (request: { kind: 'read' | 'write'; table: string }) => void;

const COUNTED = Symbol.for('wxa-deploy.store-requests');
interface Counted {
  [COUNTED]?: { counts: StoreRequests; listeners: Set<Listener> };
}

const empty = (): StoreRequests => ({ reads: 0, rowsRead: 0, writes: 0, byTable: new Map() });

/**
 * Starts counting (once per statement prototype: a second call shares the first one's counters) and answers the
 * counters, a reset and a listener for every request (bench/cost.ts's `--trace`).
 */
export function countStoreRequests(): {
  counts: () => StoreRequests;
  reset: () => void;
  onRequest: (listener: Listener) => void;
  tables: () => Record<string, { reads: number; writes: number }>;
} {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<'get' | 'all' | 'run', (...args: unknown[]) => unknown> &
    Counted;
  probe.close();
  if (!proto[COUNTED]) {
    const state = { counts: empty(), listeners: new Set<Listener>() };
    proto[COUNTED] = state;
    for (const method of ['get', 'all', 'run'] as const) {
      const original = proto[method];
      proto[method] = function (this: { source: string }, ...args: unknown[]) {
        const result = original.apply(this, args);
        const kind = /^\s*(SELECT|WITH)\b/i.test(this.source) ? 'read' : /^\s*(INSERT|UPDATE|DELETE)\b/i.test(this.source) ? 'write' : null;
        if (kind) {
          const { counts } = state;
          const table = /"c_(\w+)"/.exec(this.source)?.[1] ?? '(other)';
          const entry = counts.byTable.get(table) ?? { reads: 0, writes: 0 };
          if (kind === 'read') {
            counts.reads++;
            entry.reads++;
            counts.rowsRead += method === 'all' ? (result as unknown[]).length : result === undefined ? 0 : 1;
          } else {
            counts.writes++;
            entry.writes++;
          }
          counts.byTable.set(table, entry);
          for (const listener of state.listeners) listener({ kind, table });
        }
        return result;
      };
    }
  }
  const state = proto[COUNTED];
  return {
    counts: () => state.counts,
    reset: () => {
      state.counts = empty();
    },
    onRequest: (listener) => {
      state.listeners.add(listener);
    },
    tables: () => Object.fromEntries(state.counts.byTable),
  };
}

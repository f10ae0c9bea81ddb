/**
 * Store: the SQLite adapter (`shared/store/sqlite.ts`) against raw better-sqlite3 prepared statements, operation by
 * operation, for what a push and a poll do to the store:
 *
 * - `get` of a live inbox entry by id (a push's "handled before?" lookup; the token and mini program reads too);
 * - `insert` of an inbox entry with an expiry (the one write before `success`);
 * - `update` with a version (compare-and-set) of an inbox entry;
 * - `find` by index: the poller's due query (`state = 'auditing' AND nextPollAt <= now ORDER BY nextPollAt LIMIT 16`)
 *   over 2,000 audit documents of which 1,000 are auditing;
 * - a `commit` batch of two writes (an audit updated at its version + an inbox entry inserted) in one transaction.
 *
 * Same data, same durability: both sides work on a file of their own, seeded identically by the adapter (so the
 * tables and indexes are the adapter's), WAL with synchronous=NORMAL as the adapter sets it. The raw side uses the
 * same SQL as the adapter, prepared once, and does what any caller of raw statements must: `JSON.stringify` the
 * document it writes, `JSON.parse` the rows it reads. What the adapter adds on top is the figure: the promise of
 * the port, validating every document written and read back with its zod schema, the statement lookup, the
 * expiry and conflict rules' bookkeeping. Target (issue 17): within 1.3× of the raw statements.
 *
 * Method: `--rounds` interleaved rounds (ours, raw, ours, raw …) of ≥ `--round-ms` of this process's CPU time (user +
 * system: with synchronous=NORMAL a commit does not wait on the disk, so CPU time is the work, and other processes
 * on a shared machine do not stretch it as they stretch wall time) per operation after a warm-up; the figure is
 * the median round's rate per CPU-second. Both sides are checked to read the same documents before timing.
 *
 * `npx tsx bench/store.ts [--rounds 7] [--round-ms 300]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as z from '../shared/domain/zod';
import { type DocumentStore, defineCollection } from '../shared/store/port';
import { openSqliteStore } from '../shared/store/sqlite';
import { INBOX_RETENTION_MS, type InboxEntry, inboxCollection } from '../shared/wechat/inbox';
import { type BenchResult, type BenchRow, fmt, main, median, numberArg, ratio } from './support';

const SEEDED_INBOX = 2_000;
const AUDITS = 2_000;
const DUE_LIMIT = 16;
const TARGET = 1.3;

/** Shaped like the fields the poller filters and orders deployments by, with a body of a deployment's size. */
const auditsCollection = defineCollection({
  name: 'benchAudits',
  schema: z.lazy(() =>
    z.object({
      accountId: z.string(),
      appId: z.string(),
      miniProgramAppid: z.string(),
      state: z.enum(['building', 'auditing', 'approved', 'rejected']),
      nextPollAt: z.nullable(z.number()),
      createdAt: z.number(),
      auditId: z.nullable(z.number()),
      attempts: z.number().check(z.int()),
      history: z.array(z.object({ at: z.number(), state: z.string(), note: z.nullable(z.string()) })),
    }),
  ),
  indexes: ['accountId', 'miniProgramAppid', 'state', 'nextPollAt', 'createdAt'],
});
type Audit = z.output<typeof auditsCollection.schema>;

const inboxEntry = (i: number, now: number): InboxEntry => ({
  source: 'component',
  type: 'weapp_audit_success',
  appId: `wx${String(i).padStart(16, '0')}`,
  createTime: Math.floor(now / 1000),
  receivedAt: now,
  status: 'processed',
  processedAt: now,
  outcome: 'deployment dep_0001 approved',
});

const audit = (i: number, now: number): Audit => ({
  accountId: `acc_${i % 50}`,
  appId: `app_${i}`,
  miniProgramAppid: `wx${String(i).padStart(16, '0')}`,
  state: i % 2 === 0 ? 'auditing' : 'approved',
  nextPollAt: i % 2 === 0 ? now - 60_000 + (i % 997) : null,
  createdAt: now - i * 1000,
  auditId: 400_000_000 + i,
  attempts: i % 3,
  history: [
    { at: now - 3_600_000, state: 'building', note: null },
    { at: now - 1_800_000, state: 'auditing', note: `submitted as audit ${400_000_000 + i}` },
  ],
});

async function seed(path: string, now: number): Promise<void> {
  const store = openSqliteStore({ path });
  const inbox = store.collection(inboxCollection);
  const audits = store.collection(auditsCollection);
  for (let i = 0; i < SEEDED_INBOX; i++) await inbox.insert(`seed${i}`, inboxEntry(i, now), { expiresAt: now + INBOX_RETENTION_MS });
  for (let i = 0; i < AUDITS; i++) await audits.insert(`aud${i}`, audit(i, now));
  await store.close();
}

interface Side {
  get(id: string): Promise<unknown> | unknown;
  insert(id: string, entry: InboxEntry): Promise<void> | void;
  /** Updates the entry at the version last seen, returning nothing; keeps its own version map. */
  update(id: string, entry: InboxEntry): Promise<void> | void;
  due(now: number): Promise<unknown[]> | unknown[];
  batch(auditId: string, a: Audit, inboxId: string, entry: InboxEntry): Promise<void> | void;
}

function ours(store: DocumentStore): Side {
  const inbox = store.collection(inboxCollection);
  const audits = store.collection(auditsCollection);
  const inboxVersions = new Map<string, number>();
  const auditVersions = new Map<string, number>();
  return {
    get: async (id) => (await inbox.get(id))?.data,
    insert: async (id, entry) => {
      await inbox.insert(id, entry, { expiresAt: entry.receivedAt + INBOX_RETENTION_MS });
    },
    update: async (id, entry) => {
      const stored = await inbox.update(id, inboxVersions.get(id) ?? 1, entry);
      inboxVersions.set(id, stored.version);
    },
    due: async (now) =>
      (
        await audits.find({
          where: { state: 'auditing', nextPollAt: { lte: now } },
          orderBy: { field: 'nextPollAt' },
          limit: DUE_LIMIT,
        })
      ).map((s) => s.data),
    batch: async (auditId, a, inboxId, entry) => {
      const version = auditVersions.get(auditId) ?? 1;
      await store.commit([
        audits.updateWrite(auditId, version, a),
        inbox.insertWrite(inboxId, entry, { expiresAt: entry.receivedAt + INBOX_RETENTION_MS }),
      ]);
      auditVersions.set(auditId, version + 1);
    },
  };
}

interface Row {
  id: string;
  version: number;
  expires_at: number | null;
  body: string;
}

/** The adapter's statements, prepared once, with nothing around them but JSON. */
function raw(path: string): Side & { close(): void } {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const LIVE = '(expires_at IS NULL OR expires_at > @now)';
  const select = db.prepare(`SELECT id, version, expires_at, body FROM "c_inbox" WHERE id = @id AND ${LIVE}`);
  const insertSql = (table: string) =>
    db.prepare(`INSERT INTO "${table}" (id, version, expires_at, body) VALUES (@id, 1, @expiresAt, @body)
       ON CONFLICT(id) DO UPDATE SET version = version + 1, expires_at = excluded.expires_at, body = excluded.body
       WHERE expires_at IS NOT NULL AND expires_at <= @now
       RETURNING id, version, expires_at`);
  const updateSql = (table: string) =>
    db.prepare(`UPDATE "${table}"
       SET version = version + 1, body = @body, expires_at = CASE WHEN @keepExpiry THEN expires_at ELSE @expiresAt END
       WHERE id = @id AND version = @expectedVersion AND ${LIVE}
       RETURNING id, version, expires_at`);
  const insertInbox = insertSql('c_inbox');
  const updateInbox = updateSql('c_inbox');
  const updateAudit = updateSql('c_benchAudits');
  const due = db.prepare(
    `SELECT id, version, expires_at, body FROM "c_benchAudits" WHERE ${LIVE} AND json_extract(body, '$.state') = @p0
     AND json_extract(body, '$.nextPollAt') <= @p1 ORDER BY json_extract(body, '$.nextPollAt') ASC, id ASC LIMIT @limit`,
  );
  const inboxVersions = new Map<string, number>();
  const auditVersions = new Map<string, number>();
  const mustGet = (statement: Database.Statement, params: Record<string, unknown>): Omit<Row, 'body'> => {
    const row = statement.get(params) as Omit<Row, 'body'> | undefined;
    if (!row) throw new Error('raw write matched nothing');
    return row;
  };
  const batch = db.transaction((auditId: string, a: Audit, inboxId: string, entry: InboxEntry) => {
    const version = auditVersions.get(auditId) ?? 1;
    const now = Date.now();
    mustGet(updateAudit, { id: auditId, expectedVersion: version, body: JSON.stringify(a), keepExpiry: 1, expiresAt: null, now });
    mustGet(insertInbox, { id: inboxId, body: JSON.stringify(entry), expiresAt: entry.receivedAt + INBOX_RETENTION_MS, now });
    auditVersions.set(auditId, version + 1);
  });
  return {
    get: (id) => {
      const row = select.get({ id, now: Date.now() }) as Row | undefined;
      return row ? JSON.parse(row.body) : undefined;
    },
    // As the adapter: the write returns no body; what it hands back is the JSON of the body it bound.
    insert: (id, entry) => {
      const body = JSON.stringify(entry);
      mustGet(insertInbox, { id, body, expiresAt: entry.receivedAt + INBOX_RETENTION_MS, now: Date.now() });
      JSON.parse(body);
    },
    update: (id, entry) => {
      const body = JSON.stringify(entry);
      const row = mustGet(updateInbox, {
        id,
        body,
        expectedVersion: inboxVersions.get(id) ?? 1,
        keepExpiry: 1,
        expiresAt: null,
        now: Date.now(),
      });
      JSON.parse(body);
      inboxVersions.set(id, row.version);
    },
    due: (now) => (due.all({ p0: 'auditing', p1: now, limit: DUE_LIMIT, now: Date.now() }) as Row[]).map((r) => JSON.parse(r.body)),
    batch: (auditId, a, inboxId, entry) => batch.immediate(auditId, a, inboxId, entry),
    close: () => db.close(),
  };
}

type Op = 'get' | 'insert' | 'update' | 'find' | 'commit';
const OPS: { op: Op; figure: string }[] = [
  { op: 'get', figure: '`get` by id (live inbox entry)' },
  { op: 'insert', figure: '`insert` with expiry (inbox entry)' },
  { op: 'update', figure: '`update` at a version (inbox entry)' },
  { op: 'find', figure: `\`find\` by index: due audits (state, nextPollAt ≤ now, ordered, limit ${DUE_LIMIT})` },
  { op: 'commit', figure: '`commit` batch: update an audit at its version + insert an inbox entry' },
];

/** CPU time of this process in µs: other processes on a shared machine stretch wall time, not this. */
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** One timed round of `op` on `side`: operations per CPU-second over at least `ms` of CPU time. */
async function round(side: Side, op: Op, ms: number, counter: { n: number }, now: number): Promise<number> {
  const started = cpuMicros();
  const until = started + ms * 1000;
  let done = 0;
  let t = started;
  while (t < until) {
    for (let k = 0; k < 50; k++) {
      const i = counter.n++;
      if (op === 'get') await side.get(`seed${i % SEEDED_INBOX}`);
      else if (op === 'insert') await side.insert(`new${i}`, inboxEntry(i, now));
      else if (op === 'update') await side.update(`seed${i % SEEDED_INBOX}`, inboxEntry(i, now));
      else if (op === 'find') await side.due(now);
      else await side.batch(`aud${2 * (i % (AUDITS / 2))}`, audit(2 * (i % (AUDITS / 2)), now), `batch${i}`, inboxEntry(i, now));
    }
    done += 50;
    t = cpuMicros();
  }
  return done / ((t - started) / 1e6);
}

main(async (): Promise<BenchResult> => {
  const rounds = numberArg('rounds', 7);
  const roundMs = numberArg('round-ms', 300);
  const dir = mkdtempSync(join(tmpdir(), 'wxa-bench-store-'));
  const now = Date.now();
  try {
    const oursPath = join(dir, 'ours.db');
    const rawPath = join(dir, 'raw.db');
    await seed(oursPath, now);
    await seed(rawPath, now);
    const store = openSqliteStore({ path: oursPath });
    const a = ours(store);
    const b = raw(rawPath);

    // Same answers before anything is timed.
    const same = (x: unknown, y: unknown, what: string) => {
      if (JSON.stringify(x) !== JSON.stringify(y)) throw new Error(`ours and raw differ on ${what}`);
    };
    same(await a.get('seed7'), await b.get('seed7'), 'get');
    same(await a.due(now), await b.due(now), 'find');
    if ((await a.due(now)).length !== DUE_LIMIT) throw new Error('the due query found too few audits');

    const counters = { ours: { n: 0 }, raw: { n: 0 } };
    const rates = new Map<string, number[]>();
    const push = (key: string, value: number) => rates.set(key, [...(rates.get(key) ?? []), value]);
    for (const { op } of OPS) {
      await round(a, op, 100, counters.ours, now);
      await round(b, op, 100, counters.raw, now);
    }
    for (let r = 0; r < rounds; r++) {
      for (const { op } of OPS) {
        push(`ours ${op}`, await round(a, op, roundMs, counters.ours, now));
        push(`raw ${op}`, await round(b, op, roundMs, counters.raw, now));
      }
    }
    await store.close();
    b.close();

    const rows: BenchRow[] = OPS.map(({ op, figure }) => {
      const mine = median(rates.get(`ours ${op}`) ?? []);
      const theirs = median(rates.get(`raw ${op}`) ?? []);
      return {
        figure,
        value: `${fmt(mine)} /s`,
        baseline: `${fmt(theirs)} /s (raw statements)`,
        ratio: ratio(theirs, mine),
        target: `≤ ${TARGET}× (time per operation)`,
        met: theirs / mine <= TARGET,
      };
    });
    const spread = (key: string) => {
      const v = rates.get(key) ?? [];
      return `${fmt(Math.min(...v))}–${fmt(Math.max(...v))}`;
    };
    return {
      name: 'store',
      title: 'Store: the SQLite adapter against raw prepared statements',
      command: 'npx tsx bench/store.ts',
      rows,
      notes: [
        `- Two files seeded alike by the adapter (${fmt(SEEDED_INBOX)} inbox entries, ${fmt(AUDITS)} audit documents, half of them due), WAL with synchronous=NORMAL on both. Raw side: the adapter's own SQL prepared once (its writes' RETURNING without the body, as the adapter's), \`JSON.stringify\` on write and \`JSON.parse\` of what a write bound and a read returned; ours: the port's collections (zod validation of every document written and read back, the async port). Ratio: time per operation, ours over raw.`,
        `- ${rounds} interleaved rounds of ≥ ${roundMs} ms of CPU time per side and operation after a warm-up; median shown. Rates are per CPU-second of the benchmark process. Round spread (ours / raw, /s): ${OPS.map(({ op }) => `${op} ${spread(`ours ${op}`)} / ${spread(`raw ${op}`)}`).join('; ')}.`,
      ],
      durationMs: 0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

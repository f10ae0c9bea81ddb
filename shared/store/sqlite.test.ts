import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineCollection } from './port';
import { openSqliteStore } from './sqlite';
import { describeStoreContract } from './store.contract';

let dir = mkdtempSync(join(tmpdir(), 'wxa-store-'));
const dbPath = () => join(dir, 'contract.db');

describeStoreContract('sqlite (file, WAL, separate connections)', {
  connect: async (clock) => openSqliteStore({ path: dbPath(), clock }),
  reset: async () => {
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'wxa-store-'));
  },
  corrupt: async (collection, id, rawJson) => {
    const db = new Database(dbPath());
    db.prepare(`UPDATE "c_${collection}" SET body = ? WHERE id = ?`).run(rawJson, id);
    db.close();
  },
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The adapter's group commit (writes of one turn in one transaction), seen from outside.
describe('sqlite group commit', () => {
  const notes = defineCollection({ name: 'groupNotes', schema: z.object({ text: z.string() }) });
  afterEach(() => jest.useRealTimers());

  it('acknowledges a write only once another connection can read it', async () => {
    const writer = openSqliteStore({ path: dbPath() });
    const reader = openSqliteStore({ path: dbPath() }).collection(notes);
    const seenAtAcknowledgement = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await writer.collection(notes).insert(`n${i}`, { text: `note ${i}` });
        return (await reader.get(`n${i}`))?.data.text;
      }),
    );
    expect(seenAtAcknowledgement).toEqual(Array.from({ length: 50 }, (_, i) => `note ${i}`));
    await writer.close();
  });

  it('commits the writes still queued when the store is closed, before it closes', async () => {
    const store = openSqliteStore({ path: dbPath() });
    const pending = [store.collection(notes).insert('last-1', { text: 'a' }), store.collection(notes).insert('last-2', { text: 'b' })];
    await store.close();
    await expect(Promise.all(pending)).resolves.toHaveLength(2);
    const reopened = openSqliteStore({ path: dbPath() });
    expect((await reopened.collection(notes).get('last-2'))?.data.text).toBe('b');
    await reopened.close();
    await expect(store.collection(notes).insert('after-close', { text: 'c' })).rejects.toThrow(/closed/);
  });

  it('settles writes while jest fakes the timers (a test never has to advance a clock for the store)', async () => {
    jest.useFakeTimers();
    const store = openSqliteStore({ path: dbPath() });
    await expect(store.collection(notes).insert('faked', { text: 'x' })).resolves.toMatchObject({ version: 1 });
    await store.close();
  });
});

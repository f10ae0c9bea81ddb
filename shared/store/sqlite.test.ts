import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as z from '../domain/zod';
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

describe('sqlite durability', () => {
  const notes = defineCollection({ name: 'durableNotes', schema: z.object({ text: z.string() }) });

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
});

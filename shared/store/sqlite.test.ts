import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

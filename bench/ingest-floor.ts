/**
 * The floor's receiver, without its socket: what `bench/ingest-floor-server.ts` does per request, so that
 * `bench/ingest-inprocess.ts --floor` can measure it in one process beside the product (CPU per push, same run).
 * The least a correct receiver of component pushes does, written by hand with no framework: the product's own
 * message crypto (`openEnvelope`: timestamp window, msg_signature, AES-CBC, padding, appid trailer, both XML
 * documents) and the plain `signature`; the push's fingerprint; the same SQLite reads the product makes (inbox,
 * authorizer tokens, mini program — same tables, same statements, WAL with synchronous=NORMAL) and the one write,
 * the inbox record, made before `success` is answered; one JSON log line.
 *
 * With `groupCommit` the inbox records of all pushes that arrived in one turn of the event loop are written in
 * one transaction (each push still answered only after its record is committed).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { LOCAL_WECHAT_DEFAULTS as C } from '../shared/runtime/config';
import { plainSignature, WeChatMessageCrypto } from '../shared/wechat/crypto';

/** Answers one request: status, the push's InfoType (null when it could not be opened) and the body. */
export type FloorAnswer = (status: number, type: unknown, body: string) => void;

export function createFloorReceiver(options: { sqlitePath: string; groupCommit: boolean }) {
  const messageCrypto = new WeChatMessageCrypto({
    token: C.WECHAT_TOKEN,
    encodingAESKey: C.WECHAT_ENCODING_AES_KEY,
    appId: C.WECHAT_COMPONENT_APPID,
  });
  const db = new Database(options.sqlitePath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const table of ['inbox', 'authorizerTokens', 'miniPrograms']) {
    db.exec(`CREATE TABLE IF NOT EXISTS "c_${table}" (
      id TEXT PRIMARY KEY, version INTEGER NOT NULL, expires_at INTEGER, body TEXT NOT NULL CHECK (json_valid(body)))`);
  }
  const lookup = (table: string) =>
    db.prepare(`SELECT id, version, expires_at, body FROM "c_${table}" WHERE id = @id AND (expires_at IS NULL OR expires_at > @now)`);
  const inboxEntry = lookup('inbox');
  const authorizerTokens = lookup('authorizerTokens');
  const miniProgram = lookup('miniPrograms');
  const record = db.prepare(
    `INSERT INTO "c_inbox" (id, version, expires_at, body) VALUES (@id, 1, @expiresAt, @body)
     ON CONFLICT(id) DO UPDATE SET version = version + 1, expires_at = excluded.expires_at, body = excluded.body
     WHERE expires_at IS NOT NULL AND expires_at <= @now
     RETURNING id, version, expires_at, body`,
  );
  type Row = { id: string; body: string; expiresAt: number; now: number };
  const pending: { row: Row; answer: () => void; fail: (error: unknown) => void }[] = [];
  const recordAll = db.transaction((rows: Row[]) => {
    for (const row of rows) record.get(row);
  });
  const flush = () => {
    const batch = pending.splice(0);
    try {
      recordAll(batch.map((p) => p.row));
    } catch (error) {
      for (const p of batch) p.fail(error);
      return;
    }
    for (const p of batch) p.answer();
  };
  const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const logged =
    (answer: FloorAnswer): FloorAnswer =>
    (status, type, body) => {
      // To fd 1 directly, as the product's logger writes (shared/runtime/stdout.ts).
      writeSync(1, `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'request', status, push: type })}\n`);
      answer(status, type, body);
    };

  /** `url` is the request's path and query; `body` its text. */
  return (url: string, text: string, answerRaw: FloorAnswer) => {
    const answer = logged(answerRaw);
    try {
      const query = new URLSearchParams(url.slice(url.indexOf('?') + 1));
      const timestamp = query.get('timestamp') ?? '';
      const nonce = query.get('nonce') ?? '';
      if (!sameText(plainSignature(C.WECHAT_TOKEN, timestamp, nonce), query.get('signature') ?? ''))
        return answer(401, null, 'bad signature');
      const opened = messageCrypto.openEnvelope({ body: text, msgSignature: query.get('msg_signature') ?? undefined, timestamp, nonce });
      const type = opened.fields.InfoType;
      const id = createHash('sha256').update('component').update('\0').update(opened.message).digest('hex');
      const now = Date.now();
      if (inboxEntry.get({ id, now })) return answer(200, type, 'success');
      const appId = String(opened.fields.AuthorizerAppid);
      authorizerTokens.get({ id: appId, now });
      miniProgram.get({ id: appId, now });
      const body = JSON.stringify({
        source: 'component',
        type,
        appId,
        createTime: Number(opened.fields.CreateTime),
        receivedAt: now,
        status: 'processed',
        processedAt: Date.now(),
        outcome: 'ignored: unknown mini program',
      });
      const row = { id, body, expiresAt: now + 7 * 24 * 3600_000, now };
      if (!options.groupCommit) {
        record.get(row);
        return answer(200, type, 'success');
      }
      pending.push({ row, answer: () => answer(200, type, 'success'), fail: (error) => answer(500, type, String(error)) });
      if (pending.length === 1) setImmediate(flush);
    } catch (error) {
      answer(400, null, String(error));
    }
  };
}

/**
 * The hostile-input corpus: the fixture format (`fixtures/*.json`, declarative), and what turns a case into bytes
 * on the wire — placeholders for the ids of the world the test builds, WeChat pushes sealed at test time (fresh
 * timestamps, real signatures) and then damaged the way the case says, and a raw HTTP client that sends paths
 * exactly as written (fetch would normalise `..` and `%2e`).
 */

import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pngHeader } from '../../infra/testing/wire';
import * as z from '../../shared/domain/zod';
import { plainSignature, WeChatMessageCrypto } from '../../shared/wechat/crypto';

export { pngHeader, type RawReply, rawRequest } from '../../infra/testing/wire';

// ------------------------------------------------------------------------------------------------ the format

const statusSchema = z.union([z.number().check(z.int()), z.tuple([z.number().check(z.int()), z.number().check(z.int())])]);

/** How a push is damaged: each field names one deviation from what WeChat sends; absent = as WeChat sends it. */
const pushSchema = z.strictObject({
  kind: z.literal('push'),
  /** The component URL or an authorizer's message URL (the path decides which; this picks the message). */
  message: z.union([z.enum(['ticket', 'audit-success']), z.strictObject({ xml: z.string() })]),
  /** Seconds added to now for `timestamp` (the signature covers the shifted value). */
  timestampOffset: z.optional(z.number().check(z.int())),
  /** A literal `timestamp` query value (signed as given). */
  timestamp: z.optional(z.string()),
  nonce: z.optional(z.string()),
  omit: z.optional(z.array(z.enum(['timestamp', 'nonce', 'msg_signature', 'encrypt_type']))),
  /** Another `encrypt_type` than the `aes` WeChat's safe mode always sends. */
  encryptType: z.optional(z.string()),
  signature: z.optional(z.enum(['valid', 'wrong', 'uppercase', 'truncated', 'other-token', 'plain-only', 'for-other-body', 'too-long'])),
  /** Damage to the Encrypt value; the signature is computed over the damaged value unless `signature` says otherwise. */
  encrypt: z.optional(
    z.enum([
      'truncate-1',
      'truncate-4',
      'urlsafe',
      'whitespace',
      'strip-padding',
      'extra-bits',
      'not-block-multiple',
      'append-block',
      'flip-length',
      'wrong-key',
      'wrong-appid',
      'empty-appid',
      'pad-zero',
      'pad-33',
      'pad-mismatch',
      'length-overflow',
      'invalid-utf8',
      'non-base64',
      'empty',
      'double-encoded',
    ]),
  ),
  /** Another envelope around the (possibly damaged) Encrypt value. */
  envelope: z.optional(
    z.enum([
      'standard',
      'xxe',
      'billion-laughs',
      'parameter-entity',
      'doctype-only',
      'no-encrypt',
      'double-encrypt',
      'malformed',
      'not-xml',
      'json',
      'wrong-root',
      'deep',
      'cdata-doctype',
    ]),
  ),
  /** Sends the push once, outside the snapshot, then sends the same bytes again: `fresh` now, `stale` as if later. */
  replay: z.optional(z.boolean()),
  contentType: z.optional(z.string()),
});
export type PushSpec = z.infer<typeof pushSchema>;

const bodySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('json'), value: z.unknown() }),
  z.strictObject({ kind: z.literal('text'), text: z.string(), contentType: z.optional(z.string()) }),
  z.strictObject({ kind: z.literal('base64'), data: z.string(), contentType: z.optional(z.string()) }),
  /** `prefix + unit × count + suffix`: oversized bodies and deep nesting without megabytes of fixture. */
  z.strictObject({
    kind: z.literal('repeat'),
    prefix: z._default(z.string(), ''),
    unit: z.string(),
    count: z.number().check(z.int(), z.positive()),
    middle: z._default(z.string(), ''),
    closeUnit: z._default(z.string(), ''),
    suffix: z._default(z.string(), ''),
    contentType: z.optional(z.string()),
  }),
  /** A PNG header (signature + IHDR) claiming the given size: what the product reads of an image. */
  z.strictObject({
    kind: z.literal('png'),
    width: z.number().check(z.int(), z.nonnegative()),
    height: z.number().check(z.int(), z.nonnegative()),
    contentType: z.optional(z.string()),
  }),
  pushSchema,
]);
export type BodySpec = z.infer<typeof bodySchema>;

export const AUTHS = ['none', 'A', 'B', 'admin', 'bogus', 'revoked', 'A-as-x-api-key', 'basic', 'huge'] as const;

export const caseSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']),
  /** Sent verbatim after placeholder substitution: `{A.appId}`, `{B.deploymentId}`, `{x*300}` (300 × "x"). */
  path: z.string().check(z.startsWith('/')),
  query: z.optional(z.string()),
  auth: z._default(z.enum(AUTHS), 'A'),
  /** A map, or pairs when a name must survive JSON parsing into an object (`__proto__`). */
  headers: z.optional(z.union([z.record(z.string(), z.string()), z.array(z.tuple([z.string(), z.string()]))])),
  body: z.optional(bodySchema),
  expect: z.strictObject({
    status: statusSchema,
    /** The error code in our envelope; several when the product may legitimately choose either. */
    code: z.optional(z.union([z.string(), z.array(z.string())])),
    /** For the replay-within-the-window cases: WeChat's retry is acknowledged with `success` and changes nothing. */
    text: z.optional(z.string()),
  }),
  /** A product bug this case exposes, reported to the lead; the case runs as `it.failing` until it is fixed. */
  knownBug: z.optional(z.string()),
});
export type HostileCase = z.infer<typeof caseSchema>;

const fileSchema = z.strictObject({ description: z.string(), cases: z.array(caseSchema).check(z.minLength(1)) });

export function loadCorpus(dir: string): { file: string; description: string; cases: HostileCase[] }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => {
      const parsed = fileSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      if (!parsed.success) throw new Error(`${file}: ${parsed.error.message}`);
      return { file, ...parsed.data };
    });
}

// ------------------------------------------------------------------------------------------- substitution

export type World = Record<string, string>;

/** `{A.appId}` → the world's value; `{x*300}` → 300 × "x". An unknown placeholder is a fixture error. */
export function substitute(text: string, world: World): string {
  return text.replace(
    /\{([^{}*]+)\*(\d+)\}|\{([A-Za-z]+\.[A-Za-z]+|[a-zA-Z]+)\}/g,
    (whole, unit: string | undefined, count: string | undefined, name: string | undefined) => {
      if (unit !== undefined && count !== undefined) return unit.repeat(Number(count));
      const value = name === undefined ? undefined : world[name];
      if (value === undefined) throw new Error(`unknown placeholder ${whole}`);
      return value;
    },
  );
}

const substituteDeep = (value: unknown, world: World): unknown => {
  if (typeof value === 'string') return substitute(value, world);
  if (Array.isArray(value)) return value.map((item) => substituteDeep(item, world));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [substitute(k, world), substituteDeep(v, world)]));
  return value;
};

// ----------------------------------------------------------------------------------------------- pushes

export interface PushKeys {
  componentAppId: string;
  token: string;
  encodingAESKey: string;
}

const BLOCK = 32;

/** WXBizMsgCrypt's plaintext, with the deviations a case asks for. */
function plaintext(message: Buffer, appId: string, damage: PushSpec['encrypt']): Buffer {
  const trailer = Buffer.from(damage === 'wrong-appid' ? 'wx0123456789abcdef' : damage === 'empty-appid' ? '' : appId, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(damage === 'length-overflow' ? message.length + 4096 : message.length);
  const unpadded = Buffer.concat([randomBytes(16), length, message, trailer]);
  const pad = BLOCK - (unpadded.length % BLOCK);
  const padding = Buffer.alloc(pad, pad);
  if (damage === 'pad-zero') padding[pad - 1] = 0;
  if (damage === 'pad-33') padding[pad - 1] = 33;
  if (damage === 'pad-mismatch' && pad > 1) padding[0] = (pad + 1) % 256;
  return Buffer.concat([unpadded, padding]);
}

function aesEncrypt(plain: Buffer, encodingAESKey: string): Buffer {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]);
}

/**
 * Each message is unique (a random part), so a control is never taken for a replay of an earlier case. The audit
 * push is addressed to A's target, as WeChat addresses the pushes to its URL.
 */
const STANDARD_MESSAGES = {
  ticket: (k: PushKeys, now: number) =>
    `<xml><AppId><![CDATA[${k.componentAppId}]]></AppId><CreateTime>${now}</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[ticket@@@hostile${randomBytes(8).toString('hex')}]]></ComponentVerifyTicket></xml>`,
  'audit-success': (_k: PushKeys, now: number, world: World) =>
    `<xml><ToUserName><![CDATA[${substitute('{A.userName}', world)}]]></ToUserName><FromUserName><![CDATA[o_${randomBytes(8).toString('hex')}]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_success]]></Event><SuccTime>${now}</SuccTime></xml>`,
} as const;

/** The Encrypt value, damaged as asked; a few damages need Base64 padding, which the message length decides. */
function encryptValue(spec: PushSpec, keys: PushKeys, message: string): string {
  const needsPadding = spec.encrypt === 'strip-padding' || spec.encrypt === 'extra-bits';
  for (let filler = 0; filler < 4; filler++) {
    const body = Buffer.from(message + ' '.repeat(filler * BLOCK), 'utf8');
    const damage = spec.encrypt;
    const plain =
      damage === 'invalid-utf8'
        ? plaintext(Buffer.concat([body, Buffer.from([0xff, 0xfe])]), keys.componentAppId, damage)
        : plaintext(body, keys.componentAppId, damage);
    let cipher = aesEncrypt(plain, damage === 'wrong-key' ? 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut' : keys.encodingAESKey);
    if (damage === 'not-block-multiple') cipher = cipher.subarray(0, cipher.length - 16);
    if (damage === 'append-block') cipher = Buffer.concat([cipher, randomBytes(BLOCK)]);
    if (damage === 'flip-length') cipher[1] = (cipher[1] ?? 0) ^ 0x40; // CBC: flips a bit of the length field in block 2
    const encoded = cipher.toString('base64');
    if (needsPadding && !encoded.endsWith('=')) continue;
    switch (damage) {
      case 'truncate-1':
        return encoded.slice(0, -1);
      case 'truncate-4':
        return encoded.slice(0, -4);
      case 'urlsafe':
        return encoded.replace(/\+/g, '-').replace(/\//g, '_') + (/[+/]/.test(encoded) ? '' : '-');
      case 'whitespace':
        return `${encoded.slice(0, 20)}\n${encoded.slice(20)}`;
      case 'strip-padding':
        return encoded.replace(/=+$/, '');
      case 'extra-bits': {
        // The character before the padding carries bits Base64 discards; set one of them.
        const i = encoded.indexOf('=') - 1;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
        const value = alphabet.indexOf(encoded[i] ?? 'A');
        return `${encoded.slice(0, i)}${alphabet[value ^ 1] ?? 'B'}${encoded.slice(i + 1)}`;
      }
      case 'non-base64':
        return `!!${encoded.slice(2, 30)}$$`;
      case 'empty':
        return '';
      case 'double-encoded':
        return Buffer.from(encoded, 'utf8').toString('base64');
      default:
        return encoded;
    }
  }
  throw new Error(`could not make an Encrypt value with Base64 padding for ${spec.encrypt ?? 'none'}`);
}

function envelope(kind: PushSpec['envelope'], encrypt: string, toUser: string): string {
  const standard = `<xml><ToUserName><![CDATA[${toUser}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  switch (kind ?? 'standard') {
    case 'standard':
      return standard;
    case 'xxe':
      return `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>&xxe;</ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    case 'billion-laughs': {
      const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('');
      return `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol0 "lol">${entities}]><xml><ToUserName>&lol9;</ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    }
    case 'parameter-entity':
      return `<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">%remote;]><xml><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    case 'doctype-only':
      return `<!DOCTYPE xml><xml><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    case 'cdata-doctype':
      return `<xml><ToUserName><![CDATA[<!DOCTYPE x [<!ENTITY a "b">]>]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    case 'no-encrypt':
      return `<xml><ToUserName><![CDATA[${toUser}]]></ToUserName></xml>`;
    case 'double-encrypt':
      return `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    case 'malformed':
      return `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt>`;
    case 'not-xml':
      return `Encrypt=${encrypt}`;
    case 'json':
      return JSON.stringify({ Encrypt: encrypt });
    case 'wrong-root':
      return `<root><Encrypt><![CDATA[${encrypt}]]></Encrypt></root>`;
    case 'deep':
      return `<xml>${'<a>'.repeat(5000)}x${'</a>'.repeat(5000)}<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  }
}

export interface BuiltPush {
  query: string;
  body: string;
  contentType: string;
}

/** Seals the case's message as WeChat would now, then applies the case's damage. */
export function buildPush(spec: PushSpec, keys: PushKeys, world: World, nowSeconds = Math.floor(Date.now() / 1000)): BuiltPush {
  const message =
    typeof spec.message === 'string'
      ? STANDARD_MESSAGES[spec.message](keys, nowSeconds, world)
      : substitute(spec.message.xml, { ...world, now: String(nowSeconds) });
  const crypto = new WeChatMessageCrypto({ token: keys.token, encodingAESKey: keys.encodingAESKey, appId: keys.componentAppId });
  const encrypt = encryptValue(spec, keys, message);
  const timestamp = spec.timestamp ?? String(nowSeconds + (spec.timestampOffset ?? 0));
  const nonce = spec.nonce ?? randomBytes(6).toString('hex');
  const valid = crypto.msgSignature(timestamp, nonce, encrypt);
  const signature = (() => {
    switch (spec.signature ?? 'valid') {
      case 'valid':
        return valid;
      case 'wrong':
        return createHash('sha1').update(randomBytes(16)).digest('hex');
      case 'uppercase':
        return valid.toUpperCase();
      case 'truncated':
        return valid.slice(0, 39);
      case 'other-token':
        return new WeChatMessageCrypto({
          token: 'someoneelse',
          encodingAESKey: keys.encodingAESKey,
          appId: keys.componentAppId,
        }).msgSignature(timestamp, nonce, encrypt);
      case 'for-other-body':
        return crypto.msgSignature(timestamp, nonce, crypto.encrypt('<xml><CreateTime>1</CreateTime></xml>'));
      case 'too-long':
        return `${valid}${valid}`;
      case 'plain-only':
        return '';
    }
  })();
  const omit = new Set(spec.omit ?? []);
  const params = new URLSearchParams();
  if (!omit.has('timestamp')) params.set('timestamp', timestamp);
  if (!omit.has('nonce')) params.set('nonce', nonce);
  if (!omit.has('encrypt_type')) params.set('encrypt_type', spec.encryptType ?? 'aes');
  if (spec.signature === 'plain-only') params.set('signature', plainSignature(keys.token, timestamp, nonce));
  else if (!omit.has('msg_signature')) params.set('msg_signature', signature);
  return { query: params.toString(), body: envelope(spec.envelope, encrypt, 'gh_hostile'), contentType: spec.contentType ?? 'text/xml' };
}

// ------------------------------------------------------------------------------------------------ bodies

/** The bytes and content type of a non-push body. */
export function bodyBytes(body: Exclude<BodySpec, PushSpec>, world: World): { bytes: Buffer; contentType: string | undefined } {
  switch (body.kind) {
    case 'json':
      return { bytes: Buffer.from(JSON.stringify(substituteDeep(body.value, world)), 'utf8'), contentType: 'application/json' };
    case 'text':
      return { bytes: Buffer.from(substitute(body.text, world), 'utf8'), contentType: body.contentType };
    case 'base64':
      return { bytes: Buffer.from(body.data, 'base64'), contentType: body.contentType };
    case 'repeat':
      return {
        bytes: Buffer.from(
          body.prefix + body.unit.repeat(body.count) + body.middle + body.closeUnit.repeat(body.count) + body.suffix,
          'utf8',
        ),
        contentType: body.contentType,
      };
    case 'png':
      return { bytes: pngHeader(body.width, body.height), contentType: body.contentType ?? 'image/png' };
  }
}

// ------------------------------------------------------------------------------------------------ the wire

// ---------------------------------------------------------------------------------------------- the store

/** Every document of every collection, in a stable order: the "no state change" check compares two of these. */
export function snapshotStore(sqlitePath: string, ignore: readonly string[] = []): Map<string, string> {
  const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  try {
    const tables = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c\\_%' ESCAPE '\\' ORDER BY name`).all() as {
        name: string;
      }[]
    )
      .map((row) => row.name)
      .filter((name) => !ignore.includes(name.slice(2)));
    const rows = new Map<string, string>();
    for (const table of tables) {
      for (const row of db.prepare(`SELECT id, version, expires_at, body FROM "${table}" ORDER BY id`).all() as {
        id: string;
        version: number;
        expires_at: number | null;
        body: string;
      }[]) {
        rows.set(`${table.slice(2)}/${row.id}`, `${row.version}|${row.expires_at ?? ''}|${row.body}`);
      }
    }
    return rows;
  } finally {
    db.close();
  }
}

/** What differs between two snapshots, for the failure message. */
export function storeChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [key, value] of after) {
    const old = before.get(key);
    if (old === undefined) changes.push(`added ${key}`);
    else if (old !== value) changes.push(`changed ${key}`);
  }
  for (const key of before.keys()) if (!after.has(key)) changes.push(`removed ${key}`);
  return changes;
}

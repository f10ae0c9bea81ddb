import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { AppError, ConfigError, isAppError } from '../domain/errors';
import * as z from '../domain/zod';
import {
  InvalidEncodingAESKeyError,
  MessageAppIdMismatchError,
  MessageBase64Error,
  MessageEncodingError,
  MessageLengthError,
  MessagePaddingError,
  MessageSignatureError,
  plainSignature,
  StaleTimestampError,
  WeChatMessageCrypto,
} from './crypto';
import { AUDIT_SUCCESS_FIELDS } from './fixtures/audit-success';
import rawVectors from './fixtures/crypto-vectors.json';
import { buildWeChatXml, type WeChatXmlInput, XmlForbiddenConstructError, XmlParseError } from './xml';

// ---------------------------------------------------------------------------------------------------------------
// The reference vectors (reference §1.8), read through schemas so every field used below is known to exist.

const decrypted = z.object({
  cipherBytes: z.number(),
  fullStrBytes: z.number(),
  random: z.string().check(z.length(16)),
  msgLen: z.number(),
  msg: z.string(),
  appid: z.string(),
  padBytes: z.number(),
});
const common = { id: z.string(), token: z.string(), encodingAESKey: z.string() };

const vectorSchemas = {
  V1: z.object({
    ...common,
    receiveId_componentAppid: z.string(),
    aesKeyHex: z.string(),
    pushUrl: z.string(),
    timestamp: z.string(),
    nonce: z.string(),
    signature: z.string(),
    msg_signature: z.string(),
    body: z.string(),
    encrypt: z.string(),
    decrypted,
    reply: z.object({
      random: z.string().check(z.length(16)),
      msg: z.string(),
      msgLen: z.number(),
      appid: z.string(),
      encrypt: z.string(),
      timestamp: z.string(),
      nonce: z.string(),
      msg_signature: z.string(),
    }),
  }),
  V1b: z.object({ id: z.string(), token: z.string(), timestamp: z.string(), nonce: z.string(), signature: z.string() }),
  V2: z.object({
    ...common,
    appid: z.string(),
    timestamp: z.string(),
    nonce: z.string(),
    random: z.string().check(z.length(16)),
    cases: z.array(z.object({ msg: z.string(), encrypt: z.string(), msg_signature_DERIVED_HERE: z.string() })).check(z.length(2)),
  }),
  decryptWithAppid: z.object({
    ...common,
    appid: z.string(),
    timestamp: z.string(),
    nonce: z.string(),
    msg_signature: z.string(),
    encrypt: z.string(),
    decrypted,
  }),
  V4: z.object({
    ...common,
    receiveId: z.string(),
    timestamp: z.string(),
    nonce: z.string(),
    msg_signature: z.string(),
    encrypt: z.string(),
    decrypted,
  }),
  V5: z.object({
    ...common,
    receiveId: z.string(),
    timestamp: z.string(),
    nonce: z.string(),
    msg_signature: z.string(),
    echostr: z.string(),
    decrypted,
  }),
  V6: z.object({
    ...common,
    receiveId: z.string(),
    checkSignature: z.object({
      timestamp: z.string(),
      nonce: z.string(),
      msg_signature: z.string(),
      echostr: z.string(),
      decrypted,
    }),
    encryptFixedRandom: z.object({
      random: z.string().check(z.length(16)),
      timestamp: z.string(),
      nonce: z.string(),
      msg: z.string(),
      encrypt: z.string(),
      msg_signature: z.string(),
      expectedReplyXml: z.string(),
    }),
    decrypt: z.object({
      timestamp: z.string(),
      nonce: z.string(),
      msg_signature: z.string(),
      encrypt: z.string(),
      decrypted,
    }),
  }),
};

const vectorList = z.array(z.looseObject({ id: z.string() })).parse(rawVectors);
function vector<S extends z.ZodMiniType>(idPrefix: string, schema: S): z.infer<S> {
  const found = vectorList.filter((v) => v.id.startsWith(`${idPrefix}-`));
  if (found.length !== 1) throw new Error(`expected exactly one vector ${idPrefix}, found ${found.length}`);
  return schema.parse(found[0]);
}

const V1 = vector('V1', vectorSchemas.V1);
const V1b = vector('V1b', vectorSchemas.V1b);
const V2 = vector('V2', vectorSchemas.V2);
const V3 = vector('V3', vectorSchemas.decryptWithAppid);
const V4 = vector('V4', vectorSchemas.V4);
const V5 = vector('V5', vectorSchemas.V5);
const V6 = vector('V6', vectorSchemas.V6);
const V7 = vector('V7', vectorSchemas.decryptWithAppid);
const V8 = vector('V8', vectorSchemas.decryptWithAppid);

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

const v1Crypto = (): WeChatMessageCrypto =>
  new WeChatMessageCrypto({ token: V1.token, encodingAESKey: V1.encodingAESKey, appId: V1.receiveId_componentAppid });

/** The message-URL envelope shape of §1.2. */
const envelope = (encrypt: string): string =>
  `<xml>\n    <ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n    <Encrypt><![CDATA[${encrypt}]]></Encrypt>\n</xml>`;

function expectAppError(fn: () => unknown, errorClass: abstract new (...args: never[]) => AppError, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(errorClass);
  expect(thrown).toBeInstanceOf(AppError);
  expect(thrown).toMatchObject({ code });
}

function expectTypedFailure(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isAppError(thrown)).toBe(true);
}

// ---------------------------------------------------------------------------------------------------------------

describe('reference vectors', () => {
  test('the fixture holds V1–V8 and nothing else', () => {
    expect(vectorList.map((v) => v.id.split('-')[0])).toEqual(['V1', 'V1b', 'V2', 'V3', 'V4', 'V5', 'V6', 'V7', 'V8']);
  });

  describe('V1 official component push', () => {
    const crypto = v1Crypto();

    test('msg_signature and the 3-value signature', () => {
      expect(crypto.msgSignature(V1.timestamp, V1.nonce, V1.encrypt)).toBe(V1.msg_signature);
      expect(crypto.verifyMsgSignature(V1.timestamp, V1.nonce, V1.encrypt, V1.msg_signature)).toBe(true);
      expect(plainSignature(V1.token, V1.timestamp, V1.nonce)).toBe(V1.signature);
      const query = new URL(V1.pushUrl).searchParams;
      expect(Object.fromEntries(query)).toMatchObject({
        signature: V1.signature,
        timestamp: V1.timestamp,
        nonce: V1.nonce,
        encrypt_type: 'aes',
        msg_signature: V1.msg_signature,
      });
    });

    test('decrypts to the documented plaintext', () => {
      expect(crypto.decrypt(V1.encrypt)).toBe(V1.decrypted.msg);
      expect(Buffer.byteLength(V1.decrypted.msg)).toBe(V1.decrypted.msgLen);
      expect(Buffer.from(V1.encrypt, 'base64')).toHaveLength(V1.decrypted.cipherBytes);
    });

    test('openEnvelope on the official body', () => {
      const opened = crypto.openEnvelope({
        body: V1.body,
        msgSignature: V1.msg_signature,
        timestamp: V1.timestamp,
        nonce: V1.nonce,
        nowSeconds: Number(V1.timestamp),
      });
      expect(opened.message).toBe(V1.decrypted.msg);
      expect(opened.fields).toEqual({
        ToUserName: 'gh_97417a04a28d',
        FromUserName: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
        CreateTime: '1715943329',
        MsgType: 'event',
        Event: 'debug_demo',
        debug_str: 'hello world',
      });
    });

    test('the encrypted reply, with the documented random, timestamp and nonce', () => {
      const { reply } = V1;
      expect(reply.appid).toBe(V1.receiveId_componentAppid);
      expect(Buffer.byteLength(reply.msg)).toBe(reply.msgLen);
      expect(crypto.encrypt(reply.msg, ascii(reply.random))).toBe(reply.encrypt);
      expect(crypto.msgSignature(reply.timestamp, reply.nonce, reply.encrypt)).toBe(reply.msg_signature);
      const sealed = crypto.sealEnvelope(reply.msg, { timestamp: reply.timestamp, nonce: reply.nonce, random: ascii(reply.random) });
      expect(sealed.encrypt).toBe(reply.encrypt);
      expect(sealed.msgSignature).toBe(reply.msg_signature);
      expect(crypto.decrypt(reply.encrypt)).toBe(reply.msg);
    });
  });

  test('V1b plain GET signature', () => {
    expect(plainSignature(V1b.token, V1b.timestamp, V1b.nonce)).toBe(V1b.signature);
  });

  test.each([0, 1])('V2 fixed-random encrypt, case %i (UTF-8 CJK)', (index) => {
    const c = V2.cases[index];
    if (c === undefined) throw new Error('missing case');
    const crypto = new WeChatMessageCrypto({ token: V2.token, encodingAESKey: V2.encodingAESKey, appId: V2.appid });
    expect(crypto.encrypt(c.msg, ascii(V2.random))).toBe(c.encrypt);
    expect(crypto.msgSignature(V2.timestamp, V2.nonce, c.encrypt)).toBe(c.msg_signature_DERIVED_HERE);
    expect(crypto.decrypt(c.encrypt)).toBe(c.msg);
  });

  describe.each([
    ['V3', V3.token, V3.encodingAESKey, V3.appid, V3],
    ['V4', V4.token, V4.encodingAESKey, V4.receiveId, V4],
    ['V7', V7.token, V7.encodingAESKey, V7.appid, V7],
    ['V8', V8.token, V8.encodingAESKey, V8.appid, V8],
  ] as const)('%s decrypt', (_name, token, encodingAESKey, appId, v) => {
    const crypto = new WeChatMessageCrypto({ token, encodingAESKey, appId });

    test('signature, plaintext and trailer', () => {
      expect(v.decrypted.appid).toBe(appId);
      expect(crypto.msgSignature(v.timestamp, v.nonce, v.encrypt)).toBe(v.msg_signature);
      expect(crypto.decrypt(v.encrypt)).toBe(v.decrypted.msg);
      expect(Buffer.byteLength(v.decrypted.msg)).toBe(v.decrypted.msgLen);
    });

    test('through openEnvelope', () => {
      const opened = crypto.openEnvelope({
        body: envelope(v.encrypt),
        msgSignature: v.msg_signature,
        timestamp: v.timestamp,
        nonce: v.nonce,
        nowSeconds: Number(v.timestamp) + 10,
      });
      expect(opened.message).toBe(v.decrypted.msg);
      expect(opened.fields.MsgType).toBe('text');
    });

    test('another appid is refused even though key and padding are fine', () => {
      const other = new WeChatMessageCrypto({ token, encodingAESKey, appId: 'wx0000000000000000' });
      expectAppError(() => other.decrypt(v.encrypt), MessageAppIdMismatchError, 'WECHAT_MSG_APPID_MISMATCH');
    });
  });

  test('V5 echostr verify', () => {
    const crypto = new WeChatMessageCrypto({ token: V5.token, encodingAESKey: V5.encodingAESKey, appId: V5.receiveId });
    expect(crypto.msgSignature(V5.timestamp, V5.nonce, V5.echostr)).toBe(V5.msg_signature);
    expect(crypto.verifyMsgSignature(V5.timestamp, V5.nonce, V5.echostr, V5.msg_signature)).toBe(true);
    expect(crypto.decrypt(V5.echostr)).toBe(V5.decrypted.msg);
  });

  describe('V6 (wechatpy)', () => {
    const crypto = new WeChatMessageCrypto({ token: V6.token, encodingAESKey: V6.encodingAESKey, appId: V6.receiveId });

    test('check signature + echostr', () => {
      const c = V6.checkSignature;
      expect(crypto.msgSignature(c.timestamp, c.nonce, c.echostr)).toBe(c.msg_signature);
      expect(crypto.decrypt(c.echostr)).toBe(c.decrypted.msg);
    });

    test('fixed-random encrypt and the full reply XML, byte for byte', () => {
      const e = V6.encryptFixedRandom;
      expect(crypto.encrypt(e.msg, ascii(e.random))).toBe(e.encrypt);
      const sealed = crypto.sealEnvelope(e.msg, { timestamp: e.timestamp, nonce: e.nonce, random: ascii(e.random) });
      expect(sealed).toEqual({ body: e.expectedReplyXml, msgSignature: e.msg_signature, encrypt: e.encrypt });
    });

    test('the sealed reply opens again', () => {
      const e = V6.encryptFixedRandom;
      const sealed = crypto.sealEnvelope(e.msg, { timestamp: e.timestamp, nonce: e.nonce, random: ascii(e.random) });
      const opened = crypto.openEnvelope({
        body: sealed.body,
        msgSignature: sealed.msgSignature,
        timestamp: e.timestamp,
        nonce: e.nonce,
        nowSeconds: Number(e.timestamp),
      });
      expect(opened.message).toBe(e.msg);
      expect(opened.fields).toMatchObject({ MsgType: 'text', Content: 'test', AgentID: '1' });
    });

    test('decrypt with a single 0x01 pad byte', () => {
      const d = V6.decrypt;
      expect(d.decrypted.padBytes).toBe(1);
      expect(crypto.msgSignature(d.timestamp, d.nonce, d.encrypt)).toBe(d.msg_signature);
      expect(crypto.decrypt(d.encrypt)).toBe(d.decrypted.msg);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Crafted failures. Plaintexts are assembled by hand and encrypted without any padding logic, so each one
// breaks exactly one rule.

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APPID = 'wx134c8103faa5a59e';
const TOKEN = 'pamtest';
const NOW = 1_700_000_000;
const TS = String(NOW);
const NONCE = '1320562132';

const crypto = new WeChatMessageCrypto({ token: TOKEN, encodingAESKey: KEY, appId: APPID });

function rawEncrypt(plain: Buffer, encodingAESKey = KEY): string {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

function plaintext(parts: { msg?: Buffer; length?: number; appId?: string; pad?: Buffer }): Buffer {
  const msg = parts.msg ?? Buffer.from('<xml><A>1</A></xml>');
  const header = Buffer.alloc(20, 7);
  header.writeUInt32BE(parts.length ?? msg.length, 16);
  const body = Buffer.concat([header, msg, Buffer.from(parts.appId ?? APPID)]);
  const k = 32 - (body.length % 32);
  return Buffer.concat([body, parts.pad ?? Buffer.alloc(k, k)]);
}

function open(encrypt: string, overrides: Partial<Parameters<WeChatMessageCrypto['openEnvelope']>[0]> = {}) {
  return crypto.openEnvelope({
    body: envelope(encrypt),
    msgSignature: crypto.msgSignature(TS, NONCE, encrypt),
    timestamp: TS,
    nonce: NONCE,
    nowSeconds: NOW,
    ...overrides,
  });
}

describe('failure classes', () => {
  test('the crafting helpers produce a valid message when nothing is broken', () => {
    expect(open(rawEncrypt(plaintext({}))).fields).toEqual({ A: '1' });
  });

  describe('signature', () => {
    const encrypt = crypto.encrypt('<xml><A>1</A></xml>');

    test('wrong signature', () => {
      const other = new WeChatMessageCrypto({ token: 'othertoken', encodingAESKey: KEY, appId: APPID });
      const forged = other.msgSignature(TS, NONCE, encrypt);
      expect(crypto.verifyMsgSignature(TS, NONCE, encrypt, forged)).toBe(false);
      expectAppError(() => open(encrypt, { msgSignature: forged }), MessageSignatureError, 'WECHAT_MSG_SIGNATURE_INVALID');
    });

    test('missing signature, missing nonce', () => {
      expectAppError(() => open(encrypt, { msgSignature: undefined }), MessageSignatureError, 'WECHAT_MSG_SIGNATURE_INVALID');
      expectAppError(() => open(encrypt, { msgSignature: '' }), MessageSignatureError, 'WECHAT_MSG_SIGNATURE_INVALID');
      expectAppError(() => open(encrypt, { nonce: undefined }), MessageSignatureError, 'WECHAT_MSG_SIGNATURE_INVALID');
    });

    test('malformed signatures never match: upper case, short, long, non-hex', () => {
      const good = crypto.msgSignature(TS, NONCE, encrypt);
      for (const bad of [good.toUpperCase(), good.slice(1), `${good}0`, `${good.slice(0, 39)}g`, ` ${good.slice(1)}`]) {
        expect(crypto.verifyMsgSignature(TS, NONCE, encrypt, bad)).toBe(false);
        expectAppError(() => open(encrypt, { msgSignature: bad }), MessageSignatureError, 'WECHAT_MSG_SIGNATURE_INVALID');
      }
    });

    test('the signature covers the Encrypt value: a body swap is refused', () => {
      const other = crypto.encrypt('<xml><A>2</A></xml>');
      expectAppError(
        () => open(other, { msgSignature: crypto.msgSignature(TS, NONCE, encrypt) }),
        MessageSignatureError,
        'WECHAT_MSG_SIGNATURE_INVALID',
      );
    });

    test('is verified before decryption: a bad signature on broken ciphertext is a signature error', () => {
      expectAppError(() => open('!!!!', { msgSignature: 'a'.repeat(40) }), MessageSignatureError, 'WECHAT_MSG_SIGNATURE_INVALID');
    });
  });

  describe('timestamp', () => {
    const encrypt = crypto.encrypt('<xml><A>1</A></xml>');

    test.each([
      ['301 s in the past', String(NOW - 301)],
      ['301 s in the future', String(NOW + 301)],
      ['far past', '1'],
    ])('stale: %s', (_label, timestamp) => {
      expectAppError(
        () => open(encrypt, { timestamp, msgSignature: crypto.msgSignature(timestamp, NONCE, encrypt) }),
        StaleTimestampError,
        'WECHAT_TIMESTAMP_STALE',
      );
    });

    test.each([
      ['missing', undefined],
      ['empty', ''],
      ['not a number', '17e8'],
      ['negative', '-5'],
      ['padded', ' 1700000000'],
    ])('unusable: %s', (_label, timestamp) => {
      expectAppError(() => open(encrypt, { timestamp }), StaleTimestampError, 'WECHAT_TIMESTAMP_STALE');
    });

    test('exactly maxSkewSeconds away is still fresh; the window is configurable', () => {
      const edge = String(NOW - 300);
      expect(open(encrypt, { timestamp: edge, msgSignature: crypto.msgSignature(edge, NONCE, encrypt) }).message).toBe(
        '<xml><A>1</A></xml>',
      );
      const old = String(NOW - 3600);
      const sig = crypto.msgSignature(old, NONCE, encrypt);
      expect(open(encrypt, { timestamp: old, msgSignature: sig, maxSkewSeconds: 3600 }).fields).toEqual({ A: '1' });
      expectAppError(
        () => open(encrypt, { timestamp: old, msgSignature: sig, maxSkewSeconds: 3599 }),
        StaleTimestampError,
        'WECHAT_TIMESTAMP_STALE',
      );
    });

    test('defaults to the wall clock', () => {
      const now = String(Math.floor(Date.now() / 1000));
      const sig = crypto.msgSignature(now, NONCE, encrypt);
      expect(crypto.openEnvelope({ body: envelope(encrypt), msgSignature: sig, timestamp: now, nonce: NONCE }).fields).toEqual({ A: '1' });
    });

    test('is checked before the signature', () => {
      expectAppError(() => open(encrypt, { timestamp: '1', msgSignature: undefined }), StaleTimestampError, 'WECHAT_TIMESTAMP_STALE');
    });
  });

  test('wrong appid trailer', () => {
    expectAppError(
      () => open(rawEncrypt(plaintext({ appId: 'wx9999999999999999' }))),
      MessageAppIdMismatchError,
      'WECHAT_MSG_APPID_MISMATCH',
    );
    expectAppError(() => open(rawEncrypt(plaintext({ appId: `${APPID}x` }))), MessageAppIdMismatchError, 'WECHAT_MSG_APPID_MISMATCH');
    expectAppError(() => open(rawEncrypt(plaintext({ appId: '' }))), MessageAppIdMismatchError, 'WECHAT_MSG_APPID_MISMATCH');
    const otherPlatform = new WeChatMessageCrypto({ token: TOKEN, encodingAESKey: KEY, appId: 'wx0000000000000001' });
    expectAppError(() => open(otherPlatform.encrypt('<xml/>')), MessageAppIdMismatchError, 'WECHAT_MSG_APPID_MISMATCH');
  });

  describe('padding', () => {
    const unpaddedBody = (): Buffer => plaintext({}).subarray(0, 20 + 19 + APPID.length); // 57 bytes, k = 7

    test.each([
      ['pad byte 0', Buffer.from([7, 7, 7, 7, 7, 7, 0])],
      ['pad byte 33 (a 64-byte block count would allow it; 32-byte blocks do not)', Buffer.alloc(7 + 32, 33)],
      ['pad bytes not all equal', Buffer.from([7, 7, 7, 6, 7, 7, 7])],
      ['pad claims more bytes than are padding', Buffer.from([7, 7, 7, 7, 7, 7, 8])],
    ])('%s', (_label, pad) => {
      const plain = Buffer.concat([unpaddedBody(), pad]);
      expect(plain.length % 16).toBe(0);
      expectAppError(() => open(rawEncrypt(plain)), MessagePaddingError, 'WECHAT_MSG_PADDING_INVALID');
    });

    test('ciphertext that is a whole number of AES blocks but not of 32-byte blocks', () => {
      const plain = Buffer.concat([unpaddedBody(), Buffer.alloc(7, 7)]).subarray(0, 48);
      expectAppError(() => open(rawEncrypt(plain)), MessagePaddingError, 'WECHAT_MSG_PADDING_INVALID');
    });

    test('no ciphertext at all', () => {
      expectAppError(() => crypto.decrypt(''), MessagePaddingError, 'WECHAT_MSG_PADDING_INVALID');
    });
  });

  describe('length field', () => {
    test.each([
      ['one byte more than there is', 19 + APPID.length + 1],
      ['huge', 0xffffffff],
    ])('%s', (_label, length) => {
      expectAppError(() => open(rawEncrypt(plaintext({ length }))), MessageLengthError, 'WECHAT_MSG_LENGTH_INVALID');
    });

    test('a plaintext too short to hold the header', () => {
      const plain = Buffer.concat([Buffer.alloc(16, 1), Buffer.alloc(16, 16)]); // 16 bytes of content, pad 16
      expectAppError(() => crypto.decrypt(rawEncrypt(plain)), MessageLengthError, 'WECHAT_MSG_LENGTH_INVALID');
    });

    test('a too-short length field hands message bytes to the trailer, which then fails the appid check', () => {
      expectAppError(() => open(rawEncrypt(plaintext({ length: 18 }))), MessageAppIdMismatchError, 'WECHAT_MSG_APPID_MISMATCH');
    });
  });

  test('message bytes that are not UTF-8', () => {
    const msg = Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e]);
    expectAppError(() => open(rawEncrypt(plaintext({ msg }))), MessageEncodingError, 'WECHAT_MSG_ENCODING_INVALID');
  });

  describe('Base64', () => {
    const good = crypto.encrypt('<xml><A>1</A></xml>');

    test.each([
      ['a character outside the alphabet', `!${good.slice(1)}`],
      ['URL-safe alphabet', good.replace(/\+/g, '-').replace(/\//g, '_').replace(/^./, '-')],
      ['embedded newline', `${good.slice(0, 20)}\n${good.slice(20)}`],
      ['embedded space', `${good.slice(0, 20)} ${good.slice(20)}`],
      ['wrong length', good.slice(0, -1)],
      ['missing padding', good.replace(/=+$/, '')],
      ['extra padding', `${good}==`],
      ['padding in the middle', `${good.slice(0, 8)}==${good.slice(10)}`],
      ['non-zero unused bits', `${good.slice(0, -3)}${good.at(-3) === 'B' ? 'C' : 'B'}==`],
      ['non-ASCII', `${good.slice(0, -4)}é${good.slice(-3)}`],
    ])('%s', (_label, encrypt) => {
      expect(encrypt).not.toBe(good);
      expectAppError(() => crypto.decrypt(encrypt), MessageBase64Error, 'WECHAT_MSG_BASE64_INVALID');
      expectAppError(() => open(encrypt), MessageBase64Error, 'WECHAT_MSG_BASE64_INVALID');
    });

    test('the sample ciphertext ends in "==", so the unused-bits case above is meaningful', () => {
      expect(good.endsWith('==')).toBe(true);
    });
  });

  describe('envelope', () => {
    test('without <Encrypt>', () => {
      expectAppError(
        () =>
          crypto.openEnvelope({
            body: '<xml><ToUserName>a</ToUserName></xml>',
            msgSignature: 'a'.repeat(40),
            timestamp: TS,
            nonce: NONCE,
            nowSeconds: NOW,
          }),
        XmlParseError,
        'WECHAT_XML_INVALID',
      );
    });

    test('with two <Encrypt> elements', () => {
      const e = crypto.encrypt('<xml/>');
      expectAppError(
        () =>
          crypto.openEnvelope({
            body: `<xml><Encrypt>${e}</Encrypt><Encrypt>${e}</Encrypt></xml>`,
            msgSignature: crypto.msgSignature(TS, NONCE, e),
            timestamp: TS,
            nonce: NONCE,
            nowSeconds: NOW,
          }),
        XmlParseError,
        'WECHAT_XML_INVALID',
      );
    });

    test('with an external entity', () => {
      const body = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>`;
      expectAppError(
        () => crypto.openEnvelope({ body, msgSignature: 'a'.repeat(40), timestamp: TS, nonce: NONCE, nowSeconds: NOW }),
        XmlForbiddenConstructError,
        'WECHAT_XML_FORBIDDEN',
      );
    });

    test('a decrypted message that is not WeChat XML', () => {
      expectAppError(() => open(crypto.encrypt('success')), XmlParseError, 'WECHAT_XML_INVALID');
    });
  });
});

describe('configuration', () => {
  test.each([
    ['42 characters', KEY.slice(1)],
    ['44 characters', `${KEY}A`],
    ['a character outside [A-Za-z0-9]', `${KEY.slice(0, 42)}+`],
    ['a padded Base64 key', `${KEY.slice(0, 42)}=`],
    ['empty', ''],
  ])('EncodingAESKey with %s', (_label, encodingAESKey) => {
    expectAppError(
      () => new WeChatMessageCrypto({ token: TOKEN, encodingAESKey, appId: APPID }),
      InvalidEncodingAESKeyError,
      'WECHAT_ENCODING_AES_KEY_INVALID',
    );
    expectAppError(
      () => new WeChatMessageCrypto({ token: TOKEN, encodingAESKey: KEY, appId: APPID, previousEncodingAESKey: encodingAESKey }),
      InvalidEncodingAESKeyError,
      'WECHAT_ENCODING_AES_KEY_INVALID',
    );
  });

  test('the error categories', () => {
    const categories = [
      new MessageSignatureError('x'),
      new StaleTimestampError('x'),
      new MessageAppIdMismatchError('x'),
      new MessagePaddingError('x'),
      new MessageLengthError('x'),
      new MessageEncodingError('x'),
      new MessageBase64Error('x'),
      new InvalidEncodingAESKeyError('x'),
    ].map((e) => [e.name, e.category]);
    expect(Object.fromEntries(categories)).toEqual({
      MessageSignatureError: 'unauthenticated',
      StaleTimestampError: 'unauthenticated',
      MessageAppIdMismatchError: 'invalid',
      MessagePaddingError: 'invalid',
      MessageLengthError: 'invalid',
      MessageEncodingError: 'invalid',
      MessageBase64Error: 'invalid',
      InvalidEncodingAESKeyError: 'invalid',
    });
  });

  test('empty token or appId is a configuration error', () => {
    expect(() => new WeChatMessageCrypto({ token: '', encodingAESKey: KEY, appId: APPID })).toThrow(ConfigError);
    expect(() => new WeChatMessageCrypto({ token: TOKEN, encodingAESKey: KEY, appId: '' })).toThrow(ConfigError);
  });

  test('encrypt insists on 16 random bytes', () => {
    expect(() => crypto.encrypt('x', Buffer.alloc(15))).toThrow(RangeError);
  });

  test('key rotation: the previous key still opens messages; the current one encrypts', () => {
    const OLD = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const before = new WeChatMessageCrypto({ token: TOKEN, encodingAESKey: OLD, appId: APPID });
    const rotated = new WeChatMessageCrypto({ token: TOKEN, encodingAESKey: KEY, appId: APPID, previousEncodingAESKey: OLD });
    const oldMessage = before.encrypt('<xml><A>old</A></xml>');
    expect(rotated.decrypt(oldMessage)).toBe('<xml><A>old</A></xml>');
    const newMessage = rotated.encrypt('<xml><A>new</A></xml>');
    expect(crypto.decrypt(newMessage)).toBe('<xml><A>new</A></xml>');
    expect(rotated.decrypt(newMessage)).toBe('<xml><A>new</A></xml>');
    // Without the previous key the old message is garbage, reported as a typed error.
    expectTypedFailure(() => crypto.decrypt(oldMessage));
  });

  test('key rotation: when both keys fail, the error is the current key’s', () => {
    const rotated = new WeChatMessageCrypto({ token: TOKEN, encodingAESKey: KEY, appId: APPID, previousEncodingAESKey: 'B'.repeat(43) });
    expectAppError(
      () => rotated.decrypt(rawEncrypt(plaintext({ appId: 'wx9999999999999999' }))),
      MessageAppIdMismatchError,
      'WECHAT_MSG_APPID_MISMATCH',
    );
  });

  test('decrypting repeatedly and after failures gives the same answer every time', () => {
    const e = crypto.encrypt('<xml><A>same</A></xml>');
    for (let i = 0; i < 3; i++) {
      expect(crypto.decrypt(e)).toBe('<xml><A>same</A></xml>');
      expect(() => crypto.decrypt(rawEncrypt(plaintext({ length: 0xffff })))).toThrow(MessageLengthError);
      expect(() => crypto.decrypt(`${e.slice(0, 32)}`)).toThrow(MessagePaddingError);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties

/** Code points XML 1.0 can carry (what buildWeChatXml accepts). */
const xmlSafeString = fc
  .string({ unit: 'binary', maxLength: 40 })
  .map((s) => s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '?'));

const eventMessage: fc.Arbitrary<WeChatXmlInput> = fc.record({
  ToUserName: xmlSafeString,
  FromUserName: xmlSafeString,
  CreateTime: fc.integer({ min: 0, max: 2 ** 31 }),
  MsgType: fc.constant('event'),
  Event: fc.constantFrom('weapp_audit_success', 'weapp_audit_fail', 'weapp_audit_delay'),
  Reason: xmlSafeString,
});

describe('properties', () => {
  test('encrypt → decrypt round-trips any Unicode string, the empty one included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (message, random) => {
        expect(crypto.decrypt(crypto.encrypt(message, Buffer.from(random)))).toBe(message);
      }),
      { numRuns: 300 },
    );
    expect(crypto.decrypt(crypto.encrypt(''))).toBe('');
  });

  test('sealEnvelope → openEnvelope round-trips', () => {
    fc.assert(
      fc.property(
        eventMessage,
        fc.integer({ min: NOW - 300, max: NOW + 300 }),
        fc.stringMatching(/^[0-9]{1,12}$/),
        (fields, timestamp, nonce) => {
          const message = buildWeChatXml(fields);
          const sealed = crypto.sealEnvelope(message, { timestamp: String(timestamp), nonce });
          const opened = crypto.openEnvelope({
            body: sealed.body,
            msgSignature: sealed.msgSignature,
            timestamp: String(timestamp),
            nonce,
            nowSeconds: NOW,
          });
          expect(opened.message).toBe(message);
          expect(opened.fields).toEqual({ ...fields, CreateTime: String(fields.CreateTime) });
        },
      ),
      { numRuns: 200 },
    );
  });

  /*
   * CBC is malleable, and a re-signed push (the attacker would need the token) is the strongest tampering model.
   * A changed byte garbles one plaintext block and flips one byte of the next; the block checks, the appid
   * trailer, strict UTF-8 and strict XML must catch every case, and only ever with a typed error.
   */
  const tamperedMessages = [V1.decrypted.msg, V3.decrypted.msg, V7.decrypted.msg, buildWeChatXml(AUDIT_SUCCESS_FIELDS)];

  function openTampered(encrypt: Buffer, index: number, delta: number): unknown {
    const tampered = Buffer.from(encrypt);
    tampered[index] = (tampered[index] ?? 0) ^ delta;
    const e = tampered.toString('base64');
    try {
      return open(e, { msgSignature: crypto.msgSignature(TS, NONCE, e) });
    } catch (error) {
      return error;
    }
  }

  test('any single-byte change of the ciphertext is rejected with a typed error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...tamperedMessages),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (message, random, position, delta) => {
          const ciphertext = Buffer.from(crypto.encrypt(message, Buffer.from(random)), 'base64');
          const outcome = openTampered(ciphertext, position % ciphertext.length, delta);
          expect(isAppError(outcome)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('every change within the first block (it only flips bytes of the length field and message start) is rejected', () => {
    for (const message of tamperedMessages) {
      const ciphertext = Buffer.from(crypto.encrypt(message), 'base64');
      for (let index = 0; index < 16; index++) {
        for (let delta = 1; delta < 256; delta++) {
          const outcome = openTampered(ciphertext, index, delta);
          if (!isAppError(outcome)) throw new Error(`byte ${index} ^ ${delta} was accepted: ${JSON.stringify(outcome)}`);
        }
      }
    }
  });

  test('any single-character change of the signature is rejected', () => {
    const encrypt = crypto.encrypt(V1.decrypted.msg);
    const signature = crypto.msgSignature(TS, NONCE, encrypt);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 39 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), (index, char) => {
        fc.pre(char !== signature[index]);
        const forged = signature.slice(0, index) + char + signature.slice(index + 1);
        expect(crypto.verifyMsgSignature(TS, NONCE, encrypt, forged)).toBe(false);
        expect(() => open(encrypt, { msgSignature: forged })).toThrow(MessageSignatureError);
      }),
      { numRuns: 300 },
    );
    // Every hex substitution at every position, exhaustively.
    for (let index = 0; index < 40; index++) {
      for (const char of '0123456789abcdefABCDEF') {
        if (char === signature[index]) continue;
        const forged = signature.slice(0, index) + char + signature.slice(index + 1);
        expect(crypto.verifyMsgSignature(TS, NONCE, encrypt, forged)).toBe(false);
      }
    }
  });
});

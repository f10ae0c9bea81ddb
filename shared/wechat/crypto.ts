/**
 * WXBizMsgCrypt "safe mode": the signing and AES envelope around every push a third-party platform receives
 * (reference §1.3–1.7).
 *
 * Tencent's samples are lenient (bad padding is treated as none, the appid trailer is often unchecked). This
 * implementation rejects every deviation with its own typed error instead: a push that fails any check did not
 * come from WeChat for this platform, and silently accepting a half-valid one is how confused-deputy bugs start.
 */

import { isUtf8 } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { createCipheriv, createDecipheriv, createHash, type Decipher, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError, ConfigError } from '../domain/errors';
import type { WeChatConfig } from '../runtime/config';
import { cdata, parseWeChatXml, type WeChatXmlFields, XmlParseError } from './xml';

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** msg_signature (or nonce, which it covers) is missing, malformed or does not match. Official code -40001. */
export class MessageSignatureError extends AppError {
  readonly code = 'WECHAT_MSG_SIGNATURE_INVALID';
  readonly category = 'unauthenticated' as const;
}

/** timestamp is missing, not a number, or too far from now: a replay, or a badly skewed clock. */
export class StaleTimestampError extends AppError {
  readonly code = 'WECHAT_TIMESTAMP_STALE';
  readonly category = 'unauthenticated' as const;
}

/** The plaintext trailer names another appid than this platform's component appid. Official code -40005. */
export class MessageAppIdMismatchError extends AppError {
  readonly code = 'WECHAT_MSG_APPID_MISMATCH';
  readonly category = 'invalid' as const;
}

/** The ciphertext is not a whole number of 32-byte blocks, or its PKCS#7 (block 32) padding is wrong. */
export class MessagePaddingError extends AppError {
  readonly code = 'WECHAT_MSG_PADDING_INVALID';
  readonly category = 'invalid' as const;
}

/** The 4-byte length field points past the end of the plaintext. Official code -40008. */
export class MessageLengthError extends AppError {
  readonly code = 'WECHAT_MSG_LENGTH_INVALID';
  readonly category = 'invalid' as const;
}

/** The message bytes are not valid UTF-8, which no genuine push produces. Official code -40008. */
export class MessageEncodingError extends AppError {
  readonly code = 'WECHAT_MSG_ENCODING_INVALID';
  readonly category = 'invalid' as const;
}

/** The ciphertext is not canonical, padded, standard Base64. Official code -40010. */
export class MessageBase64Error extends AppError {
  readonly code = 'WECHAT_MSG_BASE64_INVALID';
  readonly category = 'invalid' as const;
}

/** An EncodingAESKey is not 43 characters of [A-Za-z0-9]. Official code -40004. */
export class InvalidEncodingAESKeyError extends AppError {
  readonly code = 'WECHAT_ENCODING_AES_KEY_INVALID';
  readonly category = 'invalid' as const;
}

// ---------------------------------------------------------------------------------------------------------------
// API

export interface MessageCryptoConfig {
  token: string;
  /** 43 chars [A-Za-z0-9]; validated in the constructor (InvalidEncodingAESKeyError). */
  encodingAESKey: string;
  /** The COMPONENT appid: the plaintext trailer must equal it. */
  appId: string;
  /** Key rotation: tried when the current key fails to decrypt (ref §1.5 step 6). */
  previousEncodingAESKey?: string;
}

export interface OpenEnvelopeInput {
  /** Raw POST body (XML envelope with <Encrypt>). */
  body: string;
  msgSignature: string | undefined;
  timestamp: string | undefined;
  nonce: string | undefined;
  /** For the freshness check; default Math.floor(Date.now()/1000). */
  nowSeconds?: number;
  /** Default 300; |now - timestamp| > this → StaleTimestampError. */
  maxSkewSeconds?: number;
}

export interface OpenedEnvelope {
  message: string;
  fields: WeChatXmlFields;
}

export interface SealedEnvelope {
  body: string;
  msgSignature: string;
  encrypt: string;
}

export const DEFAULT_MAX_SKEW_SECONDS = 300;

const BLOCK = 32; // WeChat pads to 32 bytes, not AES's 16
const RANDOM_BYTES = 16;
const HEADER_BYTES = RANDOM_BYTES + 4;

const ENCODING_AES_KEY = /^[A-Za-z0-9]{43}$/;
const SIGNATURE_HEX = /^[0-9a-f]{40}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;

interface AesKey {
  key: Buffer;
  iv: Buffer;
  /**
   * One long-lived CBC decipher per key, never finalised. In CBC the only state carried between blocks is the
   * previous ciphertext block, so feeding the IV as a throw-away first block re-arms it exactly as a fresh
   * `createDecipheriv(key, iv)` would, minus a decipher's setup. Inputs are always whole blocks, so no partial
   * block is ever buffered inside it.
   */
  decipher: Decipher;
}

function deriveKey(encodingAESKey: string, field: string): AesKey {
  if (typeof encodingAESKey !== 'string' || !ENCODING_AES_KEY.test(encodingAESKey)) {
    throw new InvalidEncodingAESKeyError('EncodingAESKey must be 43 characters of [A-Za-z0-9]', { field });
  }
  // The 43rd character carries two bits that Base64 discards; Buffer's lenient decoder is what the samples use.
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  const iv = Buffer.from(key.subarray(0, 16));
  return { key, iv, decipher: createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false) };
}

/**
 * One-shot `crypto.hash` is the fastest path, but it arrived in Node 20.12: SCF's Nodejs18.15 runtime lacks it,
 * so fall back to createHash there.
 */
const sha1Hex: (text: string) => string =
  typeof nodeCrypto.hash === 'function'
    ? (text) => nodeCrypto.hash('sha1', text, 'hex')
    : (text) => createHash('sha1').update(text).digest('hex');

/** Plain code-unit sort and no separator, as every WeChat SDK does. */
function sha1Signature(values: string[]): string {
  return sha1Hex(values.sort().join(''));
}

/** The 3-value `signature` query parameter (token, timestamp, nonce). It does not cover the body: never trust it. */
export function plainSignature(token: string, timestamp: string, nonce: string): string {
  return sha1Signature([token, timestamp, nonce]);
}

export class WeChatMessageCrypto {
  // TS-private rather than #private: bundlers targeting older runtimes turn #fields into WeakMap lookups.
  private readonly token: string;
  private readonly appId: Buffer;
  private readonly keys: readonly AesKey[];
  /** Scratch space for the constant-time compare; safe to share because verification is synchronous. */
  private readonly expectedSignature = Buffer.alloc(40);
  private readonly givenSignature = Buffer.alloc(40);

  constructor(config: MessageCryptoConfig) {
    if (typeof config.token !== 'string' || config.token === '') {
      throw new ConfigError('WeChat message token must be a non-empty string', { field: 'token' });
    }
    if (typeof config.appId !== 'string' || config.appId === '') {
      throw new ConfigError('WeChat component appId must be a non-empty string', { field: 'appId' });
    }
    this.token = config.token;
    this.appId = Buffer.from(config.appId, 'utf8');
    const current = deriveKey(config.encodingAESKey, 'encodingAESKey');
    this.keys =
      config.previousEncodingAESKey === undefined
        ? [current]
        : [current, deriveKey(config.previousEncodingAESKey, 'previousEncodingAESKey')];
  }

  /** sha1 hex over the sorted token, timestamp, nonce and Encrypt values. */
  msgSignature(timestamp: string, nonce: string, encrypt: string): string {
    return sha1Signature([this.token, timestamp, nonce, encrypt]);
  }

  /** Constant-time comparison; a signature that is not 40 lowercase hex digits never matches. */
  verifyMsgSignature(timestamp: string, nonce: string, encrypt: string, signature: string): boolean {
    if (typeof signature !== 'string' || !SIGNATURE_HEX.test(signature)) return false;
    this.expectedSignature.write(sha1Signature([this.token, timestamp, nonce, encrypt]), 'latin1');
    this.givenSignature.write(signature, 'latin1');
    return timingSafeEqual(this.expectedSignature, this.givenSignature);
  }

  /** Encrypts with the current key; `random` (16 bytes) is only fixed by tests reproducing known vectors. */
  encrypt(message: string, random: Buffer = randomBytes(RANDOM_BYTES)): string {
    if (random.length !== RANDOM_BYTES) throw new RangeError(`random must be ${RANDOM_BYTES} bytes`);
    const messageBytes = Buffer.byteLength(message, 'utf8');
    const unpadded = HEADER_BYTES + messageBytes + this.appId.length;
    const pad = BLOCK - (unpadded % BLOCK);
    const plain = Buffer.allocUnsafe(unpadded + pad);
    random.copy(plain, 0);
    plain.writeUInt32BE(messageBytes, RANDOM_BYTES);
    plain.write(message, HEADER_BYTES, messageBytes, 'utf8');
    this.appId.copy(plain, HEADER_BYTES + messageBytes);
    plain.fill(pad, unpadded);

    const { key, iv } = currentKey(this.keys);
    const cipher = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    const head = cipher.update(plain);
    const tail = cipher.final();
    return (tail.length === 0 ? head : Buffer.concat([head, tail])).toString('base64');
  }

  /**
   * Decrypts and checks everything the format allows checking: Base64, block size, padding, length field, appid
   * trailer, UTF-8. With a previous key configured, it is tried when the current one yields an invalid plaintext.
   */
  decrypt(encrypt: string): string {
    if (typeof encrypt !== 'string') throw new MessageBase64Error('Encrypt is not a string');
    const ciphertext = Buffer.from(encrypt, 'base64');
    // Buffer.from forgives (foreign characters, URL-safe alphabet, no padding, stray bits): several strings decode to
    // one ciphertext. Only the canonical form re-encodes to itself, a check far cheaper than a validating regex.
    if (ciphertext.toString('base64') !== encrypt) {
      throw new MessageBase64Error('Encrypt is not canonical Base64');
    }
    if (ciphertext.length === 0 || ciphertext.length % BLOCK !== 0) {
      throw new MessagePaddingError(`ciphertext length ${ciphertext.length} is not a positive multiple of ${BLOCK}`);
    }

    let firstFailure: unknown;
    for (const key of this.keys) {
      try {
        return this.openWith(ciphertext, key);
      } catch (error) {
        // With a wrong key every check after the AES step fails at random; report what the current key saw.
        firstFailure ??= error;
      }
    }
    throw firstFailure;
  }

  private openWith(ciphertext: Buffer, { iv, decipher }: AesKey): string {
    // The IV goes in as the first block of the same call: one `update` instead of two, ~2 µs less per push on
    // Node 20 (`npx tsx bench/crypto.ts`), where each call costs more than the AES of a push.
    const out = decipher.update(Buffer.concat([iv, ciphertext]));
    if (out.length !== iv.length + ciphertext.length) throw new Error('unreachable: CBC decipher held back a block');
    const plain = out.subarray(iv.length);

    const end = plain.length;
    const pad = plain[end - 1] ?? 0;
    if (pad < 1 || pad > BLOCK) throw new MessagePaddingError(`invalid padding byte ${pad}`);
    for (let i = end - pad; i < end - 1; i++) {
      if (plain[i] !== pad) throw new MessagePaddingError('padding bytes differ');
    }
    const unpadded = end - pad;
    if (unpadded < HEADER_BYTES) throw new MessageLengthError('plaintext shorter than its header');

    const messageBytes = plain.readUInt32BE(RANDOM_BYTES);
    const messageEnd = HEADER_BYTES + messageBytes;
    if (messageEnd > unpadded) {
      throw new MessageLengthError(`length field ${messageBytes} exceeds the ${unpadded - HEADER_BYTES} bytes left`);
    }
    if (plain.compare(this.appId, 0, this.appId.length, messageEnd, unpadded) !== 0) {
      throw new MessageAppIdMismatchError('message was encrypted for another appid');
    }
    const message = plain.subarray(HEADER_BYTES, messageEnd);
    if (!isUtf8(message)) throw new MessageEncodingError('message is not valid UTF-8');
    return message.toString('utf8');
  }

  /**
   * Opens a push: parse the envelope, check the timestamp, verify msg_signature (before any decryption, so
   * unauthenticated bytes never reach the cipher), decrypt, parse the message.
   */
  openEnvelope(input: OpenEnvelopeInput): OpenedEnvelope {
    const envelope = parseWeChatXml(input.body);
    const encrypt = envelope.Encrypt;
    if (typeof encrypt !== 'string' || encrypt === '') {
      throw new XmlParseError('envelope has no single <Encrypt> value', { field: 'Encrypt' });
    }

    const { timestamp, nonce, msgSignature } = input;
    if (timestamp === undefined || !TIMESTAMP.test(timestamp)) {
      throw new StaleTimestampError('timestamp is missing or not a number', { field: 'timestamp' });
    }
    const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
    const maxSkew = input.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
    const skew = Math.abs(now - Number(timestamp));
    if (!(skew <= maxSkew)) {
      throw new StaleTimestampError(`timestamp is ${skew}s away from now (max ${maxSkew}s)`, {
        field: 'timestamp',
        details: { skewSeconds: skew, maxSkewSeconds: maxSkew },
      });
    }

    if (msgSignature === undefined || msgSignature === '') {
      throw new MessageSignatureError('msg_signature is missing', { field: 'msg_signature' });
    }
    if (nonce === undefined || nonce === '') {
      throw new MessageSignatureError('nonce is missing', { field: 'nonce' });
    }
    if (!this.verifyMsgSignature(timestamp, nonce, encrypt, msgSignature)) {
      throw new MessageSignatureError('msg_signature does not match', { field: 'msg_signature' });
    }

    const message = this.decrypt(encrypt);
    return { message, fields: parseWeChatXml(message) };
  }

  /** Builds an encrypted passive reply in the exact layout of Tencent's samples (reference §1.6). */
  sealEnvelope(message: string, opts: { timestamp: string; nonce: string; random?: Buffer }): SealedEnvelope {
    const encrypt = this.encrypt(message, opts.random);
    const msgSignature = this.msgSignature(opts.timestamp, opts.nonce, encrypt);
    const body =
      `<xml>\n<Encrypt>${cdata(encrypt)}</Encrypt>\n` +
      `<MsgSignature>${cdata(msgSignature)}</MsgSignature>\n` +
      `<TimeStamp>${escapeText(opts.timestamp)}</TimeStamp>\n` +
      `<Nonce>${cdata(opts.nonce, 'nonce')}</Nonce>\n</xml>`;
    return { body, msgSignature, encrypt };
  }
}

function currentKey(keys: readonly AesKey[]): AesKey {
  const key = keys[0];
  if (key === undefined) throw new Error('unreachable: the constructor always derives the current key');
  return key;
}

function escapeText(value: string): string {
  return value.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/**
 * The component's message crypto, built on first use from the configuration. Only the functions that receive
 * pushes ask for it (through their own composition root), so the XML parser stays out of every other bundle.
 */
export function messageCryptoOf(wechat: WeChatConfig): () => WeChatMessageCrypto {
  let crypto: WeChatMessageCrypto | undefined;
  return () =>
    (crypto ??= new WeChatMessageCrypto({
      token: wechat.token,
      encodingAESKey: wechat.encodingAESKey,
      appId: wechat.componentAppId,
      previousEncodingAESKey: wechat.previousEncodingAESKey,
    }));
}

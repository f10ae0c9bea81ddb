/**
 * Receiving a WeChat push, the same for both callback URLs: verify the signature and timestamp, decrypt, act on
 * it, record it in the inbox with its outcome, and only then answer `success` (see inbox.ts for why in this order).
 *
 * A bad signature or stale timestamp is refused (4xx) and nothing is stored, and so is a push to a mini program's
 * URL that names another mini program (`PushRecipient`). A push recorded before is answered `success` without
 * acting again. A failure a retry could fix answers with an error (so WeChat retries) and records nothing; a push
 * that can never be processed is recorded as failed and acknowledged, to stop the retries.
 */

import { AppError, isAppError, PayloadTooLargeError, ValidationError } from '../domain/errors';
import type * as z from '../domain/zod';
import type { Reply } from '../runtime/http/route';
import type { Logger } from '../runtime/logger';
import type { MetricsRecorder } from '../runtime/metrics';
import type { WeChatMessageCrypto } from './crypto';
import { fingerprintOf, type Inbox } from './inbox';
import type { pushQuery } from './push-route';
import { DEFAULT_MAX_XML_BYTES, type WeChatXmlFields } from './xml';

/** A genuine push, but for another mini program (its ToUserName) than the one whose URL received it. */
export class PushRecipientMismatchError extends AppError {
  readonly code = 'WECHAT_PUSH_RECIPIENT_MISMATCH';
  readonly category = 'forbidden' as const;
}

/** A push to the URL of a mini program the platform has no record of, so whom it names cannot be checked. */
export class UnknownPushRecipientError extends AppError {
  readonly code = 'WECHAT_PUSH_RECIPIENT_UNKNOWN';
  readonly category = 'not-found' as const;
}

export const SUCCESS: Reply = { status: 200, text: 'success' };

export interface PushDescription {
  type: string;
  appId: string | null;
  createTime: number | null;
}

/**
 * The mini program whose URL (`/wechat/authorizers/{appid}/events`) received a push, and the original id (`gh_…`)
 * stored for it (null: no such mini program). msg_signature does not cover the path — every mini program's pushes
 * are sealed with the one platform token and key — so a genuine push re-posted to another mini program's URL
 * verifies perfectly; only its ToUserName says whom WeChat meant it for. The appid is also part of the inbox key,
 * so a push at one URL can never mark the same plaintext handled for another.
 */
export interface PushRecipient {
  appid: string;
  userName: () => Promise<string | null>;
}

export async function receivePush<P>(options: {
  source: 'component' | 'authorizer';
  crypto: WeChatMessageCrypto;
  inbox: Inbox;
  log: Logger;
  /** Puts the push's outcome on the request's access-log line (one line per push). */
  annotate: (fields: Record<string, unknown>) => void;
  nowSeconds: number;
  /** Pushes to a mini program's own URL: checked before anything is read or written. */
  recipient?: PushRecipient;
  query: z.infer<typeof pushQuery>;
  rawBody: Buffer;
  schema: z.ZodMiniType<P>;
  describe: (push: P) => PushDescription;
  act: (push: P) => Promise<string>;
  /** push_lag: WeChat's CreateTime to now, for pushes seen the first time. */
  metrics?: MetricsRecorder;
}): Promise<Reply> {
  const { crypto, inbox, log, query } = options;
  // Size first: an oversized body is 413 whatever else is wrong with it, before any other work.
  if (options.rawBody.length > DEFAULT_MAX_XML_BYTES) {
    throw new PayloadTooLargeError(`a push body is at most ${DEFAULT_MAX_XML_BYTES} bytes`, {
      field: 'body',
      details: { maxBytes: DEFAULT_MAX_XML_BYTES },
    });
  }
  refuseUnlessSafeMode(query.encrypt_type);
  const receivedAt = options.nowSeconds * 1000;
  const opened = crypto.openEnvelope({
    body: options.rawBody.toString('utf8'),
    msgSignature: query.msg_signature,
    timestamp: query.timestamp,
    nonce: query.nonce,
    nowSeconds: options.nowSeconds,
  });
  const push = parsePush(options.schema, opened.fields);
  if (options.recipient) await checkRecipient(options.recipient, opened.fields.ToUserName);
  const description = options.describe(push);
  const facts = { source: options.source, ...description };
  const id = fingerprintOf(options.source, opened.message, options.recipient?.appid);
  const earlier = await inbox.handled(id);
  if (earlier) {
    options.annotate({ push: { ...facts, duplicate: true, status: earlier.status } });
    return SUCCESS;
  }
  if (description.createTime !== null) {
    options.metrics?.record('push_lag', Math.max(0, options.nowSeconds - description.createTime), { source: options.source });
  }
  let outcome: string;
  try {
    outcome = await options.act(push);
  } catch (error) {
    if (isAppError(error) && (error.category === 'invalid' || error.category === 'internal' || error.category === 'not-found')) {
      await inbox.record(id, facts, receivedAt, 'failed', error.code);
      log.error('push cannot be processed; acknowledged to stop retries', { source: options.source, type: description.type, error });
      return SUCCESS;
    }
    throw error; // nothing recorded: WeChat's retry processes the push again
  }
  const recorded = await inbox.record(id, facts, receivedAt, 'processed', outcome);
  options.annotate({ push: { ...facts, outcome, ...(recorded === 'duplicate' ? { duplicate: true } : {}) } });
  return SUCCESS;
}

/**
 * A third-party platform's two URLs receive in safe mode only ("forced to safe mode (ciphertext only)", reference
 * §1.1), and a safe-mode push always carries `encrypt_type=aes` (§1.2, and the push URL of WeChat's own
 * message_push example). WxJava's open-platform demo (`WechatNotifyController`) refuses any push whose encrypt_type
 * is not `aes` before it decrypts anything; so do we: a push that says it is `raw`, or says nothing, is not what
 * WeChat sends, however well it is signed.
 */
function refuseUnlessSafeMode(encryptType: string | undefined): void {
  if (encryptType === 'aes') return;
  throw new ValidationError(
    `a WeChat push to this URL is always encrypted (encrypt_type=aes), not ${encryptType === undefined ? 'unmarked' : `encrypt_type=${encryptType}`}`,
    [{ path: 'query.encrypt_type', message: 'must be aes' }],
    { code: 'WECHAT_PUSH_NOT_ENCRYPTED' },
  );
}

async function checkRecipient(recipient: PushRecipient, toUserName: unknown): Promise<void> {
  const expected = await recipient.userName();
  if (expected === null) {
    throw new UnknownPushRecipientError(`no mini program ${recipient.appid} is known to this platform`, { field: 'params.appid' });
  }
  if (toUserName !== expected) {
    // Neither original id goes into the answer: whoever re-posts a captured push is not owed the stored one.
    throw new PushRecipientMismatchError(`the push is not addressed to the mini program ${recipient.appid}`, {
      field: 'message.ToUserName',
    });
  }
}

function parsePush<P>(schema: z.ZodMiniType<P>, fields: WeChatXmlFields): P {
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  throw new ValidationError(
    'the decrypted push is not an event this URL receives',
    parsed.error.issues.map((issue) => ({ path: `message.${issue.path.join('.')}`, message: issue.message })),
    { code: 'WECHAT_PUSH_INVALID' },
  );
}

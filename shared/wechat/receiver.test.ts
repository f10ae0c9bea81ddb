/**
 * The receiver against the real SQLite inbox: which URL a push arrived at decides whom it is for and which inbox
 * entry it is, so handling a push at one mini program's URL never counts as handling it at another's.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../domain/errors';
import * as z from '../domain/zod';
import { createLogger } from '../runtime/logger';
import type { DocumentStore } from '../store/port';
import { openSqliteStore } from '../store/sqlite';
import { WeChatMessageCrypto } from './crypto';
import { createInbox, inboxCollection } from './inbox';
import type { pushQuery } from './push-route';
import { type PushRecipient, receivePush } from './receiver';
import { buildWeChatXml } from './xml';

const crypto = new WeChatMessageCrypto({
  token: 'receivertoken',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appId: 'wx0000000000000001',
});
const NOW = 1_800_000_000;
const A = 'wxaaaaaaaaaaaaaaaa';
const B = 'wxbbbbbbbbbbbbbbbb';

let store: DocumentStore;
beforeEach(() => {
  store = openSqliteStore({ path: ':memory:' });
});
afterEach(() => store.close());

const auditFail = (toUserName: string) =>
  buildWeChatXml({
    ToUserName: toUserName,
    FromUserName: 'o_system',
    CreateTime: NOW,
    MsgType: 'event',
    Event: 'weapp_audit_fail',
    Reason: 'no',
  });

function sealed(message: string) {
  const envelope = crypto.sealEnvelope(message, { timestamp: String(NOW), nonce: '12345' });
  return {
    rawBody: Buffer.from(envelope.body),
    query: { timestamp: String(NOW), nonce: '12345', encrypt_type: 'aes', msg_signature: envelope.msgSignature },
  };
}

/** Delivers a push the way both handlers do, and says what the handler was asked to do. */
async function deliver(
  push: { rawBody: Buffer; query: z.infer<typeof pushQuery> },
  options: { source?: 'component' | 'authorizer'; recipient?: PushRecipient } = {},
) {
  const acted: string[] = [];
  const reply = await receivePush({
    source: options.source ?? 'authorizer',
    crypto,
    inbox: createInbox(store, () => NOW * 1000),
    log: createLogger({ level: 'error' }),
    annotate: () => undefined,
    nowSeconds: NOW,
    ...(options.recipient ? { recipient: options.recipient } : {}),
    ...push,
    schema: z.object({ Event: z.optional(z.string()), InfoType: z.optional(z.string()) }),
    describe: (p) => ({ type: p.Event ?? p.InfoType ?? '?', appId: options.recipient?.appid ?? null, createTime: NOW }),
    act: async (p) => {
      acted.push(p.Event ?? p.InfoType ?? '?');
      return 'done';
    },
  });
  return { reply, acted };
}

const inboxSize = async () => (await store.collection(inboxCollection).find()).length;
const errorCode = (error: unknown) => (error instanceof AppError ? { code: error.code, category: error.category } : error);

describe('receivePush: safe mode only', () => {
  it.each([['raw'], ['AES'], [''], [undefined]])(
    'refuses a genuinely signed and encrypted push whose encrypt_type is %p, and acts on nothing',
    async (encryptType) => {
      const { rawBody, query } = sealed(auditFail('gh_any'));
      const { encrypt_type: aes, ...unmarked } = query;
      expect(aes).toBe('aes');
      const push = { rawBody, query: encryptType === undefined ? unmarked : { ...unmarked, encrypt_type: encryptType } };
      await expect(deliver(push)).rejects.toMatchObject({
        code: 'WECHAT_PUSH_NOT_ENCRYPTED',
        category: 'invalid',
        field: 'query.encrypt_type',
      });
      expect(await inboxSize()).toBe(0);
    },
  );

  it('takes the same push with encrypt_type=aes', async () => {
    const { reply, acted } = await deliver(sealed(auditFail('gh_any')));
    expect({ reply, acted }).toEqual({ reply: { status: 200, text: 'success' }, acted: ['weapp_audit_fail'] });
  });
});

describe('receivePush for a mini program’s URL', () => {
  it('acts on a push addressed to the mini program of the URL, once', async () => {
    const push = sealed(auditFail('gh_aaaa'));
    const recipient = { appid: A, userName: async () => 'gh_aaaa' };
    expect(await deliver(push, { recipient })).toEqual({ reply: { status: 200, text: 'success' }, acted: ['weapp_audit_fail'] });
    expect((await deliver(push, { recipient })).acted).toEqual([]);
  });

  it('refuses a push addressed to another mini program, or with no addressee, and records nothing', async () => {
    for (const message of [auditFail('gh_aaaa'), buildWeChatXml({ CreateTime: NOW, MsgType: 'event', Event: 'weapp_audit_fail' })]) {
      const refused = await deliver(sealed(message), { recipient: { appid: B, userName: async () => 'gh_bbbb' } }).catch(errorCode);
      expect(refused).toEqual({ code: 'WECHAT_PUSH_RECIPIENT_MISMATCH', category: 'forbidden' });
    }
    expect(await inboxSize()).toBe(0);
  });

  it('refuses a push to the URL of a mini program the platform has no record of, and records nothing', async () => {
    const refused = await deliver(sealed(auditFail('gh_aaaa')), { recipient: { appid: B, userName: async () => null } }).catch(errorCode);
    expect(refused).toEqual({ code: 'WECHAT_PUSH_RECIPIENT_UNKNOWN', category: 'not-found' });
    expect(await inboxSize()).toBe(0);
  });

  it('keeps the inbox apart per receiving URL: handling a push at one never marks it handled at another', async () => {
    // Both lookups accept the message, as if two records claimed one original id: only the inbox key keeps them apart.
    const push = sealed(auditFail('gh_same'));
    expect((await deliver(push, { recipient: { appid: B, userName: async () => 'gh_same' } })).acted).toEqual(['weapp_audit_fail']);
    expect((await deliver(push, { recipient: { appid: A, userName: async () => 'gh_same' } })).acted).toEqual(['weapp_audit_fail']);
    expect(await inboxSize()).toBe(2);
  });

  it('still recognises component pushes recorded before authorizer keys named their URL', async () => {
    const message = buildWeChatXml({ AppId: 'wx0000000000000001', CreateTime: NOW, InfoType: 'unauthorized', AuthorizerAppid: A });
    const earlierKey = createHash('sha256').update('component').update('\0').update(message).digest('hex');
    await createInbox(store).record(
      earlierKey,
      { source: 'component', type: 'unauthorized', appId: A, createTime: NOW },
      NOW * 1000,
      'processed',
      'done',
    );
    expect((await deliver(sealed(message), { source: 'component' })).acted).toEqual([]);
  });
});

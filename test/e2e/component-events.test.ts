/**
 * WeChat → local runtime → authorize-callback, over real sockets: the simulator pushes encrypted events exactly as
 * WeChat does, and the function verifies, de-duplicates and stores them before answering `success`.
 */
import { type Platform, startPlatform } from '../../infra/local/driver';
import { parseConfig } from '../../shared/runtime/config';
import { openSqliteStore } from '../../shared/store/sqlite';
import { WeChatMessageCrypto } from '../../shared/wechat/crypto';
import { inboxCollection } from '../../shared/wechat/inbox';
import { buildWeChatXml } from '../../shared/wechat/xml';
import { readError } from '../support/http';

let p: Platform;

const inboxEntries = async () => {
  const store = openSqliteStore({ path: process.env.SQLITE_PATH ?? '' });
  try {
    return await store.collection(inboxCollection).find();
  } finally {
    await store.close();
  }
};

// No verify ticket until the first test has the simulator push one.
beforeAll(async () => {
  p = await startPlatform({ ticketIntervalMs: 0 });
});
afterAll(() => p.close());

const eventsUrl = () => `${p.url}/wechat/component/events`;
/** How the simulator posts a push (the push routes take any media type: WeChat's docs name none). */
const XML = { 'content-type': 'text/xml' };

function sealedPush(fields: Record<string, string | number>, timestamp = Math.floor(Date.now() / 1000)) {
  const config = parseConfig(process.env);
  const crypto = new WeChatMessageCrypto({
    token: config.wechat.token,
    encodingAESKey: config.wechat.encodingAESKey,
    appId: config.wechat.componentAppId,
  });
  const nonce = String(Math.floor(Math.random() * 1e9));
  const sealed = crypto.sealEnvelope(buildWeChatXml(fields), { timestamp: String(timestamp), nonce });
  const query = new URLSearchParams({ timestamp: String(timestamp), nonce, encrypt_type: 'aes', msg_signature: sealed.msgSignature });
  return { url: `${eventsUrl()}?${query}`, body: sealed.body, query, sealed };
}

describe('POST /wechat/component/events', () => {
  it('stores the verify ticket the simulator pushes and answers success', async () => {
    const { sim } = p;
    const ticket = await sim.pushVerifyTicket();
    const delivered = (await fetch(`${sim.baseUrl}/sim/pushes`).then((r) => r.json())) as unknown;
    expect(JSON.stringify(delivered)).toContain('success');
    const entries = await inboxEntries();
    expect(entries.filter((e) => e.data.type === 'component_verify_ticket' && e.data.status === 'processed')).toHaveLength(1);
    expect(ticket).toMatch(/^ticket@@@/);
  });

  it('processes a push once, however many times it is delivered', async () => {
    const push = sealedPush({
      AppId: 'x',
      CreateTime: Math.floor(Date.now() / 1000),
      InfoType: 'unauthorized',
      AuthorizerAppid: 'wx0123456789abcdef',
    });
    const answers = await Promise.all(
      [1, 2, 3].map(() => fetch(push.url, { method: 'POST', headers: XML, body: push.body }).then((r) => r.text())),
    );
    expect(answers).toEqual(['success', 'success', 'success']);
    const matching = (await inboxEntries()).filter((e) => e.data.appId === 'wx0123456789abcdef');
    expect(matching).toHaveLength(1);
    expect(matching[0]?.data.status).toBe('processed');
  });

  it('refuses a bad signature with 401 and stores nothing', async () => {
    const before = (await inboxEntries()).length;
    const push = sealedPush({ AppId: 'x', CreateTime: 1, InfoType: 'authorized', AuthorizerAppid: 'wx1111111111111111' });
    push.query.set('msg_signature', '0'.repeat(40));
    const response = await fetch(`${eventsUrl()}?${push.query}`, { method: 'POST', headers: XML, body: push.body });
    expect(response.status).toBe(401);
    expect((await readError(response)).code).toMatch(/SIGNATURE/);
    expect((await inboxEntries()).length).toBe(before);
  });

  it('refuses a stale timestamp (a replay) with 401 and stores nothing', async () => {
    const before = (await inboxEntries()).length;
    const push = sealedPush(
      { AppId: 'x', CreateTime: 1, InfoType: 'authorized', AuthorizerAppid: 'wx2222222222222222' },
      Math.floor(Date.now() / 1000) - 3600,
    );
    const response = await fetch(push.url, { method: 'POST', headers: XML, body: push.body });
    expect(response.status).toBe(401);
    expect((await readError(response)).code).toMatch(/TIMESTAMP/);
    expect((await inboxEntries()).length).toBe(before);
  });

  it('refuses XML with a DOCTYPE and an oversized body with 4xx', async () => {
    const xxe = await fetch(
      `${eventsUrl()}?timestamp=${Math.floor(Date.now() / 1000)}&nonce=1&encrypt_type=aes&msg_signature=${'a'.repeat(40)}`,
      {
        method: 'POST',
        headers: XML,
        body: '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>',
      },
    );
    expect(xxe.status).toBeGreaterThanOrEqual(400);
    expect(xxe.status).toBeLessThan(500);
    // Over a push's 64 KiB, under MAX_BODY_BYTES: the same code as any body too large, before anything else is read.
    const huge = await fetch(eventsUrl(), { method: 'POST', headers: XML, body: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect((await readError(huge)).code).toBe('PAYLOAD_TOO_LARGE');
  });
});

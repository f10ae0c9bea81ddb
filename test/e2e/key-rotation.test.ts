/**
 * Changing the EncodingAESKey: the platform owner changes it on open.weixin.qq.com and redeploys, and for a while
 * WeChat may still seal pushes with the old key. With WECHAT_PREVIOUS_ENCODING_AES_KEY set, the receiving functions
 * open those pushes; without it they refuse them (and after WeChat's retries the push is lost). The pushes come from
 * the simulator, still on the old key; each configuration is the product's own composition (environment → config →
 * WeChat platform → authorize-callback function) on a real SQLite store.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { makeHandler } from '../../functions/authorize-callback/handler';
import { renderTemplate } from '../../infra/scf/render';
import type { WeChatSimulator } from '../../infra/wechat-sim';
import { inboxCollection } from '../../shared/wechat/inbox';
import { type Credentials, freshCredentials, platformEnv, randomAlnum, servicesWithClock, startSimulator } from '../reliability/support';
import { type CapturedPush, type PushCatcher, startPushCatcher } from '../support/e2e';

const root = resolve(__dirname, '..', '..');
const OLD_KEY = randomAlnum(43);

let dir: string;
let sim: WeChatSimulator;
let credentials: Credentials;
let catcher: PushCatcher;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxa-key-rotation-'));
  // The platform now runs on a new key; WeChat (the simulator) still seals with the old one.
  credentials = freshCredentials();
  catcher = await startPushCatcher();
  sim = await startSimulator(
    { ...credentials, encodingAESKey: OLD_KEY },
    {
      componentEventUrl: `${catcher.url}/wechat/component/events`,
    },
  );
});
afterAll(async () => {
  await sim?.close();
  await catcher?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A verify-ticket push as WeChat sends it under the old key. */
async function pushSealedWithOldKey() {
  catcher.pushes.length = 0;
  await sim.pushVerifyTicket();
  await sim.pushesSettled();
  const [push] = catcher.pushes;
  if (!push) throw new Error('the simulator pushed nothing');
  return push;
}

/** The authorize-callback function of a deployment configured with `extra`, on a store of its own. */
function deployed(name: string, extra: Record<string, string>) {
  const env = platformEnv(credentials, sim.baseUrl, join(dir, `${name}.db`), extra);
  const backend = servicesWithClock(env, Date.now());
  const handler = makeHandler(backend.services);
  const deliver = async (push: CapturedPush) => {
    backend.setClock(Date.now());
    const event = {
      httpMethod: 'POST',
      path: push.path,
      headers: { 'content-type': 'text/xml' },
      multiValueHeaders: {},
      queryStringParameters: push.query,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      body: push.body,
      isBase64Encoded: false,
      resource: push.path,
      requestContext: { requestId: `rotation-${name}` } as APIGatewayProxyEvent['requestContext'],
    } satisfies APIGatewayProxyEvent;
    return (await handler(event, {} as Context)) as APIGatewayProxyResult;
  };
  const inbox = async () => (await backend.services.store.collection(inboxCollection).find()).map((entry) => entry.data);
  return { deliver, inbox, close: backend.close };
}

describe('a push sealed with the previous EncodingAESKey', () => {
  it('is accepted and acted on while WECHAT_PREVIOUS_ENCODING_AES_KEY names that key', async () => {
    const backend = deployed('with-previous', { WECHAT_PREVIOUS_ENCODING_AES_KEY: OLD_KEY });
    try {
      const reply = await backend.deliver(await pushSealedWithOldKey());
      expect({ status: reply.statusCode, body: reply.body }).toEqual({ status: 200, body: 'success' });
      expect(await backend.inbox()).toEqual([
        expect.objectContaining({ type: 'component_verify_ticket', status: 'processed', outcome: 'ticket stored' }),
      ]);
    } finally {
      await backend.close();
    }
  });

  it('is refused, and nothing recorded, once the previous key is no longer configured', async () => {
    const backend = deployed('without-previous', {});
    try {
      const reply = await backend.deliver(await pushSealedWithOldKey());
      expect(reply.statusCode).toBe(400);
      expect(JSON.parse(reply.body).error.code).toMatch(/^WECHAT_MSG_/);
      expect(await backend.inbox()).toEqual([]);
    } finally {
      await backend.close();
    }
  });
});

describe('the deployment templates', () => {
  it.each(['serverless.yml', 'serverless.fc.yml'])(
    '%s passes WECHAT_PREVIOUS_ENCODING_AES_KEY to the functions that receive pushes',
    (file) => {
      const resources = renderTemplate(join(root, file), { DATA_KEY: 'k', WECHAT_PREVIOUS_ENCODING_AES_KEY: OLD_KEY });
      for (const name of ['authorize-callback', 'review']) {
        const props = resources[name]?.props;
        const environment = (props?.environment ?? props?.environmentVariables) as Record<string, unknown> | undefined;
        expect(environment?.WECHAT_PREVIOUS_ENCODING_AES_KEY).toBe(OLD_KEY);
      }
    },
  );
});

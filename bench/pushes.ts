/**
 * The benchmark's pushes: `unauthorized` component events for random, unknown appids (so none is a duplicate and
 * none changes anything), sealed the way the simulator seals pushes — component token and key, the
 * `<xml><AppId/><Encrypt/></xml>` envelope, a query with signature, timestamp, nonce, encrypt_type=aes and
 * msg_signature — all with one fresh timestamp, before anything is timed.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { LOCAL_WECHAT_DEFAULTS as C } from '../shared/runtime/config';
import { plainSignature, WeChatMessageCrypto } from '../shared/wechat/crypto';
import { buildWeChatXml } from '../shared/wechat/xml';

export interface SealedPush {
  /** The AuthorizerAppid the push names. */
  appid: string;
  /** The query string of the receive URL, without `?`. */
  query: string;
  body: string;
}

export function sealUnauthorizedPushes(count: number): SealedPush[] {
  const crypto = new WeChatMessageCrypto({
    token: C.WECHAT_TOKEN,
    encodingAESKey: C.WECHAT_ENCODING_AES_KEY,
    appId: C.WECHAT_COMPONENT_APPID,
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const pushes: SealedPush[] = [];
  for (let i = 0; i < count; i++) {
    const appid = `wx${randomBytes(8).toString('hex')}`;
    const encrypt = crypto.encrypt(
      buildWeChatXml({ AppId: C.WECHAT_COMPONENT_APPID, CreateTime: Number(timestamp), InfoType: 'unauthorized', AuthorizerAppid: appid }),
    );
    const nonce = String(randomInt(100_000_000, 2_147_483_647));
    const query = new URLSearchParams({
      signature: plainSignature(C.WECHAT_TOKEN, timestamp, nonce),
      timestamp,
      nonce,
      encrypt_type: 'aes',
      msg_signature: crypto.msgSignature(timestamp, nonce, encrypt),
    });
    pushes.push({ appid, query: query.toString(), body: buildWeChatXml({ AppId: C.WECHAT_COMPONENT_APPID, Encrypt: encrypt }) });
  }
  return pushes;
}

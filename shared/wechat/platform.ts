/**
 * Composes the WeChat side of a function from configuration: message crypto for callbacks, the raw component API,
 * the store-backed token manager and the client that refreshes and retries through it.
 */
import type { Config } from '../runtime/config';
import type { Logger } from '../runtime/logger';
import type { DocumentStore } from '../store/port';
import { createSecretBox } from '../store/secret-box';
import { WeChatClient } from './client';
import { ComponentApi } from './component-api';
import { WeChatMessageCrypto } from './crypto';
import { createInbox, type Inbox } from './inbox';
import { TokenManager } from './tokens';

export interface WeChatPlatform {
  crypto: WeChatMessageCrypto;
  api: ComponentApi;
  tokens: TokenManager;
  client: WeChatClient;
  inbox: Inbox;
}

export function createWeChatPlatform(options: {
  config: Config;
  store: DocumentStore;
  log: Logger;
  clock?: () => number;
  fetch?: typeof globalThis.fetch;
  onNeedsReauth?: (appId: string, reason: string) => Promise<void>;
}): WeChatPlatform {
  const { config, store, log } = options;
  const wechat = config.wechat;
  if (!wechat.apiBase) throw new Error('WECHAT_API_BASE is not set: the local runtime should have started the simulator');
  const crypto = new WeChatMessageCrypto({ token: wechat.token, encodingAESKey: wechat.encodingAESKey, appId: wechat.componentAppId });
  const api = new ComponentApi({
    apiBase: wechat.apiBase,
    timeoutMs: wechat.timeoutMs,
    componentAppId: wechat.componentAppId,
    componentAppSecret: wechat.componentSecret,
    pcAuthPageBase: wechat.pcAuthPageBase,
    mobileAuthPageBase: wechat.mobileAuthPageBase,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    onAttempt: (attempt) => {
      if (attempt.outcome !== 'ok') log.warn('wechat call failed', { ...attempt });
    },
  });
  const tokens = new TokenManager({
    store,
    api,
    box: createSecretBox(config.dataKey),
    log,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onNeedsReauth ? { onNeedsReauth: options.onNeedsReauth } : {}),
  });
  return { crypto, api, tokens, client: new WeChatClient({ api, tokens }), inbox: createInbox(store, options.clock) };
}

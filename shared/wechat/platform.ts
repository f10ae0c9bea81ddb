/**
 * Composes the WeChat side of a function from configuration: the raw component API, the store-backed token manager
 * and the client that refreshes and retries through it. The message crypto is not here: only the two functions that
 * receive pushes build it (`messageCryptoOf`), so the others bundle no XML parser.
 *
 * Each part is built when first read: a function composes its WeChat platform at its cold start, but a request
 * that only reads the store, or is refused, needs neither the client nor its token manager.
 * The API base is still checked here, and the parts check nothing the configuration did not already validate, so a
 * bad deployment still fails its first request.
 */
import type { Config } from '../runtime/config';
import type { Logger } from '../runtime/logger';
import { currentInvocation, invocationMetrics, type MetricsRecorder } from '../runtime/metrics';
import type { DocumentStore } from '../store/port';
import { createSecretBox } from '../store/secret-box';
import { WeChatClient } from './client';
import { ComponentApi } from './component-api';
import { isExpectedAnswer } from './errcodes';
import { createInbox, type Inbox } from './inbox';
import { TokenManager } from './tokens';

export interface WeChatPlatform {
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
  metrics?: MetricsRecorder;
}): WeChatPlatform {
  const { config, store, log } = options;
  const wechat = config.wechat;
  const apiBase = wechat.apiBase;
  const metrics = options.metrics ?? invocationMetrics;
  if (!apiBase) throw new Error('WECHAT_API_BASE is not set: the local runtime should have started the simulator');
  let api: ComponentApi | undefined;
  let tokens: TokenManager | undefined;
  let client: WeChatClient | undefined;
  let inbox: Inbox | undefined;
  const platform: WeChatPlatform = {
    get api() {
      return (api ??= new ComponentApi({
        apiBase,
        timeoutMs: wechat.timeoutMs,
        componentAppId: wechat.componentAppId,
        componentAppSecret: wechat.componentSecret,
        pcAuthPageBase: wechat.pcAuthPageBase,
        mobileAuthPageBase: wechat.mobileAuthPageBase,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        onAttempt: (attempt) => {
          // Every HTTP attempt is a call WeChat counts (and rate-limits): retries included. The path names the
          // operation (no query string, so no token); WeChat's errcode, or what went wrong when it gave none.
          const errcode = attempt.errcode ?? (attempt.outcome === 'ok' ? 0 : (attempt.failure ?? attempt.outcome));
          const labels = { operation: attempt.endpoint, errcode: String(errcode) };
          metrics.record('wechat_calls', 1, labels);
          if (attempt.outcome === 'ok') return;
          metrics.record('wechat_errors', 1, labels);
          if (attempt.errcode !== undefined && isExpectedAnswer(attempt.endpoint, attempt.errcode))
            log.debug('wechat call answered', { ...attempt });
          else log.warn('wechat call failed', { ...attempt });
        },
      }));
    },
    get tokens() {
      return (tokens ??= new TokenManager({
        store,
        api: platform.api,
        box: createSecretBox(config.dataKey),
        log,
        metrics,
        invocation: currentInvocation,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.onNeedsReauth ? { onNeedsReauth: options.onNeedsReauth } : {}),
      }));
    },
    get client() {
      return (client ??= new WeChatClient({ api: platform.api, tokens: platform.tokens }));
    },
    get inbox() {
      return (inbox ??= createInbox(store, options.clock));
    },
  };
  return platform;
}

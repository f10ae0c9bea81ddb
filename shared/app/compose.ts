/**
 * The composition every pipeline function shares: platform (config, logger, store) + WeChat + services, built once
 * per cold start; and the HTTP options every frontend function uses (account keys, Idempotency-Key, CORS).
 */

import { ConflictError } from '../domain/errors';
import { markNeedsReauth } from '../domain/mini-program';
import { once, platform } from '../runtime/compose';
import { createIdempotencyGuard } from '../runtime/http/idempotency';
import type { AnyRoute } from '../runtime/http/route';
import { createHttpFunction } from '../runtime/http/stack';
import { createSecretBox } from '../store/secret-box';
import { createWeChatPlatform } from '../wechat/platform';
import { accountAuthenticator } from './catalog';
import { createServices, type Services } from './context';
import { deliverAfterStateChanges } from './webhooks/compose';

export const services = once(async (): Promise<Services> => {
  const base = await platform();
  let built: Services | undefined;
  const wechat = createWeChatPlatform({
    ...base,
    // 61023: the owner must see that the mini program needs a new scan, on the mini program itself.
    onNeedsReauth: async (appId, reason) => {
      if (!built) return;
      for (;;) {
        const stored = await built.db.miniPrograms.get(appId);
        if (!stored) return;
        try {
          await built.db.miniPrograms.update(appId, stored.version, markNeedsReauth(stored.data, reason, built.clock()));
          return;
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
        }
      }
    },
  });
  built = createServices({ ...base, wechat });
  deliverAfterStateChanges(built);
  return built;
});

export function httpFunction(s: Services, name: string, routes: readonly AnyRoute[]) {
  return createHttpFunction({
    name,
    routes,
    log: s.log,
    maxBodyBytes: s.config.maxBodyBytes,
    corsOrigins: s.config.corsOrigins,
    adminApiKey: s.config.adminApiKey,
    accounts: accountAuthenticator(s),
    idempotency: createIdempotencyGuard(s.store, s.clock, createSecretBox(s.config.dataKey)),
  });
}

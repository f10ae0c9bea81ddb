/**
 * The composition every pipeline function shares: the foundation (config, logger, store) + WeChat + services, built once
 * per cold start; and the HTTP options every frontend function uses (account keys, Idempotency-Key, CORS).
 */

import { foundation, once } from '../runtime/compose';
import { createIdempotencyGuard } from '../runtime/http/idempotency';
import type { AnyRoute } from '../runtime/http/route';
import { createHttpFunction } from '../runtime/http/stack';
import { createSecretBox } from '../store/secret-box';
import { createWeChatPlatform } from '../wechat/platform';
import { accountAuthenticator } from './catalog';
import { createServices, type Services } from './context';
import { markMiniProgramNeedsReauth } from './mini-programs';
import { deliverAfterStateChanges } from './webhooks/compose';

export const services = once(async (): Promise<Services> => {
  const base = await foundation();
  let built: Services | undefined;
  const wechat = createWeChatPlatform({
    ...base,
    // 61023: the owner must see that the mini program needs a new scan, on the mini program itself.
    onNeedsReauth: async (appid, reason) => {
      if (built) await markMiniProgramNeedsReauth(built, appid, reason);
    },
  });
  built = createServices({ ...base, wechat });
  deliverAfterStateChanges(built);
  return built;
});

export function httpFunction(appServices: Services, name: string, routes: readonly AnyRoute[]) {
  return createHttpFunction({
    name,
    routes,
    log: appServices.log,
    maxBodyBytes: appServices.config.maxBodyBytes,
    corsOrigins: appServices.config.corsOrigins,
    adminApiKey: appServices.config.adminApiKey,
    accounts: accountAuthenticator(appServices),
    idempotency: createIdempotencyGuard(appServices.store, appServices.clock, createSecretBox(appServices.config.dataKey)),
  });
}

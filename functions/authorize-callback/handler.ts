/**
 * `authorize-callback`: the authorization redirect for an app's target mini program
 * (`GET /wechat/authorize/callback`) and WeChat's authorization-event receive URL (`POST /wechat/component/events`:
 * component_verify_ticket every 10 minutes, authorized, updateauthorized, unauthorized).
 */

import { handleUnauthorized, handleUpdateAuthorized } from '../../shared/app/authorization/push-events';
import { httpFunction, services } from '../../shared/app/compose';
import type { Services } from '../../shared/app/context';
import * as z from '../../shared/domain/zod';
import { answerRedirect } from '../../shared/routes/authorization-redirect';
import { authorizeCallbackRoutes } from '../../shared/routes/authorize-callback';
import { cloudEntry } from '../../shared/runtime/entry';
import { type AnyRoute, bindRoutes, type HandlerOf } from '../../shared/runtime/http/route';
import { messageCryptoOf, type WeChatMessageCrypto } from '../../shared/wechat/crypto';
import { receivePush } from '../../shared/wechat/receiver';

/** The decrypted component push: every kind names its InfoType and CreateTime; the rest depends on the kind. */
const componentPush = /* @__PURE__ */ z.lazy(() =>
  z.object({
    InfoType: z.string().check(z.minLength(1), z.maxLength(64)),
    AppId: z.optional(z.string()),
    CreateTime: z.coerce.number().check(z.int(), z.nonnegative()),
    ComponentVerifyTicket: z.optional(z.string().check(z.maxLength(512))),
    AuthorizerAppid: z.optional(z.string().check(z.maxLength(32))),
  }),
);
type ComponentPush = z.infer<typeof componentPush>;

export type AuthorizeCallbackDeps = Pick<Services, 'log' | 'clock'> &
  Partial<Pick<Services, 'metrics'>> & {
    wechat: Pick<Services['wechat'], 'tokens' | 'inbox'>;
    /** The message crypto, built on first use (`messageCryptoOf`). */
    crypto: () => WeChatMessageCrypto;
    /** The pipeline's reactions to authorization events; absent in tests of the receiver alone. */
    onAuthorizationEvent?: (push: ComponentPush) => Promise<string>;
  };

export function receiveEvents(deps: AuthorizeCallbackDeps): HandlerOf<typeof authorizeCallbackRoutes.events> {
  // deps.wechat is read per push, not here: its parts are built on first use (shared/wechat/platform.ts).
  const act = async (push: ComponentPush): Promise<string> => {
    if (push.InfoType === 'component_verify_ticket') {
      if (!push.ComponentVerifyTicket) return 'ticket push without a ticket';
      return `ticket ${await deps.wechat.tokens.recordVerifyTicket(push.ComponentVerifyTicket, push.CreateTime * 1000)}`;
    }
    return deps.onAuthorizationEvent ? deps.onAuthorizationEvent(push) : `stored ${push.InfoType}`;
  };
  return async ({ query, rawBody, log, annotate }) =>
    receivePush({
      source: 'component',
      crypto: deps.crypto(),
      inbox: deps.wechat.inbox,
      log,
      annotate,
      nowSeconds: Math.floor(deps.clock() / 1000),
      query,
      rawBody,
      schema: componentPush,
      describe: (push) => ({ type: push.InfoType, appId: push.AuthorizerAppid ?? null, createTime: push.CreateTime }),
      act,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });
}

/** The pipeline's reaction to authorization pushes; `authorized` is completed by the redirect (see authorization.ts). */
const reactTo =
  (services: Services) =>
  async (push: ComponentPush): Promise<string> => {
    const appid = push.AuthorizerAppid;
    if (!appid) return `stored ${push.InfoType}`;
    // CreateTime orders the push against a newer authorization (a late retry must not wipe it).
    if (push.InfoType === 'unauthorized') return handleUnauthorized(services, appid, push.CreateTime * 1000);
    if (push.InfoType === 'updateauthorized') return handleUpdateAuthorized(services, appid);
    return `stored ${push.InfoType}`;
  };

export const routes = (services: Services): AnyRoute[] =>
  bindRoutes(authorizeCallbackRoutes, {
    redirect: answerRedirect(services, 'authorize-app'),
    events: receiveEvents({
      log: services.log,
      clock: services.clock,
      metrics: services.metrics,
      wechat: services.wechat,
      crypto: messageCryptoOf(services.config.wechat),
      onAuthorizationEvent: reactTo(services),
    }),
  });

export const makeHandler = (services: Services) => httpFunction(services, 'authorize-callback', routes(services));

export const handler = cloudEntry({ name: 'authorize-callback', http: true, schedule: false }, async () => ({
  http: makeHandler(await services()),
}));

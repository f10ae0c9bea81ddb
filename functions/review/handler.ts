/**
 * `review`: submit for audit (privacy prerequisites checked first), undo, speed up — and WeChat's message URL
 * (`/wechat/authorizers/$APPID$/events`), whose audit pushes update the deployment at once.
 */

import { httpFunction, services } from '../../shared/app/compose';
import { accountOf, actorOf, type Services } from '../../shared/app/context';
import { handleAuditEvent, speedUpAudit, submitForAudit, undoAudit } from '../../shared/app/deployments';
import * as z from '../../shared/domain/zod';
import { reviewRoutes } from '../../shared/routes/review';
import { cloudEntry } from '../../shared/runtime/entry';
import { type AnyRoute, bindRoutes, json } from '../../shared/runtime/http/route';
import { messageCryptoOf } from '../../shared/wechat/crypto';
import { receivePush } from '../../shared/wechat/receiver';

/** Audit pushes (reference §5); other events of the mini program are recorded and acknowledged. */
const authorizerPush = /* @__PURE__ */ z.lazy(() =>
  z.object({
    ToUserName: z.optional(z.string().check(z.maxLength(64))),
    FromUserName: z.optional(z.string().check(z.maxLength(128))),
    CreateTime: z.coerce.number().check(z.int(), z.nonnegative()),
    MsgType: z.string().check(z.maxLength(32)),
    Event: z.optional(z.string().check(z.maxLength(64))),
    Reason: z.optional(z.string().check(z.maxLength(10_000))),
    ScreenShot: z.optional(z.string().check(z.maxLength(10_000))),
  }),
);

export const routes = (services: Services, crypto = messageCryptoOf(services.config.wechat)): AnyRoute[] =>
  bindRoutes(reviewRoutes, {
    submit: async ({ params, principal, signal }) =>
      json(200, await submitForAudit(services, accountOf(principal), params.deploymentId, actorOf(principal), signal)),
    undo: async ({ params, principal }) =>
      json(200, await undoAudit(services, accountOf(principal), params.deploymentId, actorOf(principal))),
    speedup: async ({ params, principal }) => json(200, await speedUpAudit(services, accountOf(principal), params.deploymentId)),
    events: async ({ params, query, rawBody, log, annotate }) =>
      receivePush({
        source: 'authorizer',
        crypto: crypto(),
        inbox: services.wechat.inbox,
        log,
        annotate,
        nowSeconds: Math.floor(services.clock() / 1000),
        metrics: services.metrics,
        recipient: {
          appid: params.appid,
          // An unknown appid is refused (404), not acknowledged: nothing to act on, and storing it would let one
          // captured push fill the inbox under made-up appids; a genuine push that beats its authorization gets in on
          // WeChat's retry. Every stored mini program has a userName (authorization requires the original id).
          userName: async () => (await services.db.miniPrograms.get(params.appid))?.data.userName ?? null,
        },
        query,
        rawBody,
        schema: authorizerPush,
        describe: (push) => ({ type: push.Event ?? push.MsgType, appId: params.appid, createTime: push.CreateTime }),
        act: async (push) => {
          if (push.Event === 'weapp_audit_success' || push.Event === 'weapp_audit_fail' || push.Event === 'weapp_audit_delay') {
            return handleAuditEvent(services, params.appid, {
              type: push.Event,
              ...(push.Reason !== undefined ? { reason: push.Reason } : {}),
              screenshots: push.ScreenShot ? push.ScreenShot.split('|').filter(Boolean) : [],
            });
          }
          return `stored ${push.Event ?? push.MsgType}`;
        },
      }),
  });

export const makeHandler = (services: Services) => httpFunction(services, 'review', routes(services));

export const handler = cloudEntry({ name: 'review', http: true, schedule: false }, async () => ({ http: makeHandler(await services()) }));

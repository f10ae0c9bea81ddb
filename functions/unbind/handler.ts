/**
 * `unbind` (frontend): withdraws a pending audit, detaches the mini program, voids in-flight deployments and
 * keeps their history. The account's primary needs `force: true`, and the answer says what that blocks.
 */
import { httpFunction, services } from '../../shared/app/compose';
import { accountOf, actorOf, type Services } from '../../shared/app/context';
import { unbindMiniProgram } from '../../shared/app/deployments';
import { unbindRoutes } from '../../shared/routes/unbind';
import { cloudEntry } from '../../shared/runtime/entry';
import { type AnyRoute, bindRoutes, json } from '../../shared/runtime/http/route';

export const routes = (services: Services): AnyRoute[] =>
  bindRoutes(unbindRoutes, {
    unbind: async ({ params, body, principal }) =>
      json(200, await unbindMiniProgram(services, accountOf(principal), params.appid, { force: body.force }, actorOf(principal))),
  });

export const makeHandler = (services: Services) => httpFunction(services, 'unbind', routes(services));

export const handler = cloudEntry({ name: 'unbind', http: true, schedule: false }, async () => ({ http: makeHandler(await services()) }));

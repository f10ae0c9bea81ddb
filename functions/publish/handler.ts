/**
 * `publish` (frontend): releases an approved deployment (85052 "already released" counts as done) and rolls back.
 * Refused while the account's primary mini program is unbound, and for a deployment whose app no longer holds
 * its mini program (`DEPLOYMENT_APP_UNLINKED`: another app was authorized for it, or the app moved).
 */
import { httpFunction, services } from '../../shared/app/compose';
import { accountOf, actorOf, type Services } from '../../shared/app/context';
import { releaseDeployment, rollbackDeployment } from '../../shared/app/deployments';
import { publishRoutes } from '../../shared/routes/publish';
import { cloudEntry } from '../../shared/runtime/entry';
import { type AnyRoute, bindRoutes, json } from '../../shared/runtime/http/route';

export const routes = (services: Services): AnyRoute[] =>
  bindRoutes(publishRoutes, {
    release: async ({ params, principal, signal }) =>
      json(200, await releaseDeployment(services, accountOf(principal), params.deploymentId, actorOf(principal), signal)),
    rollback: async ({ params, principal }) =>
      json(200, await rollbackDeployment(services, accountOf(principal), params.deploymentId, actorOf(principal))),
  });

export const makeHandler = (services: Services) => httpFunction(services, 'publish', routes(services));

export const handler = cloudEntry({ name: 'publish', http: true, schedule: false }, async () => ({ http: makeHandler(await services()) }));

/**
 * `build-trigger` (frontend): validates the app's config and plugins, commits the template with its ext_json,
 * stores the experience QR and binds testers. Answers 202 with the deployment as far as it got; the poller
 * finishes a build whose instance died. Cancel returns the app to configuring (its next build is a new deployment).
 * Testers WeChat refuses (its tester limits, an unknown WeChat id) do not fail the build: they are listed on the
 * deployment (`refusedTesters`) and bound later with POST /v1/deployments/{id}/testers.
 */
import { httpFunction, services } from '../../shared/app/compose';
import { accountOf, actorOf, type Services } from '../../shared/app/context';
import { bindTestersLater, cancelDeployment, retryDeployment, startBuild } from '../../shared/app/deployments';
import { buildTriggerRoutes } from '../../shared/routes/build-trigger';
import { cloudEntry } from '../../shared/runtime/entry';
import { type AnyRoute, bindRoutes, json } from '../../shared/runtime/http/route';

export const routes = (services: Services): AnyRoute[] =>
  bindRoutes(buildTriggerRoutes, {
    build: async ({ body, params, principal, signal }) =>
      json(202, await startBuild(services, accountOf(principal), params.appId, body, actorOf(principal), signal)),
    cancel: async ({ params, principal }) =>
      json(200, await cancelDeployment(services, accountOf(principal), params.deploymentId, actorOf(principal))),
    testers: async ({ params, body, principal, signal }) =>
      json(200, await bindTestersLater(services, accountOf(principal), params.deploymentId, body?.testers, signal)),
    retry: async ({ params, principal, signal }) =>
      json(200, await retryDeployment(services, accountOf(principal), params.deploymentId, actorOf(principal), signal)),
  });

export const makeHandler = (services: Services) => httpFunction(services, 'build-trigger', routes(services));

export const handler = cloudEntry({ name: 'build-trigger', http: true, schedule: false }, async () => ({
  http: makeHandler(await services()),
}));

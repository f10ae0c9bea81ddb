/**
 * `build-trigger` (frontend): validates the app's config and plugins, commits the template with its ext_json,
 * stores the experience QR and binds testers. Answers 202 with the deployment as far as it got; the poller
 * finishes a build whose instance died. Cancel returns the app to configuring (its next build is a new deployment).
 * Testers WeChat refuses (its tester limits, an unknown WeChat id) do not fail the build: they are listed on the
 * deployment (`refusedTesters`) and bound later with POST /v1/deployments/{id}/testers.
 */
import { z } from 'zod';
import { services, httpFunction } from '../../shared/app/compose';
import { accountOf, actorOf, type Services } from '../../shared/app/context';
import { bindTestersLater, cancelDeployment, retryDeployment, startBuild } from '../../shared/app/deployments';
import { deploymentSchema } from '../../shared/domain/deployment';
import { cloudEntry } from '../../shared/runtime/entry';
import { json, route, type AnyRoute } from '../../shared/runtime/http/route';

export const deploymentParams = z.object({ deploymentId: z.string().regex(/^dep_[0-9a-z]{1,64}$/, 'not a deployment id') });

/**
 * The bodies, built when the routes are (at the function's first request, not at import: publish and review import
 * this module for `deploymentParams` only). Their input types are what the console sends.
 */
const bodySchemas = () => ({
  build: z.strictObject({
    userVersion: z.string().trim().min(1).max(64),
    userDesc: z.string().max(1000).default(''),
    testers: z.array(z.string().min(1).max(64)).max(100).default([]),
    templateId: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .meta({ description: "A template of the library (GET /v1/templates) to build; left out: the latest version of the app's template." }),
  }),
  testers: z
    .strictObject({
      testers: z
        .array(z.string().min(1).max(64))
        .min(1)
        .max(100)
        .optional()
        .meta({ description: 'WeChat ids to bind; left out: the testers WeChat refused when the deployment was built (refusedTesters).' }),
    })
    .optional(),
});
export type BuildBody = z.input<ReturnType<typeof bodySchemas>['build']>;
export type TestersBody = z.input<ReturnType<typeof bodySchemas>['testers']>;

export const routes = (s: Services): AnyRoute[] => {
  const { build: buildBody, testers: testersBody } = bodySchemas();
  const appParams = z.object({ appId: z.string().regex(/^app_[0-9a-z]{1,64}$/, 'not an app id') });
  return [
    route({
      method: 'POST',
      path: '/v1/apps/{appId}/deployments',
      auth: 'account',
      status: 202,
      summary: 'Build the app for its mini program: commit, experience QR, testers (202: may finish in the background)',
      body: buildBody,
      params: appParams,
      response: deploymentSchema,
      handle: async ({ body, params, principal, signal }) =>
        json(202, await startBuild(s, accountOf(principal), params.appId, body, actorOf(principal), signal)),
    }),
    route({
      method: 'POST',
      path: '/v1/deployments/{deploymentId}/cancel',
      auth: 'account',
      summary: 'Cancel a deployment that is not under review (one that failed around its audit has the audit withdrawn at WeChat first); the app returns to configuring',
      params: deploymentParams,
      response: deploymentSchema,
      handle: async ({ params, principal }) => json(200, await cancelDeployment(s, accountOf(principal), params.deploymentId, actorOf(principal))),
    }),
    route({
      method: 'POST',
      path: '/v1/deployments/{deploymentId}/testers',
      auth: 'account',
      summary: "Bind experience testers to a built deployment's mini program: by default those WeChat refused at build time, once the cause (its tester limit, the person's) is gone",
      params: deploymentParams,
      body: testersBody,
      response: deploymentSchema,
      handle: async ({ params, body, principal, signal }) =>
        json(200, await bindTestersLater(s, accountOf(principal), params.deploymentId, body?.testers, signal)),
    }),
    route({
      method: 'POST',
      path: '/v1/deployments/{deploymentId}/retry',
      auth: 'account',
      summary: 'Retry a deployment whose failure is retryable (quota, privacy settings, category)',
      params: deploymentParams,
      response: deploymentSchema,
      handle: async ({ params, principal, signal }) =>
        json(200, await retryDeployment(s, accountOf(principal), params.deploymentId, actorOf(principal), signal)),
    }),
  ];
};

export const makeHandler = (s: Services) => httpFunction(s, 'build-trigger', routes(s));

export const handler = cloudEntry({ http: true, schedule: false }, async () => ({ http: makeHandler(await services()) }));

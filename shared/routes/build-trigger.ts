/** Routes of `build-trigger`: build an app, cancel, retry, bind testers later. */

import { deploymentSchema } from '../domain/deployment';
import * as z from '../domain/zod';
import { declareRoute } from '../runtime/http/route';
import { appParams, deploymentParams } from './params';

const buildBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    userVersion: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
    userDesc: z._default(z.string().check(z.maxLength(1000)), ''),
    testers: z._default(z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.maxLength(100)), []),
    templateId: z.described(
      z.optional(z.number().check(z.int(), z.nonnegative())),
      "A template of the library (GET /v1/templates) to build; left out: the latest version of the app's template.",
    ),
    retryRefused: z.described(
      z._default(z.boolean(), false),
      'Build although WeChat refused the app’s last deployment for a penalty, a UGC declaration or an order-centre path: no status API tells when such a bar is lifted, so WeChat decides again at submit.',
    ),
  }),
);
const testersBody = z.optional(
  z.strictObject({
    testers: z.described(
      z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(64))).check(z.minLength(1), z.maxLength(100))),
      'WeChat ids to bind; left out: the testers WeChat refused when the deployment was built (refusedTesters).',
    ),
  }),
);

export const buildTriggerRoutes = {
  build: declareRoute({
    method: 'POST',
    path: '/v1/apps/{appId}/deployments',
    auth: 'account',
    status: 202,
    summary: 'Build the app for its mini program: commit, experience QR, testers (202: may finish in the background)',
    body: buildBody,
    params: appParams,
    response: deploymentSchema,
  }),
  cancel: declareRoute({
    method: 'POST',
    path: '/v1/deployments/{deploymentId}/cancel',
    auth: 'account',
    summary:
      'Cancel a deployment that is not under review (one that failed around its audit has the audit withdrawn at WeChat first); the app returns to configuring',
    params: deploymentParams,
    response: deploymentSchema,
  }),
  testers: declareRoute({
    method: 'POST',
    path: '/v1/deployments/{deploymentId}/testers',
    auth: 'account',
    summary:
      "Bind experience testers to a built deployment's mini program: by default those WeChat refused at build time, once the cause (its tester limit, the person's) is gone",
    params: deploymentParams,
    body: testersBody,
    response: deploymentSchema,
  }),
  retry: declareRoute({
    method: 'POST',
    path: '/v1/deployments/{deploymentId}/retry',
    auth: 'account',
    summary: 'Retry a deployment whose failure is retryable (quota, privacy settings, category)',
    params: deploymentParams,
    response: deploymentSchema,
  }),
};

/** Routes of `build-trigger`: build an app, cancel, retry, bind testers later. */
import { z } from 'zod';
import { deploymentSchema } from '../domain/deployment';
import { declareRoute } from '../runtime/http/route';
import { appParams, deploymentParams } from './params';

const buildBody = z.strictObject({
  userVersion: z.string().trim().min(1).max(64),
  userDesc: z.string().max(1000).default(''),
  testers: z.array(z.string().min(1).max(64)).max(100).default([]),
  templateId: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({ description: "A template of the library (GET /v1/templates) to build; left out: the latest version of the app's template." }),
  retryRefused: z.boolean().default(false).meta({
    description:
      'Build although WeChat refused the app’s last deployment for a penalty, a UGC declaration or an order-centre path: no status API tells when such a bar is lifted, so WeChat decides again at submit.',
  }),
});
const testersBody = z
  .strictObject({
    testers: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'WeChat ids to bind; left out: the testers WeChat refused when the deployment was built (refusedTesters).' }),
  })
  .optional();

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

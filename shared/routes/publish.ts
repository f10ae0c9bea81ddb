/** Routes of `publish`: release an approved deployment, roll back. */
import { deploymentSchema } from '../domain/deployment';
import { declareRoute } from '../runtime/http/route';
import { deploymentParams } from './params';

export const publishRoutes = {
  release: declareRoute({
    method: 'POST',
    path: '/v1/deployments/{deploymentId}/release',
    auth: 'account',
    summary: 'Release an approved deployment',
    params: deploymentParams,
    response: deploymentSchema,
  }),
  rollback: declareRoute({
    method: 'POST',
    path: '/v1/deployments/{deploymentId}/rollback',
    auth: 'account',
    summary: 'Roll the mini program back to the version live before this release',
    params: deploymentParams,
    response: deploymentSchema,
  }),
};

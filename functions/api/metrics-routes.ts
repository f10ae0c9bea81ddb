/**
 * The dashboard's summary: `GET /v1/metrics/summary` (the account of the key) and `GET /v1/platform/metrics/summary`
 * (the platform admin: every account). Low-cardinality by construction: counts by state, never an id.
 */

import { accountOf, type Services } from '../../shared/app/context';
import { metricsSummary } from '../../shared/app/metrics/summary';
import { DEPLOYMENT_STATES } from '../../shared/domain/deployment';
import * as z from '../../shared/domain/zod';
import { type AnyRoute, json, route } from '../../shared/runtime/http/route';

const counted = z.object({
  count: z.number().check(z.int()),
  capped: z.described(z.boolean(), 'More than `count`: counting stops there.'),
});
const summaryView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.object({
      at: z.number().check(z.int()),
      deployments: z.object(
        Object.fromEntries(
          DEPLOYMENT_STATES.map((state) => [state, z.extend(counted, { oldestAgeMs: z.nullable(z.number().check(z.int())) })]),
        ),
      ),
      audits: z.described(
        z.object({
          windowDays: z.number().check(z.int()),
          decided: z.number().check(z.int()),
          latencyMs: z.described(
            z.object({ p50: z.nullable(z.number().check(z.int())), p90: z.nullable(z.number().check(z.int())) }),
            'From the submit to the decision, over the decisions in the window; null when there were none.',
          ),
          byTemplate: z.array(
            z.object({
              templateId: z.number().check(z.int()),
              decided: z.number().check(z.int()),
              rejected: z.number().check(z.int()),
              rejectionRate: z.number(),
            }),
          ),
          capped: z.described(z.boolean(), 'More deployments were created in the window than were read.'),
        }),
        'Audits decided among the deployments created in the last `windowDays` days.',
      ),
      miniProgramsNeedingReauth: counted,
      webhooks: z.object({
        pendingDeliveries: counted,
        failedDeliveries: counted,
        endpointsDisabled: z.number().check(z.int()),
        endpoints: z.number().check(z.int()),
      }),
    }),
    { id: 'MetricsSummary' },
  ),
);

export const metricsRoutes = (services: Services): AnyRoute[] => [
  route({
    method: 'GET',
    path: '/v1/metrics/summary',
    auth: 'account',
    summary:
      "The account's dashboard: deployments by state and how long the oldest has been in it, audit latency and rejection rate by template, mini programs needing a new scan, webhook health",
    response: summaryView,
    handle: async ({ principal }) => json(200, await metricsSummary(services, accountOf(principal))),
  }),
  route({
    method: 'GET',
    path: '/v1/platform/metrics/summary',
    auth: 'admin',
    summary: 'The same summary over every account (platform admin)',
    response: summaryView,
    handle: async () => json(200, await metricsSummary(services, null)),
  }),
];

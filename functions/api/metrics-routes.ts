/**
 * The dashboard's summary: `GET /v1/metrics/summary` (the account of the key) and `GET /v1/platform/metrics/summary`
 * (the platform admin: every account). Low-cardinality by construction: counts by state, never an id.
 */
import { z } from 'zod';
import { accountOf, type Services } from '../../shared/app/context';
import { metricsSummary } from '../../shared/app/metrics/summary';
import { DEPLOYMENT_STATES } from '../../shared/domain/deployment';
import { type AnyRoute, json, route } from '../../shared/runtime/http/route';

const counted = z.object({
  count: z.number().int(),
  capped: z.boolean().meta({ description: 'More than `count`: counting stops there.' }),
});
const summaryView = z
  .object({
    at: z.number().int(),
    deployments: z.object(
      Object.fromEntries(DEPLOYMENT_STATES.map((state) => [state, counted.extend({ oldestAgeMs: z.number().int().nullable() })])),
    ),
    audits: z
      .object({
        windowDays: z.number().int(),
        decided: z.number().int(),
        latencyMs: z
          .object({ p50: z.number().int().nullable(), p90: z.number().int().nullable() })
          .meta({ description: 'From the submit to the decision, over the decisions in the window; null when there were none.' }),
        byTemplate: z.array(
          z.object({ templateId: z.number().int(), decided: z.number().int(), rejected: z.number().int(), rejectionRate: z.number() }),
        ),
        capped: z.boolean().meta({ description: 'More deployments were created in the window than were read.' }),
      })
      .meta({ description: 'Audits decided among the deployments created in the last `windowDays` days.' }),
    miniProgramsNeedingReauth: counted,
    webhooks: z.object({
      pendingDeliveries: counted,
      failedDeliveries: counted,
      endpointsDisabled: z.number().int(),
      endpoints: z.number().int(),
    }),
  })
  .meta({ id: 'MetricsSummary' });

export const metricsRoutes = (s: Services): AnyRoute[] => [
  route({
    method: 'GET',
    path: '/v1/metrics/summary',
    auth: 'account',
    summary:
      "The account's dashboard: deployments by state and how long the oldest has been in it, audit latency and rejection rate by template, mini programs needing a new scan, webhook health",
    response: summaryView,
    handle: async ({ principal }) => json(200, await metricsSummary(s, accountOf(principal))),
  }),
  route({
    method: 'GET',
    path: '/v1/platform/metrics/summary',
    auth: 'admin',
    summary: 'The same summary over every account (platform admin)',
    response: summaryView,
    handle: async () => json(200, await metricsSummary(s, null)),
  }),
];

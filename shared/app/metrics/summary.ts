/**
 * `GET /v1/metrics/summary`: what an operator's dashboard shows, computed from the store when asked — deployments
 * by state with the age of the oldest in each, mini programs needing a new scan, and webhook deliveries waiting or
 * given up and endpoints disabled. For one account, or (platform admin) for all. Counts stop at `COUNT_CAP`, said
 * by `capped`: the store port has no count, and a dashboard needs "more than a thousand", not the exact figure.
 */
import { DEPLOYMENT_STATES, type DeploymentState } from '../../domain/deployment';
import type { AccountId } from '../../domain/ids';
import type { Services } from '../context';
import { webhookCollections } from '../webhooks/collections';

export const COUNT_CAP = 1_000;

export interface Counted {
  count: number;
  capped: boolean;
}

export interface MetricsSummary {
  at: number;
  deployments: Record<DeploymentState, Counted & { oldestAgeMs: number | null }>;
  miniProgramsNeedingReauth: Counted;
  webhooks: { pendingDeliveries: Counted; failedDeliveries: Counted; endpointsDisabled: number; endpoints: number };
}

const counted = (n: number): Counted => ({ count: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP });

export async function metricsSummary(
  services: Pick<Services, 'clock' | 'db' | 'store'>,
  accountId: AccountId | null,
): Promise<MetricsSummary> {
  const at = services.clock();
  const scope = accountId === null ? {} : { accountId };
  const byState = await Promise.all(
    DEPLOYMENT_STATES.map(async (state) => {
      const found = await services.db.deployments.find({ where: { ...scope, state }, limit: COUNT_CAP + 1 });
      const oldest = found.reduce<number | null>((min, d) => (min === null || d.data.updatedAt < min ? d.data.updatedAt : min), null);
      return [state, { ...counted(found.length), oldestAgeMs: oldest === null ? null : at - oldest }] as const;
    }),
  );
  const reauth = await services.db.miniPrograms.find({ where: { ...scope, status: 'needs-reauth' }, limit: COUNT_CAP + 1 });
  const w = webhookCollections(services.store);
  const endpoints = await w.endpoints.find({ ...(accountId === null ? {} : { where: { owner: accountId } }), limit: COUNT_CAP });
  const mine = new Set(endpoints.map((e) => e.id));
  const deliveries = async (status: 'pending' | 'failed') =>
    (await w.deliveries.find({ where: { status }, limit: COUNT_CAP * 10 })).filter((d) => accountId === null || mine.has(d.data.endpointId))
      .length;
  return {
    at,
    deployments: Object.fromEntries(byState) as MetricsSummary['deployments'],
    miniProgramsNeedingReauth: counted(reauth.length),
    webhooks: {
      pendingDeliveries: counted(await deliveries('pending')),
      failedDeliveries: counted(await deliveries('failed')),
      endpointsDisabled: endpoints.filter((e) => !e.data.enabled).length,
      endpoints: endpoints.length,
    },
  };
}

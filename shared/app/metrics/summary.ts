/**
 * `GET /v1/metrics/summary`: what an operator's dashboard shows, computed from the store when asked — deployments
 * by state with how long the oldest has been in it, audit latency and rejection rate by template over the last 30 days,
 * mini programs needing a new scan, and webhook deliveries waiting or given up and endpoints disabled. For one
 * account, or (platform admin) for all. Counts stop at `COUNT_CAP`, said by `capped`: the store port has no count,
 * and a dashboard needs "more than a thousand", not the exact figure.
 */
import { DEPLOYMENT_STATES, type Deployment, type DeploymentState } from '../../domain/deployment';
import type { AccountId } from '../../domain/ids';
import type { Services } from '../context';
import { webhookCollections } from '../webhooks/collections';

export const COUNT_CAP = 1_000;

export interface Counted {
  count: number;
  capped: boolean;
}

/** Audits decided among the deployments created in the window (the latest COUNT_CAP of them). */
export const AUDIT_WINDOW_MS = 30 * 86_400_000;

export interface AuditSummary {
  windowDays: number;
  decided: number;
  latencyMs: { p50: number | null; p90: number | null };
  byTemplate: { templateId: number; decided: number; rejected: number; rejectionRate: number }[];
  capped: boolean;
}

export interface MetricsSummary {
  at: number;
  deployments: Record<DeploymentState, Counted & { oldestAgeMs: number | null }>;
  audits: AuditSummary;
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
  const w = webhookCollections(services.store);
  // Every read of the summary at once: a dashboard asks for it on each refresh.
  const [byState, recent, reauth, endpoints] = await Promise.all([
    Promise.all(
      DEPLOYMENT_STATES.map(async (state) => {
        // The oldest-created first, so that past the cap the oldest are still the ones read.
        const found = await services.db.deployments.find({
          where: { ...scope, state },
          orderBy: { field: 'createdAt' },
          limit: COUNT_CAP + 1,
        });
        // Age in the state, not since the last write: a poll writes an audit under review every few minutes.
        const oldest = found.reduce<number | null>((min, d) => Math.min(min ?? Number.POSITIVE_INFINITY, enteredStateAt(d.data)), null);
        return [state, { ...counted(found.length), oldestAgeMs: oldest === null ? null : at - oldest }] as const;
      }),
    ),
    services.db.deployments.find({
      where: { ...scope, createdAt: { gte: at - AUDIT_WINDOW_MS } },
      orderBy: { field: 'createdAt', direction: 'desc' },
      limit: COUNT_CAP + 1,
    }),
    services.db.miniPrograms.find({ where: { ...scope, status: 'needs-reauth' }, limit: COUNT_CAP + 1 }),
    w.endpoints.find({ ...(accountId === null ? {} : { where: { owner: accountId } }), limit: COUNT_CAP }),
  ]);
  // An account's deliveries are read through its own endpoints (at most 20), never every account's and then filtered.
  const deliveries = async (status: 'pending' | 'failed') => {
    if (accountId === null) return (await w.deliveries.find({ where: { status }, limit: COUNT_CAP + 1 })).length;
    const perEndpoint = await Promise.all(
      endpoints.map(async (e) => (await w.deliveries.find({ where: { endpointId: e.id, status }, limit: COUNT_CAP + 1 })).length),
    );
    return perEndpoint.reduce((a, b) => a + b, 0);
  };
  const [pending, failed] = await Promise.all([deliveries('pending'), deliveries('failed')]);
  return {
    at,
    deployments: Object.fromEntries(byState) as MetricsSummary['deployments'],
    audits: { ...auditSummary(recent.slice(0, COUNT_CAP).map((d) => d.data)), capped: recent.length > COUNT_CAP },
    miniProgramsNeedingReauth: counted(reauth.length),
    webhooks: {
      pendingDeliveries: counted(pending),
      failedDeliveries: counted(failed),
      endpointsDisabled: endpoints.filter((e) => !e.data.enabled).length,
      endpoints: endpoints.length,
    },
  };
}

/** When the deployment entered its current state: its last transition there, or its creation (configuring). */
function enteredStateAt(deployment: Deployment): number {
  for (let i = deployment.history.length - 1; i >= 0; i--) {
    const entry = deployment.history[i];
    if (entry && entry.to === deployment.state && entry.from !== deployment.state) return entry.at;
  }
  return deployment.createdAt;
}

/** Every audit decision in the histories, with its latency from the submit that preceded it. */
function decisionsOf(deployment: Deployment): { decision: 'approved' | 'rejected'; latencyMs: number }[] {
  const decisions: { decision: 'approved' | 'rejected'; latencyMs: number }[] = [];
  let submittedAt: number | null = null;
  for (const entry of deployment.history) {
    if (entry.command === 'submitAudit' || entry.command === 'auditSubmitted') submittedAt = entry.at;
    else if ((entry.command === 'auditApproved' || entry.command === 'auditRejected') && submittedAt !== null) {
      decisions.push({ decision: entry.command === 'auditApproved' ? 'approved' : 'rejected', latencyMs: entry.at - submittedAt });
      submittedAt = null;
    }
  }
  return decisions;
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: readonly number[], p: number): number | null =>
  sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null);

function auditSummary(deployments: readonly Deployment[]): Omit<AuditSummary, 'capped'> {
  const latencies: number[] = [];
  const byTemplate = new Map<number, { decided: number; rejected: number }>();
  for (const d of deployments) {
    for (const { decision, latencyMs } of decisionsOf(d)) {
      latencies.push(latencyMs);
      const t = byTemplate.get(d.templateId) ?? { decided: 0, rejected: 0 };
      t.decided += 1;
      if (decision === 'rejected') t.rejected += 1;
      byTemplate.set(d.templateId, t);
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    windowDays: AUDIT_WINDOW_MS / 86_400_000,
    decided: latencies.length,
    latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90) },
    byTemplate: [...byTemplate]
      .sort(([a], [b]) => a - b)
      .map(([templateId, t]) => ({ templateId, ...t, rejectionRate: t.rejected / t.decided })),
  };
}

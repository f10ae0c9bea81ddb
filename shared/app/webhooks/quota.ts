/**
 * `quota.low`: the platform admin's endpoints are told once a month when the platform's audit quota left falls to a
 * tenth of it. Noted wherever the quota is read anyway (the readiness report, `GET /v1/quota`): no extra WeChat call.
 */
import { DuplicateKeyError } from '../../domain/errors';
import { makeEvent } from '../../domain/webhooks/events';
import type { Services } from '../context';
import { commitWithEvents } from './outbox';

export const quotaLowThreshold = (limit: number): number => Math.max(1, Math.ceil(limit / 10));

export async function noteAuditQuota(
  services: Pick<Services, 'store' | 'clock' | 'log' | 'metrics'>,
  quota: { rest: number; limit: number },
): Promise<void> {
  services.metrics.record('audit_quota_left', quota.rest, {});
  const threshold = quotaLowThreshold(quota.limit);
  if (quota.rest > threshold) return;
  const at = services.clock();
  const now = new Date(at);
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const event = makeEvent({
    type: 'quota.low',
    accountId: null,
    subject: 'audit-quota',
    sequence: now.getUTCFullYear() * 12 + now.getUTCMonth(),
    occurredAt: at,
    data: { remaining: quota.rest, limit: quota.limit, threshold },
  });
  // One id per month: the second reading of a low quota finds the event there and says nothing more.
  const id = `evt_${monthStart.toString(36).padStart(9, '0')}quotalow`;
  try {
    await commitWithEvents(services.store, [], [{ id, event }]);
  } catch (error) {
    if (error instanceof DuplicateKeyError) return;
    // Telling is best effort: the reading itself (a report, the quota route) must not fail for it.
    services.log.warn('could not record quota.low', { error });
  }
}

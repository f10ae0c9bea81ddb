/**
 * `maintenance` (timer): deletes expired documents (de-duplication inbox, idempotency records, leases). SQLite
 * and CloudBase have no TTL index, and even MongoDB's TTL monitor runs late, so expiry must not depend on it:
 * reads already ignore expired documents; this sweep only reclaims space.
 */

import { type Foundation, foundation } from '../../shared/runtime/compose';
import { cloudEntry } from '../../shared/runtime/entry';
import type { ScheduledEvent } from '../../shared/runtime/shim';

export type MaintenanceDeps = Pick<Foundation, 'log' | 'store'>;

export function makeHandler(deps: MaintenanceDeps) {
  return async (event: ScheduledEvent) => {
    const purged = await deps.store.purgeExpired();
    deps.log.info('maintenance tick', { trigger: event.triggerName, firedAt: event.time, purged });
    return { purged };
  };
}

export const handler = cloudEntry({ name: 'maintenance', http: false, schedule: true }, async () => ({
  schedule: makeHandler(await foundation()),
}));

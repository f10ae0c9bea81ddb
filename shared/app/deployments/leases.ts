/**
 * Who may call WeChat for a deployment right now: one holder of its lease at a time, across instances, and the
 * caller's end (a request's timeout, a poller tick's budget) that cuts the call in flight.
 */
import { randomBytes } from 'node:crypto';
import { createLeases } from '../../store/leases';
import type { CallOptions } from '../../wechat/http';
import type { Services } from '../context';
import { DeploymentConflictError } from './state-changes';

const LEASE_MS = 2 * 60_000;

const leaseName = (id: string) => `deployment:${id}`;

export interface DeploymentLease {
  release(): Promise<void>;
}

/** The deployment's lease if nobody holds it, else null (the holder is on it). */
export async function tryLease(services: Services, id: string): Promise<DeploymentLease | null> {
  const leases = createLeases(services.store, services.clock);
  const lease = await leases.acquire(leaseName(id), randomBytes(6).toString('hex'), LEASE_MS);
  return lease ? { release: () => leases.release(lease) } : null;
}

/** Waits a little for a lease another instance holds (a WeChat call in flight takes at most seconds). */
export async function acquireWaiting(services: Services, id: string, waitMs: number): Promise<DeploymentLease> {
  const leases = createLeases(services.store, services.clock);
  const owner = randomBytes(6).toString('hex');
  const deadline = Date.now() + waitMs;
  for (let pause = 25; ; pause = Math.min(pause * 2, 500)) {
    const lease = await leases.acquire(leaseName(id), owner, LEASE_MS);
    if (lease) return { release: () => leases.release(lease) };
    if (Date.now() >= deadline) {
      throw new DeploymentConflictError('DEPLOYMENT_BUSY', `deployment ${id} is being worked on right now; retry in a few seconds`, {
        deploymentId: id,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** A WeChat call's options: cut at the caller's end, if it has one. */
export const callOf = (signal: AbortSignal | undefined): CallOptions | undefined => (signal ? { signal } : undefined);

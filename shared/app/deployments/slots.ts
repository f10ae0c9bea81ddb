/**
 * An app's build slot and its deployments: which one is open, which is the latest. Read by the build (one open
 * deployment per app), the app's views and the readiness report.
 */

import { type Deployment, isTerminal, OPEN_STATES } from '../../domain/deployment';
import { type AppId, deploymentIdSchema, timestampSchema, type WeChatAppid } from '../../domain/ids';
import * as z from '../../domain/zod';
import { defineCollection, type Stored } from '../../store/port';
import type { Services } from '../context';
import { DeploymentConflictError } from './state-changes';

/**
 * One document per app naming its latest deployment. "One open deployment per app" is a compare-and-set on it,
 * written in the same batch as the new deployment: two builds of one app started together on different instances
 * cannot both pass the check, because only one batch wins the slot and the other sees the winner's deployment.
 */
export const appDeploymentSlotsCollection = defineCollection({
  name: 'appDeploymentSlots',
  schema: z.lazy(() => z.object({ deploymentId: deploymentIdSchema, at: timestampSchema })),
});

/** The slot's document, after refusing when the app's deployment it names is still open. */
export async function freeSlotOf(services: Services, appId: AppId): Promise<Stored<{ deploymentId: string; at: number }> | null> {
  const slot = await services.store.collection(appDeploymentSlotsCollection).get(appId);
  const blocking = await openDeploymentOf(services, appId, slot?.data.deploymentId ?? null);
  if (blocking) {
    throw new DeploymentConflictError(
      'DEPLOYMENT_ALREADY_OPEN',
      `deployment ${blocking.id} of this app is still ${blocking.data.state}: cancel or finish it first`,
      { deploymentId: blocking.id, state: blocking.data.state },
    );
  }
  return slot;
}

/**
 * The app's open deployment, if any. The slot names the app's latest deployment, and a deployment is only created
 * while the one before it is closed (closed is for good): that one is the only candidate. An app without a slot
 * had its deployments made before slots existed: those are looked up by state.
 */
async function openDeploymentOf(services: Services, appId: AppId, latest: string | null): Promise<Stored<Deployment> | null> {
  if (latest !== null) {
    const stored = await services.db.deployments.get(latest);
    return stored && !isTerminal(stored.data) ? stored : null;
  }
  return (await findOpen(services, { appId }, 1))[0] ?? null;
}

/**
 * The app's latest deployment, open or not: the one its slot names, or (for an app built before slots existed)
 * its newest. What the app's status is derived from.
 */
export async function latestDeploymentOf(services: Services, appId: AppId): Promise<Deployment | null> {
  const slot = await services.store.collection(appDeploymentSlotsCollection).get(appId);
  if (slot) return (await services.db.deployments.get(slot.data.deploymentId))?.data ?? null;
  return (
    (await services.db.deployments.find({ where: { appId }, orderBy: { field: 'createdAt', direction: 'desc' }, limit: 1 }))[0]?.data ??
    null
  );
}

/**
 * Open deployments by state. Closed failures pile up (a permanent failure stays `failed`), so they cannot share
 * one limited query with the open states: the failed ones are read newest first, where a retryable one would be.
 */
export async function findOpen(
  services: Services,
  where: { appId?: AppId; miniProgramAppid?: WeChatAppid },
  limit: number,
): Promise<Stored<Deployment>[]> {
  const open = await services.db.deployments.find({
    where: { ...where, state: { in: [...OPEN_STATES] } },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit,
  });
  if (open.length >= limit) return open;
  const failed = await services.db.deployments.find({
    where: { ...where, state: 'failed' },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit: Math.max(limit, 100),
  });
  return [...open, ...failed.filter((deployment) => !isTerminal(deployment.data))].slice(0, limit);
}

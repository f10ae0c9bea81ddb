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

/** An app's build slot as a build finds it: the slot's document and the app's latest deployment. */
export interface BuildSlot {
  slot: Stored<{ deploymentId: string; at: number }> | null;
  latest: Deployment | null;
}

/**
 * The slot's document and the app's latest deployment (what the readiness gate then judges), after refusing when
 * that deployment is still open: one read of each for an app with a slot, one query for an app never built.
 */
export async function freeSlotOf(services: Services, appId: AppId): Promise<BuildSlot> {
  const slot = await services.store.collection(appDeploymentSlotsCollection).get(appId);
  const latest = slot ? await services.db.deployments.get(slot.data.deploymentId) : await newestDeploymentOf(services, appId);
  const blocking = await openDeploymentOf(services, appId, slot, latest);
  if (blocking) {
    throw new DeploymentConflictError(
      'DEPLOYMENT_ALREADY_OPEN',
      `deployment ${blocking.id} of this app is still ${blocking.data.state}: cancel or finish it first`,
      { deploymentId: blocking.id, state: blocking.data.state },
    );
  }
  return { slot, latest: latest?.data ?? null };
}

/**
 * The app's open deployment, if any. The slot names the app's latest deployment, and a deployment is only created
 * while the one before it is closed (closed is for good): that one is the only candidate. An app without a slot
 * and without any deployment has none; one without a slot but with deployments had them made before slots
 * existed: those are looked up by state.
 */
async function openDeploymentOf(
  services: Services,
  appId: AppId,
  slot: Stored<unknown> | null,
  latest: Stored<Deployment> | null,
): Promise<Stored<Deployment> | null> {
  if (slot) return latest && !isTerminal(latest.data) ? latest : null;
  if (!latest) return null;
  return (await findOpen(services, { appId }, 1))[0] ?? null;
}

const newestDeploymentOf = async (services: Services, appId: AppId): Promise<Stored<Deployment> | null> =>
  (await services.db.deployments.find({ where: { appId }, orderBy: { field: 'createdAt', direction: 'desc' }, limit: 1 }))[0] ?? null;

/**
 * The app's latest deployment, open or not: the one its slot names, or (for an app built before slots existed)
 * its newest. What the app's status is derived from.
 */
export async function latestDeploymentOf(services: Services, appId: AppId): Promise<Deployment | null> {
  const slot = await services.store.collection(appDeploymentSlotsCollection).get(appId);
  if (slot) return (await services.db.deployments.get(slot.data.deploymentId))?.data ?? null;
  return (await newestDeploymentOf(services, appId))?.data ?? null;
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

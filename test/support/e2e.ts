/**
 * What the end-to-end files share on top of the driver (infra/local/driver.ts) and the reliability harness
 * (test/reliability/support.ts): the product against a simulator the file owns, together with a poller instance on
 * its database whose clock the test moves, started and stopped in one call each; and the deployment requests every
 * walk makes, each checking the status the route answers.
 */
import { type Client, type DeploymentReply, deploymentOf, expectStatus } from '../../infra/local/driver';
import type { Deployment } from '../../shared/domain/deployment';
import { type ClockedServices, type SeededPlatform, servicesWithClock, startSeededPlatform } from '../reliability/support';

export interface PlatformWithPoller {
  p: SeededPlatform;
  poller: ClockedServices;
}

/** In `beforeAll`: `({ p, poller } = await startPlatformWithPoller(…))`. */
export async function startPlatformWithPoller(options: Parameters<typeof startSeededPlatform>[0] = {}): Promise<PlatformWithPoller> {
  const p = await startSeededPlatform(options);
  return { p, poller: servicesWithClock(p.env, Date.now()) };
}

/** In `afterAll`; either may be missing when `beforeAll` failed. */
export async function stopPlatformWithPoller({ p, poller }: Partial<PlatformWithPoller>): Promise<void> {
  await poller?.close();
  await p?.close();
}

/** The deployment as stored, read by the poller instance (what the next tick would act on). */
export async function storedDeployment(poller: ClockedServices, id: string): Promise<Deployment> {
  const found = await poller.services.db.deployments.get(id);
  if (!found) throw new Error(`deployment ${id} is gone`);
  return found.data;
}

/** `POST /v1/apps/{appId}/deployments`: a build, accepted (202) whether it finished within the request or not. */
export const requestBuild = async (api: Client, appId: string, body: Record<string, unknown>): Promise<DeploymentReply> =>
  deploymentOf(expectStatus(await api.post(`/v1/apps/${appId}/deployments`, body), 202));

/** `POST /v1/deployments/{id}/{action}` without a body, answered 200. */
export const requestAction = async (
  api: Client,
  id: string,
  action: 'submit' | 'release' | 'retry' | 'cancel' | 'rollback',
): Promise<DeploymentReply> => deploymentOf(expectStatus(await api.post(`/v1/deployments/${id}/${action}`), 200));

/** `GET /v1/deployments/{id}`, answered 200. */
export const readDeployment = async (api: Client, id: string): Promise<DeploymentReply> =>
  deploymentOf(expectStatus(await api.get(`/v1/deployments/${id}`), 200));

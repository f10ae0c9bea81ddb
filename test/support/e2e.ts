/**
 * What the end-to-end files share on top of the driver (infra/local/driver.ts) and the reliability harness
 * (test/reliability/support.ts): the product against a simulator the file owns, together with a poller instance on
 * its database whose clock the test moves, started and stopped in one call each; and the deployment requests every
 * walk makes, each checking the status the route answers; and a catcher that stands where WeChat pushes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

export interface CapturedPush {
  /** Path and query as WeChat sent them: `/wechat/authorizers/{appid}/events?timestamp=…&nonce=…&msg_signature=…`. */
  target: string;
  path: string;
  query: Record<string, string>;
  body: string;
}

export interface PushCatcher {
  url: string;
  pushes: CapturedPush[];
  close(): Promise<void>;
}

/** Stands where the product's push URLs would be, so a test holds WeChat's exact bytes: what an eavesdropper holds. */
export async function startPushCatcher(): Promise<PushCatcher> {
  const pushes: CapturedPush[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.url ?? '/';
      const url = new URL(target, 'http://catcher');
      pushes.push({
        target,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.end('success');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pushes,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/**
 * Starting a build: everything checked before WeChat is asked, the deployment recorded with the app's build slot
 * (one open deployment per app), then the worker runs; and finding an app's open and latest deployments.
 */
import { z } from 'zod';
import { checkAppConfig } from '../../domain/app';
import type { Actor } from '../../domain/common';
import { createDeployment, type Deployment, isTerminal, OPEN_STATES, transition } from '../../domain/deployment';
import { buildExtJson } from '../../domain/ext-json';
import {
  type AccountId,
  type AppId,
  type AssetId,
  deploymentIdSchema,
  newDeploymentId,
  timestampSchema,
  type WeChatAppid,
} from '../../domain/ids';
import { checkPlugins } from '../../domain/plugins';
import { hasCodePermissions, whoCanPublish } from '../../domain/rules';
import { deploymentStateEvents } from '../../domain/webhooks/state-changes';
import { defineCollection, type Stored } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import { assetMetasOf, getAccount, getApp } from '../catalog';
import type { Services } from '../context';
import { refreshPlugins } from '../mini-programs';
import { assertReadyToBuild } from '../readiness';
import { templateToBuild } from '../templates';
import { commitWithEvents } from '../webhooks/outbox';
import { DeploymentConflictError } from './state-changes';
import { advance } from './worker';

/**
 * One document per app naming its latest deployment. "One open deployment per app" is a compare-and-set on it,
 * written in the same batch as the new deployment: two builds of one app started together on different instances
 * cannot both pass the check, because only one batch wins the slot and the other sees the winner's deployment.
 */
export const appDeploymentSlotsCollection = defineCollection({
  name: 'appDeploymentSlots',
  schema: z.lazy(() => z.object({ deploymentId: deploymentIdSchema, at: timestampSchema })),
});

export interface BuildInput {
  userVersion: string;
  userDesc: string;
  testers?: readonly string[];
  /** A template of the library to commit; left out: the latest version of the app's template (`templateToBuild`). */
  templateId?: number | undefined;
}

/**
 * Validates everything that can be checked before touching WeChat, records the deployment in `building`, and
 * runs the build steps as far as the request's time allows. The poller finishes what is left.
 */
export async function startBuild(
  services: Services,
  accountId: AccountId,
  appId: string,
  input: BuildInput,
  actor: Actor,
  signal?: AbortSignal,
): Promise<Deployment> {
  const account = await getAccount(services, accountId);
  const app = await getApp(services, accountId, appId);
  const appid = app.data.miniProgramAppid;
  if (!appid) {
    throw new DeploymentConflictError(
      'APP_NOT_LINKED',
      app.data.linkLostReason?.message ?? 'the app has no mini program yet: authorize one for it first',
      { appId },
    );
  }
  const miniProgram = await services.db.miniPrograms.get(appid);
  if (!miniProgram) throw new DeploymentConflictError('APP_NOT_LINKED', `the app's mini program ${appid} is not known`, { appId });
  const allowed = whoCanPublish(account.data, miniProgram.data, services.config.requireSameSubject);
  if (!allowed.ok) throw allowed.error;
  const permissions = hasCodePermissions(miniProgram.data.funcScopeIds, { plugins: app.data.requiredPlugins.length > 0 });
  if (!permissions.ok) throw permissions.error;

  const assets = await assetMetasOf(services, accountId, app.data);
  const configOk = checkAppConfig(app.data, assets);
  if (!configOk.ok) throw configOk.error;

  // The plugin list can change on mp.weixin.qq.com at any time: read it fresh (seed 000's FAQ failure).
  if (app.data.requiredPlugins.length > 0) {
    const fresh = await refreshPlugins(services, appid, miniProgram.data.funcScopeIds);
    const plugins = checkPlugins(appid, app.data.requiredPlugins, (fresh ?? miniProgram.data).plugins);
    if (!plugins.ok) throw plugins.error;
  }
  // Everything WeChat would refuse this build or its submit for, all at once, before anything is stored.
  await assertReadyToBuild(services, miniProgram.data, app.data, signal);

  const extJson = buildExtJson(app.data, {
    extAppid: appid,
    assetUrl: (id: AssetId) => `${services.config.publicBaseUrl}/v1/public/assets/${id}`,
  });
  const created = createDeployment(
    {
      id: newDeploymentId(services.randomBytes),
      accountId,
      appId: app.data.id,
      miniProgramAppid: appid,
      templateId: input.templateId ?? (await templateToBuild(services, app.data.templateId, signal)),
      userVersion: input.userVersion,
      userDesc: input.userDesc,
      extJson,
      testers: input.testers ?? [],
    },
    { at: services.clock(), actor },
  );
  const started = transition(created, { type: 'startBuild' }, { at: services.clock(), actor, random: services.random });
  const slots = services.store.collection(appDeploymentSlotsCollection);
  // A lost race for the slot means another build of the app took it: look again, and find its deployment open.
  await retryOnConflict(`claim the build slot of app ${app.data.id}`, async () => {
    const slot = await slots.get(app.data.id);
    const blocking = await openDeploymentOf(services, app.data.id, slot?.data.deploymentId ?? null);
    if (blocking) {
      throw new DeploymentConflictError(
        'DEPLOYMENT_ALREADY_OPEN',
        `deployment ${blocking.id} of this app is still ${blocking.data.state}: cancel or finish it first`,
        { deploymentId: blocking.id, state: blocking.data.state },
      );
    }
    const claim = { deploymentId: created.id, at: services.clock() };
    await commitWithEvents(
      services.store,
      [
        slot ? slots.updateWrite(slot.id, slot.version, claim) : slots.insertWrite(app.data.id, claim),
        services.db.deployments.insertWrite(created.id, started.deployment),
      ],
      deploymentStateEvents(null, started.deployment, services.randomBytes),
    );
  });
  return advance(services, created.id, signal);
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

import { checkAppConfig } from '../../domain/app';
import type { Actor } from '../../domain/common';
import { createDeployment, type Deployment, transition } from '../../domain/deployment';
import { buildExtJson } from '../../domain/ext-json';
import { type AccountId, type AssetId, newDeploymentId } from '../../domain/ids';
import { checkPlugins } from '../../domain/plugins';
import { hasCodePermissions, whoCanPublish } from '../../domain/rules';
import { deploymentStateEvents } from '../../domain/webhooks/state-changes';
import { retryOnConflict } from '../../store/retry';
import { assetMetasOf, getAccount, getApp } from '../catalog';
import type { Services } from '../context';
import { refreshPlugins } from '../mini-programs';
import { assertReadyToBuild } from '../readiness';
import { templateToBuild } from '../templates';
import { commitWithEvents } from '../webhooks/outbox';
import { appDeploymentSlotsCollection, freeSlotOf } from './slots';
import { DeploymentConflictError } from './state-changes';
import { advance } from './worker';

export interface BuildInput {
  userVersion: string;
  userDesc: string;
  testers?: readonly string[];
  /** A template of the library to commit; left out: the latest version of the app's template (`templateToBuild`). */
  templateId?: number | undefined;
  /** Build although WeChat refused the app's last deployment for something no status API tells the end of. */
  retryRefused?: boolean | undefined;
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

  // An open deployment is the clearer answer, and cheaper than the readiness gate's WeChat reads below. The slot
  // and the latest deployment read here serve the gate and the first try at claiming the slot too.
  const free = await freeSlotOf(services, app.data.id);

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
  await assertReadyToBuild(
    services,
    miniProgram.data,
    app.data,
    { retryRefused: input.retryRefused === true, latest: free.latest },
    signal,
  );

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
  // A lost race for the slot (its version changed since it was read, or another build inserted it) means another
  // build of the app took it: look again, and find its deployment open.
  let tries = 0;
  await retryOnConflict(`claim the build slot of app ${app.data.id}`, async () => {
    const { slot } = tries++ === 0 ? free : await freeSlotOf(services, app.data.id);
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

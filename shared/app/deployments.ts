/**
 * The publishing pipeline (DESIGN §1 steps 3–6) on top of the pure state machine.
 *
 * How it stays correct with many instances, retries and crashes:
 * - Every state change is `transition` + a compare-and-set of the deployment. Only the writer whose transition
 *   changed something *and* whose write won performs the WeChat call that goes with it (its `effects`): two
 *   concurrent publishes make one release call.
 * - Work that talks to WeChat is recorded first (building, submitting, releasing carry `nextPollAt`), then done
 *   under a per-deployment lease by whoever gets there: the request that started it, or the poller if that
 *   instance died. Resuming is safe because each step is safe to repeat or checks WeChat first (a submit asks for
 *   the latest audit before submitting again; a release treats 85052 "already released" as done).
 * - An outcome WeChat did not tell us (a timeout) changes nothing: the poller asks again later.
 * - WeChat keeps one audit per mini program and names none in its pushes or in `undocodeaudit`: an audit is only
 *   adopted or withdrawn after `ownsAudit` says it is this deployment's own submission.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { primaryOf, unbindPrimary } from '../domain/account';
import { checkAppConfig, unlinkApp } from '../domain/app';
import type { Actor } from '../domain/common';
import {
  auditIdsOf,
  auditMayBeLive,
  createDeployment,
  type Deployment,
  type DeploymentCommand,
  type Effect,
  IN_FLIGHT_STATES,
  isTerminal,
  type LatestAudit,
  ownsAudit,
  pendingWork,
  pollLater,
  pollNow,
  SUBMIT_CLOCK_SKEW_MS,
  type TesterRefusal,
  transition,
  type Work,
  withTestersBound,
  wouldChange,
} from '../domain/deployment';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { buildExtJson } from '../domain/ext-json';
import {
  type AccountId,
  type AppId,
  type AssetId,
  deploymentIdSchema,
  newDeploymentId,
  timestampSchema,
  type WeChatAppid,
} from '../domain/ids';
import { markNeedsReauth, unlinkMiniProgram } from '../domain/mini-program';
import { checkPlugins } from '../domain/plugins';
import { refusalReason } from '../domain/readiness';
import { hasCodePermissions, whoCanPublish } from '../domain/rules';
import { eitherSignal, sharedSignal } from '../runtime/abort';
import { createLeases } from '../store/leases';
import { defineCollection, type Stored, type Write } from '../store/port';
import { ALREADY_A_TESTER, TESTER_REFUSALS, WeChatApiError, WeChatNetworkError } from '../wechat/errcodes';
import type { CallOptions } from '../wechat/http';
import { AuthorizerNotAuthorizedError } from '../wechat/tokens';
import { refreshPlugins } from './authorization';
import { assetMetasOf, getAccount, getApp, putAsset } from './catalog';
import type { Services } from './context';
import { applyPrivacyGuide, ensureDomains, prepareSubmit, type StepResult } from './go-live-settings';
import { assertReadyToBuild, assertReadyToRelease, assertReadyToSubmit } from './readiness';
import { templateToBuild } from './templates';

const LEASE_MS = 2 * 60_000;
const SYSTEM: Actor = { kind: 'system' };
/** Every state a deployment is open in whatever its failure; `failed` is open too, but only while retryable. */
const OPEN_STATES = [
  'configuring',
  'building',
  'built',
  'submitting',
  'auditing',
  'approved',
  'releasing',
  'rejected',
  'withdrawn',
] as const;
const MAX_TESTERS = 100;

/**
 * One document per app naming its latest deployment. "One open deployment per app" is a compare-and-set on it,
 * written in the same batch as the new deployment: two builds of one app started together on different instances
 * cannot both pass the check, because only one batch wins the slot and the other sees the winner's deployment.
 */
export const appDeploymentSlotsCollection = defineCollection({
  name: 'appDeploymentSlots',
  schema: z.lazy(() => z.object({ deploymentId: deploymentIdSchema, at: timestampSchema })),
});

export class DeploymentConflictError extends AppError {
  readonly code: string;
  readonly category = 'conflict' as const;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message, details ? { details } : {});
    this.code = code;
  }
}

// -------------------------------------------------------------------------------------------- state changes

export interface Applied {
  deployment: Deployment;
  version: number;
  changed: boolean;
  effects: readonly Effect[];
}

/** One transition, stored with compare-and-set; on a lost race it re-reads and decides again. */
export async function applyCommand(s: Services, id: string, command: DeploymentCommand, actor: Actor): Promise<Applied> {
  for (let attempt = 0; ; attempt++) {
    const stored = await s.db.deployments.get(id);
    if (!stored) throw new NotFoundError(`deployment ${id} not found`, { code: 'DEPLOYMENT_NOT_FOUND' });
    const result = transition(stored.data, command, { at: s.clock(), actor, random: s.random });
    if (!result.changed) return { deployment: stored.data, version: stored.version, changed: false, effects: [] };
    try {
      const written = await s.db.deployments.update(id, stored.version, result.deployment);
      return { deployment: written.data, version: written.version, changed: true, effects: result.effects };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 10) throw error;
    }
  }
}

export async function getDeployment(s: Services, accountId: AccountId, id: string): Promise<Stored<Deployment>> {
  const stored = await s.db.deployments.get(id);
  if (!stored || stored.data.accountId !== accountId) {
    throw new NotFoundError(`deployment ${id} not found`, { code: 'DEPLOYMENT_NOT_FOUND', field: 'deploymentId' });
  }
  return stored;
}

// ------------------------------------------------------------------------------------------------- building

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
  s: Services,
  accountId: AccountId,
  appId: string,
  input: BuildInput,
  actor: Actor,
  signal?: AbortSignal,
): Promise<Deployment> {
  const account = await getAccount(s, accountId);
  const app = await getApp(s, accountId, appId);
  const appid = app.data.miniProgramAppid;
  if (!appid) {
    throw new DeploymentConflictError(
      'APP_NOT_LINKED',
      app.data.linkLostReason?.message ?? 'the app has no mini program yet: authorize one for it first',
      { appId },
    );
  }
  const miniProgram = await s.db.miniPrograms.get(appid);
  if (!miniProgram) throw new DeploymentConflictError('APP_NOT_LINKED', `the app's mini program ${appid} is not known`, { appId });
  const allowed = whoCanPublish(account.data, miniProgram.data, s.config.requireSameSubject);
  if (!allowed.ok) throw allowed.error;
  const permissions = hasCodePermissions(miniProgram.data.funcScopeIds, { plugins: app.data.requiredPlugins.length > 0 });
  if (!permissions.ok) throw permissions.error;

  const assets = await assetMetasOf(s, accountId, app.data);
  const configOk = checkAppConfig(app.data, assets);
  if (!configOk.ok) throw configOk.error;

  // The plugin list can change on mp.weixin.qq.com at any time: read it fresh (seed 000's FAQ failure).
  if (app.data.requiredPlugins.length > 0) {
    const fresh = await refreshPlugins(s, appid, miniProgram.data.funcScopeIds);
    const plugins = checkPlugins(appid, app.data.requiredPlugins, (fresh ?? miniProgram.data).plugins);
    if (!plugins.ok) throw plugins.error;
  }
  // Everything WeChat would refuse this build or its submit for, all at once, before anything is stored (issue 18).
  await assertReadyToBuild(s, miniProgram.data, app.data, signal);

  const extJson = buildExtJson(app.data, {
    extAppid: appid,
    assetUrl: (id: AssetId) => `${s.config.publicBaseUrl}/v1/public/assets/${id}`,
  });
  const created = createDeployment(
    {
      id: newDeploymentId(s.randomBytes),
      accountId,
      appId: app.data.id,
      miniProgramAppid: appid,
      templateId: input.templateId ?? (await templateToBuild(s, app.data.templateId, signal)),
      userVersion: input.userVersion,
      userDesc: input.userDesc,
      extJson,
      testers: input.testers ?? [],
    },
    { at: s.clock(), actor },
  );
  const started = transition(created, { type: 'startBuild' }, { at: s.clock(), actor, random: s.random });
  const slots = s.store.collection(appDeploymentSlotsCollection);
  for (let attempt = 0; ; attempt++) {
    const slot = await slots.get(app.data.id);
    const blocking = await openDeploymentOf(s, app.data.id, slot?.data.deploymentId ?? null);
    if (blocking) {
      throw new DeploymentConflictError(
        'DEPLOYMENT_ALREADY_OPEN',
        `deployment ${blocking.id} of this app is still ${blocking.data.state}: cancel or finish it first`,
        {
          deploymentId: blocking.id,
          state: blocking.data.state,
        },
      );
    }
    const claim = { deploymentId: created.id, at: s.clock() };
    try {
      await s.store.commit([
        slot ? slots.updateWrite(slot.id, slot.version, claim) : slots.insertWrite(app.data.id, claim),
        s.db.deployments.insertWrite(created.id, started.deployment),
      ]);
      break;
    } catch (error) {
      // Another build of the app took the slot meanwhile: look again, and find its deployment open.
      if (!(error instanceof ConflictError) || attempt >= 3) throw error;
    }
  }
  return advance(s, created.id, signal);
}

/**
 * The app's open deployment, if any. The slot names the app's latest deployment, and a deployment is only created
 * while the one before it is closed (closed is for good): that one is the only candidate. An app without a slot
 * had its deployments made before slots existed: those are looked up by state.
 */
async function openDeploymentOf(s: Services, appId: AppId, latest: string | null): Promise<Stored<Deployment> | null> {
  if (latest !== null) {
    const stored = await s.db.deployments.get(latest);
    return stored && !isTerminal(stored.data) ? stored : null;
  }
  return (await findOpen(s, { appId }, 1))[0] ?? null;
}

/**
 * The app's latest deployment, open or not: the one its slot names, or (for an app built before slots existed)
 * its newest. What the app's status is derived from.
 */
export async function latestDeploymentOf(s: Services, appId: AppId): Promise<Deployment | null> {
  const slot = await s.store.collection(appDeploymentSlotsCollection).get(appId);
  if (slot) return (await s.db.deployments.get(slot.data.deploymentId))?.data ?? null;
  return (await s.db.deployments.find({ where: { appId }, orderBy: { field: 'createdAt', direction: 'desc' }, limit: 1 }))[0]?.data ?? null;
}

/**
 * Open deployments by state. Closed failures pile up (a permanent failure stays `failed`), so they cannot share
 * one limited query with the open states: the failed ones are read newest first, where a retryable one would be.
 */
async function findOpen(
  s: Services,
  where: { appId?: AppId; miniProgramAppid?: WeChatAppid },
  limit: number,
): Promise<Stored<Deployment>[]> {
  const open = await s.db.deployments.find({
    where: { ...where, state: { in: [...OPEN_STATES] } },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit,
  });
  if (open.length >= limit) return open;
  const failed = await s.db.deployments.find({
    where: { ...where, state: 'failed' },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit: Math.max(limit, 100),
  });
  return [...open, ...failed.filter((d) => !isTerminal(d.data))].slice(0, limit);
}

// ---------------------------------------------------------------------------------------------- the worker

/**
 * Does the deployment's pending WeChat work, step after step, under its lease. Returns the deployment as it
 * stands; if another instance holds the lease, returns without doing anything (that instance is on it).
 *
 * `signal` is the caller's end (a request's early timeout, a poller tick's budget): no step starts after it, and
 * the WeChat call in flight is cut there. What was cut stays as it was, due, for the next tick: each step is
 * safe to repeat.
 */
export async function advance(s: Services, id: string, signal?: AbortSignal): Promise<Deployment> {
  const leases = createLeases(s.store, s.clock);
  const lease = await leases.acquire(leaseName(id), randomBytes(6).toString('hex'), LEASE_MS);
  if (!lease) return (await readDeployment(s, id)).data;
  try {
    return await runSteps(s, id, signal);
  } finally {
    await leases.release(lease);
  }
}

const leaseName = (id: string) => `deployment:${id}`;

async function readDeployment(s: Services, id: string): Promise<Stored<Deployment>> {
  const stored = await s.db.deployments.get(id);
  if (!stored) throw new NotFoundError(`deployment ${id} not found`, { code: 'DEPLOYMENT_NOT_FOUND' });
  return stored;
}

/** The steps themselves; the caller holds the deployment's lease. */
async function runSteps(s: Services, id: string, signal?: AbortSignal): Promise<Deployment> {
  for (let steps = 0; steps < 8 && !signal?.aborted; steps++) {
    const stored = await readDeployment(s, id);
    const work = pendingWork(stored.data);
    if (!work) return stored.data;
    const outcome = await perform(s, stored.data, work, signal);
    if (outcome === 'stopped') break;
    if (outcome === 'later') {
      await postpone(s, stored);
      break;
    }
  }
  return (await readDeployment(s, id)).data;
}

/** Waits a little for a lease another instance holds (a WeChat call in flight takes at most seconds). */
async function acquireWaiting(s: Services, id: string, waitMs: number) {
  const leases = createLeases(s.store, s.clock);
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
const callOf = (signal: AbortSignal | undefined): CallOptions | undefined => (signal ? { signal } : undefined);

/** `stopped`: the caller's signal ended the run; nothing is recorded and the deployment stays due. */
type Outcome = 'progressed' | 'later' | 'stopped';

/**
 * The steps that re-check, right before they run, that the deployment's app still holds the mini program: those
 * that make WeChat act on its code or testers, and the audit poll — only reading, but an audit left running for an
 * app that lost its mini program would otherwise keep the deployment open (in review it cannot be cancelled) and
 * hold the app's build slot until WeChat decides, days later, whenever the void at the time of the loss could not
 * take the deployment's lease.
 */
const ACTS_AT_WECHAT: ReadonlySet<Work> = new Set([
  'commitCode',
  'setPrivacyGuide',
  'setDomains',
  'fetchQrCode',
  'bindTesters',
  'submitAudit',
  'pollAudit',
  'release',
]);

async function perform(s: Services, d: Deployment, work: Work, signal?: AbortSignal): Promise<Outcome> {
  const appid = d.miniProgramAppid;
  const { client } = s.wechat;
  const call = callOf(signal);
  try {
    if (ACTS_AT_WECHAT.has(work)) {
      // Checked at every step, right before acting: the app may have lost the mini program since the last one (see
      // `linkLoss`), and the void that should have closed this deployment then is only best effort.
      const loss = await linkLoss(s, d);
      if (loss) return await voidUnlinked(s, d, loss, signal);
    }
    switch (work) {
      case 'commitCode':
        await client.commit(
          appid,
          { templateId: d.templateId, extJson: d.extJson, userVersion: d.userVersion, userDesc: d.userDesc },
          call,
        );
        await applyCommand(s, d.id, { type: 'buildCommitted' }, SYSTEM);
        return 'progressed';
      case 'setPrivacyGuide':
        return await settleStep(s, d, await applyPrivacyGuide(s, d, call), { type: 'privacyGuideSet' });
      case 'setDomains':
        return await settleStep(s, d, await ensureDomains(s, d, call), { type: 'domainsSet' });
      case 'fetchQrCode': {
        const qr = await client.getQrcode(appid, undefined, call);
        const asset = await putAsset(s, d.accountId, qr.bytes, 'qrcode');
        await applyCommand(s, d.id, { type: 'qrStored', qrAssetId: asset.id }, SYSTEM);
        return 'progressed';
      }
      case 'bindTesters': {
        const { bound, refused } = await bindTesters(s, appid, d.testers, signal);
        if (refused.length > 0) s.log.warn('testers refused by WeChat', { deploymentId: d.id, errcodes: refused.map((r) => r.errcode) });
        await applyCommand(s, d.id, { type: 'buildSucceeded', boundTesters: bound, refusedTesters: refused }, SYSTEM);
        return 'progressed';
      }
      case 'submitAudit':
        return await submit(s, d, signal);
      case 'pollAudit':
        return await pollAudit(s, d, signal);
      case 'release':
        return await release(s, d, signal);
    }
  } catch (error) {
    return recordFailure(s, d, work, error, signal);
  }
}

/** Records how a go-live settings step ended: `then` when done, a failure the user can act on, or nothing yet. */
async function settleStep(s: Services, d: Deployment, result: StepResult, then: DeploymentCommand | null): Promise<Outcome> {
  switch (result.kind) {
    case 'later':
      return 'later';
    case 'fail':
      await applyCommand(
        s,
        d.id,
        {
          type: 'fail',
          reason: result.reason,
          retryable: result.retryable,
          ...(result.errcode === undefined ? {} : { errcode: result.errcode }),
        },
        SYSTEM,
      );
      return 'progressed';
    case 'done':
      if (then) await applyCommand(s, d.id, then, SYSTEM);
      return 'progressed';
  }
}

/**
 * Binds each tester. WeChat refusing a person (`TESTER_REFUSALS`: no such WeChat id, the mini program's tester
 * limit, the person's own limit) does not fail the build — the code is committed and its QR stored, and no retry
 * could change the answer — so the user gets a built deployment listing who was refused and why, and binds them
 * again once the cause is gone (`bindTestersLater`). Anything else (token, network, quota) is the step's failure.
 */
async function bindTesters(
  s: Services,
  appid: WeChatAppid,
  testers: readonly string[],
  signal?: AbortSignal,
): Promise<{ bound: string[]; refused: TesterRefusal[] }> {
  const bound: string[] = [];
  const refused: TesterRefusal[] = [];
  for (const tester of testers) {
    try {
      await s.wechat.client.bindTester(appid, tester, callOf(signal));
      bound.push(tester);
    } catch (error) {
      if (!(error instanceof WeChatApiError)) throw error;
      if (error.errcode === ALREADY_A_TESTER) bound.push(tester);
      else if (TESTER_REFUSALS.has(error.errcode) || error.kind === 'input')
        refused.push({ wechatId: tester, errcode: error.errcode, reason: error.meaning, at: s.clock() });
      else throw error;
    }
  }
  return { bound, refused };
}

/**
 * Why the deployment may no longer act at WeChat, or null if it may: its app and its mini program must still point
 * at each other, and the mini program must not have revoked the platform. Otherwise the mini program serves
 * another app now — maybe another account's — and this deployment's code or release would land on it.
 * A mini program waiting for a new scan (`needs-reauth`) is still this app's: the step fails at WeChat and waits.
 */
async function linkLoss(s: Services, d: Deployment): Promise<{ reason: string; platformActs: boolean } | null> {
  const [app, mp] = await Promise.all([s.db.apps.get(d.appId), s.db.miniPrograms.get(d.miniProgramAppid)]);
  if (!mp || mp.data.status === 'unauthorized') {
    return { reason: `the mini program ${d.miniProgramAppid} no longer authorizes this platform`, platformActs: false };
  }
  if (app?.data.miniProgramAppid !== d.miniProgramAppid || mp.data.linkedAppId !== d.appId) {
    return {
      reason: `the app ${d.appId} is no longer linked to the mini program ${d.miniProgramAppid}`,
      platformActs: mp.data.status === 'authorized',
    };
  }
  return null;
}

/**
 * Closes a deployment that lost its mini program instead of acting, as the void at the time of the loss would have
 * (`voidLostDeployments`): its own audit is withdrawn when the platform still acts for the mini program, and a
 * release whose answer was lost before the loss counts as done — a deployment is never reported voided while its
 * version went live.
 */
async function voidUnlinked(
  s: Services,
  d: Deployment,
  loss: { reason: string; platformActs: boolean },
  signal?: AbortSignal,
): Promise<Outcome> {
  if (d.state === 'releasing' && loss.platformActs && (await wentLive(s, d, signal))) {
    await applyCommand(s, d.id, { type: 'releaseAlreadyDone' }, SYSTEM);
    return 'progressed';
  }
  let found: Withdrawal = { outcome: 'no-audit' };
  if (loss.platformActs && auditMayBeLive(d)) {
    try {
      found = await withdrawOwnAudit(s, d, signal);
    } catch (error) {
      // Cut by the caller's end (a tick's budget): record nothing, as every cut step, so the next run withdraws the
      // audit before voiding — voided now, the audit would stay live and unrecorded, and the app holding the mini
      // program would meet 85009 until WeChat decides.
      if (signal?.aborted) return 'stopped';
      s.log.warn('could not withdraw the audit of a deployment that lost its mini program', { deploymentId: d.id, error });
    }
  }
  s.log.warn('deployment voided before acting: its app lost the mini program', {
    deploymentId: d.id,
    appId: d.appId,
    miniProgramAppid: d.miniProgramAppid,
  });
  await applyCommand(s, d.id, closingWith({ type: 'void', reason: `${loss.reason}: nothing more was done at WeChat` }, d, found), SYSTEM);
  return 'progressed';
}

/** Whether the live version is this deployment's, released since it started releasing (a release answer lost). */
async function wentLive(s: Services, d: Deployment, signal?: AbortSignal): Promise<boolean> {
  const live = (await s.wechat.client.getVersionInfo(d.miniProgramAppid, callOf(signal))).release_info;
  const since = d.history.findLast((entry) => entry.to === 'releasing')?.at;
  if (!live || since === undefined || live.release_version !== d.userVersion) return false;
  return live.release_time === undefined || live.release_time * 1000 >= since - SUBMIT_CLOCK_SKEW_MS;
}

async function submit(s: Services, d: Deployment, signal?: AbortSignal): Promise<Outcome> {
  const { client } = s.wechat;
  const appid = d.miniProgramAppid;
  const call = callOf(signal);
  // A submit may already have happened before an instance died or its answer was lost — and WeChat may even have
  // decided it since: submitting again would abandon that audit and spend another of the month's submits.
  if (await adoptOwnAudit(s, d, signal)) return 'progressed';
  // The privacy scan, the guide and the domains: a step left undone ends the submit here.
  const ready = await prepareSubmit(s, d, call);
  if (ready.kind !== 'done') return settleStep(s, d, ready, null);
  const categories = (await client.getCategory(appid, call)).category_list;
  const first = categories[0];
  if (!first) {
    await applyCommand(
      s,
      d.id,
      {
        type: 'fail',
        reason: refusalReason(85008, 'the mini program has no approved category')?.reason ?? 'the mini program has no service category',
        retryable: true,
        errcode: 85008,
      },
      SYSTEM,
    );
    return 'progressed';
  }
  try {
    const { auditid } = await client.submitAudit(appid, { item_list: [first], version_desc: d.userDesc || d.userVersion }, call);
    await applyCommand(s, d.id, { type: 'auditSubmitted', auditId: Number(auditid) }, SYSTEM);
    return 'progressed';
  } catch (error) {
    if (!(error instanceof WeChatApiError)) throw error;
    if (error.errcode === 61039) return 'later';
    if (error.errcode !== 85009) throw error;
    if (await adoptOwnAudit(s, d, signal)) return 'progressed';
    // Another deployment's audit (or one submitted outside this platform): adopting it would release code this
    // deployment never submitted.
    await applyCommand(
      s,
      d.id,
      {
        type: 'fail',
        reason: 'WeChat is reviewing another version of this mini program (85009), not this deployment’s: retry once WeChat has decided it',
        retryable: true,
        errcode: 85009,
      },
      SYSTEM,
    );
    return 'progressed';
  }
}

/** The latest audit of a mini program, or null when it never had one (85058). */
async function latestAuditOf(
  s: Services,
  appid: WeChatAppid,
  signal?: AbortSignal,
): Promise<(LatestAudit & { reason: string | null; screenshots: string[] }) | null> {
  try {
    const latest = await s.wechat.client.getLatestAuditStatus(appid, callOf(signal));
    return {
      auditId: Number(latest.auditid),
      status: latest.status,
      submittedAt: latest.submit_audit_time === undefined ? null : latest.submit_audit_time * 1000,
      reason: latest.reason ?? null,
      screenshots: latest.screenshots,
    };
  } catch (error) {
    if (error instanceof WeChatApiError && error.errcode === 85058) return null;
    throw error;
  }
}

/**
 * Audit ids the mini program's other deployments recorded: none of them can be this deployment's submission. Only
 * an audit WeChat received moments ago gets this far (`ownsAudit`), so the most recent deployments are enough.
 */
async function auditIdsElsewhere(s: Services, d: Deployment): Promise<Set<number>> {
  const others = await s.db.deployments.find({
    where: { miniProgramAppid: d.miniProgramAppid },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit: 200,
  });
  return new Set(others.filter((o) => o.id !== d.id).flatMap((o) => auditIdsOf(o.data)));
}

const NONE: ReadonlySet<number> = new Set();

/** Whether `latest` is this deployment's own audit; the cheap checks first, the other deployments only if needed. */
async function isOwnAudit(s: Services, d: Deployment, latest: LatestAudit): Promise<boolean> {
  if (!ownsAudit(d, latest, NONE)) return false;
  // Under review, its own audit is the one it recorded; only an unrecorded submission could be another's.
  if (d.audit?.auditId === latest.auditId) return true;
  return ownsAudit(d, latest, await auditIdsElsewhere(s, d));
}

/**
 * A submitting deployment takes WeChat's latest audit as its own when it is (the submit's answer was lost), in
 * whatever state WeChat has it now — under review, delayed, or already decided. Returns whether it did.
 */
async function adoptOwnAudit(s: Services, d: Deployment, signal?: AbortSignal): Promise<boolean> {
  const latest = await latestAuditOf(s, d.miniProgramAppid, signal);
  if (!latest || !(await isOwnAudit(s, d, latest))) return false;
  const { auditId } = latest;
  const wechat: Actor = { kind: 'wechat' };
  switch (latest.status) {
    case 2:
      await applyCommand(s, d.id, { type: 'auditSubmitted', auditId }, SYSTEM);
      break;
    case 4:
      await applyCommand(s, d.id, { type: 'auditSubmitted', auditId }, SYSTEM);
      await applyCommand(s, d.id, { type: 'auditDelayed', auditId, reason: latest.reason ?? 'delayed' }, wechat);
      break;
    case 0:
      await applyCommand(s, d.id, { type: 'auditApproved', auditId }, wechat);
      break;
    case 1:
      await applyCommand(
        s,
        d.id,
        { type: 'auditRejected', auditId, reason: latest.reason ?? 'rejected', screenshots: latest.screenshots },
        wechat,
      );
      break;
    case 3:
      // Withdrawn: nothing left to adopt, and submitting again is what the user asked for.
      return false;
  }
  return true;
}

interface Withdrawal {
  outcome: 'withdrawn' | 'not-under-review' | 'not-ours' | 'no-audit';
  /** This deployment's audit as found at WeChat, for its closing history entry (it may never have recorded it). */
  auditId?: number;
}

/**
 * Withdraws this deployment's audit at WeChat if it is still under review there; never another's (undocodeaudit
 * withdraws whatever is pending). Safe to repeat: an audit already decided or withdrawn needs nothing. WeChat's
 * refusals (87013: no undo left today) and unknown outcomes are thrown, for the caller to decide.
 */
async function withdrawOwnAudit(s: Services, d: Deployment, signal?: AbortSignal): Promise<Withdrawal> {
  const latest = await latestAuditOf(s, d.miniProgramAppid, signal);
  if (!latest) return { outcome: 'no-audit' };
  if (!(await isOwnAudit(s, d, latest))) return { outcome: 'not-ours' };
  const { auditId } = latest;
  if (latest.status !== 2 && latest.status !== 4) return { outcome: 'not-under-review', auditId };
  try {
    await s.wechat.client.undoCodeAudit(d.miniProgramAppid, callOf(signal));
  } catch (error) {
    if (!decidedMeanwhile(error)) throw error;
    // Decided between the two calls: taken as such only once WeChat shows the decision.
    const now = await latestAuditOf(s, d.miniProgramAppid, signal);
    if (now?.auditId === auditId && now.status !== 2 && now.status !== 4) return { outcome: 'not-under-review', auditId };
    throw error;
  }
  return { outcome: 'withdrawn', auditId };
}

/**
 * WeChat's answers to `undocodeaudit` when nothing is under review any more: 85019 (no audit), 85020, and 87012
 * "forbid revert this version release" for an audit already approved or rejected (staff answer, community thread
 * 0002423c6b85c083bd7a318fd5b800).
 */
const decidedMeanwhile = (error: unknown): error is WeChatApiError =>
  error instanceof WeChatApiError && (error.errcode === 85019 || error.errcode === 85020 || error.errcode === 87012);

/** The closing command, carrying the audit found at WeChat when the deployment had not recorded it. */
const closingWith = <C extends Extract<DeploymentCommand, { type: 'cancel' | 'void' }>>(cmd: C, d: Deployment, found: Withdrawal): C =>
  found.auditId !== undefined && found.auditId !== d.audit?.auditId ? { ...cmd, auditId: found.auditId } : cmd;

async function pollAudit(s: Services, d: Deployment, signal?: AbortSignal): Promise<Outcome> {
  const auditId = d.audit?.auditId;
  if (auditId === undefined) return 'later';
  const status = await s.wechat.client.getAuditStatus(d.miniProgramAppid, auditId, callOf(signal));
  const command: DeploymentCommand | null =
    status.status === 0
      ? { type: 'auditApproved', auditId }
      : status.status === 1
        ? { type: 'auditRejected', auditId, reason: status.reason ?? 'rejected', screenshots: status.screenshots ?? [] }
        : status.status === 3
          ? { type: 'withdraw', auditId }
          : status.status === 4
            ? { type: 'auditDelayed', auditId, reason: status.reason ?? 'delayed' }
            : null;
  if (!command) return 'later';
  const applied = await applyCommand(s, d.id, command, { kind: 'wechat' });
  // A delay is news once; after it the audit is still under review and is polled again later.
  return applied.changed && command.type !== 'auditDelayed' ? 'progressed' : 'later';
}

async function release(s: Services, d: Deployment, signal?: AbortSignal): Promise<Outcome> {
  const call = callOf(signal);
  try {
    await s.wechat.client.release(d.miniProgramAppid, call);
    await applyCommand(s, d.id, { type: 'released' }, SYSTEM);
  } catch (error) {
    if (!(error instanceof WeChatApiError)) throw error;
    if (error.errcode === 85052) {
      await applyCommand(s, d.id, { type: 'releaseAlreadyDone' }, SYSTEM);
    } else if (error.errcode === 85020 || error.errcode === 85019) {
      const latest = await s.wechat.client.getLatestAuditStatus(d.miniProgramAppid, call);
      if (latest.status === 0 && Number(latest.auditid) === d.audit?.auditId) return 'later'; // approved: WeChat is catching up
      await applyCommand(
        s,
        d.id,
        {
          type: 'fail',
          reason: `WeChat refused the release (${error.errcode}): the approved version is no longer the latest`,
          retryable: false,
          errcode: error.errcode,
        },
        SYSTEM,
      );
    } else {
      throw error;
    }
  }
  return 'progressed';
}

/** WeChat's answers that mean the mini program itself must authorize the platform again (42007: admin's password changed). */
const AUTHORIZER_LOST_ERRCODES: ReadonlySet<number> = new Set([42007, 61003, 61023]);

/**
 * Unknown outcomes wait for the poller; WeChat's refusals and our own refusals become a recorded failure — except:
 * - A lost authorization (61023, 42007, revoked tokens, any `auth` answer) waits, whatever the step: the deployment
 *   did nothing wrong, and what the user expects is that it carries on — an audit WeChat kept running becomes
 *   releasable, a release goes out — once the admin authorizes the mini program again (`resumeDeploymentsOf`).
 *   Failing it would close it for good. The mini program is marked `needs-reauth`, which is what the user sees.
 * - A poll only reads: WeChat refusing it (45009 above all) changes nothing about the audit, so look again later.
 */
async function recordFailure(s: Services, d: Deployment, work: Work, error: unknown, signal?: AbortSignal): Promise<Outcome> {
  // Cut by the caller's end (whatever the error says, its outcome is unknown): the next run repeats the step.
  if (signal?.aborted) {
    s.log.info('deployment step stopped at the caller’s deadline', { deploymentId: d.id, state: d.state, work });
    return 'stopped';
  }
  if (error instanceof WeChatNetworkError) {
    s.log.warn('deployment step postponed: WeChat unreachable', { deploymentId: d.id, state: d.state, error });
    return 'later';
  }
  if (error instanceof AuthorizerNotAuthorizedError || (error instanceof WeChatApiError && error.kind === 'auth')) {
    if (error instanceof WeChatApiError && AUTHORIZER_LOST_ERRCODES.has(error.errcode)) {
      await markMiniProgramNeedsReauth(s, d.miniProgramAppid, `${error.meaning} (WeChat ${error.errcode})`);
    } else if (error instanceof AuthorizerNotAuthorizedError && error.code === 'MINI_PROGRAM_NEEDS_REAUTH') {
      // Also marked by the token manager's hook where it is wired; not every instance wires it.
      await markMiniProgramNeedsReauth(s, d.miniProgramAppid, error.message);
    }
    s.log.warn('deployment waits for the mini program to be authorized again', { deploymentId: d.id, state: d.state, error });
    return 'later';
  }
  if (error instanceof WeChatApiError) {
    if (error.kind === 'transient' || error.kind === 'token') {
      s.log.warn('deployment step postponed', { deploymentId: d.id, state: d.state, errcode: error.errcode });
      return 'later';
    }
    if (work === 'pollAudit') {
      s.log.warn('audit poll refused by WeChat; polling again later', { deploymentId: d.id, errcode: error.errcode });
      return 'later';
    }
    const retryable = error.kind === 'quota' || error.kind === 'state';
    await applyCommand(
      s,
      d.id,
      {
        type: 'fail',
        // A refusal for a go-live prerequisite says what the readiness report says of it.
        reason: refusalReason(error.errcode, error.meaning)?.reason ?? `${error.meaning} (WeChat ${error.errcode})`,
        retryable,
        errcode: error.errcode,
      },
      SYSTEM,
    );
    return 'progressed';
  }
  if (error instanceof AppError && error.category === 'unavailable') {
    s.log.warn('deployment step postponed: a dependency is unavailable', { deploymentId: d.id, state: d.state, error });
    return 'later';
  }
  throw error;
}

async function markMiniProgramNeedsReauth(s: Services, appid: WeChatAppid, reason: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await s.db.miniPrograms.get(appid);
    if (stored?.data.status !== 'authorized') return;
    try {
      await s.db.miniPrograms.update(appid, stored.version, markNeedsReauth(stored.data, reason, s.clock()));
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

/**
 * The mini program was authorized again: deployments that waited for it are looked at by the next poller tick
 * rather than after their backoff (up to 30 minutes). Only those of `appId`, the app the mini program serves now:
 * another app's deployments there lost it with this authorization, and hurrying them would only race their void.
 */
export async function resumeDeploymentsOf(s: Services, appid: WeChatAppid, appId: AppId | null): Promise<number> {
  if (appId === null) return 0;
  const waiting = await s.db.deployments.find({
    where: { miniProgramAppid: appid, appId, state: { in: [...IN_FLIGHT_STATES] } },
    limit: 100,
  });
  let resumed = 0;
  for (const stored of waiting) {
    const next = pollNow(stored.data, s.clock());
    if (next === stored.data) continue;
    try {
      await s.db.deployments.update(stored.id, stored.version, next);
      resumed += 1;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error; // changed meanwhile: whoever changed it scheduled it
    }
  }
  return resumed;
}

async function postpone(s: Services, stored: Stored<Deployment>): Promise<void> {
  try {
    await s.db.deployments.update(stored.id, stored.version, pollLater(stored.data, { at: s.clock(), random: s.random }));
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error; // somebody changed it meanwhile: their write wins
  }
}

// --------------------------------------------------------------------------------------- frontend commands

/** Commands that make WeChat act on the mini program's code: only for the app the mini program serves now. */
const LINKED_ONLY: ReadonlySet<DeploymentCommand['type']> = new Set(['submitAudit', 'retry', 'startRelease']);

/**
 * Refuses a deployment whose app no longer holds its mini program (another app was authorized for it, or the app
 * moved to another one): its audit, if any, is not the code that app would publish, and the mini program is
 * another app's now.
 */
/** `linkLoss` for a caller's command: refused, with the reason, rather than voided. */
async function assertStillLinked(s: Services, d: Deployment): Promise<void> {
  const loss = await linkLoss(s, d);
  if (!loss) return;
  throw new DeploymentConflictError(
    'DEPLOYMENT_APP_UNLINKED',
    `${loss.reason}: this deployment cannot go further; authorize the mini program for the app again and build a new deployment`,
    { deploymentId: d.id, appId: d.appId, miniProgramAppid: d.miniProgramAppid },
  );
}

const undoesAudit = (d: Deployment, cmd: DeploymentCommand, actor: Actor, at: number): boolean =>
  transition(d, cmd, { at, actor }).effects.some((effect) => effect === 'undoAudit');

/** Runs a command for an account; if it leads to WeChat work, does that work now (the poller is the fallback). */
async function command(
  s: Services,
  accountId: AccountId,
  id: string,
  cmd: DeploymentCommand,
  actor: Actor,
  signal?: AbortSignal,
): Promise<Deployment> {
  const stored = await getDeployment(s, accountId, id);
  if (LINKED_ONLY.has(cmd.type) && wouldChange(stored.data, cmd, { at: s.clock(), actor })) await assertStillLinked(s, stored.data);
  if (undoesAudit(stored.data, cmd, actor, s.clock())) return withdrawThenApply(s, id, cmd, actor);
  const applied = await applyCommand(s, id, cmd, actor);
  if (applied.changed && applied.effects.some((e) => e !== 'undoAudit')) return advance(s, id, signal);
  return applied.deployment;
}

/**
 * A command whose effect is undoing the audit (cancelling a deployment that failed around its audit): WeChat first,
 * then the record, under the deployment's lease so no worker talks to WeChat for it meanwhile. A refused withdrawal
 * (87013: no undo left today) leaves the deployment as it was, for the user to cancel again later: cancelled with
 * its audit still live, the version could be approved with nobody to see it.
 */
async function withdrawThenApply(s: Services, id: string, cmd: DeploymentCommand, actor: Actor): Promise<Deployment> {
  const lease = await acquireWaiting(s, id, 10_000);
  try {
    const current = (await readDeployment(s, id)).data;
    let closing = cmd;
    if (cmd.type === 'cancel' && undoesAudit(current, cmd, actor, s.clock())) {
      const found = await withdrawOwnAudit(s, current);
      s.log.info('audit of a closing deployment', { deploymentId: id, ...found });
      closing = closingWith(cmd, current, found);
    }
    return (await applyCommand(s, id, closing, actor)).deployment;
  } finally {
    await lease.release();
  }
}

export const cancelDeployment = (s: Services, accountId: AccountId, id: string, actor: Actor) =>
  command(s, accountId, id, { type: 'cancel', reason: 'cancelled by the account' }, actor);

export async function submitForAudit(
  s: Services,
  accountId: AccountId,
  id: string,
  actor: Actor,
  signal?: AbortSignal,
): Promise<Deployment> {
  const d = await getDeployment(s, accountId, id);
  // Readiness before WeChat's submit (issue 18): the whole list, not the first errcode WeChat would answer.
  if (wouldChange(d.data, { type: 'submitAudit' }, { at: s.clock(), actor })) await assertReadyToSubmit(s, d.data, signal);
  return command(s, accountId, id, { type: 'submitAudit' }, actor, signal);
}

export const retryDeployment = (s: Services, accountId: AccountId, id: string, actor: Actor, signal?: AbortSignal) =>
  command(s, accountId, id, { type: 'retry' }, actor, signal);

/** Release: only an approved deployment, only while the account may publish. 85052 counts as done. */
export async function releaseDeployment(
  s: Services,
  accountId: AccountId,
  id: string,
  actor: Actor,
  signal?: AbortSignal,
): Promise<Deployment> {
  const d = await getDeployment(s, accountId, id);
  const account = await getAccount(s, accountId);
  const mp = await s.db.miniPrograms.get(d.data.miniProgramAppid);
  if (!mp) throw new NotFoundError('the deployment’s mini program is gone', { code: 'MINI_PROGRAM_NOT_FOUND' });
  // Checked in `command` too (when the release would start), and here first so the reason is the clearest one.
  if (wouldChange(d.data, { type: 'startRelease' }, { at: s.clock(), actor })) await assertStillLinked(s, d.data);
  const allowed = whoCanPublish(account.data, mp.data, s.config.requireSameSubject);
  if (!allowed.ok) throw allowed.error;
  // WeChat's answer to releasing an unfiled mini program is undocumented: its status API is read first (issue 18).
  if (wouldChange(d.data, { type: 'startRelease' }, { at: s.clock(), actor })) await assertReadyToRelease(s, mp.data, signal);
  return command(s, accountId, id, { type: 'startRelease' }, actor, signal);
}

/**
 * WeChat first, then the record: a refused undo (87013 budget) must leave the audit as it was. Only while the app
 * holds the mini program: `undocodeaudit` withdraws whatever is under review, which would be the new app's audit.
 */
export async function undoAudit(s: Services, accountId: AccountId, id: string, actor: Actor): Promise<Deployment> {
  const d = await getDeployment(s, accountId, id);
  const cmd: DeploymentCommand = { type: 'withdraw', ...(d.data.audit ? { auditId: d.data.audit.auditId } : {}) };
  if (!wouldChange(d.data, cmd, { at: s.clock(), actor })) return (await applyCommand(s, id, cmd, actor)).deployment;
  await assertStillLinked(s, d.data);
  try {
    await s.wechat.client.undoCodeAudit(d.data.miniProgramAppid);
  } catch (error) {
    // WeChat decided before the withdrawal (its push not here yet): its decision is adopted, and the withdrawal is
    // then refused as for any decided audit (DEPLOYMENT_NOT_IN_REVIEW), the deployment showing what WeChat decided.
    if (!decidedMeanwhile(error) || (await pollAudit(s, d.data)) !== 'progressed') throw error;
  }
  return (await applyCommand(s, id, cmd, actor)).deployment;
}

export async function speedUpAudit(s: Services, accountId: AccountId, id: string): Promise<Deployment> {
  const d = await getDeployment(s, accountId, id);
  if (d.data.state !== 'auditing' || !d.data.audit) {
    throw new DeploymentConflictError('DEPLOYMENT_NOT_IN_REVIEW', 'only a deployment under review can be sped up', { state: d.data.state });
  }
  await assertStillLinked(s, d.data);
  await s.wechat.client.speedupAudit(d.data.miniProgramAppid, d.data.audit.auditId);
  return d.data;
}

/** Only while the app holds the mini program: reverting it after another app released there would undo theirs. */
export async function rollbackDeployment(s: Services, accountId: AccountId, id: string, actor: Actor): Promise<Deployment> {
  const d = await getDeployment(s, accountId, id);
  if (!wouldChange(d.data, { type: 'rollback' }, { at: s.clock(), actor }))
    return (await applyCommand(s, id, { type: 'rollback' }, actor)).deployment;
  await assertStillLinked(s, d.data);
  try {
    await s.wechat.client.revertCodeRelease(d.data.miniProgramAppid);
  } catch (error) {
    if (error instanceof WeChatApiError && error.errcode === 87012) throw await rollbackRefusal(s, d.data);
    throw error;
  }
  return (await applyCommand(s, id, { type: 'rollback' }, actor)).deployment;
}

/**
 * WeChat refuses a rollback (87012) when it has no version to go back to: the live one is the first released, or
 * was itself reached by a rollback — one rollback per release (doc revertcoderelease: 当前版本回退后，不能再调用版本
 * 回退接口). WeChat's answer does not say which; the mini program's deployments do: a rollback recorded after the
 * last release recorded is the second case.
 */
async function rollbackRefusal(s: Services, d: Deployment): Promise<DeploymentConflictError> {
  const deployments = await s.db.deployments.find({
    where: { miniProgramAppid: d.miniProgramAppid },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit: 200,
  });
  const lastAt = (state: Deployment['state']) =>
    Math.max(0, ...deployments.flatMap((o) => o.data.history.filter((entry) => entry.to === state).map((entry) => entry.at)));
  const details = { deploymentId: d.id, miniProgramAppid: d.miniProgramAppid, errcode: 87012 };
  if (lastAt('rolled-back') > lastAt('released')) {
    return new DeploymentConflictError(
      'ROLLBACK_ALREADY_USED',
      `the mini program ${d.miniProgramAppid} was rolled back already, and WeChat allows one rollback per release: release a new version, which can then be rolled back`,
      details,
    );
  }
  return new DeploymentConflictError(
    'ROLLBACK_NO_PREVIOUS_VERSION',
    `WeChat has no earlier version of the mini program ${d.miniProgramAppid} to roll back to: a first release, or one whose previous version was not released through this platform, cannot be rolled back`,
    details,
  );
}

/**
 * Binds testers to a built deployment's mini program after the build: by default those WeChat refused then (see
 * `bindTesters`), once their cause is gone; or the ones given. Refused again, they stay listed with the new reason.
 */
export async function bindTestersLater(
  s: Services,
  accountId: AccountId,
  id: string,
  testers: readonly string[] | undefined,
  signal?: AbortSignal,
): Promise<Deployment> {
  const stored = await getDeployment(s, accountId, id);
  // Refused before WeChat is asked: not built yet, or closed.
  withTestersBound(stored.data, { bound: [], refused: [] }, s.clock());
  const wanted = [...new Set(testers ?? stored.data.refusedTesters.map((r) => r.wechatId))];
  if (wanted.length === 0) return stored.data;
  if (new Set([...stored.data.testers, ...wanted]).size > MAX_TESTERS) {
    throw new ValidationError(
      `a deployment has at most ${MAX_TESTERS} testers`,
      [{ path: 'body.testers', message: `at most ${MAX_TESTERS} testers in all` }],
      {
        code: 'TOO_MANY_TESTERS',
      },
    );
  }
  await assertStillLinked(s, stored.data);
  const result = await bindTesters(s, stored.data.miniProgramAppid, wanted, signal);
  for (let attempt = 0; ; attempt++) {
    const current = await readDeployment(s, id);
    try {
      return (
        await s.db.deployments.update(
          id,
          current.version,
          withTestersBound(current.data, { bound: result.bound, refused: result.refused }, s.clock()),
        )
      ).data;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 10) throw error;
    }
  }
}

// ------------------------------------------------------------------------------------------ audit events

export interface AuditEvent {
  type: 'weapp_audit_success' | 'weapp_audit_fail' | 'weapp_audit_delay';
  reason?: string;
  screenshots?: readonly string[];
}

/**
 * An audit push updates the mini program's deployment under review at once. Pushes carry no audit id: one under
 * review takes it as is; one still submitting (the submit's answer was lost, or has not been recorded yet) asks
 * WeChat for its latest audit and adopts it if it is its own — the push is recorded as processed and never comes
 * again, so ignoring it would leave the deployment to submit a second audit.
 */
export async function handleAuditEvent(s: Services, appid: WeChatAppid, event: AuditEvent): Promise<string> {
  const candidates = await s.db.deployments.find({
    where: { miniProgramAppid: appid, state: { in: ['submitting', 'auditing'] } },
    limit: 5,
  });
  if (candidates.length === 0) return 'no deployment under review';
  const cmd: DeploymentCommand =
    event.type === 'weapp_audit_success'
      ? { type: 'auditApproved' }
      : event.type === 'weapp_audit_fail'
        ? { type: 'auditRejected', reason: event.reason ?? 'rejected', screenshots: [...(event.screenshots ?? [])] }
        : { type: 'auditDelayed', reason: event.reason ?? 'delayed' };
  const outcomes: string[] = [];
  for (const candidate of candidates) {
    if (candidate.data.state === 'submitting') {
      outcomes.push(`${candidate.id}: ${await reconcileSubmitting(s, candidate.id, cmd)}`);
      continue;
    }
    const applied = await applyCommand(s, candidate.id, cmd, { kind: 'wechat' });
    outcomes.push(`${candidate.id}: ${applied.changed ? applied.deployment.state : 'unchanged'}`);
  }
  return outcomes.join('; ');
}

/** A push for a submitting deployment, under its lease (a worker may be recording the submit's answer right now). */
async function reconcileSubmitting(s: Services, id: string, cmd: DeploymentCommand): Promise<string> {
  let lease: Awaited<ReturnType<typeof acquireWaiting>>;
  try {
    // WeChat waits 5 s for the answer to a push.
    lease = await acquireWaiting(s, id, 2_000);
  } catch (error) {
    if (error instanceof DeploymentConflictError && error.code === 'DEPLOYMENT_BUSY')
      return 'busy; the worker submitting it records the audit';
    throw error;
  }
  try {
    const d = (await readDeployment(s, id)).data;
    if (d.state === 'auditing') {
      const applied = await applyCommand(s, id, cmd, { kind: 'wechat' });
      return applied.changed ? applied.deployment.state : 'unchanged';
    }
    if (d.state !== 'submitting') return `unchanged (${d.state})`;
    try {
      if (!(await adoptOwnAudit(s, d))) return 'unchanged (the latest audit is not its own)';
    } catch (error) {
      // The poller resumes the submit, and the submit adopts the audit first: the push is not the only way there.
      s.log.warn('could not look up the audit a push is about', { deploymentId: id, error });
      return 'unchanged (lookup failed; the poller reconciles)';
    }
    return (await readDeployment(s, id)).data.state;
  } finally {
    await lease.release();
  }
}

// --------------------------------------------------------------------------------------- unbind and void

/**
 * Closes every open deployment of a mini program, undoing a live audit first when asked (unbind). Each one is
 * closed under its lease, so it never happens while another instance is calling WeChat for it; a release already
 * under way is finished first when asked (unbind), since it may have reached WeChat — a deployment is never
 * reported voided while its version went live. One whose lease stays busy does not stop the others: they are
 * closed, then DEPLOYMENT_BUSY is thrown for the caller to try again (the busy one's worker re-checks the link
 * before its next call at WeChat, `linkLoss`).
 */
export async function voidDeploymentsOf(
  s: Services,
  appid: WeChatAppid,
  reason: string,
  actor: Actor,
  options: { undoAudit: boolean; finishReleases?: boolean /** Only this app's deployments. */; appId?: AppId },
): Promise<number> {
  const open = await findOpen(s, { miniProgramAppid: appid, ...(options.appId === undefined ? {} : { appId: options.appId }) }, 100);
  let voided = 0;
  let busy: unknown = null;
  for (const candidate of open) {
    let lease: Awaited<ReturnType<typeof acquireWaiting>>;
    try {
      lease = await acquireWaiting(s, candidate.id, 10_000);
    } catch (error) {
      busy ??= error;
      continue;
    }
    try {
      let d = (await readDeployment(s, candidate.id)).data;
      if (d.state === 'releasing' && options.finishReleases) d = await runSteps(s, d.id);
      if (isTerminal(d)) continue;
      let found: Withdrawal = { outcome: 'no-audit' };
      if (options.undoAudit && auditMayBeLive(d)) {
        try {
          found = await withdrawOwnAudit(s, d);
        } catch (error) {
          // The deployment is voided whatever WeChat says; the audit, if it survives, can never be released by us.
          s.log.warn('could not withdraw the audit of a voided deployment', { deploymentId: d.id, error });
        }
      }
      const applied = await applyCommand(s, d.id, closingWith({ type: 'void', reason }, d, found), actor);
      if (applied.changed) voided += 1;
    } finally {
      await lease.release();
    }
  }
  if (busy !== null) throw busy;
  return voided;
}

export const PRIMARY_UNBIND_WARNING =
  "This was the account's primary mini program: the account's other mini programs cannot publish until a primary mini program is bound again.";

export async function unbindMiniProgram(
  s: Services,
  accountId: AccountId,
  appid: string,
  options: { force: boolean },
  actor: Actor,
): Promise<{ appid: string; voided: number; wasPrimary: boolean; warning: string | null }> {
  const mp = await s.db.miniPrograms.get(appid);
  if (!mp || mp.data.accountId !== accountId)
    throw new NotFoundError(`mini program ${appid} not found`, { code: 'MINI_PROGRAM_NOT_FOUND', field: 'appid' });
  const account = await getAccount(s, accountId);
  const wasPrimary = primaryOf(account.data)?.appid === appid;
  if (wasPrimary && !options.force) {
    throw new DeploymentConflictError('PRIMARY_UNBIND_NEEDS_FORCE', `${PRIMARY_UNBIND_WARNING} Send force: true to unbind it anyway.`, {
      appid,
    });
  }
  const voided = await voidDeploymentsOf(s, mp.data.appid, 'the mini program was unbound', actor, {
    undoAudit: true,
    finishReleases: true,
  });
  for (let attempt = 0; ; attempt++) {
    const current = await s.db.miniPrograms.get(appid);
    const acct = await getAccount(s, accountId);
    if (!current) break;
    const at = s.clock();
    const { miniProgram, displaced } = unlinkMiniProgram(current.data, 'unbound', { at, actor });
    const writes: Write[] = [];
    if (displaced) {
      const app = await s.db.apps.get(displaced.appId);
      if (app && app.data.miniProgramAppid === appid)
        writes.push(s.db.apps.updateWrite(app.id, app.version, unlinkApp(app.data, displaced.loss)));
    }
    if (primaryOf(acct.data)?.appid === appid)
      writes.push(s.db.accounts.updateWrite(acct.id, acct.version, unbindPrimary(acct.data, at, 'unbound through the API (force: true)')));
    if (miniProgram !== current.data) {
      writes.push(s.db.miniPrograms.updateWrite(appid, current.version, miniProgram));
    }
    if (writes.length === 0) break;
    try {
      await s.store.commit(writes);
      break;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 5) throw error;
    }
  }
  return { appid, voided, wasPrimary, warning: wasPrimary ? PRIMARY_UNBIND_WARNING : null };
}

// ------------------------------------------------------------------------------------------------ poller

export interface PollSummary {
  due: number;
  processed: number;
  changed: number;
  skippedBusy: number;
  errors: number;
  stoppedByBudget: boolean;
  durationMs: number;
}

/**
 * One poller tick: claims due deployments (leases inside `advance`), with bounded concurrency, and does their pending
 * work — polling audits, resuming builds, submits and releases.
 *
 * The budget ends the tick below the function's timeout, measured on the wall clock (which is what the platform
 * kills by, whatever `s.clock` says): no deployment is started after it, and the steps under way are stopped there —
 * between steps, or by cutting the WeChat call in flight — with the deployment left due for the next tick. Checking
 * only before an item starts is not enough: one item can take 8 steps of WeChat calls of up to ~15 s each.
 */
export async function pollDue(
  s: Services,
  options: { budgetMs: number; concurrency?: number; limit?: number; signal?: AbortSignal },
): Promise<PollSummary> {
  const startedAt = Date.now();
  const combined = options.signal ? eitherSignal(AbortSignal.timeout(options.budgetMs), options.signal) : null;
  // Every concurrent WeChat call and backoff of the tick listens to it, and lets go when it ends.
  const budget = sharedSignal(combined?.signal ?? AbortSignal.timeout(options.budgetMs));
  const due = await s.db.deployments.find({
    where: { nextPollAt: { lte: s.clock() } },
    orderBy: { field: 'nextPollAt' },
    limit: options.limit ?? 10_000,
  });
  const summary: PollSummary = {
    due: due.length,
    processed: 0,
    changed: 0,
    skippedBusy: 0,
    errors: 0,
    stoppedByBudget: false,
    durationMs: 0,
  };
  let next = 0;
  const worker = async () => {
    for (;;) {
      if (budget.aborted) {
        if (next < due.length) summary.stoppedByBudget = true;
        return;
      }
      const item = due[next++];
      if (!item) return;
      try {
        const after = await advance(s, item.id, budget);
        summary.processed += 1;
        if (after.state !== item.data.state || after.buildStep !== item.data.buildStep) summary.changed += 1;
        else if (budget.aborted) summary.stoppedByBudget = true;
        else if (after.nextPollAt === item.data.nextPollAt) summary.skippedBusy += 1;
      } catch (error) {
        summary.errors += 1;
        s.log.error('poll of a deployment failed', { deploymentId: item.id, error });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  } finally {
    combined?.release();
  }
  summary.durationMs = Date.now() - startedAt;
  return summary;
}

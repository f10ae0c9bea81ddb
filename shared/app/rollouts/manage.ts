/**
 * What an account (or the platform admin) asks of rollouts: create one (its members resolved now), read, pause,
 * resume, abort, retry the failed members, release a held wave; and the app settings rollouts select by.
 */
import { type App, appLabelSchema } from '../../domain/app';
import type { Actor } from '../../domain/common';
import { ValidationError } from '../../domain/errors';
import type { AccountId } from '../../domain/ids';
import {
  type AbortOptions,
  isBad,
  matchesSelection,
  type NewMember,
  newRolloutId,
  createRollout as planRollout,
  type Rollout,
  type RolloutInput,
  type RolloutMember,
} from '../../domain/rollout';
import { rolloutStateEvents } from '../../domain/webhooks/state-changes';
import type { Stored } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import { getApp } from '../catalog';
import type { Services } from '../context';
import { commitWithEvents } from '../webhooks/outbox';
import { applyMemberEvent, applyRolloutCommand, membersOf, type RolloutOwner, readRollout, rolloutCollections } from './store';

/** Members are written in batches of this many before the rollout itself, whose write makes them count. */
const MEMBER_BATCH = 200;

/**
 * The apps a rollout of `owner` covers: an account's own apps; for the platform admin, apps of every account
 * that allowed platform-managed updates, built from one of the templates named (a platform rollout must name them).
 */
async function selectApps(services: Services, owner: RolloutOwner, input: RolloutInput): Promise<App[]> {
  if (owner === null && input.selection.templateIds === undefined) {
    throw new ValidationError(
      'a platform rollout selects apps by template',
      [{ path: 'body.selection.templateIds', message: 'required for a platform rollout' }],
      { code: 'ROLLOUT_SELECTION_INVALID' },
    );
  }
  const apps = await services.db.apps.find({ ...(owner ? { where: { accountId: owner } } : {}), orderBy: { field: 'id' }, limit: 100_000 });
  const chosen = apps
    .map((a) => a.data)
    .filter((app) => (owner !== null || app.platformManagedUpdates) && matchesSelection(app, input.selection));
  const unknown = (input.selection.appIds ?? []).filter((id) => !chosen.some((app) => app.id === id));
  if (unknown.length > 0) {
    throw new ValidationError(
      `apps not found or not selectable: ${unknown.join(', ')}`,
      [{ path: 'body.selection.appIds', message: `not found or not selectable: ${unknown.join(', ')}` }],
      { code: 'ROLLOUT_SELECTION_INVALID' },
    );
  }
  if (chosen.length === 0) {
    throw new ValidationError('the selection matches no app', [{ path: 'body.selection', message: 'matches no app' }], {
      code: 'ROLLOUT_SELECTION_EMPTY',
    });
  }
  return chosen;
}

/** Creates the rollout with its members and waves, fixed now; the driver (the poller's timer) does the rest. */
export async function createRollout(services: Services, owner: RolloutOwner, input: RolloutInput, actor: Actor): Promise<Rollout> {
  const apps = await selectApps(services, owner, input);
  const selected: NewMember[] = apps.map((app) => ({ accountId: app.accountId, appId: app.id, miniProgramAppid: app.miniProgramAppid }));
  const id = newRolloutId(services.randomBytes);
  const { rollout, members } = planRollout(input, { id, accountId: owner }, selected, { at: services.clock(), actor });
  const { rollouts, members: memberDocs } = rolloutCollections(services);
  // Members first, the rollout last: until the rollout exists nothing reads them, so a crash halfway leaves orphans
  // nobody acts on, never a rollout with members missing.
  for (let i = 0; i < members.length; i += MEMBER_BATCH) {
    await services.store.commit(members.slice(i, i + MEMBER_BATCH).map((m) => memberDocs.insertWrite(`${id}:${m.appId}`, m)));
  }
  await commitWithEvents(services.store, [rollouts.insertWrite(id, rollout)], rolloutStateEvents(null, rollout, services.randomBytes));
  return rollout;
}

export async function listRollouts(services: Services, owner: RolloutOwner, limit = 50): Promise<Rollout[]> {
  const found = await rolloutCollections(services).rollouts.find({
    where: { accountId: owner },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit,
  });
  return found.map((r) => r.data);
}

export async function rolloutWithMembers(
  services: Services,
  owner: RolloutOwner,
  id: string,
): Promise<{ rollout: Rollout; members: RolloutMember[] }> {
  const rollout = (await readRollout(services, owner, id)).data;
  return { rollout, members: (await membersOf(services, id)).map((m) => m.data) };
}

export const pauseRollout = (services: Services, owner: RolloutOwner, id: string, actor: Actor) =>
  applyRolloutCommand(services, owner, id, { type: 'pause', reason: 'paused by the operator' }, actor).then((r) => r.rollout);

/** Resuming a halted rollout accepts its current wave's failures so far: the gate counts only new ones. */
export async function resumeRollout(services: Services, owner: RolloutOwner, id: string, actor: Actor): Promise<Rollout> {
  const members = (await membersOf(services, id)).map((m) => m.data);
  return (
    await applyRolloutCommand(
      services,
      owner,
      id,
      (r) => ({
        type: 'resume',
        reason: 'resumed by the operator',
        badInWave: members.filter((m) => m.wave === r.currentWave && isBad(m.state)).length,
      }),
      actor,
    )
  ).rollout;
}

export const abortRollout = (services: Services, owner: RolloutOwner, id: string, options: AbortOptions, actor: Actor) =>
  applyRolloutCommand(services, owner, id, { type: 'abort', options, reason: 'aborted by the operator' }, actor).then((r) => r.rollout);

export const releaseWave = (services: Services, owner: RolloutOwner, id: string, wave: number, actor: Actor) =>
  applyRolloutCommand(services, owner, id, { type: 'releaseWave', wave }, actor).then((r) => r.rollout);

/**
 * Retry: every rejected or failed member (or those of `appIds`) starts a new attempt — its open deployment is
 * cancelled by the driver's start and a new one built. The rollout resumes if it was completed.
 */
export async function retryMembers(
  services: Services,
  owner: RolloutOwner,
  id: string,
  appIds: readonly string[] | undefined,
  actor: Actor,
): Promise<Rollout> {
  const rollout = (await readRollout(services, owner, id)).data;
  if (rollout.state === 'aborting' || rollout.state === 'aborted') {
    await applyRolloutCommand(services, owner, id, { type: 'retry', count: 0 }, actor);
  }
  const retried: Stored<RolloutMember>[] = (await membersOf(services, id)).filter(
    (m) => isBad(m.data.state) && (appIds === undefined || appIds.includes(m.data.appId)),
  );
  for (const m of retried) await applyMemberEvent(services, m.id, { type: 'retry' });
  return (await applyRolloutCommand(services, owner, id, { type: 'retry', count: retried.length }, actor)).rollout;
}

// ---------------------------------------------------------------------------------------------------------
// The app settings rollouts select by

export interface RolloutSettings {
  labels: string[];
  platformManagedUpdates: boolean;
}

export const rolloutSettingsOf = (app: App): RolloutSettings => ({
  labels: app.labels,
  platformManagedUpdates: app.platformManagedUpdates,
});

export async function updateRolloutSettings(
  services: Services,
  accountId: AccountId,
  appId: string,
  change: Partial<RolloutSettings>,
): Promise<RolloutSettings> {
  for (const label of change.labels ?? []) appLabelSchema.parse(label);
  return retryOnConflict(`update the rollout settings of app ${appId}`, async () => {
    const stored = await getApp(services, accountId, appId);
    const next: App = {
      ...stored.data,
      ...(change.labels ? { labels: [...new Set(change.labels)] } : {}),
      ...(change.platformManagedUpdates === undefined ? {} : { platformManagedUpdates: change.platformManagedUpdates }),
      updatedAt: Math.max(stored.data.updatedAt, services.clock()),
    };
    return rolloutSettingsOf((await services.db.apps.update(stored.id, stored.version, next)).data);
  });
}

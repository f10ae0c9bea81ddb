/**
 * Where rollouts live (DESIGN §8): the `rollouts` collection (plan, waves, gate, policy, history) and one
 * `rolloutMembers` document per app (`{rolloutId}:{appId}`), each changed by its own compare-and-set, so one
 * member's step is one atomic commit. Rollout changes carry their webhook events in the same batch (the outbox).
 */
import type { Actor } from '../../domain/common';
import { ConflictError, NotFoundError } from '../../domain/errors';
import {
  type MemberEvent,
  memberTransition,
  type Rollout,
  type RolloutCommand,
  type RolloutMember,
  rolloutMemberSchema,
  rolloutSchema,
  rolloutTransition,
} from '../../domain/rollout';
import { rolloutStateEvents } from '../../domain/webhooks/state-changes';
import { defineCollection, type Stored } from '../../store/port';
import { retryOnConflict, UNCHANGED, updateWithRetry } from '../../store/retry';
import type { Services } from '../context';
import { commitWithEvents } from '../webhooks/outbox';

export const rolloutsCollection = defineCollection({
  name: 'rollouts',
  schema: rolloutSchema,
  indexes: ['accountId', 'state', 'createdAt'],
});
export const rolloutMembersCollection = defineCollection({
  name: 'rolloutMembers',
  schema: rolloutMemberSchema,
  indexes: ['rolloutId', 'deploymentId', 'appId', 'state'],
});

export const rolloutCollections = (services: Pick<Services, 'store'>) => ({
  rollouts: services.store.collection(rolloutsCollection),
  members: services.store.collection(rolloutMembersCollection),
});

/** The actor of what the rollout does through the pipeline: its deployments are created by it, and say so. */
export const rolloutActor = (id: string): Actor => ({ kind: 'system', id: `rollout:${id}` });

/** Whose a rollout is: an account's, or (null) the platform admin's. */
export type RolloutOwner = Rollout['accountId'];

export async function readRollout(services: Services, owner: RolloutOwner | 'any', id: string): Promise<Stored<Rollout>> {
  const stored = await rolloutCollections(services).rollouts.get(id);
  if (!stored || (owner !== 'any' && stored.data.accountId !== owner)) {
    throw new NotFoundError(`rollout ${id} not found`, { code: 'ROLLOUT_NOT_FOUND', field: 'rolloutId' });
  }
  return stored;
}

export async function membersOf(services: Services, rolloutId: string): Promise<Stored<RolloutMember>[]> {
  return rolloutCollections(services).members.find({ where: { rolloutId }, orderBy: { field: 'id' }, limit: 100_000 });
}

/**
 * One rollout transition by compare-and-set, with its events; `update` may also refresh what the driver keeps
 * on the rollout (the counts) in the same write. Returns the rollout as stored and whether the command changed it.
 */
export function applyRolloutCommand(
  services: Services,
  owner: RolloutOwner | 'any',
  id: string,
  command: RolloutCommand | ((rollout: Rollout) => RolloutCommand | null),
  actor: Actor,
  refresh: (rollout: Rollout) => Rollout = (r) => r,
): Promise<{ rollout: Rollout; changed: boolean }> {
  return retryOnConflict(`apply to rollout ${id}`, async () => {
    const stored = await readRollout(services, owner, id);
    const cmd = typeof command === 'function' ? command(stored.data) : command;
    const result = cmd ? rolloutTransition(stored.data, cmd, { at: services.clock(), actor }) : { rollout: stored.data, changed: false };
    const next = refresh(result.rollout);
    if (!result.changed && JSON.stringify(next) === JSON.stringify(stored.data)) return { rollout: stored.data, changed: false };
    await commitWithEvents(
      services.store,
      [rolloutCollections(services).rollouts.updateWrite(id, stored.version, next)],
      rolloutStateEvents(stored.data, next, services.randomBytes),
    );
    return { rollout: next, changed: result.changed };
  });
}

/**
 * One member event by compare-and-set: the member's step is this one commit. `read`: the member as the caller has
 * just read it, which the event is applied to without reading it again (unchanged by it: nothing is written); a
 * race lost to another writer reads the member again.
 */
export async function applyMemberEvent(
  services: Services,
  memberId: string,
  event: MemberEvent,
  read?: Stored<RolloutMember>,
): Promise<{ member: RolloutMember; stored: Stored<RolloutMember>; changed: boolean } | null> {
  const { members } = rolloutCollections(services);
  const change = (current: Stored<RolloutMember>) => {
    const next = memberTransition(current.data, event, services.clock());
    return next === current.data ? UNCHANGED : next;
  };
  if (read !== undefined) {
    const next = change(read);
    if (next === UNCHANGED) return { member: read.data, stored: read, changed: false };
    try {
      const stored = await members.update(memberId, read.version, next);
      return { member: stored.data, stored, changed: true };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  const updated = await updateWithRetry(members, memberId, change);
  return updated ? { member: updated.stored.data, stored: updated.stored, changed: updated.changed } : null;
}

/**
 * A rollout's and its members' states as plain values: no zod here, so the console's browser bundle shares them with
 * the domain (`rollout.ts` builds its schemas from them and re-exports them), as deployment-states.ts does.
 */

export const ROLLOUT_STATES = ['running', 'paused', 'halted', 'aborting', 'aborted', 'completed'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
/** States the driver still looks at (members may move while paused or halted: audits go on). */
export const ACTIVE_ROLLOUT_STATES: readonly RolloutState[] = ['running', 'paused', 'halted', 'aborting'];

export const MEMBER_STATES = [
  'pending',
  'starting',
  'building',
  'auditing',
  'approved',
  'phasing',
  'releasing',
  'released',
  'rejected',
  'failed',
  'skipped',
  'cancelled',
  'withdrawn',
  'left',
  'rolled-back',
] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

/** The rollout holds an open deployment (or is about to) for the member. */
export const ACTIVE_MEMBER_STATES: readonly MemberState[] = ['starting', 'building', 'auditing', 'approved', 'phasing', 'releasing'];
/** What the gate counts against a wave. */
export const BAD_MEMBER_STATES: readonly MemberState[] = ['rejected', 'failed'];
/** Nothing more happens to the member unless an operator retries it. */
export const SETTLED_MEMBER_STATES: readonly MemberState[] = MEMBER_STATES.filter(
  (s) => s !== 'pending' && !ACTIVE_MEMBER_STATES.includes(s),
);

export const isSettled = (state: MemberState): boolean => SETTLED_MEMBER_STATES.includes(state);
export const isBad = (state: MemberState): boolean => BAD_MEMBER_STATES.includes(state);

export type MemberCounts = Record<MemberState, number>;

export const emptyCounts = (): MemberCounts => Object.fromEntries(MEMBER_STATES.map((s) => [s, 0])) as MemberCounts;

export const countStates = (members: readonly { state: MemberState }[]): MemberCounts => {
  const counts = emptyCounts();
  for (const m of members) counts[m.state] += 1;
  return counts;
};

/**
 * How often the console looks again while something happens without anyone clicking. Our own steps (building,
 * submitting, releasing) end within seconds to minutes; WeChat's audit takes hours to days, so it is looked at twice
 * a minute (WeChat's push or the backend's poller records the outcome meanwhile). DOM-free, for the polling test.
 */
import { type DeploymentState, isInFlightState } from '../../shared/domain/deployment-states';
import { ACTIVE_ROLLOUT_STATES, type MemberState, type RolloutState } from '../../shared/domain/rollout-states';

export const STEP_POLL_MS = 1500;
export const AUDIT_POLL_MS = 30_000;

/** The deployment page's interval in a state, or null when nothing is in flight (no polling at all). */
export const pollIntervalOf = (state: DeploymentState): number | null =>
  !isInFlightState(state) ? null : state === 'auditing' ? AUDIT_POLL_MS : STEP_POLL_MS;

/**
 * A rollout's page: while a member is in one of our own steps (starting, building, releasing) or an abort is being
 * carried out, as often as a deployment's; while only audits (or a pause, a halt) are under way, twice a minute;
 * an ended rollout not at all. Pending members start at the poller's next tick, which the slower pace still sees.
 */
export const rolloutPollIntervalOf = (state: RolloutState, memberStates: readonly MemberState[]): number | null => {
  if (!ACTIVE_ROLLOUT_STATES.includes(state)) return null;
  if (state === 'aborting' || memberStates.some((s) => s === 'starting' || s === 'building' || s === 'releasing')) return STEP_POLL_MS;
  return AUDIT_POLL_MS;
};

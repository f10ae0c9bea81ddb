/**
 * How often the console looks again while something happens without anyone clicking. Our own steps (building,
 * submitting, releasing) end within seconds to minutes; WeChat's audit takes hours to days, so it is looked at twice
 * a minute (WeChat's push or the backend's poller records the outcome meanwhile). DOM-free, for the polling test.
 */
import { type DeploymentState, isInFlightState } from '../../shared/domain/deployment-states';

export const STEP_POLL_MS = 1500;
export const AUDIT_POLL_MS = 30_000;

/** The deployment page's interval in a state, or null when nothing is in flight (no polling at all). */
export const pollIntervalOf = (state: DeploymentState): number | null =>
  !isInFlightState(state) ? null : state === 'auditing' ? AUDIT_POLL_MS : STEP_POLL_MS;

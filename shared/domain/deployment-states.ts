/**
 * The deployment's states as plain values: no zod here, so the console's browser bundle shares them with the
 * domain (`deployment.ts` builds its schema from `DEPLOYMENT_STATES` and re-exports the rest).
 */

export const DEPLOYMENT_STATES = [
  'configuring',
  'building',
  'built',
  'submitting',
  'auditing',
  'approved',
  'releasing',
  'released',
  'rejected',
  'withdrawn',
  'cancelled',
  'failed',
  'voided',
  'rolled-back',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/** States in which we (not the user) are doing something: the poller watches them, the console polls them. */
export const IN_FLIGHT_STATES = ['building', 'submitting', 'auditing', 'releasing'] as const;
export type InFlightState = (typeof IN_FLIGHT_STATES)[number];

export const isInFlightState = (state: DeploymentState): state is InFlightState => (IN_FLIGHT_STATES as readonly string[]).includes(state);

/** Closed for good; `failed` is too, unless its failure is retryable. */
export const TERMINAL_STATES: ReadonlySet<DeploymentState> = new Set(['cancelled', 'voided', 'released', 'rolled-back']);

/** Whether a deployment in this state (with this failure) can still move on: an app has at most one such. */
export const isOpenState = (state: DeploymentState, failure?: { retryable: boolean } | null): boolean =>
  state === 'failed' ? failure?.retryable === true : !TERMINAL_STATES.has(state);

/** The states a deployment is open in whatever its failure; `failed` is open too, but only while retryable. */
export const OPEN_STATES: readonly DeploymentState[] = DEPLOYMENT_STATES.filter(
  (state) => state !== 'failed' && !TERMINAL_STATES.has(state),
);

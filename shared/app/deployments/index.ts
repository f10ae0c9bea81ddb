/**
 * The publishing pipeline (DESIGN §1 steps 3–6) on top of the pure state machine in domain/deployment.ts: what the
 * functions call. How it stays correct with many instances, retries and crashes: docs/pipeline.md.
 */
export { type AuditEvent, handleAuditEvent } from './audit-events';
export { type BuildInput, startBuild } from './building';
export {
  assertReleasable,
  bindTestersLater,
  cancelDeployment,
  releaseDeployment,
  retryDeployment,
  rollbackDeployment,
  speedUpAudit,
  submitForAudit,
  undoAudit,
} from './commands';
export { type PollSummary, pollDue } from './poller';
export { rejectionScreenshot, type Screenshot } from './screenshots';
export { appDeploymentSlotsCollection, latestDeploymentOf } from './slots';
export { DeploymentConflictError, getDeployment, resumeDeploymentsOf } from './state-changes';
export { PRIMARY_UNBIND_WARNING, unbindMiniProgram, voidDeploymentsOf } from './unbind';

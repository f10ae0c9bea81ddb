/**
 * The commands that take a new deployment through its build, an audit and a release: 11 state changes. Shared by
 * the webhook tests and the webhook bench (which drives the first 10), so both exercise the same transitions.
 */
import type { DeploymentCommand } from '../../shared/domain/deployment';

export const LIFECYCLE: DeploymentCommand[] = [
  { type: 'startBuild' },
  { type: 'buildCommitted' },
  { type: 'privacyGuideSet' },
  { type: 'domainsSet' },
  { type: 'qrStored', qrAssetId: 'ast_qr' },
  { type: 'buildSucceeded', boundTesters: [] },
  { type: 'submitAudit' },
  { type: 'auditSubmitted', auditId: 424242 },
  { type: 'auditApproved' },
  { type: 'startRelease' },
  { type: 'released' },
];

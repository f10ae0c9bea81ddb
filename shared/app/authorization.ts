/**
 * Temporary: `refreshPlugins` moved to mini-programs.ts (ending the authorization ↔ deployments import cycle) and
 * the authorization flow to authorization/. Delete this file once deployments imports from mini-programs.ts.
 */
export { refreshPlugins } from './mini-programs';

/**
 * Route declarations of the HTTP functions other than `api`, without their handlers. Each function binds its own
 * set (`bindRoutes`); the api's `GET /openapi.json` documents them all from here, so it carries no other function's
 * code. A new HTTP function declares its routes in a module of this folder and adds one line below; the test in
 * test/api/openapi.test.ts fails when a function serving routes is missing here or from serverless.yml.
 */
import { type DeclaredRoute, declaredRoutes } from '../runtime/http/route';
import { authorizeCallbackRoutes } from './authorize-callback';
import { bindCallbackRoutes } from './bind-callback';
import { buildTriggerRoutes } from './build-trigger';
import { publishRoutes } from './publish';
import { reviewRoutes } from './review';
import { unbindRoutes } from './unbind';

export interface DocumentedFunctionEntry {
  /** The folder under functions/ (and the resource name in serverless.yml). */
  readonly name: string;
  readonly description: string;
  readonly routes: readonly DeclaredRoute[];
}

export const DOCUMENTED_FUNCTIONS: readonly DocumentedFunctionEntry[] = [
  {
    name: 'bind-callback',
    description: "Authorization redirect that binds an account's primary mini program",
    routes: declaredRoutes(bindCallbackRoutes),
  },
  {
    name: 'authorize-callback',
    description: 'Authorization redirect for an app’s mini program, and WeChat’s authorization events',
    routes: declaredRoutes(authorizeCallbackRoutes),
  },
  {
    name: 'build-trigger',
    description: 'Build: commit with ext_json, experience QR, testers; cancel and retry',
    routes: declaredRoutes(buildTriggerRoutes),
  },
  { name: 'review', description: 'Audit: submit, undo, speed up; WeChat’s audit result pushes', routes: declaredRoutes(reviewRoutes) },
  { name: 'publish', description: 'Release an approved deployment; rollback', routes: declaredRoutes(publishRoutes) },
  { name: 'unbind', description: 'Unbind a mini program (the primary needs force)', routes: declaredRoutes(unbindRoutes) },
];

/**
 * The other HTTP functions whose routes `GET /openapi.json` documents next to the api's own.
 *
 * Convention: an HTTP function exports from its `handler.ts`
 *
 *     export const routes = (s: Services): AnyRoute[] => [route({...}), ...];
 *     export const makeHandler = (s: Services) => httpFunction(s, '<name>', routes(s));
 *
 * Building the routes does no I/O (handlers only touch `s` when a request runs), so the api function can call
 * them with its own services to read their declarations. A new HTTP function adds one line below; the test in
 * test/api/openapi.test.ts fails when a function exporting `routes` is missing here or from serverless.yml.
 *
 * The api bundle carries these functions' code as a result; only their declarations are used.
 */
import type { Services } from '../../shared/app/context';
import type { AnyRoute } from '../../shared/runtime/http/route';
import { routes as authorizeCallback } from '../authorize-callback/handler';
import { routes as bindCallback } from '../bind-callback/handler';
import { routes as buildTrigger } from '../build-trigger/handler';
import { routes as publish } from '../publish/handler';
import { routes as review } from '../review/handler';
import { routes as unbind } from '../unbind/handler';

export interface DocumentedFunctionEntry {
  /** The folder under functions/ (and the resource name in serverless.yml). */
  readonly name: string;
  readonly description: string;
  readonly routes: (s: Services) => readonly AnyRoute[];
}

export const DOCUMENTED_FUNCTIONS: readonly DocumentedFunctionEntry[] = [
  { name: 'bind-callback', description: "Authorization redirect that binds an account's primary mini program", routes: bindCallback },
  {
    name: 'authorize-callback',
    description: 'Authorization redirect for an app’s mini program, and WeChat’s authorization events',
    routes: authorizeCallback,
  },
  { name: 'build-trigger', description: 'Build: commit with ext_json, experience QR, testers; cancel and retry', routes: buildTrigger },
  { name: 'review', description: 'Audit: submit, undo, speed up; WeChat’s audit result pushes', routes: review },
  { name: 'publish', description: 'Release an approved deployment; rollback', routes: publish },
  { name: 'unbind', description: 'Unbind a mini program (the primary needs force)', routes: unbind },
];

/**
 * `api`: the frontends' reads and setup — accounts and API keys, apps and their config, image assets,
 * authorization URLs, mini programs, deployments with their history, QR codes, the audit quota — and the OpenAPI
 * document of every function (`GET /openapi.json`). The routes are in routes.ts.
 */
import { httpFunction, services } from '../../shared/app/compose';
import type { Services } from '../../shared/app/context';
import { cloudEntry } from '../../shared/runtime/entry';
import { routes } from './routes';

export { routes };

export const makeHandler = (services: Services) => httpFunction(services, 'api', routes(services));

export const handler = cloudEntry({ name: 'api', http: true, schedule: false }, async () => ({ http: makeHandler(await services()) }));

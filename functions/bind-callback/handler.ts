/**
 * `bind-callback`: WeChat redirects the admin here after authorizing the account's **primary** mini program
 * (seed 000 step 1). Records it, with its subject (`principal_name`), as the account's primary.
 */
import { httpFunction, services } from '../../shared/app/compose';
import type { Services } from '../../shared/app/context';
import { answerRedirect } from '../../shared/routes/authorization-redirect';
import { bindCallbackRoutes } from '../../shared/routes/bind-callback';
import { cloudEntry } from '../../shared/runtime/entry';
import { type AnyRoute, bindRoutes } from '../../shared/runtime/http/route';

export const routes = (services: Services): AnyRoute[] =>
  bindRoutes(bindCallbackRoutes, { redirect: answerRedirect(services, 'bind-primary') });

export const makeHandler = (services: Services) => httpFunction(services, 'bind-callback', routes(services));

export const handler = cloudEntry({ name: 'bind-callback', http: true, schedule: false }, async () => ({
  http: makeHandler(await services()),
}));

/**
 * `bind-callback`: WeChat redirects the admin here after authorizing the account's **primary** mini program
 * (seed 000 step 1). Records it, with its subject (`principal_name`), as the account's primary.
 */
import { z } from 'zod';
import { completeAuthorization } from '../../shared/app/authorization/callback';
import { refusalOf } from '../../shared/app/authorization/outcome';
import { httpFunction, services } from '../../shared/app/compose';
import type { Services } from '../../shared/app/context';
import { authErrorPage, authResultReply } from '../../shared/app/pages';
import { cloudEntry } from '../../shared/runtime/entry';
import { type AnyRoute, route, wantsJson } from '../../shared/runtime/http/route';

export const redirectQuery = z.object({
  auth_code: z.string().max(512).optional(),
  expires_in: z.string().optional(),
  state: z.string().max(2048).optional(),
});

/**
 * Shared by both redirects. Every failure is thrown, so the error middleware picks its status from its category
 * and its body (the envelope for JSON clients, `authErrorPage` for the admin's browser).
 */
export const redirectRoute = (s: Services, purpose: 'bind-primary' | 'authorize-app', path: string, summary: string): AnyRoute =>
  route({
    method: 'GET',
    path,
    auth: 'public',
    summary,
    query: redirectQuery,
    errorPage: authErrorPage,
    handle: async ({ query, headers }) => {
      const result = await completeAuthorization(s, purpose, { authCode: query.auth_code, state: query.state });
      // A refusal recorded by completeAuthorization (and replayed on a refresh) answers with the status it had.
      if (!result.ok) throw refusalOf(result);
      return authResultReply(result, wantsJson(headers));
    },
  });

export const routes = (s: Services): AnyRoute[] => [
  redirectRoute(s, 'bind-primary', '/wechat/bind/callback', 'Authorization redirect for an account’s primary mini program'),
];

export const makeHandler = (s: Services) => httpFunction(s, 'bind-callback', routes(s));

export const handler = cloudEntry({ http: true, schedule: false }, async () => ({ http: makeHandler(await services()) }));

/**
 * `bind-callback`: WeChat redirects the admin here after authorizing the account's **primary** mini program
 * (seed 000 step 1). Records it, with its subject (`principal_name`), as the account's primary.
 */
import { z } from 'zod';
import { completeAuthorization } from '../../shared/app/authorization';
import { services } from '../../shared/app/compose';
import { httpFunction } from '../../shared/app/compose';
import type { Services } from '../../shared/app/context';
import { authResultReply } from '../../shared/app/pages';
import { isAppError } from '../../shared/domain/errors';
import { cloudEntry } from '../../shared/runtime/entry';
import { route, type AnyRoute } from '../../shared/runtime/http/route';

export const redirectQuery = z.object({ auth_code: z.string().max(512).optional(), expires_in: z.string().optional(), state: z.string().max(2048).optional() });

/** Shared by both redirects: a refused authorization is a page that says why, not a bare error. */
export const redirectRoute = (s: Services, purpose: 'bind-primary' | 'authorize-app', path: string, summary: string): AnyRoute =>
  route({
    method: 'GET',
    path,
    auth: 'public',
    summary,
    query: redirectQuery,
    handle: async ({ query, headers }) => {
      try {
        const result = await completeAuthorization(s, purpose, { authCode: query.auth_code, state: query.state });
        return authResultReply(result, headers.accept);
      } catch (error) {
        if (!isAppError(error) || error.category === 'internal' || error.category === 'unavailable') throw error;
        return authResultReply({ ok: false, code: error.code, message: error.message, appid: null, at: s.clock() }, headers.accept);
      }
    },
  });

export const routes = (s: Services): AnyRoute[] => [
  redirectRoute(s, 'bind-primary', '/wechat/bind/callback', 'Authorization redirect for an account’s primary mini program'),
];

export const makeHandler = (s: Services) => httpFunction(s, 'bind-callback', routes(s));

export const handler = cloudEntry({ http: true, schedule: false }, async () => ({ http: makeHandler(await services()) }));

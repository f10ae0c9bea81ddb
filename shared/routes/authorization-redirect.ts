/**
 * The authorization redirect, the same for both purposes: `bind-callback` serves it for an account's primary mini
 * program, `authorize-callback` for an app's. Every failure is thrown, so the error middleware picks its status from
 * its category and its body (the envelope for JSON clients, `authErrorPage` for the admin's browser).
 */

import { completeAuthorization } from '../app/authorization/callback';
import { refusalOf } from '../app/authorization/outcome';
import type { Services } from '../app/context';
import { authErrorPage, authResultReply } from '../app/pages';
import * as z from '../domain/zod';
import { declareRoute, type HandlerOf, type RouteDeclaration, wantsJson } from '../runtime/http/route';

export const redirectQuery = /* @__PURE__ */ z.lazy(() =>
  z.object({
    auth_code: z.optional(z.string().check(z.maxLength(512))),
    expires_in: z.optional(z.string()),
    state: z.optional(z.string().check(z.maxLength(2048))),
  }),
);

type RedirectDeclaration = RouteDeclaration<undefined, z.infer<typeof redirectQuery>>;

export const redirectRoute = (path: string, summary: string): RedirectDeclaration =>
  declareRoute({ method: 'GET', path, auth: 'public', summary, query: redirectQuery, errorPage: authErrorPage });

export const answerRedirect =
  (s: Services, purpose: 'bind-primary' | 'authorize-app'): HandlerOf<RedirectDeclaration> =>
  async ({ query, headers }) => {
    const result = await completeAuthorization(s, purpose, { authCode: query.auth_code, state: query.state });
    // A refusal recorded by completeAuthorization (and replayed on a refresh) answers with the status it had.
    if (!result.ok) throw refusalOf(result);
    return authResultReply(result, wantsJson(headers));
  };

/**
 * Go-live readiness routes of the `api` function (issue 18): the report for a mini program (with its linked app)
 * and for an app, and the fixes this backend applies by API. Reports are served from a short cache
 * (`READINESS_TTL_MS`) unless `fresh=true`: a console may poll without spending WeChat's call budget.
 */

import { accountOf, type Services } from '../../shared/app/context';
import { appReadiness, miniProgramReadiness, readinessReportSchema, runReadinessAction } from '../../shared/app/readiness';
import { READINESS_ACTIONS } from '../../shared/domain/readiness';
import * as z from '../../shared/domain/zod';
import { appParams, miniProgramParams } from '../../shared/routes/params';
import { type AnyRoute, json, route } from '../../shared/runtime/http/route';

const readinessQuery = /* @__PURE__ */ z.lazy(() =>
  z.object({
    fresh: z.described(z.optional(z.enum(['true', 'false'])), 'true: ask WeChat now instead of serving the report of the last minute'),
  }),
);

/** A report's GET: `report` reads the mini program or app that `idOf` takes from the path. */
function reportRoute<P>(
  services: Services,
  path: string,
  summary: string,
  params: z.ZodMiniType<P>,
  idOf: (params: P) => string,
  report: typeof appReadiness,
): AnyRoute {
  return route({
    method: 'GET',
    path,
    auth: 'account',
    summary,
    params,
    query: readinessQuery,
    response: readinessReportSchema,
    handle: async ({ params: named, query, principal, signal }) =>
      json(200, await report(services, accountOf(principal), idOf(named), { fresh: query.fresh === 'true', signal })),
  });
}

export const readinessRoutes = (services: Services): AnyRoute[] => [
  reportRoute(
    services,
    '/v1/mini-programs/{appid}/readiness',
    'Go-live readiness of a mini program (with its linked app): every prerequisite WeChat checks — ICP filing, verification, profile, category, privacy, domains, plugins, permission sets, quota, penalties, pending audit — its status (ok, blocking, warning, unknown), what WeChat says and what to do, in Chinese and English',
    miniProgramParams,
    (params) => params.appid,
    miniProgramReadiness,
  ),
  reportRoute(
    services,
    '/v1/apps/{appId}/readiness',
    "Go-live readiness of an app's mini program, checked for what the app needs (its domains, plugins, privacy guide, location APIs)",
    appParams,
    (params) => params.appId,
    appReadiness,
  ),
  ...READINESS_ACTIONS.map((action) =>
    route({
      method: 'POST',
      path: `/v1/mini-programs/{appid}/readiness/${action}`,
      auth: 'account',
      summary:
        action === 'set-privacy-guide'
          ? "Readiness fix: set the user privacy guide from the linked app's config.privacyGuide for what the code is known to collect, then answer the report read afresh"
          : 'Readiness fix: add the server domains the linked app needs to the mini program, then answer the report read afresh',
      params: miniProgramParams,
      response: readinessReportSchema,
      handle: async ({ params, principal, signal }) =>
        json(200, await runReadinessAction(services, accountOf(principal), params.appid, action, signal)),
    }),
  ),
];

/**
 * The WeChat endpoints a go-live readiness check reads (go-live.ts has the rules), with WeChat's paths, methods and
 * permission sets: get_icp_entrance_info (doc api_geticpentranceinfo: GET, sets 18 or 156 — one set per simulated
 * route, 18), getaccountbasicinfo (doc api_getaccountbasicinfo: POST, set 30 for a mini program),
 * get_privacy_interface (doc getPrivacyInterface: GET; modelled under set 18, UNCONFIRMED which set WeChat checks),
 * getorderpathinfo (doc api_getorderpathinfo: POST, set 18),
 * modify_wxa_server_domain (component token).
 */
import * as z from '../../shared/domain/zod';
import type { ApiContext, ApiRoute } from './api-route';
import { wxFail } from './errors';
import { isPlainObject, json, type SimResponse } from './http-util';
import { SCOPE_CODE_MANAGEMENT } from './state';

/** 帐号管理权限 (set 30): getaccountbasicinfo and the other basic-info APIs of a mini program. */
export const SCOPE_ACCOUNT_INFO = 30;

const ok = (extra: Record<string, unknown>): SimResponse => json({ errcode: 0, errmsg: 'ok', ...extra });

const platformDomainBody = z.object({
  action: z.string(),
  // `;`-joined hosts, as the doc and the peers send them.
  wxa_server_domain: z.optional(z.string()),
  is_modify_published_together: z.optional(z.boolean()),
});

/** info_type is required (doc api_getorderpathinfo): 0 the path in effect (线上版), 1 the one applied for (审核版). */
const orderPathBody = z.object({ info_type: z.union([z.literal(0), z.literal(1)]) });

function parsedBody<T>(schema: z.ZodMiniType<T>, ctx: ApiContext): T {
  const raw = ctx.body ?? {};
  if (!isPlainObject(raw)) wxFail(47001);
  const result = schema.safeParse(raw);
  if (!result.success) wxFail(47001, `data format error hint: [${result.error.issues[0]?.path.map(String).join('.') ?? ''}]`);
  return result.data;
}

export const GO_LIVE_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/wxa/icp/get_icp_entrance_info',
    auth: 'authorizer',
    scope: SCOPE_CODE_MANAGEMENT,
    handle: (ctx) => ok(ctx.state.icpEntranceInfo(ctx.mp)),
  },
  {
    method: 'POST',
    path: '/cgi-bin/account/getaccountbasicinfo',
    auth: 'authorizer',
    scope: SCOPE_ACCOUNT_INFO,
    handle: (ctx) => ok(ctx.state.accountBasicInfo(ctx.mp)),
  },
  {
    method: 'GET',
    path: '/wxa/security/get_privacy_interface',
    auth: 'authorizer',
    scope: SCOPE_CODE_MANAGEMENT,
    handle: (ctx) => ok(ctx.state.privacyInterfaces(ctx.mp)),
  },
  {
    method: 'POST',
    path: '/wxa/security/getorderpathinfo',
    auth: 'authorizer',
    scope: SCOPE_CODE_MANAGEMENT,
    handle: (ctx) => ok(ctx.state.orderPathInfo(ctx.mp, parsedBody(orderPathBody, ctx).info_type)),
  },
  {
    method: 'POST',
    path: '/cgi-bin/component/modify_wxa_server_domain',
    auth: 'component',
    handle: (ctx) => {
      const b = parsedBody(platformDomainBody, ctx);
      const hosts = (b.wxa_server_domain ?? '').split(';').filter((h) => h !== '');
      return ok(ctx.state.platformServerDomains(b.action, hosts));
    },
  },
];

/**
 * The WeChat endpoints the client uses, with WeChat's paths, methods, token query names and body shapes
 * (reference §3–§4). Each handler turns HTTP into a call on `SimState`; the rules live there.
 */
import * as z from '../../shared/domain/zod';
import type { Answer, ApiContext, ApiRoute, AuthorizerContext } from './api-route';
import { wxFail } from './errors';
import { GO_LIVE_ROUTES } from './go-live-routes';
import { grayReleaseBodySchema } from './gray-release';
import { isPlainObject, json, type SimResponse } from './http-util';
import { qrJpeg } from './qr-jpeg';
import { SCOPE_CODE_MANAGEMENT, SCOPE_PLUGINS, type SimState } from './state';

/** A /wxa-style route called with the authorizer token and needing permission set 18 (code management). */
const code = (method: 'GET' | 'POST', path: string, handle: (ctx: AuthorizerContext) => Answer): ApiRoute => ({
  method,
  path,
  auth: 'authorizer',
  scope: SCOPE_CODE_MANAGEMENT,
  handle,
});

const ok = (extra: Record<string, unknown> = {}): SimResponse => json({ errcode: 0, errmsg: 'ok', ...extra });

/** Body of a WeChat call; a malformed one is 47001 like WeChat's "data format error hint: [field]". */
function body<T>(schema: z.ZodMiniType<T>, ctx: ApiContext): T {
  const raw = ctx.body ?? {};
  if (!isPlainObject(raw)) wxFail(47001);
  const result = schema.safeParse(raw);
  if (!result.success) {
    const path = result.error.issues[0]?.path.map(String).join('.') ?? '';
    wxFail(47001, `data format error hint: [${path}]`);
  }
  return result.data;
}

/** A code-management POST with a JSON body: `run` gets the body read against `schema`; ok carries the object it returns. */
const codePost = <T>(path: string, schema: z.ZodMiniType<T>, run: (ctx: AuthorizerContext, b: T) => unknown): ApiRoute =>
  code('POST', path, (ctx) => {
    const answer = run(ctx, body(schema, ctx));
    return ok(isPlainObject(answer) ? answer : {});
  });

const optionalString = z.optional(z.string());
/** Ids WeChat documents as numbers; numeric strings are accepted like WeChat's own JSON parser does. */
const idLike = z.union([z.number().check(z.int()), z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number))]);

const componentTokenBody = z.object({
  component_appid: optionalString,
  component_appsecret: optionalString,
  component_verify_ticket: optionalString,
});
const authorizerTokenBody = z.object({
  component_appid: optionalString,
  authorizer_appid: optionalString,
  authorizer_refresh_token: optionalString,
});
const authorizerListBody = z.object({
  component_appid: optionalString,
  offset: z._default(z.number().check(z.int(), z.gte(0)), 0),
  count: z._default(z.number().check(z.int(), z.gte(1)), 100),
});
const commitBody = z.object({
  // Checked by the state with WeChat's own codes (85014, 47001, 85013, 85048) rather than a generic 47001.
  template_id: z.unknown(),
  ext_json: z.unknown(),
  user_version: z._default(z.string().check(z.maxLength(64)), ''),
  user_desc: z._default(z.string(), ''),
});
const pluginBody = z.object({
  action: z.string(),
  plugin_appid: optionalString,
  reason: optionalString,
  user_version: optionalString,
});

function checkComponentAppId(state: SimState, appId: string | undefined): void {
  if (appId === undefined || appId === '') wxFail(41018);
  if (appId !== state.component.appId) wxFail(40013);
}

/**
 * A component API (POST, component token) whose body names the component: missing is 41018, another one 40013
 * (`checkComponentAppId`); `answer` gives the JSON reply from the rest of the body.
 */
const componentCall = <T extends { component_appid?: string | undefined }>(
  path: string,
  schema: z.ZodMiniType<T>,
  answer: (state: SimState, b: T) => unknown,
): ApiRoute => ({
  method: 'POST',
  path,
  auth: 'component',
  handle: (ctx) => {
    const b = body(schema, ctx);
    checkComponentAppId(ctx.state, b.component_appid);
    return json(answer(ctx.state, b));
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Component (platform) APIs, §3

const componentRoutes: ApiRoute[] = [
  {
    method: 'POST',
    path: '/cgi-bin/component/api_start_push_ticket',
    auth: 'none',
    handle: (ctx) => {
      const b = body(z.object({ component_appid: optionalString, component_secret: optionalString }), ctx);
      ctx.state.checkComponentCredentials(b.component_appid, b.component_secret, 'component_secret');
      ctx.emit(ctx.state.issueTicket().push);
      return ok();
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/component/api_component_token',
    auth: 'none',
    handle: (ctx) => {
      const b = body(componentTokenBody, ctx);
      return json(
        ctx.state.componentToken({
          appId: b.component_appid,
          secret: b.component_appsecret,
          ticket: b.component_verify_ticket,
        }),
      );
    },
  },
  componentCall('/cgi-bin/component/api_create_preauthcode', z.object({ component_appid: optionalString }), (state) =>
    state.createPreAuthCode(),
  ),
  componentCall(
    '/cgi-bin/component/api_query_auth',
    z.object({ component_appid: optionalString, authorization_code: optionalString }),
    (state, b) => state.queryAuth(b.authorization_code),
  ),
  componentCall('/cgi-bin/component/api_authorizer_token', authorizerTokenBody, (state, b) =>
    state.authorizerToken(b.authorizer_appid, b.authorizer_refresh_token),
  ),
  componentCall(
    '/cgi-bin/component/api_get_authorizer_info',
    z.object({ component_appid: optionalString, authorizer_appid: optionalString }),
    (state, b) => state.authorizerInfo(b.authorizer_appid),
  ),
  componentCall('/cgi-bin/component/api_get_authorizer_list', authorizerListBody, (state, b) => state.authorizerList(b.offset, b.count)),
  {
    method: 'GET',
    path: '/wxa/gettemplatelist',
    auth: 'component',
    handle: (ctx) => {
      const type = ctx.query.get('template_type');
      return ok(ctx.state.templateList(type === null || type === '' ? undefined : Number(type)));
    },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Mini program code management (/wxa, authorizer token), §4

const auditIdBody = z.object({ auditid: idLike });

const privacyOwnerSetting = z
  .object({
    contact_phone: optionalString,
    contact_email: optionalString,
    contact_qq: optionalString,
    contact_weixin: optionalString,
    ext_file_media_id: optionalString,
    notice_method: z.string().check(z.minLength(1)),
    store_expire_timestamp: optionalString,
  })
  .check(
    z.refine((o) => [o.contact_phone, o.contact_email, o.contact_qq, o.contact_weixin].some((c) => c !== undefined && c !== ''), {
      message: 'at least one contact is required',
      path: ['contact_phone'],
    }),
  );

const codeRoutes: ApiRoute[] = [
  codePost('/wxa/commit', commitBody, (ctx, b) =>
    ctx.state.commit(ctx.mp, { templateId: b.template_id, extJson: b.ext_json, userVersion: b.user_version, userDesc: b.user_desc }),
  ),
  {
    method: 'GET',
    path: '/wxa/get_qrcode',
    auth: 'authorizer',
    scope: SCOPE_CODE_MANAGEMENT,
    // A JPEG named QRCode.jpg (reference §4.3; wxcloudrun-wxcomponent api/admin/devweapp.go). Its errors are JSON
    // labelled text/plain, which WxJava's file-download executors take as the error signal.
    errorContentType: 'text/plain',
    handle: (ctx) => {
      const data = qrJpeg(ctx.state.experienceUrl(ctx.mp, ctx.query.get('path') ?? undefined));
      const headers = { 'Content-Disposition': 'attachment; filename="QRCode.jpg"' };
      return { kind: 'binary', contentType: 'image/jpeg', data, headers };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/material/get_material',
    // get_auditstatus's doc (oplatform openApi code-management/api_getauditstatus): the rejection screenshots are
    // media ids "可通过获取永久素材接口拉取截图内容", i.e. POST get_material {media_id} with the mini program's authorizer
    // token (community threads on weapp_audit_fail's ScreenShot, answered 40007 "invalid media_id" for a wrong id).
    // The permission set guarding it for a mini program is not documented: the simulator asks for code management's.
    auth: 'authorizer',
    scope: SCOPE_CODE_MANAGEMENT,
    handle: (ctx) => {
      const { media_id: mediaId } = body(z.object({ media_id: z.string() }), ctx);
      if (!ctx.state.isScreenshotOf(ctx.mp, mediaId)) wxFail(40007);
      return { kind: 'binary', contentType: 'image/jpeg', data: qrJpeg(`screenshot ${mediaId}`) };
    },
  },
  code('GET', '/wxa/get_category', (ctx) => ok(ctx.state.categories(ctx.mp))),
  code('GET', '/wxa/get_page', (ctx) => ok(ctx.state.pages(ctx.mp))),
  codePost(
    '/cgi-bin/component/getprivacysetting',
    z.object({ privacy_ver: z._default(z.union([z.literal(1), z.literal(2)]), 2) }),
    (ctx, b) => ctx.state.getPrivacySetting(ctx.mp, b.privacy_ver),
  ),
  code('POST', '/cgi-bin/component/setprivacysetting', (ctx) => {
    const b = body(
      z.object({
        privacy_ver: z._default(z.union([z.literal(1), z.literal(2)]), 2),
        owner_setting: privacyOwnerSetting,
        setting_list: z._default(z.array(z.object({ privacy_key: z.string().check(z.minLength(1)), privacy_text: z.string() })), []),
      }),
      ctx,
    );
    const ownerSetting = Object.fromEntries(Object.entries(b.owner_setting).filter((e): e is [string, string] => typeof e[1] === 'string'));
    ctx.state.setPrivacySetting(ctx.mp, { privacyVer: b.privacy_ver, ownerSetting, settingList: b.setting_list });
    return ok();
  }),
  code('GET', '/wxa/security/get_code_privacy_info', (ctx) => ok(ctx.state.codePrivacyInfo(ctx.mp))),
  code('POST', '/wxa/modify_domain', (ctx) => {
    const list = z.optional(z.array(z.string()));
    const b = body(
      z.object({
        action: z.string(),
        requestdomain: list,
        wsrequestdomain: list,
        uploaddomain: list,
        downloaddomain: list,
        udpdomain: list,
        tcpdomain: list,
      }),
      ctx,
    );
    const { action, ...lists } = b;
    const given = Object.fromEntries(Object.entries(lists).filter((e): e is [string, string[]] => e[1] !== undefined));
    return ok(ctx.state.modifyDomain(ctx.mp, action, given));
  }),
  codePost('/wxa/setwebviewdomain', z.object({ action: z.string(), webviewdomain: z._default(z.array(z.string()), []) }), (ctx, b) =>
    ctx.state.webviewDomain(ctx.mp, b.action, b.webviewdomain),
  ),
  code('POST', '/wxa/submit_audit', (ctx) => {
    const b = body(
      z.object({
        item_list: z.optional(z.array(z.object({ first_id: z.number().check(z.int()), second_id: z.number().check(z.int()) }))),
        privacy_api_not_use: z.optional(z.boolean()),
        // doc submitAudit: scene 0–5 (0 alone: no UGC), method 1–4, has_audit_team 0/1, descriptions ≤256.
        ugc_declare: z.optional(
          z.object({
            scene: z.array(z.number().check(z.int(), z.gte(0), z.lte(5))).check(z.minLength(1)),
            method: z.optional(z.array(z.number().check(z.int(), z.gte(1), z.lte(4)))),
            other_scene_desc: z.optional(z.string().check(z.maxLength(256))),
            has_audit_team: z.optional(z.union([z.literal(0), z.literal(1)])),
            audit_desc: z.optional(z.string().check(z.maxLength(256))),
          }),
        ),
      }),
      ctx,
    );
    const { auditid } = ctx.state.submitAudit(ctx.mp, {
      ...(b.item_list === undefined ? {} : { itemList: b.item_list }),
      ...(b.privacy_api_not_use === undefined ? {} : { privacyApiNotUse: b.privacy_api_not_use }),
      ...(b.ugc_declare === undefined ? {} : { ugcDeclared: true }),
    });
    return ok({ auditid });
  }),
  codePost('/wxa/get_auditstatus', auditIdBody, (ctx, b) => ctx.state.auditStatus(ctx.mp, b.auditid)),
  code('GET', '/wxa/get_latest_auditstatus', (ctx) => ok(ctx.state.latestAuditStatus(ctx.mp))),
  code('GET', '/wxa/undocodeaudit', (ctx) => {
    ctx.state.undoAudit(ctx.mp);
    return ok();
  }),
  codePost('/wxa/speedupaudit', auditIdBody, (ctx, b) => ctx.state.speedupAudit(ctx.mp, b.auditid)),
  code('GET', '/wxa/queryquota', (ctx) => ok(ctx.state.queryQuota())),
  code('POST', '/wxa/release', (ctx) => {
    // The body must be the JSON object `{}`: a missing body is WeChat's classic 44002 (peers §2.7).
    if (!isPlainObject(ctx.body)) wxFail(44002);
    ctx.state.release(ctx.mp);
    return ok();
  }),
  code('GET', '/wxa/revertcoderelease', (ctx) => {
    if (ctx.query.get('action') === 'get_history_version') return ok(ctx.state.historyVersions(ctx.mp));
    const raw = ctx.query.get('app_version');
    if (raw !== null && !/^\d+$/.test(raw)) wxFail(47001, 'data format error hint: [app_version]');
    ctx.state.revertRelease(ctx.mp, raw === null ? undefined : Number(raw));
    return ok();
  }),
  // Phased release (gray-release.ts has the rules and their sources): POST with a body, two GETs, all set 18.
  codePost('/wxa/grayrelease', grayReleaseBodySchema, (ctx, b) =>
    ctx.state.grayRelease(ctx.mp, {
      grayPercentage: b.gray_percentage,
      supportExperiencerFirst: b.support_experiencer_first,
      supportDebugerFirst: b.support_debuger_first,
    }),
  ),
  code('GET', '/wxa/getgrayreleaseplan', (ctx) => ok(ctx.state.grayReleasePlan(ctx.mp))),
  code('GET', '/wxa/revertgrayrelease', (ctx) => {
    ctx.state.revertGrayRelease(ctx.mp);
    return ok();
  }),
  code('POST', '/wxa/getversioninfo', (ctx) => ok(ctx.state.versionInfo(ctx.mp))),
  {
    method: 'POST',
    path: '/wxa/plugin',
    auth: 'authorizer',
    scope: SCOPE_PLUGINS,
    handle: (ctx) => {
      const b = body(pluginBody, ctx);
      const target = b.plugin_appid === undefined ? {} : { pluginAppId: b.plugin_appid };
      return ok(ctx.state.plugin(ctx.mp, { action: b.action, ...target }));
    },
  },
  codePost('/wxa/bind_tester', z.object({ wechatid: z.string() }), (ctx, b) => ctx.state.bindTester(ctx.mp, b.wechatid)),
  codePost('/wxa/unbind_tester', z.object({ wechatid: optionalString, userstr: optionalString }), (ctx, b) =>
    ctx.state.unbindTester(ctx.mp, {
      ...(b.wechatid === undefined ? {} : { wechatid: b.wechatid }),
      ...(b.userstr === undefined ? {} : { userstr: b.userstr }),
    }),
  ),
];

export const API_ROUTES: readonly ApiRoute[] = [...componentRoutes, ...codeRoutes, ...GO_LIVE_ROUTES];

const byPath = new Map<string, ApiRoute>(API_ROUTES.map((r) => [r.path, r]));

export const findApiRoute = (path: string): ApiRoute | undefined => byPath.get(path);

/** What a scripted fault (`ScriptedFault`) does to one call. */
export type ScriptedAction = { errcode: number } | { loseAnswer: true };

/** Thrown once a call whose answer is to be lost has done its work: the server drops the connection. */
export class AnswerLost extends Error {}

/**
 * Runs a WeChat API call: method check, token check, permission-set check, scripted fault, handler. Errors surface
 * as thrown `WxFailure`s for the server to format.
 */
export async function runApiRoute(
  route: ApiRoute,
  method: string,
  ctx: ApiContext,
  scripted: (appId: string | undefined) => ScriptedAction | undefined = () => undefined,
): Promise<SimResponse> {
  if (method !== route.method) wxFail(route.method === 'GET' ? 43001 : 43002);
  if (route.auth !== 'authorizer') {
    if (route.auth === 'component') {
      // Old docs and the SDKs say component_access_token, newer docs access_token: accept both.
      const token = ctx.query.get('component_access_token') ?? ctx.query.get('access_token') ?? undefined;
      ctx.state.checkComponentToken(token);
    }
    if (route.auth === 'component') ctx.state.spendCall(route.path, undefined);
    return withScript(scripted(undefined), () => route.handle(ctx));
  }
  const appId = ctx.state.checkAuthorizerToken(ctx.query.get('access_token') ?? undefined);
  const mp = ctx.state.miniProgramFor(appId, route.scope);
  ctx.state.spendCall(route.path, appId);
  return withScript(scripted(appId), () => route.handle({ ...ctx, mp }));
}

async function withScript(action: ScriptedAction | undefined, call: () => Answer): Promise<SimResponse> {
  if (action !== undefined && 'errcode' in action) wxFail(action.errcode);
  const response = await call();
  if (action !== undefined) throw new AnswerLost();
  return response;
}

/**
 * zod schemas of the WeChat API bodies we send and receive (reference/wechat-open-platform.md §3–§4).
 *
 * `errcode`/`errmsg` are not part of these schemas: `http.ts` turns any errcode ≠ 0 into a typed error before a
 * schema sees the body, so these describe successful answers only. Unknown keys are stripped (WeChat adds fields
 * over time). Liberal where WeChat is known to vary (field spellings, ids as numeric strings, missing empty
 * lists); strict on what decisions hang on (tokens, appids, audit ids and statuses, the subject).
 *
 * Every exported schema is a `z.lazy`: built on its first parse, not at import. A function uses a few of these
 * ~35 schemas (~380 zod objects), and building them all at every cold start cost ~3 ms plus the garbage they
 * leave for the first scavenges. Types and validation are unchanged (`z.infer` of a lazy is its schema's).
 */
import * as z from '../domain/zod';

const int = z.number().check(z.int());
const positiveInt = int.check(z.positive());
const nonEmpty = z.string().check(z.minLength(1));
/** Ids WeChat documents as numbers but some gateways/SDK mocks quote; both mean the same id. */
const intLike = z.union([int, z.pipe(z.string().check(z.regex(/^-?\d+$/)), z.transform(Number))]);

/** Splits WeChat's `|`-joined media-id lists (`ScreenShot`, `screenshot`) into an array. */
const splitPipes = (value: string | undefined): string[] => (value ?? '').split('|').filter((s) => s.length > 0);

// ---------------------------------------------------------------------------------------------------------
// Generic

/** Answers that carry nothing but `{errcode: 0, errmsg: "ok"}`. */
export const okResponseSchema = /* @__PURE__ */ z.lazy(() => z.object({ errmsg: z.optional(z.string()) }));
export type OkResponse = z.infer<typeof okResponseSchema>;

// ---------------------------------------------------------------------------------------------------------
// Component (platform) APIs, §3

export const componentTokenResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    component_access_token: nonEmpty,
    expires_in: positiveInt,
  }),
);
export type ComponentTokenResponse = z.infer<typeof componentTokenResponseSchema>;

export const preAuthCodeResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    pre_auth_code: nonEmpty,
    expires_in: positiveInt,
  }),
);
export type PreAuthCodeResponse = z.infer<typeof preAuthCodeResponseSchema>;

export const funcInfoSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    funcscope_category: z.object({
      id: int,
      type: z.optional(int),
      name: z.optional(z.string()),
      desc: z.optional(z.string()),
    }),
    confirm_info: z.optional(z.object({ need_confirm: z.optional(int), already_confirm: z.optional(int), can_confirm: z.optional(int) })),
  }),
);
export type FuncInfo = z.infer<typeof funcInfoSchema>;

/** Older docs call the authorizer appid `appid`, newer ones `authorizer_appid`; the output always has the latter. */
const withAuthorizerAppId = <T extends { authorizer_appid?: string | undefined; appid?: string | undefined }>(
  value: T,
  ctx: z.core.ParsePayload,
): Omit<T, 'appid' | 'authorizer_appid'> & { authorizer_appid: string } => {
  const { appid, authorizer_appid, ...rest } = value;
  const id = authorizer_appid ?? appid;
  if (id === undefined) {
    ctx.issues.push({ code: 'custom', message: 'authorizer_appid (or appid) is required', path: ['authorizer_appid'], input: value });
    return z.NEVER;
  }
  return { ...rest, authorizer_appid: id };
};

const authorizerAppIdFields = {
  authorizer_appid: z.optional(nonEmpty),
  appid: z.optional(nonEmpty),
};

export const queryAuthResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    authorization_info: z.pipe(
      z.object({
        ...authorizerAppIdFields,
        // Present only when the account granted API permissions (§3.5).
        authorizer_access_token: z.optional(nonEmpty),
        expires_in: z.optional(positiveInt),
        authorizer_refresh_token: z.optional(nonEmpty),
        func_info: z._default(z.array(funcInfoSchema), []),
      }),
      z.transform(withAuthorizerAppId),
    ),
  }),
);
export type QueryAuthResponse = z.infer<typeof queryAuthResponseSchema>;

export const authorizerTokenResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    authorizer_access_token: nonEmpty,
    expires_in: positiveInt,
    // Always returned and possibly rotated: the caller must persist it before using the access token (§3.6).
    authorizer_refresh_token: nonEmpty,
  }),
);
export type AuthorizerTokenResponse = z.infer<typeof authorizerTokenResponseSchema>;

const stringList = z.array(z.string());

export const authorizerInfoResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    authorizer_info: z.object({
      nick_name: z._default(z.string(), ''),
      head_img: z.optional(z.string()),
      // The original id (gh_…) is how audit pushes (ToUserName) are matched to a mini program.
      user_name: nonEmpty,
      alias: z.optional(z.string()),
      qrcode_url: z.optional(z.string()),
      // The subject: the same-subject check depends on it, so it must be there.
      principal_name: z.string(),
      signature: z.optional(z.string()),
      service_type_info: z.optional(z.object({ id: int })),
      verify_type_info: z.optional(z.object({ id: int })),
      business_info: z.optional(z.record(z.string(), z.number())),
      MiniProgramInfo: z.optional(
        z.object({
          network: z.optional(
            z.object({
              RequestDomain: z.optional(stringList),
              WsRequestDomain: z.optional(stringList),
              UploadDomain: z.optional(stringList),
              DownloadDomain: z.optional(stringList),
              UDPDomain: z.optional(stringList),
              TCPDomain: z.optional(stringList),
              BizDomain: z.optional(stringList),
            }),
          ),
          categories: z.optional(z.array(z.object({ first: z.string(), second: z.string() }))),
          visit_status: z.optional(int),
        }),
      ),
      register_type: z.optional(int),
      account_status: z.optional(int),
      basic_config: z.optional(z.object({ is_phone_configured: z.optional(z.boolean()), is_email_configured: z.optional(z.boolean()) })),
    }),
    authorization_info: z.pipe(
      z.object({
        ...authorizerAppIdFields,
        authorizer_refresh_token: z.optional(z.string()),
        func_info: z._default(z.array(funcInfoSchema), []),
      }),
      z.transform(withAuthorizerAppId),
    ),
  }),
);
export type AuthorizerInfoResponse = z.infer<typeof authorizerInfoResponseSchema>;

export const authorizerListResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    total_count: int.check(z.nonnegative()),
    list: z._default(
      z.array(
        z.object({
          authorizer_appid: nonEmpty,
          refresh_token: nonEmpty,
          auth_time: z.optional(int),
        }),
      ),
      [],
    ),
  }),
);
export type AuthorizerListResponse = z.infer<typeof authorizerListResponseSchema>;

export const templateSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    template_id: intLike,
    user_version: z.string(),
    user_desc: z.string(),
    create_time: z.optional(int),
    draft_id: z.optional(intLike),
    source_miniprogram_appid: z.optional(z.string()),
    source_miniprogram: z.optional(z.string()),
    developer: z.optional(z.string()),
    template_type: z.optional(int),
    category_list: z.optional(z.array(z.unknown())),
    audit_scene: z.optional(int),
    audit_status: z.optional(int),
    reason: z.optional(z.string()),
  }),
);
export type Template = z.infer<typeof templateSchema>;

export const templateListResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    template_list: z._default(z.array(templateSchema), []),
  }),
);
export type TemplateListResponse = z.infer<typeof templateListResponseSchema>;

// ---------------------------------------------------------------------------------------------------------
// Code management (/wxa), §4 — requests

/** ext_json travels as a JSON *string* holding an object (an object here → 47001, see peers §2.8). */
const extJsonString = z.string().check(
  z.refine(
    (text) => {
      try {
        const parsed: unknown = JSON.parse(text);
        return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      } catch {
        return false;
      }
    },
    { message: 'ext_json must be a JSON object serialised as a string' },
  ),
);

export const commitRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    template_id: int.check(z.nonnegative()),
    ext_json: extJsonString,
    user_version: z.string().check(z.minLength(1), z.maxLength(64)),
    user_desc: z.string(),
  }),
);
export type CommitRequest = z.infer<typeof commitRequestSchema>;

export const auditItemSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    address: z.optional(z.string()),
    tag: z.optional(
      z.string().check(
        z.refine((tags) => {
          const list = tags.split(' ').filter((t) => t.length > 0);
          return list.length <= 10 && list.every((t) => t.length <= 20);
        }, 'at most 10 space-separated tags of at most 20 characters'),
      ),
    ),
    first_class: z.string(),
    second_class: z.string(),
    third_class: z.optional(z.string()),
    first_id: int,
    second_id: int,
    third_id: z.optional(int),
    title: z.optional(z.string().check(z.maxLength(32))),
  }),
);
export type AuditItem = z.infer<typeof auditItemSchema>;

export const submitAuditRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    item_list: z.optional(z.array(auditItemSchema).check(z.minLength(1), z.maxLength(5))),
    feedback_info: z.optional(z.string().check(z.maxLength(200))),
    feedback_stuff: z.optional(z.string().check(z.refine((s) => splitPipes(s).length <= 5, 'at most 5 |-joined media ids'))),
    version_desc: z.optional(z.string()),
    // An object, not a list (WxJava #1944).
    preview_info: z.optional(z.object({ video_id_list: z.optional(z.array(z.string())), pic_id_list: z.optional(z.array(z.string())) })),
    ugc_declare: z.optional(
      z.object({
        scene: z.optional(z.array(int.check(z.gte(0), z.lte(5)))),
        method: z.optional(z.array(int.check(z.gte(1), z.lte(4)))),
        other_scene_desc: z.optional(z.string()),
        has_audit_team: z.optional(z.union([z.literal(0), z.literal(1)])),
        audit_desc: z.optional(z.string()),
      }),
    ),
    privacy_api_not_use: z.optional(z.boolean()),
    order_path: z.optional(z.string()),
  }),
);
export type SubmitAuditRequest = z.infer<typeof submitAuditRequestSchema>;

export const privacyOwnerSettingSchema = /* @__PURE__ */ z.lazy(() =>
  z
    .object({
      contact_phone: z.optional(z.string()),
      contact_email: z.optional(z.string()),
      contact_qq: z.optional(z.string()),
      contact_weixin: z.optional(z.string()),
      ext_file_media_id: z.optional(z.string()),
      notice_method: z.string().check(z.minLength(1)),
      store_expire_timestamp: z.optional(z.string()),
    })
    .check(
      z.refine((o) => [o.contact_phone, o.contact_email, o.contact_qq, o.contact_weixin].some((c) => c !== undefined && c !== ''), {
        message: 'at least one contact (phone, email, qq or weixin) is required',
      }),
    ),
);

export const privacySettingItemSchema = /* @__PURE__ */ z.lazy(() => z.object({ privacy_key: nonEmpty, privacy_text: z.string() }));

export const setPrivacySettingRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    privacy_ver: z.optional(z.union([z.literal(1), z.literal(2)])),
    owner_setting: privacyOwnerSettingSchema,
    setting_list: z.array(privacySettingItemSchema),
    sdk_privacy_info_list: z.optional(z.array(z.unknown())),
  }),
);
export type SetPrivacySettingRequest = z.infer<typeof setPrivacySettingRequestSchema>;

/**
 * `/wxa/modify_domain` (doc 设置服务器域名): `get` reads the mini program's lists; `add`/`delete`/`set` change
 * them and need every list (empty when unchanged). Domains must first be registered on the platform (85017).
 */
const domainLists = () => ({
  requestdomain: z.array(z.string()),
  wsrequestdomain: z.array(z.string()),
  uploaddomain: z.array(z.string()),
  downloaddomain: z.array(z.string()),
  udpdomain: z.optional(z.array(z.string())),
  tcpdomain: z.optional(z.array(z.string())),
});
export const modifyDomainRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('get') }),
    z.object({ action: z.enum(['add', 'delete', 'set']), ...domainLists() }),
  ]),
);
export type ModifyDomainRequest = z.infer<typeof modifyDomainRequestSchema>;

/** `/wxa/setwebviewdomain` (业务域名): the platform's web-view domains only (89021). */
export const setWebviewDomainRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('get') }),
    z.object({ action: z.enum(['add', 'delete', 'set']), webviewdomain: z.array(z.string()) }),
  ]),
);
export type SetWebviewDomainRequest = z.infer<typeof setWebviewDomainRequestSchema>;

export const auditIdRequestSchema = /* @__PURE__ */ z.lazy(() => z.object({ auditid: int.check(z.positive()) }));

export const pluginRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('list') }),
    z.object({ action: z.literal('apply'), plugin_appid: nonEmpty, reason: z.optional(z.string()) }),
    z.object({ action: z.literal('unbind'), plugin_appid: nonEmpty }),
    z.object({ action: z.literal('update'), plugin_appid: nonEmpty, user_version: nonEmpty }),
  ]),
);
export type PluginRequest = z.infer<typeof pluginRequestSchema>;

export const bindTesterRequestSchema = /* @__PURE__ */ z.lazy(() => z.object({ wechatid: nonEmpty }));

// ---------------------------------------------------------------------------------------------------------
// Code management (/wxa), §4 — responses

export const categoryListResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    category_list: z._default(
      z.array(
        z.object({
          first_class: z.string(),
          second_class: z.string(),
          third_class: z.optional(z.string()),
          first_id: int,
          second_id: int,
          third_id: z.optional(int),
        }),
      ),
      [],
    ),
  }),
);
export type CategoryListResponse = z.infer<typeof categoryListResponseSchema>;

export const pageListResponseSchema = /* @__PURE__ */ z.lazy(() => z.object({ page_list: z.array(z.string()) }));
export type PageListResponse = z.infer<typeof pageListResponseSchema>;

export const privacySettingResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    code_exist: z.optional(int),
    privacy_list: z._default(z.array(z.string()), []),
    setting_list: z._default(
      z.array(z.object({ privacy_key: z.string(), privacy_text: z.string(), privacy_label: z.optional(z.string()) })),
      [],
    ),
    update_time: z.optional(int),
    owner_setting: z.optional(
      z.object({
        contact_phone: z.optional(z.string()),
        contact_email: z.optional(z.string()),
        contact_qq: z.optional(z.string()),
        contact_weixin: z.optional(z.string()),
        ext_file_media_id: z.optional(z.string()),
        notice_method: z.optional(z.string()),
        store_expire_timestamp: z.optional(z.string()),
      }),
    ),
    privacy_desc: z.optional(z.unknown()),
    sdk_privacy_info_list: z.optional(z.array(z.unknown())),
  }),
);
export type PrivacySettingResponse = z.infer<typeof privacySettingResponseSchema>;

export const codePrivacyInfoResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    without_auth_list: z._default(z.array(z.string()), []),
    without_conf_list: z._default(z.array(z.string()), []),
  }),
);
export type CodePrivacyInfoResponse = z.infer<typeof codePrivacyInfoResponseSchema>;

export const modifyDomainResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    requestdomain: z._default(z.array(z.string()), []),
    wsrequestdomain: z._default(z.array(z.string()), []),
    uploaddomain: z._default(z.array(z.string()), []),
    downloaddomain: z._default(z.array(z.string()), []),
    udpdomain: z._default(z.array(z.string()), []),
    tcpdomain: z._default(z.array(z.string()), []),
  }),
);
export type ModifyDomainResponse = z.infer<typeof modifyDomainResponseSchema>;

export const webviewDomainResponseSchema = /* @__PURE__ */ z.lazy(() => z.object({ webviewdomain: z._default(z.array(z.string()), []) }));
export type WebviewDomainResponse = z.infer<typeof webviewDomainResponseSchema>;

export const submitAuditResponseSchema = /* @__PURE__ */ z.lazy(() => z.object({ auditid: intLike }));
export type SubmitAuditResponse = z.infer<typeof submitAuditResponseSchema>;

/**
 * 0 approved · 1 rejected · 2 under review · 3 withdrawn · 4 delayed. Strict on purpose: the deployment state
 * machine branches on it, and a status it does not know must fail loudly instead of being read as another one.
 */
export const auditStatusSchema = /* @__PURE__ */ z.lazy(() =>
  z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
);
export type AuditStatus = z.infer<typeof auditStatusSchema>;

/** The doc table says `screenshot`, the examples `ScreenShot`; both become `screenshots: string[]`. */
const screenshotFields = { screenshot: z.optional(z.string()), ScreenShot: z.optional(z.string()) };
const withScreenshots = <T extends { screenshot?: string | undefined; ScreenShot?: string | undefined }>(
  value: T,
): Omit<T, 'screenshot' | 'ScreenShot'> & { screenshots: string[] } => {
  const { screenshot, ScreenShot, ...rest } = value;
  return { ...rest, screenshots: splitPipes(screenshot ?? ScreenShot) };
};

export const auditStatusResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.pipe(z.object({ status: auditStatusSchema, reason: z.optional(z.string()), ...screenshotFields }), z.transform(withScreenshots)),
);
export type AuditStatusResponse = z.infer<typeof auditStatusResponseSchema>;

export const latestAuditStatusResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.pipe(
    z.object({
      auditid: intLike,
      status: auditStatusSchema,
      reason: z.optional(z.string()),
      ...screenshotFields,
      user_version: z.optional(z.string()),
      user_desc: z.optional(z.string()),
      submit_audit_time: z.optional(int),
    }),
    z.transform(withScreenshots),
  ),
);
export type LatestAuditStatusResponse = z.infer<typeof latestAuditStatusResponseSchema>;

export const quotaResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    rest: int,
    limit: int,
    speedup_rest: int,
    speedup_limit: int,
  }),
);
export type QuotaResponse = z.infer<typeof quotaResponseSchema>;

export const historyVersionsResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    version_list: z._default(
      z.array(
        z.object({
          app_version: int,
          user_version: z.string(),
          user_desc: z.string(),
          commit_time: int,
        }),
      ),
      [],
    ),
  }),
);
export type HistoryVersionsResponse = z.infer<typeof historyVersionsResponseSchema>;

export const pluginListResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    plugin_list: z._default(
      z.array(
        z.object({
          appid: nonEmpty,
          // 1 applying · 2 approved · 3 rejected · 4 timed out
          status: int,
          nickname: z.optional(z.string()),
          headimgurl: z.optional(z.string()),
        }),
      ),
      [],
    ),
  }),
);
export type PluginListResponse = z.infer<typeof pluginListResponseSchema>;

export const bindTesterResponseSchema = /* @__PURE__ */ z.lazy(() => z.object({ userstr: z.optional(z.string()) }));
export type BindTesterResponse = z.infer<typeof bindTesterResponseSchema>;

export const versionInfoResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    exp_info: z.optional(z.object({ exp_time: z.optional(int), exp_version: z.string(), exp_desc: z.optional(z.string()) })),
    release_info: z.optional(
      z.object({ release_time: z.optional(int), release_version: z.string(), release_desc: z.optional(z.string()) }),
    ),
  }),
);
export type VersionInfoResponse = z.infer<typeof versionInfoResponseSchema>;

// ---------------------------------------------------------------------------------------------------------
// Authorization-event push fields (§2), after decryption and XML parsing

/**
 * `authorized` / `updateauthorized`. XML parsers hand numbers over as strings or numbers, so both are taken.
 * Whether `AuthorizationCodeExpiredTime` is an absolute unix time or a duration is unconfirmed (§2): values
 * above 10^9 are read as absolute, smaller ones as seconds after `CreateTime`; `authorizationCodeExpiresAt`
 * is always absolute (unix seconds).
 */
export const authorizationEventSchema = /* @__PURE__ */ z.lazy(() =>
  z.pipe(
    z.object({
      AppId: nonEmpty,
      CreateTime: z.coerce.number().check(z.int(), z.positive()),
      InfoType: z.enum(['authorized', 'updateauthorized']),
      AuthorizerAppid: nonEmpty,
      AuthorizationCode: nonEmpty,
      AuthorizationCodeExpiredTime: z.coerce.number().check(z.int(), z.nonnegative()),
      PreAuthCode: z.optional(z.string()),
    }),
    z.transform((event) => ({
      ...event,
      authorizationCodeExpiresAt:
        event.AuthorizationCodeExpiredTime > 1e9
          ? event.AuthorizationCodeExpiredTime
          : event.CreateTime + event.AuthorizationCodeExpiredTime,
    })),
  ),
);
export type AuthorizationEvent = z.infer<typeof authorizationEventSchema>;

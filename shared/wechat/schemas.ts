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
import { z } from 'zod';

const int = z.number().int();
const positiveInt = int.positive();
const nonEmpty = z.string().min(1);
/** Ids WeChat documents as numbers but some gateways/SDK mocks quote; both mean the same id. */
const intLike = z.union([
  int,
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);

/** Splits WeChat's `|`-joined media-id lists (`ScreenShot`, `screenshot`) into an array. */
const splitPipes = (value: string | undefined): string[] => (value ?? '').split('|').filter((s) => s.length > 0);

// ---------------------------------------------------------------------------------------------------------
// Generic

/** Answers that carry nothing but `{errcode: 0, errmsg: "ok"}`. */
export const okResponseSchema = z.lazy(() => z.object({ errmsg: z.string().optional() }));
export type OkResponse = z.infer<typeof okResponseSchema>;

// ---------------------------------------------------------------------------------------------------------
// Component (platform) APIs, §3

export const componentTokenResponseSchema = z.lazy(() =>
  z.object({
    component_access_token: nonEmpty,
    expires_in: positiveInt,
  }),
);
export type ComponentTokenResponse = z.infer<typeof componentTokenResponseSchema>;

export const preAuthCodeResponseSchema = z.lazy(() =>
  z.object({
    pre_auth_code: nonEmpty,
    expires_in: positiveInt,
  }),
);
export type PreAuthCodeResponse = z.infer<typeof preAuthCodeResponseSchema>;

export const funcInfoSchema = z.lazy(() =>
  z.object({
    funcscope_category: z.object({
      id: int,
      type: int.optional(),
      name: z.string().optional(),
      desc: z.string().optional(),
    }),
    confirm_info: z.object({ need_confirm: int.optional(), already_confirm: int.optional(), can_confirm: int.optional() }).optional(),
  }),
);
export type FuncInfo = z.infer<typeof funcInfoSchema>;

/** Older docs call the authorizer appid `appid`, newer ones `authorizer_appid`; the output always has the latter. */
const withAuthorizerAppId = <T extends { authorizer_appid?: string | undefined; appid?: string | undefined }>(
  value: T,
  ctx: z.RefinementCtx,
): Omit<T, 'appid' | 'authorizer_appid'> & { authorizer_appid: string } => {
  const { appid, authorizer_appid, ...rest } = value;
  const id = authorizer_appid ?? appid;
  if (id === undefined) {
    ctx.addIssue({ code: 'custom', message: 'authorizer_appid (or appid) is required', path: ['authorizer_appid'] });
    return z.NEVER;
  }
  return { ...rest, authorizer_appid: id };
};

const authorizerAppIdFields = {
  authorizer_appid: nonEmpty.optional(),
  appid: nonEmpty.optional(),
};

export const queryAuthResponseSchema = z.lazy(() =>
  z.object({
    authorization_info: z
      .object({
        ...authorizerAppIdFields,
        // Present only when the account granted API permissions (§3.5).
        authorizer_access_token: nonEmpty.optional(),
        expires_in: positiveInt.optional(),
        authorizer_refresh_token: nonEmpty.optional(),
        func_info: z.array(funcInfoSchema).default([]),
      })
      .transform(withAuthorizerAppId),
  }),
);
export type QueryAuthResponse = z.infer<typeof queryAuthResponseSchema>;

export const authorizerTokenResponseSchema = z.lazy(() =>
  z.object({
    authorizer_access_token: nonEmpty,
    expires_in: positiveInt,
    // Always returned and possibly rotated: the caller must persist it before using the access token (§3.6).
    authorizer_refresh_token: nonEmpty,
  }),
);
export type AuthorizerTokenResponse = z.infer<typeof authorizerTokenResponseSchema>;

const stringList = z.array(z.string());

export const authorizerInfoResponseSchema = z.lazy(() =>
  z.object({
    authorizer_info: z.object({
      nick_name: z.string().default(''),
      head_img: z.string().optional(),
      // The original id (gh_…) is how audit pushes (ToUserName) are matched to a mini program.
      user_name: nonEmpty,
      alias: z.string().optional(),
      qrcode_url: z.string().optional(),
      // The subject: the same-subject check depends on it, so it must be there.
      principal_name: z.string(),
      signature: z.string().optional(),
      service_type_info: z.object({ id: int }).optional(),
      verify_type_info: z.object({ id: int }).optional(),
      business_info: z.record(z.string(), z.number()).optional(),
      MiniProgramInfo: z
        .object({
          network: z
            .object({
              RequestDomain: stringList.optional(),
              WsRequestDomain: stringList.optional(),
              UploadDomain: stringList.optional(),
              DownloadDomain: stringList.optional(),
              UDPDomain: stringList.optional(),
              TCPDomain: stringList.optional(),
              BizDomain: stringList.optional(),
            })
            .optional(),
          categories: z.array(z.object({ first: z.string(), second: z.string() })).optional(),
          visit_status: int.optional(),
        })
        .optional(),
      register_type: int.optional(),
      account_status: int.optional(),
      basic_config: z.object({ is_phone_configured: z.boolean().optional(), is_email_configured: z.boolean().optional() }).optional(),
    }),
    authorization_info: z
      .object({
        ...authorizerAppIdFields,
        authorizer_refresh_token: z.string().optional(),
        func_info: z.array(funcInfoSchema).default([]),
      })
      .transform(withAuthorizerAppId),
  }),
);
export type AuthorizerInfoResponse = z.infer<typeof authorizerInfoResponseSchema>;

export const authorizerListResponseSchema = z.lazy(() =>
  z.object({
    total_count: int.nonnegative(),
    list: z
      .array(
        z.object({
          authorizer_appid: nonEmpty,
          refresh_token: nonEmpty,
          auth_time: int.optional(),
        }),
      )
      .default([]),
  }),
);
export type AuthorizerListResponse = z.infer<typeof authorizerListResponseSchema>;

export const templateSchema = z.lazy(() =>
  z.object({
    template_id: intLike,
    user_version: z.string(),
    user_desc: z.string(),
    create_time: int.optional(),
    draft_id: intLike.optional(),
    source_miniprogram_appid: z.string().optional(),
    source_miniprogram: z.string().optional(),
    developer: z.string().optional(),
    template_type: int.optional(),
    category_list: z.array(z.unknown()).optional(),
    audit_scene: int.optional(),
    audit_status: int.optional(),
    reason: z.string().optional(),
  }),
);
export type Template = z.infer<typeof templateSchema>;

export const templateListResponseSchema = z.lazy(() =>
  z.object({
    template_list: z.array(templateSchema).default([]),
  }),
);
export type TemplateListResponse = z.infer<typeof templateListResponseSchema>;

// ---------------------------------------------------------------------------------------------------------
// Code management (/wxa), §4 — requests

/** ext_json travels as a JSON *string* holding an object (an object here → 47001, see peers §2.8). */
const extJsonString = z.string().refine(
  (text) => {
    try {
      const parsed: unknown = JSON.parse(text);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    } catch {
      return false;
    }
  },
  { message: 'ext_json must be a JSON object serialised as a string' },
);

export const commitRequestSchema = z.lazy(() =>
  z.object({
    template_id: int.nonnegative(),
    ext_json: extJsonString,
    user_version: z.string().min(1).max(64),
    user_desc: z.string(),
  }),
);
export type CommitRequest = z.infer<typeof commitRequestSchema>;

export const auditItemSchema = z.lazy(() =>
  z.object({
    address: z.string().optional(),
    tag: z
      .string()
      .refine((tags) => {
        const list = tags.split(' ').filter((t) => t.length > 0);
        return list.length <= 10 && list.every((t) => t.length <= 20);
      }, 'at most 10 space-separated tags of at most 20 characters')
      .optional(),
    first_class: z.string(),
    second_class: z.string(),
    third_class: z.string().optional(),
    first_id: int,
    second_id: int,
    third_id: int.optional(),
    title: z.string().max(32).optional(),
  }),
);
export type AuditItem = z.infer<typeof auditItemSchema>;

export const submitAuditRequestSchema = z.lazy(() =>
  z.object({
    item_list: z.array(auditItemSchema).min(1).max(5).optional(),
    feedback_info: z.string().max(200).optional(),
    feedback_stuff: z
      .string()
      .refine((s) => splitPipes(s).length <= 5, 'at most 5 |-joined media ids')
      .optional(),
    version_desc: z.string().optional(),
    // An object, not a list (WxJava #1944).
    preview_info: z.object({ video_id_list: z.array(z.string()).optional(), pic_id_list: z.array(z.string()).optional() }).optional(),
    ugc_declare: z
      .object({
        scene: z.array(int.min(0).max(5)).optional(),
        method: z.array(int.min(1).max(4)).optional(),
        other_scene_desc: z.string().optional(),
        has_audit_team: z.union([z.literal(0), z.literal(1)]).optional(),
        audit_desc: z.string().optional(),
      })
      .optional(),
    privacy_api_not_use: z.boolean().optional(),
    order_path: z.string().optional(),
  }),
);
export type SubmitAuditRequest = z.infer<typeof submitAuditRequestSchema>;

export const privacyOwnerSettingSchema = z.lazy(() =>
  z
    .object({
      contact_phone: z.string().optional(),
      contact_email: z.string().optional(),
      contact_qq: z.string().optional(),
      contact_weixin: z.string().optional(),
      ext_file_media_id: z.string().optional(),
      notice_method: z.string().min(1),
      store_expire_timestamp: z.string().optional(),
    })
    .refine((o) => [o.contact_phone, o.contact_email, o.contact_qq, o.contact_weixin].some((c) => c !== undefined && c !== ''), {
      message: 'at least one contact (phone, email, qq or weixin) is required',
    }),
);

export const privacySettingItemSchema = z.lazy(() => z.object({ privacy_key: nonEmpty, privacy_text: z.string() }));

export const setPrivacySettingRequestSchema = z.lazy(() =>
  z.object({
    privacy_ver: z.union([z.literal(1), z.literal(2)]).optional(),
    owner_setting: privacyOwnerSettingSchema,
    setting_list: z.array(privacySettingItemSchema),
    sdk_privacy_info_list: z.array(z.unknown()).optional(),
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
  udpdomain: z.array(z.string()).optional(),
  tcpdomain: z.array(z.string()).optional(),
});
export const modifyDomainRequestSchema = z.lazy(() =>
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('get') }),
    z.object({ action: z.enum(['add', 'delete', 'set']), ...domainLists() }),
  ]),
);
export type ModifyDomainRequest = z.infer<typeof modifyDomainRequestSchema>;

/** `/wxa/setwebviewdomain` (业务域名): the platform's web-view domains only (89021). */
export const setWebviewDomainRequestSchema = z.lazy(() =>
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('get') }),
    z.object({ action: z.enum(['add', 'delete', 'set']), webviewdomain: z.array(z.string()) }),
  ]),
);
export type SetWebviewDomainRequest = z.infer<typeof setWebviewDomainRequestSchema>;

export const auditIdRequestSchema = z.lazy(() => z.object({ auditid: int.positive() }));

export const pluginRequestSchema = z.lazy(() =>
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('list') }),
    z.object({ action: z.literal('apply'), plugin_appid: nonEmpty, reason: z.string().optional() }),
    z.object({ action: z.literal('unbind'), plugin_appid: nonEmpty }),
    z.object({ action: z.literal('update'), plugin_appid: nonEmpty, user_version: nonEmpty }),
  ]),
);
export type PluginRequest = z.infer<typeof pluginRequestSchema>;

export const bindTesterRequestSchema = z.lazy(() => z.object({ wechatid: nonEmpty }));

// ---------------------------------------------------------------------------------------------------------
// Code management (/wxa), §4 — responses

export const categoryListResponseSchema = z.lazy(() =>
  z.object({
    category_list: z
      .array(
        z.object({
          first_class: z.string(),
          second_class: z.string(),
          third_class: z.string().optional(),
          first_id: int,
          second_id: int,
          third_id: int.optional(),
        }),
      )
      .default([]),
  }),
);
export type CategoryListResponse = z.infer<typeof categoryListResponseSchema>;

export const pageListResponseSchema = z.lazy(() => z.object({ page_list: z.array(z.string()) }));
export type PageListResponse = z.infer<typeof pageListResponseSchema>;

export const privacySettingResponseSchema = z.lazy(() =>
  z.object({
    code_exist: int.optional(),
    privacy_list: z.array(z.string()).default([]),
    setting_list: z
      .array(z.object({ privacy_key: z.string(), privacy_text: z.string(), privacy_label: z.string().optional() }))
      .default([]),
    update_time: int.optional(),
    owner_setting: z
      .object({
        contact_phone: z.string().optional(),
        contact_email: z.string().optional(),
        contact_qq: z.string().optional(),
        contact_weixin: z.string().optional(),
        ext_file_media_id: z.string().optional(),
        notice_method: z.string().optional(),
        store_expire_timestamp: z.string().optional(),
      })
      .optional(),
    privacy_desc: z.unknown().optional(),
    sdk_privacy_info_list: z.array(z.unknown()).optional(),
  }),
);
export type PrivacySettingResponse = z.infer<typeof privacySettingResponseSchema>;

export const codePrivacyInfoResponseSchema = z.lazy(() =>
  z.object({
    without_auth_list: z.array(z.string()).default([]),
    without_conf_list: z.array(z.string()).default([]),
  }),
);
export type CodePrivacyInfoResponse = z.infer<typeof codePrivacyInfoResponseSchema>;

export const modifyDomainResponseSchema = z.lazy(() =>
  z.object({
    requestdomain: z.array(z.string()).default([]),
    wsrequestdomain: z.array(z.string()).default([]),
    uploaddomain: z.array(z.string()).default([]),
    downloaddomain: z.array(z.string()).default([]),
    udpdomain: z.array(z.string()).default([]),
    tcpdomain: z.array(z.string()).default([]),
  }),
);
export type ModifyDomainResponse = z.infer<typeof modifyDomainResponseSchema>;

export const webviewDomainResponseSchema = z.lazy(() => z.object({ webviewdomain: z.array(z.string()).default([]) }));
export type WebviewDomainResponse = z.infer<typeof webviewDomainResponseSchema>;

export const submitAuditResponseSchema = z.lazy(() => z.object({ auditid: intLike }));
export type SubmitAuditResponse = z.infer<typeof submitAuditResponseSchema>;

/**
 * 0 approved · 1 rejected · 2 under review · 3 withdrawn · 4 delayed. Strict on purpose: the deployment state
 * machine branches on it, and a status it does not know must fail loudly instead of being read as another one.
 */
export const auditStatusSchema = z.lazy(() => z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]));
export type AuditStatus = z.infer<typeof auditStatusSchema>;

/** The doc table says `screenshot`, the examples `ScreenShot`; both become `screenshots: string[]`. */
const screenshotFields = { screenshot: z.string().optional(), ScreenShot: z.string().optional() };
const withScreenshots = <T extends { screenshot?: string | undefined; ScreenShot?: string | undefined }>(
  value: T,
): Omit<T, 'screenshot' | 'ScreenShot'> & { screenshots: string[] } => {
  const { screenshot, ScreenShot, ...rest } = value;
  return { ...rest, screenshots: splitPipes(screenshot ?? ScreenShot) };
};

export const auditStatusResponseSchema = z.lazy(() =>
  z.object({ status: auditStatusSchema, reason: z.string().optional(), ...screenshotFields }).transform(withScreenshots),
);
export type AuditStatusResponse = z.infer<typeof auditStatusResponseSchema>;

export const latestAuditStatusResponseSchema = z.lazy(() =>
  z
    .object({
      auditid: intLike,
      status: auditStatusSchema,
      reason: z.string().optional(),
      ...screenshotFields,
      user_version: z.string().optional(),
      user_desc: z.string().optional(),
      submit_audit_time: int.optional(),
    })
    .transform(withScreenshots),
);
export type LatestAuditStatusResponse = z.infer<typeof latestAuditStatusResponseSchema>;

export const quotaResponseSchema = z.lazy(() =>
  z.object({
    rest: int,
    limit: int,
    speedup_rest: int,
    speedup_limit: int,
  }),
);
export type QuotaResponse = z.infer<typeof quotaResponseSchema>;

export const historyVersionsResponseSchema = z.lazy(() =>
  z.object({
    version_list: z
      .array(
        z.object({
          app_version: int,
          user_version: z.string(),
          user_desc: z.string(),
          commit_time: int,
        }),
      )
      .default([]),
  }),
);
export type HistoryVersionsResponse = z.infer<typeof historyVersionsResponseSchema>;

export const pluginListResponseSchema = z.lazy(() =>
  z.object({
    plugin_list: z
      .array(
        z.object({
          appid: nonEmpty,
          // 1 applying · 2 approved · 3 rejected · 4 timed out
          status: int,
          nickname: z.string().optional(),
          headimgurl: z.string().optional(),
        }),
      )
      .default([]),
  }),
);
export type PluginListResponse = z.infer<typeof pluginListResponseSchema>;

export const bindTesterResponseSchema = z.lazy(() => z.object({ userstr: z.string().optional() }));
export type BindTesterResponse = z.infer<typeof bindTesterResponseSchema>;

export const versionInfoResponseSchema = z.lazy(() =>
  z.object({
    exp_info: z.object({ exp_time: int.optional(), exp_version: z.string(), exp_desc: z.string().optional() }).optional(),
    release_info: z.object({ release_time: int.optional(), release_version: z.string(), release_desc: z.string().optional() }).optional(),
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
export const authorizationEventSchema = z.lazy(() =>
  z
    .object({
      AppId: nonEmpty,
      CreateTime: z.coerce.number().int().positive(),
      InfoType: z.enum(['authorized', 'updateauthorized']),
      AuthorizerAppid: nonEmpty,
      AuthorizationCode: nonEmpty,
      AuthorizationCodeExpiredTime: z.coerce.number().int().nonnegative(),
      PreAuthCode: z.string().optional(),
    })
    .transform((event) => ({
      ...event,
      authorizationCodeExpiresAt:
        event.AuthorizationCodeExpiredTime > 1e9
          ? event.AuthorizationCodeExpiredTime
          : event.CreateTime + event.AuthorizationCodeExpiredTime,
    })),
);
export type AuthorizationEvent = z.infer<typeof authorizationEventSchema>;

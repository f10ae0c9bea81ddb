/**
 * zod schemas of the WeChat answers a go-live readiness check reads (reference wechat-go-live.md), in the manner of
 * `schemas.ts`: successful answers only, unknown keys stripped, lazy. Sources: doc api_geticpentranceinfo, doc
 * api_getaccountbasicinfo, doc getPrivacyInterface (WxJava and wechat3rd beans), modify_wxa_server_domain (peers
 * wxcloudrun-wxcomponent ServerDomainRes, SKIT CgibinComponentModifyWxaServerDomainResponse), doc api_getorderpathinfo.
 */
import * as z from '../domain/zod';

const int = z.number().check(z.int());
/** `;`-joined hosts → list; WeChat sends "" for none. */
const hostList = z.pipe(
  z.optional(z.string()),
  z.transform((value) => (value === undefined ? undefined : value.split(';').filter((h) => h !== ''))),
);

export const icpEntranceInfoResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    info: z.object({
      /** 2/4 under review, 3/5 rejected, 6 filed, 1024 unfiled, 1025–1031 unfiled with something missing. */
      status: int,
      is_canceling: z.optional(z.boolean()),
      /** 0: the filing entrance is closed for this mini program. */
      available: z.optional(int),
      audit_data: z._default(z.array(z.object({ key_name: z.string(), error: z.string(), suggest: z._default(z.string(), '') })), []),
    }),
  }),
);
export type IcpEntranceInfoResponse = z.infer<typeof icpEntranceInfoResponseSchema>;

export const accountBasicInfoResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    nickname: z.optional(z.string()),
    principal_type: z.optional(int),
    wx_verify_info: z.optional(z.object({ qualification_verify: z.optional(z.boolean()), naming_verify: z.optional(z.boolean()) })),
    signature_info: z.optional(z.object({ signature: z._default(z.string(), '') })),
    head_image_info: z.optional(z.object({ head_image_url: z._default(z.string(), '') })),
    /** 0 when WeChat verification is not done (doc). */
    customer_type: z.optional(int),
  }),
);
export type AccountBasicInfoResponse = z.infer<typeof accountBasicInfoResponseSchema>;

export const privacyInterfaceResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    interface_list: z._default(
      z.array(
        z.object({
          api_name: z.string(),
          api_ch_name: z.optional(z.string()),
          /** 1 待申请开通, 2 无权限, 3 申请中, 4 申请失败, 5 已开通; absent before any application. */
          status: z.optional(int),
          fail_reason: z.optional(z.string()),
        }),
      ),
      [],
    ),
  }),
);
export type PrivacyInterfaceResponse = z.infer<typeof privacyInterfaceResponseSchema>;

export const platformServerDomainResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    published_wxa_server_domain: hostList,
    testing_wxa_server_domain: hostList,
    invalid_wxa_server_domain: hostList,
  }),
);
export type PlatformServerDomainResponse = z.infer<typeof platformServerDomainResponseSchema>;

/** getorderpathinfo's `msg` (doc api_getorderpathinfo): the path and its status — 2 审核中, 3 审核失败, 4 审核通过. */
export const orderPathInfoResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    msg: z.object({ path: z._default(z.string(), ''), status: z.optional(int), apply_time: z.optional(int) }),
  }),
);
export type OrderPathInfoResponse = z.infer<typeof orderPathInfoResponseSchema>;

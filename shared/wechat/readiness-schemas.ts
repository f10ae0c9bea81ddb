/**
 * zod schemas of the WeChat answers a go-live readiness check reads (reference wechat-go-live.md), in the manner of
 * `schemas.ts`: successful answers only, unknown keys stripped, lazy. Sources: doc api_geticpentranceinfo, doc
 * api_getaccountbasicinfo, doc getPrivacyInterface (WxJava and wechat3rd beans), modify_wxa_server_domain (peers
 * wxcloudrun-wxcomponent ServerDomainRes, SKIT CgibinComponentModifyWxaServerDomainResponse), doc api_getorderpathinfo.
 */
import { z } from 'zod';

const int = z.number().int();
/** `;`-joined hosts → list; WeChat sends "" for none. */
const hostList = z
  .string()
  .optional()
  .transform((value) => (value === undefined ? undefined : value.split(';').filter((h) => h !== '')));

export const icpEntranceInfoResponseSchema = z.lazy(() =>
  z.object({
    info: z.object({
      /** 2/4 under review, 3/5 rejected, 6 filed, 1024 unfiled, 1025–1031 unfiled with something missing. */
      status: int,
      is_canceling: z.boolean().optional(),
      /** 0: the filing entrance is closed for this mini program. */
      available: int.optional(),
      audit_data: z.array(z.object({ key_name: z.string(), error: z.string(), suggest: z.string().default('') })).default([]),
    }),
  }),
);
export type IcpEntranceInfoResponse = z.infer<typeof icpEntranceInfoResponseSchema>;

export const accountBasicInfoResponseSchema = z.lazy(() =>
  z.object({
    nickname: z.string().optional(),
    principal_type: int.optional(),
    wx_verify_info: z.object({ qualification_verify: z.boolean().optional(), naming_verify: z.boolean().optional() }).optional(),
    signature_info: z.object({ signature: z.string().default('') }).optional(),
    head_image_info: z.object({ head_image_url: z.string().default('') }).optional(),
    /** 0 when WeChat verification is not done (doc). */
    customer_type: int.optional(),
  }),
);
export type AccountBasicInfoResponse = z.infer<typeof accountBasicInfoResponseSchema>;

export const privacyInterfaceResponseSchema = z.lazy(() =>
  z.object({
    interface_list: z
      .array(
        z.object({
          api_name: z.string(),
          api_ch_name: z.string().optional(),
          /** 1 待申请开通, 2 无权限, 3 申请中, 4 申请失败, 5 已开通; absent before any application. */
          status: int.optional(),
          fail_reason: z.string().optional(),
        }),
      )
      .default([]),
  }),
);
export type PrivacyInterfaceResponse = z.infer<typeof privacyInterfaceResponseSchema>;

export const platformServerDomainResponseSchema = z.lazy(() =>
  z.object({
    published_wxa_server_domain: hostList,
    testing_wxa_server_domain: hostList,
    invalid_wxa_server_domain: hostList,
  }),
);
export type PlatformServerDomainResponse = z.infer<typeof platformServerDomainResponseSchema>;

/** getorderpathinfo's `msg` (doc api_getorderpathinfo): the path and its status — 2 审核中, 3 审核失败, 4 审核通过. */
export const orderPathInfoResponseSchema = z.lazy(() =>
  z.object({
    msg: z.object({ path: z.string().default(''), status: int.optional(), apply_time: int.optional() }),
  }),
);
export type OrderPathInfoResponse = z.infer<typeof orderPathInfoResponseSchema>;

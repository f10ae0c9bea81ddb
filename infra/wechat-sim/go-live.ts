/**
 * What WeChat holds about a mini program besides its code, that decides whether a version can go live (reference
 * wechat-go-live.md): ICP filing, WeChat verification, the privacy interfaces WeChat granted, a ban on submitting,
 * UGC declaration on first submit; and the platform-wide penalties. Pure data and rules: `SimState` keeps the
 * records and calls these; the control API (`setGoLive`, `setPlatformPenalty`) puts a mini program in each state.
 *
 * Sources (cited per rule below): doc api_geticpentranceinfo (statuses 2–6, 1024–1031, `available`, `audit_data`),
 * doc api_getaccountbasicinfo (set 30; `wx_verify_info`, `signature_info`, `head_image_info`), doc
 * getPrivacyInterface (status 1 待申请开通 · 2 无权限 · 3 申请中 · 4 申请失败 · 5 已开通; WxJava and wechat3rd beans
 * agree), WxJava WxOpenErrorMsgEnum (85094 需提供审核机制说明信息, 86007 小程序禁止提交, 86008 服务商被处罚，限制全部代码提审能力,
 * 86009 服务商新增小程序代码提审能力被限制, 86010 服务商迭代小程序代码提审能力被限制).
 */
import * as z from '../../shared/domain/zod';

/** doc api_geticpentranceinfo, 备案状态枚举. */
export const ICP_STATUSES = [2, 3, 4, 5, 6, 1024, 1025, 1026, 1027, 1028, 1029, 1030, 1031] as const;
export type IcpStatus = (typeof ICP_STATUSES)[number];
export const ICP_FILED: IcpStatus = 6;

/** The platform-wide penalties of submit_audit (WxOpenErrorMsgEnum): all audits, new mini programs, iterations. */
export const PLATFORM_PENALTIES = [86008, 86009, 86010] as const;
export type PlatformPenalty = (typeof PLATFORM_PENALTIES)[number];

/** getPrivacyInterface status: 1 待申请开通, 2 无权限, 3 申请中, 4 申请失败, 5 已开通. */
export type PrivacyInterfaceStatus = 1 | 2 | 3 | 4 | 5;
export const PRIVACY_INTERFACE_GRANTED: PrivacyInterfaceStatus = 5;

/**
 * The privacy interfaces get_privacy_interface lists: the geolocation APIs that need applying for (doc "地理位置接口新增与
 * 相关流程调整", the list the submitAudit notes refer to for 61040), with WeChat's names.
 */
export const PRIVACY_INTERFACE_NAMES: Readonly<Record<string, string>> = {
  'wx.getLocation': '获取当前的地理位置、速度',
  'wx.getFuzzyLocation': '获取模糊地理位置',
  'wx.chooseLocation': '打开地图选择位置',
  'wx.choosePoi': '打开POI列表选择位置',
  'wx.chooseAddress': '获取用户收货地址',
  'wx.onLocationChange': '监听实时地理位置变化事件',
  'wx.startLocationUpdate': '开启小程序进入前台时接收位置消息',
  'wx.startLocationUpdateBackground': '开启小程序进入前后台时均接收位置消息',
};

const auditDataSchema = z.strictObject({ key_name: z.string(), error: z.string(), suggest: z.string() });

/** The control API's view of a mini program's go-live state; every field optional (a patch). */
export const goLiveStateSchema = z.strictObject({
  icpStatus: z.optional(
    z.number().check(
      z.int(),
      z.refine((s) => (ICP_STATUSES as readonly number[]).includes(s), 'an ICP status of api_geticpentranceinfo (2–6, 1024–1031)'),
    ),
  ),
  /** 0: the filing entrance is closed for this mini program (a keyword in its name, the authority's system down). */
  icpAvailable: z.optional(z.union([z.literal(0), z.literal(1)])),
  icpAuditData: z.optional(z.array(auditDataSchema)),
  /** WeChat verification (微信认证): qualification_verify of getaccountbasicinfo. */
  verified: z.optional(z.boolean()),
  /** 86007 小程序禁止提交: this mini program may not submit at all. */
  barred: z.optional(z.boolean()),
  /** Category ids (second_id) whose first submission needs a UGC declaration (85094), besides the doc's social ones. */
  ugcCategoryIds: z.optional(z.array(z.number().check(z.int()))),
  /** get_privacy_interface statuses by API name (`wx.getLocation`); others follow `ungrantedPrivacyApis`. */
  privacyInterfaces: z.optional(z.record(z.string(), z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]))),
  /**
   * The order-centre path applied for (applysetorderpathinfo) and its status — 2 审核中, 3 审核失败, 4 审核通过
   * (doc api_getorderpathinfo); approved, it is the path in effect. null: none applied for (61041).
   */
  orderPath: z.optional(
    z.nullable(z.strictObject({ path: z.string().check(z.minLength(1)), status: z.union([z.literal(2), z.literal(3), z.literal(4)]) })),
  ),
});
export type GoLiveStatePatch = z.infer<typeof goLiveStateSchema>;

export const platformPenaltySchema = z.strictObject({
  errcode: z.union([z.literal(86008), z.literal(86009), z.literal(86010), z.null()]),
});

export interface GoLiveRecord {
  icpStatus: IcpStatus;
  icpAvailable: 0 | 1;
  icpAuditData: { key_name: string; error: string; suggest: string }[];
  verified: boolean;
  barred: boolean;
  ugcCategoryIds: number[];
  privacyInterfaces: Record<string, PrivacyInterfaceStatus>;
  /** The latest application (info_type 1) and the path in effect (info_type 0, the last approved one). */
  orderPath: { applied: { path: string; status: 2 | 3 | 4; applyTime: number } | null; online: string | null };
}

/**
 * A mini program that went live before: filed, verified (what every existing test and the demo assume). A new
 * user's mini program is put in the states of the issue with the control API.
 */
export const defaultGoLive = (): GoLiveRecord => ({
  icpStatus: ICP_FILED,
  icpAvailable: 1,
  icpAuditData: [],
  verified: true,
  barred: false,
  ugcCategoryIds: [],
  privacyInterfaces: {},
  orderPath: { applied: null, online: null },
});

export function patchGoLive(record: GoLiveRecord, patch: GoLiveStatePatch, now = 0): void {
  if (patch.icpStatus !== undefined) record.icpStatus = patch.icpStatus as IcpStatus;
  if (patch.icpAvailable !== undefined) record.icpAvailable = patch.icpAvailable;
  if (patch.icpAuditData !== undefined) record.icpAuditData = patch.icpAuditData.map((d) => ({ ...d }));
  if (patch.verified !== undefined) record.verified = patch.verified;
  if (patch.barred !== undefined) record.barred = patch.barred;
  if (patch.ugcCategoryIds !== undefined) record.ugcCategoryIds = [...patch.ugcCategoryIds];
  if (patch.privacyInterfaces !== undefined) record.privacyInterfaces = { ...record.privacyInterfaces, ...patch.privacyInterfaces };
  if (patch.orderPath === null) record.orderPath = { applied: null, online: null };
  else if (patch.orderPath !== undefined) {
    const { path, status } = patch.orderPath;
    record.orderPath = {
      applied: { path, status, applyTime: Math.floor(now / 1000) },
      online: status === 4 ? path : record.orderPath.online,
    };
  }
}

/**
 * getorderpathinfo (doc api_getorderpathinfo: POST, set 18, `info_type` 0 线上版 / 1 审核版): `msg` with the path and
 * its status (2 审核中, 3 审核失败, 4 审核通过); the test account fields only for the version applied for. 61041 "The
 * appuin has not set orderpath" when there is none (community thread 0000604e5e4e10b6c8fed76ad5b000).
 */
export function orderPathInfo(record: GoLiveRecord, infoType: 0 | 1): Record<string, unknown> | null {
  const { applied, online } = record.orderPath;
  if (infoType === 0) return online === null ? null : { msg: { path: online, status: 4, apply_time: applied?.applyTime ?? 0 } };
  if (applied === null) return null;
  const fields = { img_list: [], video: '', test_account: '', test_pwd: '', test_remark: '' };
  return { msg: { path: applied.path, ...fields, status: applied.status, apply_time: applied.applyTime } };
}

/** get_icp_entrance_info's `info` (doc api_geticpentranceinfo): audit_data only when the filing was rejected (3, 5). */
export function icpEntranceInfo(record: GoLiveRecord): Record<string, unknown> {
  const rejected = record.icpStatus === 3 || record.icpStatus === 5;
  return {
    info: {
      status: record.icpStatus,
      is_canceling: false,
      available: record.icpAvailable,
      ...(rejected ? { audit_data: record.icpAuditData.map((d) => ({ ...d })) } : {}),
    },
  };
}

/** getaccountbasicinfo (doc api_getaccountbasicinfo); a mini program whose profile is incomplete has empty fields. */
export function accountBasicInfo(
  record: GoLiveRecord,
  mp: { appId: string; nickName: string; principalName: string; profileComplete: boolean },
): Record<string, unknown> {
  return {
    appid: mp.appId,
    account_type: 3,
    principal_type: 1,
    principal_name: mp.principalName,
    realname_status: 1,
    nickname: mp.profileComplete ? mp.nickName : '',
    wx_verify_info: { qualification_verify: record.verified, naming_verify: record.verified },
    signature_info: { signature: mp.profileComplete ? `${mp.nickName}的小程序` : '', modify_used_count: 0, modify_quota: 5 },
    head_image_info: {
      head_image_url: mp.profileComplete ? `https://wx.qlogo.cn/mmhead/${mp.appId}/0` : '',
      modify_used_count: 0,
      modify_quota: 5,
    },
    // doc: 如果未完成微信认证则返回0.
    customer_type: record.verified ? 1 : 0,
  };
}

/** get_privacy_interface: every interface, with the status WeChat holds (5 unless not granted). */
export function privacyInterfaceList(record: GoLiveRecord, ungrantedApis: readonly string[]): Record<string, unknown> {
  return {
    interface_list: Object.entries(PRIVACY_INTERFACE_NAMES).map(([api, name]) => {
      const fallback: PrivacyInterfaceStatus = ungrantedApis.includes(api.replace(/^wx\./, '')) ? 1 : PRIVACY_INTERFACE_GRANTED;
      const status = record.privacyInterfaces[api] ?? fallback;
      return {
        api_name: api,
        api_ch_name: name,
        api_desc: name,
        status,
        ...(status === 4 ? { fail_reason: '申请理由与小程序服务不符' } : {}),
        api_link: `https://developers.weixin.qq.com/miniprogram/dev/api/location/${api}.html`,
        group_name: '地理位置',
      };
    }),
  };
}

/**
 * The categories whose first submission needs `ugc_declare`: doc submit_audit (Third-party_Platforms/2.0/api/code/
 * submit_audit.html), "当小程序第一次提交审核且类目包含社交-社区/论坛、社交-笔记、社交-问答其中之一时需填写 ugc_declare";
 * the refusal is 85094 "need add ugc declare" (the same doc's error table).
 */
const UGC_SOCIAL_SECOND_CLASSES: ReadonlySet<string> = new Set(['社区/论坛', '笔记', '问答']);

/**
 * The refusal of submit_audit this state causes, if any, in the order the checks are made here: a barred mini
 * program (86007), then the platform's penalty — 86008 all audits, 86009 only mini programs never released ("新增"),
 * 86010 only those with a live version ("迭代") — then a UGC declaration missing on the first submission of a
 * category that needs one (85094; go-live reference item 10).
 */
export function submitRefusal(input: {
  record: GoLiveRecord;
  platformPenalty: number | null;
  everReleased: boolean;
  everSubmitted: boolean;
  categories: readonly { first_class: string; second_class: string; second_id: number }[];
  ugcDeclared: boolean;
}): number | null {
  if (input.record.barred) return 86007;
  if (input.platformPenalty === 86008) return 86008;
  if (input.platformPenalty === 86009 && !input.everReleased) return 86009;
  if (input.platformPenalty === 86010 && input.everReleased) return 86010;
  const needsUgc = input.categories.some(
    (c) => (c.first_class === '社交' && UGC_SOCIAL_SECOND_CLASSES.has(c.second_class)) || input.record.ugcCategoryIds.includes(c.second_id),
  );
  if (needsUgc && !input.everSubmitted && !input.ugcDeclared) return 85094;
  return null;
}

/**
 * Whether release is refused for the ICP filing: a mini program never released must be filed first (since
 * 2023-09-01; reference wechat-go-live.md item 1). The errcode WeChat answers is not documented: community reports
 * 85020 with the audit approved — UNCONFIRMED; the simulator answers that, and our backend checks the status API
 * before releasing rather than rely on it.
 */
export const releaseBlockedByIcp = (record: GoLiveRecord, everReleased: boolean): boolean =>
  !everReleased && record.icpStatus !== ICP_FILED;

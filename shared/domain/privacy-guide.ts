/**
 * The user privacy guide (用户隐私保护指引) of a mini program the platform develops. Only the platform can set it,
 * by API (`setprivacysetting`), after each commit and before submitting: WeChat's audit checks that the guide
 * declares every kind of user information the code collects, and rejects the version otherwise (doc 配置小程序用户
 * 隐私保护指引, product/privacy_setting: "规则说明" 2). An authorization clears an earlier guide (reference
 * wechat-go-live.md, staff answer), so the pipeline sets it again right before each submit.
 *
 * What a guide declares is a list of privacy keys (what is collected) with a purpose each (why), plus who collects
 * it (a contact), how users are told of changes and how long the data is kept. The keys come from three places:
 * what WeChat's scan of the committed code detected (`getprivacysetting` privacy_list, which the staff answer calls
 * "must be filled"), what the code declares in `requiredPrivateInfos`, and what the app's owner adds.
 *
 * The schemas are `z.lazy`: built on their first parse rather than at every cold start's import.
 */

import type { AppKind } from './app-kind';
import * as z from './zod';

/**
 * The privacy keys WeChat knows, with WeChat's label for each: WxJava weixin-java-open
 * `bean/ma/privacy/PrivacyKeyEnum.java`, plus `ChooseLocation` (选择的位置信息), which `getprivacysetting`'s
 * privacy_desc lists too (community thread 00006859ffcd70e1a302d354465c00, a real answer quoted in full).
 */
export const PRIVACY_KEY_LABELS = {
  UserInfo: '用户信息（微信昵称、头像）',
  Location: '位置信息',
  ChooseLocation: '选择的位置信息',
  Address: '地址',
  Invoice: '发票信息',
  RunData: '微信运动数据',
  Record: '麦克风',
  Album: '选中的照片或视频信息',
  Camera: '摄像头',
  PhoneNumber: '手机号码',
  Contact: '通讯录（仅写入）权限',
  DeviceInfo: '设备信息',
  EXIDNumber: '身份证号码',
  EXOrderInfo: '订单信息',
  EXUserPublishContent: '发布内容',
  EXUserFollowAcct: '所关注账号',
  EXUserOpLog: '操作日志',
  AlbumWriteOnly: '相册（仅写入）权限',
  LicensePlate: '车牌号',
  BlueTooth: '蓝牙',
  CalendarWriteOnly: '日历（仅写入）权限',
  Email: '邮箱',
  MessageFile: '选中的文件',
} as const;
export type PrivacyKey = keyof typeof PRIVACY_KEY_LABELS;
export const PRIVACY_KEYS = Object.keys(PRIVACY_KEY_LABELS) as PrivacyKey[];
export const isPrivacyKey = (key: string): key is PrivacyKey => Object.hasOwn(PRIVACY_KEY_LABELS, key);

/**
 * Which key an API or component of the code makes the guide declare: the table "隐私接口与对应的处理的信息关系" of the
 * doc 小程序用户隐私保护指引内容介绍 (miniprogram/dev/framework/user-privacy/miniprogram-intro). Names are as
 * `get_code_privacy_info` spells them (`wx.getLocation`; doc api_getcodeprivacyinfo); components by their open-type.
 */
export const PRIVACY_KEY_OF_API: Readonly<Record<string, PrivacyKey>> = {
  'wx.getUserInfo': 'UserInfo',
  'wx.getUserProfile': 'UserInfo',
  'button.chooseAvatar': 'UserInfo',
  'input.nickname': 'UserInfo',
  'wx.getLocation': 'Location',
  'wx.getFuzzyLocation': 'Location',
  'wx.onLocationChange': 'Location',
  'wx.startLocationUpdate': 'Location',
  'wx.startLocationUpdateBackground': 'Location',
  'MapContext.moveToLocation': 'Location',
  'wx.chooseLocation': 'ChooseLocation',
  'wx.choosePoi': 'ChooseLocation',
  'wx.chooseAddress': 'Address',
  'wx.chooseInvoiceTitle': 'Invoice',
  'wx.chooseInvoice': 'Invoice',
  'wx.getWeRunData': 'RunData',
  'button.getPhoneNumber': 'PhoneNumber',
  'button.getRealtimePhoneNumber': 'PhoneNumber',
  'wx.chooseLicensePlate': 'LicensePlate',
  'wx.chooseImage': 'Album',
  'wx.chooseMedia': 'Album',
  'wx.chooseVideo': 'Album',
  'wx.chooseMessageFile': 'MessageFile',
  'wx.startRecord': 'Record',
  'RecorderManager.start': 'Record',
  'wx.joinVoIPChat': 'Record',
  'wx.createVKSession': 'Camera',
  camera: 'Camera',
  'wx.openBluetoothAdapter': 'BlueTooth',
  'wx.createBLEPeripheralServer': 'BlueTooth',
  'wx.saveImageToPhotosAlbum': 'AlbumWriteOnly',
  'wx.saveVideoToPhotosAlbum': 'AlbumWriteOnly',
  'wx.addPhoneContact': 'Contact',
  'wx.addPhoneCalendar': 'CalendarWriteOnly',
  'wx.addPhoneRepeatCalendar': 'CalendarWriteOnly',
};

/** The keys an ext_json `requiredPrivateInfos` list makes the guide declare (its names lack the `wx.` prefix). */
export const privacyKeysOfRequiredPrivateInfos = (apis: readonly string[]): PrivacyKey[] =>
  unique(apis.flatMap((api) => PRIVACY_KEY_OF_API[`wx.${api}`] ?? []));

// ---------------------------------------------------------------------------------------------------------
// The guide an app's owner writes

/** WeChat keeps each text short; 200 leaves room for a clear sentence (the doc asks for a precise purpose). */
const text = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));

export const privacyContactSchema = /* @__PURE__ */ z.lazy(() =>
  z
    .strictObject({
      email: z.optional(z.email().check(z.maxLength(100))),
      phone: z.optional(
        z.string().check(z.regex(/^\+?(\d[ -]?){4,19}\d$/, 'a phone number is 5–20 digits, optionally separated by spaces or -')),
      ),
      qq: z.optional(z.string().check(z.regex(/^[1-9]\d{4,11}$/, 'a QQ number is 5–12 digits'))),
      weixin: z.optional(
        z.string().check(z.regex(/^[A-Za-z][\w-]{5,19}$/, 'a WeChat id is 6–20 letters, digits, _ or -, starting with a letter')),
      ),
    })
    .check(
      z.refine((c) => c.email !== undefined || c.phone !== undefined || c.qq !== undefined || c.weixin !== undefined, {
        message: 'give at least one contact (email, phone, qq or weixin): WeChat shows users who collects their information',
      }),
    ),
);

export const privacyGuideSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** Who collects the information (owner_setting contact_*). */
    contact: privacyContactSchema,
    /** How users are told when what is collected changes (owner_setting notice_method). */
    noticeMethod: z.optional(text(200)),
    /** How long the information is kept (owner_setting store_expire_timestamp), e.g. "30天" or "账号注销后删除". */
    retention: z.optional(text(100)),
    /**
     * Why each kind of information is collected, by privacy key. Keys WeChat detects or `requiredPrivateInfos`
     * implies get a default purpose when left out; keys listed here are declared even when not detected (the staff
     * answer: what the scan misses but the code uses must be added by hand).
     */
    purposes: z._default(z.partialRecord(z.enum(PRIVACY_KEYS as [PrivacyKey, ...PrivacyKey[]]), text(200)), {}),
  }),
);
export type PrivacyGuide = z.infer<typeof privacyGuideSchema>;

// ---------------------------------------------------------------------------------------------------------
// What is sent to WeChat

/** How users are told of changes when the owner does not say: a pop-up in the mini program, the doc's first example. */
export const DEFAULT_NOTICE_METHOD = '小程序内弹窗通知';

/**
 * Default purposes, written as WeChat shows them ("开发者收集你的…，用于【purpose】": no 为了/用于 prefix, doc
 * setprivacysetting privacy_text). The IoT Video template's features (seed 003: home location, device pairing,
 * video talk, snapshots) get their own wording; any other key a generic one naming the information.
 */
const IOT_VIDEO_PURPOSES: Partial<Record<PrivacyKey, string>> = {
  Location: '设置家庭位置，展示家中设备的所在地',
  ChooseLocation: '在地图上选择家庭位置',
  BlueTooth: '为智能设备配网和连接设备',
  Record: '与设备进行语音对讲',
  Camera: '扫描设备二维码以添加设备',
  AlbumWriteOnly: '保存设备录像和截图到相册',
  Album: '选择图片作为设备封面或反馈附件',
  UserInfo: '展示你的头像和昵称',
  PhoneNumber: '登录账号并接收设备告警通知',
};

const GENERIC_PURPOSES: Partial<Record<PrivacyKey, string>> = {
  UserInfo: '展示你的头像和昵称',
  Location: '提供与你所在位置相关的服务',
  ChooseLocation: '在地图上选择位置',
  Address: '填写收货或服务地址',
  Album: '上传你选择的图片或视频',
  AlbumWriteOnly: '保存图片或视频到相册',
  Camera: '拍摄照片或扫描二维码',
  Record: '录制语音',
  PhoneNumber: '登录账号和联系你',
  BlueTooth: '连接蓝牙设备',
  MessageFile: '上传你选择的文件',
};

export const defaultPurpose = (kind: AppKind, key: PrivacyKey): string =>
  (kind === 'iot-video' ? IOT_VIDEO_PURPOSES[key] : undefined) ?? GENERIC_PURPOSES[key] ?? `提供需要你的${PRIVACY_KEY_LABELS[key]}的功能`;

/** The body of `setprivacysetting` (privacy_ver 2, the development version the next audit reviews). */
export interface PrivacySettingBody {
  privacy_ver: 2;
  owner_setting: {
    contact_email?: string;
    contact_phone?: string;
    contact_qq?: string;
    contact_weixin?: string;
    notice_method: string;
    store_expire_timestamp?: string;
  };
  setting_list: { privacy_key: string; privacy_text: string }[];
}

/** What a guide needs that the app does not give: only a contact cannot be defaulted. */
export class PrivacyGuideIncomplete {
  constructor(readonly keys: readonly PrivacyKey[]) {}

  get message(): string {
    const what = this.keys.map((k) => `${PRIVACY_KEY_LABELS[k]} (${k})`).join(', ');
    return `the code collects ${what}, so WeChat needs a user privacy guide with a contact: set config.privacyGuide.contact (email, phone, qq or weixin), then retry`;
  }
}

/**
 * The keys to declare: those WeChat detected, those `requiredPrivateInfos` implies, and those the owner lists, each
 * once, in WeChat's order.
 */
export const privacyKeysToDeclare = (input: {
  detected: readonly string[];
  requiredPrivateInfos: readonly string[];
  guide: PrivacyGuide | undefined;
}): PrivacyKey[] => {
  const wanted = new Set<string>([
    ...input.detected,
    ...privacyKeysOfRequiredPrivateInfos(input.requiredPrivateInfos),
    ...Object.keys(input.guide?.purposes ?? {}),
  ]);
  return PRIVACY_KEYS.filter((key) => wanted.has(key));
};

/**
 * The `setprivacysetting` body for an app, or null when the code collects nothing (no guide is needed), or what is
 * missing. Detected keys WeChat may add later are not in our list: they are declared with the default purpose
 * under their own name (`extraDetected`), never dropped, since the audit rejects an undeclared one.
 */
export const privacySettingFor = (
  kind: AppKind,
  guide: PrivacyGuide | undefined,
  keys: readonly PrivacyKey[],
  extraDetected: readonly string[] = [],
): PrivacySettingBody | PrivacyGuideIncomplete | null => {
  if (keys.length === 0 && extraDetected.length === 0) return null;
  if (guide === undefined) return new PrivacyGuideIncomplete(keys);
  const { contact } = guide;
  return {
    privacy_ver: 2,
    owner_setting: {
      ...(contact.email === undefined ? {} : { contact_email: contact.email }),
      ...(contact.phone === undefined ? {} : { contact_phone: contact.phone }),
      ...(contact.qq === undefined ? {} : { contact_qq: contact.qq }),
      ...(contact.weixin === undefined ? {} : { contact_weixin: contact.weixin }),
      notice_method: guide.noticeMethod ?? DEFAULT_NOTICE_METHOD,
      ...(guide.retention === undefined ? {} : { store_expire_timestamp: guide.retention }),
    },
    setting_list: [
      ...keys.map((key) => ({ privacy_key: key, privacy_text: guide.purposes[key] ?? defaultPurpose(kind, key) })),
      ...extraDetected.map((key) => ({ privacy_key: key, privacy_text: `提供需要你的${key}的功能` })),
    ],
  };
};

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

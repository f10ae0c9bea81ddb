/**
 * Go-live readiness: given what WeChat says about a mini program (and what the app needs of it), every
 * prerequisite WeChat checks between "authorized" and "new version live", each with its status, what WeChat says and
 * what the user can do, in Chinese and English (reference wechat-go-live.md; issue 18). Pure: the facts are read by
 * `shared/app/readiness.ts`.
 *
 * A fact WeChat did not tell (a permission set not granted, a call that failed) is `unknown`, never guessed `ok`.
 * An item that WeChat refused a step for (a deployment's recorded errcode) is `blocking` unless a fact read since
 * shows it fixed: the deployment's failure and the report name the same item (`itemOfErrcode`).
 *
 * `blocks` is the first step WeChat refuses while the item is blocking: `build` (commit and the settings the build
 * sets), `submit` (submit_audit) or `release`. A build is refused up front for items blocking `build` or `submit` —
 * failing later in the pipeline would only cost the user a round trip — but not for `release` ones (ICP filing takes
 * weeks and runs in parallel with the audit).
 */

import { needsUgcDeclaration } from './ugc-declaration';

export const READINESS_ITEM_IDS = [
  'permission-sets',
  'icp-filing',
  'verification',
  'profile',
  'category',
  'privacy-guide',
  'privacy-interfaces',
  'privacy-scan',
  'platform-domains',
  'mini-program-domains',
  'plugins',
  'audit-quota',
  'penalties',
  'ugc-declaration',
  'order-path',
  'pending-audit',
  'undo-budget',
] as const;
export type ReadinessItemId = (typeof READINESS_ITEM_IDS)[number];

export const READINESS_STATUSES = ['ok', 'blocking', 'warning', 'unknown'] as const;
export type ReadinessStatus = (typeof READINESS_STATUSES)[number];

export const READINESS_STAGES = ['build', 'submit', 'release'] as const;
export type ReadinessStage = (typeof READINESS_STAGES)[number];

/** What this backend can do about an item by API, with the permission it holds (`POST …/readiness/{id}`). */
export const READINESS_ACTIONS = ['set-privacy-guide', 'set-domains'] as const;
export type ReadinessActionId = (typeof READINESS_ACTIONS)[number];

export interface Words {
  zh: string;
  en: string;
}

export interface ReadinessItem {
  id: ReadinessItemId;
  status: ReadinessStatus;
  /** The first step WeChat refuses while this item is blocking; null for items that only warn. */
  blocks: ReadinessStage | null;
  title: Words;
  /** What WeChat says: the API read (or the step it refused) and its answer. */
  wechat: { source: string; says: string; errcode?: number };
  /** What the user can do; null when nothing is to be done. */
  fix: Words | null;
  /** Where a person fixes it (a page of mp.weixin.qq.com or open.weixin.qq.com, or this API's config). */
  where?: string;
  /** A fix this backend can apply by API. */
  action?: ReadinessActionId;
}

// ---------------------------------------------------------------------------------------------------------------
// Facts

/** What WeChat answered, or why it is not known (a permission set missing: 61007/48001; a failure). */
export type Fact<T> =
  | { readonly known: true; readonly value: T }
  | { readonly known: false; readonly errcode?: number; readonly reason: string };

export const known = <T>(value: T): Fact<T> => ({ known: true, value });
export const notKnown = <T>(reason: string, errcode?: number): Fact<T> =>
  errcode === undefined ? { known: false, reason } : { known: false, reason, errcode };

export interface Category {
  first_class: string;
  second_class: string;
  first_id: number;
  second_id: number;
}

export interface ReadinessFacts {
  /** Permission sets granted (func_info), as stored at the last authorization. */
  funcScopeIds: readonly number[];
  /** The sets this app needs (18, plus 40 for plugins). */
  requiredScopeIds: readonly number[];
  icp: Fact<{ status: number; available: number | undefined; auditData: readonly { key_name: string; error: string; suggest: string }[] }>;
  basicInfo: Fact<{ verified: boolean | undefined; nickname: string; signature: string; headImage: string }>;
  categories: Fact<readonly Category[]>;
  /** Whether a version was ever released (getversioninfo release_info): an unfiled never-released one cannot go live. */
  everReleased: Fact<boolean>;
  privacyGuide: {
    /** The privacy keys known to need declaring (WeChat's scan of the last commit, the app's requiredPrivateInfos). */
    keysToDeclare: readonly string[];
    /** Whether the app's config gives a contact (`config.privacyGuide`): without it no guide can be set. */
    configHasContact: boolean;
    /** Whether WeChat holds a guide for the development version (getprivacysetting setting_list). */
    setAtWeChat: Fact<boolean>;
  };
  /** Location APIs the app's code declares (`requiredPrivateInfos`), as API names (`getLocation`). */
  locationApis: readonly string[];
  privacyInterfaces: Fact<readonly { api: string; status: number | undefined; failReason?: string }[]>;
  /** WeChat's scan of the committed code; null when nothing was committed by this backend yet. */
  privacyScan: Fact<{ running: boolean; withoutAuth: readonly string[]; withoutConf: readonly string[] }> | null;
  /** Hosts the app's build needs as server domains. */
  domainsNeeded: readonly string[];
  /** The platform's registered server domain hosts; `null` value: WeChat answered without a list. */
  platformDomains: Fact<readonly string[] | null>;
  /** What the mini program lacks of what the build sets, list by list (`downloaddomain https://…`; modify_domain get). */
  miniProgramDomainsMissing: Fact<readonly string[]>;
  plugins: { required: readonly string[]; list: Fact<readonly { appId: string; status: number }[]> };
  quota: Fact<{ rest: number; limit: number }>;
  /** The latest audit WeChat holds; null when there never was one (85058). */
  latestAudit: Fact<{ auditId: number; status: number } | null>;
  /** getorderpathinfo: the path in effect (info_type 0), else the one applied for and its status (info_type 1). */
  orderPath: Fact<{ online: string | null; applied: { path: string; status: number | undefined } | null }>;
  /** Whether the app's config holds a UGC declaration (`config.ugcDeclaration`), which every submit carries. */
  ugcDeclared: boolean;
  /** The audit the app's own open deployment is waiting for, which is no obstacle to it. */
  ownAuditId: number | null;
  /** WeChat's refusals recorded on the app's latest deployment (errcode, when). */
  refusals: readonly { errcode: number; at: number }[];
}

// ---------------------------------------------------------------------------------------------------------------
// Words

const w = (zh: string, en: string): Words => ({ zh, en });

export const ITEM_TITLES: Readonly<Record<ReadinessItemId, Words>> = {
  'permission-sets': w('授权的权限集', 'Permission sets granted to this platform'),
  'icp-filing': w('小程序备案', 'ICP filing (小程序备案)'),
  verification: w('微信认证', 'WeChat verification (微信认证)'),
  profile: w('名称、头像、简介', 'Name, avatar and introduction'),
  category: w('服务类目', 'Service category'),
  'privacy-guide': w('用户隐私保护指引', 'User privacy guide'),
  'privacy-interfaces': w('地理位置等隐私接口权限', 'Location (privacy) API permissions'),
  'privacy-scan': w('代码隐私检测', "WeChat's privacy scan of the committed code"),
  'platform-domains': w('第三方平台服务器域名', "The platform's registered server domains"),
  'mini-program-domains': w('小程序服务器域名', "The mini program's server domains"),
  plugins: w('插件', 'Plugins'),
  'audit-quota': w('提审额度', 'Monthly audit quota'),
  penalties: w('违规处罚', 'Penalties on submitting'),
  'ugc-declaration': w('UGC 审核机制说明', 'UGC moderation declaration'),
  'order-path': w('订单中心 path', 'Order-centre path'),
  'pending-audit': w('审核中的版本', 'A version already under audit'),
  'undo-budget': w('撤回审核次数', 'Audit withdrawals left'),
};

const MP_SETTINGS = 'mp.weixin.qq.com → 设置 → 基本设置';

/** The fix of each item when WeChat refused for it, the same words the deployment's failure carries. */
export const ITEM_FIXES: Readonly<Record<ReadinessItemId, { fix: Words; where?: string; action?: ReadinessActionId }>> = {
  'permission-sets': {
    fix: w(
      '请小程序管理员重新扫码授权，并勾选缺少的权限集',
      "ask the mini program's admin to scan the authorization page again (POST /v1/authorizations) and keep the missing permission sets checked",
    ),
    where: 'POST /v1/authorizations {purpose: authorize-app}',
  },
  'icp-filing': {
    fix: w(
      '请小程序管理员在公众平台完成小程序备案；从未发布过的小程序备案通过后才能发布',
      "the mini program's admin completes ICP filing on mp.weixin.qq.com; a mini program never released cannot go live before it is filed",
    ),
    where: `${MP_SETTINGS} → 小程序备案`,
  },
  verification: {
    fix: w('请小程序管理员完成微信认证', "the mini program's admin completes WeChat verification (微信认证)"),
    where: `${MP_SETTINGS} → 微信认证`,
  },
  profile: {
    fix: w('请小程序管理员设置小程序名称、头像和简介', "the mini program's admin sets its name, avatar and introduction"),
    where: MP_SETTINGS,
  },
  category: {
    fix: w(
      '请小程序管理员添加服务类目并等待审核通过（部分类目需资质）',
      "the mini program's admin adds a service category and waits for its approval (some categories need qualifications)",
    ),
    where: `${MP_SETTINGS} → 服务类目`,
  },
  'privacy-guide': {
    fix: w(
      '在应用配置 config.privacyGuide.contact 中填写联系方式（邮箱、电话、QQ 或微信号），构建时会自动设置隐私保护指引',
      "add a contact to the app's config.privacyGuide.contact (email, phone, qq or weixin); the build then sets the privacy guide",
    ),
    where: 'PUT /v1/apps/{appId}/config',
    action: 'set-privacy-guide',
  },
  'privacy-interfaces': {
    fix: w(
      '请小程序管理员在公众平台申请开通所需的地理位置接口',
      "the mini program's admin applies for the location APIs the code uses (开发管理 → 接口设置)",
    ),
    where: 'mp.weixin.qq.com → 开发管理 → 接口设置 → 地理位置',
  },
  'privacy-scan': {
    fix: w('微信正在检测已上传的代码，约一分钟后重试', 'WeChat is still scanning the committed code: retry in about a minute'),
  },
  'platform-domains': {
    fix: w(
      '请第三方平台运营者在开放平台登记这些小程序服务器域名',
      'the platform operator registers these domains as the platform’s mini program server domains',
    ),
    where: 'open.weixin.qq.com → 管理中心 → 第三方平台 → 开发资料 → 小程序服务器域名',
  },
  'mini-program-domains': {
    fix: w('构建时会自动设置；也可以现在设置', 'the build sets them; they can also be set now'),
    action: 'set-domains',
  },
  plugins: {
    fix: w(
      '请小程序管理员添加所需插件并等待插件开发者同意',
      "the mini program's admin adds the plugins the app needs and waits for the plugin developer's approval",
    ),
    where: 'mp.weixin.qq.com → 设置 → 第三方设置 → 插件管理',
  },
  'audit-quota': {
    fix: w('本月提审额度已用完，请下月再提交', "this month's audit quota of the platform is used up: submit next month"),
    where: 'open.weixin.qq.com → 管理中心 → 第三方平台',
  },
  penalties: {
    fix: w(
      '平台或小程序被限制提审，请查看违规记录并申诉',
      'the platform or the mini program is barred from submitting: see the violation record and appeal',
    ),
    where: 'open.weixin.qq.com → 管理中心 → 第三方平台 → 违规记录 (mini program: mp.weixin.qq.com → 违规记录)',
  },
  'ugc-declaration': {
    fix: w(
      '该类目首次提审需提供 UGC 审核机制说明：在应用配置 config.ugcDeclaration 中填写涉及的场景、审核方式和审核团队，提审时会一并提交',
      "this category needs a UGC moderation declaration on first submit: fill in the app's config.ugcDeclaration (scenes, how content is moderated, the review team); every submit carries it",
    ),
    where: 'PUT /v1/apps/{appId}/config (config.ugcDeclaration)',
  },
  'order-path': {
    fix: w(
      '交易类小程序需设置订单中心 path，请小程序管理员在公众平台设置',
      "a trade mini program needs its order-centre path set: the mini program's admin sets it",
    ),
    where: 'mp.weixin.qq.com → 功能 → 订单中心',
  },
  'pending-audit': {
    fix: w(
      '微信正在审核另一个版本：等待审核结果，或撤回后再提交',
      'WeChat is reviewing another version: wait for its result, or withdraw it first',
    ),
  },
  'undo-budget': {
    fix: w('撤回次数已用完（每天 5 次、每月 10 次）', 'no audit withdrawals left (5 a day, 10 a month): wait for the audit result'),
  },
};

/** Which item each of WeChat's refusals is about (WxJava WxOpenErrorMsgEnum; reference wechat-go-live.md). */
const ITEM_OF_ERRCODE: Readonly<Record<number, ReadinessItemId>> = {
  48001: 'permission-sets',
  61003: 'permission-sets',
  61007: 'permission-sets',
  43016: 'verification',
  86002: 'profile',
  85008: 'category',
  85077: 'category',
  61039: 'privacy-scan',
  61040: 'privacy-interfaces',
  85312: 'privacy-interfaces',
  85017: 'platform-domains',
  85018: 'platform-domains',
  85301: 'platform-domains',
  89020: 'platform-domains',
  89021: 'platform-domains',
  85016: 'mini-program-domains',
  89029: 'mini-program-domains',
  80082: 'plugins',
  85085: 'audit-quota',
  86007: 'penalties',
  86008: 'penalties',
  86009: 'penalties',
  86010: 'penalties',
  85094: 'ugc-declaration',
  // getorderpathinfo's "order path not set" (reference item 11); the errcode of submit is UNCONFIRMED.
  61041: 'order-path',
  85009: 'pending-audit',
  87013: 'undo-budget',
};

export const itemOfErrcode = (errcode: number): ReadinessItemId | undefined => ITEM_OF_ERRCODE[errcode];

/**
 * The reason a deployment fails with when WeChat refuses it for a readiness item: the item's title and fix, so the
 * deployment and the report say the same; null for a refusal no item covers.
 */
export function refusalReason(errcode: number, meaning: string): { item: ReadinessItemId; reason: string } | null {
  const item = itemOfErrcode(errcode);
  if (item === undefined) return null;
  const { fix, where } = ITEM_FIXES[item];
  return { item, reason: `${itemWords(item, fix, where)} — WeChat ${errcode}: ${meaning}` };
}

/** The reason a step fails with when the report shows an item blocking before WeChat is asked: the same words. */
export const blockedReason = (item: ReadinessItem): string =>
  `${itemWords(item.id, item.fix ?? ITEM_FIXES[item.id].fix, item.where)} — ${item.wechat.source}: ${item.wechat.says}`;

const itemWords = (id: ReadinessItemId, fix: Words, where: string | undefined): string =>
  `${ITEM_TITLES[id].en} [readiness: ${id}]: ${fix.en}${where === undefined ? '' : ` (${where})`}`;

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

type Draft = Omit<ReadinessItem, 'id' | 'title' | 'fix' | 'where' | 'action'> & {
  fix?: Words | null;
  where?: string;
  action?: ReadinessActionId;
};

const ok = (source: string, says: string): Draft => ({ status: 'ok', blocks: null, wechat: { source, says }, fix: null });
const unknown = (source: string, fact: { reason: string; errcode?: number }): Draft => ({
  status: 'unknown',
  blocks: null,
  wechat: { source, says: fact.reason, ...(fact.errcode === undefined ? {} : { errcode: fact.errcode }) },
  fix:
    fact.errcode === 61007 || fact.errcode === 48001
      ? w('授权时未勾选该接口所需的权限集，无法检查', 'the permission set this check needs was not granted, so it cannot be checked')
      : w('暂时无法从微信读取，稍后刷新', 'WeChat could not be asked just now: refresh later'),
});
const blocking = (blocks: ReadinessStage, source: string, says: string, errcode?: number): Draft => ({
  status: 'blocking',
  blocks,
  wechat: { source, says, ...(errcode === undefined ? {} : { errcode }) },
});
const warning = (source: string, says: string): Draft => ({ status: 'warning', blocks: null, wechat: { source, says } });

/** ICP statuses (doc api_geticpentranceinfo). */
const ICP_UNDER_REVIEW = new Set([2, 4]);
const ICP_REJECTED = new Set([3, 5]);
const ICP_FILED = 6;
/** 1025–1031: unfiled and a piece missing — bit 1 info, bit 2 category, bit 4 verification (the doc's table). */
const icpMissing = (status: number): string[] => {
  if (status < 1024 || status > 1031) return [];
  const bits = status - 1024;
  return [
    bits & 1 ? '小程序信息未填 (profile)' : '',
    bits & 2 ? '小程序类目未填 (category)' : '',
    bits & 4 ? '小程序未认证 (verification)' : '',
  ].filter((s) => s !== '');
};

function icpItem(f: Pick<ReadinessFacts, 'icp' | 'everReleased'>): Draft {
  const src = 'get_icp_entrance_info';
  if (!f.icp.known) return unknown(src, f.icp);
  const { status, available, auditData } = f.icp.value;
  if (status === ICP_FILED) return ok(src, 'status 6: filed (已备案)');
  // Filing only gates a mini program never released (live ones had until 2024-03-31): warn, do not block, then.
  const neverReleased = !f.everReleased.known || !f.everReleased.value;
  const gate = (says: string): Draft => (neverReleased ? blocking('release', src, says) : warning(src, says));
  if (ICP_UNDER_REVIEW.has(status)) {
    const draft = warning(src, `status ${status}: under review (${status === 2 ? '平台审核中' : '管局审核中'})`);
    return { ...draft, fix: w('备案审核中，通过后才能发布', 'filing is under review: the version can go live once it is filed') };
  }
  if (ICP_REJECTED.has(status)) {
    const reasons = auditData.map((d) => `${d.key_name}: ${d.error}${d.suggest ? ` (${d.suggest})` : ''}`).join('; ');
    return gate(`status ${status}: rejected (${status === 3 ? '平台审核驳回' : '管局审核驳回'})${reasons ? ` — ${reasons}` : ''}`);
  }
  const missing = icpMissing(status);
  const closed = available === 0 ? '; the filing entrance is closed for this mini program (available 0)' : '';
  return gate(`status ${status}: unfiled (未备案)${missing.length > 0 ? ` — missing: ${missing.join(', ')}` : ''}${closed}`);
}

/**
 * Verification and the profile come from getaccountbasicinfo when set 30 was granted; otherwise from the filing
 * status, whose unfiled values 1024–1031 list what is missing (1024: nothing) — the item's `source` says which.
 */
const unfiledStatus = (f: ReadinessFacts): number | null =>
  f.icp.known && f.icp.value.status >= 1024 && f.icp.value.status <= 1031 ? f.icp.value.status : null;

function verificationItem(f: ReadinessFacts): Draft {
  const src = 'getaccountbasicinfo';
  const unfiled = unfiledStatus(f);
  // ICP statuses 1028–1031 say "小程序未认证" too, whatever getaccountbasicinfo says.
  if (unfiled !== null && icpMissing(unfiled).some((m) => m.includes('verification'))) {
    return blocking('release', 'get_icp_entrance_info', `status ${unfiled}: 小程序未认证 (not verified)`);
  }
  if (!f.basicInfo.known) {
    return unfiled === null ? unknown(src, f.basicInfo) : ok('get_icp_entrance_info', `status ${unfiled}: verification is not missing`);
  }
  if (f.basicInfo.value.verified === true) return ok(src, 'wx_verify_info.qualification_verify: true');
  // Filing needs verification first (since 2023-12-25 for fast-registered mini programs; reference item 2).
  return blocking('release', src, 'wx_verify_info.qualification_verify: false (customer_type 0)');
}

function profileItem(f: ReadinessFacts): Draft {
  const src = 'getaccountbasicinfo';
  if (f.basicInfo.known) {
    const { nickname, signature, headImage } = f.basicInfo.value;
    const missing = [nickname ? '' : 'nickname', headImage ? '' : 'head_image_info', signature ? '' : 'signature_info'].filter((m) => m);
    return missing.length === 0
      ? ok(src, 'name, avatar and introduction are set')
      : blocking('submit', src, `not set: ${missing.join(', ')} (86002 on submit)`);
  }
  const unfiled = unfiledStatus(f);
  if (unfiled === null) return unknown(src, f.basicInfo);
  return icpMissing(unfiled).some((m) => m.includes('profile'))
    ? blocking('submit', 'get_icp_entrance_info', `status ${unfiled}: 小程序信息未填`)
    : ok('get_icp_entrance_info', `status ${unfiled}: name, avatar and introduction are not missing`);
}

function categoryItem(f: ReadinessFacts): Draft {
  const src = 'get_category';
  if (!f.categories.known) return unknown(src, f.categories);
  const first = f.categories.value[0];
  if (first === undefined) return blocking('submit', src, 'category_list is empty (85008 on submit)');
  const names = f.categories.value.map((c) => `${c.first_class}/${c.second_class}`).join(', ');
  return ok(
    src,
    `the build submits ${first.first_class}/${first.second_class} (${first.first_id}/${first.second_id}); configured: ${names}`,
  );
}

function privacyGuideItem(f: ReadinessFacts): Draft {
  const src = 'getprivacysetting (privacy_ver 2)';
  const g = f.privacyGuide;
  const atWeChat = g.setAtWeChat.known ? (g.setAtWeChat.value ? 'a guide is set' : 'no guide is set') : `unknown (${g.setAtWeChat.reason})`;
  if (!g.configHasContact) {
    if (g.keysToDeclare.length > 0) {
      return blocking(
        'build',
        src,
        `${atWeChat}; the code collects ${g.keysToDeclare.join(', ')}, and the app's config has no privacy guide contact`,
      );
    }
    return warning(
      src,
      `${atWeChat}; the app's config has no privacy guide contact: if the template's code collects any user information (most do), WeChat's audit rejects the version`,
    );
  }
  if (g.setAtWeChat.known && g.setAtWeChat.value) return ok(src, atWeChat);
  if (g.keysToDeclare.length === 0)
    return ok(src, `${atWeChat}; nothing is known to be collected yet: the build sets the guide after its commit`);
  // The build sets it after each commit; an authorization clears it (reference wechat-go-live.md).
  const draft = warning(src, `${atWeChat}; the app's config has a contact: the build sets the guide`);
  return { ...draft, fix: w('构建时会自动设置；也可以现在设置', 'the build sets it; it can also be set now') };
}

const PRIVACY_INTERFACE_GRANTED = 5;

function privacyInterfacesItem(f: ReadinessFacts): Draft {
  const src = 'get_privacy_interface';
  if (f.locationApis.length === 0) return ok(src, "the app's code declares no location API (requiredPrivateInfos)");
  if (!f.privacyInterfaces.known) return unknown(src, f.privacyInterfaces);
  const list = f.privacyInterfaces.value;
  const problems = f.locationApis
    .map((api) => {
      const entry = list.find((i) => i.api === `wx.${api}` || i.api === api);
      if (entry?.status === PRIVACY_INTERFACE_GRANTED) return null;
      const status = entry?.status === undefined ? 'not applied for' : `status ${entry.status}`;
      return `wx.${api}: ${status}${entry?.failReason ? ` (${entry.failReason})` : ''}`;
    })
    .filter((p): p is string => p !== null);
  return problems.length === 0
    ? ok(src, `granted (status 5): ${f.locationApis.join(', ')}`)
    : blocking('submit', src, `${problems.join('; ')} (61040 on submit)`);
}

function privacyScanItem(f: ReadinessFacts): Draft {
  const src = 'get_code_privacy_info';
  if (f.privacyScan === null) return ok(src, 'nothing committed yet: WeChat scans each commit');
  if (!f.privacyScan.known) return unknown(src, f.privacyScan);
  const { running, withoutAuth, withoutConf } = f.privacyScan.value;
  if (running) return warning(src, '61039: the scan of the last commit is still running');
  if (withoutAuth.length > 0) return blocking('submit', src, `without_auth_list: ${withoutAuth.join(', ')} (61040 on submit)`);
  if (withoutConf.length > 0) return blocking('submit', src, `without_conf_list: ${withoutConf.join(', ')} (61040 on submit)`);
  return ok(src, 'the scan found nothing to refuse');
}

function platformDomainsItem(f: ReadinessFacts): Draft {
  const src = 'modify_wxa_server_domain (get)';
  if (f.domainsNeeded.length === 0) return ok(src, 'the app needs no server domain');
  if (!f.platformDomains.known) return unknown(src, f.platformDomains);
  const registered = f.platformDomains.value;
  if (registered === null) return unknown(src, { reason: "WeChat's answer lists no domains" });
  const missing = f.domainsNeeded.filter((h) => !registered.includes(h));
  return missing.length === 0
    ? ok(src, `registered: ${f.domainsNeeded.join(', ')}`)
    : blocking('build', src, `not registered on the platform: ${missing.join(', ')} (85017/85301 when the build sets them)`);
}

function miniProgramDomainsItem(f: ReadinessFacts): Draft {
  const src = 'modify_domain (get)';
  if (f.domainsNeeded.length === 0) return ok(src, 'the app needs no server domain');
  if (!f.miniProgramDomainsMissing.known) return unknown(src, f.miniProgramDomainsMissing);
  const missing = f.miniProgramDomainsMissing.value;
  return missing.length === 0 ? ok(src, `set: ${f.domainsNeeded.join(', ')}`) : warning(src, `not set yet: ${missing.join('; ')}`);
}

const PLUGIN_APPROVED = 2;
const PLUGIN_STATUS_WORDS: Readonly<Record<number, string>> = { 1: 'applying', 3: 'rejected', 4: 'timed out' };

function pluginsItem(f: ReadinessFacts): Draft {
  const src = '/wxa/plugin (list)';
  if (f.plugins.required.length === 0) return ok(src, 'the app needs no plugin');
  if (!f.plugins.list.known) return unknown(src, f.plugins.list);
  const list = f.plugins.list.value;
  const problems = f.plugins.required
    .map((id) => {
      const p = list.find((entry) => entry.appId === id);
      if (p?.status === PLUGIN_APPROVED) return null;
      return `${id}: ${p === undefined ? 'not added' : (PLUGIN_STATUS_WORDS[p.status] ?? `status ${p.status}`)}`;
    })
    .filter((p): p is string => p !== null);
  return problems.length === 0
    ? ok(src, 'every plugin the app needs is approved')
    : blocking('build', src, `${problems.join('; ')} (80082 on commit)`);
}

function permissionSetsItem(f: ReadinessFacts): Draft {
  const src = 'func_info (authorization)';
  const missing = f.requiredScopeIds.filter((id) => !f.funcScopeIds.includes(id));
  if (missing.length > 0) return blocking('build', src, `not granted: ${missing.join(', ')} (61007 on the calls they cover)`);
  const optional = [30].filter((id) => !f.funcScopeIds.includes(id));
  if (optional.length > 0) {
    const draft = warning(
      src,
      `granted: ${f.funcScopeIds.join(', ')}; set 30 is not granted, so verification, name, avatar and introduction are read from the filing status, which tells them only while unfiled`,
    );
    return {
      ...draft,
      fix: w(
        '如需直接检查认证与基本信息，请重新授权并勾选权限集 30（小程序基本信息管理）',
        'to have verification and the profile read directly, authorize again with set 30 (小程序基本信息管理) checked',
      ),
    };
  }
  return ok(src, `granted: ${f.funcScopeIds.join(', ')}`);
}

function quotaItem(f: ReadinessFacts): Draft {
  const src = 'queryquota';
  if (!f.quota.known) return unknown(src, f.quota);
  const { rest, limit } = f.quota.value;
  if (rest <= 0) return blocking('submit', src, `rest 0 of ${limit} this month (85085 on submit)`);
  if (rest <= Math.max(1, Math.floor(limit / 10)))
    return warning(src, `only ${rest} of ${limit} submits left this month (shared by the platform's mini programs)`);
  return ok(src, `${rest} of ${limit} submits left this month`);
}

function penaltiesItem(): Draft {
  // No API tells in advance; a refusal (86007–86010) recorded on a deployment turns this blocking.
  return ok('submit_audit', 'no penalty refusal recorded (WeChat has no API to read penalties before a submit)');
}

/** Trade categories, whose mini programs need an order-centre path (reference item 11); UNCONFIRMED list. */
const TRADE_FIRST_CLASSES = new Set(['商家自营', '电商平台']);

function ugcItem(f: ReadinessFacts): Draft {
  const src = 'get_category';
  if (!f.categories.known) return unknown(src, f.categories);
  const first = f.categories.value[0];
  if (first === undefined || !needsUgcDeclaration(first)) return ok(src, 'the category the build submits needs no UGC declaration');
  const category = `${first.first_class}/${first.second_class}`;
  if (f.ugcDeclared) return ok(src, `${category} needs a UGC declaration: config.ugcDeclaration is sent with each submit`);
  // WeChat asks on the first submit only (doc submitAudit); 85058 from get_latest_auditstatus says there was none.
  if (f.latestAudit.known && f.latestAudit.value === null) {
    return blocking('submit', src, `${category} needs a UGC declaration on the first submit and the app declares none (85094 on submit)`);
  }
  return warning(src, `${category}: WeChat asks for a UGC declaration on the first submit, and the app declares none`);
}

/** getorderpathinfo statuses (doc api_getorderpathinfo). */
const ORDER_PATH_STATUS_WORDS: Readonly<Record<number, string>> = {
  2: '审核中, under review',
  3: '审核失败, rejected',
  4: '审核通过, approved',
};

function orderPathItem(f: ReadinessFacts): Draft {
  const src = 'getorderpathinfo';
  if (!f.orderPath.known) return unknown(src, f.orderPath);
  const { online, applied } = f.orderPath.value;
  if (online !== null) return ok(src, `info_type 0: the order-centre path in effect is ${online}`);
  const status = applied?.status === undefined ? 'status unknown' : (ORDER_PATH_STATUS_WORDS[applied.status] ?? `status ${applied.status}`);
  const says = applied === null ? 'no path in effect or applied for (61041)' : `info_type 1: ${applied.path} applied for (${status})`;
  // Which categories WeChat asks for a path is not documented: the trade ones are our reading (README).
  const trade = f.categories.known ? f.categories.value.filter((c) => TRADE_FIRST_CLASSES.has(c.first_class)) : [];
  if (trade.length > 0) {
    const names = trade.map((c) => `${c.first_class}/${c.second_class}`).join(', ');
    return warning(src, `${says}; trade category ${names}: WeChat asks trade mini programs for an order-centre path`);
  }
  if (applied?.status === 3) return warning(src, says);
  return ok(src, `${says}; no trade category`);
}

const AUDIT_PENDING = new Set([2, 4]);

function pendingAuditItem(f: ReadinessFacts): Draft {
  const src = 'get_latest_auditstatus';
  if (!f.latestAudit.known) return unknown(src, f.latestAudit);
  const latest = f.latestAudit.value;
  if (latest === null || !AUDIT_PENDING.has(latest.status))
    return ok(src, latest === null ? 'no audit yet (85058)' : `latest audit ${latest.auditId}: status ${latest.status}`);
  if (latest.auditId === f.ownAuditId) return ok(src, `audit ${latest.auditId} (status ${latest.status}) is this app's own deployment`);
  // A warning until WeChat refuses a submit for it (85009): the audit may well be decided before this build is.
  return warning(src, `audit ${latest.auditId} is under review (status ${latest.status}): a submit now gets 85009`);
}

function undoBudgetItem(): Draft {
  return ok('undocodeaudit', 'no refusal recorded (WeChat has no API to read the withdrawals left)');
}

const EVALUATORS: Readonly<Record<ReadinessItemId, (f: ReadinessFacts) => Draft>> = {
  'permission-sets': permissionSetsItem,
  'icp-filing': icpItem,
  verification: verificationItem,
  profile: profileItem,
  category: categoryItem,
  'privacy-guide': privacyGuideItem,
  'privacy-interfaces': privacyInterfacesItem,
  'privacy-scan': privacyScanItem,
  'platform-domains': platformDomainsItem,
  'mini-program-domains': miniProgramDomainsItem,
  plugins: pluginsItem,
  'audit-quota': quotaItem,
  penalties: penaltiesItem,
  'ugc-declaration': ugcItem,
  'order-path': orderPathItem,
  'pending-audit': pendingAuditItem,
  'undo-budget': undoBudgetItem,
};

/** The step an item's refusal stopped (submit unless the errcode came from a build or release call). */
const REFUSED_STEP: Partial<Record<ReadinessItemId, ReadinessStage>> = {
  'permission-sets': 'build',
  'platform-domains': 'build',
  'mini-program-domains': 'build',
  plugins: 'build',
};

/**
 * A refusal WeChat answered for an item overrides what the facts say unless they show it fixed since: a fact read
 * `ok` after the refusal wins (the admin added the category); anything else becomes blocking with WeChat's errcode.
 */
function withRefusal(draft: Draft, id: ReadinessItemId, refusal: { errcode: number; at: number } | undefined): Draft {
  if (refusal === undefined || (draft.status === 'ok' && !REFUSAL_ONLY_ITEMS.has(id))) return draft;
  const says = `WeChat refused with ${refusal.errcode} at ${new Date(refusal.at).toISOString()}; ${draft.wechat.says}`;
  // Withdrawals only: no step of the pipeline needs one.
  if (id === 'undo-budget')
    return { ...warning(draft.wechat.source, says), wechat: { source: draft.wechat.source, says, errcode: refusal.errcode } };
  return blocking(REFUSED_STEP[id] ?? 'submit', draft.wechat.source, says, refusal.errcode);
}

/** Items whose `ok` is no reading of WeChat's state (no API tells): a refusal wins. */
export const REFUSAL_ONLY_ITEMS: ReadonlySet<ReadinessItemId> = new Set(['penalties', 'undo-budget']);

export function evaluateReadiness(facts: ReadinessFacts): ReadinessItem[] {
  const latestRefusal = new Map<ReadinessItemId, { errcode: number; at: number }>();
  for (const refusal of facts.refusals) {
    const id = itemOfErrcode(refusal.errcode);
    const seen = id === undefined ? undefined : latestRefusal.get(id);
    if (id !== undefined && (seen === undefined || seen.at <= refusal.at)) latestRefusal.set(id, refusal);
  }
  return READINESS_ITEM_IDS.map((id) => finish(id, withRefusal(EVALUATORS[id](facts), id, latestRefusal.get(id))));
}

/** A draft with its title, and the item's fix, place and action when there is something to do. */
function finish(id: ReadinessItemId, draft: Draft): ReadinessItem {
  const known = ITEM_FIXES[id];
  const needsFix = draft.status === 'blocking' || draft.status === 'warning';
  const fix = draft.fix !== undefined && draft.fix !== null ? draft.fix : needsFix ? known.fix : null;
  return {
    id,
    status: draft.status,
    blocks: draft.blocks,
    title: ITEM_TITLES[id],
    wechat: draft.wechat,
    fix,
    ...(needsFix && known.where !== undefined ? { where: known.where } : {}),
    ...(needsFix && known.action !== undefined ? { action: known.action } : {}),
  };
}

/** The ICP filing item alone: what the release checks (two reads) instead of the whole report. */
export const icpFilingItem = (facts: Pick<ReadinessFacts, 'icp' | 'everReleased'>): ReadinessItem => finish('icp-filing', icpItem(facts));

/** Items blocking a step at or before `stage`: what refuses a build (`submit`: build and submit ones) or a release. */
export const blockingFor = (items: readonly ReadinessItem[], stages: readonly ReadinessStage[]): ReadinessItem[] =>
  items.filter((item) => item.status === 'blocking' && item.blocks !== null && stages.includes(item.blocks));

/** The stages a build is refused for up front (see the header). */
export const BUILD_GATE: readonly ReadinessStage[] = ['build', 'submit'];

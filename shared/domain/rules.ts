/**
 * The rules that decide whether an authorization is accepted and whether an account may publish. Each returns a
 * `Decision`; the refusal carries the error with the code the frontend shows.
 */
import { type Account, normalizeSubject, primaryOf } from './account';
import { ALLOWED, type Decision, refused } from './common';
import { AppError, NotFoundError } from './errors';
import type { MiniProgram } from './mini-program';

export class PrimaryNotBoundError extends AppError {
  readonly code = 'PRIMARY_NOT_BOUND';
  readonly category = 'forbidden' as const;
}

export class SubjectMismatchError extends AppError {
  readonly code = 'SUBJECT_MISMATCH';
  readonly category = 'forbidden' as const;
}

export class PrimarySubjectChangeError extends AppError {
  readonly code = 'PRIMARY_SUBJECT_CHANGE_NEEDS_FORCE';
  readonly category = 'conflict' as const;
}

export class PermissionsMissingError extends AppError {
  readonly code = 'PERMISSIONS_MISSING';
  readonly category = 'forbidden' as const;
}

/** Same codes as the token manager's, so a frontend sees one code whichever layer noticed first. */
export class MiniProgramUnavailableError extends AppError {
  readonly code: 'MINI_PROGRAM_NOT_AUTHORIZED' | 'MINI_PROGRAM_NEEDS_REAUTH';
  readonly category = 'forbidden' as const;
  constructor(mp: Pick<MiniProgram, 'appid' | 'status' | 'statusReason'>) {
    const needsReauth = mp.status === 'needs-reauth';
    super(
      `The mini program ${mp.appid} ${needsReauth ? 'must be authorized again by its admin' : 'is no longer authorized to the platform'}` +
        (mp.statusReason ? `: ${mp.statusReason}` : '.'),
      { details: { miniProgramAppid: mp.appid, status: mp.status } },
    );
    this.code = needsReauth ? 'MINI_PROGRAM_NEEDS_REAUTH' : 'MINI_PROGRAM_NOT_AUTHORIZED';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Subject

/** `principal_name` of every personal (individual) mini program: equal names say nothing about the owner. */
export const PERSONAL_SUBJECT = '个人';

/**
 * Whether `target` may join an account whose primary is `primary` (pass `primaryOf(account)`). A bound primary
 * is always required, because without one nothing authorized could be published; the same-subject part can be
 * turned off by a platform setting.
 */
export const sameSubject = (
  primary: { appid: string; subject: string } | null,
  target: { appid: string; subject: string },
  requireSameSubject: boolean,
): Decision => {
  if (primary === null) {
    return refused(
      new PrimaryNotBoundError(
        "The account has no primary mini program: bind the account's primary mini program first (step 1), then authorize this one.",
        { details: { miniProgramAppid: target.appid } },
      ),
    );
  }
  if (!requireSameSubject || target.appid === primary.appid) return ALLOWED;
  const personal = normalizeSubject(target.subject) === normalizeSubject(PERSONAL_SUBJECT);
  if (!personal && normalizeSubject(target.subject) === normalizeSubject(primary.subject)) return ALLOWED;
  return refused(
    new SubjectMismatchError(
      personal
        ? `The mini program ${target.appid} belongs to an individual (个人), and individuals' mini programs cannot be shown to share an owner with the account's primary mini program, so it cannot be authorized.`
        : `The mini program ${target.appid} belongs to "${target.subject}", not to "${primary.subject}", the subject of the account's primary mini program; only mini programs of the same subject can be authorized.`,
      { details: { miniProgramAppid: target.appid, subject: target.subject, expectedSubject: primary.subject } },
    ),
  );
};

/**
 * Whether binding `next` as the primary changes the account's subject (the last primary's, bound or since unbound),
 * under the same-subject rule: then the account's mini programs of the old subject can no longer publish, so the
 * change needs `force`. The same mini program again, or the rule turned off, is no change.
 */
export const primarySubjectChange = (
  account: Account,
  next: { appid: string; subject: string },
  requireSameSubject: boolean,
): { from: string } | null => {
  const previous = account.primaryMiniProgram;
  if (!previous) return null;
  return sameSubject(previous, next, requireSameSubject).ok ? null : { from: previous.subject };
};

/** The refusal of a primary change of subject without `force`: what it would do, and how to do it anyway. */
export const primarySubjectChangeRefused = (
  next: { appid: string; subject: string },
  change: { from: string },
  otherSubject: readonly string[],
): PrimarySubjectChangeError =>
  new PrimarySubjectChangeError(
    `Binding ${next.appid} ("${next.subject}") as the primary mini program would change the account's subject from "${change.from}": ` +
      (otherSubject.length
        ? `its mini programs of another subject (${otherSubject.join(', ')}) could no longer build, submit or release, and their deployments in flight would be voided. `
        : 'mini programs of the old subject could no longer be authorized. ') +
      'Nothing was changed. To change the subject, request the authorization URL with force: true (POST /v1/authorizations {"purpose": "bind-primary", "force": true}) and scan again.',
    {
      details: {
        miniProgramAppid: next.appid,
        subject: next.subject,
        currentSubject: change.from,
        affectedMiniPrograms: [...otherSubject],
      },
    },
  );

// ---------------------------------------------------------------------------------------------------------
// Permission sets

export interface PermissionSet {
  readonly id: number;
  readonly name: string;
}

/**
 * Names and exclusivity from doc miniprogram_authority. 18: commit, audit, release, privacy guide, domains —
 * exclusive: once granted, the mini program can no longer publish through mp.weixin.qq.com. 40: the plugin list
 * the build checks (exclusive too). 17: get mini program codes (not exclusive).
 */
export const CODE_MANAGEMENT_SET: PermissionSet = { id: 18, name: '小程序开发与数据分析' };
export const PLUGIN_MANAGEMENT_SET: PermissionSet = { id: 40, name: '小程序插件管理' };
export const MINI_PROGRAM_CODE_SET: PermissionSet = { id: 17, name: '获取小程序码' };
/**
 * 30: basic information (name, avatar, introduction, categories) — not exclusive (doc miniprogram_authority), and
 * the set of getaccountbasicinfo (doc api_getaccountbasicinfo), which go-live readiness reads verification from.
 */
export const ACCOUNT_INFO_SET: PermissionSet = { id: 30, name: '小程序基本信息管理' };

export type AuthorizationPurpose = 'bind-primary' | 'authorize-app';

/**
 * The permission sets an authorization asks for (`category_id_list`) and needs granted (`func_info`); WeChat's
 * page offers every set otherwise, exclusive ones included. The primary is the account's subject anchor: the
 * platform reads its subject and calls nothing with its token, so it needs no set and must keep its code management
 * (18) to its owner; a scan grants at least one set, so it is asked for the least one, 17, and needs none. An app's
 * mini program needs 18, and 40 only when the app depends on plugins; it is also asked for 30, which it may leave
 * unchecked: readiness then reads verification and the profile from the filing status instead.
 */
export const permissionSetsFor = (
  purpose: AuthorizationPurpose,
  options: { plugins: boolean },
): { readonly requested: readonly PermissionSet[]; readonly required: readonly PermissionSet[] } => {
  if (purpose === 'bind-primary') return { requested: [MINI_PROGRAM_CODE_SET], required: [] };
  const needed = options.plugins ? [CODE_MANAGEMENT_SET, PLUGIN_MANAGEMENT_SET] : [CODE_MANAGEMENT_SET];
  return { requested: [...needed, ACCOUNT_INFO_SET].sort((a, b) => a.id - b.id), required: needed };
};

export type PermissionDecision = Decision & { readonly missing: readonly PermissionSet[] };

/**
 * The permission sets the platform needs to publish, among those the admin granted. Set 40 is needed only to
 * check plugins, so an app without plugin dependencies may pass `{ plugins: false }`.
 */
export const hasCodePermissions = (funcScopeIds: readonly number[], options: { plugins?: boolean } = {}): PermissionDecision =>
  grantedAll(funcScopeIds, permissionSetsFor('authorize-app', { plugins: options.plugins !== false }).required);

/** Whether the admin granted every one of `needed`; the refusal names the sets missing. */
const grantedAll = (funcScopeIds: readonly number[], needed: readonly PermissionSet[]): PermissionDecision => {
  const missing = needed.filter((set) => !funcScopeIds.includes(set.id));
  if (missing.length === 0) return { ok: true, missing };
  const names = missing.map((set) => `${set.id} (${set.name})`).join(', ');
  return {
    ok: false,
    missing,
    error: new PermissionsMissingError(
      `The mini program's admin did not grant the permission set${missing.length > 1 ? 's' : ''} ${names}; scan the authorization page again and keep ${missing.length > 1 ? 'them' : 'it'} checked` +
        ' (a set only one platform may hold, such as 18 or 40, must first be taken back from the platform holding it).',
      { details: { missing: missing.map((set) => set.id) } },
    ),
  };
};

// ---------------------------------------------------------------------------------------------------------
// Publishing

/**
 * Whether `account` may build, submit or release for `miniProgram` now. Seed 000: unbinding an account's primary
 * mini program makes its other mini programs unpublishable until a primary is bound again; and only mini programs of
 * the primary's subject publish (after the primary changed subject with `force`, the others are blocked).
 */
export const whoCanPublish = (account: Account, miniProgram: MiniProgram, requireSameSubject: boolean): Decision => {
  if (miniProgram.accountId !== account.id) {
    return refused(new NotFoundError(`mini program ${miniProgram.appid} not found`, { code: 'MINI_PROGRAM_NOT_FOUND' }));
  }
  if (miniProgram.status !== 'authorized') return refused(new MiniProgramUnavailableError(miniProgram));
  if (primaryOf(account) === null) {
    const was = account.primaryMiniProgram;
    return refused(
      new PrimaryNotBoundError(
        was
          ? `The account's primary mini program ${was.appid} was unbound: its other mini programs cannot publish until a primary mini program is bound again.`
          : 'The account has no primary mini program: bind one before publishing.',
        { details: { primaryStatus: account.primaryStatus, miniProgramAppid: miniProgram.appid } },
      ),
    );
  }
  const primary = primaryOf(account);
  if (primary && !sameSubject(primary, miniProgram, requireSameSubject).ok) {
    return refused(
      new SubjectMismatchError(
        `The mini program ${miniProgram.appid} belongs to "${miniProgram.subject}", but the account's primary mini program ${primary.appid} is of "${primary.subject}": ` +
          'only mini programs of the primary’s subject can build, submit or release.',
        { details: { miniProgramAppid: miniProgram.appid, subject: miniProgram.subject, expectedSubject: primary.subject } },
      ),
    );
  }
  return ALLOWED;
};

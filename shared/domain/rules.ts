/**
 * The rules that decide whether an authorization is accepted and whether an account may publish. Each returns a
 * `Decision`; the refusal carries the error with the code the frontend shows.
 */
import { primaryOf, type Account } from './account';
import { ALLOWED, refused, type Decision } from './common';
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

// WeChat has been seen to spell one company's name with full-width or half-width brackets and spaces;
// NFKC folds （） into (), and spaces carry no meaning in a registered name.
const normalizeSubject = (subject: string): string => subject.normalize('NFKC').replace(/\s+/g, '').toLowerCase();

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

// ---------------------------------------------------------------------------------------------------------
// Permission sets

export interface PermissionSet {
  readonly id: number;
  readonly name: string;
}

/** 18: commit, audit, release (exclusive to one platform). 40: the plugin list the build checks. */
export const CODE_MANAGEMENT_SET: PermissionSet = { id: 18, name: '小程序开发与数据分析' };
export const PLUGIN_MANAGEMENT_SET: PermissionSet = { id: 40, name: '插件管理' };

export type PermissionDecision = Decision & { readonly missing: readonly PermissionSet[] };

/**
 * The permission sets the platform needs to publish, among those the admin granted. Set 40 is needed only to
 * check plugins, so an app without plugin dependencies may pass `{ plugins: false }`.
 */
export const hasCodePermissions = (funcScopeIds: readonly number[], options: { plugins?: boolean } = {}): PermissionDecision => {
  const needed = options.plugins === false ? [CODE_MANAGEMENT_SET] : [CODE_MANAGEMENT_SET, PLUGIN_MANAGEMENT_SET];
  const missing = needed.filter((set) => !funcScopeIds.includes(set.id));
  if (missing.length === 0) return { ok: true, missing };
  const names = missing.map((set) => `${set.id} (${set.name})`).join(', ');
  return {
    ok: false,
    missing,
    error: new PermissionsMissingError(
      `The mini program's admin did not grant the permission set${missing.length > 1 ? 's' : ''} ${names}; scan the authorization page again and keep ${missing.length > 1 ? 'them' : 'it'} checked.`,
      { details: { missing: missing.map((set) => set.id) } },
    ),
  };
};

// ---------------------------------------------------------------------------------------------------------
// Publishing

/**
 * Whether `account` may build, submit or release for `miniProgram` now. Seed 000: unbinding an account's primary
 * mini program makes its other mini programs unpublishable until a primary is bound again.
 */
export const whoCanPublish = (account: Account, miniProgram: MiniProgram): Decision => {
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
          : "The account has no primary mini program: bind one before publishing.",
        { details: { primaryStatus: account.primaryStatus, miniProgramAppid: miniProgram.appid } },
      ),
    );
  }
  return ALLOWED;
};

import { bindPrimary, newAccount, primaryOf, unbindPrimary } from './account';
import { type MiniProgram, markNeedsReauth, markUnauthorized, recordAuthorization } from './mini-program';
import {
  hasCodePermissions,
  MiniProgramUnavailableError,
  PrimaryNotBoundError,
  permissionSetsFor,
  primarySubjectChange,
  SubjectMismatchError,
  sameSubject,
  whoCanPublish,
} from './rules';

const T0 = 1_700_000_000_000;
const PRIMARY = 'wx000000000000aaaa';
const TARGET = 'wx000000000000bbbb';
const HASH = 'a'.repeat(64);
const primary = { appid: PRIMARY, subject: '深圳市示例科技有限公司' } as const;

const account = () => bindPrimary(newAccount({ id: 'acc_demo', name: 'Demo', apiKeyHash: HASH }, T0), primary, T0);
const target = (accountId: 'acc_demo' | 'acc_other' = 'acc_demo'): MiniProgram =>
  recordAuthorization(
    null,
    { appid: TARGET, accountId, subject: primary.subject, nickname: 'Cam', userName: 'gh_bbbb', funcScopeIds: [18, 40] },
    { at: T0, actor: { kind: 'account' }, scannedFor: 'app' },
  ).miniProgram;

describe('sameSubject', () => {
  test('the same subject is allowed, even spelt with full-width brackets and spaces', () => {
    expect(sameSubject(primary, { appid: TARGET, subject: primary.subject }, true)).toEqual({ ok: true });
    const brackets = { appid: TARGET, subject: 'Acme（Shenzhen）Co., Ltd.' };
    expect(sameSubject({ appid: PRIMARY, subject: 'Acme (Shenzhen) Co., Ltd.' }, brackets, true)).toEqual({ ok: true });
  });

  test('a different subject is refused, naming both', () => {
    const decision = sameSubject(primary, { appid: TARGET, subject: '另一家公司' }, true);
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.error).toBeInstanceOf(SubjectMismatchError);
    expect(decision.error).toMatchObject({ code: 'SUBJECT_MISMATCH', category: 'forbidden' });
    expect(decision.error.message).toContain('另一家公司');
    expect(decision.error.message).toContain(primary.subject);
  });

  test('two personal mini programs are not the same subject just because both say 个人', () => {
    const decision = sameSubject({ appid: PRIMARY, subject: '个人' }, { appid: TARGET, subject: '个人' }, true);
    expect(decision.ok).toBe(false);
    // One sentence that does not contradict itself: it never says 个人 mini programs are the ones allowed.
    if (!decision.ok) {
      expect(decision.error.message).toContain('belongs to an individual (个人)');
      expect(decision.error.message).not.toMatch(/only mini programs of the subject/);
    }
    // …but the primary itself may always be authorized to an app.
    expect(sameSubject({ appid: PRIMARY, subject: '个人' }, { appid: PRIMARY, subject: '个人' }, true).ok).toBe(true);
  });

  test('the platform setting turns the subject rule off, not the need for a primary', () => {
    expect(sameSubject(primary, { appid: TARGET, subject: 'other' }, false).ok).toBe(true);
    const none = sameSubject(null, { appid: TARGET, subject: 'other' }, false);
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.error).toBeInstanceOf(PrimaryNotBoundError);
  });

  test('an unbound primary counts as none', () => {
    expect(primaryOf(unbindPrimary(account(), T0 + 1, 'unbound'))).toBeNull();
    expect(sameSubject(primaryOf(unbindPrimary(account(), T0 + 1, 'unbound')), { appid: TARGET, subject: primary.subject }, true).ok).toBe(
      false,
    );
  });
});

describe('hasCodePermissions', () => {
  test('18 and 40 granted: ok', () => {
    expect(hasCodePermissions([1, 18, 40])).toEqual({ ok: true, missing: [] });
  });

  test('missing sets are returned and named', () => {
    const decision = hasCodePermissions([1, 40]);
    expect(decision.missing.map((s) => s.id)).toEqual([18]);
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.error).toMatchObject({ code: 'PERMISSIONS_MISSING', details: { missing: [18] } });
    expect(decision.error.message).toContain('18 (小程序开发与数据分析)');
    expect(hasCodePermissions([]).missing.map((s) => s.id)).toEqual([18, 40]);
  });

  test('an authorization asks for the sets its purpose needs: the primary keeps code management (18) to its owner', () => {
    const ids = (purpose: 'bind-primary' | 'authorize-app', plugins: boolean) => {
      const sets = permissionSetsFor(purpose, { plugins });
      return { requested: sets.requested.map((set) => set.id), required: sets.required.map((set) => set.id) };
    };
    expect(ids('bind-primary', false)).toEqual({ requested: [17], required: [] });
    expect(ids('bind-primary', true)).toEqual({ requested: [17], required: [] });
    // 30 (basic information, not exclusive) is asked for, not required: readiness reads verification with it.
    expect(ids('authorize-app', false)).toEqual({ requested: [18, 30], required: [18] });
    expect(ids('authorize-app', true)).toEqual({ requested: [18, 30, 40], required: [18, 40] });
  });

  test('set 40 can be waived for an app without plugins', () => {
    expect(hasCodePermissions([18], { plugins: false }).ok).toBe(true);
    expect(hasCodePermissions([18]).ok).toBe(false);
  });
});

describe('primarySubjectChange', () => {
  test('another subject than the last primary’s (bound or unbound) is a change; the same one, or the rule off, is not', () => {
    const other = { appid: 'wx000000000000cccc', subject: '另一家公司' };
    expect(primarySubjectChange(account(), other, true)).toEqual({ from: primary.subject });
    expect(primarySubjectChange(unbindPrimary(account(), T0 + 1, 'unbound'), other, true)).toEqual({ from: primary.subject });
    expect(primarySubjectChange(account(), { appid: 'wx000000000000cccc', subject: '深圳市示例科技有限公司 ' }, true)).toBeNull();
    expect(primarySubjectChange(account(), other, false)).toBeNull();
    expect(primarySubjectChange(newAccount({ id: 'acc_demo', name: 'Demo', apiKeyHash: HASH }, T0), other, true)).toBeNull();
  });
});

describe('whoCanPublish', () => {
  test('an authorized mini program of an account with a bound primary may publish', () => {
    expect(whoCanPublish(account(), target(), true)).toEqual({ ok: true });
  });

  test('after the primary is unbound, no mini program of the account may publish until one is bound again', () => {
    const unbound = unbindPrimary(account(), T0 + 1, 'unbound');
    const decision = whoCanPublish(unbound, target(), true);
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.error).toMatchObject({ code: 'PRIMARY_NOT_BOUND', details: { primaryStatus: 'unbound' } });
    expect(decision.error.message).toContain('was unbound');
    expect(whoCanPublish(bindPrimary(unbound, primary, T0 + 2), target(), true).ok).toBe(true);
  });

  test('an account that never bound a primary may not publish', () => {
    const decision = whoCanPublish(newAccount({ id: 'acc_demo', name: 'Demo', apiKeyHash: HASH }, T0), target(), true);
    expect(decision.ok ? null : decision.error.code).toBe('PRIMARY_NOT_BOUND');
  });

  test('an unauthorized or needs-reauth mini program may not publish, with the token manager’s codes', () => {
    const unauthorized = markUnauthorized(target(), { at: T0 + 1, actor: { kind: 'wechat' } }).miniProgram;
    const reauth = markNeedsReauth(target(), 'refresh token invalid (61023)', T0 + 1);
    for (const [mp, code] of [
      [unauthorized, 'MINI_PROGRAM_NOT_AUTHORIZED'],
      [reauth, 'MINI_PROGRAM_NEEDS_REAUTH'],
    ] as const) {
      const decision = whoCanPublish(account(), mp, true);
      expect(decision.ok).toBe(false);
      if (decision.ok) continue;
      expect(decision.error).toBeInstanceOf(MiniProgramUnavailableError);
      expect(decision.error.code).toBe(code);
    }
  });

  test('after the primary changed subject, the old subject’s mini programs are blocked (unless the rule is off)', () => {
    const changed = bindPrimary(account(), { appid: 'wx000000000000cccc', subject: '另一家公司' }, T0 + 1);
    const decision = whoCanPublish(changed, target(), true);
    expect(decision.ok ? null : decision.error).toMatchObject({ code: 'SUBJECT_MISMATCH', details: { expectedSubject: '另一家公司' } });
    expect(whoCanPublish(changed, target(), false).ok).toBe(true);
  });

  test('another account’s mini program is not found', () => {
    const decision = whoCanPublish(account(), target('acc_other'), true);
    expect(decision.ok ? null : decision.error).toMatchObject({ code: 'MINI_PROGRAM_NOT_FOUND', category: 'not-found' });
  });
});

import { bindPrimary, newAccount, unbindPrimary } from './account';
import { linkApp, newApp, unlinkApp } from './app';
import type { Actor } from './common';
import { exampleLowcodeConfig } from './examples';
import {
  type AuthorizerFacts,
  authorizedAfterPush,
  LINK_HISTORY_LIMIT,
  linkMiniProgram,
  type MiniProgram,
  markNeedsReauth,
  markUnauthorized,
  miniProgramSchema,
  recordAuthorization,
  rolesOf,
  unlinkMiniProgram,
  withPlugins,
} from './mini-program';

const T0 = 1_700_000_000_000;
const APPID = 'wx0123456789abcdef';
const admin: Actor = { kind: 'account', id: 'acc_demo' };
const facts: AuthorizerFacts = {
  appid: APPID,
  accountId: 'acc_demo',
  subject: 'Acme Ltd',
  nickname: 'Acme Cam',
  userName: 'gh_97417a04a28d',
  funcScopeIds: [40, 18, 18],
};
const ctx = (at: number, actor: Actor = admin) => ({ at, actor });

const authorized = (): MiniProgram => recordAuthorization(null, facts, { ...ctx(T0), scannedFor: 'app' }).miniProgram;

describe('mini programs', () => {
  test('a first authorization is stored as its schema says, scopes de-duplicated', () => {
    const mp = authorized();
    expect(miniProgramSchema.parse(mp)).toEqual(mp);
    expect(mp).toMatchObject({ status: 'authorized', funcScopeIds: [18, 40], linkedAppId: null, linkHistory: [] });
  });

  test('latest authorization wins: the app that had the mini program loses it, and is told why and by which app', () => {
    const first = linkMiniProgram(authorized(), 'app_first', ctx(T0 + 1));
    expect(first.displaced).toBeNull();
    const second = linkMiniProgram(first.miniProgram, 'app_second', ctx(T0 + 2));
    expect(second.miniProgram.linkedAppId).toBe('app_second');
    expect(second.displaced).toMatchObject({
      appId: 'app_first',
      accountId: 'acc_demo',
      loss: { at: T0 + 2, reason: 'superseded', miniProgramAppid: APPID, byAppId: 'app_second' },
    });
    expect(second.displaced?.loss.message).toContain('latest authorization wins');
    expect(second.miniProgram.linkHistory.map((h) => `${h.change} ${h.appId} (${h.reason})`)).toEqual([
      'linked app_first (authorized)',
      'unlinked app_first (superseded)',
      'linked app_second (authorized)',
    ]);

    // The displaced app stores the loss, so its owner can read it.
    const app = linkApp(
      newApp(
        { kind: 'lowcode', name: 'First', templateId: 1, requiredPlugins: [], config: exampleLowcodeConfig() },
        { id: 'app_first', accountId: 'acc_demo' },
        T0,
      ),
      APPID,
      T0 + 1,
    );
    const lost = second.displaced ? unlinkApp(app, second.displaced.loss) : app;
    expect(lost).toMatchObject({ miniProgramAppid: null, linkLostReason: { reason: 'superseded', byAppId: 'app_second' } });
  });

  test('linking again to the same app changes nothing', () => {
    const { miniProgram } = linkMiniProgram(authorized(), 'app_first', ctx(T0 + 1));
    expect(linkMiniProgram(miniProgram, 'app_first', ctx(T0 + 2))).toEqual({ miniProgram, displaced: null });
  });

  test('authorized by another account: it moves there, the old app is displaced without naming the new account’s app', () => {
    const linked = linkMiniProgram(authorized(), 'app_first', ctx(T0 + 1)).miniProgram;
    const moved = recordAuthorization(linked, { ...facts, accountId: 'acc_other' }, { ...ctx(T0 + 2), scannedFor: 'app' });
    expect(moved.miniProgram).toMatchObject({ accountId: 'acc_other', linkedAppId: null, linkHistory: [], createdAt: T0 });
    expect(moved.displaced).toMatchObject({ appId: 'app_first', accountId: 'acc_demo', loss: { reason: 'superseded' } });
    expect(moved.displaced?.loss).not.toHaveProperty('byAppId');
    expect(moved.displaced?.loss.message).toContain('authorized to an app of another account');
    const asPrimary = recordAuthorization(linked, { ...facts, accountId: 'acc_other' }, { ...ctx(T0 + 2), scannedFor: 'primary' });
    expect(asPrimary.displaced?.loss.message).toContain('bound as the primary mini program of another account');
  });

  test('re-authorization by the same account keeps the link and refreshes the facts', () => {
    const linked = linkMiniProgram(authorized(), 'app_first', ctx(T0 + 1)).miniProgram;
    const again = recordAuthorization(
      markNeedsReauth(linked, '61023', T0 + 2),
      { ...facts, nickname: 'Renamed' },
      { ...ctx(T0 + 3), scannedFor: 'app' },
    );
    expect(again.displaced).toBeNull();
    expect(again.miniProgram).toMatchObject({
      linkedAppId: 'app_first',
      nickname: 'Renamed',
      status: 'authorized',
      statusReason: null,
      authorizedAt: T0 + 3,
    });
  });

  test('unbind detaches and records it; unbinding again is a no-op', () => {
    const linked = linkMiniProgram(authorized(), 'app_first', ctx(T0 + 1)).miniProgram;
    const { miniProgram, displaced } = unlinkMiniProgram(linked, 'unbound', ctx(T0 + 2));
    expect(displaced?.loss).toMatchObject({ reason: 'unbound' });
    expect(miniProgram.linkHistory.at(-1)).toMatchObject({ change: 'unlinked', reason: 'unbound', appId: 'app_first' });
    expect(unlinkMiniProgram(miniProgram, 'unbound', ctx(T0 + 3))).toEqual({ miniProgram, displaced: null });
  });

  test('unauthorized: status, reason and the app loses its link', () => {
    const linked = linkMiniProgram(authorized(), 'app_first', ctx(T0 + 1)).miniProgram;
    const { miniProgram, displaced } = markUnauthorized(linked, ctx(T0 + 2, { kind: 'wechat' }));
    expect(miniProgram).toMatchObject({ status: 'unauthorized', linkedAppId: null });
    expect(miniProgram.statusReason).toContain('revoked');
    expect(displaced?.loss.reason).toBe('unauthorized');
    expect(markUnauthorized(miniProgram, ctx(T0 + 3)).miniProgram).toBe(miniProgram);
  });

  test('the link history is bounded', () => {
    let mp = authorized();
    for (let i = 0; i < LINK_HISTORY_LIMIT; i += 1) mp = linkMiniProgram(mp, i % 2 ? 'app_a' : 'app_b', ctx(T0 + i)).miniProgram;
    expect(mp.linkHistory).toHaveLength(LINK_HISTORY_LIMIT);
  });

  test('plugin snapshot', () => {
    const mp = withPlugins(authorized(), [{ appId: 'wx1319af22356934bf', status: 2 }], T0 + 5);
    expect(mp).toMatchObject({ plugins: [{ appId: 'wx1319af22356934bf', status: 2 }], pluginsCheckedAt: T0 + 5 });
  });

  test('roles come from the account’s bound primary and the app link, and can be both', () => {
    const account = newAccount({ id: 'acc_demo', name: 'Acme', apiKeyHash: 'a'.repeat(64) }, T0);
    const mp = authorized();
    const linked = linkMiniProgram(mp, 'app_a', ctx(T0 + 1)).miniProgram;
    const bound = bindPrimary(account, { appid: APPID, subject: 'Acme Ltd' }, T0 + 2);
    expect(rolesOf(mp, account)).toEqual([]);
    expect(rolesOf(mp, bound)).toEqual(['primary']);
    expect(rolesOf(linked, bound)).toEqual(['primary', 'target']);
    expect(rolesOf(linked, bindPrimary(bound, { appid: 'wx00000000000000ff', subject: 'Acme Ltd' }, T0 + 3))).toEqual(['target']);
    expect(rolesOf(linked, unbindPrimary(bound, T0 + 3, 'unbound'))).toEqual(['target']);
  });
});

describe('authorizedAfterPush', () => {
  const push = Date.parse('2026-11-22T10:00:05Z');
  it('takes an authorization in a later second as newer than the push, and one in the same second as older', () => {
    expect(authorizedAfterPush(push + 1000, push)).toBe(true);
    expect(authorizedAfterPush(push + 999, push)).toBe(false);
    expect(authorizedAfterPush(push - 1, push)).toBe(false);
  });
});

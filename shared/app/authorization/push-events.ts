/**
 * WeChat's authorization pushes that need work (DESIGN §2b): `unauthorized` detaches the mini program and voids its
 * deployments; `updateauthorized` re-reads the permission sets. (`authorized` is only recorded: the redirect
 * exchanges its code, and exchanging it here too would make one of them fail with 61009.)
 */
import { primaryOf, unbindPrimary } from '../../domain/account';
import { unlinkApp } from '../../domain/app';
import { weChatAppidSchema } from '../../domain/ids';
import { authorizedAfterPush, type MiniProgram, markUnauthorized } from '../../domain/mini-program';
import type { Write } from '../../store/port';
import { retryOnConflict, updateWithRetry } from '../../store/retry';
import type { Services } from '../context';
import { voidDeploymentsOf } from '../deployments';
import { commitWithEvents, miniProgramWriteEvents } from '../webhooks/outbox';

/**
 * `unauthorized`: the admin revoked the platform. Detach, void in-flight deployments, keep the history. A push older
 * than the mini program's latest authorization (WeChat retries late; the admin scanned again since) is ignored:
 * applying it would wipe the newer authorization.
 */
export async function handleUnauthorized(services: Services, appid: string, pushCreatedAtMs: number): Promise<string> {
  const ignored = (mp: MiniProgram) =>
    `ignored: the push (${new Date(pushCreatedAtMs).toISOString()}) is older than the authorization of ${new Date(mp.authorizedAt).toISOString()}`;
  const known = await services.db.miniPrograms.get(appid);
  if (known && authorizedAfterPush(known.data.authorizedAt, pushCreatedAtMs)) return ignored(known.data);
  // The tokens may already carry an authorization newer than the push whose redirect has not yet written the mini
  // program (it stores the tokens first): then the push is stale for the mini program too.
  const tokens = await services.wechat.tokens.markRevoked(appid, 'unauthorized by the mini program admin', pushCreatedAtMs);
  if (tokens === 'authorized-since')
    return `ignored: the push (${new Date(pushCreatedAtMs).toISOString()}) is older than the authorization being recorded`;
  const parsed = weChatAppidSchema.safeParse(appid);
  if (!parsed.success) return 'not a mini program appid';
  // The first attempt decides on the copy read above: its write is conditional on that version, so a change made
  // since (the redirect finishing) makes it conflict and the retry reads again. A mini program not there above is
  // looked for again, after the tokens were marked: the redirect stores the tokens first and the mini program next.
  let first: typeof known | null = known ?? null;
  const skipped = await retryOnConflict(`unauthorized ${appid}`, async () => {
    const existing = first ?? (await services.db.miniPrograms.get(appid));
    first = null;
    if (!existing) return 'unknown mini program';
    if (authorizedAfterPush(existing.data.authorizedAt, pushCreatedAtMs)) return ignored(existing.data);
    const at = services.clock();
    const actor = { kind: 'wechat' as const };
    const { miniProgram, displaced } = markUnauthorized(existing.data, { at, actor });
    if (miniProgram === existing.data) return null;
    const writes: Write[] = [services.db.miniPrograms.updateWrite(appid, existing.version, miniProgram)];
    if (displaced) {
      const app = await services.db.apps.get(displaced.appId);
      if (app && app.data.miniProgramAppid === appid)
        writes.push(services.db.apps.updateWrite(app.id, app.version, unlinkApp(app.data, displaced.loss)));
    }
    const account = await services.db.accounts.get(existing.data.accountId);
    if (account && primaryOf(account.data)?.appid === appid) {
      writes.push(
        services.db.accounts.updateWrite(
          account.id,
          account.version,
          unbindPrimary(account.data, at, 'its admin revoked the authorization on mp.weixin.qq.com (unauthorized)'),
        ),
      );
    }
    await commitWithEvents(services.store, writes, miniProgramWriteEvents(services.randomBytes, existing, miniProgram, at));
    return null;
  });
  if (skipped !== null) return skipped;
  const voided = await voidDeploymentsOf(
    services,
    parsed.data,
    'the mini program admin revoked the authorization (unauthorized)',
    { kind: 'wechat' },
    { undoAudit: false },
  );
  return `unauthorized; ${voided} deployment(s) voided`;
}

/** `updateauthorized`: permission sets changed; re-read them (without consuming the push's auth code). */
export async function handleUpdateAuthorized(services: Services, appid: string): Promise<string> {
  const existing = await services.db.miniPrograms.get(appid);
  if (!existing) return 'unknown mini program';
  const info = await services.wechat.client.getAuthorizerInfo(appid);
  const funcScopeIds = (info.authorization_info?.func_info ?? []).map((granted) => granted.funcscope_category.id);
  const updated = await updateWithRetry(services.db.miniPrograms, appid, (current) => ({
    ...current.data,
    funcScopeIds: [...new Set(funcScopeIds)].sort((a, b) => a - b),
    updatedAt: services.clock(),
  }));
  return updated ? `permission sets now ${funcScopeIds.join(',')}` : 'unknown mini program';
}

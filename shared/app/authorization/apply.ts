/**
 * What a completed authorization changes: the code exchanged for the mini program's tokens and facts, the mini
 * program recorded and linked in one batch with the accounts and apps it leaves or joins, and afterwards the
 * deployments that lost it voided and those that waited for it resumed.
 */
import { bindPrimary, loseMiniProgram, primaryOf } from '../../domain/account';
import { linkApp, unlinkApp } from '../../domain/app';
import { type AccountId, type AppId, type WeChatAppid, weChatAppidSchema, weChatUserNameSchema } from '../../domain/ids';
import {
  type AuthorizerFacts,
  type Displaced,
  linkMiniProgram,
  type MiniProgram,
  recordAuthorization,
  type ScannedFor,
  takenByAnotherAccount,
  unlinkMiniProgram,
} from '../../domain/mini-program';
import { hasCodePermissions, primarySubjectChange, primarySubjectChangeRefused, sameSubject } from '../../domain/rules';
import type { Write } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import { WeChatApiError } from '../../wechat/errcodes';
import { getAccount, getApp } from '../catalog';
import type { Services } from '../context';
import { DeploymentConflictError, resumeDeploymentsOf, voidDeploymentsOf } from '../deployments';
import { refreshPlugins } from '../mini-programs';
import type { StatePayload } from '../state-token';
import { commitWithEvents, miniProgramWriteEvents, type OutboxEvent } from '../webhooks/outbox';
import { AuthorizationRefusedError } from './outcome';

/**
 * The primary's scan asks only for the sets a primary needs (not 18): when the mini program is also an app's target,
 * the grant of that scan may leave it without code management, and the admin must hear it now, not at the next build.
 */
export function codeManagementLostNote(mp: MiniProgram): string {
  if (mp.linkedAppId === null) return '';
  const { missing } = hasCodePermissions(mp.funcScopeIds, { plugins: false });
  if (missing.length === 0) return '';
  const names = missing.map((set) => `${set.id} (${set.name})`).join(', ');
  return ` It is also the mini program of app ${mp.linkedAppId}, and this scan left it without permission set ${names}: authorize it to that app again before its next build.`;
}

/** Exchanges the code and links what it authorized; returns the mini program as committed. */
export async function exchangeAndApply(services: Services, payload: StatePayload, authCode: string): Promise<MiniProgram> {
  // Through the client: a component token WeChat has already retired is replaced and the call retried once.
  const { client, tokens } = services.wechat;
  let authorization: Awaited<ReturnType<typeof client.queryAuth>>['authorization_info'];
  try {
    authorization = (await client.queryAuth(authCode)).authorization_info;
  } catch (error) {
    // 61009: the code is invalid or already used; 61010: it expired (errcodes.ts has no names for them yet).
    if (error instanceof WeChatApiError && (error.errcode === 61009 || error.errcode === 61010)) {
      throw new AuthorizationRefusedError(
        error.errcode === 61010 ? 'AUTH_CODE_EXPIRED' : 'AUTH_CODE_USED',
        error.errcode === 61010 ? 'the authorization code has expired; scan again' : 'the authorization code was already used; scan again',
        error,
      );
    }
    throw error;
  }
  const appid = weChatAppidSchema.parse(authorization.authorizer_appid);
  // The refresh token is stored before anything else can fail: losing it would force another scan.
  if (authorization.authorizer_refresh_token) {
    await tokens.saveAuthorization(appid, {
      accessToken: authorization.authorizer_access_token,
      expiresInSeconds: authorization.expires_in,
      refreshToken: authorization.authorizer_refresh_token,
    });
  }
  const info = (await client.getAuthorizerInfo(appid)).authorizer_info;
  const funcScopeIds = authorization.func_info.map((granted) => granted.funcscope_category.id);
  const subject = info.principal_name ?? '';
  const userName = weChatUserNameSchema.safeParse(info.user_name);
  if (!userName.success) throw new AuthorizationRefusedError('NOT_A_MINI_PROGRAM', `${appid} has no original id: is it a mini program?`);
  const facts: AuthorizerFacts = {
    appid,
    accountId: payload.accountId as AccountId,
    subject,
    nickname: info.nick_name ?? '',
    userName: userName.data,
    funcScopeIds,
  };
  const { committed, losses, subjectChangedFrom } = await retryOnConflict(`authorize ${appid}`, () =>
    recordAndLink(services, payload, facts),
  );
  const servedApp = committed.linkedAppId;
  await voidLostDeployments(services, losses);
  if (subjectChangedFrom !== null) await voidOtherSubject(services, facts.accountId, { appid, subject }, subjectChangedFrom);
  // Deployments that waited for this authorization (61023, 42007) carry on now rather than after their backoff —
  // only the linked app's: another app's left here would act for a mini program that is no longer theirs.
  await resumeDeploymentsOf(services, appid, servedApp);
  await refreshPlugins(services, appid, funcScopeIds);
  services.log.info('mini program authorized', { appid, purpose: payload.purpose, accountId: payload.accountId });
  return committed;
}

/** An app that lost a mini program in this authorization, with the mini program it lost. */
type Loss = { appId: AppId; appid: WeChatAppid; reason: string };

/**
 * One try at the batch: the mini program, the accounts and the apps it leaves or joins, all at the versions read.
 * Returns what the write that won did: the apps that lost a mini program, and the subject the account had before
 * this scan made the mini program its primary, when that changed it.
 */
async function recordAndLink(
  services: Services,
  payload: StatePayload,
  facts: AuthorizerFacts,
): Promise<{ committed: MiniProgram; losses: Loss[]; subjectChangedFrom: string | null }> {
  const { appid, subject, funcScopeIds } = facts;
  const actor = { kind: 'account' as const, id: payload.accountId };
  const account = await getAccount(services, facts.accountId);
  const existing = await services.db.miniPrograms.get(appid);
  const writes: Write[] = [];
  // The webhook events of the mini program writes below, committed with them.
  const events: OutboxEvent[] = [];
  const at = services.clock();
  const scannedFor: ScannedFor = payload.purpose === 'bind-primary' ? 'primary' : 'app';
  let { miniProgram, displaced } = recordAuthorization(existing?.data ?? null, facts, { at, actor, scannedFor });
  const displacedApps: Displaced[] = displaced ? [displaced] : [];
  const lost: Loss[] = [];
  if (existing && existing.data.accountId !== facts.accountId)
    writes.push(...(await formerOwnerWrites(services, existing.data, scannedFor, at)));

  let change: { from: string } | null = null;
  if (payload.purpose === 'bind-primary') {
    change = primarySubjectChange(account.data, { appid, subject }, services.config.requireSameSubject);
    if (change && !payload.force) {
      const affected = (await otherSubjectMiniPrograms(services, facts.accountId, { appid, subject })).map((mp) => mp.appid);
      throw primarySubjectChangeRefused({ appid, subject }, change, affected);
    }
    writes.push(services.db.accounts.updateWrite(account.id, account.version, bindPrimary(account.data, { appid, subject }, at)));
  } else {
    const primary = primaryOf(account.data);
    const subjectCheck = sameSubject(primary, { appid, subject }, services.config.requireSameSubject);
    if (!subjectCheck.ok) throw subjectCheck.error;
    const app = await getApp(services, facts.accountId, payload.appId ?? '');
    const permissions = hasCodePermissions(funcScopeIds, { plugins: app.data.requiredPlugins.length > 0 });
    if (!permissions.ok) throw permissions.error;
    const linked = linkMiniProgram(miniProgram, app.data.id, { at, actor });
    miniProgram = linked.miniProgram;
    if (linked.displaced) displacedApps.push(linked.displaced);
    // The app held another mini program before: that one is detached (an app publishes to one mini program).
    if (app.data.miniProgramAppid && app.data.miniProgramAppid !== appid) {
      const old = await services.db.miniPrograms.get(app.data.miniProgramAppid);
      if (old && old.data.linkedAppId === app.data.id) {
        const unlinked = unlinkMiniProgram(old.data, 'unbound', { at, actor }).miniProgram;
        writes.push(services.db.miniPrograms.updateWrite(old.id, old.version, unlinked));
        events.push(...miniProgramWriteEvents(services.randomBytes, old, unlinked, at));
      }
      lost.push({
        appId: app.data.id,
        appid: app.data.miniProgramAppid,
        reason: `the app was linked to another mini program (${appid})`,
      });
    }
    writes.push(services.db.apps.updateWrite(app.id, app.version, linkApp(app.data, appid, at)));
  }
  for (const loser of displacedApps) {
    const app = await services.db.apps.get(loser.appId);
    if (app && app.data.miniProgramAppid === appid)
      writes.push(services.db.apps.updateWrite(app.id, app.version, unlinkApp(app.data, loser.loss)));
    lost.push({ appId: loser.appId, appid, reason: loser.loss.message });
  }
  writes.push(
    existing
      ? services.db.miniPrograms.updateWrite(appid, existing.version, miniProgram)
      : services.db.miniPrograms.insertWrite(appid, miniProgram),
  );
  events.push(...miniProgramWriteEvents(services.randomBytes, existing, miniProgram, at));
  await commitWithEvents(services.store, writes, events);
  return { committed: miniProgram, losses: lost, subjectChangedFrom: change?.from ?? null };
}

/** The account's mini programs that the same-subject rule keeps from joining an account whose primary is `primary`. */
async function otherSubjectMiniPrograms(
  services: Services,
  accountId: AccountId,
  primary: { appid: WeChatAppid; subject: string },
): Promise<MiniProgram[]> {
  const all = await services.db.miniPrograms.find({ where: { accountId }, orderBy: { field: 'id' }, limit: 500 });
  return all.map((stored) => stored.data).filter((mp) => !sameSubject(primary, mp, services.config.requireSameSubject).ok);
}

/**
 * The primary changed the account's subject (with force): mini programs of the old subject can no longer publish
 * (`whoCanPublish` refuses them), so their deployments in flight are voided, with the reason in their history, as
 * after an unbind. Best effort after the change is stored: a deployment left open is blocked at its next step.
 */
async function voidOtherSubject(
  services: Services,
  accountId: AccountId,
  primary: { appid: WeChatAppid; subject: string },
  from: string,
): Promise<void> {
  const reason = `the account's primary mini program became ${primary.appid} of "${primary.subject}" (subject changed with force from "${from}"): only mini programs of "${primary.subject}" can publish`;
  for (const mp of await otherSubjectMiniPrograms(services, accountId, primary)) {
    try {
      await voidDeploymentsOf(services, mp.appid, reason, { kind: 'account', id: accountId }, { undoAudit: true, finishReleases: true });
    } catch (error) {
      services.log.error('could not void the deployments of a mini program of the old subject', { appid: mp.appid, error });
    }
  }
}

/**
 * The account a mini program leaves when another account's admin authorizes it: the owner is told what happened in
 * the account's history, and loses it as the primary if it was (its other mini programs stop publishing, as after
 * an unbind). Its app and deployments are dealt with as for any displaced app.
 */
async function formerOwnerWrites(services: Services, taken: MiniProgram, scannedFor: ScannedFor, at: number): Promise<Write[]> {
  const former = await services.db.accounts.get(taken.accountId);
  if (!former) return [];
  const wasPrimary = primaryOf(former.data)?.appid === taken.appid;
  const message =
    `${takenByAnotherAccount(taken.appid, scannedFor)}; it no longer belongs to this account.` +
    (wasPrimary
      ? " It was this account's primary mini program: its other mini programs cannot publish until a primary is bound again."
      : '') +
    ' Its admin can authorize it again for this account.';
  return [services.db.accounts.updateWrite(former.id, former.version, loseMiniProgram(former.data, { appid: taken.appid, message }, at))];
}

/**
 * An app that lost its mini program loses its deployments there, as on `unauthorized` or unbind: left open, one
 * approval of the audit they share with the new app's deployment (85009) would release both. Their audit is withdrawn
 * and a release under way finished first. Best effort after the link is stored: a deployment left open is refused
 * every further step (`DEPLOYMENT_APP_UNLINKED`) and voided by its worker.
 */
async function voidLostDeployments(services: Services, losses: readonly Loss[]): Promise<void> {
  for (const loss of losses) {
    try {
      await voidDeploymentsOf(
        services,
        loss.appid,
        loss.reason,
        { kind: 'system' },
        { undoAudit: true, finishReleases: true, appId: loss.appId },
      );
    } catch (error) {
      // A busy deployment's worker re-checks the link before its next WeChat call and voids it itself.
      const busy = error instanceof DeploymentConflictError && error.code === 'DEPLOYMENT_BUSY';
      services.log[busy ? 'warn' : 'error']('could not void the deployments of an app that lost its mini program', {
        appId: loss.appId,
        appid: loss.appid,
        error,
      });
    }
  }
}

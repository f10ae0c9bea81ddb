/**
 * Binding and authorization (DESIGN §1 steps 1–2, 2b): the authorization URL with a signed state, the redirect
 * back with `auth_code`, and WeChat's authorization events.
 *
 * The redirect does the work, because only it knows (through the signed state) which account and app the scan
 * was for. The `authorized` push carries the same single-use code: exchanging it there would race the redirect
 * and make one of them fail with 61009, so that push is only recorded. `updateauthorized` (permission sets
 * changed on mp.weixin.qq.com, no redirect) re-reads the sets; `unauthorized` detaches and voids.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { bindPrimary, loseMiniProgram, primaryOf, unbindPrimary } from '../domain/account';
import { linkApp, unlinkApp } from '../domain/app';
import {
  AppError,
  ConflictError,
  DuplicateKeyError,
  ERROR_CATEGORIES,
  type ErrorCategory,
  NotFoundError,
  ValidationError,
} from '../domain/errors';
import { type AccountId, type AppId, type WeChatAppid, weChatAppidSchema, weChatUserNameSchema } from '../domain/ids';
import {
  authorizedAfterPush,
  type Displaced,
  linkMiniProgram,
  type MiniProgram,
  markUnauthorized,
  recordAuthorization,
  type ScannedFor,
  takenByAnotherAccount,
  unlinkMiniProgram,
} from '../domain/mini-program';
import { hasCodePermissions, permissionSetsFor, primarySubjectChange, primarySubjectChangeRefused, sameSubject } from '../domain/rules';
import { defineCollection, type Write } from '../store/port';
import { WeChatApiError } from '../wechat/errcodes';
import { getAccount, getApp } from './catalog';
import type { Services } from './context';
import { resumeDeploymentsOf, voidDeploymentsOf } from './deployments';
import { refreshPlugins } from './mini-programs';
import { InvalidStateError, type StatePayload } from './state-token';

// Until deployments.ts imports it from mini-programs.ts (it moved there to end the authorization ↔ deployments cycle).
export { refreshPlugins };

export type Purpose = StatePayload['purpose'];

const authResultSchema = z.object({
  ok: z.boolean(),
  code: z.string(),
  message: z.string(),
  /** A refusal's error category, so a replay answers with the same status (absent before 2026-11-22). */
  // A category this release does not know reads as none (answered as forbidden), not as a corrupt document.
  category: z.enum(ERROR_CATEGORIES).optional().catch(undefined),
  appid: z.string().nullable(),
  at: z.number(),
});
export type AuthResult = z.infer<typeof authResultSchema>;

/**
 * One document per auth code (keyed by its digest), written with the state's claim in one batch: the state and
 * purpose the code came back with, who is exchanging it, and once that is over, its outcome. It answers three
 * questions. A refresh of the same page (same state, same code) is shown the recorded outcome instead of WeChat's
 * 61009. The same code with any other state — another account's, or another callback's — is refused and told
 * nothing: the outcome belongs to the state that produced it. And a delivery that arrives while another one is
 * exchanging the code (browsers and proxies retry) waits for that exchange's outcome rather than spending the code
 * a second time, which WeChat would refuse (61009) and which would then be recorded as a false refusal.
 */
export const authExchangesCollection = defineCollection({
  name: 'authExchanges',
  schema: z.lazy(() =>
    z.object({
      stateNonce: z.string(),
      purpose: z.enum(['bind-primary', 'authorize-app']),
      /** The delivery exchanging the code, and until when it may (after that, a waiting delivery takes over). */
      owner: z.string(),
      exchangeUntil: z.number(),
      result: authResultSchema.nullable(),
    }),
  ),
});
type AuthExchange = z.infer<typeof authExchangesCollection.schema>;

/**
 * Each signed `state` is good for one authorization: the first auth code it comes back with is bound to its nonce
 * here (until the state expires). The same code again is a refreshed callback page and sees the first outcome; a
 * different code is somebody replaying a state they got hold of, to attach another mini program to its account.
 */
export const usedStatesCollection = defineCollection({
  name: 'usedStates',
  schema: z.lazy(() => z.object({ authCode: z.string(), at: z.number() })),
});

const AUTH_RESULT_TTL_MS = 24 * 60 * 60 * 1000;

export class AuthorizationRefusedError extends AppError {
  readonly code: string;
  readonly category: ErrorCategory;
  constructor(code: string, message: string, cause?: unknown, category: ErrorCategory = 'forbidden') {
    super(message, { cause });
    this.code = code;
    this.category = category;
  }
}

/**
 * The primary's scan asks only for the sets a primary needs (not 18): when the mini program is also an app's target,
 * the grant of that scan may leave it without code management, and the admin must hear it now, not at the next build.
 */
function codeManagementLostNote(mp: MiniProgram): string {
  if (mp.linkedAppId === null) return '';
  const { missing } = hasCodePermissions(mp.funcScopeIds, { plugins: false });
  if (missing.length === 0) return '';
  const names = missing.map((set) => `${set.id} (${set.name})`).join(', ');
  return ` It is also the mini program of app ${mp.linkedAppId}, and this scan left it without permission set ${names}: authorize it to that app again before its next build.`;
}

/** A refusal recorded for an auth code, raised again with the status it had the first time. */
export const refusalOf = (result: AuthResult): AuthorizationRefusedError =>
  new AuthorizationRefusedError(result.code, result.message, undefined, result.category ?? 'forbidden');

/** Builds the URL an admin opens (PC: shows a QR; mobile: opens in WeChat) to authorize a mini program. */
export async function authorizationUrl(
  s: Services,
  accountId: AccountId,
  input: { purpose: Purpose; appId?: string; mobile?: boolean; force?: boolean },
): Promise<{ url: string; expiresAt: number }> {
  const account = await getAccount(s, accountId);
  let appId: AppId | null = null;
  let plugins = false;
  if (input.purpose === 'authorize-app') {
    if (!input.appId)
      throw new NotFoundError('appId is required to authorize a mini program for an app', { code: 'APP_NOT_FOUND', field: 'appId' });
    const app = (await getApp(s, accountId, input.appId)).data;
    appId = app.id;
    plugins = app.requiredPlugins.length > 0;
    // Seed 000 step 2: the account's primary mini program must be bound before any app can be authorized.
    if (!primaryOf(account.data)) {
      throw new AuthorizationRefusedError('PRIMARY_NOT_BOUND', 'bind the account’s primary mini program first (purpose bind-primary)');
    }
  }
  const ttlSeconds = 30 * 60;
  const state = s.signer.sign({ purpose: input.purpose, accountId, appId, ...(input.force ? { force: true } : {}) }, ttlSeconds);
  const callback = input.purpose === 'bind-primary' ? '/wechat/bind/callback' : '/wechat/authorize/callback';
  const redirectUri = `${s.config.publicBaseUrl}${callback}?state=${encodeURIComponent(state)}`;
  const { pre_auth_code: preAuthCode } = await s.wechat.client.createPreAuthCode();
  const categoryIdList = permissionSetsFor(input.purpose, { plugins }).requested.map((set) => set.id);
  // auth_type 2: mini programs only (an official account cannot publish mini program code).
  const url = s.wechat.client.authorizationPageUrl({
    preAuthCode,
    redirectUri,
    mobile: input.mobile ?? false,
    authType: 2,
    categoryIdList,
  });
  return { url, expiresAt: s.clock() + ttlSeconds * 1000 };
}

/**
 * Handles the redirect back from the authorization page. Returns what to show the admin; a retried or refreshed
 * redirect returns the first outcome again.
 */
export async function completeAuthorization(
  s: Services,
  purpose: Purpose,
  input: { authCode: string | undefined; state: string | undefined },
): Promise<AuthResult> {
  const payload = s.signer.verify(input.state);
  if (payload.purpose !== purpose) throw new InvalidStateError(`for ${payload.purpose}, not ${purpose}`);
  if (!input.authCode) {
    throw new ValidationError(
      'WeChat returned no auth_code: the admin did not complete the authorization',
      [{ path: 'query.auth_code', message: 'missing' }],
      {
        code: 'AUTH_CODE_MISSING',
      },
    );
  }
  const codeId = createHash('sha256').update(input.authCode).digest('hex');
  const claim = await claimExchange(s, payload, codeId);
  if (claim.kind === 'outcome') return claim.result;

  let result: AuthResult;
  try {
    const miniProgram = await exchangeAndApply(s, payload, input.authCode);
    const { appid } = miniProgram;
    result = {
      ok: true,
      code: purpose === 'bind-primary' ? 'PRIMARY_BOUND' : 'MINI_PROGRAM_AUTHORIZED',
      message:
        purpose === 'bind-primary'
          ? `${appid} is now the account's primary mini program.${codeManagementLostNote(miniProgram)}`
          : `${appid} is now linked to the app.`,
      appid,
      at: s.clock(),
    };
  } catch (error) {
    if (!(error instanceof AppError) || error.category === 'internal' || error.category === 'unavailable') {
      await giveUpExchange(s, codeId, claim.owner);
      throw error;
    }
    result = { ok: false, code: error.code, message: error.message, category: error.category, appid: null, at: s.clock() };
  }
  return recordOutcome(s, codeId, result);
}

/** How long one delivery may exchange a code before another takes over: longer than the callbacks' time limit. */
const EXCHANGE_LEASE_MS = 60_000;
/** How long a delivery waits for another one's exchange before asking the admin to refresh: inside the 15 s limit. */
const EXCHANGE_WAIT_MS = 10_000;

class AuthorizationInProgressError extends AppError {
  readonly code = 'AUTH_IN_PROGRESS';
  readonly category = 'conflict' as const;
}

type Claim = { kind: 'exchange'; owner: string } | { kind: 'outcome'; result: AuthResult };

/**
 * Claims the code for this state, or finds what became of it. The state's claim (`usedStates`) and the code's
 * (`authExchanges`) are one batch, so a refused attempt burns neither: a code seen with another state leaves that
 * state usable for its own code. A delivery of the same state and code that finds the exchange under way waits for
 * its outcome; one whose exchanger has died takes the exchange over.
 */
async function claimExchange(s: Services, payload: StatePayload, codeId: string): Promise<Claim> {
  const used = s.store.collection(usedStatesCollection);
  const exchanges = s.store.collection(authExchangesCollection);
  const owner = Buffer.from(s.randomBytes(8)).toString('hex');
  const waitUntil = Date.now() + EXCHANGE_WAIT_MS;
  for (let pause = 25; ; pause = Math.min(pause * 2, 500)) {
    const now = s.clock();
    const fresh: AuthExchange = {
      stateNonce: payload.nonce,
      purpose: payload.purpose,
      owner,
      exchangeUntil: now + EXCHANGE_LEASE_MS,
      result: null,
    };
    try {
      await s.store.commit([
        used.insertWrite(payload.nonce, { authCode: codeId, at: now }, { expiresAt: payload.exp * 1000 }),
        exchanges.insertWrite(codeId, fresh, { expiresAt: now + AUTH_RESULT_TTL_MS }),
      ]);
      return { kind: 'exchange', owner };
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
    }
    const exchange = await exchanges.get(codeId);
    if (exchange && (exchange.data.stateNonce !== payload.nonce || exchange.data.purpose !== payload.purpose)) {
      // Nothing about the other authorization: not whose it was, not how it ended.
      throw new AuthorizationRefusedError('AUTH_CODE_USED', 'this authorization code belongs to another authorization request; scan again');
    }
    const claimed = await used.get(payload.nonce);
    if (claimed && claimed.data.authCode !== codeId) throw new InvalidStateError('already used for another authorization');
    if (exchange?.data.result) return { kind: 'outcome', result: exchange.data.result };
    if (exchange && exchange.data.exchangeUntil <= now) {
      // The delivery exchanging the code died (or ran out of time): this one carries on.
      try {
        await exchanges.update(codeId, exchange.version, { ...exchange.data, owner, exchangeUntil: now + EXCHANGE_LEASE_MS });
        return { kind: 'exchange', owner };
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    // Under way elsewhere, or both documents were between expiring and being claimed again: look again shortly.
    if (Date.now() >= waitUntil) {
      throw new AuthorizationInProgressError('this authorization is still being completed; refresh the page in a few seconds');
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** After a failure a retry may fix (WeChat or the store unavailable): lets the next delivery exchange at once. */
async function giveUpExchange(s: Services, codeId: string, owner: string): Promise<void> {
  const exchanges = s.store.collection(authExchangesCollection);
  try {
    const exchange = await exchanges.get(codeId);
    if (exchange && exchange.data.owner === owner && !exchange.data.result) {
      await exchanges.update(codeId, exchange.version, { ...exchange.data, exchangeUntil: 0 });
    }
  } catch (error) {
    // Best effort: the lease runs out by itself.
    s.log.warn('could not release the claim on an authorization code', { error });
  }
}

/**
 * Records the exchange's outcome. Another delivery that took over a lapsed exchange may have recorded one first:
 * a success is never overwritten, and never hidden behind a refusal (the takeover's 61009 is this exchange's doing).
 */
async function recordOutcome(s: Services, codeId: string, result: AuthResult): Promise<AuthResult> {
  const exchanges = s.store.collection(authExchangesCollection);
  for (let attempt = 0; ; attempt++) {
    const exchange = await exchanges.get(codeId);
    if (!exchange) return result;
    const recorded = exchange.data.result;
    if (recorded && (recorded.ok || !result.ok)) return recorded;
    try {
      await exchanges.update(codeId, exchange.version, { ...exchange.data, result });
      return result;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 5) throw error;
    }
  }
}

/** Exchanges the code and links what it authorized; returns the mini program as committed. */
async function exchangeAndApply(s: Services, payload: StatePayload, authCode: string): Promise<MiniProgram> {
  // Through the client: a component token WeChat has already retired is replaced and the call retried once.
  const { client, tokens } = s.wechat;
  let authorization: Awaited<ReturnType<typeof client.queryAuth>>['authorization_info'];
  try {
    authorization = (await client.queryAuth(authCode)).authorization_info;
  } catch (error) {
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
  const funcScopeIds = authorization.func_info.map((f) => f.funcscope_category.id);
  const subject = info.principal_name ?? '';
  const userName = weChatUserNameSchema.safeParse(info.user_name);
  if (!userName.success) throw new AuthorizationRefusedError('NOT_A_MINI_PROGRAM', `${appid} has no original id: is it a mini program?`);
  const facts = {
    appid,
    accountId: payload.accountId as AccountId,
    subject,
    nickname: info.nick_name ?? '',
    userName: userName.data,
    funcScopeIds,
  };
  const actor = { kind: 'account' as const, id: payload.accountId };
  // Apps that lost a mini program in this authorization, with the mini program they lost: set by the write that won.
  let losses: { appId: AppId; appid: WeChatAppid; reason: string }[] = [];
  // The app the mini program serves after the write that won: the only one whose deployments there may carry on.
  let servedApp: AppId | null = null;
  // The subject the account had before this scan made the mini program its primary, when that changed it.
  let subjectChangedFrom: string | null = null;
  let committed: MiniProgram | undefined;

  for (let attempt = 0; ; attempt++) {
    const account = await getAccount(s, facts.accountId);
    const existing = await s.db.miniPrograms.get(appid);
    const writes: Write[] = [];
    const at = s.clock();
    const scannedFor: ScannedFor = payload.purpose === 'bind-primary' ? 'primary' : 'app';
    let { miniProgram, displaced } = recordAuthorization(existing?.data ?? null, facts, { at, actor, scannedFor });
    const displacedApps: Displaced[] = displaced ? [displaced] : [];
    const lost: typeof losses = [];
    if (existing && existing.data.accountId !== facts.accountId)
      writes.push(...(await formerOwnerWrites(s, existing.data, scannedFor, at)));

    let change: { from: string } | null = null;
    if (payload.purpose === 'bind-primary') {
      change = primarySubjectChange(account.data, { appid, subject }, s.config.requireSameSubject);
      if (change && !payload.force) {
        const affected = (await otherSubjectMiniPrograms(s, facts.accountId, { appid, subject })).map((mp) => mp.appid);
        throw primarySubjectChangeRefused({ appid, subject }, change, affected);
      }
      writes.push(s.db.accounts.updateWrite(account.id, account.version, bindPrimary(account.data, { appid, subject }, at)));
    } else {
      const primary = primaryOf(account.data);
      const subjectCheck = sameSubject(primary, { appid, subject }, s.config.requireSameSubject);
      if (!subjectCheck.ok) throw subjectCheck.error;
      const app = await getApp(s, facts.accountId, payload.appId ?? '');
      const permissions = hasCodePermissions(funcScopeIds, { plugins: app.data.requiredPlugins.length > 0 });
      if (!permissions.ok) throw permissions.error;
      const linked = linkMiniProgram(miniProgram, app.data.id, { at, actor });
      miniProgram = linked.miniProgram;
      if (linked.displaced) displacedApps.push(linked.displaced);
      // The app held another mini program before: that one is detached (an app publishes to one mini program).
      if (app.data.miniProgramAppid && app.data.miniProgramAppid !== appid) {
        const old = await s.db.miniPrograms.get(app.data.miniProgramAppid);
        if (old && old.data.linkedAppId === app.data.id) {
          writes.push(
            s.db.miniPrograms.updateWrite(old.id, old.version, unlinkMiniProgram(old.data, 'unbound', { at, actor }).miniProgram),
          );
        }
        lost.push({
          appId: app.data.id,
          appid: app.data.miniProgramAppid,
          reason: `the app was linked to another mini program (${appid})`,
        });
      }
      writes.push(s.db.apps.updateWrite(app.id, app.version, linkApp(app.data, appid, at)));
    }
    for (const loser of displacedApps) {
      const app = await s.db.apps.get(loser.appId);
      if (app && app.data.miniProgramAppid === appid)
        writes.push(s.db.apps.updateWrite(app.id, app.version, unlinkApp(app.data, loser.loss)));
      lost.push({ appId: loser.appId, appid, reason: loser.loss.message });
    }
    writes.push(
      existing ? s.db.miniPrograms.updateWrite(appid, existing.version, miniProgram) : s.db.miniPrograms.insertWrite(appid, miniProgram),
    );
    try {
      await s.store.commit(writes);
      losses = lost;
      committed = miniProgram;
      servedApp = miniProgram.linkedAppId;
      subjectChangedFrom = change?.from ?? null;
      break;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 5) throw error;
    }
  }
  await voidLostDeployments(s, losses);
  if (subjectChangedFrom !== null) await voidOtherSubject(s, facts.accountId, { appid, subject }, subjectChangedFrom);
  // Deployments that waited for this authorization (61023, 42007) carry on now rather than after their backoff —
  // only the linked app's: another app's left here would act for a mini program that is no longer theirs.
  await resumeDeploymentsOf(s, appid, servedApp);
  await refreshPlugins(s, appid, funcScopeIds);
  s.log.info('mini program authorized', { appid, purpose: payload.purpose, accountId: payload.accountId });
  return committed;
}

/** The account's mini programs that the same-subject rule keeps from joining an account whose primary is `primary`. */
async function otherSubjectMiniPrograms(
  s: Services,
  accountId: AccountId,
  primary: { appid: WeChatAppid; subject: string },
): Promise<MiniProgram[]> {
  const all = await s.db.miniPrograms.find({ where: { accountId }, orderBy: { field: 'id' }, limit: 500 });
  return all.map((d) => d.data).filter((mp) => !sameSubject(primary, mp, s.config.requireSameSubject).ok);
}

/**
 * The primary changed the account's subject (with force): mini programs of the old subject can no longer publish
 * (`whoCanPublish` refuses them), so their deployments in flight are voided, with the reason in their history, as
 * after an unbind. Best effort after the change is stored: a deployment left open is blocked at its next step.
 */
async function voidOtherSubject(
  s: Services,
  accountId: AccountId,
  primary: { appid: WeChatAppid; subject: string },
  from: string,
): Promise<void> {
  const reason = `the account's primary mini program became ${primary.appid} of "${primary.subject}" (subject changed with force from "${from}"): only mini programs of "${primary.subject}" can publish`;
  for (const mp of await otherSubjectMiniPrograms(s, accountId, primary)) {
    try {
      await voidDeploymentsOf(s, mp.appid, reason, { kind: 'account', id: accountId }, { undoAudit: true, finishReleases: true });
    } catch (error) {
      s.log.error('could not void the deployments of a mini program of the old subject', { appid: mp.appid, error });
    }
  }
}

/**
 * The account a mini program leaves when another account's admin authorizes it: the owner is told what happened in
 * the account's history, and loses it as the primary if it was (its other mini programs stop publishing, as after
 * an unbind). Its app and deployments are dealt with as for any displaced app.
 */
async function formerOwnerWrites(s: Services, taken: MiniProgram, scannedFor: ScannedFor, at: number): Promise<Write[]> {
  const former = await s.db.accounts.get(taken.accountId);
  if (!former) return [];
  const wasPrimary = primaryOf(former.data)?.appid === taken.appid;
  const message =
    `${takenByAnotherAccount(taken.appid, scannedFor)}; it no longer belongs to this account.` +
    (wasPrimary
      ? " It was this account's primary mini program: its other mini programs cannot publish until a primary is bound again."
      : '') +
    ' Its admin can authorize it again for this account.';
  return [s.db.accounts.updateWrite(former.id, former.version, loseMiniProgram(former.data, { appid: taken.appid, message }, at))];
}

/**
 * An app that lost its mini program loses its deployments there, as on `unauthorized` or unbind: left open, one
 * approval of the audit they share with the new app's deployment (85009) would release both, and the code at
 * WeChat would not be what either record says. Their audit is withdrawn (the platform still acts for the mini
 * program), so the app that has it now can submit; a release already under way is finished first.
 * Best effort after the link is stored: a deployment left open (its lease stayed busy) cannot submit, retry or
 * release any more (`DEPLOYMENT_APP_UNLINKED`), and its worker voids it instead of taking its next step at WeChat.
 */
async function voidLostDeployments(s: Services, losses: readonly { appId: AppId; appid: WeChatAppid; reason: string }[]): Promise<void> {
  for (const loss of losses) {
    try {
      await voidDeploymentsOf(s, loss.appid, loss.reason, { kind: 'system' }, { undoAudit: true, finishReleases: true, appId: loss.appId });
    } catch (error) {
      s.log.error('could not void the deployments of an app that lost its mini program', { appId: loss.appId, appid: loss.appid, error });
    }
  }
}

/**
 * `unauthorized`: the admin revoked the platform. Detach, void in-flight deployments, keep the history. A push older
 * than the mini program's latest authorization (WeChat retries late; the admin scanned again since) is ignored:
 * applying it would wipe the newer authorization.
 */
export async function handleUnauthorized(s: Services, appid: string, pushCreatedAtMs: number): Promise<string> {
  const ignored = (mp: MiniProgram) =>
    `ignored: the push (${new Date(pushCreatedAtMs).toISOString()}) is older than the authorization of ${new Date(mp.authorizedAt).toISOString()}`;
  const known = await s.db.miniPrograms.get(appid);
  if (known && authorizedAfterPush(known.data.authorizedAt, pushCreatedAtMs)) return ignored(known.data);
  // The tokens may already carry an authorization newer than the push whose redirect has not yet written the mini
  // program (it stores the tokens first): then the push is stale for the mini program too.
  const tokens = await s.wechat.tokens.markRevoked(appid, 'unauthorized by the mini program admin', pushCreatedAtMs);
  if (tokens === 'authorized-since')
    return `ignored: the push (${new Date(pushCreatedAtMs).toISOString()}) is older than the authorization being recorded`;
  const parsed = weChatAppidSchema.safeParse(appid);
  if (!parsed.success) return 'not a mini program appid';
  for (let attempt = 0; ; attempt++) {
    const existing = await s.db.miniPrograms.get(appid);
    if (!existing) return 'unknown mini program';
    if (authorizedAfterPush(existing.data.authorizedAt, pushCreatedAtMs)) return ignored(existing.data);
    const at = s.clock();
    const actor = { kind: 'wechat' as const };
    const { miniProgram, displaced } = markUnauthorized(existing.data, { at, actor });
    if (miniProgram === existing.data) break;
    const writes: Write[] = [s.db.miniPrograms.updateWrite(appid, existing.version, miniProgram)];
    if (displaced) {
      const app = await s.db.apps.get(displaced.appId);
      if (app && app.data.miniProgramAppid === appid)
        writes.push(s.db.apps.updateWrite(app.id, app.version, unlinkApp(app.data, displaced.loss)));
    }
    const account = await s.db.accounts.get(existing.data.accountId);
    if (account && primaryOf(account.data)?.appid === appid) {
      writes.push(
        s.db.accounts.updateWrite(
          account.id,
          account.version,
          unbindPrimary(account.data, at, 'its admin revoked the authorization on mp.weixin.qq.com (unauthorized)'),
        ),
      );
    }
    try {
      await s.store.commit(writes);
      break;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 5) throw error;
    }
  }
  const voided = await voidDeploymentsOf(
    s,
    parsed.data,
    'the mini program admin revoked the authorization (unauthorized)',
    { kind: 'wechat' },
    { undoAudit: false },
  );
  return `unauthorized; ${voided} deployment(s) voided`;
}

/** `updateauthorized`: permission sets changed; re-read them (without consuming the push's auth code). */
export async function handleUpdateAuthorized(s: Services, appid: string): Promise<string> {
  const existing = await s.db.miniPrograms.get(appid);
  if (!existing) return 'unknown mini program';
  const info = await s.wechat.client.getAuthorizerInfo(appid);
  const funcScopeIds = (info.authorization_info?.func_info ?? []).map((f) => f.funcscope_category.id);
  for (;;) {
    const current = await s.db.miniPrograms.get(appid);
    if (!current) return 'unknown mini program';
    try {
      await s.db.miniPrograms.update(appid, current.version, {
        ...current.data,
        funcScopeIds: [...new Set(funcScopeIds)].sort((a, b) => a - b),
        updatedAt: s.clock(),
      });
      return `permission sets now ${funcScopeIds.join(',')}`;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

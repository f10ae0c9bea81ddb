/**
 * Mini programs: authorizers of the platform, keyed by their WeChat appid. A mini program belongs to one
 * account (the last one whose admin authorized it) and serves at most one app at a time.
 *
 * "The latest authorization wins" (seed 003 §4: "支持将注册小程序重复授权和授权给其他应用，但仅对最新授权的应用生效"):
 * linking it to an app takes it from the app that had it, and the functions here return who was displaced, with
 * the `LinkLoss` to store on that app so its owner can see why.
 *
 * Tokens are not here: they change every two hours and live in `authorizerTokens` (shared/wechat/tokens.ts), so a
 * token refresh never races a business change of this document.
 *
 * The schemas are `z.lazy`: built on their first parse rather than at every cold start's import (`lazyTarget` in
 * common.ts gives the built schema, to derive another from it).
 */

import { type Account, isPrimary } from './account';
import type { LinkLoss } from './app';
import { type Actor, actorSchema } from './common';
import type { AccountId, AppId, WeChatAppid, WeChatUserName } from './ids';
import { accountIdSchema, appIdSchema, timestampSchema, weChatAppidSchema, weChatUserNameSchema } from './ids';
import { type InstalledPlugin, installedPluginSchema } from './plugins';
import * as z from './zod';

export const miniProgramStatusSchema = z.enum(['authorized', 'unauthorized', 'needs-reauth']);
export type MiniProgramStatus = z.infer<typeof miniProgramStatusSchema>;

/**
 * What a mini program is to its account, derived (never stored): `primary` while it is the account's bound primary,
 * `target` while an app publishes to it. Both at once is common (WeDa's steps 1 and 2 with one mini program);
 * stored, the role went stale whenever the primary moved to another mini program.
 */
export const miniProgramRoleSchema = z.enum(['primary', 'target']);
export type MiniProgramRole = z.infer<typeof miniProgramRoleSchema>;

export const rolesOf = (mp: Pick<MiniProgram, 'appid' | 'linkedAppId'>, account: Account): MiniProgramRole[] => [
  ...(isPrimary(account, mp.appid) ? (['primary'] as const) : []),
  ...(mp.linkedAppId !== null ? (['target'] as const) : []),
];

export const linkChangeSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    at: timestampSchema,
    change: z.enum(['linked', 'unlinked']),
    appId: appIdSchema,
    reason: z.enum(['authorized', 'superseded', 'unbound', 'unauthorized']),
    actor: actorSchema,
  }),
);
export type LinkChange = z.infer<typeof linkChangeSchema>;

/** Re-authorizations are unbounded; the document is not. */
export const LINK_HISTORY_LIMIT = 50;

export const miniProgramSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    appid: weChatAppidSchema,
    accountId: accountIdSchema,
    /** `principal_name`. */
    subject: z.string().check(z.minLength(1)),
    nickname: z.string(),
    /** Original id (`gh_…`): how audit pushes, which carry only `ToUserName`, find their mini program. */
    userName: weChatUserNameSchema,
    /** Permission sets granted (`func_info[].funcscope_category.id`). */
    funcScopeIds: z.array(z.number().check(z.int(), z.positive())),
    status: miniProgramStatusSchema,
    /** Why the status is not `authorized`, for the owner. */
    statusReason: z.nullable(z.string()),
    linkedAppId: z.nullable(appIdSchema),
    /** `/wxa/plugin` list as last read; a snapshot, so `pluginsCheckedAt` says how old it is. */
    plugins: z.array(installedPluginSchema),
    pluginsCheckedAt: z.nullable(timestampSchema),
    linkHistory: z.array(linkChangeSchema),
    authorizedAt: timestampSchema,
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  }),
);
export type MiniProgram = z.infer<typeof miniProgramSchema>;

/** What `api_query_auth` + `api_get_authorizer_info` tell about a mini program that was just authorized. */
export interface AuthorizerFacts {
  readonly appid: WeChatAppid;
  readonly accountId: AccountId;
  readonly subject: string;
  readonly nickname: string;
  readonly userName: WeChatUserName;
  readonly funcScopeIds: readonly number[];
}

export interface MiniProgramContext {
  readonly at: number;
  readonly actor: Actor;
}

/** An app that lost its mini program: store `loss` on it (`unlinkApp`). */
export interface Displaced {
  readonly appId: AppId;
  readonly accountId: AccountId;
  readonly loss: LinkLoss;
}

export interface LinkResult {
  readonly miniProgram: MiniProgram;
  readonly displaced: Displaced | null;
}

/** What the admin scanned for: the account's primary (bind-primary) or an app (authorize-app). */
export type ScannedFor = 'primary' | 'app';

/** How a mini program left for another account, in the words its former owner reads. */
export const takenByAnotherAccount = (appid: string, scannedFor: ScannedFor): string =>
  scannedFor === 'primary'
    ? `The mini program ${appid} was bound as the primary mini program of another account (its admin scanned that account's authorization page)`
    : `The mini program ${appid} was authorized to an app of another account (its admin scanned that account's authorization page)`;

const LOSS_MESSAGES: Record<LinkLoss['reason'], (appid: string, byAppId?: string, scannedFor?: ScannedFor) => string> = {
  superseded: (appid, byAppId, scannedFor = 'app') =>
    `${byAppId ? `The mini program ${appid} was authorized to the app ${byAppId}` : takenByAnotherAccount(appid, scannedFor)}; ` +
    'the latest authorization wins. Authorize it again for this app to take it back.',
  unbound: (appid) => `The mini program ${appid} was unbound from this app.`,
  unauthorized: (appid) => `The mini program's admin revoked the platform's authorization of ${appid} on mp.weixin.qq.com.`,
};

const withChange = (history: readonly LinkChange[], change: LinkChange): LinkChange[] => [...history, change].slice(-LINK_HISTORY_LIMIT);

const displace = (
  mp: MiniProgram,
  reason: LinkLoss['reason'],
  ctx: MiniProgramContext,
  winner: { accountId: AccountId; appId?: AppId; scannedFor?: ScannedFor } | null,
): Displaced | null => {
  if (mp.linkedAppId === null) return null;
  // An app id of another account is not shown: accounts never see each other's ids.
  const byAppId = winner?.accountId === mp.accountId ? winner.appId : undefined;
  const loss: LinkLoss = {
    at: ctx.at,
    reason,
    miniProgramAppid: mp.appid,
    ...(byAppId ? { byAppId } : {}),
    message: LOSS_MESSAGES[reason](mp.appid, byAppId, winner?.scannedFor),
  };
  return { appId: mp.linkedAppId, accountId: mp.accountId, loss };
};

/**
 * Records a (re-)authorization. When another account's admin authorizes the mini program, it moves to that
 * account: the app that had it is displaced (told what the other account's admin scanned for) and the link history
 * starts afresh (it names the old account's apps).
 */
export const recordAuthorization = (
  existing: MiniProgram | null,
  facts: AuthorizerFacts,
  ctx: MiniProgramContext & { scannedFor: ScannedFor },
): LinkResult => {
  const sameAccount = existing !== null && existing.accountId === facts.accountId;
  const displaced =
    existing && !sameAccount ? displace(existing, 'superseded', ctx, { accountId: facts.accountId, scannedFor: ctx.scannedFor }) : null;
  const miniProgram: MiniProgram = {
    appid: facts.appid,
    accountId: facts.accountId,
    subject: facts.subject,
    nickname: facts.nickname,
    userName: facts.userName,
    funcScopeIds: [...new Set(facts.funcScopeIds)].sort((a, b) => a - b),
    status: 'authorized',
    statusReason: null,
    linkedAppId: sameAccount ? existing.linkedAppId : null,
    plugins: sameAccount ? existing.plugins : [],
    pluginsCheckedAt: sameAccount ? existing.pluginsCheckedAt : null,
    linkHistory: sameAccount ? existing.linkHistory : [],
    authorizedAt: ctx.at,
    createdAt: existing?.createdAt ?? ctx.at,
    updatedAt: ctx.at,
  };
  return { miniProgram, displaced };
};

/** Links the mini program to an app of its account; the app that had it is displaced. Linking again is a no-op. */
export const linkMiniProgram = (mp: MiniProgram, appId: AppId, ctx: MiniProgramContext): LinkResult => {
  if (mp.linkedAppId === appId) return { miniProgram: mp, displaced: null };
  const displaced = displace(mp, 'superseded', ctx, { accountId: mp.accountId, appId });
  let history = mp.linkHistory;
  if (displaced)
    history = withChange(history, { at: ctx.at, change: 'unlinked', appId: displaced.appId, reason: 'superseded', actor: ctx.actor });
  history = withChange(history, { at: ctx.at, change: 'linked', appId, reason: 'authorized', actor: ctx.actor });
  return { miniProgram: { ...mp, linkedAppId: appId, linkHistory: history, updatedAt: ctx.at }, displaced };
};

/** Detaches the mini program from its app (unbind, or WeChat's `unauthorized`). Unlinked already = no-op. */
export const unlinkMiniProgram = (mp: MiniProgram, reason: 'unbound' | 'unauthorized', ctx: MiniProgramContext): LinkResult => {
  const displaced = displace(mp, reason, ctx, null);
  if (!displaced) return { miniProgram: mp, displaced: null };
  const history = withChange(mp.linkHistory, { at: ctx.at, change: 'unlinked', appId: displaced.appId, reason, actor: ctx.actor });
  return { miniProgram: { ...mp, linkedAppId: null, linkHistory: history, updatedAt: ctx.at }, displaced };
};

/**
 * Whether an authorization at `authorizedAtMs` came after a push WeChat created at `pushCreatedAtMs` (its CreateTime):
 * a revocation older than the latest authorization is stale. CreateTime has whole seconds, so within one second the
 * order is unknown and the push is taken as the later (a revocation wrongly ignored would leave us acting for a mini
 * program that no longer wants us; a scan is the cheaper mistake). The mini program's link and its tokens both
 * decide by this rule, so they never disagree.
 */
export const authorizedAfterPush = (authorizedAtMs: number, pushCreatedAtMs: number): boolean =>
  Math.floor(authorizedAtMs / 1000) > Math.floor(pushCreatedAtMs / 1000);

/** WeChat's `unauthorized` push: the platform may no longer act for this mini program, so its app loses it. */
export const markUnauthorized = (mp: MiniProgram, ctx: MiniProgramContext): LinkResult => {
  const { miniProgram, displaced } = unlinkMiniProgram(mp, 'unauthorized', ctx);
  if (miniProgram.status === 'unauthorized') return { miniProgram, displaced };
  return {
    miniProgram: { ...miniProgram, status: 'unauthorized', statusReason: LOSS_MESSAGES.unauthorized(mp.appid), updatedAt: ctx.at },
    displaced,
  };
};

/** 61023 and friends: the refresh token is dead and only a new scan by the admin brings it back. */
export const markNeedsReauth = (mp: MiniProgram, reason: string, at: number): MiniProgram =>
  mp.status === 'needs-reauth' ? mp : { ...mp, status: 'needs-reauth', statusReason: reason, updatedAt: at };

export const withPlugins = (mp: MiniProgram, plugins: readonly InstalledPlugin[], at: number): MiniProgram => ({
  ...mp,
  plugins: plugins.map((p) => ({ ...p })),
  pluginsCheckedAt: at,
  updatedAt: at,
});

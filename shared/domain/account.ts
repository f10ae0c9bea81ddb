/**
 * Accounts: one customer of the platform (a Tencent Cloud account in seed 000). An account acts with API keys
 * and owns apps and mini programs. Its *primary* mini program (seed 000 step 1, "主账号绑定目标小程序") fixes
 * the account's subject; every mini program authorized later must share it, and publishing stops for all of
 * them while no primary is bound ("绑定腾讯云的账号的主小程序，解绑授权后将导致其他小程序不可发布").
 *
 * The schemas are `z.lazy`: built on their first parse rather than at every cold start's import (`lazyTarget` in
 * common.ts gives the built schema, to derive another from it).
 */

import type { AccountId, WeChatAppid } from './ids';
import { accountIdSchema, sha256HexSchema, timestampSchema, weChatAppidSchema } from './ids';
import * as z from './zod';

/** Two live keys cover a rotation (new key deployed while the old one still works); a third is one too many. */
export const MAX_API_KEYS = 2;

/** `none`: never bound · `bound` · `unbound`: was bound and is no longer (publishing is blocked until rebound). */
export const primaryStatusSchema = z.enum(['none', 'bound', 'unbound']);
export type PrimaryStatus = z.infer<typeof primaryStatusSchema>;

export const primaryMiniProgramSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    appid: weChatAppidSchema,
    /** `principal_name` of the mini program: the account's subject. */
    subject: z.string().check(z.minLength(1)),
    boundAt: timestampSchema,
  }),
);
export type PrimaryMiniProgram = z.infer<typeof primaryMiniProgramSchema>;

/**
 * What happened to the account's primary and mini programs, for its owner: a mini program can leave the account
 * without the owner doing anything (another account's admin scanned it), and then this is the only trace left.
 */
export const accountEventSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    at: timestampSchema,
    event: z.enum(['primary-bound', 'primary-unbound', 'mini-program-taken']),
    miniProgramAppid: weChatAppidSchema,
    message: z.string(),
  }),
);
export type AccountEvent = z.infer<typeof accountEventSchema>;

/** The newest events are kept; the document stays bounded. */
export const ACCOUNT_HISTORY_LIMIT = 50;

// No object-level refinements on document schemas: zod forbids `.omit()` on them, and the API derives its
// response schemas that way (an account without its key hashes).
export const accountSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    id: accountIdSchema,
    name: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
    apiKeyHashes: z.array(sha256HexSchema).check(z.maxLength(MAX_API_KEYS)),
    /** Null only while `primaryStatus` is `none`; kept after an unbind so the owner sees which one it was. */
    primaryMiniProgram: z.nullable(primaryMiniProgramSchema),
    primaryStatus: primaryStatusSchema,
    /** Oldest first; absent in documents written before 2026-12-07. */
    history: z._default(z.array(accountEventSchema), []),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  }),
);
export type Account = z.infer<typeof accountSchema>;

export const newAccount = (input: { id: AccountId; name: string; apiKeyHash: string }, at: number): Account => ({
  id: input.id,
  name: input.name,
  apiKeyHashes: [input.apiKeyHash],
  primaryMiniProgram: null,
  primaryStatus: 'none',
  history: [],
  createdAt: at,
  updatedAt: at,
});

/** Adds a key for a rotation; the oldest key beyond `MAX_API_KEYS` stops working. */
export const addApiKeyHash = (account: Account, hash: string, at: number): Account => ({
  ...account,
  apiKeyHashes: [...account.apiKeyHashes.filter((h) => h !== hash), hash].slice(-MAX_API_KEYS),
  updatedAt: at,
});

export const revokeApiKeyHash = (account: Account, hash: string, at: number): Account => ({
  ...account,
  apiKeyHashes: account.apiKeyHashes.filter((h) => h !== hash),
  updatedAt: at,
});

// WeChat has been seen to spell one company's name with full-width or half-width brackets and spaces;
// NFKC folds （） into (), and spaces carry no meaning in a registered name.
export const normalizeSubject = (subject: string): string => subject.normalize('NFKC').replace(/\s+/g, '').toLowerCase();

const withEvent = (account: Account, event: Omit<AccountEvent, 'at'>, at: number): Account => ({
  ...account,
  history: [...account.history, { at, ...event }].slice(-ACCOUNT_HISTORY_LIMIT),
  updatedAt: at,
});

/** Binding again (the same or another mini program) replaces the primary: the subject follows it. */
export const bindPrimary = (account: Account, primary: { appid: WeChatAppid; subject: string }, at: number): Account => {
  const previous = account.primaryMiniProgram;
  const replaced = previous && previous.appid !== primary.appid ? ` in place of ${previous.appid}` : '';
  const subjectChanged =
    previous && normalizeSubject(previous.subject) !== normalizeSubject(primary.subject)
      ? `; the account's subject changed from "${previous.subject}"`
      : '';
  return withEvent(
    { ...account, primaryMiniProgram: { appid: primary.appid, subject: primary.subject, boundAt: at }, primaryStatus: 'bound' },
    {
      event: 'primary-bound',
      miniProgramAppid: primary.appid,
      message: `${primary.appid} was bound as the primary mini program${replaced} (subject "${primary.subject}")${subjectChanged}.`,
    },
    at,
  );
};

/** `why` completes "The primary mini program wx… was unbound: …" in the account's history. */
export const unbindPrimary = (account: Account, at: number, why: string): Account => {
  const primary = primaryOf(account);
  if (!primary) return account;
  return withEvent(
    { ...account, primaryStatus: 'unbound' },
    {
      event: 'primary-unbound',
      miniProgramAppid: primary.appid,
      message: `The primary mini program ${primary.appid} was unbound: ${why}.`,
    },
    at,
  );
};

/**
 * Another account's admin authorized one of this account's mini programs (to an app, or as that account's primary):
 * it belongs to the other account now, the latest authorization wins. Recorded, and the primary is unbound if it was
 * the one taken.
 */
export const loseMiniProgram = (account: Account, taken: { appid: WeChatAppid; message: string }, at: number): Account =>
  withEvent(
    primaryOf(account)?.appid === taken.appid ? { ...account, primaryStatus: 'unbound' } : account,
    { event: 'mini-program-taken', miniProgramAppid: taken.appid, message: taken.message },
    at,
  );

export const isPrimary = (account: Account, appid: string): boolean =>
  account.primaryStatus === 'bound' && account.primaryMiniProgram?.appid === appid;

/** The primary that rules may rely on: null unless one is bound now. */
export const primaryOf = (account: Account): PrimaryMiniProgram | null =>
  account.primaryStatus === 'bound' ? account.primaryMiniProgram : null;

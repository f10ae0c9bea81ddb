/**
 * The token manager: verify tickets, the component access token and every authorizer access token, kept in the
 * store (sealed under DATA_KEY) and shared by all instances of all functions.
 *
 * What it guarantees, and why (see the peers' pain points: token storms, lost tickets, lost refresh tokens):
 * - A token is refreshed ahead of expiry by exactly one lease holder, however many instances ask at once; the
 *   holder re-reads after taking the lease, so an instance that lost the race never refreshes again. Others
 *   keep using the still-valid token, or wait for the holder when there is none.
 * - A token is invalidated only if the stored one is the one WeChat rejected: an instance that saw a stale
 *   token cannot throw away the fresh one another instance just stored.
 * - Within one process, concurrent callers share one refresh per token (the lease cannot tell them apart: they
 *   are one owner). The holder renews its lease while a refresh runs, so a slow refresh is not taken over.
 * - When two refreshes do overlap (a process stalled past its lease), the newest token wins: a component token
 *   never replaces one that expires later; a refresh token replaces a stored one only if WeChat answered it
 *   later, and never one from an authorization made since the refresh began.
 * - Every refresh token WeChat returns is persisted before the access token that came with it is used.
 *   On `61023` the refresh token stored meanwhile (a new authorization) or the one `api_get_authorizer_list`
 *   holds is tried before the mini program is marked `needs-reauth` — and only if the rejected token is still
 *   the stored one.
 * - Every ticket push is stored, and the previous ticket kept as a fallback (a ticket lives 12 h, pushes come
 *   every 10 min). With no ticket at all, `api_start_push_ticket` is asked for, at most every few minutes.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AppError } from '../domain/errors';
import { authorizedAfterPush } from '../domain/mini-program';
import * as z from '../domain/zod';
import type { Logger } from '../runtime/logger';
import { registerSecret } from '../runtime/logger';
import type { MetricsRecorder } from '../runtime/metrics';
import { createLeases, type Leases } from '../store/leases';
import { type Collection, type DocumentStore, defineCollection } from '../store/port';
import { retryOnConflict, UNCHANGED, updateWithRetry } from '../store/retry';
import type { SecretBox } from '../store/secret-box';
import type { TokenSource } from './client';
import type { ComponentApi } from './component-api';
import { ERRCODE, isTokenError, WeChatApiError } from './errcodes';

export const TICKET_LIFETIME_MS = 12 * 60 * 60 * 1000;

export const platformCollection = defineCollection({
  name: 'platform',
  schema: z.lazy(() =>
    z.object({
      ticket: z.nullable(z.string()),
      ticketCreatedAt: z.nullable(z.number()),
      previousTicket: z.nullable(z.string()),
      previousTicketCreatedAt: z.nullable(z.number()),
      componentToken: z.nullable(z.string()),
      componentTokenExpiresAt: z.nullable(z.number()),
      pushTicketRequestedAt: z.nullable(z.number()),
    }),
  ),
});
export type PlatformDoc = z.output<typeof platformCollection.schema>;

/**
 * Kept apart from the `miniPrograms` documents on purpose: tokens change every two hours, and a token refresh
 * must never collide (compare-and-set) with a business change of the mini program, or vice versa.
 */
export const authorizerTokensCollection = defineCollection({
  name: 'authorizerTokens',
  schema: z.lazy(() =>
    z.object({
      refreshToken: z.nullable(z.string()),
      /** When WeChat's answer carrying this refresh token arrived. */
      refreshTokenUpdatedAt: z.number(),
      /** The last authorization (the redirect's `api_query_auth`); absent on documents written before 2026-11-22. */
      authorizedAt: z.optional(z.number()),
      accessToken: z.nullable(z.string()),
      accessTokenExpiresAt: z.nullable(z.number()),
      status: z.enum(['active', 'needs-reauth', 'revoked']),
      statusReason: z.nullable(z.string()),
    }),
  ),
  indexes: ['status'],
});
export type AuthorizerTokensDoc = z.output<typeof authorizerTokensCollection.schema>;

export class NoVerifyTicketError extends AppError {
  readonly code = 'WECHAT_NO_VERIFY_TICKET';
  readonly category = 'unavailable' as const;
}

export class AuthorizerNotAuthorizedError extends AppError {
  readonly code: string;
  readonly category = 'forbidden' as const;
  constructor(
    message: string,
    options: { code: 'MINI_PROGRAM_NEEDS_REAUTH' | 'MINI_PROGRAM_NOT_AUTHORIZED'; cause?: unknown; appId: string },
  ) {
    super(message, { cause: options.cause, details: { appId: options.appId } });
    this.code = options.code;
  }
}

export class TokenUnavailableError extends AppError {
  readonly code = 'WECHAT_TOKEN_UNAVAILABLE';
  readonly category = 'unavailable' as const;
}

export interface TokenManagerOptions {
  store: DocumentStore;
  api: ComponentApi;
  box: SecretBox;
  log: Logger;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Refresh this long before expiry (WeChat advises re-fetching when about 10 minutes remain). */
  refreshAheadMs?: number;
  /** How long one refresher may hold the lease; longer than the client's worst-case retries. */
  leaseMs?: number;
  /** How long a caller waits for another instance's refresh before giving up. */
  waitMs?: number;
  /** Told when a mini program must be authorized again (61023): the pipeline marks it and tells its owner. */
  onNeedsReauth?: (appId: string, reason: string) => Promise<void>;
  /** Refreshes and needs-reauth marks are counted here (token_refreshes, needs_reauth_marks). */
  metrics?: MetricsRecorder;
  /**
   * The invocation under way, as a key (`currentInvocation` of shared/runtime/metrics.ts). Given, a token read from
   * the store is reused by later calls of the same invocation (see `remembered`); not given, or outside any
   * invocation, every call reads the store.
   */
  invocation?: () => object | undefined;
}

/** The longest a token read is reused within one invocation: a poller tick runs for up to two minutes. */
export const TOKEN_REUSE_MS = 10_000;

const ticketStale = (createdAt: number | null, now: number) => createdAt === null || now - createdAt >= TICKET_LIFETIME_MS;
const PUSH_TICKET_EVERY_MS = 5 * 60_000;

export class TokenManager implements TokenSource {
  private readonly platform;
  private readonly authorizers;
  private readonly leases: Leases;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly refreshAheadMs: number;
  private readonly leaseMs: number;
  private readonly waitMs: number;
  private readonly owner = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  /** The refresh under way in this process, per lease name: every concurrent caller here awaits the same one. */
  private readonly refreshing = new Map<string, Promise<string | null>>();
  /**
   * The store read under way in this process, per lease name: callers asking at the same moment (the dozen WeChat
   * reads a readiness report makes at once) share one read of the token, as they would share its answer. A caller
   * that comes after it has settled reads again.
   */
  private readonly reading = new Map<string, Promise<{ found: { token: string; expiresAt: number } | null; changesBefore: number }>>();
  /**
   * Per invocation (gone with it), the tokens it read and found fresh, by lease name, so its next WeChat calls do
   * not read the store again (a deployment step makes a dozen calls for one mini program: 15 token reads per
   * deployment, issue 17). One is used for TOKEN_REUSE_MS at most, never past its refresh point, and only while
   * `changes` is what it was when its read began: every write of this manager to a token document (rejected,
   * revoked, re-authorized, refreshed: `countingWrites`) counts at its start and at its end, so neither a token read
   * before a write nor one read while it ran is used after it. What it can miss is a change another process made during the
   * invocation, as a read just before that change would: a revoked authorization or a token another instance
   * refreshed — WeChat still takes the old one for a while, and a rejected one is read again.
   */
  private readonly remembered = new WeakMap<object, Map<string, { token: string; expiresAt: number; readAt: number; changes: number }>>();
  /** Counts the starts and ends of this manager's writes to token documents (see `remembered`). */
  private changes = 0;
  private readonly componentAppId: string;

  constructor(private readonly options: TokenManagerOptions) {
    this.platform = this.countingWrites(options.store.collection(platformCollection));
    this.authorizers = this.countingWrites(options.store.collection(authorizerTokensCollection));
    this.clock = options.clock ?? Date.now;
    this.leases = createLeases(options.store, this.clock);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.refreshAheadMs = options.refreshAheadMs ?? 10 * 60_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.waitMs = options.waitMs ?? 20_000;
    this.componentAppId = options.api.componentAppId;
  }

  // ------------------------------------------------------------------------------------------------ tickets

  /** Stores a pushed ticket (idempotent; an older push arriving late never replaces a newer ticket). */
  async recordVerifyTicket(ticket: string, createdAtMs: number): Promise<'stored' | 'duplicate' | 'older'> {
    return this.updatePlatform((doc) => {
      const current = doc.ticket === null ? null : this.open(doc.ticket, 'ticket');
      if (current === ticket) return { result: 'duplicate' as const };
      if (doc.ticketCreatedAt !== null && createdAtMs < doc.ticketCreatedAt) return { result: 'older' as const };
      return {
        result: 'stored' as const,
        next: {
          ...doc,
          previousTicket: doc.ticket === null ? null : this.seal(this.open(doc.ticket, 'ticket'), 'previousTicket'),
          previousTicketCreatedAt: doc.ticketCreatedAt,
          ticket: this.seal(ticket, 'ticket'),
          ticketCreatedAt: createdAtMs,
        },
      };
    });
  }

  /** On a cold start with no usable ticket, asks WeChat to push one (rate-limited across instances). */
  async ensureVerifyTicket(): Promise<'present' | 'requested' | 'recently-requested'> {
    const now = this.clock();
    return this.updatePlatform((doc) => {
      if (!ticketStale(doc.ticketCreatedAt, now)) return { result: 'present' as const };
      if (doc.pushTicketRequestedAt !== null && now - doc.pushTicketRequestedAt < PUSH_TICKET_EVERY_MS) {
        return { result: 'recently-requested' as const };
      }
      return { result: 'requested' as const, next: { ...doc, pushTicketRequestedAt: now } };
    }).then(async (result) => {
      if (result === 'requested') {
        this.options.log.warn('no usable component_verify_ticket: asking WeChat to push one');
        await this.options.api.startPushTicket();
      }
      return result;
    });
  }

  // ---------------------------------------------------------------------------------------- component token

  async componentToken(): Promise<string> {
    return this.obtain({
      lease: `component-token:${this.componentAppId}`,
      read: async () => {
        const doc = (await this.platform.get(this.componentAppId))?.data;
        return doc?.componentToken && doc.componentTokenExpiresAt !== null
          ? { token: this.open(doc.componentToken, 'componentToken'), expiresAt: doc.componentTokenExpiresAt }
          : null;
      },
      refresh: () => this.counted('component', this.refreshComponentToken()),
    });
  }

  async componentTokenRejected(failedToken: string): Promise<void> {
    this.changes += 1; // what this invocation kept may be the rejected token, even where the store holds another
    await this.updatePlatform((doc) => {
      if (!doc.componentToken || this.open(doc.componentToken, 'componentToken') !== failedToken) return { result: undefined };
      return { result: undefined, next: { ...doc, componentToken: null, componentTokenExpiresAt: null } };
    });
  }

  /** Counts one refresh by its outcome; the refresh's own answer or error is passed on untouched. */
  private counted(kind: 'component' | 'authorizer', refresh: Promise<string>): Promise<string> {
    const count = (outcome: 'ok' | 'error') => this.options.metrics?.record('token_refreshes', 1, { kind, outcome });
    return refresh.then(
      (token) => {
        count('ok');
        return token;
      },
      (error: unknown) => {
        count('error');
        throw error;
      },
    );
  }

  private async refreshComponentToken(): Promise<string> {
    const doc = (await this.platform.get(this.componentAppId))?.data;
    const now = this.clock();
    const candidates = [
      { sealed: doc?.ticket ?? null, createdAt: doc?.ticketCreatedAt ?? null, field: 'ticket' as const },
      { sealed: doc?.previousTicket ?? null, createdAt: doc?.previousTicketCreatedAt ?? null, field: 'previousTicket' as const },
    ].filter(
      (c): c is { sealed: string; createdAt: number; field: 'ticket' | 'previousTicket' } =>
        c.sealed !== null && !ticketStale(c.createdAt, now),
    );
    if (candidates.length === 0) {
      await this.ensureVerifyTicket();
      throw new NoVerifyTicketError('no component_verify_ticket younger than 12 h has been received; one has been requested');
    }
    let lastError: unknown;
    for (const candidate of candidates) {
      try {
        const started = this.clock();
        const response = await this.options.api.getComponentToken(this.open(candidate.sealed, candidate.field));
        const token = response.component_access_token;
        registerSecret(token);
        const expiresAt = started + response.expires_in * 1000;
        const kept = await this.updatePlatform((current) => {
          // An overlapping refresh (a holder that outlived its lease) stored a token issued after ours: keep it.
          if (current.componentToken && current.componentTokenExpiresAt !== null && current.componentTokenExpiresAt > expiresAt) {
            return { result: this.open(current.componentToken, 'componentToken') };
          }
          return {
            result: token,
            next: { ...current, componentToken: this.seal(token, 'componentToken'), componentTokenExpiresAt: expiresAt },
          };
        });
        this.options.log.info(
          kept === token ? 'component token refreshed' : 'component token refreshed, but a newer one was stored meanwhile',
          { expiresAt, ticket: candidate.field },
        );
        return kept;
      } catch (error) {
        lastError = error;
        // 61005 expired / 61006 invalid ticket: the previous ticket may still work (a push can be missed).
        if (
          !(
            error instanceof WeChatApiError &&
            (error.errcode === ERRCODE.COMPONENT_TICKET_EXPIRED || error.errcode === ERRCODE.COMPONENT_TICKET_INVALID)
          )
        )
          throw error;
      }
    }
    await this.ensureVerifyTicket().catch(() => undefined);
    throw lastError;
  }

  // --------------------------------------------------------------------------------------- authorizer tokens

  /** Persists what `api_query_auth` returned (a new authorization or a re-authorization), before anything else. */
  async saveAuthorization(
    appId: string,
    tokens: { accessToken?: string | undefined; expiresInSeconds?: number | undefined; refreshToken: string },
  ): Promise<void> {
    const now = this.clock();
    registerSecret(tokens.refreshToken);
    if (tokens.accessToken) registerSecret(tokens.accessToken);
    const next: AuthorizerTokensDoc = {
      refreshToken: this.seal(tokens.refreshToken, `${appId}/refresh`),
      refreshTokenUpdatedAt: now,
      authorizedAt: now,
      accessToken: tokens.accessToken ? this.seal(tokens.accessToken, `${appId}/access`) : null,
      accessTokenExpiresAt: tokens.accessToken && tokens.expiresInSeconds ? now + tokens.expiresInSeconds * 1000 : null,
      status: 'active',
      statusReason: null,
    };
    // An upsert: a lost race (ConflictError, or DuplicateKeyError on a concurrent first insert) reads again.
    await retryOnConflict(`save authorization ${appId}`, async () => {
      const current = await this.authorizers.get(appId);
      if (current) await this.authorizers.update(appId, current.version, next);
      else await this.authorizers.insert(appId, next);
    });
  }

  /**
   * The mini program revoked the platform (`unauthorized`): its tokens are useless from now on. `pushCreatedAtMs`
   * is when WeChat made the push: a push that arrives late, or again, after the admin authorized the platform anew
   * must not throw the new authorization away.
   */
  async markRevoked(appId: string, reason: string, pushCreatedAtMs?: number): Promise<'revoked' | 'authorized-since'> {
    const authorizedSince = (doc: AuthorizerTokensDoc) =>
      pushCreatedAtMs !== undefined && doc.authorizedAt !== undefined && authorizedAfterPush(doc.authorizedAt, pushCreatedAtMs);
    const outcome = await this.setStatus(appId, 'revoked', reason, (doc) => !authorizedSince(doc));
    return outcome === 'skipped' ? 'authorized-since' : 'revoked';
  }

  async authorizerStatus(appId: string): Promise<AuthorizerTokensDoc['status'] | null> {
    return (await this.authorizers.get(appId))?.data.status ?? null;
  }

  async authorizerToken(appId: string): Promise<string> {
    return this.obtain({
      lease: `authorizer-token:${appId}`,
      read: async () => {
        const stored = await this.authorizers.get(appId);
        if (!stored)
          throw new AuthorizerNotAuthorizedError(`${appId} has not authorized this platform`, {
            code: 'MINI_PROGRAM_NOT_AUTHORIZED',
            appId,
          });
        this.assertActive(appId, stored.data);
        const { accessToken, accessTokenExpiresAt } = stored.data;
        return accessToken && accessTokenExpiresAt !== null
          ? { token: this.open(accessToken, `${appId}/access`), expiresAt: accessTokenExpiresAt }
          : null;
      },
      refresh: () => this.counted('authorizer', this.refreshAuthorizerToken(appId)),
    });
  }

  async authorizerTokenRejected(appId: string, failedToken: string): Promise<void> {
    this.changes += 1; // what this invocation kept may be the rejected token, even where the store holds another
    await updateWithRetry(this.authorizers, appId, ({ data }) =>
      data.accessToken && this.open(data.accessToken, `${appId}/access`) === failedToken
        ? { ...data, accessToken: null, accessTokenExpiresAt: null }
        : UNCHANGED,
    );
  }

  private async refreshAuthorizerToken(appId: string): Promise<string> {
    // At most two more attempts, each with a refresh token that differs from the one WeChat just rejected.
    for (let attempt = 0; ; attempt++) {
      const stored = await this.authorizers.get(appId);
      if (!stored?.data.refreshToken) {
        throw new AuthorizerNotAuthorizedError(`${appId} has no refresh token`, { code: 'MINI_PROGRAM_NOT_AUTHORIZED', appId });
      }
      this.assertActive(appId, stored.data);
      const refreshToken = this.open(stored.data.refreshToken, `${appId}/refresh`);
      const started = this.clock();
      let response: Awaited<ReturnType<ComponentApi['refreshAuthorizerToken']>>;
      try {
        response = await this.withComponentToken((componentToken) =>
          this.options.api.refreshAuthorizerToken(componentToken, appId, refreshToken),
        );
      } catch (error) {
        if (!(error instanceof WeChatApiError && error.errcode === ERRCODE.REFRESH_TOKEN_INVALID)) throw error;
        if (attempt < 2 && (await this.replaceRejectedRefreshToken(appId, refreshToken))) continue;
        const marked = await this.setStatus(
          appId,
          'needs-reauth',
          'WeChat rejected the refresh token (61023): the mini program must authorize the platform again',
          (doc) => doc.refreshToken !== null && this.open(doc.refreshToken, `${appId}/refresh`) === refreshToken,
        );
        // A new authorization stored its refresh token while ours was being rejected: use that one.
        if (marked === 'skipped' && attempt < 2) continue;
        if (marked === 'changed') {
          this.options.metrics?.record('needs_reauth_marks', 1, {});
          await this.options.onNeedsReauth?.(appId, '61023 refresh_token is invalid');
        }
        throw new AuthorizerNotAuthorizedError(`${appId} must authorize the platform again`, {
          code: 'MINI_PROGRAM_NEEDS_REAUTH',
          appId,
          cause: error,
        });
      }
      const received = this.clock();
      registerSecret(response.authorizer_access_token);
      registerSecret(response.authorizer_refresh_token);
      await this.storeRefreshed(appId, refreshToken, {
        refreshToken: response.authorizer_refresh_token,
        accessToken: response.authorizer_access_token,
        accessTokenExpiresAt: started + response.expires_in * 1000,
        started,
        received,
      });
      this.options.log.info('authorizer token refreshed', { appId });
      return response.authorizer_access_token;
    }
  }

  /**
   * The rotated refresh token is saved before the access token is handed out: lose it and the mini program would
   * have to authorize again once the old one's grace period ends. If the stored refresh token is no longer the one
   * this refresh used, somebody wrote meanwhile: an authorization made since the refresh began always wins (it
   * invalidated the token we refreshed with); between two overlapping refreshes, the answer WeChat gave last wins
   * (it rotated the other one out).
   */
  private async storeRefreshed(
    appId: string,
    usedRefreshToken: string,
    fresh: { refreshToken: string; accessToken: string; accessTokenExpiresAt: number; started: number; received: number },
  ): Promise<void> {
    /** Why the stored refresh token beats ours, or null when ours may be written. */
    const newerStored = (doc: AuthorizerTokensDoc) => {
      if (doc.refreshToken !== null && this.open(doc.refreshToken, `${appId}/refresh`) === usedRefreshToken) return null;
      const authorizedSince = doc.authorizedAt === undefined || doc.authorizedAt >= fresh.started;
      return authorizedSince || doc.refreshTokenUpdatedAt > fresh.received ? { authorizedSince } : null;
    };
    const outcome = await updateWithRetry(this.authorizers, appId, ({ data }) =>
      newerStored(data)
        ? UNCHANGED
        : {
            ...data,
            refreshToken: this.seal(fresh.refreshToken, `${appId}/refresh`),
            refreshTokenUpdatedAt: fresh.received,
            accessToken: this.seal(fresh.accessToken, `${appId}/access`),
            accessTokenExpiresAt: fresh.accessTokenExpiresAt,
          },
    );
    const kept = outcome && !outcome.changed ? newerStored(outcome.stored.data) : null;
    if (kept) this.options.log.info('a newer refresh token was stored during this refresh; keeping it', { appId, ...kept });
  }

  /**
   * After a 61023: is there a refresh token other than the rejected one to try? Either stored meanwhile (a new
   * authorization, another instance's refresh), or the one WeChat lists for the mini program in
   * `api_get_authorizer_list` — the peers' recovery for refresh tokens lost to overlapping refreshes. A listed
   * token is stored (in place of the rejected one only) before it is tried.
   */
  private async replaceRejectedRefreshToken(appId: string, rejected: string): Promise<boolean> {
    const isRejected = (doc: AuthorizerTokensDoc) =>
      doc.refreshToken !== null && this.open(doc.refreshToken, `${appId}/refresh`) === rejected;
    const stored = await this.authorizers.get(appId);
    if (stored?.data.status !== 'active') return false;
    if (!isRejected(stored.data)) return stored.data.refreshToken !== null;
    let listed: string | undefined;
    try {
      listed = await this.listedRefreshToken(appId);
    } catch (error) {
      this.options.log.warn('could not read api_get_authorizer_list to recover a refresh token', { appId, error });
      return false;
    }
    if (!listed || listed === rejected) return false;
    registerSecret(listed);
    const replaced = await updateWithRetry(this.authorizers, appId, ({ data }) =>
      isRejected(data) ? { ...data, refreshToken: this.seal(listed, `${appId}/refresh`), refreshTokenUpdatedAt: this.clock() } : UNCHANGED,
    );
    if (!replaced) return false;
    // Unchanged: another token was stored meanwhile, which is worth trying if there is one.
    if (!replaced.changed) return replaced.stored.data.refreshToken !== null;
    this.options.log.warn('recovered the refresh token from api_get_authorizer_list after 61023', { appId });
    return true;
  }

  /** The refresh token WeChat lists for this mini program (pages of 500; bounded, this is a rare repair path). */
  private async listedRefreshToken(appId: string): Promise<string | undefined> {
    const PAGE = 500;
    for (let offset = 0; offset < 50 * PAGE; offset += PAGE) {
      const page = await this.withComponentToken((componentToken) => this.options.api.getAuthorizerList(componentToken, offset, PAGE));
      const entry = page.list.find((item) => item.authorizer_appid === appId);
      if (entry) return entry.refresh_token;
      if (page.list.length < PAGE || offset + PAGE >= page.total_count) return undefined;
    }
    return undefined;
  }

  /** WeChat may retire a component token before its stored expiry (40001/42001): replace it once and retry. */
  private async withComponentToken<T>(call: (componentToken: string) => Promise<T>): Promise<T> {
    const token = await this.componentToken();
    try {
      return await call(token);
    } catch (error) {
      if (!isTokenError(error)) throw error;
      await this.componentTokenRejected(token);
      return call(await this.componentToken());
    }
  }

  private assertActive(appId: string, doc: AuthorizerTokensDoc) {
    if (doc.status === 'needs-reauth') {
      throw new AuthorizerNotAuthorizedError(`${appId} must authorize the platform again`, { code: 'MINI_PROGRAM_NEEDS_REAUTH', appId });
    }
    if (doc.status === 'revoked') {
      throw new AuthorizerNotAuthorizedError(`${appId} has revoked its authorization`, { code: 'MINI_PROGRAM_NOT_AUTHORIZED', appId });
    }
  }

  /** `applies` decides on the document as stored, so the decision and the write are one compare-and-set. */
  private async setStatus(
    appId: string,
    status: AuthorizerTokensDoc['status'],
    reason: string,
    applies: (doc: AuthorizerTokensDoc) => boolean = () => true,
  ): Promise<'changed' | 'skipped' | 'missing'> {
    const outcome = await updateWithRetry(this.authorizers, appId, ({ data }) =>
      applies(data)
        ? {
            ...data,
            status,
            statusReason: reason,
            accessToken: null,
            accessTokenExpiresAt: null,
            ...(status === 'revoked' ? { refreshToken: null } : {}),
          }
        : UNCHANGED,
    );
    if (!outcome) return 'missing';
    return outcome.changed ? 'changed' : 'skipped';
  }

  // ---------------------------------------------------------------------------------------------- plumbing

  /** The collection with each of its writes counted in `changes` at its start and at its end (see `remembered`). */
  private countingWrites<T, F extends string>(collection: Collection<T, F>): Collection<T, F> {
    const counting =
      <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        this.changes += 1;
        try {
          return await write(...args);
        } finally {
          this.changes += 1;
        }
      };
    return {
      ...collection,
      insert: counting(collection.insert.bind(collection)),
      update: counting(collection.update.bind(collection)),
      delete: counting(collection.delete.bind(collection)),
    };
  }

  /**
   * The refresh protocol shared by both token kinds: fresh → use it; otherwise one lease holder refreshes
   * (after re-reading), everybody else keeps the still-valid token or waits for the holder's result.
   */
  private async obtain(spec: {
    lease: string;
    read: () => Promise<{ token: string; expiresAt: number } | null>;
    refresh: () => Promise<string>;
  }): Promise<string> {
    const invocation = this.options.invocation?.();
    const kept = invocation && this.remembered.get(invocation)?.get(spec.lease);
    if (kept) {
      const now = this.clock();
      if (kept.changes === this.changes && now - kept.readAt <= TOKEN_REUSE_MS && kept.expiresAt - now > this.refreshAheadMs)
        return kept.token;
    }
    const deadline = this.clock() + this.waitMs;
    let pause = 20;
    for (;;) {
      const { found: current, changesBefore } = await joinInFlight(this.reading, spec.lease, async () => {
        const changesBefore = this.changes;
        return { found: await spec.read(), changesBefore };
      });
      const now = this.clock();
      if (current && current.expiresAt - now > this.refreshAheadMs) {
        // Kept only if no write of this manager began or ended while it ran.
        if (invocation && changesBefore === this.changes) {
          // Looked up now: a concurrent call of this invocation may have made its map meanwhile.
          let here = this.remembered.get(invocation);
          if (!here) this.remembered.set(invocation, (here = new Map()));
          here.set(spec.lease, { ...current, readAt: now, changes: changesBefore });
        }
        return current.token;
      }
      const refreshed = await joinInFlight(this.refreshing, spec.lease, () => this.refreshUnderLease(spec));
      if (refreshed !== null) return refreshed;
      // Another instance holds the lease and is refreshing. A token that still works is good enough meanwhile.
      if (current && current.expiresAt > now) return current.token;
      if (now >= deadline) throw new TokenUnavailableError(`gave up waiting for another instance to refresh ${spec.lease}`);
      await this.sleep(pause);
      pause = Math.min(pause * 2, 250);
    }
  }

  /** The token, fresh or refreshed under the lease; null when another instance holds the lease. */
  private async refreshUnderLease(spec: {
    lease: string;
    read: () => Promise<{ token: string; expiresAt: number } | null>;
    refresh: () => Promise<string>;
  }): Promise<string | null> {
    const acquired = await this.leases.acquire(spec.lease, this.owner, this.leaseMs);
    if (!acquired) return null;
    let lease = acquired;
    // Renewed while the refresh runs (it can chain a component-token refresh, retries and backoff past one
    // lease), so no other instance takes over a refresh that is still going.
    let renewing: Promise<void> = Promise.resolve();
    const heartbeat = setInterval(
      () => {
        renewing = renewing.then(async () => {
          try {
            lease = (await this.leases.renew(lease, this.leaseMs)) ?? lease;
          } catch (error) {
            this.options.log.warn('could not renew a token lease', { lease: spec.lease, error });
          }
        });
      },
      Math.max(1000, Math.floor(this.leaseMs / 3)),
    );
    heartbeat.unref();
    try {
      const again = await spec.read();
      if (again && again.expiresAt - this.clock() > this.refreshAheadMs) return again.token;
      return await spec.refresh();
    } finally {
      clearInterval(heartbeat);
      // A renewal still under way would bump the version the release compares against.
      await renewing;
      await this.leases.release(lease);
    }
  }

  private async updatePlatform<R>(change: (doc: PlatformDoc) => { result: R; next?: PlatformDoc }): Promise<R> {
    // An upsert: a lost race (ConflictError, or DuplicateKeyError on a concurrent first insert) reads again.
    return retryOnConflict(`update platform ${this.componentAppId}`, async () => {
      const stored = await this.platform.get(this.componentAppId);
      const doc: PlatformDoc = stored?.data ?? {
        ticket: null,
        ticketCreatedAt: null,
        previousTicket: null,
        previousTicketCreatedAt: null,
        componentToken: null,
        componentTokenExpiresAt: null,
        pushTicketRequestedAt: null,
      };
      const { result, next } = change(doc);
      if (!next) return result;
      if (stored) await this.platform.update(this.componentAppId, stored.version, next);
      else await this.platform.insert(this.componentAppId, next);
      return result;
    });
  }

  private seal(value: string, field: string) {
    return this.options.box.seal(value, `platform/${this.componentAppId}/${field}`);
  }

  private open(sealed: string, field: string) {
    const value = this.options.box.open(sealed, `platform/${this.componentAppId}/${field}`);
    registerSecret(value);
    return value;
  }
}

/** The promise under way for `key` in `inFlight`, or a new one from `start` that every caller until it settles shares. */
function joinInFlight<T>(inFlight: Map<string, Promise<T>>, key: string, start: () => Promise<T>): Promise<T> {
  let running = inFlight.get(key);
  if (!running) {
    running = start().finally(() => inFlight.delete(key));
    inFlight.set(key, running);
  }
  return running;
}

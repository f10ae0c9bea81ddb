import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authorizeWithTokens } from '../../infra/testing/authorize-tokens';
import { countStoreRequests } from '../../infra/testing/store-requests';
import { startWeChatSimulator, type WeChatSimulator } from '../../infra/wechat-sim';
import { ConflictError } from '../domain/errors';
import { createLogger } from '../runtime/logger';
import { currentInvocation, type MetricsRecorder, observeMetrics, withInvocationMetrics } from '../runtime/metrics';
import type { DocumentStore } from '../store/port';
import { ConflictRetriesExhaustedError, DEFAULT_RETRY_POLICY } from '../store/retry';
import { createSecretBox } from '../store/secret-box';
import { openSqliteStore } from '../store/sqlite';
import { WeChatClient } from './client';
import { ComponentApi } from './component-api';
import type { CallOptions } from './http';
import { AuthorizerNotAuthorizedError, NoVerifyTicketError, TOKEN_REUSE_MS, TokenManager } from './tokens';

const COMPONENT = {
  appId: 'wx1234567890abcdef',
  secret: 'component-secret-for-tests',
  token: 'tokentest',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};
const MP = { appId: 'wxaaaabbbbccccdd01', nickName: '测试小程序', principalName: '测试公司' };
const dataKey = randomBytes(32);
const log = createLogger({ level: 'error', sink: () => undefined });
const TOKEN_PATH = '/cgi-bin/component/api_component_token';
const AUTHORIZER_TOKEN_PATH = '/cgi-bin/component/api_authorizer_token';
const AUTHORIZER_LIST_PATH = '/cgi-bin/component/api_get_authorizer_list';

/** A ComponentApi whose next refresh call first runs `before` (what another instance or WeChat does meanwhile). */
class InterruptedApi extends ComponentApi {
  beforeAuthorizerRefresh: (() => Promise<void>) | undefined;
  beforeComponentToken: (() => Promise<void>) | undefined;
  override async refreshAuthorizerToken(componentToken: string, appId: string, refreshToken: string, options?: CallOptions) {
    const before = this.beforeAuthorizerRefresh;
    this.beforeAuthorizerRefresh = undefined;
    await before?.();
    return super.refreshAuthorizerToken(componentToken, appId, refreshToken, options);
  }
  override async getComponentToken(ticket: string, options?: CallOptions) {
    const before = this.beforeComponentToken;
    this.beforeComponentToken = undefined;
    await before?.();
    return super.getComponentToken(ticket, options);
  }
}
const interruptedApi = () =>
  new InterruptedApi({
    apiBase: sim.baseUrl,
    componentAppId: COMPONENT.appId,
    componentAppSecret: COMPONENT.secret,
    timeoutMs: 5000,
    sleep: async () => undefined,
  });

let now: number;
let sim: WeChatSimulator;
let dir: string;
const opened: DocumentStore[] = [];

const api = () =>
  new ComponentApi({
    apiBase: sim.baseUrl,
    componentAppId: COMPONENT.appId,
    componentAppSecret: COMPONENT.secret,
    timeoutMs: 5000,
    sleep: async () => undefined,
  });

/** A "process": its own store connection and token manager, sharing only the database file and WeChat. */
function instance(
  extra: {
    onNeedsReauth?: (appId: string, reason: string) => Promise<void>;
    api?: ComponentApi;
    leaseMs?: number;
    metrics?: MetricsRecorder;
    invocation?: () => object | undefined;
  } = {},
) {
  const store = openSqliteStore({ path: join(dir, 'tokens.db'), clock: () => now });
  opened.push(store);
  const tokens = new TokenManager({
    store,
    api: extra.api ?? api(),
    box: createSecretBox(dataKey),
    log,
    clock: () => now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    ...(extra.onNeedsReauth ? { onNeedsReauth: extra.onNeedsReauth } : {}),
    ...(extra.leaseMs ? { leaseMs: extra.leaseMs } : {}),
    ...(extra.metrics ? { metrics: extra.metrics } : {}),
    ...(extra.invocation ? { invocation: extra.invocation } : {}),
  });
  return { store, tokens };
}

const authorize = (tokens: TokenManager) => authorizeWithTokens(sim, tokens, api(), MP.appId);

beforeEach(async () => {
  now = Date.parse('2026-11-21T08:00:00Z');
  dir = mkdtempSync(join(tmpdir(), 'wxa-tokens-'));
  sim = await startWeChatSimulator({ component: COMPONENT, now: () => now });
  sim.addMiniProgram(MP);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('token manager against the simulator', () => {
  it('gets a component token from the stored ticket and reuses it until shortly before expiry', async () => {
    const { tokens } = instance();
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    const first = await tokens.componentToken();
    expect(await tokens.componentToken()).toBe(first);
    expect(sim.counters()[TOKEN_PATH]).toBe(1);
    now += 7200_000 - 11 * 60_000; // 11 minutes left: still used
    expect(await tokens.componentToken()).toBe(first);
    now += 2 * 60_000; // 9 minutes left: refreshed ahead of expiry
    expect(await tokens.componentToken()).not.toBe(first);
    expect(sim.counters()[TOKEN_PATH]).toBe(2);
  });

  it('50 concurrent requests from separate store connections on an expired token cause exactly one refresh', async () => {
    const seed = instance();
    await seed.tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await seed.tokens.componentToken();
    now += 7200_000 + 1000; // the stored token has expired
    sim.resetCounters();
    const instances = Array.from({ length: 50 }, () => instance());
    const results = await Promise.all(instances.map(({ tokens }) => tokens.componentToken()));
    expect(sim.counters()[TOKEN_PATH]).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it('50 concurrent requests for one mini program on an expired authorizer token cause exactly one refresh', async () => {
    const seed = instance();
    await seed.tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await authorize(seed.tokens);
    now += 7200_000 + 1000; // both tokens expired
    sim.resetCounters();
    const instances = Array.from({ length: 50 }, () => instance());
    const results = await Promise.all(instances.map(({ tokens }) => tokens.authorizerToken(MP.appId)));
    expect(sim.counters()[AUTHORIZER_TOKEN_PATH]).toBe(1);
    expect(sim.counters()[TOKEN_PATH]).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it('keeps a rotated refresh token across a restart, after the old one has died', async () => {
    const first = instance();
    await first.tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    const info = await authorize(first.tokens);
    now += 7200_000; // access token expired: refreshing rotates the refresh token
    await first.tokens.authorizerToken(MP.appId);
    await first.store.close();

    now += 10 * 60_000; // the old refresh token's 5-minute grace is over
    const oldRefreshTokenRejected = await api()
      .refreshAuthorizerToken(await instance().tokens.componentToken(), MP.appId, info.authorizer_refresh_token ?? '')
      .then(
        () => false,
        (error: { errcode?: number }) => error.errcode === 61023,
      );
    expect(oldRefreshTokenRejected).toBe(true);

    now += 7200_000;
    const restarted = instance();
    await expect(restarted.tokens.authorizerToken(MP.appId)).resolves.toEqual(expect.any(String));
    expect(await restarted.tokens.authorizerStatus(MP.appId)).toBe('active');
  });

  it('marks the mini program needs-reauth on 61023 and stops calling WeChat for it', async () => {
    const told: string[] = [];
    const recorded: string[] = [];
    const metrics: MetricsRecorder = { record: (name, value, labels) => void recorded.push(`${name} ${JSON.stringify(labels)} ${value}`) };
    const { tokens } = instance({ onNeedsReauth: async (appId) => void told.push(appId), metrics });
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await authorize(tokens);
    sim.invalidateRefreshToken(MP.appId);
    now += 7200_000;
    const error = await tokens.authorizerToken(MP.appId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizerNotAuthorizedError);
    expect((error as AuthorizerNotAuthorizedError).code).toBe('MINI_PROGRAM_NEEDS_REAUTH');
    expect(await tokens.authorizerStatus(MP.appId)).toBe('needs-reauth');
    expect(told).toEqual([MP.appId]);
    // Counted: the component token's refreshes (at the authorization, and two hours later), the authorizer refresh
    // that failed, and the one mark.
    expect(recorded).toEqual([
      'token_refreshes {"kind":"component","outcome":"ok"} 1',
      'token_refreshes {"kind":"component","outcome":"ok"} 1',
      'needs_reauth_marks {} 1',
      'token_refreshes {"kind":"authorizer","outcome":"error"} 1',
    ]);
    const calls = sim.counters()[AUTHORIZER_TOKEN_PATH];
    await expect(tokens.authorizerToken(MP.appId)).rejects.toMatchObject({ code: 'MINI_PROGRAM_NEEDS_REAUTH' });
    expect(sim.counters()[AUTHORIZER_TOKEN_PATH]).toBe(calls);
  });

  it('refreshes once for many concurrent callers in one process (one lease owner), and the mini program keeps working', async () => {
    const { tokens } = instance();
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await authorize(tokens);
    now += 7200_000 + 1000; // both tokens expired
    sim.resetCounters();
    const results = await Promise.all(Array.from({ length: 16 }, () => tokens.authorizerToken(MP.appId)));
    expect(new Set(results).size).toBe(1);
    expect(sim.counters()[AUTHORIZER_TOKEN_PATH]).toBe(1);
    expect(sim.counters()[TOKEN_PATH]).toBe(1);
    now += 2 * 7200_000; // long after the grace of every rotated-out refresh token
    await expect(tokens.authorizerToken(MP.appId)).resolves.toEqual(expect.any(String));
    expect(await tokens.authorizerStatus(MP.appId)).toBe('active');
  });

  it('callers asking at the same moment share one store read of a fresh token; a later caller reads again', async () => {
    const { tokens } = instance();
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await authorize(tokens);
    const requests = countStoreRequests();
    requests.reset();
    const results = await Promise.all(Array.from({ length: 12 }, () => tokens.authorizerToken(MP.appId)));
    expect(new Set(results).size).toBe(1);
    expect(requests.tables().authorizerTokens).toEqual({ reads: 1, writes: 0 });
    await tokens.authorizerToken(MP.appId);
    expect(requests.tables().authorizerTokens).toEqual({ reads: 2, writes: 0 });
  });

  describe('within one invocation (issue 17: a deployment step read the same token once per WeChat call)', () => {
    // An invocation as cloudEntry runs one: its metrics collector is what the token manager keeps tokens under.
    const withinInvocation = <T>(run: () => Promise<T>) => withInvocationMetrics({ function: 'tokens-test', trigger: 'schedule' }, run);
    let stopObserving: () => void = () => undefined;
    beforeAll(() => {
      stopObserving = observeMetrics({ line: () => undefined }); // the invocations' EMF records, not for stdout
    });
    afterAll(() => stopObserving());

    async function authorized() {
      const made = instance({ invocation: currentInvocation });
      await made.tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
      await authorize(made.tokens);
      const requests = countStoreRequests();
      requests.reset();
      return { ...made, reads: () => requests.tables().authorizerTokens?.reads ?? 0 };
    }

    it('reads a fresh token once per invocation, however many calls it makes one after another', async () => {
      const { tokens, reads } = await authorized();
      const first = await withinInvocation(async () => {
        const seen = [];
        for (let call = 0; call < 5; call++) seen.push(await tokens.authorizerToken(MP.appId));
        return seen;
      });
      expect(new Set(first).size).toBe(1);
      expect(reads()).toBe(1);
      await withinInvocation(() => tokens.authorizerToken(MP.appId));
      expect(reads()).toBe(2); // the next invocation reads again
      await tokens.authorizerToken(MP.appId);
      await tokens.authorizerToken(MP.appId);
      expect(reads()).toBe(4); // outside any invocation nothing is kept
    });

    it('keeps both tokens a readiness check reads at the same moment (component and authorizer)', async () => {
      const { tokens, reads } = await authorized();
      const requests = countStoreRequests();
      const platformReads = requests.tables().platform?.reads ?? 0;
      await withinInvocation(async () => {
        await Promise.all([tokens.authorizerToken(MP.appId), tokens.componentToken()]);
        await Promise.all([tokens.authorizerToken(MP.appId), tokens.componentToken()]);
      });
      expect(reads()).toBe(1);
      expect((requests.tables().platform?.reads ?? 0) - platformReads).toBe(1);
    });

    it('sees a revocation another process made before the invocation began', async () => {
      const { tokens } = await authorized();
      await withinInvocation(() => tokens.authorizerToken(MP.appId));
      const other = instance(); // another function of the platform (authorize-callback) takes the push
      await other.tokens.markRevoked(MP.appId, 'unauthorized by the mini program admin');
      await expect(withinInvocation(() => tokens.authorizerToken(MP.appId))).rejects.toBeInstanceOf(AuthorizerNotAuthorizedError);
    });

    it('reads again once the token it kept is rejected, revoked here, or older than TOKEN_REUSE_MS', async () => {
      const { tokens, reads } = await authorized();
      await withinInvocation(async () => {
        const token = await tokens.authorizerToken(MP.appId);
        await tokens.authorizerTokenRejected(MP.appId, 'another-token'); // not the stored one: it stays stored
        expect(await tokens.authorizerToken(MP.appId)).toBe(token);
        expect(reads()).toBe(3); // the rejection's compare-and-set read, then the token again
        now += TOKEN_REUSE_MS + 1;
        await tokens.authorizerToken(MP.appId);
        expect(reads()).toBe(4);
        await tokens.markRevoked(MP.appId, 'unauthorized by the mini program admin');
        await expect(tokens.authorizerToken(MP.appId)).rejects.toBeInstanceOf(AuthorizerNotAuthorizedError);
      });
    });

    it('does not hand out a kept token that is due for refresh', async () => {
      const { tokens } = await authorized();
      await withinInvocation(async () => {
        now += 7200_000 - 10 * 60_000 - 5_000; // 10 min 5 s left: fresh, and kept
        const kept = await tokens.authorizerToken(MP.appId);
        now += 6_000; // younger than TOKEN_REUSE_MS, but past the refresh point (10 minutes ahead)
        expect(await tokens.authorizerToken(MP.appId)).not.toBe(kept);
        expect(sim.counters()[AUTHORIZER_TOKEN_PATH]).toBe(1);
      });
    });

    it('does not keep a token read while this manager was writing its document (a rejection racing a read)', async () => {
      const made = await authorized();
      // The rejection's compare-and-set, once started, waits until the racing read has been made.
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered: () => void = () => undefined;
      const writing = new Promise<void>((resolve) => (entered = resolve));
      const gated: DocumentStore = {
        ...made.store,
        collection: (spec) => {
          const collection = made.store.collection(spec);
          if (spec.name !== 'authorizerTokens') return collection;
          return {
            ...collection,
            update: async (...args) => {
              entered();
              await gate;
              return collection.update(...args);
            },
          };
        },
      };
      const tokens = new TokenManager({
        store: gated,
        api: api(),
        box: createSecretBox(dataKey),
        log,
        clock: () => now,
        invocation: currentInvocation,
      });
      await withinInvocation(async () => {
        const rejected = await tokens.authorizerToken(MP.appId);
        const rejecting = tokens.authorizerTokenRejected(MP.appId, rejected);
        await writing;
        expect(await tokens.authorizerToken(MP.appId)).toBe(rejected); // read while the write is under way
        release();
        await rejecting;
        expect(await tokens.authorizerToken(MP.appId)).not.toBe(rejected);
        expect(sim.counters()[AUTHORIZER_TOKEN_PATH]).toBe(1);
      });
    });
  });

  it('keeps the refresh token WeChat answered last when two refreshes overlap (a holder outlived its lease)', async () => {
    const slowApi = interruptedApi();
    const slow = instance({ api: slowApi, leaseMs: 30_000 });
    await slow.tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await slow.tokens.componentToken();
    await authorize(slow.tokens);
    now += 7200_000 + 1000;
    // The slow holder stalls before its call reaches WeChat; its lease expires and another instance refreshes.
    slowApi.beforeAuthorizerRefresh = async () => {
      now += 31_000;
      await instance().tokens.authorizerToken(MP.appId);
    };
    await slow.tokens.authorizerToken(MP.appId);
    sim.resetCounters();
    now += 2 * 7200_000; // the other instance's refresh token was rotated out by the slow one's answer, and died
    await expect(instance().tokens.authorizerToken(MP.appId)).resolves.toEqual(expect.any(String));
    expect(sim.counters()[AUTHORIZER_LIST_PATH]).toBeUndefined(); // no repair was needed
  });

  it('never replaces a stored component token with one issued before it', async () => {
    const slowApi = interruptedApi();
    const slow = instance({ api: slowApi });
    await slow.tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    let newer = '';
    slowApi.beforeComponentToken = async () => {
      now += 31_000; // the slow holder's lease expires; another instance refreshes and stores a newer token
      newer = await instance().tokens.componentToken();
    };
    expect(await slow.tokens.componentToken()).toBe(newer);
    expect(await instance().tokens.componentToken()).toBe(newer);
  });

  it('uses the refresh token of an authorization made while a refresh was being rejected, instead of asking for another scan', async () => {
    const told: string[] = [];
    const racingApi = interruptedApi();
    const { tokens } = instance({ api: racingApi, onNeedsReauth: async (appId) => void told.push(appId) });
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await authorize(tokens);
    now += 7200_000 + 1000;
    // The admin scans again while the refresh is on its way: WeChat retires the old refresh token (→ 61023).
    racingApi.beforeAuthorizerRefresh = async () => void (await authorize(instance().tokens));
    await expect(tokens.authorizerToken(MP.appId)).resolves.toEqual(expect.any(String));
    expect(await tokens.authorizerStatus(MP.appId)).toBe('active');
    expect(told).toEqual([]);
  });

  it('recovers a refresh token lost to WeChat from api_get_authorizer_list before asking for another scan', async () => {
    const { tokens } = instance();
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    const info = await authorize(tokens);
    // Somebody refreshed with our refresh token and lost the answer: WeChat rotated it, ours dies 5 minutes later.
    await api().refreshAuthorizerToken(await tokens.componentToken(), MP.appId, info.authorizer_refresh_token ?? '');
    now += 7200_000 + 10 * 60_000;
    sim.resetCounters();
    await expect(tokens.authorizerToken(MP.appId)).resolves.toEqual(expect.any(String));
    expect(await tokens.authorizerStatus(MP.appId)).toBe('active');
    expect(sim.counters()[AUTHORIZER_LIST_PATH]).toBe(1);
    now += 2 * 7200_000;
    await expect(tokens.authorizerToken(MP.appId)).resolves.toEqual(expect.any(String));
  });

  it('ignores an unauthorized push made before the latest authorization (late or retried), and honours a later one', async () => {
    const { tokens } = instance();
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    const revokedAt = now;
    now += 60_000;
    await authorize(tokens); // authorized again after the revoke
    expect(await tokens.markRevoked(MP.appId, 'unauthorized by the mini program admin', revokedAt)).toBe('authorized-since');
    expect(await tokens.authorizerStatus(MP.appId)).toBe('active');
    await expect(tokens.authorizerToken(MP.appId)).resolves.toEqual(expect.any(String));
    now += 60_000;
    expect(await tokens.markRevoked(MP.appId, 'unauthorized by the mini program admin', now - 1000)).toBe('revoked');
    expect(await tokens.authorizerStatus(MP.appId)).toBe('revoked');
  });

  it('invalidates a rejected token only if it is still the stored one', async () => {
    const { tokens } = instance();
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    const token = await tokens.componentToken();
    await tokens.componentTokenRejected('some-older-token');
    expect(await tokens.componentToken()).toBe(token);
    expect(sim.counters()[TOKEN_PATH]).toBe(1);
    await tokens.componentTokenRejected(token);
    expect(await tokens.componentToken()).not.toBe(token);
    expect(sim.counters()[TOKEN_PATH]).toBe(2);
  });

  it('lets the client heal a token WeChat has expired (42001): one refresh, one retry', async () => {
    const { tokens } = instance();
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await authorize(tokens);
    const client = new WeChatClient({ api: api(), tokens });
    sim.expireTokens('authorizer');
    sim.resetCounters();
    await expect(client.getCategory(MP.appId)).resolves.toEqual(expect.objectContaining({ category_list: expect.any(Array) }));
    expect(sim.counters()[AUTHORIZER_TOKEN_PATH]).toBe(1);
    expect(sim.counters()['/wxa/get_category']).toBe(2);
  });

  it('falls back to the previous ticket when the newest one is refused, and ignores late or repeated pushes', async () => {
    const { tokens } = instance();
    const good = await sim.pushVerifyTicket();
    expect(await tokens.recordVerifyTicket(good, now - 60_000)).toBe('stored');
    expect(await tokens.recordVerifyTicket(good, now - 60_000)).toBe('duplicate');
    expect(await tokens.recordVerifyTicket('ticket@@@bogus-not-issued-by-wechat', now)).toBe('stored');
    expect(await tokens.recordVerifyTicket('ticket@@@even-older', now - 3_600_000)).toBe('older');
    await expect(tokens.componentToken()).resolves.toEqual(expect.any(String));
  });

  it('asks WeChat to push a ticket when it has none, at most once per few minutes', async () => {
    const { tokens } = instance();
    await expect(tokens.componentToken()).rejects.toBeInstanceOf(NoVerifyTicketError);
    await expect(tokens.componentToken()).rejects.toBeInstanceOf(NoVerifyTicketError);
    expect(sim.counters()['/cgi-bin/component/api_start_push_ticket']).toBe(1);
    now += 6 * 60_000;
    await expect(tokens.componentToken()).rejects.toBeInstanceOf(NoVerifyTicketError);
    expect(sim.counters()['/cgi-bin/component/api_start_push_ticket']).toBe(2);
  });

  it('gives up on a mini program whose tokens keep changing under it with a typed error, instead of retrying forever', async () => {
    const { tokens, store } = instance();
    await tokens.recordVerifyTicket(await sim.pushVerifyTicket(), now);
    await authorize(tokens);
    // Another writer wins every compare-and-set on the mini program's tokens (for far longer than the retry rule waits).
    let lost = 0;
    const racing: DocumentStore = {
      ...store,
      collection: (spec) => {
        const collection = store.collection(spec);
        if (spec.name !== 'authorizerTokens') return collection;
        return {
          ...collection,
          update: async () => {
            lost++;
            if (lost <= 50) throw new ConflictError('another writer won', { details: {} });
            throw new Error('not reached: the race was never given up');
          },
        };
      },
    };
    const raced = new TokenManager({ store: racing, api: api(), box: createSecretBox(dataKey), log, clock: () => now });
    await expect(raced.saveAuthorization(MP.appId, { refreshToken: 'another-refresh-token' })).rejects.toBeInstanceOf(
      ConflictRetriesExhaustedError,
    );
    expect(lost).toBe(DEFAULT_RETRY_POLICY.attempts);
    expect(await raced.authorizerStatus(MP.appId)).toBe('active');
  });

  it('stores no token, ticket or refresh token in plaintext', async () => {
    const { tokens, store } = instance();
    const ticket = await sim.pushVerifyTicket();
    await tokens.recordVerifyTicket(ticket, now);
    const componentToken = await tokens.componentToken();
    const info = await authorize(tokens);
    await store.close();
    const files = readdirSync(dir).map((name) => readFileSync(join(dir, name)).toString('latin1'));
    for (const secret of [ticket, componentToken, info.authorizer_access_token ?? '', info.authorizer_refresh_token ?? '']) {
      expect(secret.length).toBeGreaterThan(8);
      for (const content of files) expect(content.includes(secret)).toBe(false);
    }
  });
});

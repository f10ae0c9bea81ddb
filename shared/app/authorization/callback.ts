/**
 * The redirect back with `auth_code` (DESIGN §1 steps 1–2): the one place the code is exchanged, because only the
 * redirect knows from its signed state which account and app the scan was for. A state is good for one code and a
 * code is exchanged once; a refreshed or retried redirect is shown the first outcome.
 */
import { createHash } from 'node:crypto';
import { AppError, ConflictError, DuplicateKeyError, ValidationError } from '../../domain/errors';
import { authorizationRefusedEvents } from '../../domain/webhooks/state-changes';
import * as z from '../../domain/zod';
import { defineCollection } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import type { Services } from '../context';
import { InvalidStateError, type StatePayload } from '../state-token';
import { commitWithEvents } from '../webhooks/outbox';
import { codeManagementLostNote, exchangeAndApply } from './apply';
import { AuthorizationRefusedError, type AuthResult, authResultSchema } from './outcome';
import type { Purpose } from './start';

/**
 * One document per auth code (keyed by its digest), written in one batch with the state's claim: the state it came
 * back with, who is exchanging it, and then its outcome. A refreshed page (same state and code) sees the outcome
 * rather than WeChat's 61009; the code with any other state is refused and told nothing; a delivery arriving during
 * the exchange (browsers and proxies retry) waits for its outcome instead of spending the code twice.
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
      result: z.nullable(authResultSchema),
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

/**
 * Handles the redirect back from the authorization page. Returns what to show the admin; a retried or refreshed
 * redirect returns the first outcome again.
 */
export async function completeAuthorization(
  services: Services,
  purpose: Purpose,
  input: { authCode: string | undefined; state: string | undefined },
): Promise<AuthResult> {
  const payload = services.signer.verify(input.state);
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
  const claim = await claimExchange(services, payload, codeId);
  if (claim.kind === 'outcome') return claim.result;

  let result: AuthResult;
  try {
    const miniProgram = await exchangeAndApply(services, payload, input.authCode);
    const { appid } = miniProgram;
    result = {
      ok: true,
      code: purpose === 'bind-primary' ? 'PRIMARY_BOUND' : 'MINI_PROGRAM_AUTHORIZED',
      message:
        purpose === 'bind-primary'
          ? `${appid} is now the account's primary mini program.${codeManagementLostNote(miniProgram)}`
          : `${appid} is now linked to the app.`,
      appid,
      at: services.clock(),
    };
  } catch (error) {
    if (!(error instanceof AppError) || error.category === 'internal' || error.category === 'unavailable') {
      await giveUpExchange(services, codeId, claim.owner);
      throw error;
    }
    result = { ok: false, code: error.code, message: error.message, category: error.category, appid: null, at: services.clock() };
  }
  return recordOutcome(services, payload, codeId, result);
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
async function claimExchange(services: Services, payload: StatePayload, codeId: string): Promise<Claim> {
  const used = services.store.collection(usedStatesCollection);
  const exchanges = services.store.collection(authExchangesCollection);
  const owner = Buffer.from(services.randomBytes(8)).toString('hex');
  const waitUntil = Date.now() + EXCHANGE_WAIT_MS;
  // Not the store's retry rule: this waits, for up to EXCHANGE_WAIT_MS, on another delivery's exchange.
  for (let pause = 25; ; pause = Math.min(pause * 2, 500)) {
    const now = services.clock();
    const fresh: AuthExchange = {
      stateNonce: payload.nonce,
      purpose: payload.purpose,
      owner,
      exchangeUntil: now + EXCHANGE_LEASE_MS,
      result: null,
    };
    try {
      await services.store.commit([
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
async function giveUpExchange(services: Services, codeId: string, owner: string): Promise<void> {
  const exchanges = services.store.collection(authExchangesCollection);
  try {
    const exchange = await exchanges.get(codeId);
    if (exchange && exchange.data.owner === owner && !exchange.data.result) {
      await exchanges.update(codeId, exchange.version, { ...exchange.data, exchangeUntil: 0 });
    }
  } catch (error) {
    // Best effort: the lease runs out by itself.
    services.log.warn('could not release the claim on an authorization code', { error });
  }
}

/**
 * Records the exchange's outcome. Another delivery that took over a lapsed exchange may have recorded one first:
 * a success is never overwritten, and never hidden behind a refusal (the takeover's 61009 is this exchange's doing).
 */
async function recordOutcome(services: Services, payload: StatePayload, codeId: string, result: AuthResult): Promise<AuthResult> {
  const exchanges = services.store.collection(authExchangesCollection);
  const keepsRecorded = (recorded: AuthResult | null) => recorded !== null && (recorded.ok || !result.ok);
  return retryOnConflict(`record the outcome of auth code ${codeId}`, async () => {
    const exchange = await exchanges.get(codeId);
    if (!exchange) return result;
    if (keepsRecorded(exchange.data.result)) return exchange.data.result ?? result;
    // A refusal is told to the account's webhooks in the batch that records it: once per code, however often replayed.
    const events = result.ok
      ? []
      : authorizationRefusedEvents(
          {
            accountId: payload.accountId,
            attempt: codeId.slice(0, 24),
            purpose: payload.purpose,
            code: result.code,
            reason: result.message,
            at: result.at,
          },
          services.randomBytes,
        );
    await commitWithEvents(services.store, [exchanges.updateWrite(codeId, exchange.version, { ...exchange.data, result })], events);
    return result;
  });
}

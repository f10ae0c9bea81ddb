/**
 * The one compare-and-set retry rule: read, apply a pure change, write with the version read; on a lost race
 * (`ConflictError`) read and decide again, a bounded number of times with jittered backoff, then give up with a
 * typed error. Every read-modify-write in the app goes through here instead of a hand-written loop.
 */
import { ConflictError } from '../domain/errors';
import type { Collection, Stored } from './port';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** Backoff before try n (n ≥ 2) is a random share of min(maxDelayMs, baseDelayMs · 2^(n-2)); the first retry waits 0. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random?: () => number;
}

/** Ten tries over at most ~0.5 s: a conflict means another writer just finished, so the next read usually wins. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 10, baseDelayMs: 2, maxDelayMs: 100 };

/** Still a `ConflictError` (a caller that handles a lost race handles this), with the last conflict as its cause. */
export class ConflictRetriesExhaustedError extends ConflictError {
  override readonly code = 'CONFLICT_RETRIES_EXHAUSTED';
}

// Captured at import: a test that installs fake timers later must not freeze a store retry waiting on them.
const realSetTimeout = globalThis.setTimeout;
export const pause = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

export function backoffMs(policy: RetryPolicy, failedTries: number): number {
  if (failedTries <= 1) return 0;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedTries - 2));
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}

/** Runs `attempt` until it does not lose a race; its reads must happen inside it so that each try sees fresh data. */
export async function retryOnConflict<T>(what: string, attempt: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConflictError) || error instanceof ConflictRetriesExhaustedError) throw error;
      if (tries >= policy.attempts) {
        throw new ConflictRetriesExhaustedError(`${what}: still conflicting after ${tries} tries`, { cause: error });
      }
      const wait = backoffMs(policy, tries);
      if (wait > 0) await pause(wait);
    }
  }
}

/** What a change returns to leave the document as it is (no write, no version bump). */
export const UNCHANGED: unique symbol = Symbol('unchanged');

export interface Updated<T> {
  readonly stored: Stored<T>;
  readonly changed: boolean;
}

/**
 * Read-change-write of one document. `change` is pure (it may run several times); it may throw to refuse.
 * Returns null when there is no such document.
 */
export function updateWithRetry<T>(
  collection: Pick<Collection<T, string>, 'name' | 'get' | 'update'>,
  id: string,
  change: (current: Stored<T>) => T | typeof UNCHANGED,
  policy?: RetryPolicy,
): Promise<Updated<T> | null> {
  return retryOnConflict(
    `update ${collection.name}/${id}`,
    async () => {
      const stored = await collection.get(id);
      if (!stored) return null;
      const next = change(stored);
      if (next === UNCHANGED) return { stored, changed: false };
      return { stored: await collection.update(id, stored.version, next), changed: true };
    },
    policy,
  );
}

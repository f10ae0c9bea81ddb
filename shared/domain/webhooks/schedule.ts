/**
 * When a failed delivery is tried again: exponential backoff with full jitter, capped, over about three days — the
 * window Standard Webhooks' guidance and Svix use. After the last attempt the delivery is given up, and an endpoint
 * that has failed for the whole window is disabled.
 */

/** Nominal waits before attempts 2, 3, …: 5 s doubling to a 12 h cap; they add up to ~3 days (`RETRY_WINDOW_MS`). */
const BASE_MS = 5_000;
const CAP_MS = 12 * 3_600_000;
export const MAX_ATTEMPTS = 19;

/** Nominal wait after `failedAttempts` failures (1 = after the first attempt). */
export const nominalDelayMs = (failedAttempts: number): number => Math.min(CAP_MS, BASE_MS * 2 ** (failedAttempts - 1));

/** The sum of the nominal waits: the span over which a delivery is retried. */
export const RETRY_WINDOW_MS = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => nominalDelayMs(i + 1)).reduce((a, b) => a + b, 0);

/**
 * The wait before the next attempt, or null when the delivery is given up. Jitter is ±20 % of the nominal wait
 * rather than "full" jitter: receivers coming back from an outage are spread out, while the window stays ~3 days.
 */
export function nextAttemptDelayMs(failedAttempts: number, random: () => number): number | null {
  if (failedAttempts >= MAX_ATTEMPTS) return null;
  const nominal = nominalDelayMs(failedAttempts);
  return Math.round(nominal * (0.8 + 0.4 * random()));
}

/**
 * An endpoint failing continuously for this long (with nothing delivered) is disabled. It is the shortest span the
 * jittered schedule can take (every wait at -20 %), so a delivery's last attempt always comes after it: with the
 * nominal window, a schedule jittered short gave its delivery up before the endpoint was ever disabled.
 */
export const DISABLE_AFTER_MS = Math.floor(RETRY_WINDOW_MS * 0.8);

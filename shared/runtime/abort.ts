/**
 * Combining abort signals on SCF's Node 18.15: `AbortSignal.any` arrived in Node 18.17 / 20.3, so calling it there
 * throws, and only where a second signal is passed (a poller tick's budget, a request's early end).
 */
import { setMaxListeners } from 'node:events';

export interface CombinedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners this combination put on its sources; call it when the work the signal guards is over. */
  release(): void;
}

const nothingToRelease = () => undefined;

/** Aborts when either source does, with that source's reason. */
export function eitherSignal(first: AbortSignal, second: AbortSignal): CombinedSignal {
  if (first.aborted) return { signal: first, release: nothingToRelease };
  if (second.aborted) return { signal: second, release: nothingToRelease };
  const controller = new AbortController();
  const onFirst = () => controller.abort(first.reason);
  const onSecond = () => controller.abort(second.reason);
  first.addEventListener('abort', onFirst, { once: true });
  second.addEventListener('abort', onSecond, { once: true });
  return {
    signal: controller.signal,
    release: () => {
      first.removeEventListener('abort', onFirst);
      second.removeEventListener('abort', onSecond);
    },
  };
}

/**
 * Marks a signal that many concurrent operations listen to at once (each removing its listener when done), so Node
 * does not warn of a leak past 10 listeners.
 */
export function sharedSignal(signal: AbortSignal): AbortSignal {
  setMaxListeners(0, signal);
  return signal;
}

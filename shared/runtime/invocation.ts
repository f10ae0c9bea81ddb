/**
 * Numbers the invocations this process runs (`cloudEntry` runs every event through `withinInvocation`, in every
 * function the process holds). A value that may be reused only within the invocation that read it is stored with
 * this number: another number means another invocation began since, in this function or in another one sharing
 * the process (the local runtime), so the value is read again. Outside any invocation (a test calling services
 * directly, a script) there is no number and nothing is reused. Invocations can overlap (the local runtime runs
 * them concurrently), so this is not per request: users bound the reuse by age as well.
 */
let begun = 0;
let running = 0;

export async function withinInvocation<T>(run: () => Promise<T>): Promise<T> {
  begun += 1;
  running += 1;
  try {
    return await run();
  } finally {
    running -= 1;
  }
}

/** The number of the invocation begun last, while one runs; undefined when none does. */
export function currentInvocation(): number | undefined {
  return running > 0 ? begun : undefined;
}

/** One thing a whole test file shares (a platform, a database handle), started before its tests and stopped after. */

/**
 * Registers `beforeAll(start)` and `afterAll(stop)`; the returned function reads what was started, inside tests and
 * the hooks declared after this call. `stop` is skipped when `start` failed (jest reports that failure).
 */
export function startedForFile<T>(start: () => Promise<T>, stop: (started: T) => Promise<void>): () => T {
  let started: { value: T } | undefined;
  beforeAll(async () => {
    started = { value: await start() };
  });
  afterAll(async () => {
    if (started) await stop(started.value);
  });
  return () => {
    if (!started) throw new Error('what this file shares is started in beforeAll');
    return started.value;
  };
}

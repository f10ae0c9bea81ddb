import { spawnSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { eitherSignal } from './abort';

describe('eitherSignal', () => {
  it('aborts when either source aborts, with that reason', () => {
    const a = new AbortController();
    const b = new AbortController();
    const { signal } = eitherSignal(a.signal, b.signal);
    expect(signal.aborted).toBe(false);
    b.abort(new Error('budget spent'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('budget spent');
  });

  it('lets go of its listeners when released, so a long-lived source does not collect them', () => {
    const longLived = new AbortController().signal;
    for (let i = 0; i < 100; i++) eitherSignal(AbortSignal.timeout(60_000), longLived).release();
    expect(getEventListeners(longLived, 'abort')).toHaveLength(0);
  });

  it('is already aborted when a source is', () => {
    const done = new AbortController();
    done.abort('over');
    expect(eitherSignal(new AbortController().signal, done.signal).signal.aborted).toBe(true);
  });

  it('lets many concurrent calls of a tick listen to a shared signal without a leak warning', () => {
    // In a plain Node process: jest's sandbox has its own `process`, which Node's warnings do not reach.
    const listenTwenty = (share: boolean) => `
      const { eitherSignal, sharedSignal } = require(${JSON.stringify(join(__dirname, 'abort.ts'))});
      const budget = new AbortController().signal;
      ${share ? 'sharedSignal(budget);' : ''}
      for (let i = 0; i < 20; i++) eitherSignal(AbortSignal.timeout(60_000), budget);
      setImmediate(() => process.exit(0));`;
    const stderrOf = (share: boolean) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', listenTwenty(share)], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      }).stderr;
    expect(stderrOf(false)).toContain('MaxListenersExceededWarning');
    expect(stderrOf(true)).not.toContain('MaxListenersExceededWarning');
  });
});

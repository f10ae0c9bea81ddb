/**
 * The outbox survives a kill between the state change and its delivery: a real process makes state changes on a
 * SQLite file and is SIGKILLed right after the last commit; after the "restart" (workers opening the same file),
 * every event is delivered, once per event id, even with two workers running at once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ACCOUNT, openWorld, startReceiver } from './support';

const ROOT = resolve(__dirname, '..', '..');

function runChild(path: string, count: number): Promise<{ signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((done, fail) => {
    // Node itself runs the script (tsx as a loader, not its CLI, which would stand between us and the killed process).
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'kill-child.ts'), path, String(count)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on('error', fail);
    child.on('exit', (_code, signal) => done({ signal, stdout }));
  });
}

it('events committed by a process killed before delivering are delivered after restart, once each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-outbox-crash-'));
  const path = join(dir, 'wxa.db');
  const receiver = await startReceiver();
  const setup = openWorld({ path });
  const { secret } = await setup.endpoints.create(ACCOUNT, ACCOUNT, { url: receiver.url, eventTypes: ['deployment.state_changed'] });
  receiver.secrets.push(secret);
  await setup.close();

  const child = await runChild(path, 4);
  expect(child.signal).toBe('SIGKILL');
  expect(child.stdout).not.toContain('survived');
  const deploymentId = child.stdout.trim().split('\n')[0];
  expect(receiver.requests).toBe(0);

  // Restart: two workers on the same file at once, then one more run.
  const a = openWorld({ path });
  const b = openWorld({ path });
  try {
    await Promise.all([a.worker.run({ budgetMs: 60_000 }), b.worker.run({ budgetMs: 60_000 })]);
    await a.worker.run({ budgetMs: 60_000 });
    expect(receiver.unverified).toBe(0);
    expect(receiver.received.map((e) => [e.data.deploymentId, e.data.sequence])).toEqual([1, 2, 3, 4].map((n) => [deploymentId, n]));
    expect(new Set(receiver.received.map((e) => e.id)).size).toBe(4);
  } finally {
    await a.close();
    await b.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

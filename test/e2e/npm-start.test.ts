/**
 * `npm start` as a newcomer runs it: a real process on embedded defaults, answering HTTP, stopping cleanly on
 * SIGTERM and SIGINT.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

function start(dataDir: string) {
  const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'infra', 'local', 'main.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', SQLITE_PATH: join(dataDir, 'wxa.db'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = new Promise<string>((resolveUrl, reject) => {
    const timer = setInterval(() => {
      const found = /running at (http:\/\/[\d.:]+)/.exec(output);
      if (found?.[1]) {
        clearInterval(timer);
        resolveUrl(found[1]);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code} before serving:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { child, url, exited, output: () => output };
}

describe('npm start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)('serves on embedded defaults and stops cleanly on %s', async (signal) => {
    const run = start(dir);
    const url = await run.url;
    const health = await fetch(`${url}/healthz`).then((r) => r.json());
    expect(health).toEqual({ ok: true, functions: expect.arrayContaining(['api', 'authorize-callback', 'maintenance']) });
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    run.child.kill(signal);
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('simulator at http://');
    // The keys are generated next to SQLITE_PATH, and the banner says where.
    expect(run.output()).toContain(`from ${join(dir, 'local-secrets.json')}`);
    expect(run.output()).not.toMatch(/adm_[A-Za-z0-9_-]{20,}/); // the admin key is never printed
  }, 30_000);
});

/**
 * `npm start` as a newcomer runs it: a real process on embedded defaults, answering HTTP, stopping cleanly on
 * SIGTERM and SIGINT, and continuing where it stopped after a restart (the simulated WeChat included).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { client, createAccount, createApp } from '../../infra/local/driver';
import * as z from '../../shared/domain/zod';
import { requestAction, requestBuild } from '../support/e2e';

const root = resolve(__dirname, '..', '..');

function start(dataDir: string) {
  // As `npm start` runs it: node with tsx's loader, no tsx CLI in between (its signal relay SIGKILLs a child that
  // has not acknowledged Ctrl-C within 30 ms, which a loaded machine misses).
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'infra', 'local', 'main.ts')], {
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
    });
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code} before serving:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { child, url, exited, output: () => output };
}

const simulatorUrlOf = (output: string): string => /simulator at (http:\/\/[\d.:]+)/.exec(output)?.[1] ?? '';

const urlReply = z.object({ url: z.string() });
const redirectReply = z.object({ redirectUrl: z.string() });

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
  });

  it('continues after Ctrl-C and npm start: the simulator on its port, mini programs authorized, audits decidable', async () => {
    const restartDir = mkdtempSync(join(tmpdir(), 'wxa-restart-'));
    try {
      const first = start(restartDir);
      const url = await first.url;
      const sim = simulatorUrlOf(first.output());
      const { ADMIN_API_KEY: adminKey } = JSON.parse(readFileSync(join(restartDir, 'local-secrets.json'), 'utf8')) as {
        ADMIN_API_KEY: string;
      };
      const { api, apiKey } = await createAccount({ url, adminKey }, 'Restart');
      const simulator = client(sim, '');
      // The admin scans on the simulator's authorization page (its JSON form) and WeChat redirects back.
      const appid = 'wx8a6f3c2d1e0b9a01'; // a demo mini program (infra/wechat-sim/demo.ts)
      const scan = async (body: Record<string, unknown>) => {
        const page = new URL(urlReply.parse((await api.post('/v1/authorizations', body)).body).url);
        const scanned = await simulator.post('/sim/scan', {
          preAuthCode: page.searchParams.get('pre_auth_code'),
          appId: appid,
          redirectUri: page.searchParams.get('redirect_uri'),
        });
        const { redirectUrl } = redirectReply.parse(scanned.body);
        return (await client(redirectUrl, '').raw('GET', '', undefined, { accept: 'application/json' })).body;
      };
      expect(await scan({ purpose: 'bind-primary' })).toMatchObject({ ok: true });
      const appId = await createApp(api, {
        kind: 'lowcode',
        name: 'Shop',
        templateId: 101,
        requiredPlugins: [],
        config: { ext: {}, extPages: { 'pages/index/index': { navigationBarTitleText: 'Shop' } }, pages: ['pages/index/index'] },
      });
      expect(await scan({ purpose: 'authorize-app', appId })).toMatchObject({ ok: true });
      const { id, state } = await requestBuild(api, appId, { userVersion: '1.0.0' });
      expect(state).toBe('built');
      expect((await requestAction(api, id, 'submit')).state).toBe('auditing');
      first.child.kill('SIGINT');
      expect(await first.exited).toBe(0);

      const second = start(restartDir);
      const url2 = await second.url;
      expect(simulatorUrlOf(second.output())).toBe(sim);
      const again = client(url2, apiKey);
      expect((await again.get(`/v1/mini-programs/${appid}`)).body).toMatchObject({ status: 'authorized', roles: ['primary', 'target'] });
      // A call with the mini program's token: the tokens issued before the restart are still good.
      expect((await again.get('/v1/quota')).status).toBe(200);
      expect((await simulator.post('/sim/audit/decide', { appId: appid, decision: 'approve' })).status).toBe(200);
      await simulator.post('/sim/pushes/settle', {});
      expect((await again.get(`/v1/deployments/${id}`)).body).toMatchObject({ state: 'approved' });
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    } finally {
      rmSync(restartDir, { recursive: true, force: true });
    }
  });
});

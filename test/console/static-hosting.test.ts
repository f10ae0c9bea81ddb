/**
 * The cloud's way: `npm run build:console` with the API's address, the files served by a plain static host on
 * another origin (as CloudBase static hosting would: no headers of ours), the API allowing that origin with
 * CORS_ORIGINS. A browser signs in there and uses a page; framed by another site, the console does not render.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtConsole } from '../../console/serve';
import { createAccount, type Platform, startPlatform } from '../../infra/local/driver';
import { browserTabForFile, seriousViolations, signIn } from './browser';

const { page: current, requests, pageErrors, step } = browserTabForFile();
let p: Platform;
let staticHost: Server;
let staticOrigin = '';
let framer: Server;
let framerOrigin = '';

/** A server on a port of its own (another origin), answering with `reply`. */
async function listen(reply: (path: string) => { status: number; type: string; body: Buffer | string }): Promise<[Server, string]> {
  const server = createServer((request, response) => {
    const { status, type, body } = reply(new URL(request.url ?? '/', 'http://x').pathname);
    response.writeHead(status, { 'content-type': type });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}

beforeAll(async () => {
  // The static host's origin must be known before the API starts (CORS_ORIGINS): take a port first.
  let site: Awaited<ReturnType<typeof builtConsole>> | undefined;
  [staticHost, staticOrigin] = await listen((path) => {
    const file = site?.files.get(path === '/' ? 'index.html' : path.slice(1));
    return file ? { status: 200, type: file.contentType, body: file.bytes } : { status: 404, type: 'text/plain', body: 'not found' };
  });
  p = await startPlatform({ env: { CORS_ORIGINS: staticOrigin } });
  site = await builtConsole({ apiBase: p.url });
  [framer, framerOrigin] = await listen(() => ({
    status: 200,
    type: 'text/html; charset=utf-8',
    body: `<!doctype html><title>framer</title><iframe src="${staticOrigin}/" title="console" width="800" height="600"></iframe>`,
  }));
});

afterAll(async () => {
  await p?.close();
  staticHost?.close();
  framer?.close();
});

describe('the console as static files on another origin', () => {
  step('signs in against the API on its own origin (CORS), and shows the account’s apps', async () => {
    const page = current();
    const { apiKey } = await createAccount(p, '静态托管');
    await signIn(page, `${staticOrigin}/`, apiKey, '静态托管');
    await page.getByRole('link', { name: '应用' }).click();
    await page.getByText('还没有应用。').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // The page came from the static host, every API call went to the API's origin, nothing anywhere else.
    const origins = new Set(requests().map((url) => new URL(url).origin));
    expect([...origins].sort()).toEqual([new URL(p.url).origin, staticOrigin].sort());
    expect(requests().some((url) => url.startsWith(`${p.url}/v1/account`))).toBe(true);
    expect(pageErrors()).toEqual([]);
  });

  step('a wrong key is refused in Chinese, across origins too', async () => {
    const page = current();
    await page.getByRole('button', { name: '退出' }).click();
    await page.getByLabel('API 密钥').fill('not-a-key-at-all-not-a-key');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('API 密钥无效').first().waitFor();
  });

  step('does not render inside another site’s frame (no header can say frame-ancestors on a static host)', async () => {
    const page = current();
    await page.goto(`${framerOrigin}/`);
    const frame = page.frameLocator('iframe[title=console]');
    await frame.getByText('控制台不能嵌入其他网页').waitFor();
    expect(await frame.getByLabel('API 密钥').count()).toBe(0);
  });
});

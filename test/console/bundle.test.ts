/**
 * What the console ships: under 250 KB of JavaScript gzipped, no inline script (its CSP forbids them), nothing
 * secret, everything from our own origin; and how the local runtime serves it.
 */
import { consoleSite, type StaticReply } from '../../console/serve';
import { LOCAL_WECHAT_DEFAULTS } from '../../shared/runtime/config';

const site = consoleSite();
const get = async (path: string): Promise<StaticReply> => {
  const reply = await site.serve('GET', path);
  if (!reply) throw new Error(`${path} is not the console's`);
  return reply;
};

describe('the console build', () => {
  let page: string;
  let scripts: Buffer[];
  beforeAll(async () => {
    page = (await get('/console/')).body.toString();
    const sources = [...page.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1] ?? '');
    scripts = await Promise.all(sources.map(async (src) => (await get(`/console/${src}`)).body));
  });

  it('ships under 250 KB of JavaScript gzipped, as one module from its own origin', async () => {
    const { gzipSync } = await import('node:zlib');
    expect(scripts).toHaveLength(1);
    const gzipped = scripts.reduce((total, script) => total + gzipSync(script, { level: 9 }).length, 0);
    expect(gzipped).toBeLessThan(250 * 1024);
    // Relative URLs only: no CDN, nothing fetched from elsewhere.
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('has no inline script, and a CSP that forbids them', async () => {
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const csp = (await get('/console/')).headers['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    // style-src may be inline (TDesign positions popups with style attributes); script-src never.
    expect(
      csp
        .split(';')
        .find((d) => d.trim().startsWith('script-src'))
        ?.trim(),
    ).toBe("script-src 'self'");
  });

  it('carries no zod: the console takes the routes’ types (import type), not their schemas', () => {
    // zod is about 60 KB gzipped of the 250 KB budget, and a schema parse in the browser would duplicate the API's.
    // Its class names are strings that minifying keeps.
    const text = scripts.map((s) => s.toString()).join('\n');
    expect(text).not.toContain('$ZodType');
    expect(text).not.toContain('ZodError');
  });

  it('carries no secret: no local key, no WeChat credential', () => {
    const text = scripts.map((s) => s.toString()).join('\n');
    for (const secret of [
      LOCAL_WECHAT_DEFAULTS.WECHAT_COMPONENT_SECRET,
      LOCAL_WECHAT_DEFAULTS.WECHAT_ENCODING_AES_KEY,
      LOCAL_WECHAT_DEFAULTS.WECHAT_TOKEN,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/adm_[A-Za-z0-9_-]{20,}/);
  });

  it('is served at /console/ (and /console redirects there); other paths are not its', async () => {
    expect(await get('/console')).toMatchObject({ status: 308, headers: { location: '/console/' } });
    expect((await get('/console/')).headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    expect((await get('/console/assets/nothing.js')).status).toBe(404);
    expect(await site.serve('GET', '/v1/apps')).toBeUndefined();
    expect(await site.serve('POST', '/console/')).toBeUndefined();
  });
});

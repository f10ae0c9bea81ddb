/**
 * The console's browser tests drive Debian's Chromium (`apt-get install chromium`; .ci/run installs it) through
 * playwright-core, which never downloads a browser. One browser per test file; pages wait on what a person would
 * see (a text, a state), never on time.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the screenshots the README shows are written (committed). */
export const SCREENSHOTS = resolve(__dirname, '..', '..', 'docs', 'console');

/** Generous: a loaded 2-core CI machine renders slowly; a failing wait still fails, just later. */
export const WAIT_MS = 120_000;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const WIDTHS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 900 } } as const;

/**
 * A context whose every request is recorded: the tests check the console reaches only its own origin and the
 * simulator the admin is sent to, and that the key never appears in a URL.
 */
export async function newContext(browser: Browser, viewport: { width: number; height: number } = WIDTHS.desktop) {
  const context: BrowserContext = await browser.newContext({ viewport, locale: 'zh-CN', reducedMotion: 'reduce' });
  context.setDefaultTimeout(WAIT_MS);
  const requests: string[] = [];
  // Uncaught exceptions in the console's code (an API 4xx the page expects is logged by Chrome too, so console
  // messages are no measure).
  const pageErrors: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)));
  return { context, requests, pageErrors };
}

/** axe-core on the page as it is now: the serious and critical violations, described for the failure message. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`)
          .slice(0, 3)
          .join(' | ')}`,
    );
}

/** Writes docs/console/<name>-<width>.png: the README shows them. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true, animations: 'disabled' });
}

/** The same page at a phone's width, checked and photographed, then back to the desktop width. */
export async function atBothWidths(page: Page, name: string, check: (page: Page) => Promise<void>): Promise<void> {
  for (const viewport of [WIDTHS.desktop, WIDTHS.phone]) {
    await page.setViewportSize(viewport);
    await check(page);
    // Nothing may stick out sideways at either width: a phone would have to scroll to read it.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    if (overflow > 1) throw new Error(`${name} is ${overflow}px wider than the ${viewport.width}px viewport`);
    await screenshot(page, name);
  }
  await page.setViewportSize(WIDTHS.desktop);
}

/**
 * The console's browser tests drive Debian's Chromium (`apt-get install chromium`; .ci/run installs it) through
 * playwright-core, which never downloads a browser. One browser per test file; pages wait on what a person would
 * see (a text, a state), never on time.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the screenshots the README shows are written (committed). */
export const SCREENSHOTS = resolve(__dirname, '..', '..', 'docs', 'console');

/** Generous: a loaded 2-core CI machine renders slowly; a failing wait still fails, just later. */
export const WAIT_MS = 120_000;

/**
 * Chromium puts a unix socket in TMPDIR, and a socket path over 107 bytes aborts it ("Socket path too long"): under
 * a long TMPDIR (CI runs with one on purpose) it gets a short one of its own, removed when the browser goes.
 */
export async function launchBrowser(): Promise<Browser> {
  const ownTmp = tmpdir().length > 40 ? mkdtempSync('/tmp/wxa-chromium-') : null;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    ...(ownTmp ? { env: { ...process.env, TMPDIR: ownTmp } } : {}),
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
  if (ownTmp) browser.on('disconnected', () => rmSync(ownTmp, { recursive: true, force: true }));
  return browser;
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

/** Steps that build on each other: once one fails, the rest say so at once instead of each waiting out its timeouts. */
export function stepper(current: () => Page | undefined) {
  let broken: string | undefined;
  return (name: string, run: () => Promise<void>) =>
    it(name, async () => {
      if (broken) throw new Error(`not run: the step "${broken}" failed`);
      try {
        await run();
      } catch (error) {
        broken = name;
        // What the page showed when the step failed: the first thing to look at.
        await current()
          ?.screenshot({ path: join(tmpdir(), `wxa-console-failed-step-${process.pid}.png`), fullPage: true })
          .catch(() => undefined);
        throw error;
      }
    });
}

/**
 * One browser and one tab for the whole test file, opened before its tests (and before the file's own `beforeAll`,
 * when called above it) and closed after them; `step` makes steps that stop at the first failure.
 */
export function browserTabForFile() {
  let browser: Browser | undefined;
  let tab: { page: Page; requests: string[]; pageErrors: string[] } | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
    const { context, requests, pageErrors } = await newContext(browser);
    tab = { page: await context.newPage(), requests, pageErrors };
  });
  afterAll(async () => {
    await browser?.close();
  });
  const opened = () => {
    if (!tab) throw new Error('no page: the tab opens in beforeAll');
    return tab;
  };
  return {
    page: () => opened().page,
    /** Every request the tab has made, in order. */
    requests: () => opened().requests,
    /** Uncaught exceptions of the console's code. */
    pageErrors: () => opened().pageErrors,
    step: stepper(() => tab?.page),
  };
}

/** Signs in on the console's page with an API key and waits until the page shows `heading` (the account's name). */
export async function signIn(page: Page, consoleUrl: string, apiKey: string, heading?: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByLabel('API 密钥').fill(apiKey);
  await page.getByRole('button', { name: '登录' }).click();
  if (heading !== undefined) await page.getByRole('heading', { name: heading }).waitFor();
}

/** Plays the admin: opens the authorization page a dialog link points at, picks the mini program, scans. */
export async function scanOnSimulator(page: Page, linkTestId: string, appid: string): Promise<Page> {
  const href = await page.getByTestId(linkTestId).getAttribute('href');
  if (!href) throw new Error('the dialog shows no authorization link');
  const scan = await page.context().newPage();
  await scan.goto(href);
  await scan.locator(`input[name=app_id][value=${appid}]`).check();
  await scan.getByRole('button', { name: /scan/ }).click();
  await scan.waitForURL(/\/wechat\/(bind|authorize)\/callback/);
  return scan;
}

/**
 * Authorizes `appid` through the dialog's `linkTestId` link, sees WeChat's success page, then waits for the console
 * to notice by itself (`doneTestId`) and closes the dialog.
 */
export async function authorizeAndClose(page: Page, linkTestId: string, appid: string, doneTestId: string): Promise<void> {
  const scan = await scanOnSimulator(page, linkTestId, appid);
  await scan.getByRole('heading', { name: /授权成功/ }).waitFor();
  await scan.close();
  await page.getByTestId(doneTestId).waitFor();
  await page.getByRole('dialog').getByRole('button', { name: '关闭' }).click();
}

/**
 * WeChat decides the audit (the simulator's control API, as a reviewer at WeChat would); the admin, told on their
 * phone, comes back to the console's tab, which looks again at once (it polls an audit only twice a minute).
 */
export async function decideAudit(
  page: Page,
  simulatorUrl: string,
  appid: string,
  decision: 'approve' | 'reject',
  extra: Record<string, unknown> = {},
) {
  const response = await fetch(`${simulatorUrl}/sim/audit/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appId: appid, decision, ...extra }),
  });
  if (response.status !== 200) throw new Error(`the simulator refused the decision: ${response.status} ${await response.text()}`);
  await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))");
}

export const waitForState = (page: Page, state: string) => page.locator(`[data-testid=deployment-state][data-state="${state}"]`).waitFor();

export async function confirmDialog(page: Page, button: string) {
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: button }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** From an app's page: build a version and wait for its experience version. */
export async function buildVersion(page: Page, version: string) {
  await page.getByRole('textbox', { name: '版本号' }).fill(version);
  await page.getByRole('button', { name: '立即构建' }).click();
  await page.waitForURL(/#\/deployments\/dep_/);
  await waitForState(page, 'built');
}

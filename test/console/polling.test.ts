/**
 * The deployment page keeps itself current only while something is in flight, and not too often: it polls an
 * audit (hours to days at WeChat) every 30 s, not at all while its tab is hidden, and not at all once nothing is
 * in flight. The page's clock is Playwright's fake one, so "30 s" and "10 minutes" pass at once; the requests are
 * counted from the browser's own request events.
 */
import type { Request } from 'playwright-core';
import { AUDIT_POLL_MS } from '../../console/src/poll-intervals';
import {
  authorize,
  createAccount,
  createLowcodeApp,
  deploymentOf,
  expectStatus,
  type Platform,
  startPlatform,
} from '../../infra/local/driver';
import { DEMO_MINI_PROGRAMS } from '../../infra/wechat-sim/demo';
import { browserTabForFile, confirmDialog, signIn, waitForState } from './browser';

const [primary] = DEMO_MINI_PROGRAMS;

const { page: current, step } = browserTabForFile();
let p: Platform;
let deploymentId = '';
/** The console's calls to the API, in the order the browser made them. */
const apiRequests: string[] = [];

let barriers = 0;
/**
 * Every API request the page has started by now, counted. A timer's tick re-renders React first (its scheduler
 * runs on MessageChannel tasks, which the fake clock leaves alone) and the effect then fetches: the page yields a
 * few such tasks, then fetches a marker; the browser reports requests in order, so once the marker is seen every
 * earlier request has been too.
 */
async function apiRequestsSoFar(): Promise<number> {
  const page = current();
  const marker = `barrier=${++barriers}`;
  const seen = page.waitForRequest((request: Request) => request.url().includes(marker));
  await page.evaluate(`(async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => { const c = new MessageChannel(); c.port1.onmessage = resolve; c.port2.postMessage(0); });
    await fetch('/console/?${marker}');
  })()`);
  await seen;
  return apiRequests.length;
}

const deploymentReads = () => apiRequests.filter((url) => url.endsWith(`/v1/deployments/${deploymentId}`)).length;

/** The tab goes to the background (another tab in front, a locked phone) or comes back. */
const setHidden = (hidden: boolean) =>
  current().evaluate(
    `Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} }); document.dispatchEvent(new Event('visibilitychange'))`,
  );

beforeAll(async () => {
  if (!primary) throw new Error('the simulator’s demo mini programs changed');
  p = await startPlatform();
  const account = await createAccount(p, '轮询测试');
  expect((await authorize(p, account.api, 'bind-primary', primary.appId)).result.ok).toBe(true);
  const appId = await createLowcodeApp(account.api, 'Shop');
  expect((await authorize(p, account.api, 'authorize-app', primary.appId, appId)).result.ok).toBe(true);
  deploymentId = deploymentOf(expectStatus(await account.api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.0' }), 202)).id;
  const page = current();
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/v1/')) apiRequests.push(request.url());
  });
  // Installed before the page loads, so the console's timers are the fake clock's; time flows until paused.
  await page.clock.install();
  await signIn(page, `${p.url}/console/`, account.apiKey, '轮询测试');
  await page.goto(`${p.url}/console/#/deployments/${deploymentId}`);
  await waitForState(page, 'built');
});

afterAll(async () => {
  await p?.close();
});

describe('the deployment page’s polling', () => {
  step('polls an audit every 30 s, not every few seconds', async () => {
    const page = current();
    await page.getByRole('button', { name: '提交微信审核' }).click();
    await waitForState(page, 'auditing');
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    // The baseline after the barrier: a read the page started before it (its read after the submit) may not be
    // reported yet, and counted later it would look like a poll.
    await apiRequestsSoFar();
    const before = deploymentReads();
    await page.clock.runFor(AUDIT_POLL_MS - 2000);
    await apiRequestsSoFar();
    expect(deploymentReads()).toBe(before);
    await page.clock.runFor(2000);
    await page.waitForRequest((request) => request.url().endsWith(`/v1/deployments/${deploymentId}`));
    await apiRequestsSoFar();
    expect(deploymentReads()).toBe(before + 1);
  });

  step('does not poll while the tab is hidden, and looks again when it is shown', async () => {
    const page = current();
    await setHidden(true);
    const hidden = await apiRequestsSoFar();
    await page.clock.runFor(5 * AUDIT_POLL_MS);
    expect(await apiRequestsSoFar()).toBe(hidden);
    const reads = deploymentReads();
    await setHidden(false);
    await page.waitForRequest((request) => request.url().endsWith(`/v1/deployments/${deploymentId}`));
    await apiRequestsSoFar();
    expect(deploymentReads()).toBe(reads + 1);
  });

  step('stops once nothing is in flight: approved, then released', async () => {
    const page = current();
    const decided = await fetch(`${p.sim.baseUrl}/sim/audit/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: primary?.appId, decision: 'approve' }),
    });
    expect(decided.status).toBe(200);
    // The next poll shows WeChat's decision; approved waits for a person, so the polling ends there.
    await page.clock.runFor(AUDIT_POLL_MS);
    await waitForState(page, 'approved');
    const approved = await apiRequestsSoFar();
    await page.clock.runFor(10 * 60_000);
    expect(await apiRequestsSoFar()).toBe(approved);
    // Releasing is our own short step, polled fast; released is terminal.
    await page.clock.resume();
    await page.getByRole('button', { name: '发布上线' }).click();
    await confirmDialog(page, '发布上线');
    await waitForState(page, 'released');
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    const released = await apiRequestsSoFar();
    await page.clock.runFor(60 * 60_000);
    expect(await apiRequestsSoFar()).toBe(released);
  });
});

/**
 * Seed 000 (WeDa, low-code) in a real browser: the account's admin binds the primary mini program from the phone
 * link, creates a low-code app (a plugin the API refuses shows its error next to the field), authorizes the same
 * mini program to the app (WeDa's step 2), builds, submits, WeChat approves, releases; the mini program is then
 * both the primary and the app's target.
 */
import { type Platform, startPlatform } from '../../infra/local/driver';
import { DEMO_MINI_PROGRAMS } from '../../infra/wechat-sim/demo';
import {
  atBothWidths,
  authorizeAndClose,
  browserTabForFile,
  buildVersion,
  confirmDialog,
  decideAudit,
  seriousViolations,
  signIn,
  waitForState,
} from './browser';

const [primary] = DEMO_MINI_PROGRAMS;

const { page: current, requests, step } = browserTabForFile();
let p: Platform;
/** The console's authorizations started so far (one per dialog: the QR code and the link share it). */
const authorizationsStarted = () => requests().filter((url) => new URL(url).pathname === '/v1/authorizations').length;

beforeAll(async () => {
  if (!primary) throw new Error('the simulator’s demo mini programs changed');
  p = await startPlatform();
});

afterAll(async () => {
  await p?.close();
});

describe('the console, seed 000 (low-code) in a browser', () => {
  step('binds the primary from the phone link', async () => {
    const created = await fetch(`${p.url}/v1/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: '艾克米商城' }),
    });
    const { apiKey } = (await created.json()) as { apiKey: string };
    const page = current();
    await signIn(page, `${p.url}/console/`, apiKey);
    await page.getByRole('button', { name: '绑定主小程序' }).click();
    // The phone's page (mobile: true), opened here as the phone would after scanning the QR code.
    await authorizeAndClose(page, 'mobile-authorization-link', primary?.appId ?? '', 'bind-done');
    expect(authorizationsStarted()).toBe(1);
  });

  step('creates a low-code app; a plugin the API refuses shows its error next to the field', async () => {
    const page = current();
    await page.getByRole('link', { name: '应用' }).click();
    await page.getByRole('button', { name: '创建应用' }).click();
    await page.locator('label.t-radio-button', { hasText: '低码应用' }).click();
    await page.getByLabel('应用名称').fill('艾克米商城');
    await page.locator('label.t-radio', { hasText: '101' }).click();
    await page.getByRole('button', { name: '添加插件' }).click();
    await page.getByLabel('插件名称 1').fill('小程序交易组件');
    await page.getByLabel('插件 AppID 1').fill('wx34345ae5855f892d');
    await page.getByLabel('别名 1').fill('1-not-an-alias');
    await page.getByLabel('版本 1').fill('latest');
    await page.getByLabel('ext (JSON)').fill('{"shopName": "艾克米商城"}');
    await page.getByRole('button', { name: '创建应用', exact: true }).last().click();
    await page
      .getByText(/^别名须以字母、_ 或 \$ 开头/)
      .first()
      .waitFor();
    await expect(page.getByLabel('别名 1').getAttribute('aria-invalid')).resolves.toBe('true');
    await atBothWidths(page, 'app-create-lowcode', async () => expect(await seriousViolations(page)).toEqual([]));
    // The mini program has not added this plugin: the app goes without it.
    await page.getByRole('button', { name: '删除插件' }).click();
    await page.getByRole('button', { name: '创建应用', exact: true }).last().click();
    await page.waitForURL(/#\/apps\/app_/);
  });

  step('authorizes the bound mini program to the app, builds, submits, and releases once approved', async () => {
    const page = current();
    await page.getByRole('button', { name: '去授权' }).click();
    await authorizeAndClose(page, 'pc-authorization-link', primary?.appId ?? '', 'authorize-done');
    expect(authorizationsStarted()).toBe(2);
    await buildVersion(page, '1.0.0');
    await page.getByRole('button', { name: '提交微信审核' }).click();
    await waitForState(page, 'auditing');
    await decideAudit(page, p.sim.baseUrl, primary?.appId ?? '', 'approve');
    await waitForState(page, 'approved');
    await page.getByRole('button', { name: '发布上线' }).click();
    await confirmDialog(page, '发布上线');
    await waitForState(page, 'released');
  });

  step('lists the mini program as both the primary and the app’s target', async () => {
    const page = current();
    await page.getByRole('link', { name: '小程序' }).click();
    const card = page.getByTestId(`mini-program-${primary?.appId ?? ''}`);
    await card.getByText('主小程序').waitFor();
    await card.getByText('发布目标').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });
});

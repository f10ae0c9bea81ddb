/**
 * The tab's key across rotations: rotating in the console moves the tab to the new key (the old one stops working at
 * the next rotation, so a second rotation would otherwise lock the tab out), and a key rotated out elsewhere signs
 * the tab out with a word of why instead of leaving every page failing.
 */
import { createAccount, type Platform, startPlatform } from '../../infra/local/driver';
import { browserTabForFile, confirmDialog, signIn } from './browser';

const { page: current, step } = browserTabForFile();
let p: Platform;

const tabKey = () => current().evaluate<string | null>("window.sessionStorage.getItem('wxa-console-key')");

async function rotateInConsole(): Promise<string> {
  const page = current();
  const before = (await tabKey()) ?? '';
  await page.getByRole('button', { name: '轮换密钥' }).click();
  await confirmDialog(page, '轮换');
  // The alert shows the new key once the rotation answered (the tab's key until then is the old one).
  const shown = page.locator('code.secret').filter({ hasNotText: before });
  await shown.waitFor();
  return (await shown.textContent()) ?? '';
}

beforeAll(async () => {
  p = await startPlatform();
  const { apiKey } = await createAccount(p, '轮换测试');
  await signIn(current(), `${p.url}/console/`, apiKey, '轮换测试');
});

afterAll(async () => {
  await p?.close();
});

describe('the console’s key across rotations', () => {
  step('rotating twice in the console keeps the tab working, on the newest key', async () => {
    const page = current();
    const first = await rotateInConsole();
    expect(await tabKey()).toBe(first);
    const second = await rotateInConsole();
    expect(second).not.toBe(first);
    expect(await tabKey()).toBe(second);
    await page.getByRole('link', { name: '应用' }).click();
    await page.getByText('还没有应用。').waitFor();
  });

  step('a key rotated out elsewhere signs the tab out and says why', async () => {
    const page = current();
    // Two rotations by a script holding the tab's key: the tab's key is the one dropped by the second.
    const rotate = async (key: string) =>
      (
        (await (await fetch(`${p.url}/v1/account/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${key}` } })).json()) as {
          apiKey: string;
        }
      ).apiKey;
    await rotate(await rotate((await tabKey()) ?? ''));
    await page.getByRole('link', { name: '账号' }).click();
    await page.getByTestId('key-refused').getByText('密钥已失效').waitFor();
    await page.getByRole('heading', { name: '登录控制台' }).waitFor();
    expect(await tabKey()).toBeNull();
  });

  step('a key the API refuses is said once, under the field', async () => {
    const page = current();
    await page.getByLabel('API 密钥').fill('wxa_not-a-key-of-anyone-0123456789');
    await page.getByRole('button', { name: '登录' }).click();
    const field = page.locator('[data-field-error=true]');
    await field.waitFor();
    // The field's own words (what its tips show and its input is described by).
    const said = ((await field.locator('.visually-hidden').textContent()) ?? '').trim();
    expect(said).not.toBe('');
    await page.locator('.t-form__item').getByText(said, { exact: true }).first().waitFor();
    // Not again in an alert under the form (it was, until 2026-12-07).
    expect(await page.locator('.t-alert').filter({ hasText: said }).count()).toBe(0);
    expect(await tabKey()).toBeNull();
  });
});

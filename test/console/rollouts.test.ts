/**
 * Fleet rollouts in a real browser, the way an account's operator steers one: three apps, each with its own
 * authorized mini program; the operator starts a rollout from the console (a form without apps or version first),
 * the canary builds and goes to review, WeChat approves (the simulator's control route), the operator pauses,
 * resumes and releases the held canary by hand; a rejection in the next wave halts the rollout with WeChat's reason,
 * the operator retries and resumes, then aborts after a confirmation. The poller's timer is fired by the test (the
 * local platform runs no cron); the page is told to look again as a returning tab is. Pages are checked with axe
 * and photographed at 390 and 1280 px.
 */
import { client, expectStatus, type Platform, startPlatform } from '../../infra/local/driver';
import { authorizeNewApp, readyApp } from '../../infra/testing/seeded-platform';
import * as z from '../../shared/domain/zod';
import { atBothWidths, browserTabForFile, confirmDialog, decideAudit, seriousViolations, signIn } from './browser';

const rolloutRead = z.object({
  id: z.string(),
  state: z.string(),
  currentWave: z.number(),
  members: z.array(
    z.object({
      appId: z.string(),
      wave: z.number(),
      state: z.string(),
      deploymentId: z.nullable(z.string()),
      miniProgramAppid: z.nullable(z.string()),
    }),
  ),
});
type RolloutRead = z.infer<typeof rolloutRead>;

const { page: current, pageErrors, step } = browserTabForFile();
let p: Platform;
let apiKey = '';
let rolloutId = '';

beforeAll(async () => {
  p = await startPlatform();
  // Enough audit quota that the rollout never waits for the month to turn.
  p.sim.setQuota({ submitRest: 1000, submitLimit: 1000 });
  const first = await readyApp(p);
  apiKey = first.apiKey;
  for (let i = 0; i < 2; i++) await authorizeNewApp(p, first.api, first.subject);
});

afterAll(async () => {
  await p?.close();
});

const read = async (id = rolloutId): Promise<RolloutRead> =>
  rolloutRead.parse(expectStatus(await client(p.url, apiKey).get(`/v1/rollouts/${id}`), 200).body);

/** Fires the poller's timer (which drives rollouts) until the rollout is where `done` says. */
async function tickUntil(done: (r: RolloutRead) => boolean, what: string, maxTicks = 15, id = rolloutId): Promise<RolloutRead> {
  let r = await read(id);
  for (let tick = 0; tick < maxTicks && !done(r); tick++) {
    await p.pollNow();
    r = await read(id);
  }
  if (!done(r)) throw new Error(`the rollout did not get to "${what}": ${JSON.stringify(r)}`);
  return r;
}

/** The operator comes back to the tab: it looks again at once (an audit is polled only twice a minute). */
const lookAgain = () => current().evaluate("document.dispatchEvent(new Event('visibilitychange'))");
const stateIs = (state: string) => current().locator(`[data-testid=rollout-state][data-state="${state}"]`).waitFor();
const memberIs = (appId: string, state: string) => current().locator(`[data-testid="member-${appId}"][data-state="${state}"]`).waitFor();
const expectAccessible = async () => expect(await seriousViolations(current())).toEqual([]);

const memberOf = (r: RolloutRead, wave: number) => {
  const found = r.members.filter((m) => m.wave === wave);
  if (found.length === 0) throw new Error(`no member in wave ${wave}`);
  return found;
};

describe('the console’s rollouts in a browser', () => {
  step('lists no rollout yet; a form without apps or version shows what is missing', async () => {
    const page = current();
    await signIn(page, `${p.url}/console/`, apiKey);
    await page.getByRole('link', { name: '发布批次' }).click();
    await page.getByText('还没有发布批次。').waitFor();
    await page.getByRole('button', { name: '新建发布批次' }).click();
    await page.getByTestId('rollout-apps').getByText('全选').waitFor();
    await page.getByRole('button', { name: '开始发布' }).click();
    await page.getByTestId('create-error').getByText('(INVALID_BODY)').waitFor();
    await page.getByText('请至少选择一个应用。').waitFor();
    await page
      .getByText(/^版本号为 1–64 个字符/)
      .first()
      .waitFor();
    await atBothWidths(page, 'rollout-create', expectAccessible);
  });

  step('starts a rollout over the three mini programs: a canary of one, then the rest, each wave released by hand', async () => {
    const page = current();
    await page.getByRole('textbox', { name: '版本号' }).fill('2.0.0');
    await page.getByRole('textbox', { name: '版本描述' }).fill('修复设备列表');
    await page.getByTestId('rollout-apps').getByText('全选').click();
    // The apps are low-code ones: the form picks the newest template of their code line by itself.
    await expect(page.getByRole('radio', { name: /^101 · / }).isChecked()).resolves.toBe(true);
    await page.getByRole('textbox', { name: '之后各批累计覆盖的比例（%）' }).fill('100');
    await page.getByText('审核通过后等待，逐批手动发布').click();
    await page.getByRole('button', { name: '开始发布' }).click();
    await page.waitForURL(/#\/rollouts\/rol_/);
    rolloutId = new URL(page.url()).hash.replace('#/rollouts/', '');
    await stateIs('running');
    await page.getByTestId('wave-0').getByText('1 个应用').waitFor();
    await page.getByTestId('wave-1').getByText('2 个应用').waitFor();
    expect(await page.locator('[data-testid^=member-][data-state=pending]').count()).toBe(3);
  });

  step('the canary builds and goes to review; approved, it waits for the operator, who pauses, resumes and releases it', async () => {
    const page = current();
    const inReview = await tickUntil((r) => memberOf(r, 0).every((m) => m.state === 'auditing'), 'canary in review');
    const [canary] = memberOf(inReview, 0);
    if (!canary?.deploymentId || !canary.miniProgramAppid) throw new Error('the canary has no deployment');
    await lookAgain();
    await memberIs(canary.appId, 'auditing');
    // Its deployment is an ordinary one, on the deployment page.
    await expect(page.getByTestId(`member-${canary.appId}`).getByRole('link', { name: '查看部署' }).getAttribute('href')).resolves.toBe(
      `#/deployments/${canary.deploymentId}`,
    );
    // Wave 1 has not started.
    expect(memberOf(inReview, 1).map((m) => m.state)).toEqual(['pending', 'pending']);

    await decideAudit(page, p.sim.baseUrl, canary.miniProgramAppid, 'approve');
    await tickUntil((r) => memberOf(r, 0).every((m) => m.state === 'approved'), 'canary approved');
    await lookAgain();
    await memberIs(canary.appId, 'approved');
    await page.getByRole('button', { name: '发布金丝雀批次' }).waitFor();

    await page.getByRole('button', { name: '暂停' }).click();
    await stateIs('paused');
    await page.getByRole('button', { name: '继续' }).click();
    await stateIs('running');
    await page.getByRole('button', { name: '发布金丝雀批次' }).click();
    await page.getByTestId('wave-0').getByText('已放行').waitFor();
    const next = await tickUntil((r) => r.currentWave === 1 && memberOf(r, 1).every((m) => m.state === 'auditing'), 'wave 1 in review');
    expect(memberOf(next, 0).map((m) => m.state)).toEqual(['released']);
    await lookAgain();
    await memberIs(canary.appId, 'released');
  });

  step('a rejection in the next wave halts the rollout with WeChat’s reason; the operator retries and resumes', async () => {
    const page = current();
    const [rejected, approved] = memberOf(await read(), 1);
    if (!rejected?.miniProgramAppid || !approved?.miniProgramAppid) throw new Error('wave 1 lost its members');
    await decideAudit(page, p.sim.baseUrl, rejected.miniProgramAppid, 'reject', { reason: '1:小程序名称与内容不符' });
    await decideAudit(page, p.sim.baseUrl, approved.miniProgramAppid, 'approve');
    await tickUntil((r) => r.state === 'halted', 'halted');
    await lookAgain();
    await stateIs('halted');
    await expect(page.getByTestId('rollout-reason').textContent()).resolves.toContain('1 of 2 members of wave 1');
    await page
      .getByTestId(`member-${rejected.appId}`)
      .getByTestId('member-reason')
      .getByText(/小程序名称与内容不符/)
      .waitFor();
    await atBothWidths(page, 'rollout-halted', expectAccessible);

    // The top button would retry every failed member; the row's retries this one.
    await page.getByRole('button', { name: '重试失败的 1 个' }).waitFor();
    await page.getByTestId(`member-${rejected.appId}`).getByRole('button', { name: '重试此应用' }).click();
    await memberIs(rejected.appId, 'pending');
    // The rejected deployment stays reachable as an earlier attempt.
    await page.getByTestId(`member-${rejected.appId}`).getByRole('link', { name: '第 1 次' }).waitFor();
    await page.getByRole('button', { name: '接受失败并继续' }).click();
    await stateIs('running');
  });

  step('abort asks first, rolling released ones back if asked; then the rest stops', async () => {
    const page = current();
    await page.getByRole('button', { name: '中止发布' }).click();
    await page.getByRole('dialog').getByText('中止后不可恢复').waitFor();
    await page.getByRole('dialog').getByText('已发布的回退到上一版本').click();
    await confirmDialog(page, '中止发布');
    await stateIs('aborting');
    const aborted = await tickUntil((r) => r.state === 'aborted', 'aborted');
    await lookAgain();
    await stateIs('aborted');
    // Asked to roll released ones back, the rollout tried; WeChat has no earlier release of the canary's mini program
    // to go back to, so it stays live ("left"), with the reason. Nothing else of the rollout is live.
    expect(aborted.members.map((m) => m.state).sort()).toEqual(['cancelled', 'left', 'skipped']);
    const [canary] = memberOf(aborted, 0);
    await memberIs(canary?.appId ?? '', 'left');
    await expect(
      page
        .getByTestId(`member-${canary?.appId ?? ''}`)
        .getByTestId('member-reason')
        .textContent(),
    ).resolves.toContain('rollback refused');
    await expect(page.locator('.actions button').count()).resolves.toBe(0);
    await atBothWidths(page, 'rollout-aborted', expectAccessible);
  });

  step('an action on a page another operator overtook is refused by the API, which the page says in words', async () => {
    const page = current();
    const api = client(p.url, apiKey);
    const appIds = (await read()).members.map((m) => m.appId);
    const second = rolloutRead.parse(
      expectStatus(await api.post('/v1/rollouts', { templateId: 101, userVersion: '2.0.1', selection: { appIds } }), 201).body,
    );
    await page.goto(`${p.url}/console/#/rollouts/${second.id}`);
    await stateIs('running');
    // Someone else aborts it (the API, a colleague's tab); this page still offers a pause, until it looks again.
    expectStatus(await api.post(`/v1/rollouts/${second.id}/abort`, {}), 200);
    await page.getByRole('button', { name: '暂停' }).click();
    await page
      .getByTestId('action-error')
      .getByText('发布批次的状态已变化，无法执行此操作；页面已刷新。 (ROLLOUT_INVALID_TRANSITION)')
      .waitFor();
    await stateIs('aborting');
    await tickUntil((r) => r.state === 'aborted', 'aborted', 15, second.id);
  });

  step('the list shows each rollout’s plan, state and progress', async () => {
    const page = current();
    await page.getByRole('link', { name: '返回发布批次' }).click();
    const card = page.getByTestId(`rollout-${rolloutId}`);
    await card.getByText('已中止').waitFor();
    await card.getByText('3/3 个已结束，已发布 0').waitFor();
    await card.getByText(/金丝雀 1 个 → 100 % · 每批手动发布/).waitFor();
    await atBothWidths(page, 'rollouts', expectAccessible);
    expect(pageErrors()).toEqual([]);
  });
});

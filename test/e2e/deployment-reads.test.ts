/**
 * What one deployment reads, counted (issue 17: "cut whatever is spent twice"): store requests at better-sqlite3's
 * statements, as bench/cost.ts counts them, and WeChat calls at the simulator. Each figure here was read twice
 * before; a change that brings the double read back fails here.
 */

// The experience QR is not what these tests are about: a fast stand-in keeps each build inside its request's time.
jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

import { deploymentOf, expectStatus } from '../../infra/local/driver';
import { type ReadyApp, readyApp, type SeededPlatform, startSeededPlatform } from '../../infra/testing/seeded-platform';
import { countStoreRequests } from '../../infra/testing/store-requests';

const requests = countStoreRequests();
let p: SeededPlatform;
beforeAll(async () => {
  p = await startSeededPlatform();
});
afterAll(() => p.close());

/** What `run` read from the store, per collection, and asked WeChat, per path. */
async function counted(run: () => Promise<unknown>) {
  await p.sim.pushesSettled();
  requests.reset();
  p.sim.resetCounters();
  await run();
  const tables = requests.tables();
  return { reads: (collection: string) => tables[collection]?.reads ?? 0, wechat: p.sim.counters() as Record<string, number> };
}

const build = (app: ReadyApp) => app.api.post(`/v1/apps/${app.appId}/deployments`, { userVersion: '1.0.0', userDesc: 'reads' });

/** A build the readiness gate refuses (the month's submit quota used up): only the checks before it read. */
async function refusedBuild(app: ReadyApp) {
  p.sim.setQuota({ submitRest: 0 });
  try {
    return await counted(async () =>
      expect(expectStatus(await build(app), 409).body).toMatchObject({ error: { code: 'NOT_READY_TO_GO_LIVE' } }),
    );
  } finally {
    p.sim.setQuota({ submitRest: 20 });
  }
}

describe('a build', () => {
  it("reads the app's build slot and its latest deployment once, for the open-deployment check and the readiness gate", async () => {
    const app = await readyApp(p);
    // Never built: no slot, and one query finds no deployment at all (the open-state queries are not needed).
    const first = await refusedBuild(app);
    expect(first.reads('appDeploymentSlots')).toBe(1);
    expect(first.reads('deployments')).toBe(1);

    // Built once, and that deployment cancelled: the slot names it, read once, and it is read once.
    const built = deploymentOf(expectStatus(await build(app), 202));
    expectStatus(await app.api.post(`/v1/deployments/${built.id}/cancel`), 200);
    const again = await refusedBuild(app);
    expect(again.reads('appDeploymentSlots')).toBe(1);
    expect(again.reads('deployments')).toBe(1);
  });
});

describe('a submit and a release', () => {
  it('read the deployment, and check the link, once before the work starts', async () => {
    const app = await readyApp(p);
    let built = deploymentOf(expectStatus(await build(app), 202));
    // Built once more, counted: the app is read by the request, then once per build step by the link check before
    // it (commit, privacy guide, domains, QR, testers), whose read the guide and domains steps use too.
    expectStatus(await app.api.post(`/v1/deployments/${built.id}/cancel`), 200);
    const counting = await counted(async () => {
      built = deploymentOf(expectStatus(await build(app), 202));
    });
    expect(built.state).toBe('built');
    expect(counting.reads('apps')).toBe(6);

    const submit = await counted(async () =>
      expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/submit`), 200)).state).toBe('auditing'),
    );
    // The command's read, the compare-and-set's read for `submitAudit`, the worker's read when it takes the lease,
    // the submit step's compare-and-set and the worker's last read: five. The command read it twice before (six).
    expect(submit.reads('deployments')).toBe(5);
    // The command's link check, the readiness gate's read, and the worker's link check before the submit step (whose
    // read the step uses) and before the first audit poll.
    expect(submit.reads('apps')).toBe(4);

    await p.sim.decideAudit(app.target, 'approve');
    const release = await counted(async () =>
      expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/release`), 200)).state).toBe('released'),
    );
    // The link (app and mini program) checked once by the command, once by the worker before the release step.
    expect(release.reads('apps')).toBe(2);
    expect(release.reads('deployments')).toBe(5);
  });
});

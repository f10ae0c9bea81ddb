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
import { releaseDeployment } from '../../shared/app/deployments';
import { applyCommand, readDeployment } from '../../shared/app/deployments/state-changes';
import { HAND_OVER_MAX_AGE_MS } from '../../shared/app/readiness';
import { accountIdSchema } from '../../shared/domain/ids';
import { servicesWithClock } from '../reliability/clocked-services';

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
    // The command's read, the worker's read when it takes the lease and its last read: three. The changes (the
    // command's `submitAudit`, the step's `auditSubmitted`) are decided on the deployment as read or last written,
    // not read again for their compare-and-set (five before).
    expect(submit.reads('deployments')).toBe(3);
    // The command's link check (whose read the readiness gate uses), and the worker's link check before the submit
    // step (whose read the step uses) and before the first audit poll. The gate read them again before (four).
    expect(submit.reads('apps')).toBe(3);
    expect(submit.reads('miniPrograms')).toBe(3);

    await p.sim.decideAudit(app.target, 'approve');
    const release = await counted(async () =>
      expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/release`), 200)).state).toBe('released'),
    );
    // The link (app and mini program) checked once by the command, once by the worker before the release step.
    expect(release.reads('apps')).toBe(2);
    expect(release.reads('deployments')).toBe(3);
  });
});

describe('a change decided on the deployment as the caller read it', () => {
  it('is decided again on the stored deployment when the copy is behind: refused there, or lost to another writer', async () => {
    const app = await readyApp(p);
    const built = deploymentOf(expectStatus(await build(app), 202));
    const instance = servicesWithClock(p.env, Date.now());
    try {
      const { services } = instance;
      const stale = await readDeployment(services, built.id);
      // Another writer moves it on to submitting: on the copy (built) an audit submitted is refused; on the stored
      // deployment it is what happened.
      await applyCommand(services, built.id, { type: 'submitAudit' }, { kind: 'system' });
      const submitted = await applyCommand(services, built.id, { type: 'auditSubmitted', auditId: 42 }, { kind: 'system' }, stale);
      expect(submitted).toMatchObject({ changed: true, deployment: { state: 'auditing', audit: { auditId: 42 } } });

      // Closed meanwhile: the copy (auditing) would take the decision, the stored deployment refuses it as closed.
      const auditing = await readDeployment(services, built.id);
      await applyCommand(services, built.id, { type: 'withdraw', auditId: 42 }, { kind: 'system' });
      await applyCommand(services, built.id, { type: 'cancel' }, { kind: 'system' });
      const late = await applyCommand(services, built.id, { type: 'auditApproved' }, { kind: 'wechat' }, auditing);
      expect(late.changed).toBe(false);
      expect((await readDeployment(services, built.id)).data.state).toBe('cancelled');
    } finally {
      await instance.close();
    }
  });
});

/** WeChat's answers a user's submit check reads and its submit step needs too. */
const SUBMIT_READS = [
  '/wxa/get_latest_auditstatus',
  '/wxa/security/get_code_privacy_info',
  '/cgi-bin/component/getprivacysetting',
  '/wxa/modify_domain',
  '/wxa/get_category',
] as const;
/** The filing status a user's release check reads and its release step needs too. */
const RELEASE_READS = ['/wxa/icp/get_icp_entrance_info', '/wxa/getversioninfo'] as const;

const callsOf = (wechat: Record<string, number>, paths: readonly string[]) =>
  Object.fromEntries(paths.map((path) => [path, wechat[path] ?? 0]));
const once = (paths: readonly string[]) => Object.fromEntries(paths.map((path) => [path, 1]));

describe("the step a user's command starts uses what the command's check has just read", () => {
  it('a submit and a release ask WeChat once for each (the check reads, the step in the same request does not)', async () => {
    const app = await readyApp(p);
    const built = deploymentOf(expectStatus(await build(app), 202));
    const submit = await counted(async () =>
      expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/submit`), 200)).state).toBe('auditing'),
    );
    expect(callsOf(submit.wechat, SUBMIT_READS)).toEqual(once(SUBMIT_READS));
    // The check found nothing blocking: the step reads neither the mini program nor the kept report for it.
    expect(submit.reads('readinessReports')).toBe(1);

    await p.sim.decideAudit(app.target, 'approve');
    const release = await counted(async () =>
      expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/release`), 200)).state).toBe('released'),
    );
    expect(callsOf(release.wechat, RELEASE_READS)).toEqual(once(RELEASE_READS));
    // The command's release check (whose read its link check uses) and the worker's link check read the mini
    // program; the step does not read it again (four reads before).
    expect(release.reads('miniPrograms')).toBe(2);
  });

  it('a retried submit and a retried release (no HTTP check) read each again in their step', async () => {
    const app = await readyApp(p);
    const built = deploymentOf(expectStatus(await build(app), 202));
    // WeChat refuses the submit with a refusal the user may retry (45009, the day's call quota).
    p.sim.scriptFault({ path: '/wxa/submit_audit', appId: app.target, errcode: 45009 });
    expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/submit`), 200)).state).toBe('failed');
    const submit = await counted(async () =>
      expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/retry`), 200)).state).toBe('auditing'),
    );
    expect(callsOf(submit.wechat, SUBMIT_READS)).toEqual(once(SUBMIT_READS));
    // The command's link check and the worker's before the submit step (whose read the step's readiness check uses)
    // and before the first audit poll.
    expect(submit.reads('miniPrograms')).toBe(3);

    await p.sim.decideAudit(app.target, 'approve');
    p.sim.scriptFault({ path: '/wxa/release', appId: app.target, errcode: 45009 });
    expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/release`), 200)).state).toBe('failed');
    const release = await counted(async () =>
      expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/retry`), 200)).state).toBe('released'),
    );
    expect(callsOf(release.wechat, RELEASE_READS)).toEqual(once(RELEASE_READS));
    // The command's link check and the worker's, whose read the step's filing check uses.
    expect(release.reads('miniPrograms')).toBe(2);
  });

  it('a step that starts longer than the hand-over’s age after its check reads again', async () => {
    const app = await readyApp(p);
    const built = deploymentOf(expectStatus(await build(app), 202));
    expect(deploymentOf(expectStatus(await app.api.post(`/v1/deployments/${built.id}/submit`), 200)).state).toBe('auditing');
    await p.sim.decideAudit(app.target, 'approve');
    // Another instance of the backend whose clock moves on once the release check has read the filing status: as
    // if the step started that much later.
    const instance = servicesWithClock(p.env, Date.now());
    try {
      const { client } = instance.services.wechat;
      const readVersions = client.getVersionInfo.bind(client);
      let delay = HAND_OVER_MAX_AGE_MS + 1;
      client.getVersionInfo = async (...args) => {
        const answer = await readVersions(...args);
        instance.setClock(instance.now() + delay);
        delay = 0;
        return answer;
      };
      const accountId = accountIdSchema.parse(app.accountId);
      const release = await counted(async () =>
        expect((await releaseDeployment(instance.services, accountId, built.id, { kind: 'account', id: accountId })).state).toBe(
          'released',
        ),
      );
      expect(callsOf(release.wechat, RELEASE_READS)).toEqual({ '/wxa/icp/get_icp_entrance_info': 2, '/wxa/getversioninfo': 2 });
    } finally {
      await instance.close();
    }
  });
});

describe('an unauthorized push', () => {
  it('reads the mini program once to detach it, and detaches it', async () => {
    const app = await readyApp(p);
    const revoked = await counted(async () => {
      await p.sim.revokeAuthorization(app.target);
      await p.sim.pushesSettled();
    });
    expect(revoked.reads('miniPrograms')).toBe(1);
    const { body } = expectStatus(await app.api.get(`/v1/mini-programs/${app.target}`), 200);
    expect(body).toMatchObject({ status: 'unauthorized', linkedAppId: null });
  });
});

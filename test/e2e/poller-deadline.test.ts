/**
 * A poller tick ends within its time budget, even when WeChat stops answering in the middle of a deployment's
 * steps: the platform kills a function at its timeout, and a tick killed there loses its summary and leaves the
 * deployment's lease held for minutes. The tick runs through the review-poller function's own handler, with the
 * remaining time its context reports, against a simulator that hangs every call (`hangRate`).
 */
import type { Context } from 'aws-lambda';
import { makeHandler } from '../../functions/review-poller/handler';
import { createLowcodeApp } from '../../infra/local/driver';
import { linkApp, unlinkApp } from '../../shared/domain/app';
import type { Deployment } from '../../shared/domain/deployment';
import { weChatAppidSchema } from '../../shared/domain/ids';
import { linkMiniProgram } from '../../shared/domain/mini-program';
import { createLeases } from '../../shared/store/leases';
import { type ClockedServices, readyApp, type SeededPlatform } from '../reliability/support';
import { requestAction, requestBuild, startPlatformWithPoller, stopPlatformWithPoller, storedDeployment } from '../support/e2e';

jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

let p: SeededPlatform;
let poller: ClockedServices;
beforeAll(async () => ({ p, poller } = await startPlatformWithPoller()));
afterAll(async () => {
  p?.sim.setFaults({ hangRate: 0 });
  await stopPlatformWithPoller({ p, poller });
});

afterEach(() => {
  p.sim.clearScriptedFaults();
  p.sim.setFaults({ hangRate: 0 });
});

const stored = (id: string): Promise<Deployment> => storedDeployment(poller, id);

/** The function's context as the platform hands it over: this much time is left before it is killed. */
const contextWith = (remainingMs: number): Context => {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
};

const event = {
  kind: 'schedule' as const,
  provider: 'local-timer' as const,
  triggerName: 'poll-due',
  time: new Date().toISOString(),
  payload: undefined,
};

it('ends the tick within its budget while WeChat hangs mid-build, and leaves the build due and free for the next tick', async () => {
  const { api, appId, target } = await readyApp(p);
  // WeChat fails each attempt of the commit: the build waits in `building` for the poller.
  p.sim.scriptFault({ path: '/wxa/commit', appId: target, errcode: -1, times: 3 });
  const reply = await requestBuild(api, appId, { userVersion: '1.0.0', testers: ['tester-ann'] });
  expect(reply).toMatchObject({ state: 'building', buildStep: 'commit' });
  const before = await stored(reply.id);

  // Half an hour later the build is due; now WeChat answers nothing at all.
  poller.setClock(Date.now() + 31 * 60_000);
  p.sim.setFaults({ hangRate: 1 });
  const tick = makeHandler(poller.services, { concurrency: 4 });
  // 6.5 s left: the handler keeps 5 s back, so the tick's own budget is 1.5 s — far below one WeChat timeout (60 s in
  // the test platform), so a tick that ends at all before that was ended by its budget, however slow the machine.
  const started = Date.now();
  const summary = await tick(event, contextWith(6_500));
  const took = Date.now() - started;

  expect(took).toBeLessThan(30_000);
  expect(summary).toMatchObject({ processed: 1, errors: 0, stoppedByBudget: true });
  // Nothing was recorded about the cut step: still at its commit, still due, and nobody holds it.
  const after = await stored(reply.id);
  expect(after).toMatchObject({ state: 'building', buildStep: 'commit', nextPollAt: before.nextPollAt, history: before.history });
  expect(after.nextPollAt).toBeLessThanOrEqual(poller.now());
  expect(await createLeases(poller.services.store).holder(`deployment:${reply.id}`)).toBeNull();

  // WeChat answers again: the next tick finishes the build.
  p.sim.setFaults({ hangRate: 0 });
  await tick(event, contextWith(60_000));
  expect(await stored(reply.id)).toMatchObject({ state: 'built', boundTesters: ['tester-ann'] });
  expect(p.sim.miniProgram(target)?.exp?.userVersion).toBe('1.0.0');
});
it('does not record the void of a deployment whose app lost the mini program while the deadline cut the withdrawal of its audit', async () => {
  const { api, appId, target } = await readyApp(p);
  const built = await requestBuild(api, appId, { userVersion: '1.0.0' });
  expect((await requestAction(api, built.id, 'submit')).state).toBe('auditing');
  // The app loses the mini program to another app, and the void at the time of the loss did not happen.
  const other = await createLowcodeApp(api, 'Other');
  const db = poller.services.db;
  const [mp, oldApp, newApp] = await Promise.all([db.miniPrograms.get(target), db.apps.get(appId), db.apps.get(other)]);
  if (!mp || !oldApp || !newApp) throw new Error('seed missing');
  const at = Date.now();
  const appid = weChatAppidSchema.parse(target);
  await poller.services.store.commit([
    db.miniPrograms.updateWrite(
      target,
      mp.version,
      linkMiniProgram(mp.data, newApp.data.id, { at, actor: { kind: 'system' } }).miniProgram,
    ),
    db.apps.updateWrite(
      appId,
      oldApp.version,
      unlinkApp(oldApp.data, { at, reason: 'superseded', miniProgramAppid: appid, message: 'taken by another app' }),
    ),
    db.apps.updateWrite(other, newApp.version, linkApp(newApp.data, appid, at)),
  ]);
  const before = await stored(built.id);

  poller.setClock(Math.max(poller.now(), (before.nextPollAt ?? 0) + 1));
  p.sim.setFaults({ hangRate: 1 });
  const tick = makeHandler(poller.services, { concurrency: 4 });
  await tick(event, contextWith(6_500));
  // Cut while it asked WeChat which audit to withdraw: nothing recorded, still due.
  expect(await stored(built.id)).toMatchObject({ state: 'auditing', history: before.history });

  p.sim.setFaults({ hangRate: 0 });
  await tick(event, contextWith(60_000));
  expect((await stored(built.id)).state).toBe('voided');
  expect(p.sim.miniProgram(target)?.audits.at(-1)?.status).toBe(3);
});

/**
 * An audit push belongs to the mini program it names, whatever URL it is posted to. msg_signature covers neither
 * the path nor the mini program (every authorizer push is sealed with the platform's one token and key), so a genuine
 * push captured on its way to mini program A and re-posted, within the 5-minute window, to B's URL verifies
 * perfectly. Through the whole product (local runtime, simulator, real SQLite store): such a push is refused and
 * changes nothing, B's audit still lands, and A's own push is still handled when it arrives.
 */
import type { Client, DeploymentReply } from '../../infra/local/driver';
import { snapshotStore, storeChanges } from '../hostile/corpus';
import { aimPushes, readyApp, startSeededPlatform } from '../reliability/support';
import { type CapturedPush, readDeployment, requestAction, requestBuild, startPushCatcher } from '../support/e2e';
import { startedForFile } from '../support/for-file';
import { errorEnvelope } from '../support/http';

jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

const platform = startedForFile(
  () => startSeededPlatform(),
  (started) => started.close(),
);
const catcher = startedForFile(startPushCatcher, (started) => started.close());

afterEach(() => aimPushes(platform().sim, platform().url));

const IGNORED = ['healthProbes'];

async function underAudit(api: Client, appId: string): Promise<DeploymentReply> {
  const built = await requestBuild(api, appId, { userVersion: '1.0.0', userDesc: 'recipient' });
  expect(built.state).toBe('built');
  const submitted = await requestAction(api, built.id, 'submit');
  expect(submitted.state).toBe('auditing');
  return submitted;
}

/** A's audit decision as WeChat pushes it, caught before it reaches the product. */
async function capturedDecision(appid: string, reason: string): Promise<CapturedPush> {
  platform().sim.configure({ messageUrlTemplate: `${catcher().url}/wechat/authorizers/$APPID$/events` });
  catcher().pushes.length = 0;
  await platform().sim.decideAudit(appid, 'reject', { reason });
  await platform().sim.pushesSettled();
  aimPushes(platform().sim, platform().url);
  const [push] = catcher().pushes;
  if (!push || catcher().pushes.length !== 1) throw new Error(`expected one push, caught ${catcher().pushes.length}`);
  expect(push.target.startsWith(`/wechat/authorizers/${appid}/events?`)).toBe(true);
  return push;
}

const post = (target: string, body: string) =>
  fetch(`${platform().url}${target}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
const retarget = (push: CapturedPush, appid: string) =>
  push.target.replace(/^\/wechat\/authorizers\/[^/]+\/events/, `/wechat/authorizers/${appid}/events`);

describe('an audit push re-posted to another mini program’s URL', () => {
  it('is refused and changes nothing; both mini programs still get their own results', async () => {
    const a = await readyApp(platform());
    const b = await readyApp(platform());
    const aDeployment = await underAudit(a.api, a.appId);
    const bDeployment = await underAudit(b.api, b.appId);
    const aPush = await capturedDecision(a.target, '1:A 的名称不符合规范');

    const before = snapshotStore(platform().sqlitePath, IGNORED);
    const misdirected = await post(retarget(aPush, b.target), aPush.body);
    expect(misdirected.status).toBe(403);
    expect(errorEnvelope.parse(await misdirected.json()).error.code).toBe('WECHAT_PUSH_RECIPIENT_MISMATCH');
    expect(storeChanges(before, snapshotStore(platform().sqlitePath, IGNORED))).toEqual([]);
    expect((await readDeployment(b.api, bDeployment.id)).state).toBe('auditing');

    // A's push, delivered where WeChat sent it, is handled: it was not taken for a duplicate.
    const delivered = await post(aPush.target, aPush.body);
    expect({ status: delivered.status, text: await delivered.text() }).toEqual({ status: 200, text: 'success' });
    expect(await readDeployment(a.api, aDeployment.id)).toMatchObject({ state: 'rejected', stateReason: '1:A 的名称不符合规范' });

    // B's own result still lands, and B was never rejected on A's behalf.
    await platform().sim.decideAudit(b.target, 'approve');
    await platform().sim.pushesSettled();
    expect((await readDeployment(b.api, bDeployment.id)).state).toBe('approved');
  });

  it('is refused at the URL of a mini program the platform does not know, and nothing is stored', async () => {
    const a = await readyApp(platform());
    await underAudit(a.api, a.appId);
    const aPush = await capturedDecision(a.target, '1:rejected');

    const before = snapshotStore(platform().sqlitePath, IGNORED);
    const unknown = await post(retarget(aPush, 'wx00000000000000ff'), aPush.body);
    expect(unknown.status).toBe(404);
    expect(errorEnvelope.parse(await unknown.json()).error.code).toBe('WECHAT_PUSH_RECIPIENT_UNKNOWN');
    expect(storeChanges(before, snapshotStore(platform().sqlitePath, IGNORED))).toEqual([]);
  });
});

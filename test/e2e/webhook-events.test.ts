/**
 * Webhooks from the real pipeline, over HTTP through the local runtime and the WeChat simulator: an account's
 * endpoint receives every transition of a build, submit, approval and release — signed so the official
 * `standardwebhooks` library verifies it, in sequence order, each with its history entry and WeChat's decision —
 * an unbind, a refused authorization and a low audit quota. Delivery is the after-request run: no timer fires.
 */
import * as z from '../../shared/domain/zod';

jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

import { authorize, client, startPlatform } from '../../infra/local/driver';
import { DEFAULT_QUOTA } from '../../infra/wechat-sim';
import { newMiniProgram, newSubject, readyApp } from '../reliability/support';
import { readDeployment, requestAction, requestBuild } from '../support/e2e';
import { startedForFile } from '../support/for-file';
import { startReceiver } from '../webhooks/support';

const platform = startedForFile(
  () => startPlatform(),
  (started) => started.close(),
);
const receiver = startedForFile(startReceiver, (started) => started.close());

const created = z.object({ webhook: z.object({ id: z.string() }), secret: z.string() });

it('an account endpoint hears every state change of a deployment, in order, verified by standardwebhooks', async () => {
  const { api, appId, target } = await readyApp(platform());
  const { secret } = created.parse(
    (await api.post('/v1/webhooks', { url: receiver().url, eventTypes: ['deployment.state_changed'] })).body,
  );
  receiver().secrets.push(secret);

  const built = await requestBuild(api, appId, { userVersion: '1.0.0', userDesc: 'first', testers: [] });
  await requestAction(api, built.id, 'submit');
  await platform().sim.decideAudit(target, 'approve');
  expect((await readDeployment(api, built.id)).state).toBe('approved');
  const released = await requestAction(api, built.id, 'release');
  expect(released.state).toBe('released');

  await receiver().arrived(released.history.length);
  expect(receiver().unverified).toBe(0);
  const events = receiver().received.filter((e) => e.data.deploymentId === built.id);
  expect(events.map((e) => e.data.sequence)).toEqual(released.history.map((_, i) => i + 1));
  expect(events.map((e) => [e.data.from, e.data.to])).toEqual(released.history.map((h) => [h.from, h.to]));
  const approval = events.find((e) => e.data.to === 'approved');
  expect(approval?.data).toMatchObject({ appId, miniProgramAppid: target, entry: { actor: { kind: 'wechat' } } });
});

it('unbinding a mini program tells the account: mini_program.unlinked with the reason, written with the unlink', async () => {
  const { api, appId, target } = await readyApp(platform());
  const { secret } = created.parse((await api.post('/v1/webhooks', { url: receiver().url, eventTypes: ['mini_program.unlinked'] })).body);
  receiver().secrets.push(secret);
  const before = receiver().received.length;
  expect((await api.post(`/v1/mini-programs/${target}/unbind`, {})).status).toBe(200);
  await receiver().arrived(before + 1);
  expect(receiver().received.at(-1)).toMatchObject({ type: 'mini_program.unlinked', data: { appid: target, appId, reason: 'unbound' } });
  expect(receiver().unverified).toBe(0);
});

it('a refused authorization tells the account: authorization.refused with the code and reason the page showed', async () => {
  const { api, appId } = await readyApp(platform());
  const { secret } = created.parse((await api.post('/v1/webhooks', { url: receiver().url, eventTypes: ['authorization.refused'] })).body);
  receiver().secrets.push(secret);
  const before = receiver().received.length;
  // Another company's mini program: the same-subject rule refuses it.
  const stranger = newMiniProgram(platform().sim, newSubject());
  const refused = await authorize(platform(), api, 'authorize-app', stranger, appId);
  expect(refused.result.ok).toBe(false);
  await receiver().arrived(before + 1);
  expect(receiver().received.at(-1)).toMatchObject({
    type: 'authorization.refused',
    data: { purpose: 'authorize-app', code: refused.result.code, reason: refused.result.message },
  });
  expect(receiver().unverified).toBe(0);
});

it('a platform audit quota run low tells the platform admin once a month: quota.low, noted where the quota is read', async () => {
  const { api } = await readyApp(platform());
  const admin = client(platform().url, platform().adminKey);
  const { secret } = created.parse((await admin.post('/v1/platform/webhooks', { url: receiver().url, eventTypes: ['quota.low'] })).body);
  receiver().secrets.push(secret);
  const before = receiver().received.length;
  platform().sim.setQuota({ submitRest: 2, submitLimit: 20 });
  try {
    expect((await api.get('/v1/quota')).status).toBe(200);
    expect((await api.get('/v1/quota')).status).toBe(200);
    await receiver().arrived(before + 1);
    expect(receiver().received.slice(before)).toMatchObject([{ type: 'quota.low', data: { remaining: 2, limit: 20, threshold: 2 } }]);
    expect(receiver().unverified).toBe(0);
  } finally {
    platform().sim.setQuota({ submitRest: DEFAULT_QUOTA.submitRest, submitLimit: DEFAULT_QUOTA.submitLimit });
  }
});

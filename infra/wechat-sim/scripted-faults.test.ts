/**
 * Scripted faults: one endpoint refusing with a chosen errcode, or doing its work and losing the answer — aimed at
 * one mini program and a number of calls, which the dice of `setFaults` cannot do.
 */
import { authorize, errcodeOf, startSim, wxGet, wxPost } from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9a01';
const MP2 = 'wx8a6f3c2d1e0b9a02';

let sim: WeChatSimulator;
beforeEach(async () => {
  sim = await startSim();
  sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' });
  sim.addMiniProgram({ appId: MP2, nickName: 'Acme Cam', principalName: 'Acme Ltd' });
  sim.addTemplate({ templateId: 1, userVersion: '1.0.0', userDesc: 'first' });
});
afterEach(() => sim.close());

const commit = (aat: string) =>
  wxPost(sim, `/wxa/commit?access_token=${aat}`, {
    template_id: 1,
    ext_json: '{"extAppid":"x"}',
    user_version: '1.0.0',
    user_desc: 'first',
  });

it('answers the scripted errcode for that mini program only, as many times as asked, then behaves again', async () => {
  const a = await authorize(sim, MP);
  const b = await authorize(sim, MP2);
  sim.scriptFault({ path: '/wxa/get_latest_auditstatus', appId: MP, errcode: 45009, times: 2 });
  expect(errcodeOf(await wxGet(sim, `/wxa/get_latest_auditstatus?access_token=${b.aat}`))).toBe(85058);
  expect(errcodeOf(await wxGet(sim, `/wxa/get_latest_auditstatus?access_token=${a.aat}`))).toBe(45009);
  expect(errcodeOf(await wxGet(sim, `/wxa/get_latest_auditstatus?access_token=${a.aat}`))).toBe(45009);
  expect(errcodeOf(await wxGet(sim, `/wxa/get_latest_auditstatus?access_token=${a.aat}`))).toBe(85058);
  // A bad token is still a token error: the script applies to calls WeChat would have served.
  sim.scriptFault({ path: '/wxa/get_latest_auditstatus', errcode: 42007 });
  expect(errcodeOf(await wxGet(sim, '/wxa/get_latest_auditstatus?access_token=nope'))).toBe(40001);
  expect(errcodeOf(await wxGet(sim, `/wxa/get_latest_auditstatus?access_token=${a.aat}`))).toBe(42007);
});

it('does the work of a call whose answer it loses: the audit exists though the caller never heard of it', async () => {
  const a = await authorize(sim, MP);
  expect(errcodeOf(await commit(a.aat))).toBe(0);
  sim.scriptFault({ path: '/wxa/submit_audit', appId: MP, loseAnswer: true });
  await expect(wxPost(sim, `/wxa/submit_audit?access_token=${a.aat}`, {})).rejects.toThrow();
  expect(sim.miniProgram(MP)?.audits.map((audit) => audit.status)).toEqual([2]);
  expect(errcodeOf(await wxPost(sim, `/wxa/submit_audit?access_token=${a.aat}`, {}))).toBe(85009);
});

it('is steerable over /sim, validated, and cleared', async () => {
  const a = await authorize(sim, MP);
  const post = (path: string, body: unknown) =>
    fetch(`${sim.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post('/sim/faults/scripted', { path: '/wxa/queryquota', errcode: 45009 })).status).toBe(200);
  expect((await post('/sim/faults/scripted', { path: 'wxa/queryquota', errcode: 45009 })).status).toBe(400);
  expect((await post('/sim/faults/scripted', { path: '/wxa/queryquota' })).status).toBe(400);
  expect((await post('/sim/faults/scripted/clear', {})).status).toBe(200);
  expect(errcodeOf(await wxGet(sim, `/wxa/queryquota?access_token=${a.aat}`))).toBe(0);
});

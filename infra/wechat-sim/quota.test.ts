/**
 * The platform's monthly audit quota renews when the month turns in China (00:00 UTC+8 on the 1st), on the
 * injected clock; the control API tells when (`renewsAt`). Sources in shared/domain/audit-quota.ts.
 */
import { authorize, Clock, errcodeOf, startSim, wxGet, wxPost } from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9c01';
/** 2025-01-31 23:59:59 in China: one second before February starts there (still the 31st in UTC too). */
const LAST_SECOND_OF_JANUARY_IN_CHINA = Date.UTC(2025, 0, 31, 15, 59, 59);
const FEBRUARY_IN_CHINA = Date.UTC(2025, 0, 31, 16);

let sim: WeChatSimulator;
let clock: Clock;

beforeEach(async () => {
  clock = new Clock(LAST_SECOND_OF_JANUARY_IN_CHINA - 60_000);
  sim = await startSim({ now: clock.now, quota: { submitLimit: 3, submitRest: 3, speedupLimit: 2, speedupRest: 2 } });
  sim.addTemplate({ templateId: 1, userVersion: '1.0.0', userDesc: 'runtime' });
  sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' });
});

afterEach(async () => {
  await sim.close();
});

it('refills rest and speedup_rest at 00:00 China time on the 1st, not a second before', async () => {
  const { aat } = await authorize(sim, MP);
  const quota = async () => (await wxGet(sim, `/wxa/queryquota?access_token=${aat}`)).body;
  await wxPost(sim, `/wxa/commit?access_token=${aat}`, { template_id: 1, ext_json: '{}', user_version: '1', user_desc: '1' });
  const { auditid } = (await wxPost(sim, `/wxa/submit_audit?access_token=${aat}`, {})).body;
  expect(errcodeOf(await wxPost(sim, `/wxa/speedupaudit?access_token=${aat}`, { auditid }))).toBe(0);
  sim.setQuota({ submitRest: 0 });
  expect(sim.quota().renewsAt).toBe(FEBRUARY_IN_CHINA);

  clock.t = LAST_SECOND_OF_JANUARY_IN_CHINA;
  expect(await quota()).toMatchObject({ rest: 0, limit: 3, speedup_rest: 1, speedup_limit: 2 });

  clock.t = FEBRUARY_IN_CHINA;
  expect(await quota()).toMatchObject({ rest: 3, limit: 3, speedup_rest: 2, speedup_limit: 2 });
  expect(sim.quota().renewsAt).toBe(Date.UTC(2025, 1, 28, 16));
});

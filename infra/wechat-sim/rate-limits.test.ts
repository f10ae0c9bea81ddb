/**
 * Call-rate limits toggled by the control API: 45011 per minute and 45009 per China day, counted per account and
 * API on the injected clock (sources in rate-limits.ts).
 */
import { authorize, Clock, errcodeOf, startSim, type WxAnswer, wxGet } from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9f01';
const MP2 = 'wx8a6f3c2d1e0b9f02';
/** 2025-01-15 23:59:00 in China. */
const LAST_MINUTE_OF_THE_DAY_IN_CHINA = Date.UTC(2025, 0, 15, 15, 59);

let sim: WeChatSimulator;
let clock: Clock;
let aat: string;
let aat2: string;
let cat: string;

beforeEach(async () => {
  clock = new Clock(LAST_MINUTE_OF_THE_DAY_IN_CHINA - 60 * 60_000);
  sim = await startSim({ now: clock.now });
  sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' });
  sim.addMiniProgram({ appId: MP2, nickName: 'Acme Cam', principalName: 'Acme Ltd' });
  ({ aat, cat } = await authorize(sim, MP));
  ({ aat: aat2 } = await authorize(sim, MP2, undefined, cat));
});

afterEach(async () => {
  await sim.close();
});

const categories = (token = aat): Promise<WxAnswer> => wxGet(sim, `/wxa/get_category?access_token=${token}`);
const pages = (): Promise<WxAnswer> => wxGet(sim, `/wxa/get_page?access_token=${aat}`);
const templates = (): Promise<WxAnswer> => wxGet(sim, `/wxa/gettemplatelist?access_token=${cat}`);
const control = async (body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await fetch(`${sim.baseUrl}/sim/rate-limits`, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

it('is off until set, and refuses a rule with no budget (400 naming the field)', async () => {
  for (let i = 0; i < 5; i++) expect(errcodeOf(await categories())).toBe(0);
  expect(await control({ rules: [{ path: '/wxa/get_category' }] })).toMatchObject({ status: 400, body: { field: 'rules.0.perMinute' } });
  expect(await control({ rules: [{ path: '/wxa/get_category', perMinute: 2 }] })).toEqual({
    status: 200,
    body: { rules: [{ path: '/wxa/get_category', perMinute: 2 }] },
  });
});

it('answers 45011 past the minute budget of one API of one account, until the next minute', async () => {
  sim.setRateLimits([{ path: '/wxa/get_category', perMinute: 2 }]);
  clock.t = LAST_MINUTE_OF_THE_DAY_IN_CHINA - 60 * 60_000 + 30_000;
  expect(errcodeOf(await categories())).toBe(0);
  expect(errcodeOf(await categories())).toBe(0);
  const refused = await categories();
  expect(refused.body).toMatchObject({ errcode: 45011 });
  expect(String(refused.body.errmsg)).toMatch(/^api minute-quota reach limit/);
  // Another mini program spends its own budget; another API is not limited.
  expect(errcodeOf(await categories(aat2))).toBe(0);
  expect(errcodeOf(await pages())).toBe(86001);
  clock.advance(30_000);
  expect(errcodeOf(await categories())).toBe(0);
});

it("answers 45009 past the day's budget until 00:00 China time", async () => {
  sim.setRateLimits([{ perDay: 2 }]);
  clock.t = LAST_MINUTE_OF_THE_DAY_IN_CHINA;
  expect(errcodeOf(await categories())).toBe(0);
  expect(errcodeOf(await categories())).toBe(0);
  expect(errcodeOf(await categories())).toBe(45009);
  // Every API has a budget of its own.
  expect(errcodeOf(await pages())).toBe(86001);
  clock.t = LAST_MINUTE_OF_THE_DAY_IN_CHINA + 59_999;
  expect(errcodeOf(await categories())).toBe(45009);
  clock.t = LAST_MINUTE_OF_THE_DAY_IN_CHINA + 60_000;
  expect(errcodeOf(await categories())).toBe(0);
});

it("counts the platform's own calls (component token) against the platform, and [] lifts every limit", async () => {
  sim.setRateLimits([{ path: '/wxa/gettemplatelist', perMinute: 1 }]);
  expect(errcodeOf(await templates())).toBe(0);
  expect(errcodeOf(await templates())).toBe(45011);
  await control({ rules: [] });
  expect(errcodeOf(await templates())).toBe(0);
  expect(sim.rateLimits()).toEqual([]);
});

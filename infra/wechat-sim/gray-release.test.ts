/**
 * Phased release (grayrelease, getgrayreleaseplan, revertgrayrelease) and how it meets release and
 * revertcoderelease; the sources are cited in gray-release.ts.
 */
import { authorize, type Clock, DAY, errcodeOf, startCodeSim, type WxAnswer, wxGet, wxPost } from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9b01';
const TEMPLATE = 301;

let sim: WeChatSimulator;
let clock: Clock;
let aat: string;

beforeEach(async () => {
  ({ sim, aat, clock } = await startCodeSim({ templateId: TEMPLATE, userVersion: '1.0.0', userDesc: 'runtime' }, [
    { appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' },
  ]));
});

afterEach(async () => {
  await sim.close();
});

const api = (path: string): string => `${path}?access_token=${aat}`;
const gray = (body: Record<string, unknown>): Promise<WxAnswer> => wxPost(sim, api('/wxa/grayrelease'), body);
const plan = async (): Promise<Record<string, unknown>> => {
  const answer = await wxGet(sim, api('/wxa/getgrayreleaseplan'));
  expect(answer.body).toMatchObject({ errcode: 0, errmsg: 'ok' });
  return answer.body.gray_release_plan as Record<string, unknown>;
};
const revertGray = (): Promise<WxAnswer> => wxGet(sim, api('/wxa/revertgrayrelease'));
const release = (): Promise<WxAnswer> => wxPost(sim, api('/wxa/release'), {});
const rollback = (): Promise<WxAnswer> => wxGet(sim, api('/wxa/revertcoderelease'));
const liveVersion = async (): Promise<unknown> => {
  const info = (await wxPost(sim, api('/wxa/getversioninfo'), {})).body.release_info as Record<string, unknown> | undefined;
  return info?.release_version;
};

/** Commits `version`, submits it and (unless told otherwise) approves it. */
async function approved(version: string, approve = true): Promise<void> {
  const ext = JSON.stringify({ extAppid: MP });
  expect(
    errcodeOf(await wxPost(sim, api('/wxa/commit'), { template_id: TEMPLATE, ext_json: ext, user_version: version, user_desc: version })),
  ).toBe(0);
  expect(errcodeOf(await wxPost(sim, api('/wxa/submit_audit'), {}))).toBe(0);
  if (approve) await sim.decideAudit(MP, 'approve');
}

/** 1.0.0 live in full, 2.0.0 approved and phased in at `percentage`. */
async function phasing(percentage: number): Promise<void> {
  await approved('1.0.0');
  expect(errcodeOf(await release())).toBe(0);
  await approved('2.0.0');
  expect((await gray({ gray_percentage: percentage })).body).toEqual({ errcode: 0, errmsg: 'ok' });
}

describe('grayrelease', () => {
  it('refuses a mini program never released (85079: a first version goes out in full)', async () => {
    await approved('1.0.0');
    expect(errcodeOf(await gray({ gray_percentage: 10 }))).toBe(85079);
    expect(await plan()).toEqual({
      status: 0,
      create_timestamp: 0,
      gray_percentage: 0,
      support_experiencer_first: false,
      support_debuger_first: false,
    });
  });

  it('phases at once a mini program registered with a version released before (`released`)', async () => {
    const before = 'wx8a6f3c2d1e0b9b02';
    sim.addMiniProgram({
      appId: before,
      nickName: 'Acme Old',
      principalName: 'Acme Ltd',
      released: { templateId: TEMPLATE, userVersion: '0.9.0' },
    });
    expect(sim.miniProgram(before)?.live).toMatchObject({ templateId: TEMPLATE, userVersion: '0.9.0', appVersion: 1 });
    const { aat: other } = await authorize(sim, before);
    const ext = JSON.stringify({ extAppid: before });
    await wxPost(sim, `/wxa/commit?access_token=${other}`, {
      template_id: TEMPLATE,
      ext_json: ext,
      user_version: '1.0.0',
      user_desc: 'v1',
    });
    await wxPost(sim, `/wxa/submit_audit?access_token=${other}`, {});
    await sim.decideAudit(before, 'approve');
    expect((await wxPost(sim, `/wxa/grayrelease?access_token=${other}`, { gray_percentage: 10 })).body).toEqual({
      errcode: 0,
      errmsg: 'ok',
    });
    expect(sim.miniProgram(before)?.live).toMatchObject({ userVersion: '1.0.0', appVersion: 2 });
    // Only a template of the library can have been released.
    expect(() =>
      sim.addMiniProgram({
        appId: 'wx8a6f3c2d1e0b9b03',
        nickName: 'X',
        principalName: 'Acme Ltd',
        released: { templateId: 999, userVersion: '1' },
      }),
    ).toThrow(/template 999/);
  });

  it('refuses a version not approved (85080) and an invalid percentage (85081)', async () => {
    await approved('1.0.0');
    await release();
    await approved('2.0.0', false);
    expect(errcodeOf(await gray({ gray_percentage: 10 }))).toBe(85080);
    await sim.decideAudit(MP, 'reject');
    expect(errcodeOf(await gray({ gray_percentage: 10 }))).toBe(85080);
    await approved('2.0.1');
    for (const bad of [101, -1, 2.5, '10', 0]) expect(errcodeOf(await gray({ gray_percentage: bad }))).toBe(85081);
    expect(errcodeOf(await gray({}))).toBe(47001); // the required field missing is a format error
    // 0 is a share of nobody but the members chosen first (doc grayRelease).
    expect(errcodeOf(await gray({ gray_percentage: 0, support_experiencer_first: true }))).toBe(0);
    expect(await plan()).toMatchObject({ status: 1, gray_percentage: 0, support_experiencer_first: true, support_debuger_first: false });
  });

  it('phases the approved version in: it is live, the plan runs, and its share only grows (85082)', async () => {
    await phasing(5);
    expect(await plan()).toEqual({
      status: 1,
      create_timestamp: Math.floor(clock.t / 1000),
      gray_percentage: 5,
      support_experiencer_first: false,
      support_debuger_first: false,
    });
    expect(await liveVersion()).toBe('2.0.0');
    expect(sim.miniProgram(MP)?.grayRelease).toMatchObject({ status: 1, percentage: 5, previousAppVersion: 1 });

    expect(errcodeOf(await gray({ gray_percentage: 5 }))).toBe(85082);
    expect(errcodeOf(await gray({ gray_percentage: 3 }))).toBe(85082);
    expect(errcodeOf(await gray({ gray_percentage: 20 }))).toBe(0);
    expect(await plan()).toMatchObject({ status: 1, gray_percentage: 20 });
    expect(errcodeOf(await gray({ gray_percentage: 100 }))).toBe(0);
    expect(await plan()).toMatchObject({ status: 3, gray_percentage: 100 });
    expect(errcodeOf(await revertGray())).toBe(87012);
  });

  it('lets nothing new go live and nothing roll back while a phase runs', async () => {
    await phasing(10);
    await approved('3.0.0');
    expect(errcodeOf(await release())).toBe(85020);
    expect(errcodeOf(await gray({ gray_percentage: 50 }))).toBe(85020);
    expect(errcodeOf(await rollback())).toBe(87011);
    expect(await liveVersion()).toBe('2.0.0');
  });

  it('completes the phase on a full release of the phased version', async () => {
    await phasing(10);
    expect(errcodeOf(await release())).toBe(0);
    expect(await plan()).toMatchObject({ status: 3, gray_percentage: 100 });
    expect(errcodeOf(await release())).toBe(85052);
    expect(errcodeOf(await rollback())).toBe(0);
    expect(await liveVersion()).toBe('1.0.0');
  });

  it('is released in full by the platform on day 15 (the injected clock)', async () => {
    await phasing(10);
    clock.advance(15 * DAY - 1);
    expect(await plan()).toMatchObject({ status: 1, gray_percentage: 10 });
    clock.advance(1);
    expect(await plan()).toMatchObject({ status: 3, gray_percentage: 100 });
  });

  it('pauses and resumes as the admin does in the console; a raise resumes it', async () => {
    await phasing(10);
    sim.setGrayReleasePaused(MP, true);
    expect(await plan()).toMatchObject({ status: 2, gray_percentage: 10 });
    expect(errcodeOf(await rollback())).toBe(87011);
    expect(errcodeOf(await gray({ gray_percentage: 30 }))).toBe(0);
    expect(await plan()).toMatchObject({ status: 1, gray_percentage: 30 });
  });
});

describe('revertgrayrelease', () => {
  it('puts the previous version back for everyone and marks the plan deleted', async () => {
    await phasing(10);
    expect((await revertGray()).body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(await plan()).toMatchObject({ status: 4, gray_percentage: 10 });
    expect(await liveVersion()).toBe('1.0.0');
    expect((await wxGet(sim, `${api('/wxa/revertcoderelease')}&action=get_history_version`)).body).toMatchObject({ version_list: [] });
    expect(errcodeOf(await revertGray())).toBe(87012);
    // The revoked version is spent: releasing it again is refused like any released version.
    expect(errcodeOf(await release())).toBe(85052);
  });

  it('answers 87012 with no phase running', async () => {
    expect(errcodeOf(await revertGray())).toBe(87012);
  });

  it('bars the rollback of the first full release after a revoked phase, and only that one', async () => {
    await phasing(10);
    await revertGray();
    await approved('3.0.0');
    expect(errcodeOf(await release())).toBe(0);
    expect(errcodeOf(await rollback())).toBe(87012);
    await approved('4.0.0');
    expect(errcodeOf(await release())).toBe(0);
    expect(errcodeOf(await rollback())).toBe(0);
    expect(await liveVersion()).toBe('3.0.0');
  });
});

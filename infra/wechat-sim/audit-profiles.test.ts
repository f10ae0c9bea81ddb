/**
 * Audit profiles: per template, audit durations drawn between min and max around a median and a rejection rate,
 * reproducible from a seed, decided on the injected clock; get_auditstatus and the pushes follow.
 */
import { type AuditProfile, drawAudit } from './audit-profiles';
import { authorize, Clock, HOUR, PushReceiver, startSim, wxGet, wxPost } from './test-support';
import type { WeChatSimulator } from './types';

const TEMPLATE = 401;
const OTHER_TEMPLATE = 402;
const PROFILE: AuditProfile = { templateId: TEMPLATE, minMs: HOUR, medianMs: 6 * HOUR, maxMs: 48 * HOUR, rejectRate: 0.2, seed: 7 };

describe('drawAudit', () => {
  const draws = Array.from({ length: 2000 }, (_, i) => drawAudit(PROFILE, 420000001 + i));

  it('is reproducible from the seed and the auditid, and another seed draws otherwise', () => {
    expect(drawAudit(PROFILE, 420000001)).toEqual(draws[0]);
    const reseeded = Array.from({ length: 20 }, (_, i) => drawAudit({ ...PROFILE, seed: 8 }, 420000001 + i));
    expect(reseeded).not.toEqual(draws.slice(0, 20));
  });

  it('keeps durations within min and max, around the median, with a long tail', () => {
    const delays = draws.map((d) => d.delayMs).sort((a, b) => a - b);
    expect(delays[0]).toBeGreaterThanOrEqual(HOUR);
    expect(delays.at(-1)).toBeLessThanOrEqual(48 * HOUR);
    const median = delays[delays.length / 2] ?? 0;
    expect(median).toBeGreaterThan(5 * HOUR);
    expect(median).toBeLessThan(7 * HOUR);
    // A lognormal's mean lies above its median: a few audits take far longer than most.
    expect(delays.reduce((a, b) => a + b, 0) / delays.length).toBeGreaterThan(median);
  });

  it('rejects about the share asked for', () => {
    const rejected = draws.filter((d) => d.decision === 'reject').length / draws.length;
    expect(rejected).toBeGreaterThan(0.17);
    expect(rejected).toBeLessThan(0.23);
    expect(drawAudit({ ...PROFILE, rejectRate: 0 }, 420000001).decision).toBe('approve');
    expect(drawAudit({ ...PROFILE, rejectRate: 1 }, 420000001).decision).toBe('reject');
  });

  it('takes exactly the median when min, median and max agree', () => {
    expect(drawAudit({ ...PROFILE, minMs: HOUR, medianMs: HOUR, maxMs: HOUR }, 420000009).delayMs).toBe(HOUR);
  });
});

describe('audit profiles in the simulator', () => {
  let sim: WeChatSimulator;
  let clock: Clock;
  let receiver: PushReceiver;
  const apps = ['wx8a6f3c2d1e0b9d01', 'wx8a6f3c2d1e0b9d02', 'wx8a6f3c2d1e0b9d03', 'wx8a6f3c2d1e0b9d04', 'wx8a6f3c2d1e0b9d05'];

  beforeEach(async () => {
    clock = new Clock();
    receiver = await new PushReceiver().start();
    sim = await startSim({ now: clock.now, tokenTtlSeconds: 30 * 24 * 3600, messageUrlTemplate: `${receiver.url}/$APPID$` });
    for (const templateId of [TEMPLATE, OTHER_TEMPLATE]) sim.addTemplate({ templateId, userVersion: '2.0.0', userDesc: 'v2' });
  });

  afterEach(async () => {
    await sim.close();
    await receiver.close();
  });

  const control = (path: string, body: unknown) =>
    fetch(`${sim.baseUrl}${path}`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as Record<string, unknown>,
    }));

  /** Commits `templateId` to `appId` and submits it; the auditid and the token. */
  async function submit(appId: string, templateId: number): Promise<{ auditid: number; aat: string }> {
    sim.addMiniProgram({ appId, nickName: `Shop ${appId.slice(-2)}`, principalName: 'Acme Ltd' });
    const { aat } = await authorize(sim, appId);
    await wxPost(sim, `/wxa/commit?access_token=${aat}`, {
      template_id: templateId,
      ext_json: '{}',
      user_version: '2.0.0',
      user_desc: 'v2',
    });
    const answer = await wxPost(sim, `/wxa/submit_audit?access_token=${aat}`, {});
    return { auditid: Number(answer.body.auditid), aat };
  }

  it('refuses a bad profile over HTTP with the field, and lists the good one', async () => {
    const bad = await control('/sim/audit/profiles', { ...PROFILE, medianMs: 100 * HOUR });
    expect(bad).toMatchObject({ status: 400, body: { code: expect.any(String), field: 'medianMs' } });
    expect((await control('/sim/audit/profiles', { ...PROFILE, rejectRate: 1.5 })).status).toBe(400);
    expect(await control('/sim/audit/profiles', PROFILE)).toEqual({ status: 200, body: [PROFILE] });
    expect((await control('/sim/audit/profiles/clear', {})).status).toBe(200);
    expect(sim.auditProfiles()).toEqual([]);
  });

  it('decides each audit of the template at its drawn time with its drawn outcome; get_auditstatus and pushes follow', async () => {
    expect((await control('/sim/audit/profiles', { ...PROFILE, reason: '1:功能不完整<br>' })).status).toBe(200);
    const submitted = [];
    for (const appId of apps) submitted.push({ appId, ...(await submit(appId, TEMPLATE)) });
    const untouched = await submit('wx8a6f3c2d1e0b9d09', OTHER_TEMPLATE);

    const expected = submitted.map((s) => ({ ...s, ...drawAudit(PROFILE, s.auditid) }));
    const plans = expected.map((e) => sim.miniProgram(e.appId)?.audits.at(-1));
    expect(plans.map((a) => a?.plannedDecision)).toEqual(expected.map((e) => e.decision));
    expect(new Set(expected.map((e) => e.decision))).toEqual(new Set(['approve', 'reject'])); // seed 7 draws both

    const status = async (e: { auditid: number; aat: string }) =>
      (await wxPost(sim, `/wxa/get_auditstatus?access_token=${e.aat}`, { auditid: e.auditid })).body;
    const start = clock.t;
    for (const e of [...expected].sort((a, b) => a.delayMs - b.delayMs)) {
      clock.t = start + e.delayMs - 1;
      expect(await status(e)).toMatchObject({ status: 2 });
      clock.t = start + e.delayMs;
      expect(await status(e)).toMatchObject(e.decision === 'approve' ? { status: 0 } : { status: 1, reason: '1:功能不完整<br>' });
    }
    await sim.pushesSettled();
    const labels = sim
      .pushLog()
      .filter((p) => p.outcome === 'success')
      .map((p) => p.label);
    expect(labels.filter((l) => l === 'weapp_audit_fail')).toHaveLength(expected.filter((e) => e.decision === 'reject').length);
    expect(labels.filter((l) => l === 'weapp_audit_success')).toHaveLength(expected.filter((e) => e.decision === 'approve').length);
    // Another template's audit follows no profile: without auditDecisionDelayMs it waits for a decision.
    expect((await wxGet(sim, `/wxa/get_latest_auditstatus?access_token=${untouched.aat}`)).body).toMatchObject({ status: 2 });
  });
});

describe('a decision by the control API before the drawn time', () => {
  it('replaces the planned one: the snapshot no longer shows it', async () => {
    const sim = await startSim();
    try {
      sim.addTemplate({ templateId: TEMPLATE, userVersion: '2.0.0', userDesc: 'v2' });
      sim.setAuditProfile({ ...PROFILE, rejectRate: 1 });
      const appId = 'wx8a6f3c2d1e0b9e02';
      sim.addMiniProgram({ appId, nickName: 'Shop', principalName: 'Acme Ltd' });
      const { aat } = await authorize(sim, appId);
      await wxPost(sim, `/wxa/commit?access_token=${aat}`, { template_id: TEMPLATE, ext_json: '{}', user_version: '2', user_desc: 'v2' });
      await wxPost(sim, `/wxa/submit_audit?access_token=${aat}`, {});
      expect(sim.miniProgram(appId)?.audits.at(-1)).toMatchObject({ status: 2, plannedDecision: 'reject' });
      await sim.decideAudit(appId, 'approve');
      const audit = sim.miniProgram(appId)?.audits.at(-1);
      expect(audit).toMatchObject({ status: 0 });
      expect(audit?.plannedDecision).toBeUndefined();
      expect(audit?.autoDecideAt).toBeUndefined();
    } finally {
      await sim.close();
    }
  });
});

describe('an automatic decision is timed from the call that made it due', () => {
  it('pushes the result without another request arriving', async () => {
    const receiver = await new PushReceiver().start();
    const sim = await startSim({ messageUrlTemplate: `${receiver.url}/$APPID$` });
    try {
      sim.addTemplate({ templateId: TEMPLATE, userVersion: '2.0.0', userDesc: 'v2' });
      sim.setAuditProfile({ templateId: TEMPLATE, minMs: 0, medianMs: 0, maxMs: 0, rejectRate: 1 });
      const appId = 'wx8a6f3c2d1e0b9e01';
      sim.addMiniProgram({ appId, nickName: 'Shop', principalName: 'Acme Ltd' });
      const { aat } = await authorize(sim, appId);
      await wxPost(sim, `/wxa/commit?access_token=${aat}`, { template_id: TEMPLATE, ext_json: '{}', user_version: '2', user_desc: 'v2' });
      const pushed = new Promise<string>((resolve) => {
        receiver.respond = (push) => {
          resolve(push.path);
          return { body: 'success' };
        };
      });
      await wxPost(sim, `/wxa/submit_audit?access_token=${aat}`, {});
      expect(await pushed).toBe(`/${appId}`);
    } finally {
      await sim.close();
      await receiver.close();
    }
  });
});

describe('a clock that jumps', () => {
  it('decides what fell due and pushes it at clockMoved(), without a request', async () => {
    const receiver = await new PushReceiver().start();
    const clock = new Clock();
    const sim = await startSim({ now: clock.now, tokenTtlSeconds: 30 * 24 * 3600, messageUrlTemplate: `${receiver.url}/$APPID$` });
    try {
      sim.addTemplate({ templateId: TEMPLATE, userVersion: '2.0.0', userDesc: 'v2' });
      sim.setAuditProfile({ templateId: TEMPLATE, minMs: 3 * HOUR, medianMs: 3 * HOUR, maxMs: 3 * HOUR, rejectRate: 0 });
      const appId = 'wx8a6f3c2d1e0b9e03';
      sim.addMiniProgram({ appId, nickName: 'Shop', principalName: 'Acme Ltd' });
      const { aat } = await authorize(sim, appId);
      await wxPost(sim, `/wxa/commit?access_token=${aat}`, { template_id: TEMPLATE, ext_json: '{}', user_version: '2', user_desc: 'v2' });
      await wxPost(sim, `/wxa/submit_audit?access_token=${aat}`, {});
      receiver.received.length = 0;
      clock.advance(3 * HOUR);
      // The timer armed at the submit waits three real hours: only clockMoved() applies the decision now.
      sim.clockMoved();
      await sim.pushesSettled();
      expect(receiver.received.map((p) => p.path)).toEqual([`/${appId}`]);
      expect(sim.pushLog().at(-1)).toMatchObject({ label: 'weapp_audit_success', outcome: 'success' });
    } finally {
      await sim.close();
      await receiver.close();
    }
  });
});

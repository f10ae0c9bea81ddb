import fc from 'fast-check';
import type { Actor } from './common';
import { DEPLOYMENT_STATES } from './deployment-states';
import {
  abortDone,
  countsByWave,
  createRollout,
  estimatedEnd,
  gateDecision,
  MEMBER_STATES,
  type MemberEvent,
  matchesSelection,
  memberTransition,
  type NewMember,
  nextMemberStep,
  nextQuotaRenewal,
  planWaveSizes,
  type Rollout,
  type RolloutCommand,
  type RolloutMember,
  RolloutMemberTransitionError,
  RolloutTransitionError,
  rolloutInputSchema,
  rolloutTransition,
  selectionSchema,
  wavePlanSchema,
} from './rollout';

const T0 = 1_800_000_000_000;
const admin: Actor = { kind: 'account', id: 'acc_demo' };
const system: Actor = { kind: 'system' };

const newMembers = (n: number): NewMember[] =>
  Array.from({ length: n }, (_, i) => ({
    accountId: 'acc_demo',
    appId: `app_${i.toString(36)}x`,
    miniProgramAppid: `wx${i.toString(16).padStart(16, '0')}`,
  }));

const rolloutOf = (n: number, input: Record<string, unknown> = {}) =>
  createRollout(
    rolloutInputSchema.parse({ templateId: 7, userVersion: '2.0.0', selection: { templateIds: [1] }, ...input }),
    { id: 'rol_test', accountId: 'acc_demo' },
    newMembers(n),
    { at: T0, actor: admin },
  );

const settle = (m: RolloutMember, state: (typeof DEPLOYMENT_STATES)[number], reason: string | null = null): RolloutMember => {
  let member = m;
  if (member.state === 'pending') member = memberTransition(member, { type: 'start' }, T0 + 1);
  if (member.state === 'starting') member = memberTransition(member, { type: 'started', deploymentId: `dep_${m.appId.slice(4)}` }, T0 + 2);
  return memberTransition(member, { type: 'deployment', state, reason }, T0 + 3);
};

describe('wave plan', () => {
  it('sizes add up to the member count, none empty, the canary first', () => {
    const plan = fc.record({
      canary: fc.oneof(
        fc.record({ count: fc.integer({ min: 1, max: 50 }) }),
        fc.record({ percent: fc.double({ min: 0.01, max: 100, noNaN: true }) }),
      ),
      percents: fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 6 }).map((list) => [...list.sort((a, b) => a - b), 100]),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), plan, (n, raw) => {
        const sizes = planWaveSizes(n, wavePlanSchema.parse(raw));
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
        expect(sizes.every((s) => s > 0)).toBe(true);
        if (n > 0 && 'count' in raw.canary) expect(sizes[0]).toBe(Math.min(n, raw.canary.count));
      }),
    );
  });

  it('1 % canary then 10 %, 50 %, 100 % of 1,000 apps', () => {
    expect(planWaveSizes(1000, wavePlanSchema.parse({ canary: { percent: 1 }, percents: [10, 50, 100] }))).toEqual([10, 90, 400, 500]);
  });

  it('refuses a plan that does not end at 100 % or does not grow', () => {
    expect(wavePlanSchema.safeParse({ percents: [10, 50] }).success).toBe(false);
    expect(wavePlanSchema.safeParse({ percents: [50, 10, 100] }).success).toBe(false);
  });
});

describe('selection', () => {
  it('needs at least one filter, and an app must pass every filter given', () => {
    expect(selectionSchema.safeParse({}).success).toBe(false);
    const app = { id: 'app_a', templateId: 3, kind: 'lowcode', labels: ['beta', 'cn'] };
    expect(matchesSelection(app, { templateIds: [3], labels: ['beta'] })).toBe(true);
    expect(matchesSelection(app, { templateIds: [3], kinds: ['iot-video'] })).toBe(false);
    expect(matchesSelection(app, { labels: ['eu', 'cn'] })).toBe(true);
    expect(matchesSelection(app, { appIds: ['app_b'] })).toBe(false);
  });
});

describe('members', () => {
  const events: fc.Arbitrary<MemberEvent> = fc.oneof(
    fc.constant<MemberEvent>({ type: 'start' }),
    fc.constant<MemberEvent>({ type: 'started', deploymentId: 'dep_x' }),
    fc.constantFrom(...DEPLOYMENT_STATES).map((state): MemberEvent => ({ type: 'deployment', state, reason: 'because' })),
    fc.constant<MemberEvent>({ type: 'skip', reason: 'busy' }),
    fc.constant<MemberEvent>({ type: 'fail', reason: 'refused' }),
    fc.constant<MemberEvent>({ type: 'retry' }),
    fc.constant<MemberEvent>({ type: 'leave', reason: 'left' }),
    fc.constant<MemberEvent>({ type: 'wait', reason: 'quota' }),
    fc.integer({ min: 1, max: 99 }).map((percentage): MemberEvent => ({ type: 'phased', percentage })),
    fc.constant<MemberEvent>({ type: 'phaseReverted', reason: 'aborted' }),
  );

  it('any sequence keeps each member in exactly one known state, its history chained, and each wave’s counts true', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(9), events), { maxLength: 80 }), (steps) => {
        const { rollout, members: initial } = rolloutOf(10, { waves: { canary: { count: 2 }, percents: [50, 100] } });
        const members = [...initial];
        steps.forEach(([i, event], t) => {
          const m = members[i];
          if (!m) return;
          try {
            members[i] = memberTransition(m, event, T0 + t);
          } catch (error) {
            expect(error).toBeInstanceOf(RolloutMemberTransitionError);
          }
        });
        // What a reader sees per wave: each member counted once, in its own wave and its own state; each wave its size.
        const waves = countsByWave(rollout, members);
        expect(waves.map((w) => w.size)).toEqual([2, 3, 5]);
        for (const { wave, size, counts } of waves) {
          const inWave = members.filter((m) => m.wave === wave);
          expect(inWave).toHaveLength(size);
          expect(counts).toEqual(Object.fromEntries(MEMBER_STATES.map((state) => [state, inWave.filter((m) => m.state === state).length])));
        }
        for (const m of members) {
          expect(MEMBER_STATES).toContain(m.state);
          m.history.forEach((entry, k) => {
            // A phase's each share is an entry of its own, from phasing to phasing.
            expect(entry.from).toBe(k === 0 ? 'pending' : m.history[k - 1]?.to);
          });
          expect(m.history.at(-1)?.to ?? 'pending').toBe(m.state);
          // A member with no deployment is never shown in a deployment's state.
          if (['building', 'auditing', 'approved', 'phasing', 'releasing', 'released'].includes(m.state))
            expect(m.deploymentId).not.toBeNull();
          if (m.state === 'phasing') expect(m.phase?.percentage).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('a repeated event changes nothing', () => {
    const [m] = rolloutOf(1).members;
    if (!m) throw new Error('no member');
    const started = settle(m, 'auditing');
    expect(memberTransition(started, { type: 'deployment', state: 'auditing', reason: null }, T0 + 9)).toBe(started);
  });

  it('retry starts a new attempt and keeps the previous deployment', () => {
    const [m] = rolloutOf(1).members;
    if (!m) throw new Error('no member');
    const retried = memberTransition(settle(m, 'rejected', 'name mismatch'), { type: 'retry' }, T0 + 9);
    expect(retried).toMatchObject({ state: 'pending', deploymentId: null, previousDeploymentIds: [`dep_${m.appId.slice(4)}`] });
  });
});

describe('the gate', () => {
  it('halts when a wave’s bad share passes its threshold, and only then', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.constantFrom('released', 'rejected', 'failed', 'auditing', 'cancelled' as const), { minLength: 1, maxLength: 40 }),
        (canary, threshold, outcomes) => {
          const { rollout, members } = rolloutOf(40, {
            waves: { canary: { count: canary }, percents: [100] },
            gate: { canaryMaxBadShare: threshold },
          });
          const settled = members.map((m, i) => (m.wave === 0 && outcomes[i] ? settle(m, outcomes[i] ?? 'released', 'x') : m));
          const bad = settled.filter((m) => m.wave === 0 && (m.state === 'rejected' || m.state === 'failed')).length;
          const decision = gateDecision(rollout, settled);
          expect(decision.kind === 'halt').toBe(bad / canary > threshold);
        },
      ),
    );
  });

  it('by default any rejection in the canary halts, naming the app and WeChat’s reason', () => {
    const { rollout, members } = rolloutOf(20, { waves: { canary: { count: 5 } } });
    const next = members.map((m, i) => (i === 2 ? settle(m, 'rejected', '1:小程序名称与内容不符') : m));
    const decision = gateDecision(rollout, next);
    expect(decision).toEqual({ kind: 'halt', reason: expect.stringContaining('1 of 5 members of the canary') });
    expect(decision.kind === 'halt' && decision.reason).toContain('小程序名称与内容不符');
  });

  it('advances once the wave settled, and completes after the last one', () => {
    const { rollout, members } = rolloutOf(4, { waves: { canary: { count: 1 }, percents: [100] } });
    expect(gateDecision(rollout, members)).toEqual({ kind: 'hold' });
    const canaryDone = members.map((m) => (m.wave === 0 ? settle(m, 'released') : m));
    expect(gateDecision(rollout, canaryDone)).toEqual({ kind: 'advance', to: 1 });
    const advanced = rolloutTransition(rollout, { type: 'advance', to: 1 }, { at: T0, actor: system }).rollout;
    expect(
      gateDecision(
        advanced,
        canaryDone.map((m) => settle(m, 'released')),
      ),
    ).toEqual({ kind: 'complete' });
  });

  it('after a resume, counts only failures beyond those accepted', () => {
    const { rollout, members } = rolloutOf(20, { waves: { canary: { count: 5 } } });
    const rejected = members.map((m, i) => (i === 0 ? settle(m, 'rejected', 'x') : m));
    const halted = rolloutTransition(rollout, { type: 'halt', reason: 'x' }, { at: T0, actor: system }).rollout;
    const resumed = rolloutTransition(halted, { type: 'resume', badInWave: 1 }, { at: T0, actor: admin }).rollout;
    expect(gateDecision(resumed, rejected).kind).toBe('hold');
    expect(
      gateDecision(
        resumed,
        rejected.map((m, i) => (i === 1 ? settle(m, 'failed', 'y') : m)),
      ).kind,
    ).toBe('halt');
  });
});

describe('pause, resume, abort', () => {
  const at = T0 + 10 * 60_000;
  it('a paused or halted rollout starts, submits and releases nothing', () => {
    const { rollout, members } = rolloutOf(3, { waves: { canary: { count: 3 }, percents: [100] } });
    const [pending, built, approved] = [
      members[0],
      settle(members[1] as RolloutMember, 'built'),
      settle(members[2] as RolloutMember, 'approved'),
    ];
    if (!pending) throw new Error('no member');
    expect([pending, built, approved].map((m) => nextMemberStep(rollout, m, at))).toEqual(['start', 'submit', 'release']);
    for (const command of [{ type: 'pause' }, { type: 'halt', reason: 'x' }] as const) {
      const stopped = rolloutTransition(rollout, command, { at, actor: admin }).rollout;
      expect([pending, built, approved].map((m) => nextMemberStep(stopped, m, at))).toEqual([null, null, null]);
    }
  });

  it('abort says what it does to each member state', () => {
    const { rollout, members } = rolloutOf(6);
    const m = members[0] as RolloutMember;
    const withdraw = rolloutTransition(
      rollout,
      { type: 'abort', options: { inReview: 'withdraw', released: 'leave' } },
      { at, actor: admin },
    ).rollout;
    const leave = rolloutTransition(
      rollout,
      { type: 'abort', options: { inReview: 'leave', released: 'rollback' } },
      { at, actor: admin },
    ).rollout;
    const cases: [RolloutMember, string | null, string | null][] = [
      [m, 'skip', 'skip'],
      [settle(m, 'building'), 'cancel', 'cancel'],
      [settle(m, 'built'), 'cancel', 'cancel'],
      [settle(m, 'auditing'), 'withdraw', 'leave'],
      [settle(m, 'approved'), 'cancel', 'cancel'],
      [settle(m, 'releasing'), null, null],
      [settle(m, 'released'), null, 'rollback'],
      [settle(m, 'rejected'), 'cancel', 'cancel'],
      [settle(m, 'failed'), null, null],
    ];
    for (const [member, a, b] of cases)
      expect([member.state, nextMemberStep(withdraw, member, at), nextMemberStep(leave, member, at)]).toEqual([member.state, a, b]);
    expect(abortDone(leave, [settle(m, 'released')], at)).toBe(false);
    expect(abortDone(withdraw, [settle(m, 'released'), settle(m, 'rejected')], at)).toBe(false);
    const closed = memberTransition(settle(m, 'rejected', 'x'), { type: 'deployment', state: 'cancelled', reason: 'rollout aborted' }, at);
    expect(closed).toMatchObject({ state: 'rejected', deploymentState: 'cancelled', reason: 'x' });
    expect(abortDone(withdraw, [settle(m, 'released'), closed], at)).toBe(true);
  });

  it('any command sequence keeps the history chained; aborted and completed are final but for retry of a completed one', () => {
    const commands: fc.Arbitrary<RolloutCommand> = fc.oneof(
      fc.constant<RolloutCommand>({ type: 'pause' }),
      fc.constant<RolloutCommand>({ type: 'resume', badInWave: 0 }),
      fc.constant<RolloutCommand>({ type: 'halt', reason: 'x' }),
      fc.constant<RolloutCommand>({ type: 'abort', options: { inReview: 'withdraw', released: 'leave' } }),
      fc.constant<RolloutCommand>({ type: 'aborted' }),
      fc.integer({ min: 0, max: 4 }).map((to): RolloutCommand => ({ type: 'advance', to })),
      fc.constant<RolloutCommand>({ type: 'complete' }),
      fc.constant<RolloutCommand>({ type: 'retry', count: 1 }),
    );
    fc.assert(
      fc.property(fc.array(commands, { maxLength: 30 }), (list) => {
        let r: Rollout = rolloutOf(10).rollout;
        for (const command of list) {
          const before = r.state;
          try {
            const result = rolloutTransition(r, command, { at: T0, actor: admin });
            if (before === 'aborted') expect(result.changed).toBe(false);
            r = result.rollout;
          } catch (error) {
            expect(error).toBeInstanceOf(RolloutTransitionError);
          }
        }
        r.history.forEach((entry, k) => {
          if (k > 0) expect(entry.from).toBe(r.history[k - 1]?.to);
        });
        expect(r.history.at(-1)?.to).toBe(r.state);
        expect(r.currentWave).toBeLessThan(r.waves.length);
      }),
    );
  });
});

describe('quota renewal', () => {
  it('is the first of the next month, China time', () => {
    // 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Beijing: the next renewal is February's.
    expect(new Date(nextQuotaRenewal(Date.UTC(2026, 11, 31, 17))).toISOString()).toBe('2027-01-31T16:00:00.000Z');
    expect(new Date(nextQuotaRenewal(Date.UTC(2026, 11, 7, 10))).toISOString()).toBe('2026-12-31T16:00:00.000Z');
  });
});

describe('the estimated end', () => {
  const HOUR = 3_600_000;
  const NOW = T0 + 24 * HOUR;
  const threeWaves = () => rolloutOf(10, { waves: { canary: { count: 2 }, percents: [50, 100] } });
  /** The member submitted at `submittedAt` and, when `hours` is given, decided that much later as `state`. */
  const audited = (m: RolloutMember, submittedAt: number, decided?: { hours: number; state: 'approved' | 'released' | 'rejected' }) => {
    const auditing = memberTransition(
      settle(m, 'auditing'),
      { type: 'deployment', state: 'auditing', reason: null, submittedAt, decidedAt: null },
      submittedAt,
    );
    if (!decided) return auditing;
    const decidedAt = submittedAt + decided.hours * HOUR;
    return memberTransition(
      auditing,
      { type: 'deployment', state: decided.state, reason: decided.state === 'rejected' ? 'name mismatch' : null, submittedAt, decidedAt },
      decidedAt,
    );
  };
  const canaryOf = (members: RolloutMember[]) => {
    const [a, b, ...rest] = members;
    if (!a || !b) throw new Error('no canary');
    return { a, b, rest };
  };

  it('is absent while no audit has been decided', () => {
    const { rollout, members } = threeWaves();
    const { a, b, rest } = canaryOf(members);
    expect(estimatedEnd(rollout, members, NOW)).toBeNull();
    expect(estimatedEnd(rollout, [audited(a, T0), audited(b, T0 + HOUR), ...rest], NOW)).toBeNull();
  });

  it('is every wave still to run times the mean audit time observed, from now', () => {
    const { rollout, members } = threeWaves();
    const { a, b, rest } = canaryOf(members);
    // Audits of 2 h and 4 h: 3 h a wave. The canary is still under way, then two waves: 9 h from now.
    const canary = [audited(a, T0, { hours: 2, state: 'approved' }), audited(b, T0, { hours: 4, state: 'rejected' })];
    expect(estimatedEnd(rollout, [...canary, ...rest], NOW)).toBe(NOW + 9 * HOUR);
    // The fake clock moves on an hour: so does the estimate.
    expect(estimatedEnd(rollout, [...canary, ...rest], NOW + HOUR)).toBe(NOW + 10 * HOUR);
    // The canary settled (released, rejected): two waves left, 6 h.
    const released = memberTransition(canary[0] as RolloutMember, { type: 'deployment', state: 'released', reason: null }, NOW);
    const settledCanary = [released, canary[1] as RolloutMember, ...rest];
    expect(estimatedEnd(rollout, settledCanary, NOW)).toBe(NOW + 6 * HOUR);
    // Wave 1 under way, one of its audits a quick one (1 h): the mean is now 7 h / 3, for wave 1 and wave 2.
    const advanced = rolloutTransition(rollout, { type: 'advance', to: 1 }, { at: NOW, actor: system }).rollout;
    const [c, ...later] = rest;
    if (!c) throw new Error('no wave 1');
    const inWave1 = [released, canary[1] as RolloutMember, audited(c, NOW, { hours: 1, state: 'approved' }), ...later];
    expect(estimatedEnd(advanced, inWave1, NOW + HOUR)).toBe(NOW + HOUR + Math.round((2 * 7 * HOUR) / 3));
  });

  it('is absent once the rollout completed or is being aborted', () => {
    const { rollout, members } = threeWaves();
    const { a, b, rest } = canaryOf(members);
    const decided = [audited(a, T0, { hours: 2, state: 'approved' }), b, ...rest];
    expect(estimatedEnd(rollout, decided, NOW)).not.toBeNull();
    const aborting = rolloutTransition(
      rollout,
      { type: 'abort', options: { inReview: 'withdraw', released: 'leave' } },
      { at: NOW, actor: admin },
    );
    expect(estimatedEnd(aborting.rollout, decided, NOW)).toBeNull();
    const completed = { ...rollout, state: 'completed' as const };
    expect(estimatedEnd(completed, decided, NOW)).toBeNull();
  });
});

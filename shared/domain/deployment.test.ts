import fc from 'fast-check';
import type { Actor } from './common';
import {
  auditCommandOf,
  type CommandType,
  createDeployment,
  DEPLOYMENT_STATES,
  type Deployment,
  type DeploymentCommand,
  type DeploymentErrorCode,
  deploymentSchema,
  FIRST_POLL_DELAY_MS,
  type IgnoredBecause,
  InvalidTransitionError,
  isDue,
  isTerminal,
  MAX_POLL_DELAY_MS,
  NO_EFFECTS,
  nextPollDelay,
  OPEN_STATES,
  ownsAudit,
  pendingWork,
  phaseOf,
  pollLater,
  pollNow,
  RESUME_AFTER_MS,
  SUBMIT_CLOCK_SKEW_MS,
  TestersNotBindableError,
  transition,
  withTestersBound,
} from './deployment';
import { commandsToBuilt, exampleNewDeployment, RELEASED_WALK, walkOf } from './examples';

const T0 = 1_700_000_000_000;
const user: Actor = { kind: 'account', id: 'acc_demo' };
const wechat: Actor = { kind: 'wechat' };

const fresh = (): Deployment =>
  createDeployment(
    exampleNewDeployment({ userDesc: 'first version', extJson: '{"extAppid":"wx0123456789abcdef"}', testers: ['tester-wechat-id'] }),
    { at: T0, actor: user },
  );

let clock = T0;
const ctx = (actor: Actor = user) => ({ at: (clock += 1000), actor });

const run = (d: Deployment, commands: readonly DeploymentCommand[]): Deployment =>
  commands.reduce((current, command) => transition(current, command, ctx()).deployment, d);

// How to reach every phase from a fresh deployment.
const AUDIT = 100;
const toBuilt: DeploymentCommand[] = commandsToBuilt('ast_qr', ['tester-wechat-id']);
const toAuditing: DeploymentCommand[] = [...toBuilt, { type: 'submitAudit' }, { type: 'auditSubmitted', auditId: AUDIT }];
const toReleased: DeploymentCommand[] = [...toAuditing, { type: 'auditApproved' }, { type: 'startRelease' }, { type: 'released' }];

const PATHS = {
  configuring: [],
  'building:commit': toBuilt.slice(0, 1),
  'building:privacy': toBuilt.slice(0, 2),
  'building:domains': toBuilt.slice(0, 3),
  'building:qrcode': toBuilt.slice(0, 4),
  'building:testers': toBuilt.slice(0, 5),
  built: toBuilt,
  submitting: [...toBuilt, { type: 'submitAudit' }],
  auditing: toAuditing,
  'auditing:delayed': [...toAuditing, { type: 'auditDelayed', reason: 'needs more time' }],
  approved: [...toAuditing, { type: 'auditApproved' }],
  releasing: [...toAuditing, { type: 'auditApproved' }, { type: 'startRelease' }],
  released: toReleased,
  'rolled-back': [...toReleased, { type: 'rollback' }],
  rejected: [...toAuditing, { type: 'auditRejected', reason: 'incomplete profile', screenshots: ['m1'] }],
  withdrawn: [...toAuditing, { type: 'withdraw' }],
  cancelled: [...toBuilt, { type: 'cancel' }],
  failed: [...toBuilt.slice(0, 4), { type: 'fail', reason: 'WeChat busy', retryable: true, errcode: -1 }],
  'failed:final': [
    ...toAuditing,
    { type: 'auditApproved' },
    { type: 'startRelease' },
    { type: 'fail', reason: 'release refused', retryable: false, errcode: 85020 },
  ],
  voided: [...toAuditing, { type: 'void', reason: 'unbound' }],
} satisfies Record<string, DeploymentCommand[]>;
type Phase = keyof typeof PATHS;
const PHASES = Object.keys(PATHS) as Phase[];
const at = (phase: Phase) => run(fresh(), PATHS[phase]);

const SAMPLE: Record<CommandType, DeploymentCommand> = {
  startBuild: { type: 'startBuild' },
  buildCommitted: { type: 'buildCommitted' },
  privacyGuideSet: { type: 'privacyGuideSet' },
  domainsSet: { type: 'domainsSet' },
  qrStored: { type: 'qrStored', qrAssetId: 'ast_qr' },
  buildSucceeded: { type: 'buildSucceeded', boundTesters: [] },
  cancel: { type: 'cancel', reason: 'changed my mind' },
  submitAudit: { type: 'submitAudit' },
  auditSubmitted: { type: 'auditSubmitted', auditId: AUDIT },
  auditApproved: { type: 'auditApproved' },
  auditRejected: { type: 'auditRejected', reason: 'bad', screenshots: [] },
  auditDelayed: { type: 'auditDelayed', reason: 'slow' },
  withdraw: { type: 'withdraw' },
  startRelease: { type: 'startRelease' },
  released: { type: 'released' },
  releaseAlreadyDone: { type: 'releaseAlreadyDone' },
  rollback: { type: 'rollback' },
  fail: { type: 'fail', reason: 'boom', retryable: true },
  retry: { type: 'retry' },
  void: { type: 'void', reason: 'mini program unauthorized' },
};

/**
 * The whole machine, phase × command. `go`: where it goes; `noop`: why nothing happens; everything else is an
 * error, `errors` by phase or `otherwise`.
 */
interface Row {
  go?: Partial<Record<Phase, Phase>>;
  noop?: Partial<Record<Phase, IgnoredBecause>>;
  errors?: Partial<Record<Phase, DeploymentErrorCode>>;
  otherwise?: DeploymentErrorCode;
}
/** Every build step mapped to `value`: the steps act alike for most commands. */
const eachBuildStep = <V extends string>(value: V) =>
  ({
    'building:commit': value,
    'building:privacy': value,
    'building:domains': value,
    'building:qrcode': value,
    'building:testers': value,
  }) as const;
const CLOSED = {
  released: 'DEPLOYMENT_CLOSED',
  'rolled-back': 'DEPLOYMENT_CLOSED',
  cancelled: 'DEPLOYMENT_CLOSED',
  voided: 'DEPLOYMENT_CLOSED',
  'failed:final': 'DEPLOYMENT_CLOSED',
  failed: 'DEPLOYMENT_FAILED',
} as const;
const CLOSED_NOOP = {
  released: 'closed',
  'rolled-back': 'closed',
  cancelled: 'closed',
  voided: 'closed',
  'failed:final': 'closed',
} as const;
/** States an audit has already moved past (decided, or the deployment failed or closed). */
const AUDIT_DONE_STALE = {
  approved: 'stale',
  releasing: 'stale',
  rejected: 'stale',
  withdrawn: 'stale',
  failed: 'stale',
  ...CLOSED_NOOP,
} as const;
const LATER_STALE = {
  built: 'stale',
  submitting: 'stale',
  auditing: 'stale',
  'auditing:delayed': 'stale',
  ...AUDIT_DONE_STALE,
} as const;
const ALL_STALE = {
  configuring: 'stale',
  ...eachBuildStep('stale'),
  ...LATER_STALE,
} as const;

const MACHINE: Record<CommandType, Row> = {
  startBuild: {
    go: { configuring: 'building:commit' },
    noop: {
      ...eachBuildStep('repeat'),
      built: 'repeat',
    },
    errors: CLOSED,
    otherwise: 'DEPLOYMENT_INVALID_TRANSITION',
  },
  buildCommitted: {
    go: { 'building:commit': 'building:privacy' },
    noop: {
      'building:privacy': 'stale',
      'building:domains': 'stale',
      'building:qrcode': 'stale',
      'building:testers': 'stale',
      ...LATER_STALE,
    },
    errors: { configuring: 'DEPLOYMENT_NOT_BUILT' },
  },
  privacyGuideSet: {
    go: { 'building:privacy': 'building:domains' },
    noop: { 'building:domains': 'stale', 'building:qrcode': 'stale', 'building:testers': 'stale', ...LATER_STALE },
    errors: { configuring: 'DEPLOYMENT_NOT_BUILT', 'building:commit': 'DEPLOYMENT_INVALID_TRANSITION' },
  },
  domainsSet: {
    go: { 'building:domains': 'building:qrcode' },
    noop: { 'building:qrcode': 'stale', 'building:testers': 'stale', ...LATER_STALE },
    errors: {
      configuring: 'DEPLOYMENT_NOT_BUILT',
      'building:commit': 'DEPLOYMENT_INVALID_TRANSITION',
      'building:privacy': 'DEPLOYMENT_INVALID_TRANSITION',
    },
  },
  qrStored: {
    go: { 'building:qrcode': 'building:testers' },
    noop: { 'building:testers': 'stale', ...LATER_STALE },
    errors: {
      configuring: 'DEPLOYMENT_NOT_BUILT',
      'building:commit': 'DEPLOYMENT_INVALID_TRANSITION',
      'building:privacy': 'DEPLOYMENT_INVALID_TRANSITION',
      'building:domains': 'DEPLOYMENT_INVALID_TRANSITION',
    },
  },
  buildSucceeded: {
    go: { 'building:testers': 'built' },
    noop: LATER_STALE,
    errors: {
      configuring: 'DEPLOYMENT_NOT_BUILT',
      'building:commit': 'DEPLOYMENT_INVALID_TRANSITION',
      'building:privacy': 'DEPLOYMENT_INVALID_TRANSITION',
      'building:domains': 'DEPLOYMENT_INVALID_TRANSITION',
      'building:qrcode': 'DEPLOYMENT_INVALID_TRANSITION',
    },
  },
  cancel: {
    go: {
      configuring: 'cancelled',
      ...eachBuildStep('cancelled'),
      built: 'cancelled',
      approved: 'cancelled',
      rejected: 'cancelled',
      withdrawn: 'cancelled',
      failed: 'cancelled',
    },
    noop: { cancelled: 'repeat' },
    errors: {
      submitting: 'DEPLOYMENT_IN_REVIEW',
      auditing: 'DEPLOYMENT_IN_REVIEW',
      'auditing:delayed': 'DEPLOYMENT_IN_REVIEW',
      releasing: 'DEPLOYMENT_INVALID_TRANSITION',
    },
    otherwise: 'DEPLOYMENT_CLOSED',
  },
  submitAudit: {
    go: { built: 'submitting', rejected: 'submitting', withdrawn: 'submitting' },
    noop: { submitting: 'repeat', auditing: 'repeat', 'auditing:delayed': 'repeat' },
    errors: {
      ...CLOSED,
      configuring: 'DEPLOYMENT_NOT_BUILT',
      ...eachBuildStep('DEPLOYMENT_NOT_BUILT'),
    },
    otherwise: 'DEPLOYMENT_INVALID_TRANSITION',
  },
  auditSubmitted: {
    go: { submitting: 'auditing' },
    noop: { auditing: 'repeat', 'auditing:delayed': 'repeat', ...AUDIT_DONE_STALE },
    otherwise: 'DEPLOYMENT_INVALID_TRANSITION',
  },
  auditApproved: { go: { auditing: 'approved', 'auditing:delayed': 'approved' }, noop: { ...ALL_STALE, approved: 'repeat' } },
  auditRejected: { go: { auditing: 'rejected', 'auditing:delayed': 'rejected' }, noop: { ...ALL_STALE, rejected: 'repeat' } },
  auditDelayed: { go: { auditing: 'auditing:delayed' }, noop: { ...ALL_STALE, 'auditing:delayed': 'repeat' } },
  withdraw: {
    go: { auditing: 'withdrawn', 'auditing:delayed': 'withdrawn' },
    noop: { withdrawn: 'repeat' },
    errors: CLOSED,
    otherwise: 'DEPLOYMENT_NOT_IN_REVIEW',
  },
  startRelease: {
    go: { approved: 'releasing' },
    noop: { releasing: 'repeat', released: 'repeat' },
    errors: CLOSED,
    otherwise: 'DEPLOYMENT_NOT_APPROVED',
  },
  released: {
    go: { releasing: 'released' },
    noop: { ...CLOSED_NOOP, released: 'repeat', failed: 'stale' },
    errors: { approved: 'DEPLOYMENT_INVALID_TRANSITION' },
    otherwise: 'DEPLOYMENT_NOT_APPROVED',
  },
  releaseAlreadyDone: {
    go: { releasing: 'released' },
    noop: { ...CLOSED_NOOP, released: 'repeat', failed: 'stale' },
    errors: { approved: 'DEPLOYMENT_INVALID_TRANSITION' },
    otherwise: 'DEPLOYMENT_NOT_APPROVED',
  },
  rollback: { go: { released: 'rolled-back' }, noop: { 'rolled-back': 'repeat' }, otherwise: 'DEPLOYMENT_NOT_RELEASED' },
  fail: {
    go: {
      ...eachBuildStep('failed'),
      submitting: 'failed',
      releasing: 'failed',
    },
    // While WeChat reviews, nothing of ours can fail: a refused poll looks again later.
    noop: { ...ALL_STALE, failed: 'repeat', 'failed:final': 'repeat' },
  },
  retry: {
    go: { failed: 'building:qrcode' },
    noop: {
      ...eachBuildStep('repeat'),
      submitting: 'repeat',
      auditing: 'repeat',
      'auditing:delayed': 'repeat',
      releasing: 'repeat',
    },
    otherwise: 'DEPLOYMENT_NOT_RETRYABLE',
  },
  void: {
    go: {
      configuring: 'voided',
      ...eachBuildStep('voided'),
      built: 'voided',
      submitting: 'voided',
      auditing: 'voided',
      'auditing:delayed': 'voided',
      approved: 'voided',
      releasing: 'voided',
      rejected: 'voided',
      withdrawn: 'voided',
      failed: 'voided',
    },
    noop: { ...CLOSED_NOOP, voided: 'repeat' },
  },
};

/** The phase of a deployment in this test's vocabulary (failed splits by retryability). */
const phaseName = (d: Deployment): string => (d.state === 'failed' && !d.failure?.retryable ? 'failed:final' : phaseOf(d));

type Expected = { kind: 'go'; to: Phase } | { kind: 'noop'; why: IgnoredBecause } | { kind: 'error'; code: DeploymentErrorCode };
const expected = (row: Row, phase: Phase): Expected => {
  const to = row.go?.[phase];
  if (to) return { kind: 'go', to };
  const why = row.noop?.[phase];
  if (why) return { kind: 'noop', why };
  const code = row.errors?.[phase] ?? row.otherwise;
  if (!code) throw new Error(`the table says nothing about this cell`);
  return { kind: 'error', code };
};

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidTransitionError) return error.code;
    throw error;
  }
  return undefined;
};

describe('deployment state machine', () => {
  test('every path reaches the phase it is named after', () => {
    for (const phase of PHASES) expect(phaseName(at(phase))).toBe(phase);
  });

  describe.each(Object.keys(MACHINE) as CommandType[])('%s', (type) => {
    const row = MACHINE[type];
    test.each(PHASES)(`from %s`, (phase) => {
      const d = at(phase);
      const want = expected(row, phase);
      if (want.kind === 'error') {
        let thrown: unknown;
        try {
          transition(d, SAMPLE[type], ctx());
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(InvalidTransitionError);
        const error = thrown as InvalidTransitionError;
        expect({ code: error.code, category: error.category }).toEqual({ code: want.code, category: 'conflict' });
        expect(error.details).toMatchObject({ from: d.state, command: type });
        return;
      }
      const result = transition(d, SAMPLE[type], ctx());
      if (want.kind === 'noop') {
        expect(result).toEqual({ deployment: d, changed: false, effects: NO_EFFECTS, ignored: want.why });
        expect(result.deployment).toBe(d);
        return;
      }
      expect(result.changed).toBe(true);
      expect(phaseName(result.deployment)).toBe(want.to);
      expect(result.deployment.history).toHaveLength(d.history.length + 1);
      expect(result.deployment.history.at(-1)).toMatchObject({ from: d.state, to: result.deployment.state, command: type });
      expect(deploymentSchema.safeParse(result.deployment).success).toBe(true);
    });
  });

  describe('effects: what the writer that won must do at WeChat', () => {
    test.each([
      ['configuring', 'startBuild', 'commitCode', false],
      ['building:commit', 'buildCommitted', 'setPrivacyGuide', false],
      ['building:privacy', 'privacyGuideSet', 'setDomains', false],
      ['building:domains', 'domainsSet', 'fetchQrCode', false],
      ['building:qrcode', 'qrStored', 'bindTesters', false],
      ['building:testers', 'buildSucceeded', null, false],
      ['built', 'submitAudit', 'submitAudit', false],
      ['submitting', 'auditSubmitted', 'pollAudit', false],
      ['auditing', 'auditDelayed', 'pollAudit', false],
      ['approved', 'startRelease', 'release', false],
      ['releasing', 'released', null, false],
      ['failed', 'retry', 'fetchQrCode', false],
      ['auditing', 'void', null, true],
      ['submitting', 'void', null, true],
      ['built', 'void', null, false],
      ['approved', 'cancel', null, false],
    ] as const)('%s + %s → next %s, undo audit %s', (phase, type, next, undoAudit) => {
      expect(transition(at(phase), SAMPLE[type], ctx()).effects).toEqual({ next, undoAudit });
    });

    test('every change names the work its new state needs: the worker follows `next` without reading it again', () => {
      for (const phase of PHASES) {
        for (const command of Object.values(SAMPLE)) {
          let result: ReturnType<typeof transition>;
          try {
            result = transition(at(phase), command, ctx());
          } catch {
            continue;
          }
          if (result.changed)
            expect([phase, command.type, result.effects.next]).toEqual([phase, command.type, pendingWork(result.deployment)]);
        }
      }
    });

    test('cancelling a retryable failure around an audit undoes the audit', () => {
      const submitting = run(at('submitting'), [{ type: 'fail', reason: 'quota', retryable: true, errcode: 45009 }]);
      expect(transition(submitting, { type: 'cancel' }, ctx()).effects.undoAudit).toBe(true);
      // Stored by older code, which failed an audit on a refused poll: still closable, and its audit still undone.
      const auditing = at('auditing');
      const legacy: Deployment = {
        ...auditing,
        state: 'failed',
        nextPollAt: null,
        failure: { at: auditing.updatedAt, reason: 'quota', retryable: true, errcode: 45009, from: 'auditing', step: null },
      };
      expect(transition(legacy, { type: 'cancel' }, ctx()).effects.undoAudit).toBe(true);
      expect(transition(legacy, { type: 'retry' }, ctx()).deployment).toMatchObject({ state: 'auditing', audit: { auditId: AUDIT } });
    });
  });

  describe("WeChat's word on an audit", () => {
    test.each([
      [
        { status: 0, auditId: AUDIT },
        { type: 'auditApproved', auditId: AUDIT },
      ],
      [
        { status: 1, auditId: AUDIT, reason: 'blurry', screenshots: ['m1'] },
        { type: 'auditRejected', auditId: AUDIT, reason: 'blurry', screenshots: ['m1'] },
      ],
      [{ status: 1 }, { type: 'auditRejected', reason: 'rejected', screenshots: [] }],
      [{ status: 2, auditId: AUDIT }, null],
      [
        { status: 3, auditId: AUDIT },
        { type: 'withdraw', auditId: AUDIT },
      ],
      [
        { status: 4, reason: null },
        { type: 'auditDelayed', reason: 'delayed' },
      ],
    ] as const)('%j → %j', (verdict, command) => {
      expect(auditCommandOf(verdict)).toEqual(command);
    });
  });

  test('OPEN_STATES: every state but the closed ones and failed (open only while retryable)', () => {
    const open = ['configuring', 'building', 'built', 'submitting', 'auditing', 'approved', 'releasing', 'rejected', 'withdrawn'];
    expect(OPEN_STATES).toEqual(open);
    for (const state of DEPLOYMENT_STATES) {
      if (state !== 'failed') expect(isTerminal({ ...at('built'), state })).toBe(!open.includes(state));
    }
  });

  describe('the product flow', () => {
    test('happy path: each step is one history entry with its actor, errcode and audit id', () => {
      const d = run(at('approved'), [{ type: 'startRelease' }]);
      const done = transition(d, { type: 'releaseAlreadyDone' }, ctx({ kind: 'system' })).deployment;
      expect(done.state).toBe('released');
      expect(done.releasedAt).not.toBeNull();
      expect(done.nextPollAt).toBeNull();
      expect(walkOf(done.history)).toEqual(RELEASED_WALK);
      expect(done.history[1]).toMatchObject({ step: 'privacy', command: 'buildCommitted' });
      expect(done.history[7]).toMatchObject({ auditId: AUDIT });
      expect(done.history.at(-1)).toMatchObject({ errcode: 85052, actor: { kind: 'system' }, command: 'releaseAlreadyDone' });
      expect(done.qrAssetId).toBe('ast_qr');
      expect(done.boundTesters).toEqual(['tester-wechat-id']);
    });

    test('audit rejected with its reason, fixed and resubmitted; the old audit’s events are stale', () => {
      const rejected = transition(
        at('auditing'),
        { type: 'auditRejected', reason: '1:账号信息不符合规范:<br>', screenshots: ['media1', 'media2'] },
        ctx(wechat),
      ).deployment;
      expect(rejected).toMatchObject({ state: 'rejected', stateReason: '1:账号信息不符合规范:<br>', nextPollAt: null });
      expect(rejected.audit).toMatchObject({ auditId: AUDIT, reason: '1:账号信息不符合规范:<br>', screenshots: ['media1', 'media2'] });

      const resubmitted = run(rejected, [{ type: 'submitAudit' }, { type: 'auditSubmitted', auditId: 101 }]);
      expect(resubmitted).toMatchObject({ state: 'auditing', audit: { auditId: 101, reason: null, screenshots: [] } });

      const stale = transition(resubmitted, { type: 'auditApproved', auditId: AUDIT }, ctx({ kind: 'system' }));
      expect(stale).toMatchObject({ changed: false, ignored: 'stale' });

      const approved = transition(resubmitted, { type: 'auditApproved', auditId: 101 }, ctx({ kind: 'system' })).deployment;
      expect(approved.state).toBe('approved');
      expect(approved.history.filter((h) => h.auditId === AUDIT).map((h) => h.to)).toEqual(['auditing', 'rejected']);
    });

    test('release before approval is refused with DEPLOYMENT_NOT_APPROVED', () => {
      expect(codeOf(() => transition(at('auditing'), { type: 'startRelease' }, ctx()))).toBe('DEPLOYMENT_NOT_APPROVED');
      expect(codeOf(() => transition(at('built'), { type: 'startRelease' }, ctx()))).toBe('DEPLOYMENT_NOT_APPROVED');
    });

    test('unbind while auditing voids it and asks for the audit to be undone', () => {
      const result = transition(at('auditing'), { type: 'void', reason: 'the app was unbound from its mini program' }, ctx());
      expect(result).toMatchObject({ changed: true, effects: { undoAudit: true } });
      expect(result.deployment).toMatchObject({
        state: 'voided',
        stateReason: 'the app was unbound from its mini program',
        nextPollAt: null,
      });
      expect(transition(result.deployment, { type: 'auditApproved' }, ctx(wechat))).toMatchObject({ changed: false, ignored: 'closed' });
    });

    test('unauthorized mid-audit (even while delayed) voids it', () => {
      const voided = transition(at('auditing:delayed'), { type: 'void', reason: 'mini program unauthorized' }, ctx(wechat)).deployment;
      expect(voided.history.at(-1)).toMatchObject({
        from: 'auditing',
        to: 'voided',
        actor: { kind: 'wechat' },
        cause: 'mini program unauthorized',
      });
    });

    test('a delayed audit stays in review and keeps being polled, then is decided', () => {
      const delayed = at('auditing:delayed');
      expect(delayed).toMatchObject({ state: 'auditing', audit: { delayReason: 'needs more time' }, stateReason: 'needs more time' });
      expect(delayed.nextPollAt).not.toBeNull();
      expect(pendingWork(delayed)).toBe('pollAudit');
      expect(transition(delayed, { type: 'auditApproved' }, ctx(wechat)).deployment.state).toBe('approved');
    });

    test('a result that overtakes our record of the submit is applied when it names the new audit', () => {
      const submitting = at('submitting');
      expect(transition(submitting, { type: 'auditApproved' }, ctx(wechat))).toMatchObject({ changed: false, ignored: 'stale' });
      const approved = transition(submitting, { type: 'auditApproved', auditId: 555 }, ctx({ kind: 'system' })).deployment;
      expect(approved).toMatchObject({ state: 'approved', audit: { auditId: 555 } });
      expect(transition(approved, { type: 'auditSubmitted', auditId: 555 }, ctx())).toMatchObject({ changed: false, ignored: 'stale' });
    });

    test('a refused poll never takes an audit out of review: the audit goes on at WeChat', () => {
      for (const phase of ['auditing', 'auditing:delayed'] as const) {
        const d = at(phase);
        const result = transition(
          d,
          { type: 'fail', reason: 'daily API call quota reached (WeChat 45009)', retryable: true, errcode: 45009 },
          ctx(),
        );
        expect(result).toMatchObject({ changed: false, ignored: 'stale' });
        // …so its result, pushed later, still applies.
        expect(transition(d, { type: 'auditApproved' }, ctx(wechat)).deployment.state).toBe('approved');
      }
    });

    test('a WeChat audit id other than the recorded one is a mismatch', () => {
      expect(codeOf(() => transition(at('auditing'), { type: 'auditSubmitted', auditId: 999 }, ctx()))).toBe('DEPLOYMENT_AUDIT_MISMATCH');
    });

    test('two concurrent publishes: both may decide to release, the store lets one write, the other then no-ops', () => {
      const approved = at('approved');
      const a = transition(approved, { type: 'startRelease' }, ctx());
      const b = transition(approved, { type: 'startRelease' }, ctx());
      expect([a.effects.next, b.effects.next]).toEqual(['release', 'release']);
      // b loses the compare-and-set, re-reads a's document and decides again:
      expect(transition(a.deployment, { type: 'startRelease' }, ctx())).toMatchObject({
        changed: false,
        effects: NO_EFFECTS,
        ignored: 'repeat',
      });
    });

    test('a build that outlives its request is resumable from the step it reached', () => {
      const d = at('building:qrcode');
      expect(d.nextPollAt).toBe(d.updatedAt + RESUME_AFTER_MS);
      expect(pendingWork(d)).toBe('fetchQrCode');
      expect(isDue(d, d.updatedAt)).toBe(false);
      expect(isDue(d, d.updatedAt + RESUME_AFTER_MS)).toBe(true);
      // The worker that died reports late, after the poller finished the step: nothing happens.
      const resumed = run(d, [{ type: 'qrStored', qrAssetId: 'ast_qr2' }]);
      expect(transition(resumed, { type: 'qrStored', qrAssetId: 'ast_qr' }, ctx())).toMatchObject({ changed: false, ignored: 'stale' });
      expect(resumed.qrAssetId).toBe('ast_qr2');
    });

    test('a retryable failure records where it happened and retry goes back there', () => {
      const failed = at('failed');
      expect(failed.failure).toMatchObject({ from: 'building', step: 'qrcode', retryable: true, errcode: -1 });
      expect(failed.history.at(-1)).toMatchObject({ errcode: -1, cause: 'WeChat busy' });
      const retried = transition(failed, { type: 'retry' }, ctx()).deployment;
      expect(retried).toMatchObject({ state: 'building', buildStep: 'qrcode', failure: null });
    });

    test('cancel from building returns the app to configuring: the deployment is closed, the next build is a new one', () => {
      const cancelled = transition(at('building:commit'), { type: 'cancel' }, ctx()).deployment;
      expect(cancelled).toMatchObject({ state: 'cancelled', nextPollAt: null, buildStep: null });
      expect(codeOf(() => transition(cancelled, { type: 'startBuild' }, ctx()))).toBe('DEPLOYMENT_CLOSED');
    });
  });

  describe('whose audit is it (ownsAudit)', () => {
    test('closing a submission records the audit found at WeChat, so no later deployment takes it for its own', () => {
      const failed = run(at('submitting'), [{ type: 'fail', reason: 'quota', retryable: true, errcode: 45009 }]);
      const cancelled = transition(failed, { type: 'cancel', auditId: 777 }, ctx()).deployment;
      expect(cancelled.history.at(-1)).toMatchObject({ to: 'cancelled', auditId: 777 });
      const voided = transition(at('submitting'), { type: 'void', reason: 'unbound', auditId: 778 }, ctx()).deployment;
      expect(voided.history.at(-1)).toMatchObject({ to: 'voided', auditId: 778 });
      const next = at('submitting');
      expect(ownsAudit(next, { auditId: 777, status: 0, submittedAt: null }, new Set([777, 778]))).toBe(false);
    });

    const submitting = () => at('submitting');
    const startedAt = (d: Deployment) => d.history.at(-1)?.at ?? 0;
    const latest = (auditId: number, submittedAt: number | null, status: 0 | 1 | 2 | 3 | 4 = 0) => ({ auditId, status, submittedAt });

    test('a submitting deployment owns an audit WeChat received after it began submitting, decided or not', () => {
      const d = submitting();
      expect(ownsAudit(d, latest(500, startedAt(d) + 5_000, 0), new Set())).toBe(true);
      expect(ownsAudit(d, latest(500, startedAt(d) + 5_000, 2), new Set())).toBe(true);
      expect(ownsAudit(d, latest(500, null, 1), new Set())).toBe(true);
      // WeChat's clock and its whole seconds may be a little behind ours.
      expect(ownsAudit(d, latest(500, startedAt(d) - SUBMIT_CLOCK_SKEW_MS, 0), new Set())).toBe(true);
    });

    test('never an audit submitted before this submission began, or recorded by another deployment', () => {
      const d = submitting();
      expect(ownsAudit(d, latest(500, startedAt(d) - SUBMIT_CLOCK_SKEW_MS - 1_000, 2), new Set())).toBe(false);
      expect(ownsAudit(d, latest(500, startedAt(d) + 5_000, 2), new Set([500]))).toBe(false);
    });

    test('never an audit this deployment already went through (resubmitting after a rejection)', () => {
      const resubmitting = run(at('rejected'), [{ type: 'submitAudit' }]);
      expect(ownsAudit(resubmitting, latest(AUDIT, resubmitting.updatedAt + 1_000, 1), new Set())).toBe(false);
      expect(ownsAudit(resubmitting, latest(AUDIT + 1, resubmitting.updatedAt + 1_000, 2), new Set())).toBe(true);
    });

    test('a retry after a failed submit is the same submission: the audit its lost first attempt made is its own', () => {
      const first = submitting();
      const retried = run(first, [
        { type: 'fail', reason: 'daily API call quota reached', retryable: true, errcode: 45009 },
        { type: 'retry' },
      ]);
      expect(retried.state).toBe('submitting');
      expect(ownsAudit(retried, latest(500, startedAt(first) + 1_000, 2), new Set())).toBe(true);
    });

    test('under review: only the recorded audit; other states own none', () => {
      expect(ownsAudit(at('auditing'), latest(AUDIT, null, 2), new Set())).toBe(true);
      expect(ownsAudit(at('auditing'), latest(AUDIT + 1, null, 2), new Set())).toBe(false);
      expect(ownsAudit(at('approved'), latest(AUDIT, null, 0), new Set())).toBe(false);
      expect(ownsAudit(at('built'), latest(AUDIT + 1, null, 2), new Set())).toBe(false);
    });
  });

  describe('polling', () => {
    test('what waited for a re-authorization is due at once, without history; other deployments are left alone', () => {
      const auditing = at('auditing');
      const waiting = pollLater(pollLater(auditing, { at: auditing.updatedAt + 2 * 60_000 }), { at: auditing.updatedAt + 6 * 60_000 });
      const now = waiting.updatedAt + 60_000;
      expect(waiting.nextPollAt).toBeGreaterThan(now);
      const resumed = pollNow(waiting, now);
      expect(resumed).toMatchObject({ nextPollAt: now, pollAttempts: 0, history: waiting.history, state: 'auditing' });
      expect(isDue(resumed, now)).toBe(true);
      const built = at('built');
      expect(pollNow(built, now)).toBe(built);
    });

    test('the first poll after 2 minutes, doubling to at most 30 minutes', () => {
      expect([0, 1, 2, 3, 4, 5, 50].map((n) => nextPollDelay(n) / 60_000)).toEqual([2, 4, 8, 16, 30, 30, 30]);
    });

    test('jitter only shortens, by at most 20%', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
          const delay = nextPollDelay(attempt, () => r);
          const base = nextPollDelay(attempt);
          return delay <= base && delay >= base * 0.8 && delay >= FIRST_POLL_DELAY_MS * 0.8 && delay <= MAX_POLL_DELAY_MS;
        }),
      );
    });

    test('entering auditing schedules the first poll; a poll that changed nothing backs off without history', () => {
      const auditing = at('auditing');
      expect(auditing.nextPollAt).toBe(auditing.updatedAt + FIRST_POLL_DELAY_MS);
      const polled = pollLater(auditing, { at: auditing.updatedAt + FIRST_POLL_DELAY_MS });
      expect(polled).toMatchObject({ pollAttempts: 1, history: auditing.history });
      expect(polled.nextPollAt).toBe(auditing.updatedAt + FIRST_POLL_DELAY_MS + 4 * 60_000);
      expect(transition(polled, { type: 'auditApproved' }, ctx(wechat)).deployment).toMatchObject({ pollAttempts: 0, nextPollAt: null });
      const built = at('built');
      expect(pollLater(built, { at: T0 })).toBe(built);
    });
  });

  describe('testers WeChat refuses', () => {
    const refusal = (wechatId: string, errcode = 85002) => ({
      wechatId,
      errcode,
      reason: 'the mini program has reached its tester limit',
      at: T0,
    });

    test('do not fail the build: it is built, with the refused ones listed', () => {
      const built = run(fresh(), [
        ...toBuilt.slice(0, 5),
        { type: 'buildSucceeded', boundTesters: ['ann'], refusedTesters: [refusal('bob')] },
      ]);
      expect(built).toMatchObject({ state: 'built', failure: null, boundTesters: ['ann'], refusedTesters: [refusal('bob')] });
      expect(deploymentSchema.parse(built)).toEqual(built);
    });

    test('bound later: they leave the refused list, new ones join the testers, no history; refused again, the new reason shows', () => {
      const built = run(fresh(), [
        ...toBuilt.slice(0, 5),
        { type: 'buildSucceeded', boundTesters: ['ann'], refusedTesters: [refusal('bob'), refusal('cat')] },
      ]);
      const later = withTestersBound(built, { bound: ['bob', 'dan'], refused: [refusal('cat', 85003)] }, T0 + 1);
      expect(later).toMatchObject({
        state: 'built',
        boundTesters: ['ann', 'bob', 'dan'],
        refusedTesters: [refusal('cat', 85003)],
        history: built.history,
      });
      expect(later.testers).toEqual(expect.arrayContaining(['tester-wechat-id', 'bob', 'cat', 'dan']));
    });

    test('only while there is an experience version to test: built and not closed', () => {
      const none = { bound: [], refused: [] };
      expect(() => withTestersBound(at('building:testers'), none, T0)).toThrow(TestersNotBindableError);
      expect(() => withTestersBound(at('failed'), none, T0)).toThrow(expect.objectContaining({ code: 'DEPLOYMENT_NOT_BUILT' }));
      expect(() => withTestersBound(at('cancelled'), none, T0)).toThrow(expect.objectContaining({ code: 'DEPLOYMENT_CLOSED' }));
      expect(withTestersBound(at('auditing'), none, T0).state).toBe('auditing');
    });

    test('a deployment stored before refusals were recorded reads back with none', () => {
      const { refusedTesters: _none, ...older } = at('built');
      expect(deploymentSchema.parse(older).refusedTesters).toEqual([]);
    });
  });

  describe('properties', () => {
    const auditId = fc.constantFrom(100, 101, 102);
    const reason = fc.constantFrom('r1', 'r2');
    const command: fc.Arbitrary<DeploymentCommand> = fc.oneof(
      fc.constant({ type: 'startBuild' as const }),
      fc.constant({ type: 'buildCommitted' as const }),
      fc.constant({ type: 'privacyGuideSet' as const }),
      fc.constant({ type: 'domainsSet' as const }),
      fc.constantFrom('ast_a' as const, 'ast_b' as const).map((qrAssetId) => ({ type: 'qrStored' as const, qrAssetId })),
      fc.constant({ type: 'buildSucceeded' as const, boundTesters: ['t1'] }),
      fc.option(reason, { nil: undefined }).map((r) => ({ type: 'cancel' as const, ...(r ? { reason: r } : {}) })),
      fc.constant({ type: 'submitAudit' as const }),
      auditId.map((id) => ({ type: 'auditSubmitted' as const, auditId: id })),
      fc.option(auditId, { nil: undefined }).map((id) => ({ type: 'auditApproved' as const, ...(id ? { auditId: id } : {}) })),
      fc.tuple(reason, fc.option(auditId, { nil: undefined })).map(([r, id]) => ({
        type: 'auditRejected' as const,
        reason: r,
        screenshots: ['s'],
        ...(id ? { auditId: id } : {}),
      })),
      fc
        .tuple(reason, fc.option(auditId, { nil: undefined }))
        .map(([r, id]) => ({ type: 'auditDelayed' as const, reason: r, ...(id ? { auditId: id } : {}) })),
      fc.option(auditId, { nil: undefined }).map((id) => ({ type: 'withdraw' as const, ...(id ? { auditId: id } : {}) })),
      fc.constant({ type: 'startRelease' as const }),
      fc.constant({ type: 'released' as const }),
      fc.constant({ type: 'releaseAlreadyDone' as const }),
      fc.constant({ type: 'rollback' as const }),
      fc.tuple(reason, fc.boolean(), fc.option(fc.constantFrom(-1, 85020), { nil: undefined })).map(([r, retryable, errcode]) => ({
        type: 'fail' as const,
        reason: r,
        retryable,
        ...(errcode === undefined ? {} : { errcode }),
      })),
      fc.constant({ type: 'retry' as const }),
      reason.map((r) => ({ type: 'void' as const, reason: r })),
    );

    /** What "a valid state" means, beyond the schema. */
    const problems = (d: Deployment): string[] => {
      const out: string[] = [];
      const check = (ok: boolean, what: string) => ok || out.push(what);
      check(deploymentSchema.safeParse(d).success, 'matches the schema');
      check((d.state === 'building') === (d.buildStep !== null), 'buildStep only while building');
      check((d.state === 'failed') === (d.failure !== null), 'failure only while failed');
      check(['building', 'submitting', 'auditing', 'releasing'].includes(d.state) === (d.nextPollAt !== null), 'nextPollAt only in flight');
      check(['released', 'rolled-back'].includes(d.state) === (d.releasedAt !== null), 'releasedAt once released');
      const audited = ['auditing', 'approved', 'rejected', 'withdrawn', 'releasing', 'released', 'rolled-back'];
      check(!audited.includes(d.state) || d.audit !== null, 'an audit for every audited state');
      check(!['built', 'submitting', ...audited].includes(d.state) || d.qrAssetId !== null, 'a QR once built');
      check(
        d.history.every((h, i) => i === 0 || d.history[i - 1]?.to === h.from),
        'history is a chain',
      );
      check(
        (d.history.at(-1)?.to ?? 'configuring') === d.state && (d.history[0]?.from ?? 'configuring') === 'configuring',
        'history ends in the state',
      );
      check(d.updatedAt >= d.createdAt, 'time moves forward');
      return out;
    };

    test('random command sequences keep the deployment valid; history grows by one per change, never otherwise', () => {
      fc.assert(
        // Starting from every phase, so that short random sequences also explore the far end of the machine.
        fc.property(fc.constantFrom(...PHASES), fc.array(command, { maxLength: 40 }), (phase, commands) => {
          let d = at(phase);
          const start = d.history.length;
          let changes = 0;
          for (const [i, c] of commands.entries()) {
            const before = d;
            let result: ReturnType<typeof transition>;
            try {
              result = transition(d, c, { at: d.updatedAt + (i + 1) * 1000, actor: user });
            } catch (error) {
              if (!(error instanceof InvalidTransitionError)) throw error;
              continue;
            }
            if (result.changed) {
              changes += 1;
              expect(phaseName(result.deployment)).not.toBe(phaseName(before));
              expect(result.deployment.history).toHaveLength(before.history.length + 1);
            } else {
              expect(result.deployment).toBe(before);
            }
            d = result.deployment;
            expect(problems(d)).toEqual([]);
          }
          expect(d.history).toHaveLength(start + changes);
        }),
        { numRuns: 1000 },
      );
    });

    test('any command applied twice: the second is a no-op or the same error, never a second history entry', () => {
      fc.assert(
        fc.property(fc.constantFrom(...PHASES), command, (phase, c) => {
          const d = at(phase);
          const firstCode = codeOf(() => transition(d, c, ctx()));
          if (firstCode !== undefined) {
            expect(codeOf(() => transition(d, c, ctx()))).toBe(firstCode);
            return;
          }
          const once = transition(d, c, ctx()).deployment;
          const twice = transition(once, c, ctx());
          expect(twice.changed).toBe(false);
          expect(twice.deployment.history).toHaveLength(once.history.length);
        }),
        { numRuns: 1000 },
      );
    });
  });
});

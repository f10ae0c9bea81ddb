/**
 * Pushes as the backend receives them: a node:http receiver verifies signature and msg_signature and decrypts
 * with WeChatMessageCrypto (component token/key, trailer = component appid). Retries, timeouts and the push
 * faults (drop, duplicate, reorder) are observed at the receiver and in the push log.
 */
import {
  authorize,
  Clock,
  COMPONENT,
  componentToken,
  errcodeOf,
  MINUTE,
  PushReceiver,
  preAuthCode,
  seededRandom,
  startSim,
  wxPost,
} from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9a01';

let sim: WeChatSimulator;
let clock: Clock;
let receiver: PushReceiver;

const nowSeconds = (): number => Math.floor(clock.t / 1000);

beforeEach(async () => {
  clock = new Clock();
  receiver = await new PushReceiver().start();
  sim = await startSim({
    now: clock.now,
    componentEventUrl: `${receiver.url}/wechat/component/events`,
    messageUrlTemplate: `${receiver.url}/wechat/$APPID$/events?source=wechat`,
    pushRetryDelayMs: 10,
    pushTimeoutMs: 1000,
  });
  sim.addTemplate({ templateId: 1, userVersion: '1.0.0', userDesc: 'tpl' });
  sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd', userName: 'gh_97417a04a28d' });
});

afterEach(async () => {
  await sim.close();
  await receiver.close();
});

describe('authorization-event pushes', () => {
  it('pushes component_verify_ticket encrypted with the component key, envelope <AppId>, valid signatures', async () => {
    const ticket = await sim.pushVerifyTicket();
    expect(receiver.received).toHaveLength(1);
    const push = receiver.received[0]!;
    expect(push.path).toBe('/wechat/component/events');
    expect([...push.query.keys()].sort()).toEqual(['encrypt_type', 'msg_signature', 'nonce', 'signature', 'timestamp']);
    expect(push.query.get('timestamp')).toBe(String(nowSeconds()));
    const { envelope, message } = receiver.open(push, nowSeconds());
    expect(Object.keys(envelope)).toEqual(['AppId', 'Encrypt']);
    expect(envelope.AppId).toBe(COMPONENT.appId);
    expect(message).toEqual({
      AppId: COMPONENT.appId,
      CreateTime: String(nowSeconds()),
      InfoType: 'component_verify_ticket',
      ComponentVerifyTicket: ticket,
    });
    expect(sim.pushLog()).toMatchObject([{ label: 'component_verify_ticket', attempt: 1, outcome: 'success', httpStatus: 200 }]);
  });

  it('a tampered body fails msg_signature verification at the receiver', async () => {
    await sim.pushVerifyTicket();
    const push = receiver.received[0]!;
    const tampered = {
      ...push,
      body: push.body.replace(/<Encrypt><!\[CDATA\[(.)/, (_m, c: string) => `<Encrypt><![CDATA[${c === 'A' ? 'B' : 'A'}`),
    };
    expect(() => receiver.open(tampered, nowSeconds())).toThrow(/msg_signature/);
  });

  it('api_start_push_ticket pushes a ticket that api_component_token accepts', async () => {
    await wxPost(sim, '/cgi-bin/component/api_start_push_ticket', { component_appid: COMPONENT.appId, component_secret: COMPONENT.secret });
    await sim.pushesSettled();
    const { message } = receiver.open(receiver.received[0]!, nowSeconds());
    expect(message.InfoType).toBe('component_verify_ticket');
    expect(await componentToken(sim, String(message.ComponentVerifyTicket))).toMatch(/^91_/);
  });

  it('pushes authorized, then updateauthorized only when the permission sets change, then unauthorized', async () => {
    const cat = await componentToken(sim, await sim.pushVerifyTicket());
    receiver.received.length = 0;

    const code1 = await preAuthCode(sim, cat);
    const first = await sim.scanAuthorization({ preAuthCode: code1, appId: MP, funcScopeIds: [18, 40] });
    const code2 = await preAuthCode(sim, cat);
    await sim.scanAuthorization({ preAuthCode: code2, appId: MP, funcScopeIds: [40, 18] });
    const code3 = await preAuthCode(sim, cat);
    const third = await sim.scanAuthorization({ preAuthCode: code3, appId: MP, funcScopeIds: [18] });
    await sim.revokeAuthorization(MP);

    const messages = receiver.received.map((p) => receiver.open(p, nowSeconds()));
    expect(messages.map((m) => m.message.InfoType)).toEqual(['authorized', 'updateauthorized', 'unauthorized']);
    expect(messages[0]!.envelope.AppId).toBe(COMPONENT.appId);
    expect(messages[0]!.message).toEqual({
      AppId: COMPONENT.appId,
      CreateTime: String(nowSeconds()),
      InfoType: 'authorized',
      AuthorizerAppid: MP,
      AuthorizationCode: first.authCode,
      AuthorizationCodeExpiredTime: String(nowSeconds() + 600),
      PreAuthCode: code1,
    });
    expect(messages[1]!.message).toMatchObject({ AuthorizationCode: third.authCode, PreAuthCode: code3 });
    expect(messages[2]!.message).toEqual({
      AppId: COMPONENT.appId,
      CreateTime: String(nowSeconds()),
      InfoType: 'unauthorized',
      AuthorizerAppid: MP,
    });
  });
});

describe('audit-result pushes', () => {
  async function submitOne(aat: string): Promise<void> {
    expect(
      errcodeOf(
        await wxPost(sim, `/wxa/commit?access_token=${aat}`, { template_id: 1, ext_json: '{}', user_version: '1.0.0', user_desc: 'x' }),
      ),
    ).toBe(0);
    expect(errcodeOf(await wxPost(sim, `/wxa/submit_audit?access_token=${aat}`, {}))).toBe(0);
  }

  it('pushes weapp_audit_* to the message URL with $APPID$ substituted, envelope <ToUserName>, openid in the query', async () => {
    const { aat } = await authorize(sim, MP);
    receiver.received.length = 0;
    await submitOne(aat);
    await sim.decideAudit(MP, 'delay', { reason: '需要补充材料' });
    await sim.decideAudit(MP, 'reject', { reason: '1:名称不符<br>', screenshots: ['m1', 'm2'] });
    await submitOne(aat);
    await sim.decideAudit(MP, 'approve');

    expect(receiver.received.map((p) => p.path)).toEqual([`/wechat/${MP}/events`, `/wechat/${MP}/events`, `/wechat/${MP}/events`]);
    const opened = receiver.received.map((p) => receiver.open(p, nowSeconds()));
    for (const [i, { envelope, message }] of opened.entries()) {
      expect(Object.keys(envelope)).toEqual(['ToUserName', 'Encrypt']);
      expect(envelope.ToUserName).toBe('gh_97417a04a28d');
      expect(message).toMatchObject({ ToUserName: 'gh_97417a04a28d', MsgType: 'event', CreateTime: String(nowSeconds()) });
      expect(receiver.received[i]!.query.get('openid')).toBe(message.FromUserName);
      expect(receiver.received[i]!.query.get('source')).toBe('wechat');
    }
    expect(opened[0]!.message).toMatchObject({ Event: 'weapp_audit_delay', Reason: '需要补充材料', DelayTime: String(nowSeconds()) });
    expect(opened[1]!.message).toMatchObject({
      Event: 'weapp_audit_fail',
      Reason: '1:名称不符<br>',
      FailTime: String(nowSeconds()),
      ScreenShot: 'm1|m2',
    });
    expect(opened[2]!.message).toMatchObject({ Event: 'weapp_audit_success', SuccTime: String(nowSeconds()) });
  });

  it('pushes the automatic approval when it becomes due', async () => {
    sim.configure({ auditDecisionDelayMs: 30 * MINUTE });
    const { aat } = await authorize(sim, MP);
    receiver.received.length = 0;
    await submitOne(aat);
    clock.advance(30 * MINUTE);
    // Any request lets the simulator notice the due decision; so does its own timer.
    sim.miniProgram(MP);
    await sim.pushesSettled();
    expect(receiver.received.map((p) => receiver.open(p, nowSeconds()).message.Event)).toEqual(['weapp_audit_success']);
  });
});

describe('delivery, retries and push faults', () => {
  it('retries a push not answered with success: 3 attempts in total, each logged', async () => {
    receiver.respond = () => ({ body: 'fail' });
    await sim.pushVerifyTicket();
    expect(receiver.received).toHaveLength(3);
    const log = sim.pushLog();
    expect(log.map((e) => [e.attempt, e.outcome, e.responseBody])).toEqual([
      [1, 'bad-response', 'fail'],
      [2, 'bad-response', 'fail'],
      [3, 'bad-response', 'fail'],
    ]);
    expect(new Set(log.map((e) => e.pushId)).size).toBe(1);
    // The same message every time, freshly signed.
    const encrypts = receiver.received.map((p) => receiver.open(p, nowSeconds()).envelope.Encrypt);
    expect(new Set(encrypts).size).toBe(1);
  });

  it('stops retrying once answered success (or an empty 200), and treats 5xx as a failure', async () => {
    receiver.respond = (_push, index) => (index === 0 ? { status: 500, body: 'success' } : { body: '' });
    await sim.pushVerifyTicket();
    expect(sim.pushLog().map((e) => [e.attempt, e.outcome, e.httpStatus])).toEqual([
      [1, 'bad-response', 500],
      [2, 'success', 200],
    ]);
  });

  it('times out a receiver that does not answer and retries (3 attempts)', async () => {
    sim.configure({ pushTimeoutMs: 100 });
    receiver.respond = () => 'hang';
    await sim.pushVerifyTicket();
    expect(receiver.received).toHaveLength(3);
    expect(sim.pushLog().map((e) => e.outcome)).toEqual(['timeout', 'timeout', 'timeout']);
  });

  it('logs a failed connection as an error', async () => {
    sim.configure({ componentEventUrl: 'http://127.0.0.1:1/unreachable' });
    await sim.pushVerifyTicket();
    expect(sim.pushLog().map((e) => e.outcome)).toEqual(['error', 'error', 'error']);
  });

  it('drops pushes (dropPushRate); the ticket is still valid', async () => {
    sim.setFaults({ dropPushRate: 1 });
    const ticket = await sim.pushVerifyTicket();
    expect(receiver.received).toHaveLength(0);
    expect(sim.pushLog()).toMatchObject([{ label: 'component_verify_ticket', attempt: 0, outcome: 'dropped' }]);
    expect(await componentToken(sim, ticket)).toMatch(/^91_/);
  });

  it('duplicates pushes (duplicatePushRate): the same message arrives twice', async () => {
    sim.setFaults({ duplicatePushRate: 1 });
    await sim.pushVerifyTicket();
    expect(receiver.received).toHaveLength(2);
    const [a, b] = receiver.received.map((p) => receiver.open(p, nowSeconds()));
    expect(a!.message).toEqual(b!.message);
    expect(
      sim
        .pushLog()
        .map((e) => e.copy)
        .sort(),
    ).toEqual([1, 2]);
  });

  it('reorders queued pushes (reorderPushes)', async () => {
    await sim.close();
    sim = await startSim({
      now: clock.now,
      componentEventUrl: `${receiver.url}/c`,
      random: seededRandom(7),
      faults: { reorderPushes: true },
      pushReorderWindowMs: 20,
    });
    const tickets = await Promise.all(Array.from({ length: 8 }, () => sim.pushVerifyTicket()));
    const arrived = receiver.received.map((p) => String(receiver.open(p, nowSeconds()).message.ComponentVerifyTicket));
    expect([...arrived].sort()).toEqual([...tickets].sort());
    expect(arrived).not.toEqual(tickets);
  });

  it('serves the push log over HTTP', async () => {
    await sim.pushVerifyTicket();
    const res = await fetch(`${sim.baseUrl}/sim/pushes`);
    const log: unknown = await res.json();
    expect(log).toMatchObject([{ pushId: 1, label: 'component_verify_ticket', outcome: 'success' }]);
    await fetch(`${sim.baseUrl}/sim/pushes/clear`, { method: 'POST' });
    expect(sim.pushLog()).toEqual([]);
  });

  it('logs pushes as skipped when no URL is configured', async () => {
    await sim.close();
    sim = await startSim({ now: clock.now });
    await sim.pushVerifyTicket();
    expect(sim.pushLog()).toMatchObject([{ outcome: 'skipped', error: 'componentEventUrl is not configured' }]);
  });
});

describe('automatic ticket pushes (jest fake timers)', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('pushes a ticket every ticketIntervalMs until turned off', async () => {
    await sim.close();
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    sim = await startSim({ componentEventUrl: `${receiver.url}/c`, ticketIntervalMs: 10 * MINUTE });
    await jest.advanceTimersByTimeAsync(10 * MINUTE - 1);
    await sim.pushesSettled();
    expect(receiver.received).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    await sim.pushesSettled();
    expect(receiver.received).toHaveLength(1);
    // One interval at a time: jumping past a tick while its request is on the wire would fire the push timeout.
    for (let i = 0; i < 2; i++) {
      await jest.advanceTimersByTimeAsync(10 * MINUTE);
      await sim.pushesSettled();
    }
    expect(receiver.received).toHaveLength(3);
    const stamps = receiver.received.map((p) => Number(p.query.get('timestamp')));
    expect([stamps[1]! - stamps[0]!, stamps[2]! - stamps[1]!]).toEqual([600, 600]);
    expect(receiver.received.map((p) => receiver.open(p, Number(p.query.get('timestamp'))).message.InfoType)).toEqual(
      Array(3).fill('component_verify_ticket'),
    );

    sim.configure({ ticketIntervalMs: 0 });
    await jest.advanceTimersByTimeAsync(60 * MINUTE);
    await sim.pushesSettled();
    expect(receiver.received).toHaveLength(3);
  });
});

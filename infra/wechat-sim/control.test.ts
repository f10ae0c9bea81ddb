/**
 * Fault injection and counters, the `/sim/*` control API (validation included), configuration from the
 * environment, the demo seed, and the simulator run as its own process.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ConfigError, ValidationError } from '../../shared/domain/errors';
import { DEMO_MINI_PROGRAMS, seedDemoPlatform, simulatorOptionsFromEnv } from './index';
import { authorize, COMPONENT, componentToken, errcodeOf, startSim, str, wxGet, wxPost } from './test-support';
import type { WeChatSimulator } from './types';

const MP = 'wx8a6f3c2d1e0b9a01';

let sim: WeChatSimulator;
const started = new Set<WeChatSimulator>();

async function start(options: Parameters<typeof startSim>[0] = {}): Promise<WeChatSimulator> {
  const created = await startSim(options);
  started.add(created);
  return created;
}

afterEach(async () => {
  for (const s of started) await s.close();
  started.clear();
});

async function control(method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${sim.baseUrl}${route}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe('fault injection', () => {
  beforeEach(async () => {
    sim = await start();
    sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' });
  });

  it('answers -1 with a rid (systemErrorRate) and leaves /sim and the authorization pages alone', async () => {
    const ticket = await sim.pushVerifyTicket();
    sim.setFaults({ systemErrorRate: 1 });
    const answer = await wxPost(sim, '/cgi-bin/component/api_component_token', {
      component_appid: COMPONENT.appId,
      component_appsecret: COMPONENT.secret,
      component_verify_ticket: ticket,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.errcode).toBe(-1);
    expect(str(answer.body.errmsg)).toMatch(/^system error rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect((await control('GET', '/sim/faults')).body).toMatchObject({ systemErrorRate: 1 });
    const page = await fetch(`${sim.baseUrl}/cgi-bin/componentloginpage?component_appid=${COMPONENT.appId}&pre_auth_code=x`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    sim.setFaults({ systemErrorRate: 0 });
    expect(await componentToken(sim, ticket)).toMatch(/^91_/);
  });

  it('answers HTTP 502 with an HTML body (http5xxRate)', async () => {
    sim.setFaults({ http5xxRate: 1 });
    const res = await fetch(`${sim.baseUrl}/wxa/get_category?access_token=x`);
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('502 Bad Gateway');
  });

  it('never answers (hangRate), and close() still returns', async () => {
    sim.setFaults({ hangRate: 1 });
    await expect(fetch(`${sim.baseUrl}/wxa/queryquota?access_token=x`, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    sim.setFaults({ hangRate: 0 });
    expect(errcodeOf(await wxGet(sim, '/wxa/queryquota?access_token=x'))).toBe(40001);
    // Leave one request hanging for afterEach's close().
    sim.setFaults({ hangRate: 1 });
    void fetch(`${sim.baseUrl}/wxa/queryquota?access_token=x`).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('adds latency (latencyMs)', async () => {
    sim.setFaults({ latencyMs: 150 });
    const started = performance.now();
    await wxGet(sim, '/wxa/queryquota?access_token=x');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('applies rates as shares of calls with the injected dice', async () => {
    await sim.close();
    let i = 0;
    // Dice cycle 0.0, 0.1 … 0.9: a 0.3 rate hits 3 of every 10 rolls.
    sim = await start({ random: () => (i++ % 10) / 10, faults: { systemErrorRate: 0.3 } });
    const codes: number[] = [];
    // Each call rolls hang, 5xx and -1 dice: 3 rolls per call.
    for (let n = 0; n < 10; n++) codes.push(errcodeOf(await wxGet(sim, '/wxa/queryquota?access_token=x')));
    const minusOne = codes.filter((c) => c === -1).length;
    expect(minusOne).toBeGreaterThan(0);
    expect(minusOne).toBeLessThan(10);
    expect(codes.filter((c) => c === 40001).length).toBe(10 - minusOne);
  });

  it('counts calls per endpoint path, faulted ones included; counters reset', async () => {
    sim.setFaults({ systemErrorRate: 1 });
    await wxGet(sim, '/wxa/queryquota?access_token=x');
    await wxGet(sim, '/wxa/queryquota?access_token=y');
    await wxPost(sim, '/cgi-bin/component/api_component_token', {});
    expect(sim.counters()).toEqual({ '/wxa/queryquota': 2, '/cgi-bin/component/api_component_token': 1 });
    expect((await control('GET', '/sim/counters')).body).toEqual({ '/wxa/queryquota': 2, '/cgi-bin/component/api_component_token': 1 });
    await control('POST', '/sim/counters/reset');
    expect(sim.counters()).toEqual({});
  });

  it('takes faults from the options', async () => {
    await sim.close();
    sim = await start({ faults: { http5xxRate: 1 } });
    expect((await fetch(`${sim.baseUrl}/wxa/queryquota`)).status).toBe(502);
  });
});

describe('/sim control API', () => {
  beforeEach(async () => {
    sim = await start();
  });

  it('rejects bad control input with HTTP 400 naming the field', async () => {
    const faults = await control('POST', '/sim/faults', { systemErrorRate: 2 });
    expect(faults.status).toBe(400);
    expect(faults.body).toMatchObject({ code: 'SIM_INVALID_INPUT', field: 'systemErrorRate' });
    expect((await control('POST', '/sim/faults', { typo: 1 })).status).toBe(400);
    const mp = await control('POST', '/sim/mini-programs', { appId: MP, principalName: 'Acme' });
    expect(mp).toMatchObject({ status: 400, body: { field: 'nickName' } });
    const plugins = await control('POST', '/sim/mini-programs', {
      appId: MP,
      nickName: 'A',
      principalName: 'B',
      plugins: [{ appId: 'wx1', status: 9 }],
    });
    expect(plugins.body).toMatchObject({ field: 'plugins.0.status' });
    expect(await control('POST', '/sim/audit/decide', { appId: MP, decision: 'maybe' })).toMatchObject({
      status: 400,
      body: { field: 'decision' },
    });
    expect(await control('POST', '/sim/configure', { componentEventUrl: 'not a url' })).toMatchObject({
      status: 400,
      body: { field: 'componentEventUrl' },
    });
    expect(await control('POST', '/sim/tokens/expire', { which: 'some' })).toMatchObject({ status: 400, body: { field: 'which' } });
    expect(await control('POST', '/sim/faults', '{not json')).toMatchObject({ status: 400, body: { code: 'SIM_INVALID_JSON' } });
    expect((await control('GET', '/sim/nope')).status).toBe(404);
    expect((await control('GET', '/sim/faults/')).status).toBe(404);
    expect((await control('GET', '/sim/revoke')).status).toBe(405);
  });

  it('validates the programmatic control methods the same way', () => {
    expect(() => sim.setFaults({ dropPushRate: -1 })).toThrow(ValidationError);
    expect(() => sim.addTemplate({ templateId: -1, userVersion: '1', userDesc: 'x' })).toThrow(
      expect.objectContaining({ field: 'templateId' }),
    );
    expect(() => sim.miniProgram('wx-unknown')).not.toThrow();
    expect(sim.miniProgram('wx-unknown')).toBeUndefined();
  });

  it('refuses bad start options without leaving a socket open', async () => {
    await expect(startSim({ faults: { hangRate: 5 } })).rejects.toThrow(ValidationError);
    await expect(startSim({ component: { ...COMPONENT, encodingAESKey: 'short' } })).rejects.toThrow(/EncodingAESKey/);
  });

  it('maps control misuse to 404 / 409', async () => {
    expect(await control('POST', '/sim/revoke', { appId: MP })).toMatchObject({ status: 404, body: { code: 'MINI_PROGRAM_UNKNOWN' } });
    sim.addMiniProgram({ appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' });
    expect(await control('POST', '/sim/revoke', { appId: MP })).toMatchObject({ status: 409, body: { code: 'NOT_AUTHORIZED' } });
    expect(await control('POST', '/sim/audit/decide', { appId: MP, decision: 'approve' })).toMatchObject({
      status: 409,
      body: { code: 'NO_PENDING_AUDIT' },
    });
    expect((await control('GET', `/sim/mini-programs/${MP}x`)).status).toBe(404);
  });

  it('drives a whole flow over HTTP alone', async () => {
    expect((await control('POST', '/sim/templates', { templateId: 5, userVersion: '1.0.0', userDesc: 'tpl' })).status).toBe(200);
    expect((await control('POST', '/sim/mini-programs', { appId: MP, nickName: 'Acme Shop', principalName: 'Acme Ltd' })).status).toBe(200);
    const { ticket } = (await control('POST', '/sim/ticket')).body as { ticket: string };
    const cat = await componentToken(sim, ticket);
    const pre = await wxPost(sim, `/cgi-bin/component/api_create_preauthcode?component_access_token=${cat}`, {
      component_appid: COMPONENT.appId,
    });
    const scan = await control('POST', '/sim/scan', {
      preAuthCode: pre.body.pre_auth_code,
      appId: MP,
      funcScopeIds: [18],
      redirectUri: 'https://x.example/cb',
    });
    expect(scan).toMatchObject({
      status: 200,
      body: {
        authCode: expect.stringMatching(/^queryauthcode@@@/),
        redirectUrl: expect.stringMatching(/^https:\/\/x\.example\/cb\?auth_code=/),
      },
    });
    const authCode = (scan.body as { authCode: string }).authCode;
    const auth = await wxPost(sim, `/cgi-bin/component/api_query_auth?component_access_token=${cat}`, {
      component_appid: COMPONENT.appId,
      authorization_code: authCode,
    });
    const aat = str((auth.body.authorization_info as Record<string, unknown>).authorizer_access_token);

    await wxPost(sim, `/wxa/commit?access_token=${aat}`, { template_id: 5, ext_json: '{}', user_version: '1.0.0', user_desc: 'x' });
    const submitted = await wxPost(sim, `/wxa/submit_audit?access_token=${aat}`, {});
    expect((await control('POST', '/sim/audit/decide', { appId: MP, decision: 'reject', reason: 'no', screenshots: ['s1'] })).status).toBe(
      200,
    );
    expect((await wxPost(sim, `/wxa/get_auditstatus?access_token=${aat}`, { auditid: submitted.body.auditid })).body).toMatchObject({
      status: 1,
      reason: 'no',
      screenshot: 's1',
    });

    expect((await control('POST', '/sim/quota', { submitRest: 0 })).body).toMatchObject({ submitRest: 0, submitLimit: 20 });
    expect(errcodeOf(await wxPost(sim, `/wxa/submit_audit?access_token=${aat}`, {}))).toBe(85085);

    expect((await control('POST', '/sim/plugins/status', { appId: MP, pluginAppId: 'wx2b03c6e691cd7370', status: 2 })).status).toBe(200);
    expect((await control('GET', `/sim/mini-programs/${MP}`)).body).toMatchObject({
      appId: MP,
      plugins: [{ appId: 'wx2b03c6e691cd7370', status: 2 }],
      audits: [{ status: 1 }],
    });
    expect((await control('GET', '/sim/mini-programs')).body).toMatchObject([{ appId: MP }]);

    expect((await control('POST', '/sim/tokens/expire', { which: 'authorizer' })).status).toBe(200);
    expect(errcodeOf(await wxGet(sim, `/wxa/get_category?access_token=${aat}`))).toBe(42001);
    const refreshToken = str((auth.body.authorization_info as Record<string, unknown>).authorizer_refresh_token);
    expect((await control('POST', '/sim/refresh-tokens/invalidate', { appId: MP })).status).toBe(200);
    const refreshed = await wxPost(sim, `/cgi-bin/component/api_authorizer_token?component_access_token=${cat}`, {
      component_appid: COMPONENT.appId,
      authorizer_appid: MP,
      authorizer_refresh_token: refreshToken,
    });
    expect(errcodeOf(refreshed)).toBe(61023);

    expect((await control('POST', '/sim/configure', { auditDecisionDelayMs: null, privacyScanMs: 0, ticketIntervalMs: 0 })).status).toBe(
      200,
    );
    expect((await control('POST', '/sim/revoke', { appId: MP })).status).toBe(200);
    expect((await control('GET', `/sim/mini-programs/${MP}`)).body).toMatchObject({ authorization: 'revoked' });
    expect((await control('GET', '/sim')).body).toMatchObject({
      routes: expect.arrayContaining([expect.stringContaining('POST /sim/scan')]),
    });
  });
});

describe('environment, demo seed and the process', () => {
  it('reads SIM_* variables, faults included, and names a bad one', () => {
    const { options, seedDemo } = simulatorOptionsFromEnv({
      SIM_PORT: '8089',
      SIM_COMPONENT_APPID: 'wx1111111111111111',
      SIM_COMPONENT_SECRET: 's3cret',
      SIM_TOKEN: 'tok',
      SIM_ENCODING_AES_KEY: COMPONENT.encodingAESKey,
      SIM_COMPONENT_EVENT_URL: 'http://127.0.0.1:3000/wechat/component',
      SIM_MESSAGE_URL_TEMPLATE: 'http://127.0.0.1:3000/wechat/$APPID$/events',
      SIM_TICKET_INTERVAL_MS: '600000',
      SIM_AUDIT_DELAY_MS: '5000',
      SIM_FAULT_SYSTEM_ERROR_RATE: '0.1',
      SIM_FAULT_REORDER_PUSHES: 'true',
      SIM_SEED_DEMO: '1',
      UNRELATED: 'x',
    });
    expect(seedDemo).toBe(true);
    expect(options).toMatchObject({
      port: 8089,
      component: { appId: 'wx1111111111111111', secret: 's3cret', token: 'tok' },
      componentEventUrl: 'http://127.0.0.1:3000/wechat/component',
      messageUrlTemplate: 'http://127.0.0.1:3000/wechat/$APPID$/events',
      ticketIntervalMs: 600000,
      auditDecisionDelayMs: 5000,
      faults: { systemErrorRate: 0.1, reorderPushes: true },
    });
    expect(simulatorOptionsFromEnv({}).options).toMatchObject({ port: 0, auditDecisionDelayMs: null, ticketIntervalMs: 0, faults: {} });
    expect(() => simulatorOptionsFromEnv({ SIM_FAULT_HANG_RATE: '3' })).toThrow(ConfigError);
    expect(() => simulatorOptionsFromEnv({ SIM_ENCODING_AES_KEY: 'short' })).toThrow(/SIM_ENCODING_AES_KEY/);
  });

  it('seeds a demo platform idempotently', async () => {
    sim = await start();
    const demo = seedDemoPlatform(sim);
    seedDemoPlatform(sim);
    expect(sim.miniPrograms().map((m) => m.appId)).toEqual(DEMO_MINI_PROGRAMS.map((m) => m.appId));
    const subjects = new Set(sim.miniPrograms().map((m) => m.principalName));
    expect(subjects.size).toBe(2);
    const [, cam, live] = demo.miniPrograms;
    const camAuth = await authorize(sim, cam!.appId);
    const templates = await wxGet(sim, `/wxa/gettemplatelist?access_token=${camAuth.cat}`);
    expect(templates.body.template_list).toHaveLength(2);
    const ext = (provider: string) => JSON.stringify({ plugins: { video: { version: '1.0.0', provider } } });
    const commit = (aat: string, provider: string) =>
      wxPost(sim, `/wxa/commit?access_token=${aat}`, { template_id: 201, ext_json: ext(provider), user_version: '1', user_desc: 'x' });
    expect(errcodeOf(await commit(camAuth.aat, demo.plugins.iotVideo))).toBe(0);
    const liveAuth = await authorize(sim, live!.appId, undefined, camAuth.cat);
    expect(errcodeOf(await commit(liveAuth.aat, demo.plugins.livePlayer))).toBe(80082);
  });

  it('runs as a process from the environment, prints its URL and stops on SIGTERM', async () => {
    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    const child = spawn(tsx, [path.resolve(__dirname, 'main.ts')], {
      env: { ...process.env, SIM_PORT: '0', SIM_SEED_DEMO: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let output = '';
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      void exited.then(() => reject(new Error(`exited early: ${output}`)));
    });
    const list: unknown = await (await fetch(`${baseUrl}/sim/mini-programs`)).json();
    expect(list).toHaveLength(DEMO_MINI_PROGRAMS.length);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('SIGTERM: stopping WeChat simulator');
  });
});

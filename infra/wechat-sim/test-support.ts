/**
 * Helpers for the simulator's own tests (not a test file itself): a hand-driven clock, a push receiver that
 * verifies and decrypts like our backend must, and thin `fetch` wrappers for WeChat-shaped calls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { plainSignature, WeChatMessageCrypto } from '../../shared/wechat/crypto';
import { parseWeChatXml, type WeChatXmlFields } from '../../shared/wechat/xml';
import { startWeChatSimulator } from './index';
import type { SimulatorComponent, SimulatorOptions, WeChatSimulator } from './types';

export const COMPONENT: SimulatorComponent = {
  appId: 'wx134c8103faa5a59e',
  secret: '0c79e1fa963cd80cc0be99b20a18faeb',
  token: 'pamtest',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};

/** mulberry32: seeded dice for the simulator's `random`, so fault scenarios replay identically from their seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 2025-01-15 10:00 in China (02:00 UTC): far from any day or month boundary. */
export const T0 = Date.UTC(2025, 0, 15, 2, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export class Clock {
  t: number;
  constructor(start = T0) {
    this.t = start;
  }
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// WeChat-shaped calls

export interface WxAnswer {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
  raw: Buffer;
}

export async function wxCall(
  sim: WeChatSimulator,
  method: 'GET' | 'POST',
  path: string,
  init: { body?: unknown; rawBody?: string } = {},
): Promise<WxAnswer> {
  const payload = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const res = await fetch(`${sim.baseUrl}${path}`, { method, ...(payload === undefined ? {} : { body: payload }), redirect: 'manual' });
  const raw = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type') ?? '';
  let body: Record<string, unknown> = {};
  // get_qrcode's errors come as text/plain with a JSON body (see api-routes.ts).
  if (contentType.startsWith('application/json') || contentType.startsWith('text/plain')) {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  }
  return { status: res.status, contentType, body, raw };
}

export const wxPost = (sim: WeChatSimulator, path: string, body: unknown = {}): Promise<WxAnswer> => wxCall(sim, 'POST', path, { body });
export const wxGet = (sim: WeChatSimulator, path: string): Promise<WxAnswer> => wxCall(sim, 'GET', path);

/** The errcode of an answer, 0 when absent (token endpoints omit it on success). */
export const errcodeOf = (answer: WxAnswer): number => (typeof answer.body.errcode === 'number' ? answer.body.errcode : 0);

export const str = (value: unknown): string => {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
};

export async function componentToken(sim: WeChatSimulator, ticket: string): Promise<string> {
  const answer = await wxPost(sim, '/cgi-bin/component/api_component_token', {
    component_appid: COMPONENT.appId,
    component_appsecret: COMPONENT.secret,
    component_verify_ticket: ticket,
  });
  return str(answer.body.component_access_token);
}

export async function preAuthCode(sim: WeChatSimulator, cat: string): Promise<string> {
  const answer = await wxPost(sim, `/cgi-bin/component/api_create_preauthcode?component_access_token=${cat}`, {
    component_appid: COMPONENT.appId,
  });
  return str(answer.body.pre_auth_code);
}

export interface Authorized {
  cat: string;
  aat: string;
  refreshToken: string;
  authCode: string;
}

/** The whole authorization dance for one mini program: ticket → CAT → pre-auth code → scan → query_auth. */
export async function authorize(sim: WeChatSimulator, appId: string, funcScopeIds?: number[], cat?: string): Promise<Authorized> {
  const token = cat ?? (await componentToken(sim, await sim.pushVerifyTicket()));
  const code = await preAuthCode(sim, token);
  const { authCode } = await sim.scanAuthorization({ preAuthCode: code, appId, ...(funcScopeIds === undefined ? {} : { funcScopeIds }) });
  const answer = await wxPost(sim, `/cgi-bin/component/api_query_auth?component_access_token=${token}`, {
    component_appid: COMPONENT.appId,
    authorization_code: authCode,
  });
  const info = answer.body.authorization_info as Record<string, unknown>;
  return { cat: token, aat: str(info.authorizer_access_token), refreshToken: str(info.authorizer_refresh_token), authCode };
}

export async function startSim(options: Partial<SimulatorOptions> = {}): Promise<WeChatSimulator> {
  return startWeChatSimulator({ component: COMPONENT, ...options });
}

/**
 * The code-management suites' start: a simulator on a test clock of its own (unless `options.now` says otherwise)
 * with one template and the mini programs, the first one authorized. Tokens outlive the multi-day scenarios there;
 * their expiry is covered in tokens.test.ts.
 */
export async function startCodeSim(
  template: Parameters<WeChatSimulator['addTemplate']>[0],
  miniPrograms: [Parameters<WeChatSimulator['addMiniProgram']>[0], ...Parameters<WeChatSimulator['addMiniProgram']>[0][]],
  options: Partial<SimulatorOptions> = {},
): Promise<{ sim: WeChatSimulator; aat: string; clock: Clock }> {
  const clock = new Clock();
  const sim = await startSim({ now: clock.now, tokenTtlSeconds: 90 * 24 * 3600, ...options });
  sim.addTemplate(template);
  for (const miniProgram of miniPrograms) sim.addMiniProgram(miniProgram);
  const { aat } = await authorize(sim, miniPrograms[0].appId);
  return { sim, aat, clock };
}

// ---------------------------------------------------------------------------------------------------------------
// Push receiver

export interface ReceivedPush {
  path: string;
  query: URLSearchParams;
  body: string;
}

export type Responder = (push: ReceivedPush, index: number) => { status?: number; body: string } | 'hang';

export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  respond: Responder = () => ({ body: 'success' });
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver.invalid');
      const push = { path: url.pathname, query: url.searchParams, body: Buffer.concat(chunks).toString('utf8') };
      this.received.push(push);
      const answer = this.respond(push, this.received.length - 1);
      if (answer === 'hang') return;
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'text/plain' });
      res.end(answer.body);
    });
  });
  private readonly crypto = new WeChatMessageCrypto({
    token: COMPONENT.token,
    encodingAESKey: COMPONENT.encodingAESKey,
    appId: COMPONENT.appId,
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Verifies a push the way the backend must (msg_signature over token, timestamp, nonce, Encrypt; the 3-value
   * `signature`; appid trailer = component appid) and returns the envelope and the decrypted message fields.
   */
  open(push: ReceivedPush, nowSeconds: number): { envelope: WeChatXmlFields; message: WeChatXmlFields } {
    const timestamp = push.query.get('timestamp') ?? '';
    const nonce = push.query.get('nonce') ?? '';
    if (push.query.get('signature') !== plainSignature(COMPONENT.token, timestamp, nonce)) throw new Error('bad 3-value signature');
    if (push.query.get('encrypt_type') !== 'aes') throw new Error('encrypt_type is not aes');
    const opened = this.crypto.openEnvelope({
      body: push.body,
      msgSignature: push.query.get('msg_signature') ?? undefined,
      timestamp,
      nonce,
      nowSeconds,
    });
    return { envelope: parseWeChatXml(push.body), message: opened.fields };
  }
}

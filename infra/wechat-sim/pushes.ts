/**
 * Outgoing pushes, sealed and delivered the way WeChat does it (reference §1, §2, §5).
 *
 * Both callback URLs get the same treatment: the plaintext XML is encrypted with the COMPONENT token and key,
 * with the component appid as trailer; the envelope is `<xml><AppId|ToUserName/><Encrypt/></xml>`; the query
 * carries `signature`, `timestamp`, `nonce`, `encrypt_type=aes` and `msg_signature`. A push counts as delivered
 * when the receiver answers 2xx with the body `success` (or an empty body) within the timeout; otherwise it is
 * retried, 3 attempts in total. Every attempt is logged.
 *
 * Everything goes through one queue so that the fault settings can drop, duplicate or reorder pushes. Timers are
 * plain `setTimeout`s, so jest fake timers drive retries and timeouts too.
 */

import { randomInt } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { plainSignature, WeChatMessageCrypto } from '../../shared/wechat/crypto';
import { buildWeChatXml, type WeChatXmlInput } from '../../shared/wechat/xml';
import type { FaultConfig, PushLogEntry, PushOutcome, SimulatorComponent } from './types';

export const MAX_PUSH_ATTEMPTS = 3;
const MAX_LOG_ENTRIES = 5000;
const MAX_LOGGED_RESPONSE = 500;

export interface OutgoingPush {
  label: string;
  /** Final URL, `$APPID$` already substituted; the signature query is appended here. */
  url: string;
  /** Envelope fields beside `Encrypt`: `{AppId}` for authorization events, `{ToUserName}` for messages. */
  envelope: Record<string, string>;
  message: WeChatXmlInput;
  /** Sent as `openid` in the query for messages relayed on behalf of a mini program. */
  openId?: string;
}

export interface PushTiming {
  timeoutMs: number;
  retryDelayMs: number;
  reorderWindowMs: number;
}

export interface PushQueueOptions {
  component: SimulatorComponent;
  now: () => number;
  random: () => number;
  faults: () => FaultConfig;
  timing: () => PushTiming;
}

type AttemptResult =
  | { outcome: 'success' | 'bad-response'; httpStatus: number; responseBody: string }
  | { outcome: 'timeout' | 'error'; error: string };

interface Sleeper {
  timer: ReturnType<typeof setTimeout>;
  wake: () => void;
}

export class PushQueue {
  private readonly opts: PushQueueOptions;
  private readonly crypto: WeChatMessageCrypto;
  private readonly entries: PushLogEntry[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly sleepers = new Set<Sleeper>();
  private readonly requests = new Set<http.ClientRequest>();
  /** Deliveries held back while `reorderPushes` is on; released, shuffled, when the window closes. */
  private held: (() => Promise<PushOutcome>)[] = [];
  private heldRelease: (() => void) | undefined;
  private nextPushId = 1;
  private closed = false;

  constructor(opts: PushQueueOptions) {
    this.opts = opts;
    this.crypto = new WeChatMessageCrypto({
      token: opts.component.token,
      encodingAESKey: opts.component.encodingAESKey,
      appId: opts.component.appId,
    });
  }

  /** Queues one push; resolves with its final fate once every copy is delivered, dropped or out of attempts. */
  send(push: OutgoingPush): Promise<PushOutcome> {
    const task = this.dispatch(push);
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
    return task;
  }

  /** Records a push that could not be addressed (no URL configured), so the log still shows it happened. */
  skip(label: string, message: WeChatXmlInput, reason: string): void {
    const plaintext = buildWeChatXml(message);
    this.recordUnsent({ pushId: this.nextPushId++, label, url: '', outcome: 'skipped', error: reason, plaintext });
  }

  private async dispatch(push: OutgoingPush): Promise<PushOutcome> {
    const pushId = this.nextPushId++;
    const plaintext = buildWeChatXml(push.message);
    const faults = this.opts.faults();
    if (this.closed) return 'skipped';
    if (this.opts.random() < faults.dropPushRate) {
      this.recordUnsent({ pushId, label: push.label, url: push.url, outcome: 'dropped', plaintext });
      return 'dropped';
    }
    // Encrypted once: a retried or duplicated push carries the same Encrypt, as a re-sent WeChat push does.
    const encrypt = this.crypto.encrypt(plaintext);
    const copies = this.opts.random() < faults.duplicatePushRate ? 2 : 1;
    const deliveries: Promise<PushOutcome>[] = [];
    for (let copy = 1; copy <= copies; copy++) {
      const deliver = (): Promise<PushOutcome> => this.deliver(pushId, copy, push, plaintext, encrypt);
      deliveries.push(faults.reorderPushes ? this.hold(deliver) : deliver());
    }
    const outcomes = await Promise.all(deliveries);
    if (outcomes.includes('delivered')) return 'delivered';
    return outcomes.includes('failed') ? 'failed' : 'skipped';
  }

  /** Holds a delivery until the reorder window closes, then runs the held ones one by one in shuffled order. */
  private hold(deliver: () => Promise<PushOutcome>): Promise<PushOutcome> {
    return new Promise<PushOutcome>((resolve) => {
      this.held.push(async () => {
        const outcome = await deliver();
        resolve(outcome);
        return outcome;
      });
      if (this.heldRelease !== undefined) return;
      const timer = setTimeout(() => void this.releaseHeld(), this.opts.timing().reorderWindowMs);
      this.heldRelease = () => clearTimeout(timer);
    });
  }

  private async releaseHeld(): Promise<void> {
    this.heldRelease = undefined;
    const batch = this.held;
    this.held = [];
    for (let i = batch.length - 1; i > 0; i--) {
      const j = Math.floor(this.opts.random() * (i + 1));
      const a = batch[i];
      const b = batch[j];
      if (a !== undefined && b !== undefined) {
        batch[i] = b;
        batch[j] = a;
      }
    }
    // One after the other, so the receiver really sees the shuffled order.
    for (const run of batch) await run();
  }

  private async deliver(pushId: number, copy: number, push: OutgoingPush, plaintext: string, encrypt: string): Promise<PushOutcome> {
    const { component } = this.opts;
    const body = buildWeChatXml({ ...push.envelope, Encrypt: encrypt });
    for (let attempt = 1; attempt <= MAX_PUSH_ATTEMPTS; attempt++) {
      if (this.closed) return 'failed';
      const timestamp = String(Math.floor(this.opts.now() / 1000));
      const nonce = String(randomInt(100_000_000, 2_147_483_647));
      const query = new URLSearchParams({
        signature: plainSignature(component.token, timestamp, nonce),
        timestamp,
        nonce,
        ...(push.openId === undefined ? {} : { openid: push.openId }),
        encrypt_type: 'aes',
        msg_signature: this.crypto.msgSignature(timestamp, nonce, encrypt),
      });
      const url = `${push.url}${push.url.includes('?') ? '&' : '?'}${query.toString()}`;
      const startedAt = this.opts.now();
      const result = await this.post(url, body);
      const finishedAt = this.opts.now();
      this.record({ pushId, copy, label: push.label, attempt, url, startedAt, finishedAt, plaintext, ...result });
      if (result.outcome === 'success') return 'delivered';
      if (attempt < MAX_PUSH_ATTEMPTS) await this.sleep(this.opts.timing().retryDelayMs);
    }
    return 'failed';
  }

  private post(url: string, body: string): Promise<AttemptResult> {
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: AttemptResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.requests.delete(request);
        resolve(result);
      };
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ outcome: 'error', error: `invalid push URL ${url}` });
        return;
      }
      const transport = target.protocol === 'https:' ? https : http;
      // agent:false — one connection per attempt, so no keep-alive socket outlives the simulator or the receiver.
      const request = transport.request(target, {
        method: 'POST',
        agent: false,
        headers: {
          'Content-Type': 'text/xml; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'Mozilla/4.0 (wechat-sim)',
        },
      });
      const timer = setTimeout(() => {
        finish({ outcome: 'timeout', error: `no answer within ${this.opts.timing().timeoutMs} ms` });
        request.destroy();
      }, this.opts.timing().timeoutMs);
      this.requests.add(request);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => finish({ outcome: 'error', error: error.message }));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          const trimmed = text.trim();
          const ok = status >= 200 && status < 300 && (trimmed === 'success' || trimmed === '');
          const responseBody = text.slice(0, MAX_LOGGED_RESPONSE);
          finish({ outcome: ok ? 'success' : 'bad-response', httpStatus: status, responseBody });
        });
      });
      request.on('error', (error) => finish({ outcome: 'error', error: error.message }));
      request.end(body);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const sleeper: Sleeper = {
        timer: setTimeout(() => sleeper.wake(), ms),
        wake: () => {
          clearTimeout(sleeper.timer);
          this.sleepers.delete(sleeper);
          resolve();
        },
      };
      this.sleepers.add(sleeper);
    });
  }

  /** A push that never reached the wire: logged as attempt 0. */
  private recordUnsent(entry: Pick<PushLogEntry, 'pushId' | 'label' | 'url' | 'outcome' | 'plaintext' | 'error'>) {
    const at = this.opts.now();
    this.record({ copy: 1, attempt: 0, startedAt: at, finishedAt: at, ...entry });
  }

  private record(entry: PushLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > MAX_LOG_ENTRIES) this.entries.shift();
  }

  log(): PushLogEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  clearLog(): void {
    this.entries.length = 0;
  }

  /** Resolves when nothing is queued, held, in flight or waiting to retry (including pushes queued meanwhile). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Aborts everything: in-flight requests fail, retries and held pushes are abandoned as failed. */
  async close(): Promise<void> {
    this.closed = true;
    this.heldRelease?.();
    const held = this.held;
    this.held = [];
    for (const run of held) void run();
    for (const sleeper of [...this.sleepers]) sleeper.wake();
    for (const request of [...this.requests]) request.destroy(new Error('simulator closed'));
    await this.settled();
  }
}

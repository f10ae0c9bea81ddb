/**
 * Wires state, pushes, timers and the HTTP server into the `WeChatSimulator` interface of `types.ts`.
 *
 * Timers (ticket pushes, automatic audit decisions, retry pauses) are plain `setTimeout`/`setInterval`, so jest
 * fake timers drive them; with an injected `now` clock the state also settles lazily on every request, so a
 * test can move time by moving the clock alone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuditProfile, auditProfileSchema } from './audit-profiles';
import {
  type ControlTarget,
  configureSchema,
  decideSchema,
  faultsSchema,
  miniProgramSpecSchema,
  pluginStatusSchema,
  quotaSchema,
  registeredDomainsSchema,
  scanSchema,
  scriptedFaultSchema,
  templateSchema,
  tokenKindSchema,
} from './control-routes';
import { type GoLiveStatePatch, goLiveStateSchema, platformPenaltySchema } from './go-live';
import { grayPauseSchema } from './gray-release';
import { parseControl } from './http-util';
import { PushQueue, type PushTiming } from './pushes';
import { type RateLimitRule, rateLimitsSchema } from './rate-limits';
import { createRequestHandler } from './server';
import { DEFAULT_QUOTA, type PushRequest, SimState } from './state';
import type {
  AnswerHold,
  AuditDecision,
  ConfigureAdditions,
  FaultConfig,
  MiniProgramSnapshot,
  MiniProgramSpec,
  PushLogEntry,
  PushOutcome,
  QuotaSettings,
  QuotaSnapshot,
  ScanInput,
  ScriptedFault,
  SimulatorOptions,
  TemplateSpec,
  TokenKind,
} from './types';

export const NO_FAULTS: FaultConfig = {
  systemErrorRate: 0,
  http5xxRate: 0,
  latencyMs: 0,
  hangRate: 0,
  dropPushRate: 0,
  duplicatePushRate: 0,
  reorderPushes: false,
};

type Configurable = Pick<SimulatorOptions, 'componentEventUrl' | 'messageUrlTemplate' | 'ticketIntervalMs' | 'auditDecisionDelayMs'> &
  ConfigureAdditions;

export class Simulator implements ControlTarget {
  readonly baseUrl: string;
  private readonly server: http.Server;
  private readonly state: SimState;
  private readonly pushes: PushQueue;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly counts = new Map<string, number>();
  private faultConfig: FaultConfig;
  private scriptedFaults: { fault: ScriptedFault; left: number }[] = [];
  /** `holdNextAnswer`: per path, what the next call awaits before answering. */
  private readonly holds = new Map<string, () => Promise<void>>();
  private urls: { componentEventUrl?: string; messageUrlTemplate?: string };
  private ticketIntervalMs: number;
  private timing: PushTiming;
  private ticketTimer: ReturnType<typeof setInterval> | undefined;
  private dueTimer: { at: number; timer: ReturnType<typeof setTimeout> } | undefined;
  private readonly sleepTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly persistence: SimulatorOptions['persistence'];
  private saveScheduled = false;
  /** The save under way: saves run one at a time, and close() waits for it. */
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(options: SimulatorOptions, server: http.Server, baseUrl: string) {
    this.server = server;
    this.baseUrl = baseUrl;
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.faultConfig = { ...NO_FAULTS, ...parseControl(faultsSchema, options.faults ?? {}, 'faults') };
    this.urls = {
      ...(options.componentEventUrl === undefined ? {} : { componentEventUrl: options.componentEventUrl }),
      ...(options.messageUrlTemplate === undefined ? {} : { messageUrlTemplate: options.messageUrlTemplate }),
    };
    this.ticketIntervalMs = options.ticketIntervalMs ?? 0;
    this.timing = {
      timeoutMs: options.pushTimeoutMs ?? 5000,
      retryDelayMs: options.pushRetryDelayMs ?? 1000,
      reorderWindowMs: options.pushReorderWindowMs ?? 50,
    };
    this.state = new SimState({
      component: { ...options.component },
      now: this.now,
      tokenTtlSeconds: options.tokenTtlSeconds ?? 7200,
      privacyScanMs: options.privacyScanMs ?? 0,
      auditDecisionDelayMs: options.auditDecisionDelayMs ?? null,
      quota: { ...DEFAULT_QUOTA, ...parseControl(quotaSchema, options.quota ?? {}, 'quota') },
      registeredDomains: parseControl(registeredDomainsSchema, options.registeredDomains ?? {}, 'registered domains'),
    });
    this.persistence = options.persistence;
    const saved = this.persistence?.load();
    if (saved !== undefined) this.state.restore(saved);
    this.pushes = new PushQueue({
      component: options.component,
      now: this.now,
      random: this.random,
      faults: () => this.faultConfig,
      timing: () => this.timing,
    });
  }

  static async start(options: SimulatorOptions): Promise<Simulator> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    // Bound to every interface: advertise loopback, which always reaches it.
    const wildcard = address.address === '0.0.0.0' || address.address === '::';
    const host = wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    let sim: Simulator;
    try {
      sim = new Simulator(options, server, `http://${host}:${address.port}`);
    } catch (error) {
      // Bad options (faults, quota, EncodingAESKey): do not leave a listening socket behind.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    }
    // Every change of state comes from a request (the backend's calls, the control API, the authorization page) or
    // is settled at the next one; saving once the response is sent keeps what the caller saw.
    if (sim.persistence)
      server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.once('finish', () => sim.scheduleSave()));
    server.on(
      'request',
      createRequestHandler({
        state: sim.state,
        control: sim,
        faults: () => sim.faultConfig,
        random: sim.random,
        count: (path) => sim.counts.set(path, (sim.counts.get(path) ?? 0) + 1),
        settle: () => sim.settle(),
        emit: (push) => void sim.emit(push),
        sleep: (ms) => sim.sleep(ms),
        scripted: (path, appId) => sim.takeScripted(path, appId),
        held: (path) => sim.takeHold(path),
      }),
    );
    sim.restartTicketTimer();
    return sim;
  }

  // ---- persistence ----------------------------------------------------------------------------------------

  /**
   * One save per burst of requests, after the save under way. Asynchronous: a flush that blocked the event loop
   * would hold back everything else, a Ctrl-C included (tsx kills a child that does not answer a signal in 30 ms).
   */
  private scheduleSave(): void {
    if (this.saveScheduled || this.closed) return;
    this.saveScheduled = true;
    this.saving = this.saving.then(async () => {
      this.saveScheduled = false;
      if (!this.closed) await this.save();
    });
  }

  private async save(): Promise<void> {
    try {
      await this.persistence?.save({ port: Number(new URL(this.baseUrl).port), state: this.state.snapshot() });
    } catch (error) {
      // The simulator keeps running on what it has in memory; the next save tries again.
      process.emitWarning(`the WeChat simulator could not save its state: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // ---- pushes and timers ----------------------------------------------------------------------------------

  private emit(push: PushRequest): Promise<PushOutcome> {
    if (push.channel === 'component') {
      const url = this.urls.componentEventUrl;
      if (url === undefined) return this.skipped(push, 'componentEventUrl is not configured');
      const envelope = { AppId: this.state.component.appId };
      return this.pushes.send({ label: push.label, url, envelope, message: push.message });
    }
    const template = this.urls.messageUrlTemplate;
    if (template === undefined) return this.skipped(push, 'messageUrlTemplate is not configured');
    return this.pushes.send({
      label: push.label,
      url: template.replaceAll('$APPID$', push.appId),
      envelope: { ToUserName: push.userName },
      message: push.message,
      openId: push.openId,
    });
  }

  private skipped(push: PushRequest, reason: string): Promise<PushOutcome> {
    this.pushes.skip(push.label, push.message, reason);
    return Promise.resolve('skipped');
  }

  /** Applies due automatic decisions, queues their pushes, and re-arms the timer for the next one. */
  private settle(): void {
    if (this.closed) return;
    for (const push of this.state.settleDue()) void this.emit(push);
    this.armDueTimer();
  }

  private armDueTimer(): void {
    const at = this.state.nextDueAt();
    if (this.dueTimer !== undefined && this.dueTimer.at === at) return;
    if (this.dueTimer !== undefined) clearTimeout(this.dueTimer.timer);
    this.dueTimer = undefined;
    if (at === undefined || this.closed) return;
    const timer = setTimeout(
      () => {
        this.dueTimer = undefined;
        this.settle();
      },
      Math.max(0, at - this.now()),
    );
    this.dueTimer = { at, timer };
  }

  private restartTicketTimer(): void {
    if (this.ticketTimer !== undefined) clearInterval(this.ticketTimer);
    this.ticketTimer = undefined;
    if (this.ticketIntervalMs > 0 && !this.closed) {
      this.ticketTimer = setInterval(() => {
        // A ticket push that fails is already in the push log; the next tick simply tries again.
        this.pushVerifyTicket().catch(() => undefined);
      }, this.ticketIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.sleepTimers.delete(timer);
        resolve();
      }, ms);
      this.sleepTimers.add(timer);
    });
  }

  // ---- WeChatSimulator ------------------------------------------------------------------------------------

  counters(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  resetCounters(): void {
    this.counts.clear();
  }

  setFaults(faults: Partial<FaultConfig>): void {
    this.faultConfig = { ...this.faultConfig, ...parseControl(faultsSchema, faults, 'faults') };
  }

  faults(): FaultConfig {
    return { ...this.faultConfig };
  }

  scriptFault(fault: ScriptedFault): void {
    const parsed = parseControl(scriptedFaultSchema, fault, 'scripted fault');
    this.scriptedFaults.push({ fault: parsed, left: parsed.times ?? 1 });
  }

  clearScriptedFaults(): void {
    this.scriptedFaults = [];
  }

  holdNextAnswer(path: string): AnswerHold {
    let arrive = (): void => undefined;
    let release = (): void => undefined;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(path, () => {
      arrive();
      return released;
    });
    return { arrived, release };
  }

  private takeHold(path: string): (() => Promise<void>) | undefined {
    const hold = this.holds.get(path);
    this.holds.delete(path);
    return hold;
  }

  /** The oldest scripted fault matching the call, one use of it taken. */
  private takeScripted(path: string, appId: string | undefined): { errcode: number } | { loseAnswer: true } | undefined {
    const entry = this.scriptedFaults.find((e) => e.fault.path === path && (e.fault.appId === undefined || e.fault.appId === appId));
    if (entry === undefined) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.scriptedFaults = this.scriptedFaults.filter((e) => e !== entry);
    return 'errcode' in entry.fault ? { errcode: entry.fault.errcode } : { loseAnswer: true };
  }

  configure(patch: Partial<Configurable>): void {
    const p = parseControl(configureSchema, patch, 'configuration');
    if (p.componentEventUrl !== undefined) this.urls.componentEventUrl = p.componentEventUrl;
    if (p.messageUrlTemplate !== undefined) this.urls.messageUrlTemplate = p.messageUrlTemplate;
    if (p.pushTimeoutMs !== undefined) this.timing = { ...this.timing, timeoutMs: p.pushTimeoutMs };
    if (p.pushRetryDelayMs !== undefined) this.timing = { ...this.timing, retryDelayMs: p.pushRetryDelayMs };
    this.state.setTiming({
      ...(p.privacyScanMs === undefined ? {} : { privacyScanMs: p.privacyScanMs }),
      ...(p.auditDecisionDelayMs === undefined ? {} : { auditDecisionDelayMs: p.auditDecisionDelayMs }),
    });
    if (p.registeredDomains !== undefined) this.state.setRegisteredDomains(p.registeredDomains);
    if (p.ticketIntervalMs !== undefined) {
      this.ticketIntervalMs = p.ticketIntervalMs;
      this.restartTicketTimer();
    }
  }

  addMiniProgram(spec: MiniProgramSpec): void {
    this.state.addMiniProgram(parseControl(miniProgramSpecSchema, spec, 'mini program'));
  }

  addTemplate(t: TemplateSpec): void {
    this.state.addTemplate(parseControl(templateSchema, t, 'template'));
  }

  async pushVerifyTicket(): Promise<string> {
    this.settle();
    const { ticket, push } = this.state.issueTicket();
    await this.emit(push);
    return ticket;
  }

  async scanAuthorization(input: ScanInput): Promise<{ authCode: string; redirectUrl: string }> {
    this.settle();
    const result = this.state.scan(parseControl(scanSchema, input, 'scan'), `${this.baseUrl}/sim/authorized`);
    if (result.push !== undefined) await this.emit(result.push);
    return { authCode: result.authCode, redirectUrl: result.redirectUrl };
  }

  scanAndRedirect(input: ScanInput): string {
    this.settle();
    const result = this.state.scan(parseControl(scanSchema, input, 'scan'), `${this.baseUrl}/sim/authorized`);
    if (result.push !== undefined) void this.emit(result.push);
    return result.redirectUrl;
  }

  async revokeAuthorization(appId: string): Promise<void> {
    this.settle();
    await this.emit(this.state.revoke(appId));
  }

  async decideAudit(appId: string, decision: AuditDecision, opts: { reason?: string; screenshots?: string[] } = {}): Promise<void> {
    const input = parseControl(decideSchema, { appId, decision, ...opts }, 'decision');
    this.settle();
    const push = this.state.decideAudit(input.appId, input.decision, {
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      ...(input.screenshots === undefined ? {} : { screenshots: input.screenshots }),
    });
    this.armDueTimer();
    await this.emit(push);
  }

  expireTokens(which: TokenKind): void {
    this.state.expireTokens(parseControl(tokenKindSchema, which, 'token kind'));
  }

  invalidateRefreshToken(appId: string): void {
    this.state.invalidateRefreshToken(appId);
  }

  setQuota(q: Partial<QuotaSettings>): void {
    this.state.setQuota(parseControl(quotaSchema, q, 'quota'));
  }

  quota(): QuotaSnapshot {
    return this.state.quota();
  }

  setGoLive(appId: string, patch: GoLiveStatePatch): void {
    this.state.setGoLive(appId, parseControl(goLiveStateSchema, patch, 'go-live state'));
  }

  setRateLimits(rules: RateLimitRule[]): void {
    this.state.setRateLimits(parseControl(rateLimitsSchema, { rules }, 'rate limits').rules);
  }

  rateLimits(): RateLimitRule[] {
    return this.state.rateLimits();
  }

  setAuditProfile(profile: AuditProfile): void {
    this.state.setAuditProfile(parseControl(auditProfileSchema, profile, 'audit profile'));
  }

  clearAuditProfiles(): void {
    this.state.clearAuditProfiles();
  }

  auditProfiles(): AuditProfile[] {
    return this.state.auditProfileList();
  }

  setGrayReleasePaused(appId: string, paused: boolean): void {
    const input = parseControl(grayPauseSchema, { appId, paused }, 'phased release');
    this.settle();
    this.state.setGrayReleasePaused(input.appId, input.paused);
  }

  clockMoved(): void {
    this.settle();
  }

  setPlatformPenalty(errcode: 86008 | 86009 | 86010 | null): void {
    this.state.setPlatformPenalty(parseControl(platformPenaltySchema, { errcode }, 'platform penalty').errcode);
  }

  setPluginStatus(appId: string, pluginAppId: string, status: 1 | 2 | 3 | 4): void {
    const input = parseControl(pluginStatusSchema, { appId, pluginAppId, status }, 'plugin status');
    this.state.setPluginStatus(input.appId, input.pluginAppId, input.status);
  }

  miniProgram(appId: string): MiniProgramSnapshot | undefined {
    this.settle();
    return this.state.miniProgramSnapshot(appId);
  }

  miniPrograms(): MiniProgramSnapshot[] {
    this.settle();
    return this.state.miniProgramIds().flatMap((id) => {
      const snapshot = this.state.miniProgramSnapshot(id);
      return snapshot === undefined ? [] : [snapshot];
    });
  }

  pushLog(): PushLogEntry[] {
    return this.pushes.log();
  }

  clearPushLog(): void {
    this.pushes.clearLog();
  }

  pushesSettled(): Promise<void> {
    return this.pushes.settled();
  }

  authorizationPageUrl(input: { preAuthCode: string; redirectUri: string; authType?: number; bizAppId?: string }): string {
    const query = new URLSearchParams({
      component_appid: this.state.component.appId,
      pre_auth_code: input.preAuthCode,
      redirect_uri: input.redirectUri,
      auth_type: String(input.authType ?? 3),
      ...(input.bizAppId === undefined ? {} : { biz_appid: input.bizAppId }),
    });
    return `${this.baseUrl}/cgi-bin/componentloginpage?${query.toString()}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ticketTimer !== undefined) clearInterval(this.ticketTimer);
    if (this.dueTimer !== undefined) clearTimeout(this.dueTimer.timer);
    for (const timer of this.sleepTimers) clearTimeout(timer);
    this.sleepTimers.clear();
    await this.pushes.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Hung requests (hangRate) and idle keep-alive sockets would otherwise hold close() forever.
      this.server.closeAllConnections();
    });
    // Last, with everything settled: in-process control calls (scans, decisions) are kept too.
    await this.saving;
    await this.save();
  }
}

export function startWeChatSimulator(options: SimulatorOptions): Promise<Simulator> {
  return Simulator.start(options);
}

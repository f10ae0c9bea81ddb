/**
 * The public shapes of the WeChat simulator. The first block is the programmatic contract (other
 * code is written against it: keep it exactly as specified); everything after "Additions" extends it without
 * changing what the contract promises.
 */
import type { AuditProfile } from './audit-profiles';
import type { GoLiveStatePatch } from './go-live';
import type { RateLimitRule } from './rate-limits';

export interface SimulatorComponent {
  appId: string;
  secret: string;
  token: string;
  encodingAESKey: string;
}

export interface FaultConfig {
  systemErrorRate: number; // share of API calls answered {errcode:-1}
  http5xxRate: number; // share of API calls answered HTTP 502 with an HTML body
  latencyMs: number; // added to every API call
  hangRate: number; // share of API calls that never answer (client timeout)
  dropPushRate: number; // share of pushes never sent
  duplicatePushRate: number; // share of pushes sent twice
  reorderPushes: boolean; // deliver queued pushes in shuffled order
}

export interface SimulatorOptions {
  port?: number; // default 0 = ephemeral
  host?: string; // default '127.0.0.1'
  component: SimulatorComponent;
  componentEventUrl?: string; // authorization-event receive URL (tickets, authorized/updateauthorized/unauthorized)
  messageUrlTemplate?: string; // message & event receive URL containing $APPID$ (audit results)
  ticketIntervalMs?: number; // automatic component_verify_ticket pushes; 0/undefined = off
  auditDecisionDelayMs?: number | null; // auto-approve after this delay; null/undefined = only by control call
  tokenTtlSeconds?: number; // default 7200
  faults?: Partial<FaultConfig>;
  now?: () => number; // ms clock, default Date.now (jest fake timers work)

  // ---- Additions ----------------------------------------------------------------------------------------
  /** How long the post-commit privacy scan runs (submit_audit / get_code_privacy_info → 61039 meanwhile). Default 0. */
  privacyScanMs?: number;
  /** A push attempt not answered within this time counts as failed. Default 5000 (WeChat's 5 s). */
  pushTimeoutMs?: number;
  /** Pause between two attempts of the same push. Default 1000. */
  pushRetryDelayMs?: number;
  /** How long pushes are held and shuffled while `reorderPushes` is on. Default 50. */
  pushReorderWindowMs?: number;
  /** Dice for fault injection and shuffles, in [0, 1). Default Math.random; inject one for reproducible runs. */
  random?: () => number;
  /** Initial quotas (see `setQuota`). */
  quota?: Partial<QuotaSettings>;
  /** Keeps the simulated WeChat across restarts (persistence.ts: a file); without it the state lives in memory. */
  persistence?: SimulatorPersistence;
  /** The platform's registered mini program domains (see `RegisteredDomains`); default: none restricted. */
  registeredDomains?: RegisteredDomains;
}

/** Where a simulator keeps its state; the simulator knows nothing of files or formats. */
export interface SimulatorPersistence {
  /** The state saved last, restored before the first request; undefined: start afresh. */
  load(): Record<string, unknown> | undefined;
  /** After requests that may have changed the state (coalesced), and at close; `port` is where to come back. */
  save(saved: { port: number; state: Record<string, unknown> }): Promise<void>;
}

export interface MiniProgramSpec {
  appId: string;
  nickName: string;
  principalName: string;
  userName?: string /* gh_… */;
  plugins?: { appId: string; status?: 1 | 2 | 3 | 4 }[]; // plugin list as /wxa/plugin list returns it
  categories?: { first_class: string; second_class: string; first_id: number; second_id: number }[];
  /** Geolocation APIs (`getLocation`, …) WeChat has not granted it (without_auth_list, 61040 on submit); default none. */
  ungrantedPrivacyApis?: string[];
  profileComplete?: boolean /* false → 86002 on submit */;
  /** Exclusive permission sets another third-party platform holds (e.g. [18]): a scan here cannot grant them. */
  heldByOtherPlatform?: number[];
  /**
   * A version of a library template already online when the mini program is registered (released by its owner, or
   * through an earlier platform): a phased release needs one (85079). Taken only at the first registration.
   */
  released?: { templateId: number; userVersion: string; userDesc?: string };
}

export type AuditDecision = 'approve' | 'reject' | 'delay';
export type TokenKind = 'component' | 'authorizer' | 'all';

export interface WeChatSimulator {
  readonly baseUrl: string; // WECHAT_API_BASE, e.g. http://127.0.0.1:PORT (the auth pages are served here too)
  counters(): Record<string, number>; // calls per endpoint path
  resetCounters(): void;
  setFaults(faults: Partial<FaultConfig>): void;
  configure(
    patch: Partial<Pick<SimulatorOptions, 'componentEventUrl' | 'messageUrlTemplate' | 'ticketIntervalMs' | 'auditDecisionDelayMs'>> &
      ConfigureAdditions,
  ): void;
  addMiniProgram(spec: MiniProgramSpec): void;
  addTemplate(t: TemplateSpec): void;
  pushVerifyTicket(): Promise<string>; // returns the ticket pushed
  scanAuthorization(input: ScanInput): Promise<{ authCode: string; redirectUrl: string }>;
  revokeAuthorization(appId: string): Promise<void>; // pushes unauthorized
  decideAudit(appId: string, decision: AuditDecision, opts?: { reason?: string; screenshots?: string[] }): Promise<void>;
  expireTokens(which: TokenKind): void; // next call with an old token → 42001
  invalidateRefreshToken(appId: string): void; // next api_authorizer_token with it → 61023
  setQuota(q: Partial<QuotaSettings>): void;
  miniProgram(appId: string): MiniProgramSnapshot | undefined; // read-only snapshot (contract: `unknown`)
  close(): Promise<void>;

  // ---- Additions ----------------------------------------------------------------------------------------
  /** Every push delivery attempt so far, oldest first (also `GET /sim/pushes`). */
  pushLog(): PushLogEntry[];
  clearPushLog(): void;
  /** Resolves once no push is queued, in flight or waiting for a retry. */
  pushesSettled(): Promise<void>;
  faults(): FaultConfig;
  quota(): QuotaSnapshot;
  /** Snapshots of every registered mini program (also `GET /sim/mini-programs`). */
  miniPrograms(): MiniProgramSnapshot[];
  /** Plays the plugin developer answering an application (`/wxa/plugin` action=apply leaves status 1). */
  setPluginStatus(appId: string, pluginAppId: string, status: 1 | 2 | 3 | 4): void;
  /**
   * Puts a mini program in a go-live state WeChat holds (go-live.ts): ICP filing status, verification, a ban on
   * submitting, categories needing a UGC declaration, privacy-interface statuses (also `POST /sim/mini-programs/go-live`).
   */
  setGoLive(appId: string, patch: GoLiveStatePatch): void;
  /** Penalises the platform (86008 all audits, 86009 new mini programs, 86010 iterations); null lifts it. */
  setPlatformPenalty(errcode: 86008 | 86009 | 86010 | null): void;
  /** The PC authorization page URL on this server (what the backend builds with mp.weixin.qq.com in production). */
  authorizationPageUrl(input: { preAuthCode: string; redirectUri: string; authType?: number; bizAppId?: string }): string;
  /** Aims a fault at the next matching call(s) of one endpoint (also `POST /sim/faults/scripted`). */
  scriptFault(fault: ScriptedFault): void;
  /** Forgets every scripted fault not used up yet (also `POST /sim/faults/scripted/clear`). */
  clearScriptedFaults(): void;
  /**
   * The next call of one WeChat endpoint does its work at once (an auth code is spent, say) but its answer waits
   * until `release()`: what a slow network or a busy WeChat does to one caller while others race it. In process
   * only (tests). `arrived` resolves once that call has done its work.
   */
  holdNextAnswer(path: string): AnswerHold;
  /**
   * Audits of this template's versions submitted from now on take a time drawn between min and max around the median
   * and are rejected at `rejectRate`, reproducibly from `seed` (also `POST /sim/audit/profiles`); this replaces
   * `auditDecisionDelayMs` for them.
   */
  setAuditProfile(profile: AuditProfile): void;
  /**
   * Call-rate limits per account and API (rate-limits.ts): a rule's `perDay` spent → 45009, `perMinute` → 45011.
   * Replaces the rules; `[]` lifts them (also `POST /sim/rate-limits {rules}`).
   */
  setRateLimits(rules: RateLimitRule[]): void;
  rateLimits(): RateLimitRule[];
  /** Forgets every audit profile (also `POST /sim/audit/profiles/clear`). */
  clearAuditProfiles(): void;
  auditProfiles(): AuditProfile[];
  /** The mp admin pausing (or resuming) a running phased release from the console (also `POST /sim/mini-programs/gray-release`). */
  setGrayReleasePaused(appId: string, paused: boolean): void;
  /**
   * The injected clock moved on: applies what fell due meanwhile (audit decisions, day-15 full releases) and queues
   * their pushes now. The timer armed for the next one counts real milliseconds, so a clock that jumps (a
   * benchmark's simulated days) would otherwise wait for the next request. In process only; over HTTP any `/sim`
   * call does the same.
   */
  clockMoved(): void;
}

export interface AnswerHold {
  readonly arrived: Promise<void>;
  release(): void;
}

// ---- Additions ------------------------------------------------------------------------------------------

/**
 * A fault for the next `times` calls (default 1) of one WeChat endpoint, optionally only those made with one mini
 * program's token: what the dice of `FaultConfig` cannot aim — WeChat refusing one call with a given errcode
 * (45009, 42007 …), or doing the work and the answer never reaching the caller (a timeout, a crash).
 */
export type ScriptedFault = {
  /** The WeChat API path, e.g. `/wxa/submit_audit`. */
  path: string;
  appId?: string;
  times?: number;
} & (
  | { /** Answered instead of doing the call (after the token and permission checks). */ errcode: number }
  | { /** The call is done, then the connection dropped without an answer. */ loseAnswer: true }
);

export interface ConfigureAdditions {
  privacyScanMs?: number;
  registeredDomains?: RegisteredDomains;
  pushTimeoutMs?: number;
  pushRetryDelayMs?: number;
}

/**
 * The mini program server and web-view domains registered on the third-party platform (open.weixin.qq.com 开发资料,
 * or modify_wxa_server_domain): the only domains modify_domain / setwebviewdomain accept (85017 / 89021). Hosts,
 * e.g. `assets.example.com`; a list left out accepts every domain (the default, for tests that do not care).
 */
export interface RegisteredDomains {
  server?: string[];
  webview?: string[];
}

/**
 * `pages` (default `['pages/index/index']`) bounds what ext_json `pages` may list (85045) and feeds get_page.
 * `privacyApis`: the privacy APIs and components the template's code uses, named as get_code_privacy_info names
 * them (`wx.chooseImage`, `wx.getLocation`, `button.getPhoneNumber`; default none); the post-commit scan derives
 * the guide's privacy_list from them. `requiredPrivateInfos`: what the template's own app.json declares (an ext_json
 * list replaces it).
 */
export interface TemplateSpec {
  templateId: number;
  userVersion: string;
  userDesc: string;
  pages?: string[];
  templateType?: 0 | 1;
  privacyApis?: string[];
  requiredPrivateInfos?: string[];
  /**
   * The development mini program whose draft became this template (reference §4.1): templates of one source are
   * versions of one code line. Default: a source of the template's own, so templates are unrelated unless a test
   * says otherwise.
   */
  sourceMiniProgramAppid?: string;
  /** When the template was added, epoch ms (create_time); default: the simulator's clock at addTemplate. */
  createdAt?: number;
}

export interface ScanInput {
  preAuthCode: string;
  appId: string;
  funcScopeIds?: number[];
  redirectUri?: string;
  /** Default: what the authorization page was opened with for this pre-auth code (auth_type, default 3). */
  authType?: number;
  /** Default: the biz_appid the authorization page was opened with for this pre-auth code. */
  bizAppId?: string;
}

export interface QuotaSettings {
  /** Submits left this month, shared by every mini program of the platform (queryquota `rest`). */
  submitRest: number;
  submitLimit: number;
  speedupRest: number;
  speedupLimit: number;
  undoPerDay: number;
  undoPerMonth: number;
  componentTokenDaily: number;
  /** Testers one mini program may have (85002). */
  testersPerMiniProgram: number;
  /** Mini programs one WeChat user may test (85003). */
  miniProgramsPerTester: number;
}

export interface QuotaSnapshot extends QuotaSettings {
  componentTokenUsedToday: number;
  /** When submitRest and speedupRest are next refilled to their limits: the next month's start in China (epoch ms). */
  renewsAt: number;
}

export type AuditStatusCode = 0 | 1 | 2 | 3 | 4;

export interface VersionSnapshot {
  templateId: number;
  userVersion: string;
  userDesc: string;
  extJson: string;
  pages: string[];
  committedAt: number;
}

export interface AuditSnapshot {
  auditid: number;
  status: AuditStatusCode;
  /** Privacy keys the code collects that the guide did not declare when it was submitted (the audit rejects them). */
  undeclaredPrivacyKeys: string[];
  reason?: string;
  screenshots: string[];
  submittedAt: number;
  decidedAt?: number;
  autoDecideAt?: number;
  /** What the automatic decision at `autoDecideAt` will be, when an audit profile drew it (else an approval). */
  plannedDecision?: 'approve' | 'reject';
  speedup: boolean;
  released: boolean;
  version: VersionSnapshot;
}

export interface LiveVersionSnapshot extends VersionSnapshot {
  appVersion: number;
  releasedAt: number;
}

export interface MiniProgramSnapshot {
  appId: string;
  nickName: string;
  principalName: string;
  userName: string;
  profileComplete: boolean;
  /** The development version's user privacy guide (setprivacysetting privacy_ver 2); absent until set, cleared by an authorization. */
  privacyGuide?: { ownerSetting: Record<string, string>; settingList: { privacy_key: string; privacy_text: string }[] };
  /** modify_domain's lists and the web-view domains, as set. */
  domains: Record<
    'requestdomain' | 'wsrequestdomain' | 'uploaddomain' | 'downloaddomain' | 'udpdomain' | 'tcpdomain' | 'webviewdomain',
    string[]
  >;
  /**
   * URLs in a version's ext_json whose domain is not a downloadFile domain of the mini program: what that version
   * cannot download once released (a third-party platform's mini program reaches only the domains set for it).
   */
  unreachableUrls: { exp: string[]; live: string[] };
  authorization: 'never' | 'authorized' | 'revoked';
  funcScopeIds: number[];
  heldByOtherPlatform: number[];
  /** Whether the owner can still publish through mp.weixin.qq.com: not while a platform holds set 18. */
  publishesOnMp: boolean;
  authTime?: number;
  plugins: { appId: string; status: 1 | 2 | 3 | 4 }[];
  categories: { first_class: string; second_class: string; first_id: number; second_id: number }[];
  testers: string[];
  exp?: VersionSnapshot;
  audits: AuditSnapshot[];
  live?: LiveVersionSnapshot;
  releaseHistory: LiveVersionSnapshot[];
  undo: { today: number; thisMonth: number };
  /** The last phased release (grayrelease), if any; while it runs `live` is the phased version. */
  grayRelease?: GrayReleasePlanSnapshot;
}

/** A phased release as the simulator keeps it (gray-release.ts); `status` is getgrayreleaseplan's. */
export interface GrayReleasePlanSnapshot {
  status: 0 | 1 | 2 | 3 | 4;
  percentage: number;
  supportExperiencerFirst: boolean;
  supportDebugerFirst: boolean;
  createdAt: number;
  auditid: number;
  /** The live version the users outside the share keep (and that revertgrayrelease puts back). */
  previousAppVersion: number;
  /** When the platform releases it in full by itself (day 15) unless revoked or completed before. */
  fullReleaseAt: number;
}

export type PushOutcome = 'delivered' | 'failed' | 'dropped' | 'skipped';

export interface PushLogEntry {
  pushId: number;
  /** 1 for the original, 2 for the copy made by `duplicatePushRate`. */
  copy: number;
  /** `component_verify_ticket`, `authorized`, `weapp_audit_success`, … */
  label: string;
  /** 0 for a push that was dropped or skipped before any attempt. */
  attempt: number;
  url: string;
  startedAt: number;
  finishedAt: number;
  outcome: 'success' | 'bad-response' | 'timeout' | 'error' | 'dropped' | 'skipped';
  httpStatus?: number;
  responseBody?: string;
  error?: string;
  /** The decrypted message, for assertions. */
  plaintext: string;
}

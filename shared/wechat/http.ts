/**
 * The one place that talks HTTP to WeChat.
 *
 * Every call gets a timeout, every answer is checked (errcode, then a zod schema), and failures become the
 * typed errors of `errcodes.ts`. Retries follow one rule: repeat a request only when repeating cannot do
 * harm. WeChat's own "-1, try again" means the call failed, so any call may be repeated; a timeout, a broken
 * connection or a 5xx leaves the outcome unknown, so only idempotent calls are repeated (WxJava #2098 duplicated
 * submit_audit that way). Quota errors are never retried: retrying burns the quota that is already gone.
 * Tokens and secrets never reach an error message: errors name the endpoint path, never the URL.
 */
import * as z from '../domain/zod';
import { eitherSignal } from '../runtime/abort';
import {
  errcodeInfo,
  type NetworkFailure,
  redact,
  type WeChatError,
  WeChatNetworkError,
  WeChatResponseError,
  wechatApiError,
} from './errcodes';

export const DEFAULT_API_BASE = 'https://api.weixin.qq.com';
export const DEFAULT_TIMEOUT_MS = 5000;

export interface RetryPolicy {
  /** Total attempts including the first one. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = { attempts: 3, baseMs: 200, maxMs: 2000 };

/** What one HTTP attempt did; for metrics and logs. Carries no token, secret or body. */
export interface WeChatAttemptEvent {
  endpoint: string;
  attempt: number;
  durationMs: number;
  outcome: 'ok' | 'errcode' | 'network' | 'bad-response';
  errcode?: number;
  failure?: NetworkFailure;
  status?: number;
  /** Set when another attempt follows, after this many milliseconds. */
  retryInMs?: number;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface WeChatHttpOptions {
  /** WECHAT_API_BASE; a simulator URL locally. */
  apiBase?: string;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Injected so tests do not wait; resolves early when the signal aborts. */
  sleep?: Sleep;
  /** In [0, 1); injected so tests can pin the jitter. */
  random?: () => number;
  fetch?: typeof globalThis.fetch;
  onAttempt?: (event: WeChatAttemptEvent) => void;
}

export type TokenParam = 'access_token' | 'component_access_token';

export interface CallOptions {
  /** Outer cancellation, e.g. middy's early timeout; an aborted call is never retried. */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout for this call. */
  timeoutMs?: number;
}

export interface WeChatRequest extends CallOptions {
  method: 'GET' | 'POST';
  /** API path, e.g. `/wxa/commit`; also the `endpoint` named in errors. */
  path: string;
  query?: Readonly<Record<string, string | number | undefined>>;
  token?: { param: TokenParam; value: string };
  /** JSON body for POST; defaults to `{}` because WeChat rejects an empty POST body (44002). */
  body?: unknown;
  /**
   * Whether repeating the request after an unknown outcome (timeout, broken connection, 5xx) is harmless.
   * False for calls that change state in a way a repeat would duplicate (submit_audit, commit, release …).
   */
  idempotent: boolean;
  /** Values that must never appear in an error (app secret, refresh token …); the token is added automatically. */
  secrets?: readonly string[];
}

export interface BinaryResponse {
  contentType: string;
  bytes: Buffer;
}

/** Why an attempt failed; turned into an error only once the retry loop is done, so it can count attempts. */
type Failure =
  | { type: 'errcode'; errcode: number; errmsg: string }
  | { type: 'network'; failure: NetworkFailure; status?: number; cause?: unknown }
  | { type: 'response'; reason: string; status?: number; cause?: unknown };

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/** Interprets a body already known to be meant as JSON. Pure: no I/O, never throws. */
const interpretJson = <T>(text: string, schema: z.ZodMiniType<T>, secrets: readonly string[]): Outcome<T> => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // The SyntaxError quotes the body, which may hold a token: keep it out of the error.
    return { ok: false, failure: { type: 'response', reason: `body is not JSON (${text.length} chars)` } };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, failure: { type: 'response', reason: 'body is not a JSON object' } };
  }
  const record = body as Record<string, unknown>;
  const rawCode = record.errcode;
  let errcode: number;
  if (rawCode === undefined || rawCode === null) errcode = 0;
  else if (typeof rawCode === 'number' && Number.isSafeInteger(rawCode)) errcode = rawCode;
  else if (typeof rawCode === 'string' && /^-?\d{1,15}$/.test(rawCode)) errcode = Number(rawCode);
  else return { ok: false, failure: { type: 'response', reason: 'errcode is not an integer' } };

  if (errcode !== 0) {
    const rawMsg = record.errmsg;
    const errmsg = typeof rawMsg === 'string' ? redact(rawMsg, secrets) : '';
    return { ok: false, failure: { type: 'errcode', errcode, errmsg } };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].slice(0, 5);
    return {
      ok: false,
      failure: { type: 'response', reason: `schema mismatch at ${fields.join(', ')}`, cause: parsed.error },
    };
  }
  return { ok: true, value: parsed.data };
};

const toError = (endpoint: string, failure: Failure, attempts: number): WeChatError => {
  switch (failure.type) {
    case 'errcode':
      return wechatApiError({ errcode: failure.errcode, errmsg: failure.errmsg, endpoint, attempts });
    case 'network':
      return new WeChatNetworkError(
        {
          endpoint,
          failure: failure.failure,
          status: failure.status,
          attempts,
          outcomeUnknown: failure.failure !== 'connect',
        },
        { cause: failure.cause },
      );
    case 'response':
      return new WeChatResponseError(endpoint, failure.reason, { cause: failure.cause, status: failure.status });
  }
};

/**
 * Parses a WeChat JSON answer: errcode ≠ 0 → WeChatApiError/WeChatQuotaError, anything not matching the
 * schema → WeChatResponseError. Exported for property tests: it throws nothing else, whatever the body.
 */
export const parseWeChatResponse = <T>(endpoint: string, text: string, schema: z.ZodMiniType<T>, secrets: readonly string[] = []): T => {
  const outcome = interpretJson(text, schema, secrets);
  if (outcome.ok) return outcome.value;
  throw toError(endpoint, outcome.failure, 1);
};

/** Error codes of connection attempts that failed before any byte of the request could reach WeChat. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

const errorCode = (error: unknown): string | undefined => {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node reports a refused dual-stack connect as an AggregateError whose members carry the code.
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) return errors.map(errorCode).find((c) => c !== undefined);
  return undefined;
};

const classifyFetchError = (error: unknown, timeout: AbortSignal, outer: AbortSignal | undefined): NetworkFailure => {
  if (outer?.aborted) return 'aborted';
  if (timeout.aborted) return 'timeout';
  // Structural, not `instanceof Error`: fetch's errors come from Node's realm, which differs from a jest sandbox's.
  const cause = typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined;
  const code = errorCode(cause) ?? errorCode(error);
  return code !== undefined && CONNECT_CODES.has(code) ? 'connect' : 'connection';
};

const defaultSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Responses WeChat meant as JSON even on the binary endpoint: errors come back as JSON, sometimes as text/plain. */
const isJsonLike = (contentType: string, bytes: Buffer): boolean =>
  /json|^text\//i.test(contentType) || (contentType === '' && bytes[0] === 0x7b);

export class WeChatHttp {
  readonly apiBase: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly onAttempt: ((event: WeChatAttemptEvent) => void) | undefined;

  constructor(options: WeChatHttpOptions = {}) {
    this.apiBase = (options.apiBase ?? DEFAULT_API_BASE).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (this.retry.attempts < 1) this.retry.attempts = 1;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.onAttempt = options.onAttempt;
  }

  /** A JSON call whose successful answer must match `schema`. */
  json<T>(request: WeChatRequest, schema: z.ZodMiniType<T>): Promise<T> {
    return this.execute(request, (response) => {
      const secrets = this.secretsOf(request);
      return interpretJson(response.bytes.toString('utf8'), schema, secrets);
    });
  }

  /** A call answered by a file (get_qrcode) on success and by JSON on failure; branches on the content type. */
  binary(request: WeChatRequest): Promise<BinaryResponse> {
    return this.execute<BinaryResponse>(request, (response) => {
      if (!isJsonLike(response.contentType, response.bytes)) {
        if (response.bytes.length === 0) {
          return { ok: false, failure: { type: 'response', reason: 'empty binary body' } };
        }
        return { ok: true, value: { contentType: response.contentType, bytes: response.bytes } };
      }
      const secrets = this.secretsOf(request);
      const outcome = interpretJson(response.bytes.toString('utf8'), z.unknown(), secrets);
      // JSON with errcode 0 where an image was due is not an answer we can use.
      if (outcome.ok) return { ok: false, failure: { type: 'response', reason: 'JSON body where a file was expected' } };
      return outcome;
    });
  }

  /** The request URL with tokens masked: safe for logs and error details. */
  describe(request: WeChatRequest): string {
    return redact(this.buildUrl(request).toString(), this.secretsOf(request));
  }

  private secretsOf(request: WeChatRequest): readonly string[] {
    return request.token ? [request.token.value, ...(request.secrets ?? [])] : (request.secrets ?? []);
  }

  private buildUrl(request: WeChatRequest): URL {
    const url = new URL(this.apiBase + request.path);
    if (request.token) url.searchParams.set(request.token.param, request.token.value);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  private async execute<T>(
    request: WeChatRequest,
    interpret: (response: { contentType: string; bytes: Buffer }) => Outcome<T>,
  ): Promise<T> {
    const endpoint = request.path;
    const url = this.buildUrl(request);
    let attempt = 0;
    for (;;) {
      attempt += 1;
      const started = Date.now();
      const outcome = await this.attemptOnce(url, request, interpret);
      const durationMs = Date.now() - started;
      if (outcome.ok) {
        this.onAttempt?.({ endpoint, attempt, durationMs, outcome: 'ok' });
        return outcome.value;
      }
      const { failure } = outcome;
      const retry = attempt < this.retry.attempts && !request.signal?.aborted && this.retryable(failure, request.idempotent);
      const retryInMs = retry ? this.backoff(attempt) : undefined;
      this.onAttempt?.({
        endpoint,
        attempt,
        durationMs,
        outcome: failure.type === 'errcode' ? 'errcode' : failure.type === 'network' ? 'network' : 'bad-response',
        ...(failure.type === 'errcode' ? { errcode: failure.errcode } : {}),
        ...(failure.type === 'network' ? { failure: failure.failure } : {}),
        ...(failure.type !== 'errcode' && failure.status !== undefined ? { status: failure.status } : {}),
        ...(retryInMs !== undefined ? { retryInMs } : {}),
      });
      if (retryInMs === undefined) throw toError(endpoint, failure, attempt);
      await this.sleep(retryInMs, request.signal);
      // Cancelled while waiting: report what actually happened to the last attempt, and stop.
      if (request.signal?.aborted) throw toError(endpoint, failure, attempt);
    }
  }

  private retryable(failure: Failure, idempotent: boolean): boolean {
    switch (failure.type) {
      // WeChat itself said the call failed (-1, 89401): repeating cannot duplicate anything.
      case 'errcode':
        return errcodeInfo(failure.errcode).kind === 'transient';
      case 'network':
        if (failure.failure === 'aborted') return false;
        // The request never left: safe for every call.
        if (failure.failure === 'connect') return true;
        return idempotent;
      // The same request would get the same unusable answer.
      case 'response':
        return false;
    }
  }

  /** Exponential backoff with full jitter: uniform in [0, min(max, base·2^(n-1))). */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  private async attemptOnce<T>(
    url: URL,
    request: WeChatRequest,
    interpret: (response: { contentType: string; bytes: Buffer }) => Outcome<T>,
  ): Promise<Outcome<T>> {
    const timeout = AbortSignal.timeout(request.timeoutMs ?? this.timeoutMs);
    const { signal, release } = request.signal ? eitherSignal(timeout, request.signal) : { signal: timeout, release: () => undefined };
    try {
      return await this.fetchOnce(url, request, signal, timeout, interpret);
    } finally {
      release();
    }
  }

  private async fetchOnce<T>(
    url: URL,
    request: WeChatRequest,
    signal: AbortSignal,
    timeout: AbortSignal,
    interpret: (response: { contentType: string; bytes: Buffer }) => Outcome<T>,
  ): Promise<Outcome<T>> {
    const init: RequestInit = { method: request.method, signal, headers: { accept: 'application/json, image/*' } };
    if (request.method === 'POST') {
      init.headers = { ...init.headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(request.body ?? {});
    }
    let status: number;
    let contentType: string;
    let bytes: Buffer;
    try {
      // The signal also covers reading the body, so a server that stalls mid-body still times out.
      const response = await this.fetchImpl(url, init);
      status = response.status;
      contentType = response.headers.get('content-type') ?? '';
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      return {
        ok: false,
        failure: { type: 'network', failure: classifyFetchError(error, timeout, request.signal), cause: error },
      };
    }
    if (status >= 500) return { ok: false, failure: { type: 'network', failure: 'http-status', status } };
    // WeChat answers 200 even for errors; anything else comes from something in between.
    if (status < 200 || status >= 300) {
      return { ok: false, failure: { type: 'response', reason: `HTTP ${status}`, status } };
    }
    return interpret({ contentType, bytes });
  }
}

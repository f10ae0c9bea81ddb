/**
 * The local runtime: one HTTP port for every function's routes and a scheduler for every timer, both taken from
 * serverless.yml, both invoking each function's *cloud entry* with the local provider's events — the same shim
 * path the cloud takes, so what works here works there.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NonCanonicalPathError, rawPathProblem } from '../../shared/runtime/http/path';
import type { Logger } from '../../shared/runtime/logger';
import type { LocalHttpEvent, LocalHttpResult, LocalTimerEvent } from '../../shared/runtime/shim';
import { parseScfCron } from './cron';
import type { LocalFunction, LocalTemplate } from './template';

export type CloudEntry = (event: unknown, context?: unknown) => Promise<unknown>;

export interface LocalRuntimeOptions {
  template: LocalTemplate;
  /** Returns the function's cloud entry (the export named by its `handler`). */
  load: (fn: LocalFunction) => CloudEntry;
  log: Logger;
  port?: number;
  host?: string;
  /** Bodies above this are refused before they reach a function. */
  maxBodyBytes?: number;
  /** SCF evaluates cron in UTC+8. */
  cronUtcOffsetMinutes?: number;
  /** Set false to mount HTTP only (tests that drive timers themselves). */
  timers?: boolean;
  now?: () => number;
  /** Files served before the functions' routes (the console at /console/); undefined = not such a path. */
  staticFiles?: (method: string, path: string) => Promise<{ status: number; headers: Record<string, string>; body: Buffer } | undefined>;
  /** Told of every invocation (the Prometheus endpoint counts them). */
  onInvocation?: (entry: InvocationRecord) => void;
  /** Serves `GET /metrics` (Prometheus text) when set. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

export interface InvocationRecord {
  fn: string;
  trigger: string;
  status: number | 'ok' | 'error';
  durationMs: number;
}

export interface LocalRuntime {
  readonly url: string;
  readonly port: number;
  /** Runs a timer now, as if its cron had fired (the demo and tests use it). */
  fireTimer(fnName: string, timerName: string): Promise<unknown>;
  readonly invocations: readonly InvocationRecord[];
  /** HTTP requests received so far. */
  readonly received: number;
  /** Resolves once `total` HTTP requests have been received (a test forcing a race knows all its requests are in). */
  untilReceived(total: number): Promise<void>;
  close(): Promise<void>;
}

const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A malformed escape (`/v1/apps/%`) is passed on as written: the function's validation answers 400 for it. */
const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/**
 * The request target as a URL. Clients send the origin form (`/v1/health?x=1`); HTTP/1.1 servers must also accept
 * the absolute form (`http://example.com/v1/health`, what proxies send). Origin-form targets are appended to a
 * dummy origin rather than resolved against it, so `//a/b` stays the path `//a/b` instead of naming host `a`.
 */
function requestTargetOf(target: string): URL | undefined {
  try {
    return target.startsWith('/') ? new URL(`http://local${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

/** The path of a request target as sent, still percent-encoded: the origin form's, or the absolute form's after its authority. */
const rawPathOf = (target: string): string => {
  const path = target.startsWith('/') ? target : (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(target)?.[1] ?? '/');
  return path.split(/[?#]/)[0] || '/';
};

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

/**
 * Answers 'too-large' as soon as the body passes the limit, declared or counted (a chunked body declares nothing).
 * The rest is read and dropped rather than the socket destroyed: destroying it would lose the 413 still to be
 * written. The connection is closed after the 413 instead (see `handle`), which also ends an endless upload.
 * Answers 'aborted' when the client goes away before its body is complete: the client's doing, not a failure here.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolvePromise) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      resolvePromise('too-large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        resolvePromise('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolvePromise(Buffer.concat(chunks)));
    // Node reports a client that hung up mid-body as an `aborted` ECONNRESET error, then closes the request.
    req.on('error', () => resolvePromise('aborted'));
    req.on('close', () => {
      if (!req.complete) resolvePromise('aborted');
    });
  });
}

const isLocalResult = (value: unknown): value is LocalHttpResult =>
  typeof value === 'object' && value !== null && 'statusCode' in value && 'headers' in value && 'bodyBase64' in value;

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const now = options.now ?? Date.now;
  const log = options.log;
  const maxBodyBytes = options.maxBodyBytes ?? 2 * 1024 * 1024;
  const entries = new Map<string, CloudEntry>();
  const invocations: InvocationRecord[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;
  let received = 0;
  const receiveWaiters = new Set<{ total: number; resolve: () => void }>();
  const countReceived = () => {
    received += 1;
    for (const waiter of receiveWaiters) {
      if (received < waiter.total) continue;
      receiveWaiters.delete(waiter);
      waiter.resolve();
    }
  };

  const entryOf = (fn: LocalFunction) => {
    let entry = entries.get(fn.name);
    if (!entry) {
      entry = options.load(fn);
      entries.set(fn.name, entry);
    }
    return entry;
  };

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };

  const record = (entry: InvocationRecord) => {
    options.onInvocation?.(entry);
    invocations.push(entry);
    if (invocations.length > 1000) invocations.shift();
    // An HTTP function writes its own access line (method, path, status, duration) for every request, so the
    // runtime's echo of it is debug-only; timers have no such line of their own.
    if (entry.trigger.startsWith('http ')) log.debug('invocation', { ...entry });
    else log.info('invocation', { ...entry });
  };

  const routeFor = (method: string, path: string) => {
    let pathKnown: LocalFunction | undefined;
    // HEAD is served by the GET route (the function's router does the same).
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const fn of options.template.functions) {
      for (const r of fn.routes) {
        const found = r.pattern.exec(path);
        if (!found) continue;
        pathKnown ??= fn;
        if (r.method !== wanted) continue;
        const pathParameters: Record<string, string> = {};
        r.names.forEach((name, i) => {
          pathParameters[name] = safeDecode(found[i + 1] ?? '');
        });
        return { fn, route: r, pathParameters };
      }
    }
    // The owning function answers wrong methods and CORS preflights itself, from its own route table.
    return pathKnown ? { fn: pathKnown, route: undefined, pathParameters: {} } : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = now();
    const requestId = randomUUID();
    const url = requestTargetOf(req.url ?? '/');
    const method = (req.method ?? 'GET').toUpperCase();
    if (!url) {
      sendJson(res, 400, {
        error: { code: 'REQUEST_TARGET_INVALID', message: 'the request target is not a path or an absolute URL', field: 'path', requestId },
      });
      return;
    }
    const pathProblem = rawPathProblem(rawPathOf(req.url ?? '/'));
    if (pathProblem) {
      const refusal = new NonCanonicalPathError(pathProblem);
      sendJson(res, 404, { error: { code: refusal.code, message: refusal.message, field: refusal.field, requestId } });
      return;
    }
    if (url.pathname === '/metrics' && method === 'GET' && options.metrics) {
      const { contentType, body } = await options.metrics();
      res.writeHead(200, { 'content-type': contentType }).end(body);
      return;
    }
    if (url.pathname === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      sendJson(res, 200, { ok: true, functions: options.template.functions.map((f) => f.name) });
      return;
    }
    const file = await options.staticFiles?.(method, url.pathname);
    if (file) {
      res.writeHead(file.status, file.headers);
      res.end(method === 'HEAD' ? undefined : file.body);
      return;
    }
    const target = routeFor(method, url.pathname);
    if (!target) {
      sendJson(res, 404, { error: { code: 'ROUTE_NOT_FOUND', message: `no function serves ${method} ${url.pathname}`, requestId } });
      return;
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === 'aborted') {
      // Nobody is left to answer; one line says what happened, with no stack (nothing here failed).
      log.info('client aborted the request before its body was complete', { method, path: url.pathname, requestId });
      return;
    }
    if (body === 'too-large') {
      res.setHeader('connection', 'close');
      sendJson(res, 413, {
        error: { code: 'PAYLOAD_TOO_LARGE', message: `request body exceeds ${maxBodyBytes} bytes`, field: 'body', requestId },
      });
      return;
    }
    const rawHeaders: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '']);
    const event: LocalHttpEvent = {
      kind: 'local-http',
      method,
      // The path routed on above, so the function sees the request the gateway matched, whatever form it came in.
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      rawHeaders,
      bodyBase64: body.toString('base64'),
      clientIp: req.socket.remoteAddress ?? '',
      requestId,
      ...(target.route ? { pathParameters: target.pathParameters, resource: target.route.path } : {}),
    };
    const context = { requestId, functionName: target.fn.functionName, deadlineMs: started + target.fn.timeoutMs };
    try {
      const result = await track(entryOf(target.fn)(event, context));
      if (!isLocalResult(result)) throw new Error(`${target.fn.name} returned something that is not a local HTTP result`);
      for (const [name, value] of result.headers) res.appendHeader(name, value);
      res.statusCode = result.statusCode;
      res.end(Buffer.from(result.bodyBase64, 'base64'));
      record({ fn: target.fn.name, trigger: `http ${method} ${url.pathname}`, status: result.statusCode, durationMs: now() - started });
    } catch (error) {
      // The function's own error handler answers every failure it sees; reaching here means the entry itself broke.
      log.error('invocation crashed', { fn: target.fn.name, error });
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL_ERROR', message: 'the function crashed', requestId } });
      else res.destroy();
      record({ fn: target.fn.name, trigger: `http ${method} ${url.pathname}`, status: 500, durationMs: now() - started });
    }
  };

  const fire = async (fn: LocalFunction, timerName: string): Promise<unknown> => {
    const timer = fn.timers.find((t) => t.name === timerName);
    if (!timer) throw new Error(`${fn.name} has no timer ${timerName}`);
    const started = now();
    const event: LocalTimerEvent = {
      kind: 'local-timer',
      triggerName: timer.name,
      fireTime: new Date(started).toISOString(),
      ...(timer.payload !== undefined ? { payload: timer.payload } : {}),
    };
    const context = { requestId: randomUUID(), functionName: fn.functionName, deadlineMs: started + fn.timeoutMs };
    try {
      const result = await track(entryOf(fn)(event, context));
      record({ fn: fn.name, trigger: `timer ${timer.name}`, status: 'ok', durationMs: now() - started });
      return result;
    } catch (error) {
      log.error('timer invocation failed', { fn: fn.name, timer: timer.name, error });
      record({ fn: fn.name, trigger: `timer ${timer.name}`, status: 'error', durationMs: now() - started });
      throw error;
    }
  };

  const schedule = (fn: LocalFunction, timerName: string, cronExpression: string) => {
    const cron = parseScfCron(cronExpression, options.cronUtcOffsetMinutes ?? 480);
    const arm = () => {
      if (closing) return;
      const next = cron.next(now());
      if (next === null) return;
      const handle = setTimeout(
        () => {
          timers.delete(handle);
          // A long wait is split into hops because setTimeout cannot wait more than ~24.8 days.
          if (now() < next) return arm();
          fire(fn, timerName)
            .catch(() => undefined)
            .finally(arm);
        },
        Math.min(Math.max(0, next - now()), MAX_TIMER_DELAY),
      );
      timers.add(handle);
    };
    arm();
  };

  const server = createServer((req, res) => {
    countReceived();
    handle(req, res).catch((error: unknown) => {
      log.error('gateway failure', { error });
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL_ERROR', message: 'gateway failure' } });
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolvePromise());
  });
  const port = (server.address() as AddressInfo).port;

  if (options.timers !== false) {
    for (const fn of options.template.functions) for (const timer of fn.timers) schedule(fn, timer.name, timer.cronExpression);
  }

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    invocations,
    get received() {
      return received;
    },
    untilReceived: (total) =>
      received >= total ? Promise.resolve() : new Promise<void>((resolve) => receiveWaiters.add({ total, resolve })),
    fireTimer: (fnName, timerName) => {
      const fn = options.template.functions.find((f) => f.name === fnName);
      if (!fn) return Promise.reject(new Error(`no function ${fnName}`));
      return fire(fn, timerName);
    },
    close: async () => {
      closing = true;
      for (const handle of timers) clearTimeout(handle);
      timers.clear();
      await new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeIdleConnections();
      });
      await Promise.allSettled([...inFlight]);
    },
  };
}

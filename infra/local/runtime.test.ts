import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../../shared/runtime/logger';
import { readError } from '../../test/support/http';
import { type CloudEntry, type LocalRuntime, startLocalRuntime } from './runtime';
import { type LocalFunction, loadTemplate } from './template';

const root = resolve(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'wxa-runtime-'));
const logs: string[] = [];
const logWatchers = new Set<(line: string) => void>();
const log = createLogger({
  sink: (line) => {
    logs.push(line);
    for (const watch of logWatchers) watch(line);
  },
});
/** The first log line from now on that `matches`: tests wait on the line, not on time. */
const nextLogLine = (matches: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> =>
  new Promise((resolveLine) => {
    const watch = (line: string) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (!matches(entry)) return;
      logWatchers.delete(watch);
      resolveLine(entry);
    };
    logWatchers.add(watch);
  });

// The functions read their configuration from the environment at their cold start, as in the cloud.
Object.assign(process.env, {
  WXA_ENV: 'local',
  SQLITE_PATH: join(dir, 'runtime.db'),
  DATA_KEY: randomBytes(32).toString('base64'),
  ADMIN_API_KEY: `adm_${randomBytes(24).toString('base64url')}`,
  LOG_LEVEL: 'error',
  // No WeChat is reached by these tests; the functions still compose a client at their cold start.
  WECHAT_API_BASE: 'http://127.0.0.1:9',
  WECHAT_COMPONENT_APPID: 'wx0000000000local0',
  WECHAT_COMPONENT_SECRET: 'unused',
  WECHAT_TOKEN: 'unused',
  WECHAT_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
});

const template = loadTemplate(join(root, 'serverless.yml'));
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by path, as the local runtime does
const load = (fn: LocalFunction) => (require(fn.source) as Record<string, CloudEntry>)[fn.exportName] as CloudEntry;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A request through node:http with a path sent verbatim (so an absolute-form target stays one) and a body written
 * in chunks without Content-Length (so it goes chunked). The server may close while the body is still being
 * written; what counts is the response it sent first.
 */
function send(url: string, input: { method: string; path: string; chunks?: readonly string[] }): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request({ host: hostname, port, method: input.method, path: input.path, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    for (const chunk of input.chunks ?? []) req.write(chunk);
    req.end();
  });
}

describe('local runtime over real HTTP', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startLocalRuntime({ template, load, log, timers: false, maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => runtime.close());

  it('mounts every route of serverless.yml and a request reaches its function', async () => {
    const response = await fetch(`${runtime.url}/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, storeRoundTripMs: expect.any(Number) });
    expect(response.headers.get('x-request-id')).toMatch(/.+/);
    expect(runtime.invocations.at(-1)).toEqual({ fn: 'api', trigger: 'http GET /v1/health', status: 200, durationMs: expect.any(Number) });
  });

  it('answers its own health check', async () => {
    const response = await fetch(`${runtime.url}/healthz`);
    expect(await response.json()).toEqual({ ok: true, functions: template.functions.map((f) => f.name) });
  });

  it('answers 404 with a stable code for a path no function serves', async () => {
    const response = await fetch(`${runtime.url}/nope`);
    expect(response.status).toBe(404);
    expect((await readError(response)).code).toBe('ROUTE_NOT_FOUND');
  });

  it('lets the owning function answer a wrong method with 405 and Allow', async () => {
    const response = await fetch(`${runtime.url}/v1/health`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect((await readError(response)).code).toBe('METHOD_NOT_ALLOWED');
  });

  it('serves an absolute-form request target like its origin form', async () => {
    const reply = await send(runtime.url, { method: 'GET', path: 'http://example.com/v1/health?probe=1' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ ok: true, storeRoundTripMs: expect.any(Number) });
  });

  it.each([
    ['/v1\\health'],
    ['/v1/apps/../health'],
    ['/v1/apps/%2e%2e/health'],
    ['/v1/%2E/health'],
    ['/v1/apps%2F..%2Fhealth'],
    ['http://example.com/v1/x/../health'],
  ])('refuses the non-canonical path %s (404) instead of serving the path it resolves to', async (path) => {
    const before = runtime.invocations.length;
    const reply = await send(runtime.url, { method: 'GET', path });
    expect({ status: reply.status, error: JSON.parse(reply.body).error }).toMatchObject({
      status: 404,
      error: { code: 'PATH_NOT_CANONICAL', field: 'path' },
    });
    expect(runtime.invocations.length).toBe(before);
  });

  it('answers HEAD wherever GET is served: same status and headers, no body', async () => {
    const get = await fetch(`${runtime.url}/v1/health`);
    const head = await fetch(`${runtime.url}/v1/health`, { method: 'HEAD' });
    expect(head.status).toBe(get.status);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(head.headers.get('x-request-id')).toMatch(/.+/);
    expect(await head.text()).toBe('');
    const missing = await fetch(`${runtime.url}/v1/apps/app_nope`, { method: 'HEAD' });
    expect(missing.status).toBe((await fetch(`${runtime.url}/v1/apps/app_nope`)).status);
  });

  it('answers a chunked body over the limit with a 413 envelope, then closes', async () => {
    const before = runtime.invocations.length;
    const reply = await send(runtime.url, {
      method: 'POST',
      path: '/v1/health',
      chunks: Array.from({ length: 5 }, () => 'x'.repeat(16 * 1024)),
    });
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
    expect(JSON.parse(reply.body)).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String), field: 'body', requestId: expect.any(String) },
    });
    expect(runtime.invocations.length).toBe(before);
  });

  it('logs a client that hangs up mid-body as one info line, without a stack, and runs no function', async () => {
    const before = runtime.invocations.length;
    const linesBefore = logs.length;
    const { hostname, port } = new URL(runtime.url);
    // The abort's line, whatever its level: the access of /v1/apps, or the gateway's failure (ECONNRESET).
    const logged = nextLogLine((entry) => entry.path === '/v1/apps' || JSON.stringify(entry).includes('ECONNRESET'));
    const socket = connect(Number(port), hostname);
    await new Promise<void>((done) => socket.once('connect', () => done()));
    socket.write('POST /v1/apps HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"kind":');
    socket.destroy();
    const entry = await logged;
    expect(entry).toMatchObject({ level: 'info', method: 'POST', path: '/v1/apps' });
    expect(JSON.stringify(entry)).not.toMatch(/stack|ECONNRESET/);
    expect(logs.slice(linesBefore).filter((line) => (JSON.parse(line) as { level: string }).level === 'error')).toEqual([]);
    expect(runtime.invocations.length).toBe(before);
  });

  it('refuses an oversized body before any function runs', async () => {
    const before = runtime.invocations.length;
    const response = await fetch(`${runtime.url}/v1/health`, { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(await readError(response)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'body' });
    expect(runtime.invocations.length).toBe(before);
  });
});

describe('local runtime timers', () => {
  afterEach(() => jest.useRealTimers());

  it('fires the timer declared in serverless.yml on its SCF cron', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-21T10:03:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const runtime = await startLocalRuntime({ template, load, log });
    try {
      const maintenance = template.functions.find((f) => f.name === 'maintenance');
      expect(maintenance?.timers).toEqual([{ name: 'purge-expired', cronExpression: '0 */10 * * * * *', payload: undefined }]);
      await jest.advanceTimersByTimeAsync(6 * 60_000); // 10:09: not yet
      expect(runtime.invocations.filter((i) => i.fn === 'maintenance')).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(60_000); // 10:10:00
      await jest.advanceTimersByTimeAsync(0);
      for (let i = 0; i < 20 && runtime.invocations.filter((x) => x.fn === 'maintenance').length === 0; i++) {
        await new Promise((r) => setImmediate(r));
      }
      expect(runtime.invocations.filter((i) => i.fn === 'maintenance')).toEqual([
        { fn: 'maintenance', trigger: 'timer purge-expired', status: 'ok', durationMs: expect.any(Number) },
      ]);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      for (let i = 0; i < 20 && runtime.invocations.filter((x) => x.fn === 'maintenance').length < 2; i++) {
        await new Promise((r) => setImmediate(r));
      }
      expect(runtime.invocations.filter((i) => i.fn === 'maintenance')).toHaveLength(2);
    } finally {
      await runtime.close();
    }
  });

  it('refuses a template whose cron SCF would reject', () => {
    expect(() => loadTemplate(join(__dirname, 'fixtures', 'bad-cron.yml'))).toThrow(/7 fields/);
  });
});

/**
 * Every function bundle as the cloud runs it: built by scripts/build.ts into a directory outside the repository
 * (so `require` can only find what the bundle ships), loaded in a fresh Node process, and invoked through its
 * `handler` with the documented SCF function-URL / timer event adapted to one of its routes / timers.
 *
 * STORE=sqlite with a temp file (better-sqlite3 is never shipped, so it is linked in for this test only) and the
 * WeChat simulator in this process as WECHAT_API_BASE. The vendored cloud drivers are loaded too: MongoDB against
 * a closed loopback port (the driver must get as far as server selection), CloudBase without a request (it would
 * leave this machine).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadTemplate, type LocalFunction } from '../infra/local/template';
import { startWeChatSimulator, type WeChatSimulator } from '../infra/wechat-sim';
import { LOCAL_WECHAT_DEFAULTS } from '../shared/runtime/config';
import { DRIVER_BUDGET_BYTES, FUNCTION_BUDGET_BYTES, buildFunctions, formatSizeTable, functionNames, type BundleReport } from '../scripts/build';

const root = resolve(__dirname, '..');
const fixtures = join(root, 'shared', 'runtime', 'shim', 'fixtures');
const work = mkdtempSync(join(tmpdir(), 'wxa-bundles-'));
const dist = join(work, 'dist');
const runner = join(work, 'run.cjs');

// Loads one bundle in this fresh process, invokes it once, and reports the result and the modules it loaded.
const RUNNER = `
const fs = require('node:fs');
const [bundle, eventFile, contextFile] = process.argv.slice(2);
const report = (outcome) => { process.stdout.write('\\n@@' + JSON.stringify({ ...outcome, modules: Object.keys(require.cache) })); process.exit(0); };
let mod;
try { mod = require(bundle); } catch (e) { report({ loadError: String(e && e.stack || e) }); }
Promise.resolve()
  .then(() => mod.handler(JSON.parse(fs.readFileSync(eventFile, 'utf8')), JSON.parse(fs.readFileSync(contextFile, 'utf8'))))
  .then((result) => report({ result }), (e) => report({ error: { name: e && e.name, code: e && e.code, message: String(e && e.message) } }));
`;

interface RunReport {
  loadError?: string;
  result?: { statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean; [key: string]: unknown };
  error?: { name?: string; code?: string; message: string };
  modules: string[];
}

let reports: BundleReport[] = [];
let template: LocalFunction[] = [];
let sim: WeChatSimulator;
const scfContext = (JSON.parse(readFileSync(join(fixtures, 'contexts.json'), 'utf8')) as { scf: Record<string, unknown> }).scf;

beforeAll(async () => {
  writeFileSync(runner, RUNNER);
  reports = await buildFunctions(functionNames(), { outdir: dist, stores: ['cloudbase', 'mongodb'] });
  for (const { name } of reports) {
    symlinkSync(join(root, 'node_modules', 'better-sqlite3'), join(dist, name, 'node_modules', 'better-sqlite3'), 'dir');
  }
  template = loadTemplate(join(root, 'serverless.yml'), {}).functions;
  sim = await startWeChatSimulator({
    component: {
      appId: LOCAL_WECHAT_DEFAULTS.WECHAT_COMPONENT_APPID,
      secret: LOCAL_WECHAT_DEFAULTS.WECHAT_COMPONENT_SECRET,
      token: LOCAL_WECHAT_DEFAULTS.WECHAT_TOKEN,
      encodingAESKey: LOCAL_WECHAT_DEFAULTS.WECHAT_ENCODING_AES_KEY,
    },
  });
  console.log(`bundle sizes (node18, minified; drivers vendored: cloudbase, mongodb)\n${formatSizeTable(reports)}`);
}, 120_000);

afterAll(async () => {
  await sim?.close();
  rmSync(work, { recursive: true, force: true });
});

function baseEnv(name: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    WXA_ENV: 'local',
    STORE: 'sqlite',
    SQLITE_PATH: join(work, `${name}.db`),
    DATA_KEY: Buffer.alloc(32, 5).toString('base64'),
    ADMIN_API_KEY: 'bundle-test-admin-key-0123456789',
    WECHAT_API_BASE: sim.baseUrl,
    ...LOCAL_WECHAT_DEFAULTS,
    LOG_LEVEL: 'error',
  };
}

function invoke(name: string, event: unknown, env: Record<string, string>): RunReport {
  const eventFile = join(work, `${name}-${Math.random().toString(36).slice(2)}.json`);
  const contextFile = join(work, 'context.json');
  writeFileSync(eventFile, JSON.stringify(event));
  writeFileSync(contextFile, JSON.stringify({ ...scfContext, function_name: name }));
  const child = spawnSync(process.execPath, [runner, join(dist, name, 'index.js'), eventFile, contextFile], {
    cwd: work,
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const marker = child.stdout.lastIndexOf('\n@@');
  if (marker < 0) throw new Error(`${name}: no report (exit ${child.status})\n${child.stdout}\n${child.stderr}`);
  return JSON.parse(child.stdout.slice(marker + 3)) as RunReport;
}

/** The documented SCF function-URL event, aimed at one route. */
function urlEvent(method: string, path: string, body: string | null, headers: Record<string, string> = {}) {
  const sample = JSON.parse(readFileSync(join(fixtures, 'scf-url.json'), 'utf8')) as Record<string, unknown>;
  return {
    ...sample,
    httpMethod: method,
    path,
    queryString: {},
    headers: { ...(sample.headers as Record<string, string>), 'content-length': String(body?.length ?? 0), ...headers },
    body,
  };
}

/** The documented SCF timer event, for one timer. */
function timerEvent(triggerName: string, message: string | undefined) {
  const sample = JSON.parse(readFileSync(join(fixtures, 'scf-timer.json'), 'utf8')) as Record<string, unknown>;
  return { ...sample, TriggerName: triggerName, Time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Message: message ?? '' };
}

const fnOf = (name: string) => {
  const fn = template.find((f) => f.name === name);
  if (!fn) throw new Error(`${name} is not in serverless.yml`);
  return fn;
};

const loadedDrivers = (report: RunReport) =>
  report.modules.filter((m) => /node_modules[\\/](better-sqlite3|mongodb|@cloudbase[\\/]node-sdk)[\\/]/.test(m)).map((m) => m.slice(work.length));

describe('function bundles', () => {
  it('builds one bundle per function, each within its budget', () => {
    expect(reports.map((r) => r.name)).toEqual(functionNames());
    for (const report of reports) {
      expect({ name: report.name, over: report.bytes > FUNCTION_BUDGET_BYTES }).toEqual({ name: report.name, over: false });
      for (const driver of report.drivers) {
        expect({ driver: driver.package, over: driver.bytes > (DRIVER_BUDGET_BYTES[driver.package] ?? 0) }).toEqual({ driver: driver.package, over: false });
      }
    }
  });

  it('bundles no store driver and only the English zod locale', () => {
    for (const { name } of reports) {
      const meta = JSON.parse(readFileSync(join(dist, name, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
      const inputs = Object.keys(meta.inputs);
      expect(inputs.filter((i) => /node_modules\/(better-sqlite3|mongodb|bson|@cloudbase)\//.test(i))).toEqual([]);
      // Deployment tooling stays out of the functions.
      expect(inputs.filter((i) => /^(infra\/|scripts\/)|tencentcloud-sdk|@serverless-devs/.test(i))).toEqual([]);
      // The plugin's stand-in for locales/index.js, and en.js: no other locale file.
      expect(inputs.filter((i) => /zod\/(v4\/)?locales\//.test(i)).sort()).toEqual([
        'node_modules/zod/v4/locales/en.js',
        `zod-en:${join(root, 'node_modules', 'zod', 'v4', 'locales', 'index.js')}`,
      ]);
    }
  });

  it.each(functionNames())('%s loads in a fresh process and answers its SCF event', (name) => {
    const fn = fnOf(name);
    let report: RunReport;
    if (fn.routes.length > 0) {
      // A parameterless GET if there is one, else the first route, with placeholders for path parameters.
      const route = fn.routes.find((r) => r.method === 'GET' && r.names.length === 0) ?? fn.routes[0];
      const path = (route?.path ?? '/').replace(/\{[^}]+\}/g, 'wx0000000000000000');
      const body = route?.method === 'GET' ? null : '{}';
      report = invoke(name, urlEvent(route?.method ?? 'GET', path, body, body ? { 'content-type': 'application/json' } : {}), baseEnv(name));
      expect(report.loadError).toBeUndefined();
      expect(report.error).toBeUndefined();
      expect(report.result).toEqual({ isBase64Encoded: false, statusCode: expect.any(Number), headers: expect.any(Object), body: expect.any(String) });
      expect(report.result?.statusCode).toBeLessThan(500);
    } else {
      const timer = fn.timers[0];
      report = invoke(name, timerEvent(timer?.name ?? 'timer', timer?.payload), baseEnv(name));
      expect(report.loadError).toBeUndefined();
      expect(report.error).toBeUndefined();
    }
    // Only better-sqlite3 (STORE=sqlite); the cloud drivers stay unloaded.
    expect(loadedDrivers(report).every((m) => m.includes('better-sqlite3'))).toBe(true);
  });

  it('api answers GET /v1/health with 200 after a store round trip', () => {
    const report = invoke('api', urlEvent('GET', '/v1/health', null), baseEnv('api'));
    expect(report.result?.statusCode).toBe(200);
    expect(JSON.parse(report.result?.body ?? '{}')).toMatchObject({ ok: true, storeRoundTripMs: expect.any(Number) });
  });

  it('authorize-callback refuses an unsigned push with 401', () => {
    const report = invoke('authorize-callback', urlEvent('POST', '/wechat/component/events', '<xml><Encrypt>x</Encrypt></xml>'), baseEnv('authorize-callback'));
    expect(report.result?.statusCode).toBe(401);
  });

  it('maintenance purges on its timer', () => {
    const timer = fnOf('maintenance').timers[0];
    const report = invoke('maintenance', timerEvent(timer?.name ?? '', timer?.payload), baseEnv('maintenance'));
    expect(report.result).toEqual({ purged: expect.any(Number) });
  });

  it('reports configuration errors in English (zod keeps its English locale)', () => {
    const report = invoke('maintenance', timerEvent('purge-expired', undefined), { ...baseEnv('maintenance'), LOG_LEVEL: 'loud' });
    expect(report.error?.message).toMatch(/LOG_LEVEL Invalid option: expected one of "debug"\|"info"\|"warn"\|"error"/);
  });
});

describe('vendored store drivers', () => {
  it('STORE=mongodb loads the mongodb shipped next to the bundle, which then tries to reach the server', () => {
    const report = invoke('maintenance', timerEvent('purge-expired', undefined), {
      ...baseEnv('maintenance'),
      STORE: 'mongodb',
      // Port 9 (discard) on loopback: nothing listens, so server selection fails fast.
      MONGODB_URL: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300&connectTimeoutMS=300',
    });
    expect(report.error?.name).toBe('MongoServerSelectionError');
    expect(loadedDrivers(report)).toEqual(['/dist/maintenance/node_modules/mongodb/index.js']);
  });

  it('the shipped @cloudbase/node-sdk loads on its own and builds queries without a request', () => {
    const script = `
      const tcb = require(require.resolve('@cloudbase/node-sdk', { paths: [process.argv[1]] }));
      const db = tcb.init({ env: 'test-env', secretId: 'id', secretKey: 'key' }).database();
      const q = db.collection('c').where({ expiresAt: db.command.gt(1) });
      process.stdout.write(JSON.stringify({ resolved: require.resolve('@cloudbase/node-sdk', { paths: [process.argv[1]] }), filters: q._fieldFilters }));`;
    const child = spawnSync(process.execPath, ['-e', script, join(dist, 'api')], { cwd: work, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const out = JSON.parse(child.stdout) as { resolved: string; filters: string };
    expect(out.resolved).toBe(join(dist, 'api', 'node_modules', '@cloudbase', 'node-sdk', 'index.js'));
    // The SDK serialises filters as canonical Extended JSON.
    expect(JSON.parse(out.filters)).toEqual({ expiresAt: { $gt: { $numberInt: '1' } } });
  });

  it('a bundle built without the configured driver says how to rebuild', () => {
    rmSync(join(dist, 'maintenance', 'node_modules', 'mongodb'), { recursive: true, force: true });
    expect(existsSync(join(dist, 'maintenance', 'node_modules', 'mongodb'))).toBe(false);
    const report = invoke('maintenance', timerEvent('purge-expired', undefined), {
      ...baseEnv('maintenance'),
      STORE: 'mongodb',
      MONGODB_URL: 'mongodb://127.0.0.1:9/',
    });
    expect(report.error?.message).toMatch(/STORE=mongodb needs mongodb, which this build does not carry: rebuild with STORE=mongodb npm run build/);
  });
});

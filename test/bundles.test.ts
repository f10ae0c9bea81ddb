/**
 * Every function bundle as the cloud runs it: built by scripts/build.ts into a directory outside the repository
 * (so `require` can only find what the bundle ships), loaded in a fresh Node process, and invoked through its
 * `handler` with the documented SCF function-URL / timer event adapted to one of its routes / timers.
 *
 * STORE=sqlite with a temp file (better-sqlite3 is never shipped, so it is linked in for this test only) and the
 * WeChat simulator in this process as WECHAT_API_BASE. The vendored cloud drivers are loaded too: MongoDB against
 * a closed loopback port (the driver must get as far as server selection), CloudBase without a request (it would
 * leave this machine).
 *
 * Each `index.js` is the loader scripts/build.ts writes: it compiles `bundle.js` from its V8 code cache. The runs
 * report what each loader did, so the tests see the cache taken by a fresh build, and the loader falling back to
 * compiling the bundle (and the function still answering) when the cache is missing, damaged, stale or foreign.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import { loadSourceMap } from '../bench/sourcemap';
import { type LocalFunction, loadTemplate } from '../infra/local/template';
import { startWeChatSimulator, type WeChatSimulator } from '../infra/wechat-sim';
import {
  BUNDLE_FILES,
  type BundleReport,
  buildFunctions,
  CJS_WRAPPER,
  classicZodInputs,
  DEFAULT_PROVIDERS,
  DRIVER_BUDGET_BYTES,
  FC_TRAINING_INVOCATIONS,
  FUNCTION_BUDGET_BYTES,
  formatSizeTable,
  functionNames,
  LOADED_BUNDLES,
  type LoadedBundle,
  lazyBuiltinsPlugin,
  loaderSource,
  localBundleEnv,
  namedImportsOf,
  produceCodeCache,
  readCodeCacheHeader,
  TRAINING_INVOCATIONS,
  trainingEnv,
  trainingInvocations,
  withoutOpenApiMetadata,
} from '../scripts/build';
import { LOCAL_WECHAT_DEFAULTS } from '../shared/runtime/config';
import { OPENAPI_FILE } from '../shared/runtime/http/openapi';

const root = resolve(__dirname, '..');
const fixtures = join(root, 'shared', 'runtime', 'shim', 'fixtures');
const work = mkdtempSync(join(tmpdir(), 'wxa-bundles-'));
const dist = join(work, 'dist');
const runner = join(work, 'run.cjs');
/** The bundles under test carry every store, so that one build runs with each. */
const ALL_STORES = ['sqlite', 'cloudbase', 'mongodb'] as const;

// Loads one bundle in this fresh process, invokes it once, and reports the result, the modules it loaded and what
// each bundle loader did with its code cache.
const RUNNER = `
const fs = require('node:fs');
const [bundle, eventFile, contextFile] = process.argv.slice(2);
const caches = () => Object.fromEntries([...(globalThis[Symbol.for(${JSON.stringify(LOADED_BUNDLES)})] || new Map())].map(([name, loaded]) => [name, loaded.cache]));
// Exits once the report is written: a pipe takes a large one (the OpenAPI document) in several writes.
const builtins = () => process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
const report = (outcome) => process.stdout.write('\\n@@' + JSON.stringify({ ...outcome, modules: Object.keys(require.cache), builtins: builtins(), caches: caches() }), () => process.exit(0));
let mod;
try { mod = require(bundle); } catch (e) { report({ loadError: String(e && e.stack || e) }); }
if (mod) Promise.resolve()
  .then(() => mod.handler(JSON.parse(fs.readFileSync(eventFile, 'utf8')), JSON.parse(fs.readFileSync(contextFile, 'utf8'))))
  .then((result) => report({ result }), (e) => report({ error: { name: e && e.name, code: e && e.code, message: String(e && e.message), stack: String(e && e.stack) } }));
`;

interface RunReport {
  loadError?: string;
  result?: { statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean; [key: string]: unknown };
  error?: { name?: string; code?: string; message: string; stack: string };
  modules: string[];
  /** Node's built-in modules the process loaded (`process.moduleLoadList`), e.g. `https`, `stream/web`. */
  builtins: string[];
  /** Script name (`<function>/bundle.js`, `node_modules/<driver>/bundle.js`) → what its loader did with the cache. */
  caches: Record<string, LoadedBundle['cache']>;
}

let reports: BundleReport[] = [];
let template: LocalFunction[] = [];
let sim: WeChatSimulator;
const scfContext = (JSON.parse(readFileSync(join(fixtures, 'contexts.json'), 'utf8')) as { scf: Record<string, unknown> }).scf;

beforeAll(async () => {
  writeFileSync(runner, RUNNER);
  // The default providers whatever the shell exports (WXA_PROVIDERS): the tests below send SCF and FC events.
  reports = await buildFunctions(functionNames(), { outdir: dist, stores: ALL_STORES, providers: DEFAULT_PROVIDERS });
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
});
afterAll(async () => {
  await sim?.close();
  rmSync(work, { recursive: true, force: true });
});

function baseEnv(name: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    ...localBundleEnv({ sqlitePath: join(work, `${name}.db`), weChatApiBase: sim.baseUrl, logLevel: 'error' }),
  };
}

/** `context`: the provider's context object, SCF's by default. */
function invoke(
  name: string,
  event: unknown,
  env: Record<string, string>,
  dir = join(dist, name),
  context: unknown = { ...scfContext, function_name: name },
): RunReport {
  const id = Math.random().toString(36).slice(2);
  const eventFile = join(work, `${name}-${id}.json`);
  const contextFile = join(work, `${name}-${id}.context.json`);
  writeFileSync(eventFile, JSON.stringify(event));
  writeFileSync(contextFile, JSON.stringify(context));
  const child = spawnSync(process.execPath, [runner, join(dir, 'index.js'), eventFile, contextFile], {
    cwd: work,
    env,
    encoding: 'utf8',
    timeout: 120_000, // a hang guard, not a speed limit
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

/**
 * The store drivers a run loaded, as paths under the test's work directory (`/dist/…`), or as `<outside>/…` for one
 * loaded from elsewhere (the repo's own node_modules, through the better-sqlite3 symlink): `relative`, never a cut
 * by the length of one path, so the answer is the same wherever the repo and the temp directory live.
 */
const loadedDrivers = (report: RunReport) =>
  report.modules
    .filter((m) => /node_modules[\\/](better-sqlite3|mongodb|@cloudbase[\\/]node-sdk)[\\/]/.test(m))
    .map((m) => {
      const inside = relative(work, m);
      return inside.startsWith('..') || isAbsolute(inside)
        ? `<outside>/${relative(root, m).split(sep).join('/')}`
        : `/${inside.split(sep).join('/')}`;
    });

describe('function bundles', () => {
  it('builds one bundle per function, each within its budget', () => {
    expect(reports.map((r) => r.name)).toEqual(functionNames());
    for (const report of reports) {
      expect({ name: report.name, over: report.bytes > FUNCTION_BUDGET_BYTES }).toEqual({ name: report.name, over: false });
      for (const driver of report.drivers) {
        expect({ driver: driver.package, over: driver.bytes > (DRIVER_BUDGET_BYTES[driver.package] ?? 0) }).toEqual({
          driver: driver.package,
          over: false,
        });
      }
    }
  });

  it('bundles no store driver and only the English zod locale', () => {
    for (const { name } of reports) {
      const meta = JSON.parse(readFileSync(join(dist, name, 'meta.json'), 'utf8')) as {
        inputs: Record<string, unknown>;
        outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
      };
      const inputs = Object.keys(meta.inputs);
      expect(inputs.filter((i) => /node_modules\/(better-sqlite3|mongodb|bson|@cloudbase)\//.test(i))).toEqual([]);
      // The drivers are `require`d from next to the bundle: an `import()` of the bundled CloudBase SDK saw no
      // `init` (its CommonJS exports only as `default`), and the loader's vm.Script has no `import()` at all.
      const external = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external && !i.path.startsWith('node:')));
      expect(external.filter((i) => i.kind !== 'require-call')).toEqual([]);
      // Deployment tooling stays out of the functions.
      expect(inputs.filter((i) => /^(infra\/|scripts\/)|tencentcloud-sdk|@serverless-devs/.test(i))).toEqual([]);
      // The plugin's stand-in for locales/index.js, and en.js: no other locale file.
      // (From node_modules/ on: in a git worktree node_modules may be a symlink, which esbuild resolves.)
      const fromNodeModules = (input: string) => input.replace(/^(zod-en:)?.*?(node_modules\/)/, '$1$2');
      expect(
        inputs
          .filter((i) => /zod\/(v4\/)?locales\//.test(i))
          .map(fromNodeModules)
          .sort(),
      ).toEqual(['node_modules/zod/v4/locales/en.js', 'zod-en:node_modules/zod/v4/locales/index.js']);
      // zod/mini only (the build refuses classic zod): none of classic's methods, nor z.fromJSONSchema.
      expect(classicZodInputs(inputs)).toEqual([]);
      expect(inputs.filter((i) => /from-json-schema/.test(i))).toEqual([]);
      // None of zod's util namespace kept whole (zod's own `catch` read it as `core.util.…`; shared/domain/zod.ts):
      // the error of its hex decoder, which nothing here calls, stays out.
      expect(readFileSync(join(dist, name, BUNDLE_FILES.bundle), 'utf8')).not.toContain('Invalid hex string length');
    }
  });

  it('bundle.js, minified by esbuild then by swc, is the CommonJS wrapper around code that maps to our sources', () => {
    const code = readFileSync(join(dist, 'review', BUNDLE_FILES.bundle), 'utf8');
    expect(code.startsWith(`${CJS_WRAPPER.head}\n`)).toBe(true);
    expect(code.endsWith(`\n${CJS_WRAPPER.tail}`)).toBe(true);
    const map = loadSourceMap(join(dist, 'review', `${BUNDLE_FILES.bundle}.map`));
    const sourceOf = (needle: string) => {
      const at = code.indexOf(needle);
      const before = code.slice(0, at);
      return at < 0 ? 'not found' : map.sourceAt(before.split('\n').length - 1, at - before.lastIndexOf('\n') - 1);
    };
    // (Relative to the bundle's directory, which is outside the repository here.)
    expect(sourceOf('SELECT id, version, expires_at, body FROM')).toMatch(/(^|\/)shared\/store\/sqlite\.ts$/);
    expect(sourceOf('Invalid input: expected ')).toMatch(/(^|\/)node_modules\/zod\/v4\/locales\/en\.js$/);
  });

  it('ships no OpenAPI metadata in a bundle, and the document the api serves keeps it', () => {
    // A description given by z.described in shared/routes/build-trigger.ts, and an id given by z.registered.
    const description = "A template of the library (GET /v1/templates) to build; left out: the latest version of the app's template.";
    const document = readFileSync(join(dist, 'api', OPENAPI_FILE), 'utf8');
    expect(document).toContain(JSON.stringify(description));
    for (const name of ['build-trigger', 'api']) {
      expect(readFileSync(join(dist, name, BUNDLE_FILES.bundle), 'utf8')).not.toContain(description.slice(0, 40));
    }
    // A route's summary (functions/api/routes.ts).
    expect(document).toContain('"summary":"Liveness and store round-trip"');
    expect(readFileSync(join(dist, 'api', BUNDLE_FILES.bundle), 'utf8')).not.toContain('Liveness and store round-trip');
  });

  it.each(functionNames())('%s loads in a fresh process and answers its SCF event', (name) => {
    const fn = fnOf(name);
    let report: RunReport;
    if (fn.routes.length > 0) {
      // A parameterless GET if there is one, else the first route, with placeholders for path parameters.
      const route = fn.routes.find((r) => r.method === 'GET' && r.names.length === 0) ?? fn.routes[0];
      const path = (route?.path ?? '/').replace(/\{[^}]+\}/g, 'wx0000000000000000');
      const body = route?.method === 'GET' ? null : '{}';
      report = invoke(
        name,
        urlEvent(route?.method ?? 'GET', path, body, body ? { 'content-type': 'application/json' } : {}),
        baseEnv(name),
      );
      expect(report.loadError).toBeUndefined();
      expect(report.error).toBeUndefined();
      expect(report.result).toEqual({
        isBase64Encoded: false,
        statusCode: expect.any(Number),
        headers: expect.any(Object),
        body: expect.any(String),
      });
      expect(report.result?.statusCode).toBeLessThan(500);
    } else {
      const timer = fn.timers[0];
      report = invoke(name, timerEvent(timer?.name ?? 'timer', timer?.payload), baseEnv(name));
      expect(report.loadError).toBeUndefined();
      expect(report.error).toBeUndefined();
    }
    // Only better-sqlite3 (STORE=sqlite); the cloud drivers stay unloaded.
    expect(loadedDrivers(report).every((m) => m.includes('better-sqlite3'))).toBe(true);
    // Built-ins only a webhook delivery or a streamed response reads stay unloaded (scripts/build.ts LAZY_BUILTINS).
    expect(report.builtins.filter((m) => /^(https?|dns|tls|stream\/web)$/.test(m))).toEqual([]);
    // Compiled from the code cache the build made (this Node made it, so V8 takes it).
    expect(report.caches).toEqual({ [`${name}/bundle.js`]: 'used' });
  });

  it('api answers GET /v1/health with 200 after a store round trip', () => {
    const report = invoke('api', urlEvent('GET', '/v1/health', null), baseEnv('api'));
    expect(report.result?.statusCode).toBe(200);
    expect(JSON.parse(report.result?.body ?? '{}')).toMatchObject({ ok: true, storeRoundTripMs: expect.any(Number) });
  });

  it('api serves the OpenAPI document the build wrote next to it, with its own URL, and carries no generator', () => {
    const report = invoke('api', urlEvent('GET', '/openapi.json', null), { ...baseEnv('api'), PUBLIC_BASE_URL: 'https://api.example.com' });
    expect(report.result?.statusCode).toBe(200);
    const written = JSON.parse(readFileSync(join(dist, 'api', OPENAPI_FILE), 'utf8')) as Record<string, unknown>;
    expect(report.result?.body).toBe(JSON.stringify({ ...written, servers: [{ url: 'https://api.example.com' }] }));
    // What bundle.js holds (the metafile's inputs also list what esbuild read and then left out).
    const meta = JSON.parse(readFileSync(join(dist, 'api', 'meta.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    const held = Object.entries(meta.outputs)
      .filter(([file]) => file.endsWith(BUNDLE_FILES.bundle))
      .flatMap(([, output]) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0))
      .map(([input]) => input);
    expect(held.filter((i) => /json-schema|functions\/api\/openapi-document/.test(i))).toEqual([]);
    expect(held).toContain('functions/api/routes.ts');
  });

  it('authorize-callback refuses an unsigned push with 401', () => {
    // A push as WeChat posts it (encrypt_type=aes), only unsigned.
    const push = {
      ...urlEvent('POST', '/wechat/component/events', '<xml><Encrypt>x</Encrypt></xml>', { 'content-type': 'text/xml' }),
      queryString: { encrypt_type: 'aes' },
    };
    const report = invoke('authorize-callback', push, baseEnv('authorize-callback'));
    expect(report.result?.statusCode).toBe(401);
    // A flat document: read by the fast path, so fast-xml-parser is never loaded.
    expect(report.modules.filter((m) => m.includes('fast-xml-parser'))).toEqual([]);
  });

  it('authorize-callback loads fast-xml-parser, shipped next to it, for a document the fast path leaves to it', () => {
    // An XML declaration: the fast path gives up, the general parser reads the envelope, the signature still fails.
    const xml = '<?xml version="1.0" encoding="UTF-8"?><xml><Encrypt>x</Encrypt></xml>';
    const push = {
      ...urlEvent('POST', '/wechat/component/events', xml, { 'content-type': 'text/xml' }),
      queryString: { encrypt_type: 'aes' },
    };
    const report = invoke('authorize-callback', push, baseEnv('authorize-callback'));
    expect(report.result?.statusCode).toBe(401);
    expect(report.modules.filter((m) => m.includes('fast-xml-parser')).map((m) => relative(dist, m).split(sep).join('/'))).toEqual([
      'authorize-callback/node_modules/fast-xml-parser/index.js',
    ]);
    expect(report.caches['node_modules/fast-xml-parser/bundle.js']).toBe('used');
    // Only the functions that require it carry it.
    const carriers = reports.filter((r) => r.drivers.some((d) => d.package === 'fast-xml-parser')).map((r) => r.name);
    expect(carriers).toEqual(['authorize-callback', 'review']);
  });

  it('authorize-callback built without fast-xml-parser answers such a document with a 500, not as a bad document', () => {
    const dir = join(work, 'no-xml-library', 'authorize-callback');
    cpSync(join(dist, 'authorize-callback'), dir, { recursive: true });
    rmSync(join(dir, 'node_modules', 'fast-xml-parser'), { recursive: true, force: true });
    const xml = '<?xml version="1.0" encoding="UTF-8"?><xml><Encrypt>x</Encrypt></xml>';
    const push = {
      ...urlEvent('POST', '/wechat/component/events', xml, { 'content-type': 'text/xml' }),
      queryString: { encrypt_type: 'aes' },
    };
    const report = invoke('authorize-callback', push, baseEnv('authorize-callback'), dir);
    // A deployment mistake: WeChat retries a 5xx, and the operator's log says what is missing.
    expect(report.result?.statusCode).toBe(500);
  });

  it('maintenance purges on its timer', () => {
    const timer = fnOf('maintenance').timers[0];
    const report = invoke('maintenance', timerEvent(timer?.name ?? '', timer?.payload), baseEnv('maintenance'));
    expect(report.result).toEqual({ purged: expect.any(Number) });
  });

  it('reports configuration errors in English (zod keeps its English locale)', () => {
    const report = invoke('maintenance', timerEvent('purge-expired', undefined), { ...baseEnv('maintenance'), LOG_LEVEL: 'loud' });
    expect(report.error?.message).toMatch(/LOG_LEVEL Invalid option: expected one of "debug"\|"info"\|"warn"\|"error"/);
    // Stack frames name the function's bundle (the script name the cache was made with), at its own lines.
    expect(report.error?.stack).toMatch(/\(maintenance\/bundle\.js:\d+:\d+\)/);
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
    // The driver has its own loader and code cache.
    expect(report.caches).toEqual({ 'maintenance/bundle.js': 'used', 'node_modules/mongodb/bundle.js': 'used' });
  });

  it('the shipped @cloudbase/node-sdk loads on its own and builds queries without a request', () => {
    const script = `
      const tcb = require(require.resolve('@cloudbase/node-sdk', { paths: [process.argv[1]] }));
      const db = tcb.init({ env: 'test-env', secretId: 'id', secretKey: 'key' }).database();
      const q = db.collection('c').where({ expiresAt: db.command.gt(1) });
      process.stdout.write(JSON.stringify({ resolved: require.resolve('@cloudbase/node-sdk', { paths: [process.argv[1]] }), filters: q._fieldFilters }));`;
    const child = spawnSync(process.execPath, ['-e', script, join(dist, 'api')], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
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
    expect(report.error?.message).toMatch(
      /STORE=mongodb needs mongodb, which this build does not carry: rebuild with STORE=mongodb npm run build/,
    );
  });
});

describe('a bundle built for one store', () => {
  const adapters = (dir: string) =>
    Object.keys((JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> }).inputs)
      .filter((input) => /^shared\/store\/(sqlite|cloudbase|mongodb)\.ts$/.test(input))
      .sort();

  it('carries only that store adapter and driver, and refuses another store with how to rebuild', async () => {
    const out = join(work, 'cloudbase-only');
    const [report] = await buildFunctions(['maintenance'], { outdir: out, stores: ['cloudbase'], codeCache: false });
    expect(adapters(join(dist, 'maintenance'))).toEqual(['shared/store/cloudbase.ts', 'shared/store/mongodb.ts', 'shared/store/sqlite.ts']);
    expect(adapters(join(out, 'maintenance'))).toEqual(['shared/store/cloudbase.ts']);
    expect(report?.drivers.map((d) => d.package)).toEqual(['@cloudbase/node-sdk']);
    expect(report?.bytes).toBeLessThan(reports.find((r) => r.name === 'maintenance')?.bytes ?? 0);
    for (const [store, extra] of [
      ['sqlite', {}],
      ['mongodb', { MONGODB_URL: 'mongodb://127.0.0.1:9/' }],
    ] as const) {
      const run = invoke(
        'maintenance',
        timerEvent('purge-expired', undefined),
        { ...baseEnv('maintenance'), STORE: store, ...extra },
        join(out, 'maintenance'),
      );
      expect(run.error).toMatchObject({
        code: 'CONFIG_INVALID',
        message: `STORE=${store}: this build carries no ${store} store (built for STORE=cloudbase): rebuild with STORE=${store} npm run build`,
      });
      expect(loadedDrivers(run)).toEqual([]);
    }
  });

  // Its code cache is made in a training environment with a store the bundle carries (a cloud one, unreachable):
  // the first request is composed and answered without a store call, and a store call fails here, locally.
  it.each([['cloudbase'], ['mongodb']] as const)('built for %s, answers its training invocations locally', async (store) => {
    const out = join(work, `${store}-only`);
    await buildFunctions(['unbind', 'maintenance'], { outdir: out, stores: [store], codeCache: false });
    const env = { PATH: process.env.PATH ?? '', ...trainingEnv(join(work, `training-${store}`), [store]) } as Record<string, string>;
    expect(env.STORE).toBe(store);
    const [request] = TRAINING_INVOCATIONS.map(({ event }) => invoke('unbind', event, env, join(out, 'unbind')));
    expect(request?.result?.statusCode).toBe(404);
    expect(JSON.parse(request?.result?.body ?? '{}')).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    const tick = invoke('maintenance', TRAINING_INVOCATIONS[1].event, env, join(out, 'maintenance'));
    if (store === 'cloudbase') {
      // No credentials: refused before the SDK is loaded, so no request leaves the machine.
      expect(tick.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^CloudBase needs credentials/) });
      expect(loadedDrivers(tick)).toEqual([]);
    } else {
      expect(tick.error?.name).toBe('MongoServerSelectionError');
      expect(new URL(env.MONGODB_URL ?? '').hostname).toBe('127.0.0.1');
    }
  });
});

describe('a bundle built for some providers', () => {
  /** The shim files whose code is in a bundle.js (the metafile's inputs also list what esbuild read, then dropped). */
  const shims = (dir: string) => {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    return Object.entries(meta.outputs)
      .filter(([file]) => file.endsWith(BUNDLE_FILES.bundle))
      .flatMap(([, output]) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0))
      .map(([input]) => /shared\/runtime\/shim\/([a-z]+)\.ts$/.exec(input)?.[1])
      .filter((shim) => shim !== undefined)
      .sort();
  };
  /** A string of shim/scf.ts only (the function URL's request-id header), which survives minification. */
  const SCF_MARKER = 'x-scf-request-id';
  const fixture = (kind: string) => JSON.parse(readFileSync(join(fixtures, `${kind}.json`), 'utf8')) as Record<string, unknown>;
  // (No `name`: the bundle is minified, class names with it.)
  const notInBundle = (kind: string, provider: string, built: string) => ({
    code: 'TRIGGER_PROVIDER_NOT_IN_BUNDLE',
    message: `${kind} event: this bundle carries no ${provider} shim (built for WXA_PROVIDERS=${built}): rebuild with WXA_PROVIDERS=${built},${provider} npm run build`,
  });

  it('by default carries the shims of the deploy targets, SCF and FC, and refuses an AWS or local event by name', () => {
    for (const report of reports) {
      expect({ name: report.name, providers: report.providers }).toEqual({ name: report.name, providers: ['scf', 'fc'] });
      expect({ name: report.name, shims: shims(join(dist, report.name)) }).toEqual({
        name: report.name,
        shims: ['common', 'fc', 'index', 'scf'],
      });
      expect(readFileSync(join(dist, report.name, BUNDLE_FILES.bundle), 'utf8')).toContain(SCF_MARKER);
    }
    // The SCF events are answered by every function (above); FC's too, as serverless.fc.yml deploys the same dist.
    const [fcRequest] = FC_TRAINING_INVOCATIONS;
    const fc = invoke('unbind', fcRequest.event, baseEnv('unbind'), join(dist, 'unbind'), fixture('contexts').fc);
    expect(fc.result?.statusCode).toBe(404);
    expect(JSON.parse(fc.result?.body ?? '{}')).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    const aws = invoke('unbind', fixture('aws-v2'), baseEnv('unbind'));
    expect(aws.error).toEqual(expect.objectContaining(notInBundle('aws-v2', 'aws', 'scf,fc')));
    const local = invoke('maintenance', fixture('local-timer'), baseEnv('maintenance'));
    expect(local.error).toEqual(expect.objectContaining(notInBundle('local-timer', 'local', 'scf,fc')));
  });

  it('built for FC only, leaves the SCF shim out, refuses an SCF event by name, and answers the FC events it is trained with', async () => {
    const out = join(work, 'fc-only');
    const built = await buildFunctions(['unbind', 'maintenance'], { outdir: out, stores: ['sqlite'], providers: ['fc'] });
    expect(built.map((r) => r.providers)).toEqual([['fc'], ['fc']]);
    for (const name of ['unbind', 'maintenance']) {
      expect(shims(join(out, name))).toEqual(['common', 'fc', 'index']);
      expect(readFileSync(join(out, name, BUNDLE_FILES.bundle), 'utf8')).not.toContain(SCF_MARKER);
      mkdirSync(join(out, name, 'node_modules'), { recursive: true });
      symlinkSync(join(root, 'node_modules', 'better-sqlite3'), join(out, name, 'node_modules', 'better-sqlite3'), 'dir');
    }
    expect(built.find((r) => r.name === 'unbind')?.bytes).toBeLessThan(reports.find((r) => r.name === 'unbind')?.bytes ?? 0);

    const timer = fnOf('maintenance').timers[0];
    const scf = invoke('maintenance', timerEvent(timer?.name ?? '', timer?.payload), baseEnv('maintenance'), join(out, 'maintenance'));
    expect(scf.error).toEqual(expect.objectContaining(notInBundle('scf-timer', 'scf', 'fc')));
    const url = invoke('unbind', urlEvent('GET', '/', null), baseEnv('unbind'), join(out, 'unbind'));
    expect(url.error).toEqual(expect.objectContaining(notInBundle('scf-url', 'scf', 'fc')));

    // Its code cache is made after FC's training invocations (it would refuse SCF's), which it answers in the
    // training configuration, locally; V8 takes the cache.
    expect(trainingInvocations(['fc'])).toBe(FC_TRAINING_INVOCATIONS);
    const env = { PATH: process.env.PATH ?? '', ...trainingEnv(join(work, 'training-fc')) } as Record<string, string>;
    const [request, tick] = FC_TRAINING_INVOCATIONS;
    const answered = invoke('unbind', request.event, env, join(out, 'unbind'), request.context);
    expect(answered.result?.statusCode).toBe(404);
    expect(JSON.parse(answered.result?.body ?? '{}')).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    expect(answered.caches).toEqual({ 'unbind/bundle.js': 'used' });
    const ticked = invoke('maintenance', tick.event, env, join(out, 'maintenance'), tick.context);
    expect(ticked.result).toEqual({ purged: expect.any(Number) });
  });
});

describe('code cache', () => {
  const purge = () => timerEvent('purge-expired', undefined);
  /** A copy of the maintenance function directory, its cache altered by `alter`. */
  const variant = (label: string, alter: (dir: string) => void | Promise<void>) => async () => {
    const dir = join(work, 'variants', label);
    cpSync(join(dist, 'maintenance'), dir, { recursive: true });
    await alter(dir);
    return dir;
  };
  const cacheFile = (dir: string) => join(dir, BUNDLE_FILES.codeCache);
  /** The cache file: its header line, and V8's data after it. */
  const split = (dir: string) => {
    const bytes = readFileSync(cacheFile(dir));
    const end = bytes.indexOf(10);
    return { header: JSON.parse(bytes.toString('latin1', 0, end)) as Record<string, unknown>, data: bytes.subarray(end + 1) };
  };
  const join2 = (header: Record<string, unknown>, data: Buffer) =>
    Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`, 'latin1'), data]);

  it('is made by this Node for the bundle next to it, and is the same bytes at every build', async () => {
    const header = readCodeCacheHeader(cacheFile(join(dist, 'maintenance')));
    expect(header).toMatchObject({ format: 1, node: process.version, v8: process.versions.v8, arch: process.arch });
    const again = join(work, 'rebuild');
    await buildFunctions(['maintenance'], { outdir: again, stores: ALL_STORES });
    expect(readFileSync(cacheFile(join(again, 'maintenance')))).toEqual(readFileSync(cacheFile(join(dist, 'maintenance'))));
  });
  // The build invokes each function with these before it makes the cache (so the code of a first request is in it):
  // each must be answered in the training environment, locally, as the function answers any first request.
  it.each(functionNames())('%s answers the invocations its cache is made after, without leaving the machine', (name) => {
    const env = { PATH: process.env.PATH ?? '', ...trainingEnv(join(work, `training-${name}`)) } as Record<string, string>;
    expect(new URL(env.WECHAT_API_BASE ?? '').hostname).toBe('127.0.0.1');
    const [request, tick] = TRAINING_INVOCATIONS.map(({ event }) => invoke(name, event, env));
    const { routes, timers } = fnOf(name);
    if (routes.length > 0) {
      expect(request?.result?.statusCode).toBe(404);
      expect(JSON.parse(request?.result?.body ?? '{}')).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    } else {
      expect(request?.error?.code).toBe('TRIGGER_HANDLER_MISSING');
    }
    if (timers.length > 0) expect(tick?.error).toBeUndefined();
    else expect(tick?.error?.code).toBe('TRIGGER_HANDLER_MISSING');
  });

  it.each([
    ['no cache file', 'none', variant('missing', (dir) => rmSync(cacheFile(dir)))],
    // V8 checks only the length, its version and its flags, and Node 20's V8 no longer verifies the data's checksum:
    // offered this cache, it aborts the process. The loader's digest of the data catches it first.
    [
      'damaged V8 data',
      'stale',
      variant('damaged', (dir) => {
        const { header, data } = split(dir);
        for (const at of [data.length >> 2, data.length >> 1]) data[at] = (data[at] ?? 0) ^ 0x5a;
        writeFileSync(cacheFile(dir), join2(header, data));
      }),
    ],
    [
      'a truncated cache',
      'stale',
      variant('truncated', (dir) => writeFileSync(cacheFile(dir), readFileSync(cacheFile(dir)).subarray(0, 4096))),
    ],
    ['a file that is no cache', 'stale', variant('garbage', (dir) => writeFileSync(cacheFile(dir), 'not a cache'))],
    // Edited in place, same length: V8 would take the cache and run the old code.
    [
      'the cache of an edited bundle',
      'stale',
      variant('edited', (dir) => {
        const file = join(dir, BUNDLE_FILES.bundle);
        const code = readFileSync(file, 'latin1');
        const at = code.indexOf('Invalid configuration');
        expect(at).toBeGreaterThan(0);
        writeFileSync(file, `${code.slice(0, at)}Invalid Configuration${code.slice(at + 'Invalid configuration'.length)}`, 'latin1');
      }),
    ],
    [
      'a cache made by another Node',
      'rejected',
      variant('other-node', (dir) => {
        const { header, data } = split(dir);
        writeFileSync(cacheFile(dir), join2({ ...header, node: 'v0.0.0' }, data));
      }),
    ],
    // Same Node, other V8 flags (as a runtime started with --max-old-space-size would be): V8 refuses it.
    [
      'a cache made with other V8 flags',
      'rejected',
      variant('other-flags', async (dir) => {
        rmSync(cacheFile(dir));
        await produceCodeCache(dir, 'maintenance/bundle.js', process.execPath, ['--max-old-space-size=123']);
      }),
    ],
  ])('%s (%s): the bundle is compiled from source and answers', async (_label, status, make) => {
    const dir = await make();
    const report = invoke('maintenance', purge(), baseEnv('maintenance'), dir);
    expect(report.loadError).toBeUndefined();
    expect(report.caches).toEqual({ 'maintenance/bundle.js': status });
    expect(report.result).toEqual({ purged: expect.any(Number) });
  });
});

describe('lazy built-ins', () => {
  it('an outbound POST loads node:http only when it sends, and still answers through the getters', async () => {
    const dir = join(work, 'lazy-builtins');
    await build({
      stdin: {
        contents: [
          "import { createServer } from 'node:net';",
          "import { guardedPost } from './shared/runtime/outbound/guarded-post';",
          'const loaded = () => process.moduleLoadList.filter((m) => /^NativeModule (https?|dns)$/.test(m)).map((m) => m.slice(13));',
          'const before = loaded();',
          // A raw TCP server answering one HTTP request: the test's own side must not load node:http either.
          "const server = createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 204 No Content\\r\\nconnection: close\\r\\n\\r\\n')));",
          "server.listen(0, '127.0.0.1', async () => {",
          "  const url = 'http://127.0.0.1:' + server.address().port + '/hook';",
          "  const outcome = await guardedPost(url, {}, '{}', { mode: 'local', timeoutMs: 5000, maxAnswerBytes: 100 });",
          '  server.close();',
          '  process.stdout.write(JSON.stringify({ before, after: loaded(), outcome }));',
          '});',
        ].join('\n'),
        resolveDir: root,
        loader: 'ts',
      },
      outfile: join(dir, 'probe.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      plugins: [lazyBuiltinsPlugin],
      logLevel: 'silent',
    });
    const child = spawnSync(process.execPath, [join(dir, 'probe.js')], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(child.stdout)).toMatchObject({
      before: [],
      after: expect.arrayContaining(['http']),
      outcome: { kind: 'answered', status: 204 },
    });
  });

  it('a stub lists the names its importer takes, or every name when it imports the module another way too', () => {
    expect(namedImportsOf("import { request as httpRequest, type IncomingMessage } from 'node:http';", 'node:http')).toEqual(['request']);
    expect(namedImportsOf('import type { Agent } from \'node:http\';\nimport { get, request } from "node:http";', 'node:http')).toEqual([
      'get',
      'request',
    ]);
    // Another form beside the named import: the names cannot be known from the text, so all of them.
    expect(namedImportsOf("import * as http from 'node:http';\nimport { request } from 'node:http';", 'node:http')).toBeUndefined();
    expect(namedImportsOf("const http = require('node:http');", 'node:http')).toBeUndefined();
    // Comments inside the braces are not names; a name the module does not export, or a string-literal one: all.
    expect(namedImportsOf("import {\n  request, // the POST\n  /* and */ get,\n} from 'node:http';", 'node:http')).toEqual([
      'get',
      'request',
    ]);
    expect(namedImportsOf("import { requets } from 'node:http';", 'node:http')).toBeUndefined();
    expect(namedImportsOf("import { 'request' as r } from 'node:http';", 'node:http')).toBeUndefined();
  });

  it('the stubs of a built function carry only the names its importers take', async () => {
    const dir = join(work, 'lazy-names');
    const { metafile } = await build({
      entryPoints: [join(root, 'functions', 'unbind', 'handler.ts')],
      outfile: join(dir, 'bundle.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['better-sqlite3', '@cloudbase/node-sdk', 'mongodb', 'fast-xml-parser'],
      plugins: [lazyBuiltinsPlugin],
      metafile: true,
      logLevel: 'silent',
    });
    const stubs = Object.keys(metafile.inputs)
      .filter((input) => input.startsWith('lazy-builtin:'))
      .sort();
    expect(stubs).toEqual([
      'lazy-builtin:node:dns:lookup',
      'lazy-builtin:node:http:request',
      'lazy-builtin:node:https:request',
      'lazy-builtin:node:stream/promises:pipeline',
      'lazy-builtin:node:stream/web:ReadableStream',
      'lazy-builtin:node:stream:Readable',
    ]);
  });
});

describe('OpenAPI metadata out of a shipped bundle', () => {
  it('keeps the schema of each z.described / z.registered call and the route of each summary, and every line', () => {
    const source = [
      "const a = z.described(z.string(), 'a text');",
      'const b = z.registered(',
      '  z.object({ c: z.described(z.optional(z.number()), "inner, with (parens) and, commas") }),',
      "  { id: 'B', description: 'outer' },",
      ');',
      "const d = other.described(x, 'not zod');",
    ].join('\n');
    const out = withoutOpenApiMetadata(source, 'sample.ts');
    expect(out.split('\n')).toEqual([
      'const a = (z.string());',
      'const b = (',
      '  z.object({ c: (z.optional(z.number())) })',
      '',
      ');',
      "const d = other.described(x, 'not zod');",
    ]);
    // A route's literal summary, and the docs `documented` attaches to a route.
    const routes = [
      "const r = declareRoute({ method: 'GET', path: '/x', summary: 'Read x' });",
      'const s = documented(',
      "  route({ path: '/y', summary:\n    'Read y', handle }),",
      "  { description: 'y itself' },",
      ');',
      "const t = describe({ summary: 'not a route' });",
    ].join('\n');
    expect(withoutOpenApiMetadata(routes, 'routes.ts').split('\n')).toEqual([
      "const r = declareRoute({ method: 'GET', path: '/x', summary: '' });",
      'const s = (',
      "  route({ path: '/y', summary:",
      "    '', handle })",
      '',
      ');',
      "const t = describe({ summary: 'not a route' });",
    ]);
    // Metadata inside metadata that is taken out: one edit, the call's brackets intact.
    const nested = "const u = documented(route({ path: '/u', summary: 'U' }), { bodyDocumentedAs: z.described(s, 'x') });";
    expect(withoutOpenApiMetadata(nested, 'nested.ts')).toBe("const u = (route({ path: '/u', summary: '' }));");
    // Nothing to take out: the same text.
    expect(withoutOpenApiMetadata('const e = z.string();', 'plain.ts')).toBe('const e = z.string();');
  });
});

describe('classic zod guard', () => {
  // What the build checks in each function's metafile: an import of classic `zod` shows, one of shared/domain/zod.ts does not.
  const inputsOf = async (source: string): Promise<string[]> => {
    const { metafile } = await build({
      stdin: { contents: source, resolveDir: root, loader: 'ts' },
      bundle: true,
      platform: 'node',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return Object.keys(metafile.inputs);
  };

  it('finds classic zod in a bundle that imports it, and none in one importing shared/domain/zod.ts', async () => {
    expect(classicZodInputs(await inputsOf("import { z } from 'zod'; console.log(z.string().min(1).parse('a'));"))).not.toEqual([]);
    expect(classicZodInputs(await inputsOf("import * as z from './shared/domain/zod'; console.log(z.string().parse('a'));"))).toEqual([]);
  });
});

describe('bundle loader', () => {
  it('runs bundle.js as a CommonJS module of its directory, with or without its code cache', async () => {
    const dir = join(work, 'loader-unit');
    mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = { found: true };');
    const body = [
      "'use strict';",
      'const dep = require("dep");',
      'exports.probe = () => ({ dep, filename: __filename, dirname: __dirname, moduleExports: module.exports === exports, line: new Error().stack.split("\\n")[1] });',
      'exports.thisIsExports = this === exports;',
    ].join('\n');
    writeFileSync(join(dir, BUNDLE_FILES.bundle), `${CJS_WRAPPER.head}\n${body}\n${CJS_WRAPPER.tail}`);
    writeFileSync(join(dir, BUNDLE_FILES.loader), loaderSource('unit/bundle.js'));
    const script = `
      const m = require(process.argv[1]);
      const loaded = globalThis[Symbol.for(${JSON.stringify(LOADED_BUNDLES)})].get('unit/bundle.js');
      process.stdout.write(JSON.stringify({ ...m.probe(), thisIsExports: m.thisIsExports, cache: loaded.cache }));`;
    const run = () =>
      JSON.parse(spawnSync(process.execPath, ['-e', script, join(dir, BUNDLE_FILES.loader)], { encoding: 'utf8' }).stdout) as Record<
        string,
        unknown
      >;
    const expected = {
      dep: { found: true },
      filename: join(dir, BUNDLE_FILES.bundle),
      dirname: dir,
      moduleExports: true,
      thisIsExports: true,
      // Line 4 of bundle.js: the wrapper is its first line.
      line: expect.stringMatching(/unit\/bundle\.js:4:\d+\)$/),
    };
    expect(run()).toEqual({ ...expected, cache: 'none' });
    await produceCodeCache(dir, 'unit/bundle.js');
    expect(run()).toEqual({ ...expected, cache: 'used' });
  });
});

/**
 * `npm run build`: one esbuild bundle per function (`functions/<name>/handler.ts` → `dist/<name>/bundle.js`, CommonJS
 * for SCF's Node 18) carrying only the configured store's adapter and the event shims of the deploy targets' providers
 * (`--providers`, default SCF and FC), store drivers and fast-xml-parser external and shipped next to the bundles that
 * need them, the api's OpenAPI document generated here, then a size table. A small loader `dist/<name>/index.js`
 * compiles the bundle from a V8 code cache made at build time, because compiling at every cold start costs tens of
 * milliseconds. Why each piece is as it is (drivers, adapters, provider shims, zod locales, middy's streams, the
 * OpenAPI document, the code cache and when V8 takes it): docs/build.md.
 */

import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Script } from 'node:vm';
import { transform } from '@swc/core';
import { build, type BuildOptions as EsbuildOptions, type Metafile, type Plugin } from 'esbuild';
import ts from 'typescript';
import { LOCAL_WECHAT_DEFAULTS } from '../shared/runtime/config';
import { OPENAPI_FILE } from '../shared/runtime/http/openapi';
import { PROVIDERS, type Provider } from '../shared/runtime/shim/common';

const root = resolve(__dirname, '..');

export type StoreKind = 'sqlite' | 'cloudbase' | 'mongodb';

/** The npm package each cloud store needs at run time (sqlite's driver is native and local-only). */
export const STORE_DRIVERS: Record<Exclude<StoreKind, 'sqlite'>, string> = {
  cloudbase: '@cloudbase/node-sdk',
  mongodb: 'mongodb',
};

/**
 * Packages a function `require`s only on a rare path (fast-xml-parser: the documents shared/wechat/xml.ts's fast path
 * leaves to it), kept out of `bundle.js` and shipped, as a store driver is, next to the bundles that require them.
 */
export const RARELY_USED_PACKAGES = ['fast-xml-parser'] as const;

const EXTERNAL_DRIVERS = ['better-sqlite3', ...Object.values(STORE_DRIVERS), ...RARELY_USED_PACKAGES];

const KB = 1024;
/** Per-function budget for the bundle's code, `bundle.js` (the issue's starting point). */
export const FUNCTION_BUDGET_BYTES = 500 * KB;
/** Budgets for the vendored drivers and packages, measured at 1022 KB, 800 KB and 77 KB when they were introduced. */
export const DRIVER_BUDGET_BYTES: Record<string, number> = {
  '@cloudbase/node-sdk': 1150 * KB,
  mongodb: 900 * KB,
  'fast-xml-parser': 100 * KB,
};

/** The files of a function directory: the entry SCF loads, the bundle it runs, and the bundle's V8 code cache. */
export const BUNDLE_FILES = { loader: 'index.js', bundle: 'bundle.js', codeCache: 'bundle.js.v8cache' } as const;

/** Where the loader records what it did, per script name (see `LoadedBundle`): the cache producer and tests read it. */
export const LOADED_BUNDLES = 'wxa-deploy.bundles';

/** What the loader of `<name>/bundle.js` did: `cache` says whether V8 compiled the bundle from its code cache. */
export interface LoadedBundle {
  /**
   * used: V8 took the cache; none: no cache file; stale: not made for this bundle, or damaged; rejected: made by
   * another Node (not even offered to V8), or refused by V8 (other V8 flags).
   */
  cache: 'used' | 'none' | 'stale' | 'rejected';
  script: Script;
}

/**
 * `bundle.js` is written wrapped as Node's CommonJS loader wraps a module, so that the loader compiles the file's
 * text as it is (no second 400 KB copy of it), and its lines and columns (and the source map's) are the script's.
 */
export const CJS_WRAPPER = { head: '(function (exports, require, module, __filename, __dirname) {', tail: '})' } as const;

/** The first line of a code cache file. */
export interface CodeCacheHeader {
  format: 1;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  /** sha256 (base64) of bundle.js and of the V8 data after this line. */
  bundle: string;
  data: string;
}

/**
 * `dist/<name>/index.js`: runs `bundle.js` as this CommonJS module, compiled with its code cache when that cache fits
 * (see the top of this file). Plain JavaScript for Node 18; the same file makes the cache at build time.
 */
export function loaderSource(scriptName: string): string {
  return `'use strict';
// Made by scripts/build.ts. Runs ./${BUNDLE_FILES.bundle} as this module, compiled with the V8 code cache ./${BUNDLE_FILES.codeCache}
// when the cache was made for this bundle by this Node with these V8 flags; else compiled from source as usual.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const name = ${JSON.stringify(scriptName)};
const filename = join(__dirname, ${JSON.stringify(BUNDLE_FILES.bundle)});
const code = readFileSync(filename);
const loaded = { cache: 'none', script: undefined };
let cachedData;
let file;
try {
  file = readFileSync(join(__dirname, ${JSON.stringify(BUNDLE_FILES.codeCache)}));
} catch {
  // no cache: compile from source
}
if (file) {
  const { createHash } = require('node:crypto');
  const digest = (bytes) => createHash('sha256').update(bytes).digest('base64');
  const end = file.indexOf(10);
  let header;
  try {
    header = JSON.parse(file.toString('latin1', 0, Math.max(end, 0)));
  } catch {
    header = undefined;
  }
  const data = file.subarray(end + 1);
  if (header && (header.node !== process.version || header.arch !== process.arch)) loaded.cache = 'rejected';
  else if (end > 0 && header && header.bundle === digest(code) && header.data === digest(data)) cachedData = data;
  else loaded.cache = 'stale';
}
// bundle.js is a function expression: the wrapper of Node's CommonJS loader around the bundle (scripts/build.ts).
const script = new Script(code.toString('utf8'), { filename: name, cachedData });
if (cachedData) loaded.cache = script.cachedDataRejected ? 'rejected' : 'used';
loaded.script = script;
(globalThis[Symbol.for(${JSON.stringify(LOADED_BUNDLES)})] ??= new Map()).set(name, loaded);
script.runInThisContext().call(module.exports, module.exports, require, module, filename, __dirname);
`;
}

/** The SCF context of every SCF training invocation. */
const TRAINING_CONTEXT = {
  request_id: 'code-cache-training',
  function_name: 'code-cache-training',
  function_version: '$LATEST',
  memory_limit_in_mb: 256,
  time_limit_in_ms: 20_000,
} as const;

/** A function-URL request to a path no function serves, then a timer tick. */
const TRAINING_PATH = '/.well-known/code-cache-training';
const TRAINING_HEADERS = { host: 'localhost', accept: 'application/json', 'user-agent': 'wxa-deploy build' } as const;

/**
 * What the child making a function's code cache invokes it with first, in the shapes of the triggers serverless.yml
 * gives the functions (shared/runtime/shim/scf.ts): see the top of this file.
 */
export const TRAINING_INVOCATIONS = [
  {
    event: {
      httpMethod: 'GET',
      path: TRAINING_PATH,
      headers: { ...TRAINING_HEADERS, 'x-scf-remote-addr': '127.0.0.1' },
      queryString: {},
      body: null,
    },
    context: TRAINING_CONTEXT,
  },
  {
    event: { Type: 'Timer', TriggerName: 'code-cache-training', Time: '2026-01-01T00:00:00Z', Message: '' },
    context: TRAINING_CONTEXT,
  },
] as const;

/** The same two invocations as FC 3.0 sends them (serverless.fc.yml's `http` and `timer` triggers: shim/fc.ts). */
const FC_TRAINING_CONTEXT = {
  requestId: 'code-cache-training',
  function: { name: 'code-cache-training', handler: 'index.handler', memory: 256, timeout: 20 },
} as const;
export const FC_TRAINING_INVOCATIONS = [
  {
    event: {
      version: 'v1',
      rawPath: TRAINING_PATH,
      headers: TRAINING_HEADERS,
      queryParameters: {},
      body: '',
      isBase64Encoded: false,
      requestContext: {
        requestId: 'code-cache-training',
        http: { method: 'GET', path: TRAINING_PATH, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'wxa-deploy build' },
      },
    },
    context: FC_TRAINING_CONTEXT,
  },
  {
    event: { triggerTime: '2026-01-01T00:00:00Z', triggerName: 'code-cache-training', payload: '' },
    context: FC_TRAINING_CONTEXT,
  },
] as const;

/**
 * The invocations a bundle built for `providers` is trained with: SCF's when it carries SCF (the primary target),
 * else FC's. A bundle with neither (AWS or local only: no deploy target) gets none: its cache then holds the top
 * level only, as every event of another provider would be refused.
 */
export function trainingInvocations(providers: readonly Provider[]): readonly { event: unknown; context: unknown }[] {
  if (providers.includes('scf')) return TRAINING_INVOCATIONS;
  if (providers.includes('fc')) return FC_TRAINING_INVOCATIONS;
  return [];
}

/** How long the producer waits for one training invocation; the cache is made when it is over or has waited that long. */
const TRAINING_TIMEOUT_MS = 10_000;

/**
 * The local configuration a bundle runs in outside the cloud (shared/runtime/config.ts): SQLite at `sqlitePath`,
 * fixed keys that protect nothing, and the WeChat API at `weChatApiBase`. The code-cache training, the bundle tests
 * and the cold-start benchmark all run bundles in it.
 */
export function localBundleEnv(options: { sqlitePath: string; weChatApiBase: string; logLevel: 'info' | 'error' }): Record<string, string> {
  return {
    WXA_ENV: 'local',
    STORE: 'sqlite',
    SQLITE_PATH: options.sqlitePath,
    DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
    ADMIN_API_KEY: 'local-bundle-admin-key-0123456789',
    ...LOCAL_WECHAT_DEFAULTS,
    WECHAT_API_BASE: options.weChatApiBase,
    LOG_LEVEL: options.logLevel,
  };
}

/**
 * The configuration a function is invoked in while its cache is made: the WeChat API on the discard port, closed, so
 * a call fails at once, and a store the bundle carries that nothing outside answers (`stores`: what it was built
 * for). SQLite: a throwaway file in `scratch`, better-sqlite3 from the repository's node_modules through `NODE_PATH`
 * (it is never shipped). CloudBase: no credentials, so every store call fails here with a ConfigError before the SDK
 * is loaded. MongoDB: a closed loopback port. Both cloud adapters open without a call, so the first request is
 * composed and answered as in the cloud. The access log line is part of every request, as in the cloud.
 */
export function trainingEnv(scratch: string, stores: readonly StoreKind[] = ['sqlite']): NodeJS.ProcessEnv {
  const env = {
    ...localBundleEnv({ sqlitePath: join(scratch, 'training.db'), weChatApiBase: 'http://127.0.0.1:9', logLevel: 'info' }),
    NODE_PATH: join(root, 'node_modules'),
  };
  if (stores.includes('sqlite')) return env;
  return stores.includes('cloudbase')
    ? { ...env, STORE: 'cloudbase', TCB_ENV: 'code-cache-training' }
    : { ...env, STORE: 'mongodb', MONGODB_URL: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200&connectTimeoutMS=200' };
}

/**
 * Run by the child `node` that makes a code cache: loads the bundle through its loader, invokes its `handler` (if it
 * has one: a driver has none) with each training invocation (`trainingInvocations`, as JSON), then writes the cache.
 */
const PRODUCER = `
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const [loader, name, bundle, out, invocations] = process.argv.slice(1);
const mod = require(loader);
const loaded = globalThis[Symbol.for(${JSON.stringify(LOADED_BUNDLES)})].get(name);
if (!loaded || loaded.cache !== 'none') throw new Error('expected a fresh compile of ' + name + ', got ' + (loaded && loaded.cache));
const invoke = ({ event, context }) => {
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(resolve, ${TRAINING_TIMEOUT_MS}); });
  const answered = Promise.resolve().then(() => mod.handler(event, context)).catch(() => undefined);
  return Promise.race([answered, timeout]).finally(() => clearTimeout(timer));
};
const train = async () => {
  if (typeof mod.handler !== 'function') return;
  for (const invocation of JSON.parse(invocations)) await invoke(invocation);
};
train().then(() => {
  const data = loaded.script.createCachedData();
  const digest = (bytes) => createHash('sha256').update(bytes).digest('base64');
  const header = { format: 1, node: process.version, v8: process.versions.v8, platform: process.platform, arch: process.arch, bundle: digest(readFileSync(bundle)), data: digest(data) };
  writeFileSync(out, Buffer.concat([Buffer.from(JSON.stringify(header) + '\\n', 'latin1'), data]));
  process.exit(0);
});
`;

/** Fixed, so that a bundle's cache is the same bytes at every build (V8 leaves `--random-seed` out of its flag check). */
const PRODUCER_SEED = 20260101;

/** The Node that makes the code caches: `CODE_CACHE_NODE` (a path, or `off`), else this process's. */
export function codeCacheNode(env: NodeJS.ProcessEnv): string | undefined {
  const configured = env.CODE_CACHE_NODE?.trim();
  if (configured === 'off') return undefined;
  return configured || process.execPath;
}

/**
 * Makes `dir`'s code cache with `node`: a child process without NODE_OPTIONS, so with V8's default flags, as the
 * runtime starts Node (`nodeFlags`: other flags, for a runtime started with them, or a test of V8's refusal), in the
 * training environment, with a scratch directory of its own, invoked with the events of the providers it carries.
 */
export function produceCodeCache(
  dir: string,
  scriptName: string,
  node = process.execPath,
  nodeFlags: readonly string[] = [],
  stores: readonly StoreKind[] = ['sqlite'],
  providers: readonly Provider[] = DEFAULT_PROVIDERS,
): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'wxa-code-cache-'));
  return new Promise<void>((resolvePromise, reject) => {
    execFile(
      node,
      [
        ...nodeFlags,
        `--random-seed=${PRODUCER_SEED}`,
        '-e',
        PRODUCER,
        join(dir, BUNDLE_FILES.loader),
        scriptName,
        join(dir, BUNDLE_FILES.bundle),
        join(dir, BUNDLE_FILES.codeCache),
        JSON.stringify(trainingInvocations(providers)),
      ],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...trainingEnv(scratch, stores) }, timeout: 60_000 },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`code cache of ${scriptName}: ${error.message}\n${stderr}`)) : resolvePromise(),
    );
  }).finally(() => rmSync(scratch, { recursive: true, force: true }));
}

/** The header of a code cache file, or undefined if there is none or it is not one. */
export function readCodeCacheHeader(file: string): CodeCacheHeader | undefined {
  try {
    const bytes = readFileSync(file);
    const end = bytes.indexOf(10);
    return end > 0 ? (JSON.parse(bytes.toString('latin1', 0, end)) as CodeCacheHeader) : undefined;
  } catch {
    return undefined;
  }
}

export function functionNames(): string[] {
  return readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'functions', entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
}

/** Resolves zod's `locales/index.(c)js` to a module with only the English locale (the one zod configures). */
export const zodEnglishOnlyPlugin: Plugin = {
  name: 'zod-english-only',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /(^|\/)locales\/index\.c?js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      const target = resolve(args.resolveDir, args.path);
      const marker = '/node_modules/zod/';
      const zodRoot = target.slice(0, target.lastIndexOf(marker) + marker.length);
      return { path: target, namespace: 'zod-en', pluginData: { zodRoot, cjs: target.endsWith('.cjs') } };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => {
      const { zodRoot, cjs } = args.pluginData as { zodRoot: string; cjs: boolean };
      const en = join(zodRoot, 'v4', 'locales', cjs ? 'en.cjs' : 'en.js');
      return {
        contents: cjs ? `exports.en = require(${JSON.stringify(en)}).default;` : `export { default as en } from ${JSON.stringify(en)};`,
        resolveDir: dirname(en),
        loader: 'js',
      };
    });
  },
};

/**
 * The inputs of a bundle that are zod's classic API (`zod`, `zod/v4`, `zod/v3`): its methods keep all of zod (173 KB)
 * in whatever imports it. The product imports `zod/mini` (shared/domain/zod.ts), which a bundle tree-shakes.
 */
export function classicZodInputs(inputs: readonly string[]): string[] {
  return inputs.filter((input) => /(^|[\\/])node_modules[\\/]zod[\\/](v4[\\/]classic[\\/]|v3[\\/]|(v4[\\/])?index\.c?js$)/.test(input));
}

/**
 * Node built-ins a bundle imports but a cold start need not load, by the code that imports them: @middy/core's
 * `node:stream*` serve only `streamifyResponse`; our outbound POST (shared/runtime/outbound/guarded-post.ts, the
 * webhook deliveries every function may make after a state change) needs `node:dns`, `node:http` and `node:https`
 * only when it sends one. Loading http, https (and through them net, tls) and dns costs a cold start 7–13 ms on
 * this machine (`node -e` timing their `require`), and most first requests send nothing.
 */
const LAZY_BUILTINS: readonly { importer: RegExp; modules: RegExp }[] = [
  { importer: /[\\/]node_modules[\\/]@middy[\\/]core[\\/]/, modules: /^node:stream(\/promises|\/web)?$/ },
  { importer: /[\\/]shared[\\/]runtime[\\/]outbound[\\/]/, modules: /^node:(dns|https?)$/ },
];

/**
 * The names `source` imports from `module` by named ES imports (`import { a, b as c } from 'module'`, type-only
 * names left out), or undefined when it imports the module in any other way too (namespace, default, `require`):
 * then the stub lists every export name.
 */
export function namedImportsOf(source: string, module: string): string[] | undefined {
  const quoted = `['"]${module.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&')}['"]`;
  const mentions = source.match(new RegExp(quoted, 'g'))?.length ?? 0;
  const named = [...source.matchAll(new RegExp(`import\\s+(type\\s+)?\\{([^}]*)\\}\\s*from\\s*${quoted}`, 'g'))];
  if (named.length === 0 || named.length !== mentions) return undefined;
  const names = named
    .filter((m) => !m[1])
    .flatMap((m) => (m[2] ?? '').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '').split(','))
    .map((specifier) => specifier.trim())
    .filter((specifier) => specifier.length > 0 && !specifier.startsWith('type '))
    .map((specifier) => specifier.split(/\s+as\s+/)[0]?.trim() ?? '');
  // Anything but a plain identifier the module exports (a string-literal name, text this reading got wrong): all.
  const exported = new Set(Object.keys(require(module) as object));
  if (names.some((name) => !/^[A-Za-z_$][\w$]*$/.test(name) || !exported.has(name))) return undefined;
  return [...new Set(names)].sort();
}

/**
 * Resolves the imports listed in `LAZY_BUILTINS` to a module whose exports are getters that `require` the
 * built-in on first access, so a cold start loads it only when the code reads one of them (every such import is
 * read inside a function, not at import). The exports are the names the importer takes (`namedImportsOf`; about
 * 1.6 KB less per bundle than every name of node:dns, http, https and stream), else all the built-in's own, read
 * here (a name the runtime's older Node lacks reads `undefined`, as the real import would).
 */
export const lazyBuiltinsPlugin: Plugin = {
  name: 'lazy-builtins',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:/ }, (args) => {
      if (!LAZY_BUILTINS.some(({ importer, modules }) => modules.test(args.path) && importer.test(args.importer))) return undefined;
      const names = namedImportsOf(readFileSync(args.importer, 'utf8'), args.path) ?? Object.keys(require(args.path) as object);
      // One stub per module and set of names: two importers taking different names get their own.
      return { path: `${args.path}:${names.join(',')}`, namespace: 'lazy-builtin', pluginData: { module: args.path, names } };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const { module, names } = args.pluginData as { module: string; names: string[] };
      return {
        contents: [
          'let loaded;',
          `const load = () => (loaded ??= require(${JSON.stringify(module)}));`,
          `for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

/**
 * What only the OpenAPI generator (shared/runtime/http/openapi.ts) reads: `z.described(schema, text)` and
 * `z.registered(schema, meta)` (shared/domain/zod.ts), `documented(route, doc)`, and a route's `summary`. The
 * generator runs in the build (`writeOpenApiDocument`), never in a shipped function: the api serves the document the
 * build wrote. So a shipped bundle keeps only the schema or route: each such call becomes `(schema)`, and a route
 * declaration's literal `summary` becomes `''`. What is taken out is replaced by its line breaks, so line numbers
 * (the source map's, a stack's) stay the source's (columns after an edit on its line move); and the copy each
 * `z.described` made of its schema is not made.
 */
export function withoutOpenApiMetadata(source: string, fileName: string): string {
  if (!/\bz\.(described|registered)\(|\bdocumented\(|\bsummary:/.test(source)) return source;
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const edits: { start: number; end: number; text: string }[] = [];
  const lineBreaksOf = (start: number, end: number) => source.slice(start, end).replace(/[^\n]/g, '');
  const calleeName = (call: ts.CallExpression): string | undefined =>
    ts.isIdentifier(call.expression)
      ? call.expression.text
      : ts.isPropertyAccessExpression(call.expression) && ts.isIdentifier(call.expression.expression)
        ? `${call.expression.expression.text}.${call.expression.name.text}`
        : undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.typeArguments === undefined) {
      const callee = calleeName(node);
      const [first] = node.arguments;
      if (first && node.arguments.length === 2 && (callee === 'z.described' || callee === 'z.registered' || callee === 'documented')) {
        edits.push({ start: node.getStart(file), end: node.expression.getEnd(), text: '' });
        const closing = node.getEnd() - 1;
        edits.push({ start: first.getEnd(), end: closing, text: lineBreaksOf(first.getEnd(), closing) });
        // Only what stays is looked into: an edit inside the text taken out would shift the ones around it.
        visit(first);
        return;
      }
      if (first && ts.isObjectLiteralExpression(first) && (callee === 'route' || callee === 'declareRoute')) {
        for (const property of first.properties) {
          if (
            ts.isPropertyAssignment(property) &&
            ts.isIdentifier(property.name) &&
            property.name.text === 'summary' &&
            (ts.isStringLiteral(property.initializer) || ts.isNoSubstitutionTemplateLiteral(property.initializer))
          ) {
            const { initializer } = property;
            edits.push({
              start: initializer.getStart(file),
              end: initializer.getEnd(),
              text: `''${lineBreaksOf(initializer.getStart(file), initializer.getEnd())}`,
            });
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = source;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

/** What `withoutOpenApiMetadata` made of a source text: a build parses each file once, not once per bundle. */
const withoutMetadataBySource = new Map<string, string>();

/** Loads the project's TypeScript sources through `withoutOpenApiMetadata` (the bundles a function ships). */
export const openApiMetadataOutPlugin: Plugin = {
  name: 'openapi-metadata-out',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.ts$/ }, (args) => {
      if (/[\\/]node_modules[\\/]/.test(args.path)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      let contents = withoutMetadataBySource.get(source);
      if (contents === undefined) {
        contents = withoutOpenApiMetadata(source, args.path);
        withoutMetadataBySource.set(source, contents);
      }
      return { contents, loader: 'ts' };
    });
  },
};

export interface BuildOptions {
  /** Where `<name>/index.js` go; default `dist/`. Each `<outdir>/<name>` is emptied first. */
  outdir?: string;
  /**
   * The stores the bundles are built for: their adapters are in `bundle.js`, the drivers of the cloud ones vendored
   * next to it; default from `STORE` (see `storesToShip`).
   */
  stores?: readonly StoreKind[];
  /** The providers whose event shims the bundles carry; default from `WXA_PROVIDERS` (see `providersToShip`). */
  providers?: readonly Provider[];
  /** The Node binary that makes each bundle's V8 code cache, or false for none; default `codeCacheNode(process.env)`. */
  codeCache?: string | false;
}

export interface BundleReport {
  name: string;
  bytes: number;
  budgetBytes: number;
  /** The stores the bundle is built for (the only adapters it carries). */
  stores: readonly StoreKind[];
  /** The providers the bundle is built for (the only shims it carries). */
  providers: readonly Provider[];
  /** The vendored drivers: `bytes` of their code (`bundle.js`), `codeCacheBytes` of their V8 code cache (0: none). */
  drivers: { package: string; bytes: number; budgetBytes: number; codeCacheBytes: number }[];
  /** Size of `bundle.js.v8cache` and the Node that made it; undefined when none was made. */
  codeCache: { bytes: number; node: string } | undefined;
  /** The largest contributors to `bundle.js` (package or source folder → bytes). */
  largest: { input: string; bytes: number }[];
}

const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'cloudbase', 'mongodb'];

/**
 * The kinds of one build-time choice (stores, providers) a bundle is built for: `--<flag>=all|<kind>[,<kind>]` wins;
 * else the environment variable; else the default. In the order of `all`, whatever the spelling, so reports and the
 * bundle's error messages name them alike.
 */
function kindsToShip<K extends string>(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  choice: { flag: string; envVar: string; all: readonly K[]; fallback: readonly K[]; what: string },
): K[] {
  const prefix = `--${choice.flag}=`;
  const text = argv.find((a) => a.startsWith(prefix))?.slice(prefix.length) ?? env[choice.envVar] ?? choice.fallback.join(',');
  if (text === 'all') return [...choice.all];
  const named = text.split(',').map((s) => s.trim());
  for (const kind of named) {
    if (!(choice.all as readonly string[]).includes(kind))
      throw new Error(`unknown ${choice.what} "${kind}" (${choice.all.join(', ')} or all)`);
  }
  return choice.all.filter((kind) => named.includes(kind));
}

/**
 * `process.env.WXA_BUNDLE_OMITS_<KIND>` as a constant for every kind of `all`: esbuild then drops the code of the
 * kinds left out (shared/store/open.ts's adapters, shared/runtime/shim/index.ts's shims).
 */
function omitDefines(all: readonly string[], chosen: readonly string[], what: string): Record<string, string> {
  if (chosen.length === 0) throw new Error(`a bundle is built for at least one ${what}`);
  return Object.fromEntries(
    all.map((kind) => [`process.env.WXA_BUNDLE_OMITS_${kind.toUpperCase()}`, JSON.stringify(String(!chosen.includes(kind)))]),
  );
}

/** The stores the bundles are built for: `--store=`, else `STORE`, else cloudbase, the default STORE of serverless.yml. */
export const storesToShip = (argv: readonly string[], env: NodeJS.ProcessEnv): StoreKind[] =>
  kindsToShip(argv, env, { flag: 'store', envVar: 'STORE', all: STORE_KINDS, fallback: ['cloudbase'], what: 'store' });

/** What shared/store/open.ts reads to leave out the adapters (and drivers) of the stores a bundle is not built for. */
export const storeDefines = (stores: readonly StoreKind[]): Record<string, string> => ({
  'process.env.WXA_BUNDLE_STORES': JSON.stringify(stores.join(',')),
  ...omitDefines(STORE_KINDS, stores, 'store (--store=<kind>)'),
});

/**
 * The providers a bundle carries by default: the two deploy targets, SCF (serverless.yml) and FC
 * (serverless.fc.yml, `npm run deploy:fc`), which deploy the same `dist/`. AWS and local events reach only the
 * source (`npm start`, jest), which carries every provider.
 */
export const DEFAULT_PROVIDERS: readonly Provider[] = ['scf', 'fc'];

/**
 * What each deploy script builds (package.json: `WXA_PROVIDERS=${WXA_PROVIDERS:-…} npm run build`): only the shim of
 * the provider its template deploys to, so a deployed bundle carries no other (~2 KB); a plain `npm run build`
 * carries both and deploys to either. The benchmark measures `npm run deploy`'s bundles.
 */
export const DEPLOY_PROVIDERS: Readonly<Record<'deploy' | 'deploy:plan' | 'deploy:fc', readonly Provider[]>> = {
  deploy: ['scf'],
  'deploy:plan': ['scf'],
  'deploy:fc': ['fc'],
};

/** The providers whose event shims the bundles carry: `--providers=`, else `WXA_PROVIDERS`, else DEFAULT_PROVIDERS. */
export const providersToShip = (argv: readonly string[], env: NodeJS.ProcessEnv): Provider[] =>
  kindsToShip(argv, env, { flag: 'providers', envVar: 'WXA_PROVIDERS', all: PROVIDERS, fallback: DEFAULT_PROVIDERS, what: 'provider' });

/** What shared/runtime/shim/index.ts reads to leave out the shims of the providers a bundle is not built for. */
export const providerDefines = (providers: readonly Provider[]): Record<string, string> =>
  omitDefines(PROVIDERS, providers, 'provider (--providers=<provider>)');

/**
 * What a function's bundle and a driver's share: minified CommonJS for node18 at `dir`/bundle.js, with a metafile for
 * the size reports. Each is written as the body of the function Node's CommonJS loader would wrap it in (see
 * `loaderSource`): a driver by esbuild's banner and footer, a function after swc's pass (`wrapped`).
 */
const bundleOptions = (dir: string) =>
  ({
    outfile: join(dir, BUNDLE_FILES.bundle),
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: true,
    legalComments: 'external',
    metafile: true,
  }) satisfies EsbuildOptions;

/** `code` as `bundle.js` holds it: the body of the CommonJS wrapper, which takes a line above and below. */
const wrapped = (code: string): string => `${CJS_WRAPPER.head}\n${code}\n${CJS_WRAPPER.tail}`;

/** Bundles a driver into `dir` as a function is: `bundle.js` behind the loader `index.js`. Returns the code's size. */
async function buildDriver(pkg: string, dir: string): Promise<number> {
  const result = await build({
    entryPoints: [require.resolve(pkg, { paths: [root] })],
    ...bundleOptions(dir),
    banner: { js: CJS_WRAPPER.head },
    footer: { js: CJS_WRAPPER.tail },
    logLevel: 'error',
  });
  writeFileSync(join(dir, BUNDLE_FILES.loader), loaderSource(driverScriptName(pkg)));
  return Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
}

const driverScriptName = (pkg: string) => `node_modules/${pkg}/${BUNDLE_FILES.bundle}`;

/**
 * The largest contributors to a bundle, by esbuild's metafile: what each input became in esbuild's output, scaled
 * by how much the swc pass (`compact`) took off the whole, since swc's output says nothing of inputs.
 */
function largestInputs(
  output: (Metafile['outputs'][string] & { esbuildBytes?: number }) | undefined,
  count = 4,
): { input: string; bytes: number }[] {
  const scale = output?.esbuildBytes ? output.bytes / output.esbuildBytes : 1;
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const key = pkg ?? path.replace(/^(?:zod-en:)?(.*?\/[^/]+)\/.*$/, '$1');
    totals.set(key, (totals.get(key) ?? 0) + bytesInOutput * scale);
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([input, bytes]) => ({ input, bytes }));
}

/**
 * Bundles `functions/<name>/handler.ts` into `dir` (bundle.js, its source map, meta.json and the loader index.js)
 * for `stores` and `providers`, and returns the metafile's record of bundle.js. `shipped`: a bundle deployed as a
 * function, whose api serves the OpenAPI document the build wrote next to it (`writeOpenApiDocument`), so it leaves the
 * generator and the OpenAPI metadata out, and is compacted by swc; else the generator's own bundle, never shipped.
 */
async function bundleFunction(name: string, dir: string, stores: readonly StoreKind[], providers: readonly Provider[], shipped: boolean) {
  rmSync(dir, { recursive: true, force: true });
  const result = await build({
    entryPoints: [join(root, 'functions', name, 'handler.ts')],
    ...bundleOptions(dir),
    write: false,
    sourcemap: 'external',
    external: EXTERNAL_DRIVERS,
    define: {
      ...storeDefines(stores),
      ...providerDefines(providers),
      'process.env.WXA_BUNDLE_OPENAPI_FILE': JSON.stringify(String(shipped)),
    },
    plugins: [zodEnglishOnlyPlugin, lazyBuiltinsPlugin, ...(shipped ? [openApiMetadataOutPlugin] : [])],
    logLevel: 'warning',
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith(`/${BUNDLE_FILES.bundle}`))?.[1];
  // A script compiled by `vm.Script` has no `import()` (Node 20 wants --experimental-vm-modules for it): the
  // drivers are `require`d (an `import()` of one would also see its CommonJS exports as `default` only).
  const dynamic = (output?.imports ?? []).filter((i) => i.kind === 'dynamic-import' && i.external).map((i) => i.path);
  if (dynamic.length > 0) throw new Error(`${name}: import() of ${dynamic.join(', ')}: require it instead (see scripts/build.ts)`);
  const classic = classicZodInputs(Object.keys(output?.inputs ?? {}));
  if (classic.length > 0) throw new Error(`${name}: classic zod is bundled (${classic.join(', ')}): import zod from shared/domain/zod.ts`);
  const emitted = (suffix: string) => result.outputFiles.find((file) => file.path.endsWith(suffix))?.text ?? '';
  const [code, map] = [emitted(`/${BUNDLE_FILES.bundle}`), emitted(`/${BUNDLE_FILES.bundle}.map`)];
  const compacted = shipped ? await compact(code, map) : { code: wrapped(code), map: withLineAbove(map) };
  mkdirSync(dir, { recursive: true });
  for (const file of result.outputFiles) {
    if (!file.path.endsWith(`/${BUNDLE_FILES.bundle}`) && !file.path.endsWith(`/${BUNDLE_FILES.bundle}.map`))
      writeFileSync(file.path, file.contents);
  }
  writeFileSync(join(dir, BUNDLE_FILES.bundle), compacted.code);
  writeFileSync(join(dir, `${BUNDLE_FILES.bundle}.map`), compacted.map);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(result.metafile));
  writeFileSync(join(dir, BUNDLE_FILES.loader), loaderSource(`${name}/${BUNDLE_FILES.bundle}`));
  return output && { ...output, bytes: Buffer.byteLength(compacted.code), esbuildBytes: output.bytes };
}

/**
 * swc's minifier over esbuild's minified bundle: compress (two passes) and mangle, scoped to the bundle's own top
 * level, which is the body of the CommonJS wrapper (nothing outside reads its names), took 3.4–4.2 % more off the
 * bundles of 230–270 KB (9–11 KB) than esbuild's minifier alone. The source map is chained through esbuild's, so
 * positions still map to the TypeScript sources; then the wrapper is added, one line before the code.
 */
export async function compact(code: string, map: string): Promise<{ code: string; map: string }> {
  const out = await transform(code, {
    filename: BUNDLE_FILES.bundle,
    inputSourceMap: map,
    sourceMaps: true,
    isModule: false,
    swcrc: false,
    configFile: false,
    minify: true,
    jsc: {
      target: 'es2022',
      parser: { syntax: 'ecmascript' },
      minify: { compress: { passes: 2, toplevel: true }, mangle: { toplevel: true } },
    },
  });
  return { code: wrapped(out.code), map: withLineAbove(out.map) };
}

/** A source map for its code with one line (the CommonJS wrapper's head) added above it. */
const withLineAbove = (map: string | undefined): string => {
  const parsed = JSON.parse(map || 'null') as { mappings?: unknown } | null;
  if (typeof parsed?.mappings !== 'string') throw new Error('the bundle came without its source map');
  return JSON.stringify({ ...parsed, mappings: `;${parsed.mappings}` });
};

/** The function that serves the OpenAPI document (`GET /openapi.json`). */
export const OPENAPI_FUNCTION = 'api';

/** Run by the child `node` that generates the document: invokes the api bundle's `GET /openapi.json`, writes the body. */
const OPENAPI_GENERATOR = `
const { writeFileSync } = require('node:fs');
const [loader, eventJson, contextJson, out] = process.argv.slice(1);
require(loader).handler(JSON.parse(eventJson), JSON.parse(contextJson)).then((reply) => {
  if (!reply || reply.statusCode !== 200) throw new Error('GET /openapi.json answered ' + (reply && reply.statusCode) + ': ' + (reply && reply.body));
  writeFileSync(out, reply.body);
  process.exit(0);
});
`;

/**
 * Writes `dir/openapi.json`: the document generated from the route declarations, by an api bundle that carries the
 * generator (built into `scratch`, run once in a child node in the training configuration: its store is never
 * called), so the document is the one the source serves. The api bundle in `dir` serves it with its own URL.
 */
async function writeOpenApiDocument(dir: string, stores: readonly StoreKind[], scratch: string): Promise<void> {
  const generator = join(scratch, OPENAPI_FUNCTION);
  // Never shipped, and asked with an SCF event whatever providers the shipped bundles carry: it carries them all.
  await bundleFunction(OPENAPI_FUNCTION, generator, stores, PROVIDERS, false);
  mkdirSync(join(scratch, 'store'), { recursive: true });
  const [request] = TRAINING_INVOCATIONS;
  const event = { ...request.event, path: '/openapi.json' };
  await new Promise<void>((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [
        '-e',
        OPENAPI_GENERATOR,
        join(generator, BUNDLE_FILES.loader),
        JSON.stringify(event),
        JSON.stringify(request.context),
        join(dir, OPENAPI_FILE),
      ],
      {
        cwd: generator,
        env: { PATH: process.env.PATH ?? '', ...trainingEnv(join(scratch, 'store'), stores), LOG_LEVEL: 'error' },
        timeout: 60_000,
      },
      (error, _stdout, stderr) => (error ? reject(new Error(`OpenAPI document: ${error.message}\n${stderr}`)) : resolvePromise()),
    );
  });
}

export async function buildFunctions(names = functionNames(), options: BuildOptions = {}): Promise<BundleReport[]> {
  const outdir = options.outdir ?? join(root, 'dist');
  const stores = options.stores ?? storesToShip([], process.env);
  const providers = options.providers ?? providersToShip([], process.env);
  storeDefines(stores); // refuse an empty list before anything is built
  providerDefines(providers);
  const cacheNode = options.codeCache === undefined ? codeCacheNode(process.env) : options.codeCache || undefined;
  const packages = [...new Set(stores.flatMap((kind) => (kind === 'sqlite' ? [] : [STORE_DRIVERS[kind]]))), ...RARELY_USED_PACKAGES];

  // Each driver is bundled (and its code cache made) once, then copied next to every function. A driver's code
  // cache matters as much as a function's: compiling the CloudBase SDK (1 MB) costs more than a whole function.
  const scratch = mkdtempSync(join(tmpdir(), 'wxa-drivers-'));
  const drivers: { package: string; dir: string; bytes: number; budgetBytes: number; codeCacheBytes: number }[] = [];
  try {
    for (const pkg of packages) {
      const dir = join(scratch, pkg);
      drivers.push({
        package: pkg,
        dir,
        bytes: await buildDriver(pkg, dir),
        budgetBytes: DRIVER_BUDGET_BYTES[pkg] ?? FUNCTION_BUDGET_BYTES,
        codeCacheBytes: 0,
      });
    }
    if (cacheNode) {
      await Promise.all(
        drivers.map(async (driver) => {
          await produceCodeCache(driver.dir, driverScriptName(driver.package), cacheNode);
          driver.codeCacheBytes = statSync(join(driver.dir, BUNDLE_FILES.codeCache)).size;
        }),
      );
    }

    const reports: BundleReport[] = [];
    for (const name of names) {
      const dir = join(outdir, name);
      rmSync(dir, { recursive: true, force: true });
      const output = await bundleFunction(name, dir, stores, providers, true);
      if (name === OPENAPI_FUNCTION) await writeOpenApiDocument(dir, stores, join(scratch, 'openapi'));
      // The store drivers go next to every bundle; a rarely used package next to the bundles that require it.
      const required = new Set((output?.imports ?? []).filter((i) => i.external).map((i) => i.path));
      const shipped = drivers.filter((d) => !(RARELY_USED_PACKAGES as readonly string[]).includes(d.package) || required.has(d.package));
      for (const driver of shipped) {
        const target = join(dir, 'node_modules', driver.package);
        mkdirSync(target, { recursive: true });
        for (const file of Object.values(BUNDLE_FILES)) {
          if (existsSync(join(driver.dir, file))) copyFileSync(join(driver.dir, file), join(target, file));
        }
      }
      reports.push({
        name,
        bytes: output?.bytes ?? 0,
        budgetBytes: FUNCTION_BUDGET_BYTES,
        stores,
        providers,
        drivers: shipped.map(({ package: pkg, bytes, budgetBytes, codeCacheBytes }) => ({
          package: pkg,
          bytes,
          budgetBytes,
          codeCacheBytes,
        })),
        codeCache: undefined,
        largest: largestInputs(output),
      });
    }

    // Every bundle is built: make the caches, one child process per bundle, side by side.
    if (cacheNode) {
      await Promise.all(
        reports.map(async (report) => {
          const dir = join(outdir, report.name);
          await produceCodeCache(dir, `${report.name}/${BUNDLE_FILES.bundle}`, cacheNode, [], stores, providers);
          const file = join(dir, BUNDLE_FILES.codeCache);
          report.codeCache = { bytes: statSync(file).size, node: readCodeCacheHeader(file)?.node ?? '?' };
        }),
      );
    }
    return reports;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

export function formatSizeTable(reports: readonly BundleReport[]): string {
  const width = Math.max(...reports.map((r) => r.name.length), 'function'.length);
  const lines = [
    `${'function'.padEnd(width)}  ${'bundle.js'.padStart(10)}  ${'budget'.padStart(8)}  ${'v8 cache'.padStart(10)}  largest inputs`,
  ];
  for (const r of reports) {
    const over = r.bytes > r.budgetBytes ? '  OVER BUDGET' : '';
    const largest = r.largest.map((l) => `${l.input} ${kb(l.bytes)}`).join(', ');
    const cache = r.codeCache ? kb(r.codeCache.bytes) : 'none';
    lines.push(
      `${r.name.padEnd(width)}  ${kb(r.bytes).padStart(10)}  ${kb(r.budgetBytes).padStart(8)}  ${cache.padStart(10)}  ${largest}${over}`,
    );
  }
  const cacheNodes = [...new Set(reports.flatMap((r) => (r.codeCache ? [r.codeCache.node] : [])))];
  lines.push(
    cacheNodes.length > 0
      ? `+ index.js (loader) in each; bundle.js.v8cache made by Node ${cacheNodes.join(', ')}: used only by that Node (CODE_CACHE_NODE=<node> to make it with another)`
      : '+ index.js (loader) in each; no code cache (--no-code-cache or CODE_CACHE_NODE=off)',
  );
  lines.push(`+ built for STORE=${reports[0]?.stores.join(',') ?? '?'}: the adapters of the other stores are left out`);
  const providers = reports[0]?.providers ?? [];
  const omitted = PROVIDERS.filter((provider) => !providers.includes(provider));
  lines.push(
    `+ built for WXA_PROVIDERS=${providers.join(',')}: ${omitted.length > 0 ? `the shims of ${omitted.join(', ')} are left out` : 'every provider shim'}`,
  );
  const drivers = [...new Map(reports.flatMap((r) => r.drivers).map((d) => [d.package, d])).values()];
  for (const d of drivers) {
    const over = d.bytes > d.budgetBytes ? '  OVER BUDGET' : '';
    const cache = d.codeCacheBytes > 0 ? `, v8 cache ${kb(d.codeCacheBytes)}` : '';
    const carriers = reports.filter((r) => r.drivers.some((x) => x.package === d.package)).map((r) => r.name);
    const where = carriers.length === reports.length ? 'each' : carriers.join(', ');
    lines.push(`+ node_modules/${d.package}/bundle.js in ${where}: ${kb(d.bytes)} (budget ${kb(d.budgetBytes)})${cache}${over}`);
  }
  if (!drivers.some((d) => Object.values(STORE_DRIVERS).includes(d.package)))
    lines.push('+ no store driver shipped (STORE=sqlite: better-sqlite3 is never shipped)');
  return lines.join('\n');
}

if (require.main === module) {
  const started = Date.now();
  const args = process.argv.slice(2);
  const names = args.filter((a) => !a.startsWith('--'));
  buildFunctions(names.length ? names : undefined, {
    stores: storesToShip(args, process.env),
    providers: providersToShip(args, process.env),
    ...(args.includes('--no-code-cache') ? { codeCache: false as const } : {}),
  })
    .then((reports) => {
      console.log(formatSizeTable(reports));
      console.log(`built ${reports.length} bundles in ${Date.now() - started} ms`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}

/**
 * `npm run build`: one esbuild bundle per function, `functions/<name>/handler.ts` → `dist/<name>/index.js`
 * (CommonJS, node18: SCF loads a CommonJS entry on Nodejs18.15; minified; external source map), then a size
 * table from the metafile.
 *
 * What keeps a bundle to what it uses:
 * - Store drivers are never in a function bundle. `shared/store/open.ts` imports the adapter of the configured
 *   store lazily, and the adapters' drivers (`better-sqlite3`, `@cloudbase/node-sdk`, `mongodb`) are esbuild
 *   `external`s. The driver of the store being deployed (`STORE`, default `cloudbase` as in serverless.yml, or
 *   `--store=<kind|all|none>`) is bundled on its own into `dist/<name>/node_modules/<package>/index.js`, where
 *   Node's `require` finds it next to `index.js`. better-sqlite3 (native, local only) is never shipped.
 * - zod's locales: zod's classic API imports every locale (258 KB) but only uses English. A plugin resolves
 *   zod's `locales/index.js` to a module exporting only `en`.
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(__dirname, '..');

export type StoreKind = 'sqlite' | 'cloudbase' | 'mongodb';

/** The npm package each cloud store needs at run time (sqlite's driver is native and local-only). */
export const STORE_DRIVERS: Record<Exclude<StoreKind, 'sqlite'>, string> = {
  cloudbase: '@cloudbase/node-sdk',
  mongodb: 'mongodb',
};

const EXTERNAL_DRIVERS = ['better-sqlite3', ...Object.values(STORE_DRIVERS)];

const KB = 1024;
/** Per-function budget for `index.js` (the starting point). */
export const FUNCTION_BUDGET_BYTES = 500 * KB;
/** Budgets for the vendored drivers, measured at 1022 KB and 800 KB when they were introduced. */
export const DRIVER_BUDGET_BYTES: Record<string, number> = {
  '@cloudbase/node-sdk': 1150 * KB,
  mongodb: 900 * KB,
};

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

export interface BuildOptions {
  /** Where `<name>/index.js` go; default `dist/`. Each `<outdir>/<name>` is emptied first. */
  outdir?: string;
  /** Stores whose drivers are vendored next to each bundle; default from `STORE` (see `storesToShip`). */
  stores?: readonly StoreKind[];
}

export interface BundleReport {
  name: string;
  bytes: number;
  budgetBytes: number;
  drivers: { package: string; bytes: number; budgetBytes: number }[];
  /** The largest contributors to `index.js` (package or source folder → bytes). */
  largest: { input: string; bytes: number }[];
}

/** `--store=all|none|<kind>[,<kind>]` wins; else `STORE`; else cloudbase, the default STORE of serverless.yml. */
export function storesToShip(argv: readonly string[], env: NodeJS.ProcessEnv): StoreKind[] {
  const flag = argv.find((a) => a.startsWith('--store='))?.slice('--store='.length);
  const text = flag ?? env.STORE ?? 'cloudbase';
  if (text === 'all') return ['cloudbase', 'mongodb'];
  if (text === 'none' || text === '') return [];
  const kinds = text.split(',').map((s) => s.trim());
  for (const kind of kinds) {
    if (kind !== 'sqlite' && kind !== 'cloudbase' && kind !== 'mongodb') throw new Error(`unknown store ${kind}`);
  }
  return kinds as StoreKind[];
}

async function buildDriver(pkg: string, outfile: string): Promise<number> {
  const result = await build({
    entryPoints: [require.resolve(pkg, { paths: [root] })],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: true,
    legalComments: 'external',
    metafile: true,
    logLevel: 'error',
  });
  return Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
}

function largestInputs(output: Metafile['outputs'][string] | undefined, count = 4): { input: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const key = pkg ?? path.replace(/^(?:zod-en:)?(.*?\/[^/]+)\/.*$/, '$1');
    totals.set(key, (totals.get(key) ?? 0) + bytesInOutput);
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([input, bytes]) => ({ input, bytes }));
}

export async function buildFunctions(names = functionNames(), options: BuildOptions = {}): Promise<BundleReport[]> {
  const outdir = options.outdir ?? join(root, 'dist');
  const stores = options.stores ?? storesToShip([], process.env);
  const packages = [...new Set(stores.flatMap((kind) => (kind === 'sqlite' ? [] : [STORE_DRIVERS[kind]])))];

  // Each driver is bundled once, then copied next to every function.
  const scratch = mkdtempSync(join(tmpdir(), 'wxa-drivers-'));
  const drivers: { package: string; file: string; bytes: number; budgetBytes: number }[] = [];
  try {
    for (const pkg of packages) {
      const file = join(scratch, pkg, 'index.js');
      drivers.push({ package: pkg, file, bytes: await buildDriver(pkg, file), budgetBytes: DRIVER_BUDGET_BYTES[pkg] ?? FUNCTION_BUDGET_BYTES });
    }

    const reports: BundleReport[] = [];
    for (const name of names) {
      const dir = join(outdir, name);
      rmSync(dir, { recursive: true, force: true });
      const result = await build({
        entryPoints: [join(root, 'functions', name, 'handler.ts')],
        outfile: join(dir, 'index.js'),
        bundle: true,
        platform: 'node',
        target: 'node18',
        format: 'cjs',
        minify: true,
        sourcemap: 'external',
        legalComments: 'external',
        external: EXTERNAL_DRIVERS,
        plugins: [zodEnglishOnlyPlugin],
        metafile: true,
        logLevel: 'warning',
      });
      const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('index.js'))?.[1];
      writeFileSync(join(dir, 'meta.json'), JSON.stringify(result.metafile));
      for (const driver of drivers) {
        const target = join(dir, 'node_modules', driver.package, 'index.js');
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(driver.file, target);
      }
      reports.push({
        name,
        bytes: output?.bytes ?? 0,
        budgetBytes: FUNCTION_BUDGET_BYTES,
        drivers: drivers.map(({ package: pkg, bytes, budgetBytes }) => ({ package: pkg, bytes, budgetBytes })),
        largest: largestInputs(output),
      });
    }
    return reports;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

export function formatSizeTable(reports: readonly BundleReport[]): string {
  const width = Math.max(...reports.map((r) => r.name.length), 'function'.length);
  const lines = [`${'function'.padEnd(width)}  ${'index.js'.padStart(10)}  ${'budget'.padStart(8)}  largest inputs`];
  for (const r of reports) {
    const over = r.bytes > r.budgetBytes ? '  OVER BUDGET' : '';
    const largest = r.largest.map((l) => `${l.input} ${kb(l.bytes)}`).join(', ');
    lines.push(`${r.name.padEnd(width)}  ${kb(r.bytes).padStart(10)}  ${kb(r.budgetBytes).padStart(8)}  ${largest}${over}`);
  }
  const drivers = reports[0]?.drivers ?? [];
  for (const d of drivers) {
    const over = d.bytes > d.budgetBytes ? '  OVER BUDGET' : '';
    lines.push(`+ node_modules/${d.package}/index.js in each: ${kb(d.bytes)} (budget ${kb(d.budgetBytes)})${over}`);
  }
  if (drivers.length === 0) lines.push('+ no store driver shipped (STORE=sqlite or --store=none)');
  return lines.join('\n');
}

if (require.main === module) {
  const started = Date.now();
  const args = process.argv.slice(2);
  const names = args.filter((a) => !a.startsWith('--'));
  buildFunctions(names.length ? names : undefined, { stores: storesToShip(args, process.env) })
    .then((reports) => {
      console.log(formatSizeTable(reports));
      console.log(`built ${reports.length} bundles in ${Date.now() - started} ms`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}

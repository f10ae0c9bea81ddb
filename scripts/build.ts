/**
 * `npm run build`: one esbuild bundle per function, `functions/<name>/handler.ts` → `dist/<name>/index.js`
 * (CommonJS, node18: SCF loads a CommonJS entry on Nodejs18.15), then a size table from the metafile.
 */
import { build, type Metafile } from 'esbuild';
import { readdirSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');

export function functionNames(): string[] {
  return readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'functions', entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
}

export async function buildFunctions(names = functionNames()): Promise<{ name: string; bytes: number }[]> {
  const sizes: { name: string; bytes: number }[] = [];
  for (const name of names) {
    const outfile = join(root, 'dist', name, 'index.js');
    const result = await build({
      entryPoints: [join(root, 'functions', name, 'handler.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node18',
      format: 'cjs',
      minify: true,
      sourcemap: 'external',
      legalComments: 'external',
      // Native and local-only: loaded only when STORE=sqlite, which the cloud configuration refuses.
      external: ['better-sqlite3'],
      metafile: true,
      logLevel: 'warning',
    });
    const output = (result.metafile as Metafile).outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith('index.js')) ?? ''];
    sizes.push({ name, bytes: output?.bytes ?? 0 });
    mkdirSync(join(root, 'dist', name), { recursive: true });
    writeFileSync(join(root, 'dist', name, 'meta.json'), JSON.stringify(result.metafile));
  }
  return sizes;
}

if (require.main === module) {
  const started = Date.now();
  buildFunctions(process.argv.slice(2).length ? process.argv.slice(2) : undefined)
    .then((sizes) => {
      const width = Math.max(...sizes.map((s) => s.name.length), 8);
      console.log(`${'function'.padEnd(width)}  bundle`);
      for (const { name, bytes } of sizes) console.log(`${name.padEnd(width)}  ${(bytes / 1024).toFixed(1).padStart(7)} KB`);
      console.log(`built ${sizes.length} bundles in ${Date.now() - started} ms`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}

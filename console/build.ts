/**
 * Builds the operator console (console/src) into the files a browser loads: one script, one stylesheet and the
 * page, all from our own origin. `npm start` builds it in memory at start-up (infra/local serves it at /console);
 * `npm run build:console` writes the same files to dist/console for CloudBase static hosting.
 */

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(__dirname, '..');

export interface ConsoleFile {
  /** Path under the console's base, without a leading slash: `index.html`, `assets/main-ABC123.js`. */
  readonly path: string;
  readonly bytes: Buffer;
  readonly contentType: string;
}

export interface ConsoleBuild {
  readonly files: ReadonlyMap<string, ConsoleFile>;
  /** Gzipped bytes of the shipped JavaScript (what the 250 KB budget counts). */
  readonly jsGzipBytes: number;
  readonly cssGzipBytes: number;
  readonly csp: string;
}

export interface ConsoleBuildOptions {
  /**
   * Where the API is, when it is not the page's own origin (static hosting): written into the page and allowed
   * by its Content-Security-Policy. Left out, the console calls its own origin.
   */
  apiBase?: string;
  minify?: boolean;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};
const typeOf = (path: string) => TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';

const escapeAttribute = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * No inline script anywhere (the page loads one module from 'self'); styles may be inline because the component
 * library positions popups with style attributes. The API's origin is allowed to be called when it is another.
 */
export const consoleCsp = (apiBase: string | undefined): string =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src 'self'${apiBase ? ` ${new URL(apiBase).origin}` : ''}`,
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');

export async function buildConsole(options: ConsoleBuildOptions = {}): Promise<ConsoleBuild> {
  const result = await build({
    entryPoints: { main: join(root, 'console', 'src', 'main.tsx') },
    bundle: true,
    write: false,
    outdir: join(root, 'dist', 'console', 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    format: 'esm',
    platform: 'browser',
    target: ['chrome100', 'safari15', 'firefox100'],
    jsx: 'automatic',
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.svg': 'file', '.png': 'file', '.woff': 'file', '.woff2': 'file', '.ttf': 'file' },
    logLevel: 'silent',
  });
  const files = new Map<string, ConsoleFile>();
  const assetsDir = join(root, 'dist', 'console', 'assets');
  let script = '';
  let stylesheet = '';
  let jsGzipBytes = 0;
  let cssGzipBytes = 0;
  for (const output of result.outputFiles) {
    const name = output.path.slice(assetsDir.length + 1);
    const path = `assets/${name}`;
    const bytes = Buffer.from(output.contents);
    files.set(path, { path, bytes, contentType: typeOf(name) });
    if (name.endsWith('.js')) {
      script = path;
      jsGzipBytes += gzipSync(bytes, { level: 9 }).length;
    }
    if (name.endsWith('.css')) {
      stylesheet = path;
      cssGzipBytes += gzipSync(bytes, { level: 9 }).length;
    }
  }
  const csp = consoleCsp(options.apiBase);
  // Relative URLs: the same files work at /console/ locally and at the root of a static host.
  const html = [
    '<!doctype html>',
    '<html lang="zh-CN">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    // A <meta> policy cannot say frame-ancestors (browsers ignore it there, with a warning): the header does.
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp.replace(/; frame-ancestors [^;]*/, ''))}">`,
    options.apiBase ? `<meta name="wxa-api-base" content="${escapeAttribute(options.apiBase)}">` : '',
    '<title>wxa-deploy 控制台</title>',
    // No favicon request (a 404 in every visit's log).
    '<link rel="icon" href="data:,">',
    stylesheet ? `<link rel="stylesheet" href="${stylesheet}">` : '',
    `<script type="module" src="${script}"></script>`,
    '</head>',
    '<body><div id="root"></div></body>',
    '</html>',
  ]
    .filter(Boolean)
    .join('\n');
  files.set('index.html', { path: 'index.html', bytes: Buffer.from(html), contentType: TYPES['.html'] ?? '' });
  return { files, jsGzipBytes, cssGzipBytes, csp };
}

/** What `writeConsole` leaves next to the files, for the server that serves them. */
export interface ConsoleManifest {
  csp: string;
  jsGzipBytes: number;
  cssGzipBytes: number;
  files: { path: string; contentType: string; bytes: number }[];
}

export const MANIFEST = 'console-manifest.json';

/** Writes the build to `outDir` (emptied first): the files a static host serves, plus the manifest. */
export async function writeConsole(outDir: string, options: ConsoleBuildOptions = {}): Promise<ConsoleBuild> {
  const site = await buildConsole(options);
  rmSync(outDir, { recursive: true, force: true });
  for (const file of site.files.values()) {
    mkdirSync(dirname(join(outDir, file.path)), { recursive: true });
    writeFileSync(join(outDir, file.path), file.bytes);
  }
  const manifest: ConsoleManifest = {
    csp: site.csp,
    jsGzipBytes: site.jsGzipBytes,
    cssGzipBytes: site.cssGzipBytes,
    files: [...site.files.values()].map((f) => ({ path: f.path, contentType: f.contentType, bytes: f.bytes.length })),
  };
  writeFileSync(join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return site;
}

/**
 * `npm run build:console [-- --api-base https://api.example.com]`: dist/console for CloudBase static hosting
 * (`--out DIR` elsewhere). The API base defaults to PUBLIC_BASE_URL; left unset, the console calls its own origin.
 */
async function main(argv: readonly string[]) {
  const option = (name: string) => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const outDir = resolve(option('--out') ?? join(root, 'dist', 'console'));
  const apiBase = option('--api-base') ?? process.env.PUBLIC_BASE_URL;
  const site = await writeConsole(outDir, apiBase ? { apiBase } : {});
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  process.stdout.write(
    [
      `console written to ${outDir}${apiBase ? ` (API at ${apiBase})` : ' (calls its own origin)'}`,
      ...[...site.files.values()].map((f) => `  ${f.path.padEnd(32)} ${kb(f.bytes.length).padStart(10)}`),
      `  JavaScript gzipped: ${kb(site.jsGzipBytes)} (budget 250 KB); CSS gzipped: ${kb(site.cssGzipBytes)}`,
      '',
    ].join('\n'),
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

/**
 * Serves the console's files under `/console/` from the local runtime (`npm start`, the demo, the browser tests).
 * The bundle is built on the first request and kept, on disk by source hash: a run that never opens the console
 * never builds it, and a run after one that did builds nothing. The build runs in a child process (console/build.ts):
 * esbuild refuses to run inside jest's sandboxed globals, and a child keeps the runtime's process free while it works.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { type ConsoleManifest, MANIFEST } from './build';

export const CONSOLE_PATH = '/console/';

const root = resolve(__dirname, '..');

export interface StaticReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface LoadedSite {
  csp: string;
  files: ReadonlyMap<string, { bytes: Buffer; contentType: string }>;
}

/** Runs `tsx console/build.ts --out …` in a child process. */
function buildInChild(outDir: string, apiBase: string | undefined): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [
        join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        join(root, 'console', 'build.ts'),
        '--out',
        outDir,
        ...(apiBase ? ['--api-base', apiBase] : []),
      ],
      // PUBLIC_BASE_URL would make a static build's API base: only `apiBase` says it.
      { cwd: root, env: { ...process.env, PUBLIC_BASE_URL: '' }, maxBuffer: 4 * 1024 * 1024 },
      (error, _stdout, stderr) => (error ? reject(new Error(`the console did not build: ${stderr || error.message}`)) : resolvePromise()),
    );
  });
}

/**
 * What the bundle is made of: the console's sources, the backend code it imports (types and the zod-free
 * modules), the locked dependencies, and the API base. A conservative key: any change under shared/ rebuilds.
 */
export function consoleSourceHash(apiBase = '', base = root): string {
  const hash = createHash('sha256').update(`api-base ${apiBase}\n`);
  const add = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) add(path);
      else if (/\.(ts|tsx|css|json)$/.test(entry.name)) hash.update(`${relative(base, path)}\n`).update(readFileSync(path));
    }
  };
  for (const dir of ['console', 'shared', 'functions']) add(join(base, dir));
  hash.update(readFileSync(join(base, 'package-lock.json')));
  return hash.digest('hex').slice(0, 20);
}

export interface BuiltConsoleOptions {
  /** Where the API is, for a static build (see console/build.ts). */
  apiBase?: string;
  /** Where builds are kept by source hash; one per machine by default, shared by every start and test run. */
  cacheDir?: string;
  /** Writes the files and manifest into a folder (default: esbuild in a child process). */
  build?: (outDir: string, apiBase: string | undefined) => Promise<void>;
}

/**
 * The console's files: built once per source hash and kept in `cacheDir`, so a start or a test file after the
 * first builds nothing. The build lands in a fresh folder renamed into place: a concurrent run either wins the
 * rename or reads the winner's (the same sources make the same files).
 */
export async function builtConsole(options: BuiltConsoleOptions = {}): Promise<LoadedSite> {
  const cacheDir = options.cacheDir ?? join(tmpdir(), 'wxa-console-builds');
  const dir = join(cacheDir, consoleSourceHash(options.apiBase ?? ''));
  if (!existsSync(join(dir, MANIFEST))) {
    mkdirSync(cacheDir, { recursive: true });
    const outDir = mkdtempSync(join(cacheDir, 'building-'));
    try {
      await (options.build ?? buildInChild)(outDir, options.apiBase);
      if (!existsSync(join(dir, MANIFEST))) renameSync(outDir, dir);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as ConsoleManifest;
  const files = new Map(manifest.files.map((f) => [f.path, { bytes: readFileSync(join(dir, f.path)), contentType: f.contentType }]));
  return { csp: manifest.csp, files };
}

/** What every console response carries: its CSP (no inline script), no sniffing, no referrer, no framing. */
const securityHeaders = (csp: string): Record<string, string> => ({
  'content-security-policy': csp,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

export function consoleSite(build: () => Promise<LoadedSite> = () => builtConsole()) {
  let built: Promise<LoadedSite> | undefined;
  const current = () => {
    built ??= build().catch((error: unknown) => {
      built = undefined; // a failed build is tried again on the next request
      throw error;
    });
    return built;
  };
  return {
    /** Starts the build now (npm start), so the first visit does not wait for it. */
    warm: () => void current().catch(() => undefined),
    /** The reply for a GET/HEAD of a console path, or undefined when the path is not the console's. */
    async serve(method: string, path: string): Promise<StaticReply | undefined> {
      if (method !== 'GET' && method !== 'HEAD') return undefined;
      if (path === '/console') return { status: 308, headers: { location: CONSOLE_PATH }, body: Buffer.alloc(0) };
      if (!path.startsWith(CONSOLE_PATH)) return undefined;
      const site = await current();
      const name = path.slice(CONSOLE_PATH.length) || 'index.html';
      const file = site.files.get(name);
      const headers = securityHeaders(site.csp);
      if (!file)
        return { status: 404, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('not found\n') };
      return {
        status: 200,
        headers: {
          ...headers,
          'content-type': file.contentType,
          // Asset names carry their content hash; the page itself must be fetched again to pick up a new build.
          'cache-control': name === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
        },
        body: file.bytes,
      };
    },
  };
}
export type ConsoleSite = ReturnType<typeof consoleSite>;

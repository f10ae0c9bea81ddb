/**
 * Serves the console's files under `/console/` from the local runtime (`npm start`, the demo, the browser tests).
 * The bundle is built on the first request and kept: a run that never opens the console never builds it. The build
 * runs in a child process (console/build.ts): esbuild refuses to run inside jest's sandboxed globals, and a child
 * keeps the runtime's process free while it works.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

/**
 * Builds into a temporary folder with `tsx console/build.ts --out …` and reads it back into memory. Locally the
 * console calls its own origin; `apiBase` makes the static build of the cloud (the API elsewhere).
 */
export function buildInChild(options: { apiBase?: string } = {}): Promise<LoadedSite> {
  const outDir = mkdtempSync(join(tmpdir(), 'wxa-console-'));
  return new Promise<LoadedSite>((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [
        join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        join(root, 'console', 'build.ts'),
        '--out',
        outDir,
        ...(options.apiBase ? ['--api-base', options.apiBase] : []),
      ],
      // PUBLIC_BASE_URL would make a static build's API base: only `apiBase` says it.
      { cwd: root, env: { ...process.env, PUBLIC_BASE_URL: '' }, maxBuffer: 4 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        try {
          if (error) throw new Error(`the console did not build: ${stderr || error.message}`);
          const manifest = JSON.parse(readFileSync(join(outDir, MANIFEST), 'utf8')) as ConsoleManifest;
          const files = new Map(
            manifest.files.map((f) => [f.path, { bytes: readFileSync(join(outDir, f.path)), contentType: f.contentType }]),
          );
          resolvePromise({ csp: manifest.csp, files });
        } catch (failure) {
          reject(failure);
        } finally {
          rmSync(outDir, { recursive: true, force: true });
        }
      },
    );
  });
}

/** What every console response carries: its CSP (no inline script), no sniffing, no referrer, no framing. */
const securityHeaders = (csp: string): Record<string, string> => ({
  'content-security-policy': csp,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

export function consoleSite(build: () => Promise<LoadedSite> = () => buildInChild()) {
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

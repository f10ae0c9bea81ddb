/**
 * serverless.yml as Serverless Devs itself renders it (`s preview -o json`: variables resolved, `extend` merged),
 * offline. Used by the pre-deploy check and by the tests, so both see exactly what `s deploy` would pass.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
export const sBin = join(repoRoot, 'node_modules', '.bin', 's');

/** Every `${env('NAME'…)}` the template reads, so a test can pin them all (and no developer `.env` leaks in). */
export function templateVariables(file: string): string[] {
  return [...new Set([...readFileSync(file, 'utf8').matchAll(/\$\{env\('([A-Z0-9_]+)'/g)].map((m) => m[1] ?? ''))].sort();
}

export interface RenderedResource {
  component: string;
  props: Record<string, unknown>;
}

/**
 * Runs the Serverless Devs CLI. Without `home`, in a throwaway HOME (no credentials, no component cache) with only
 * `env`; with `home`, as the developer, with their environment plus `env`.
 */
export function runS(args: string[], env: Record<string, string>, options: { cwd?: string; home?: string } = {}): string {
  const run = (home?: string) =>
    execFileSync(sBin, args, {
      cwd: options.cwd ?? repoRoot,
      env: home ? { PATH: process.env.PATH ?? '', HOME: home, ...env } : { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  return options.home ? run() : withThrowawayHome('wxa-s-home-', run);
}

/**
 * Runs `use` with a new empty directory under the OS temp dir to serve as a Serverless Devs HOME, then removes it.
 * The CLI leaves a detached writer (logs, cache) that can still be adding files under ~/.s after it exits, so a
 * plain removal can fail with ENOTEMPTY (seen in CI): retry, and never let a leftover temp directory fail the
 * command that produced a good answer.
 */
export function withThrowawayHome<T>(prefix: string, use: (home: string) => T): T {
  const home = mkdtempSync(join(tmpdir(), prefix));
  try {
    return use(home);
  } finally {
    removeThrowawayHome(home);
  }
}

export function removeThrowawayHome(home: string): void {
  try {
    rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch {
    // a throwaway directory under the OS temp dir; the OS cleans it
  }
}

/** With `pin`, every template variable not in `env` is set to '' so nothing else (a `.env`, the shell) leaks in. */
export function renderTemplate(
  file: string,
  env: Record<string, string>,
  options: { pin?: boolean; home?: string } = { pin: true },
): Record<string, RenderedResource> {
  const pinned = options.pin ? Object.fromEntries(templateVariables(file).map((name) => [name, env[name] ?? ''])) : {};
  const out = runS(['preview', '-t', file, '-o', 'json', '--silent'], { ...pinned, ...env }, options.home ? { home: options.home } : {});
  const parsed = JSON.parse(out.slice(out.indexOf('{'))) as { resources: Record<string, RenderedResource> };
  return parsed.resources;
}

/**
 * Runs a TypeScript entry point (as `tsx <file>`) in a child process whose every DNS lookup fails at once with
 * ENOTFOUND and is recorded. That takes a script through its real code path (real SDKs, real request building) as
 * far as the network, and shows which hosts it would have reached, without leaving this machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeThrowawayHome } from '../../infra/scf/render';

export const repoRoot = resolve(__dirname, '..', '..');

// `net` calls `dns.lookup` through the module object at connect time, so replacing it here covers every client.
const PRELOAD = `
const dns = require('node:dns');
const fs = require('node:fs');
dns.lookup = function (hostname, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  fs.appendFileSync(process.env.WXA_LOOKUP_LOG, hostname + '\\n');
  const error = Object.assign(new Error('getaddrinfo ENOTFOUND ' + hostname), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname });
  process.nextTick(done, error);
};
`;

export interface OfflineRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Every host name the process tried to resolve, in order. */
  lookups: string[];
}

/** `file` is a path from the repository root, or `{ source }`: a script written for the run (import by absolute path). */
export function runOffline(file: string | { source: string }, args: readonly string[], env: Record<string, string>): OfflineRun {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-offline-'));
  try {
    const script = typeof file === 'string' ? file : join(dir, 'script.ts');
    if (typeof file !== 'string') writeFileSync(script, file.source);
    const preload = join(dir, 'preload.cjs');
    const log = join(dir, 'lookups.log');
    writeFileSync(preload, PRELOAD);
    writeFileSync(log, '');
    const child = spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsx'), [script, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env, WXA_LOOKUP_LOG: log, NODE_OPTIONS: `--require ${preload}` },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return {
      status: child.status,
      stdout: child.stdout,
      stderr: child.stderr,
      lookups: readFileSync(log, 'utf8').split('\n').filter(Boolean),
    };
  } finally {
    removeThrowawayHome(dir);
  }
}

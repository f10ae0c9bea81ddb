/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and sums self time by where the code lives, so a
 * benchmark can say where its time goes. Idle time is left out of the total.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from './support';

export interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based, where the function is defined. */
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  groups: { name: string; ms: number }[];
  functions: { name: string; ms: number }[];
}

/** Groups a frame: repository files by path, packages by name, Node internals by module, VM states by name. */
export type Classifier = (frame: CallFrame) => string;

export const byLocation =
  (root: string): Classifier =>
  ({ url, functionName }) => {
    if (url === '') return functionName.startsWith('(') ? functionName : `native ${functionName || '(anonymous)'}`;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
    if (pkg) return pkg;
    if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:');
    const path = url.replace(/^file:\/\//, '');
    return path.startsWith(root) ? path.slice(root.length + 1) : path;
  };

/** The main thread's profile: the largest one (`--import tsx` adds a small one for its loader-hooks thread). */
export function mainProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ file: join(dir, f), size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size);
  const largest = files[0];
  if (!largest) throw new Error(`no .cpuprofile in ${dir}`);
  return largest.file;
}

export function summarize(file: string, classify: Classifier, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === '(idle)') return;
    total += dt;
    const group = classify(frame);
    groups.set(group, (groups.get(group) ?? 0) + dt);
    const fn = `${frame.functionName || '(anonymous)'} — ${group}`;
    functions.set(fn, (functions.get(fn) ?? 0) + dt);
  });
  const sorted = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000 }));
  return { totalMs: total / 1000, groups: sorted(groups), functions: sorted(functions) };
}

export function profileTable(summary: ProfileSummary, what: 'groups' | 'functions'): string {
  const rows = summary[what].map((g) => `| ${g.name} | ${fmt(g.ms, 0)} | ${fmt((100 * g.ms) / summary.totalMs, 1)} % |`);
  return [`| ${what === 'groups' ? 'where (self time)' : 'function — where'} | ms | share |`, '| --- | ---: | ---: |', ...rows].join('\n');
}

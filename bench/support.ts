/**
 * What every benchmark shares: the machine description, the result shape `bench/run.ts` turns into BENCHMARKS.md,
 * small statistics helpers, and the `--json <file>` convention by which a benchmark hands its result to the runner.
 *
 * A benchmark never asserts on time: it measures a figure and a baseline in the same run, reports their ratio and
 * whether the target was met, and exits 0 either way. It exits non-zero only when it could not measure
 * (a crash, or a correctness check — e.g. events not stored — that makes the figure meaningless).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');

export interface BenchRow {
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  /** null: informational row without a target. */
  met: boolean | null;
}

export interface BenchResult {
  name: string;
  title: string;
  command: string;
  rows: BenchRow[];
  /** Markdown paragraphs or bullet lines printed under the table (setup, method, where the time goes). */
  notes: string[];
  durationMs: number;
}

export interface Machine {
  nproc: number;
  memory: string;
  node: string;
  cpu: string;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpu = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: os.cpus() is the best we have
  }
  return { nproc: cpus().length, memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`, node: process.version, cpu };
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

/** Nearest-rank percentile (p in 0..100). */
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
};

export const fmt = (value: number, digits = 0): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(value);

export const ratio = (value: number, baseline: number, digits = 2): string =>
  baseline === 0 || !Number.isFinite(value / baseline) ? '—' : `${(value / baseline).toFixed(digits)}×`;

export const pct = (value: number, baseline: number): string =>
  baseline === 0 || !Number.isFinite(value / baseline) ? '—' : `${((100 * value) / baseline).toFixed(1)} %`;

export function markdownTable(rows: readonly BenchRow[]): string {
  const met = (m: boolean | null) => (m === null ? '—' : m ? 'yes' : '**no**');
  const lines = ['| figure | measured | baseline | ratio | target | met? |', '| --- | ---: | ---: | ---: | --- | :---: |'];
  for (const r of rows) lines.push(`| ${r.figure} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${met(r.met)} |`);
  return lines.join('\n');
}

/**
 * Prints the result, and writes it as JSON where `--json <file>` says (the runner's way of collecting it).
 * Exits 0: a missed target is a finding, not a failure.
 */
export function report(result: BenchResult): void {
  console.log(`\n## ${result.title}\n\n${markdownTable(result.rows)}\n`);
  for (const note of result.notes) console.log(note);
  const at = process.argv.indexOf('--json');
  const file = at >= 0 ? process.argv[at + 1] : undefined;
  if (file) writeFileSync(file, JSON.stringify(result, null, 2));
}

/** Runs a benchmark's main, reporting a crash on stderr with a non-zero exit. */
export function main(run: () => Promise<BenchResult>): void {
  const started = Date.now();
  run()
    .then((result) => {
      report({ ...result, durationMs: Date.now() - started });
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `--name value` or `--name=value` from argv. */
export function arg(name: string): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

export const numberArg = (name: string, fallback: number): number => {
  const text = arg(name);
  const value = text === undefined ? NaN : Number(text);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

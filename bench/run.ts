/**
 * `npm run bench`: runs every benchmark, one after the other, each in its own process, and rewrites BENCHMARKS.md
 * with the machine, the command, the date and one table per benchmark (figure, baseline, ratio, target, met?).
 *
 * `npm run bench -- crypto poller` runs only those and prints their tables without touching BENCHMARKS.md (a
 * partial file would mix runs); `--write` rewrites it anyway. A benchmark that crashes is reported as failed and
 * makes the run exit 1; a missed target is a finding, not a failure.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchResult, fmt, machine, markdownTable, ROOT } from './support';

/** Name, and the most a run may take before it is stopped (each also bounds its own load). */
const BENCHES: { name: string; limitMs: number }[] = [
  { name: 'crypto', limitMs: 2 * 60_000 },
  { name: 'store', limitMs: 3 * 60_000 },
  { name: 'coldstart', limitMs: 5 * 60_000 },
  { name: 'ingest', limitMs: 6 * 60_000 },
  { name: 'stampede', limitMs: 3 * 60_000 },
  { name: 'poller', limitMs: 8 * 60_000 },
  { name: 'webhooks', limitMs: 4 * 60_000 },
  { name: 'cost', limitMs: 3 * 60_000 },
  // 1,000 mini programs through the whole product: 7 CPU-minutes, 34 minutes at a load average of 15–19 on 2 cores.
  { name: 'rollout', limitMs: 45 * 60_000 },
];

interface Outcome {
  name: string;
  result?: BenchResult;
  failure?: string;
  ms: number;
}

function runOne(name: string, limitMs: number, dir: string): Promise<Outcome> {
  const out = join(dir, `${name}.json`);
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', `${name}.ts`), '--json', out], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      stderr += `\nstopped after ${limitMs / 1000} s`;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolvePromise({ name, result: JSON.parse(readFileSync(out, 'utf8')) as BenchResult, ms });
      } catch (error) {
        resolvePromise({ name, failure: `${String(error)}\n${stderr.split('\n').slice(-15).join('\n')}`, ms });
      }
    });
  });
}

function render(outcomes: Outcome[], started: Date, totalMs: number, load: number[]): string {
  const m = machine();
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/run.ts): edits are lost on the next run. -->',
    '',
    'Every figure is measured against a baseline taken in the same run, on the same machine, with the same tools;',
    'the ratio is what to compare between runs, the absolute numbers depend on the machine and on what else it was',
    'doing. All load stays on loopback, with bounded request counts and durations; every benchmark stops by itself.',
    'Performance is measured here, never by timed assertions in tests.',
    '',
    '| run | |',
    '| --- | --- |',
    `| command | \`npm run bench\` (\`tsx bench/run.ts\`); each benchmark alone: \`npx tsx bench/<name>.ts\` |`,
    `| date | ${started.toISOString()} (took ${fmt(totalMs / 1000)} s) |`,
    `| machine | ${m.nproc} CPUs (${m.cpu}), ${m.memory} memory |`,
    `| node | ${m.node} |`,
    `| load average at start | ${load.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min) |`,
    '',
    '## Summary',
    '',
    '| benchmark | figure | measured | baseline | ratio | target | met? |',
    '| --- | --- | ---: | ---: | ---: | --- | :---: |',
  ];
  for (const o of outcomes) {
    if (!o.result) {
      lines.push(`| ${o.name} | **failed to run** | | | | | **no** |`);
      continue;
    }
    for (const r of o.result.rows.filter((row) => row.met !== null)) {
      lines.push(`| ${o.name} | ${r.figure} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met ? 'yes' : '**no**'} |`);
    }
  }
  for (const o of outcomes) {
    lines.push('');
    if (!o.result) {
      lines.push(
        `## ${o.name}: failed`,
        '',
        `\`npx tsx bench/${o.name}.ts\` did not finish (${fmt(o.ms / 1000)} s):`,
        '',
        '```',
        o.failure ?? '',
        '```',
      );
      continue;
    }
    lines.push(
      `## ${o.result.title}`,
      '',
      `\`${o.result.command}\` — ${fmt(o.ms / 1000)} s.`,
      '',
      markdownTable(o.result.rows),
      '',
      ...o.result.notes,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function run() {
  const args = process.argv.slice(2);
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  const selected = names.length ? BENCHES.filter((b) => names.includes(b.name)) : BENCHES;
  const write = names.length === 0 || args.includes('--write');

  const started = new Date();
  const load = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'wxa-bench-run-'));
  const outcomes: Outcome[] = [];
  try {
    for (const { name, limitMs } of selected) {
      console.log(`\n=== ${name} ===`);
      outcomes.push(await runOne(name, limitMs, dir));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const totalMs = Date.now() - started.getTime();
  const markdown = render(outcomes, started, totalMs, load);
  if (write) {
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), markdown);
    console.log(`\nBENCHMARKS.md rewritten (${fmt(totalMs / 1000)} s).`);
  } else {
    console.log(`\n${markdown.slice(markdown.indexOf('## Summary'), markdown.indexOf('\n## ', markdown.indexOf('## Summary') + 1))}`);
    console.log('Partial run: BENCHMARKS.md left as it was (add --write to rewrite it).');
  }
  const failed = outcomes.filter((o) => !o.result);
  if (failed.length) {
    console.error(`failed: ${failed.map((o) => o.name).join(', ')}`);
    process.exit(1);
  }
}

run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * The JavaScript cost of one push, without sockets: `authorize-callback`'s cloud entry called in this process,
 * one `unauthorized` push after another, with the local provider's events exactly as the local runtime builds
 * them (SQLite in a temp dir, LOG_LEVEL=info, log lines written to /dev/null). A companion to bench/ingest.ts
 * for working on the hot path: its figure is steadier than a loaded run, and `--cpu-prof` profiles only this.
 *
 * It reports wall time and CPU time (user + system) per push; on a shared machine compare the CPU figure.
 *
 * `--concurrency N` keeps N pushes in flight (as N connections would), so the store can group their writes.
 *
 * `--floor` sends the same pushes through the floor's receiver instead (`bench/ingest-floor.ts`: no framework, the
 * same crypto, reads and durable write): the CPU the product's framework adds is the difference. Run it beside the
 * product's run, alternately, on a shared machine.
 *
 * `--profile-out FILE` runs the V8 sampling profiler over the timed pushes only (not the sealing, loading or
 * warm-up), writes the `.cpuprofile` there and prints where the self time goes (bench/profile.ts).
 *
 * `npx tsx bench/ingest-inprocess.ts [--amount 20000] [--concurrency 1] [--floor] [--profile-out FILE] [--json]`
 */
import { randomUUID } from 'node:crypto';
import fs, { mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localBundleEnv } from '../scripts/build';
import type { LocalHttpEvent } from '../shared/runtime/shim';
import { createFloorReceiver } from './ingest-floor';
import { byLocation, profileTable, summarize } from './profile';
import { sealUnauthorizedPushes } from './pushes';
import { arg, numberArg, ROOT } from './support';

async function run() {
  const amount = numberArg('amount', 20_000);
  const work = mkdtempSync(join(tmpdir(), 'wxa-bench-inproc-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  Object.assign(process.env, localBundleEnv({ sqlitePath: join(work, 'wxa.db'), weChatApiBase: 'http://127.0.0.1:9', logLevel: 'info' }), {
    PUBLIC_BASE_URL: 'http://127.0.0.1:3000',
  });
  // Log lines go where the benchmark's product sends them: nowhere, at the cost of a write. The product and the
  // floor write theirs to fd 1 (shared/runtime/stdout.ts), anything else through process.stdout.
  const devNull = openSync('/dev/null', 'w');
  const write = process.stdout.write.bind(process.stdout);
  (process.stdout as unknown as { write: unknown }).write = (chunk: string | Uint8Array) => {
    if (typeof chunk === 'string') writeSync(devNull, chunk);
    else writeSync(devNull, chunk);
    return true;
  };
  const writeToFd = fs.writeSync;
  fs.writeSync = ((fd: number, ...rest: unknown[]) =>
    (writeToFd as (...args: unknown[]) => number)(fd === 1 ? devNull : fd, ...rest)) as typeof fs.writeSync;
  const floor = process.argv.includes('--floor');
  const receiveOnFloor = floor ? createFloorReceiver({ sqlitePath: join(work, 'floor.db'), groupCommit: false }) : undefined;
  const { handler } = await import('../functions/authorize-callback/handler');
  const events: LocalHttpEvent[] = sealUnauthorizedPushes(amount).map(({ query, body }) => ({
    kind: 'local-http',
    method: 'POST',
    rawPath: '/wechat/component/events',
    rawQueryString: query,
    rawHeaders: [
      ['host', '127.0.0.1'],
      ['content-type', 'text/xml; charset=utf-8'],
      ['content-length', String(Buffer.byteLength(body))],
    ],
    bodyBase64: Buffer.from(body).toString('base64'),
    clientIp: '127.0.0.1',
    requestId: randomUUID(),
    pathParameters: {},
    resource: '/wechat/component/events',
  }));
  const callFloor = (event: LocalHttpEvent) =>
    new Promise<void>((resolve, reject) =>
      receiveOnFloor?.(`${event.rawPath}?${event.rawQueryString}`, Buffer.from(event.bodyBase64, 'base64').toString('utf8'), (status) =>
        status === 200 ? resolve() : reject(new Error(`floor answered ${status}`)),
      ),
    );
  const call = async (event: LocalHttpEvent) => {
    if (floor) return callFloor(event);
    const result = (await handler(event, {
      requestId: event.requestId,
      functionName: 'authorize-callback',
      deadlineMs: Date.now() + 10_000,
    })) as { statusCode: number };
    if (result.statusCode !== 200) throw new Error(`answered ${result.statusCode}`);
  };
  const concurrency = Math.max(1, numberArg('concurrency', 1));
  const callAll = async (from: number, to: number) => {
    let next = from;
    const worker = async () => {
      while (next < to) await call(events[next++] as LocalHttpEvent);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  const warm = Math.min(2000, Math.floor(amount / 5));
  await callAll(0, warm);
  const profileOut = arg('profile-out');
  const session = new Session();
  if (profileOut) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  await callAll(warm, amount);
  const us = Number(process.hrtime.bigint() - started) / 1000 / (amount - warm);
  // CPU time (user + system) of this process: steadier than wall time when other processes share the cores.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuUs = (cpu.user + cpu.system) / (amount - warm);
  if (profileOut) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileOut, JSON.stringify(profile));
    session.disconnect();
    const summary = summarize(profileOut, byLocation(ROOT), 30);
    process.stderr.write(`${profileTable(summary, 'groups')}\n\n${profileTable(summary, 'functions')}\n`);
  }
  process.stdout.write = write;
  fs.writeSync = writeToFd;
  if (process.argv.includes('--json')) {
    console.log(
      JSON.stringify({ receiver: floor ? 'floor' : 'product', pushes: amount - warm, concurrency, usPerPush: us, cpuUsPerPush: cpuUs }),
    );
    return;
  }
  console.log(
    `${floor ? 'floor' : 'product'}: ${(amount - warm).toLocaleString('en-US')} pushes, ${concurrency} in flight, ${us.toFixed(1)} µs per push in process (${Math.round(1e6 / us).toLocaleString('en-US')} /s on one core); ${cpuUs.toFixed(1)} µs of CPU per push`,
  );
}

run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

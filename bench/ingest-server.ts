/**
 * Child process of bench/ingest.ts: the product as `npm start` runs it — the local runtime with every function of
 * serverless.yml, SQLite at SQLITE_PATH, the simulator (no ticket pushes, no demo seed, so nothing but the
 * benchmark's load reaches the runtime) — on an ephemeral loopback port. Timers are off.
 *
 * IPC: sends `{url}` once listening; `{profile: 'start'}` starts the V8 sampling profiler (so start-up is left
 * out), `{profile: 'stop', file}` writes the `.cpuprofile` there and answers `{profiled: file}`; `exit` closes
 * everything and exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { startLocalStack } from '../infra/local/bootstrap';
import { createLogger } from '../shared/runtime/logger';
import { ROOT } from './support';

type Message = 'exit' | { profile: 'start' } | { profile: 'stop'; file: string };

async function run() {
  const level = process.env.LOG_LEVEL === 'error' ? 'error' : 'info';
  const log = createLogger({ level, base: { component: 'local-runtime' } });
  const stack = await startLocalStack({
    root: ROOT,
    env: process.env,
    log,
    port: 0,
    timers: false,
    simulator: { ticketIntervalMs: 0, seedDemo: false },
  });
  const session = new Session();
  const post = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolvePromise, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolvePromise(result))),
    );

  process.on('message', (message: Message) => {
    if (message === 'exit') {
      stack
        .close()
        .then(() => process.exit(0))
        .catch(() => process.exit(1));
    } else if (message.profile === 'start') {
      session.connect();
      post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: 200 }))
        .then(() => post('Profiler.start'))
        .then(() => process.send?.({ profiling: true }))
        .catch((error: unknown) => process.send?.({ error: String(error) }));
    } else {
      post('Profiler.stop')
        .then((result) => {
          writeFileSync(message.file, JSON.stringify((result as { profile: unknown }).profile));
          session.disconnect();
          process.send?.({ profiled: message.file });
        })
        .catch((error: unknown) => process.send?.({ error: String(error) }));
    }
  });
  process.send?.({ url: stack.runtime.url });
}

run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

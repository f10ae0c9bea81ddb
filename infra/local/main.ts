/**
 * `npm start`: the whole backend on one machine with embedded defaults — SQLite under .data/, the WeChat
 * simulator on its own port, every function and timer of serverless.yml behind one local port.
 * Anything set in the environment wins; what was filled in is said in the banner.
 */
import { dirname, resolve } from 'node:path';
import { getConfig } from '../../shared/runtime/config';
import { createLogger } from '../../shared/runtime/logger';
import { localSecretsFile, startLocalStack } from './bootstrap';

async function main() {
  const root = resolve(__dirname, '..', '..');
  const log = createLogger({ level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info', base: { component: 'local-runtime' } });
  const stack = await startLocalStack({ root, env: process.env, log, simulator: { persist: true }, warmConsole: true });
  // Validate now rather than at the first request: a bad value should stop `npm start` with the full list.
  const config = getConfig();

  const lines = [
    '',
    `  wxa-deploy is running at ${stack.runtime.url}   (health: ${stack.runtime.url}/healthz)`,
    `  console: ${stack.runtime.url}/console/   (sign in with the admin key, or an account's API key)`,
    `  store:   ${config.store.kind === 'sqlite' ? `SQLite ${config.store.path}` : config.store.kind}`,
    `  WeChat:  ${stack.simulatorUrl ? `simulator at ${stack.simulatorUrl} (set WECHAT_API_BASE to use a real platform)` : config.wechat.apiBase}`,
    stack.generated.length
      ? `  ${stack.generated.join(' and ')} from ${localSecretsFile(dirname(process.env.SQLITE_PATH ?? '.data/wxa-deploy.db'))} (the admin key creates accounts)`
      : '',
    '  Ctrl-C stops it.',
    '',
  ].filter((line) => line !== '');
  process.stdout.write(`${lines.join('\n')}\n\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    stack
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error('unclean stop', { error });
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

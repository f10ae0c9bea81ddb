/**
 * What every function needs at a cold start: configuration, a logger that knows the secrets to hide, and the
 * store. Built once per process and shared by every invocation (and, in the local runtime, by every function).
 */

import { openStore } from '../store/open';
import type { DocumentStore } from '../store/port';
import { type Config, getConfig, secretsOf } from './config';
import { createLogger, type Logger, registerSecret } from './logger';

/** The process's foundation (not WeChat's third-party platform, which is `WeChatPlatform`). */
export interface Foundation {
  config: Config;
  log: Logger;
  store: DocumentStore;
}

export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    // A failed cold start must not poison the instance: the next invocation tries again.
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

export const foundation = once(async (): Promise<Foundation> => {
  const config = getConfig();
  for (const secret of secretsOf(config)) registerSecret(secret);
  const log = createLogger({ level: config.logLevel });
  const store = await openStore(config.store, { log });
  return { config, log, store };
});

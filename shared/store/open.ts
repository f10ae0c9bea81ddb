/**
 * Opens the store named by configuration. Adapters are imported only when chosen, so a function bundle for the
 * cloud never loads better-sqlite3's native binary and a local run never loads a cloud SDK.
 */
import { ConfigError } from '../domain/errors';
import type { StoreConfig } from '../runtime/config';
import type { Clock, DocumentStore } from './port';

export async function openStore(config: StoreConfig, clock?: Clock): Promise<DocumentStore> {
  switch (config.kind) {
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite');
      return openSqliteStore({ path: config.path, ...(clock ? { clock } : {}) });
    }
    case 'cloudbase':
    case 'mongodb':
      throw new ConfigError(`STORE=${config.kind}: this build has no ${config.kind} adapter yet; use STORE=sqlite`);
  }
}

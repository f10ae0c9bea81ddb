/**
 * Opens the store named by configuration. Adapters are imported only when chosen, so a cloud function never
 * loads better-sqlite3's native binary and a local run never loads a cloud SDK.
 *
 * In the function bundles the adapters' drivers are esbuild externals: the driver of the store being deployed
 * is shipped next to the bundle (`node_modules/<driver>/index.js`, see scripts/build.ts). A bundle built for
 * another store fails here with a message that says so, instead of an opaque "Cannot find module".
 *
 * A bundle also carries only the adapters of the stores it is built for: the build replaces each
 * `process.env.WXA_BUNDLE_OMITS_<KIND>` below with "true" or "false" (an esbuild `define`), so a store left out is a
 * constant branch, dropped with its `import()`. Under tsx and jest they are unset: every store opens.
 */
import { ConfigError } from '../domain/errors';
import type { Clock, DocumentStore, StoreLogger } from './port';

/** Which store to open; the store owns this shape, and the runtime's configuration (`STORE=…`) produces it. */
export type StoreConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'cloudbase'; envId: string; region: string | undefined }
  | { kind: 'mongodb'; url: string; dbName: string };

export interface OpenStoreOptions {
  clock?: Clock;
  /** Where adapters report what they work around (the runtime passes its logger). */
  log?: StoreLogger;
}

const DRIVERS = { sqlite: 'better-sqlite3', cloudbase: '@cloudbase/node-sdk', mongodb: 'mongodb' } as const;

function missingDriver(kind: StoreConfig['kind'], error: unknown): ConfigError | undefined {
  const code = error && typeof error === 'object' && 'code' in error ? (error as { code: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : '';
  if (code !== 'MODULE_NOT_FOUND' || !message.includes(DRIVERS[kind])) return undefined;
  return new ConfigError(
    `STORE=${kind} needs ${DRIVERS[kind]}, which this build does not carry: rebuild with STORE=${kind} npm run build`,
    { cause: error },
  );
}

/** A store this bundle was built without (see the top of this file). */
function notInBundle(kind: StoreConfig['kind']): Promise<never> {
  return Promise.reject(
    new ConfigError(
      `STORE=${kind}: this build carries no ${kind} store (built for STORE=${process.env.WXA_BUNDLE_STORES}): rebuild with STORE=${kind} npm run build`,
    ),
  );
}

async function load<T>(kind: StoreConfig['kind'], importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    throw missingDriver(kind, error) ?? error;
  }
}

export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<DocumentStore> {
  const withClock = options.clock ? { clock: options.clock } : {};
  switch (config.kind) {
    case 'sqlite': {
      const { openSqliteStore } = await load('sqlite', () =>
        process.env.WXA_BUNDLE_OMITS_SQLITE === 'true' ? notInBundle('sqlite') : import('./sqlite'),
      );
      return openSqliteStore({ path: config.path, ...withClock });
    }
    case 'cloudbase': {
      const { openCloudbaseStore } = await load('cloudbase', () =>
        process.env.WXA_BUNDLE_OMITS_CLOUDBASE === 'true' ? notInBundle('cloudbase') : import('./cloudbase'),
      );
      return openCloudbaseStore({ envId: config.envId, ...(config.region ? { region: config.region } : {}), ...withClock });
    }
    case 'mongodb': {
      const { openMongoStore } = await load('mongodb', () =>
        process.env.WXA_BUNDLE_OMITS_MONGODB === 'true' ? notInBundle('mongodb') : import('./mongodb'),
      );
      return openMongoStore({ url: config.url, dbName: config.dbName, ...withClock, ...(options.log ? { log: options.log } : {}) });
    }
  }
}

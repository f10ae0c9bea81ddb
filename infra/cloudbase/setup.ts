/**
 * Creates the CloudBase collections and indexes the store uses, ahead of the first deployment:
 *
 *   TCB_ENV=<env id> TENCENTCLOUD_SECRETID=… TENCENTCLOUD_SECRETKEY=… npm run setup:cloudbase [-- --dry-run]
 *
 * The collections are found in the source (every `defineCollection({ name, indexes })` under shared/ and
 * functions/), so one added later is picked up by re-running this. Per collection: the collection itself, an
 * index on `expiresAt` (the maintenance sweep and every live read filter on it) and one on `idx.<field>` per
 * declared index (see shared/store/document-codec.ts). Each is recorded in the `wxaCollections` catalog that
 * `purgeExpired` sweeps. Idempotent: what exists is left alone.
 *
 * Indexes go through `@cloudbase/manager-node` (the node SDK has no index API); the catalog through the node SDK.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CATALOG_COLLECTION } from '../../shared/store/cloudbase';

const root = resolve(__dirname, '..', '..');

export interface CollectionPlan {
  name: string;
  source: string;
  indexes: { name: string; field: string }[];
}

/** Finds `defineCollection({ … })` calls and reads their literal `name` and `indexes`. */
export function collectionsInSource(dirs: readonly string[] = ['shared', 'functions'], base = root): CollectionPlan[] {
  const found = new Map<string, CollectionPlan>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ts$/.test(entry.name) && !/\.test\.ts$|\.contract\.ts$/.test(entry.name)) {
        for (const spec of specsIn(readFileSync(full, 'utf8'))) {
          found.set(spec.name, { ...spec, source: relative(base, full) });
        }
      }
    }
  };
  for (const dir of dirs) walk(join(base, dir));
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function specsIn(source: string): Omit<CollectionPlan, 'source'>[] {
  const specs: Omit<CollectionPlan, 'source'>[] = [];
  for (let at = source.indexOf('defineCollection({'); at >= 0; at = source.indexOf('defineCollection({', at + 1)) {
    // The call's object literal: up to the brace that closes the one after `defineCollection(`.
    let depth = 0;
    let end = at + 'defineCollection('.length;
    for (; end < source.length; end++) {
      if (source[end] === '{') depth++;
      else if (source[end] === '}' && --depth === 0) break;
    }
    const body = source.slice(at, end + 1);
    const name = /name:\s*'([A-Za-z][A-Za-z0-9]*)'/.exec(body)?.[1];
    if (!name) continue;
    const fields = [...(/\bindexes:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? '').matchAll(/'([A-Za-z][A-Za-z0-9]*)'/g)].map((m) => m[1] ?? '');
    specs.push({
      name,
      indexes: [{ name: 'expiresAt', field: 'expiresAt' }, ...fields.map((field) => ({ name: `idx_${field}`, field: `idx.${field}` }))],
    });
  }
  return specs;
}

/** The slice of `@cloudbase/manager-node`'s DatabaseService used here. */
export interface CollectionManager {
  createCollectionIfNotExists(name: string): Promise<{ IsCreated: boolean }>;
  checkIndexExists(name: string, indexName: string): Promise<{ Exists: boolean }>;
  updateCollection(
    name: string,
    info: {
      CreateIndexes: { IndexName: string; MgoKeySchema: { MgoIndexKeys: { Name: string; Direction: string }[]; MgoIsUnique: boolean } }[];
    },
  ): Promise<unknown>;
}

export interface Catalog {
  record(name: string, indexes: string[]): Promise<void>;
}

export async function applySetup(
  plans: readonly CollectionPlan[],
  manager: CollectionManager,
  catalog: Catalog,
  log: (line: string) => void = console.log,
): Promise<void> {
  await manager.createCollectionIfNotExists(CATALOG_COLLECTION);
  for (const plan of plans) {
    const { IsCreated } = await manager.createCollectionIfNotExists(plan.name);
    log(`${plan.name}: ${IsCreated ? 'created' : 'exists'}`);
    for (const index of plan.indexes) {
      if ((await manager.checkIndexExists(plan.name, index.name)).Exists) continue;
      await manager.updateCollection(plan.name, {
        CreateIndexes: [
          { IndexName: index.name, MgoKeySchema: { MgoIndexKeys: [{ Name: index.field, Direction: '1' }], MgoIsUnique: false } },
        ],
      });
      log(`${plan.name}: index ${index.name} on ${index.field}`);
    }
    await catalog.record(
      plan.name,
      plan.indexes.filter((i) => i.field.startsWith('idx.')).map((i) => i.field.slice(4)),
    );
  }
}

interface SetupCredentials {
  envId: string;
  secretId: string;
  secretKey: string;
  /** The environment's region (`TCB_REGION`); without it both SDKs fall back to TENCENTCLOUD_REGION, then Shanghai. */
  region?: string | undefined;
}

/**
 * The two SDKs, loaded with `require`: both are CommonJS (`module.exports = …`). Through `import()` Node hands
 * their exports over as `default` only, so the `init` destructured from it was undefined and the script died with
 * "init is not a function" before creating anything.
 */
export function openSetupClients(credentials: SetupCredentials): { manager: CollectionManager; catalog: Catalog } {
  const { envId, secretId, secretKey, region } = credentials;
  const withRegion = region ? { region } : {};
  const CloudBase = require('@cloudbase/manager-node') as typeof import('@cloudbase/manager-node');
  const manager: CollectionManager = new CloudBase({ envId, secretId, secretKey, ...withRegion }).database;
  const { init } = require('@cloudbase/node-sdk') as typeof import('@cloudbase/node-sdk');
  const db = init({ env: envId, secretId, secretKey, ...withRegion }).database();
  const catalog: Catalog = {
    record: async (name, indexes) => {
      try {
        await db.collection(CATALOG_COLLECTION).add({ _id: name, indexes });
      } catch {
        // Already recorded (DATABASE_DUPLICATE_WRITE).
      }
    },
  };
  return { manager, catalog };
}

async function main() {
  const plans = collectionsInSource();
  if (process.argv.includes('--dry-run')) {
    for (const plan of plans) console.log(`${plan.name} (${plan.source}): ${plan.indexes.map((i) => i.field).join(', ')}`);
    return;
  }
  const envId = process.env.TCB_ENV;
  const secretId = process.env.TENCENTCLOUD_SECRETID;
  const secretKey = process.env.TENCENTCLOUD_SECRETKEY;
  if (!envId || !secretId || !secretKey) {
    throw new Error('set TCB_ENV, TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY (or pass --dry-run)');
  }
  const { manager, catalog } = openSetupClients({ envId, secretId, secretKey, region: process.env.TCB_REGION || undefined });
  await applySetup(plans, manager, catalog);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

import { CATALOG_COLLECTION } from '../../shared/store/cloudbase';
import { runOffline } from '../../test/support/offline';
import { applySetup, type CollectionManager, collectionsInSource } from './setup';

describe('CloudBase setup', () => {
  const plans = collectionsInSource();

  it('finds every collection the code defines, with an expiresAt index and one per declared field', () => {
    const names = plans.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['leases', 'healthProbes', 'idempotency', 'inbox']));
    for (const plan of plans) expect(plan.indexes[0]).toEqual({ name: 'expiresAt', field: 'expiresAt' });
    const inbox = plans.find((p) => p.source.endsWith('wechat/inbox.ts'));
    expect(inbox?.indexes.length).toBeGreaterThanOrEqual(1);
  });

  it('creates what is missing, leaves what exists, and records each collection in the catalog', async () => {
    const calls: string[] = [];
    const manager: CollectionManager = {
      createCollectionIfNotExists: async (name) => {
        calls.push(`collection ${name}`);
        return { IsCreated: name !== 'leases' };
      },
      checkIndexExists: async (name, index) => ({ Exists: name === 'leases' && index === 'expiresAt' }),
      updateCollection: async (name, info) => {
        calls.push(`index ${name} ${JSON.stringify(info.CreateIndexes)}`);
      },
    };
    const recorded: string[] = [];
    const leases = plans.filter((p) => p.name === 'leases');
    await applySetup(leases, manager, { record: async (name) => void recorded.push(name) }, () => undefined);
    expect(calls).toEqual([`collection ${CATALOG_COLLECTION}`, 'collection leases']);
    expect(recorded).toEqual(['leases']);

    calls.length = 0;
    const probe = {
      name: 'things',
      source: 'x.ts',
      indexes: [
        { name: 'expiresAt', field: 'expiresAt' },
        { name: 'idx_owner', field: 'idx.owner' },
      ],
    };
    await applySetup([probe], manager, { record: async () => undefined }, () => undefined);
    expect(calls).toEqual([
      `collection ${CATALOG_COLLECTION}`,
      'collection things',
      'index things [{"IndexName":"expiresAt","MgoKeySchema":{"MgoIndexKeys":[{"Name":"expiresAt","Direction":"1"}],"MgoIsUnique":false}}]',
      'index things [{"IndexName":"idx_owner","MgoKeySchema":{"MgoIndexKeys":[{"Name":"idx.owner","Direction":"1"}],"MgoIsUnique":false}}]',
    ]);
  });
});

describe('npm run setup:cloudbase (the real script, as far as the network)', () => {
  it('loads both SDKs and sends its first request, failing only because the network is unreachable', () => {
    const run = runOffline('infra/cloudbase/setup.ts', [], {
      TCB_ENV: 'wxa-test-1a2b3c',
      TENCENTCLOUD_SECRETID: 'AKIDtest',
      TENCENTCLOUD_SECRETKEY: 'secret',
    });
    expect(run.stderr).not.toMatch(/is not a function/);
    // The manager's first call (create the catalog collection) goes to the CloudBase cloud API.
    expect(run.lookups).toContain('tcb.tencentcloudapi.com');
    expect(run.stderr).toMatch(/ENOTFOUND tcb\.tencentcloudapi\.com/);
    expect(run.status).toBe(1);
  }, 60_000);
});

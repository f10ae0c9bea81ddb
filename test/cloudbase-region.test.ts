/**
 * Which CloudBase endpoint a function talks to, through the real @cloudbase/node-sdk as far as the network (DNS
 * refused and recorded: test/support/offline.ts). Inside SCF the SDK takes the region from TENCENTCLOUD_REGION, the
 * function's own region; TCB_REGION names the environment's region when the two differ.
 */
import { join } from 'node:path';
import { repoRoot, runOffline } from './support/offline';

const SCRIPT = `
import { z } from ${JSON.stringify(join(repoRoot, 'node_modules', 'zod'))};
import { parseConfig } from ${JSON.stringify(join(repoRoot, 'shared', 'runtime', 'config'))};
import { openStore } from ${JSON.stringify(join(repoRoot, 'shared', 'store', 'open'))};
import { defineCollection } from ${JSON.stringify(join(repoRoot, 'shared', 'store', 'port'))};
(async () => {
  const store = await openStore(parseConfig(process.env).store);
  try {
    await store.collection(defineCollection({ name: 'probe', schema: z.object({}) })).get('x');
  } catch (error) {
    console.error(String(error));
  }
})();
`;

/** A function deployed in Guangzhou, as SCF describes it to the SDK, on a CloudBase environment. */
const inGuangzhou = (extra: Record<string, string>) => ({
  WXA_ENV: 'local',
  STORE: 'cloudbase',
  TCB_ENV: 'wxa-prod-1a2b3c',
  DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
  ADMIN_API_KEY: 'admin-key-0123456789abcdefghij',
  TENCENTCLOUD_RUNENV: 'SCF',
  TENCENTCLOUD_REGION: 'ap-guangzhou',
  TENCENTCLOUD_SECRETID: 'AKIDtest',
  TENCENTCLOUD_SECRETKEY: 'secret',
  ...extra,
});

const cloudbaseHosts = (lookups: string[]) => lookups.filter((host) => host.endsWith('.tcb-api.tencentcloudapi.com'));

describe('the CloudBase region', () => {
  it('TCB_REGION sends the store to the environment’s region, not the function’s', () => {
    const run = runOffline({ source: SCRIPT }, [], inGuangzhou({ TCB_REGION: 'ap-shanghai' }));
    expect(cloudbaseHosts(run.lookups)).toEqual(['wxa-prod-1a2b3c.ap-shanghai.tcb-api.tencentcloudapi.com']);
  }, 60_000);

  it('without it, the function’s own region (the SDK’s default, over the internal endpoint)', () => {
    const run = runOffline({ source: SCRIPT }, [], inGuangzhou({}));
    expect(cloudbaseHosts(run.lookups)).toEqual([expect.stringContaining('internal.ap-guangzhou.tcb-api.tencentcloudapi.com')]);
  }, 60_000);

  it('a malformed TCB_REGION stops start-up, naming it', () => {
    const run = runOffline({ source: SCRIPT }, [], inGuangzhou({ TCB_REGION: 'shanghai' }));
    expect(run.stderr).toMatch(/TCB_REGION/);
    expect(cloudbaseHosts(run.lookups)).toEqual([]);
  }, 60_000);
});

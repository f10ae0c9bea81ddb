/**
 * The shim as a bundle built without some providers runs it: scripts/build.ts `define`s
 * `process.env.WXA_BUNDLE_OMITS_<PROVIDER>`; here the same variables are set before the shim is loaded afresh. The
 * bundles themselves are tested in test/bundles.test.ts (the shim's code left out, the error from a real bundle).
 */
import { ProviderNotInBundleError } from './common';
import type * as Shim from './index';
import { contexts, loadFixture, thrownBy } from './testing';

/** The shim loaded with `omitted` left out, as a bundle built without them would be. */
function shimWithout(omitted: readonly string[]): typeof Shim {
  const names = omitted.map((provider) => `WXA_BUNDLE_OMITS_${provider.toUpperCase()}`);
  for (const name of names) process.env[name] = 'true';
  try {
    let shim: typeof Shim | undefined;
    jest.isolateModules(() => {
      shim = require('./index') as typeof Shim;
    });
    if (!shim) throw new Error('the shim did not load');
    return shim;
  } finally {
    for (const name of names) delete process.env[name];
  }
}

const answer = async () => ({ statusCode: 204, headers: {}, body: '' });

describe('a shim built without some providers', () => {
  const shim = shimWithout(['aws', 'local']);

  it('carries the others, and still answers their events', async () => {
    expect(shim.carriedProviders()).toEqual(['scf', 'fc']);
    const handler = shim.makeCloudHandler({ http: answer });
    await expect(handler(loadFixture('scf-url.json'), contexts.scf)).resolves.toMatchObject({ statusCode: 204 });
    await expect(handler(loadFixture('fc-http.json'), contexts.fc)).resolves.toMatchObject({ statusCode: 204 });
  });

  it.each([
    ['aws-v2', 'aws'],
    ['aws-schedule', 'aws'],
    ['local-http', 'local'],
    ['local-timer', 'local'],
  ])('refuses a %s event by name, saying how to rebuild, before any handler runs', async (kind, provider) => {
    const http = jest.fn(answer);
    const schedule = jest.fn(async () => undefined);
    const handler = shim.makeCloudHandler({ http, schedule });
    const error = await handler(loadFixture(`${kind}.json`), {}).catch((e: unknown) => e);
    // The class of the freshly loaded shim: compared by name and code, as a caller across bundles would.
    expect(error).toMatchObject({
      name: 'ProviderNotInBundleError',
      code: 'TRIGGER_PROVIDER_NOT_IN_BUNDLE',
      category: 'internal',
      message: `${kind} event: this bundle carries no ${provider} shim (built for WXA_PROVIDERS=scf,fc): rebuild with WXA_PROVIDERS=scf,fc,${provider} npm run build`,
      details: { kind, provider, carried: ['scf', 'fc'] },
    });
    expect(http).not.toHaveBeenCalled();
    expect(schedule).not.toHaveBeenCalled();
  });

  it('refuses in every converter, detection itself staying whole', () => {
    const raw = loadFixture('aws-v1.json');
    expect(shim.detectProvider(raw)).toBe('aws-v1');
    for (const call of [
      () => shim.toHttpEvent('aws-v1', raw, undefined),
      () => shim.toProviderResult('aws-v1', { statusCode: 200, body: '' }),
      () => shim.toLambdaContext('aws-v1', undefined, 0),
      () => shim.toScheduledEvent('aws-schedule', loadFixture('aws-schedule.json')),
    ]) {
      expect(thrownBy(call)).toMatchObject({ code: 'TRIGGER_PROVIDER_NOT_IN_BUNDLE' });
    }
  });
});

describe('the source (tsx, jest: nothing defined)', () => {
  it('carries every provider', async () => {
    const shim = await import('./index');
    expect(shim.carriedProviders()).toEqual(['scf', 'fc', 'aws', 'local']);
    expect(new ProviderNotInBundleError('x').code).toBe('TRIGGER_PROVIDER_NOT_IN_BUNDLE');
  });
});

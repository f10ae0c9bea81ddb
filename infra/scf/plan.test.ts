/**
 * The offline dry run as a developer runs it: `npm run deploy:plan` builds the bundles and runs
 * `s plan -t serverless.yml` through Serverless Devs, with no credentials (a fresh HOME) and no network use.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanOutput } from './component';
import { removeThrowawayHome } from './render';
import { repoRoot, templateVariables } from './testing';

describe('npm run deploy:plan', () => {
  const home = mkdtempSync(join(tmpdir(), 'wxa-plan-home-'));
  let output = '';
  let plans: Record<string, PlanOutput> = {};

  beforeAll(() => {
    // Pin every template variable so a developer's own .env cannot change what is planned.
    const pinned = Object.fromEntries(templateVariables(join(repoRoot, 'serverless.yml')).map((name) => [name, '']));
    output = execFileSync('npm', ['run', '--silent', 'deploy:plan', '--', '-o', 'json'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        ...pinned,
        DATA_KEY: Buffer.alloc(32, 1).toString('base64'),
        ADMIN_API_KEY: 'plan-admin-key-0123456789abcdef',
        STORE: 'cloudbase',
        TCB_ENV: 'wxa-plan-env',
      },
      encoding: 'utf8',
      timeout: 180_000,
    });
    const json = output.slice(output.indexOf('\n{') + 1);
    plans = JSON.parse(json) as Record<string, PlanOutput>;
  });
  afterAll(() => removeThrowawayHome(home));

  it('plans every resource without credentials', () => {
    expect(Object.keys(plans)).toEqual(expect.arrayContaining(['api', 'authorize-callback', 'maintenance']));
    expect(plans.maintenance).toMatchObject({
      functionName: 'wxa-deploy-maintenance',
      region: 'ap-guangzhou',
      configuration: { runtime: 'Nodejs18.15', handler: 'index.handler', timeout: 60 },
      triggers: [{ type: 'timer', name: 'purge-expired', desc: '0 */10 * * * * *' }],
    });
  });

  it('packages the built bundle with the store driver, and prints its size and digest', () => {
    const code = plans['authorize-callback']?.code;
    expect(code?.problem).toBeUndefined();
    // The loader, the bundle and its V8 code cache, for the function, its driver and the XML parser it requires
    // for the documents its fast path leaves to it (scripts/build.ts).
    expect(code?.files.map((f) => f.name)).toEqual([
      'bundle.js',
      'bundle.js.v8cache',
      'index.js',
      'node_modules/@cloudbase/node-sdk/bundle.js',
      'node_modules/@cloudbase/node-sdk/bundle.js.v8cache',
      'node_modules/@cloudbase/node-sdk/index.js',
      'node_modules/fast-xml-parser/bundle.js',
      'node_modules/fast-xml-parser/bundle.js.v8cache',
      'node_modules/fast-xml-parser/index.js',
    ]);
    // The api serves the OpenAPI document the build wrote next to its bundle, and needs no XML parser.
    const api = plans.api?.code?.files.map((f) => f.name) ?? [];
    expect(api).toContain('openapi.json');
    expect(api.filter((name) => name.includes('fast-xml-parser'))).toEqual([]);
    expect(code?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(code?.zipBytes).toBeGreaterThan(1000);
  });

  it('masks secrets and names the empty variables it will leave out', () => {
    const plan = plans.api;
    expect(plan?.environment).toMatchObject({
      WXA_ENV: 'cloud',
      STORE: 'cloudbase',
      TCB_ENV: 'wxa-plan-env',
      DATA_KEY: '***',
      ADMIN_API_KEY: '***',
    });
    expect(output).not.toContain(Buffer.alloc(32, 1).toString('base64'));
    expect(output).not.toContain('plan-admin-key');
    expect(plan?.omittedEmptyVariables).toEqual(expect.arrayContaining(['WECHAT_COMPONENT_SECRET', 'MONGODB_URL']));
  });

  it('names the WeChat URLs each function will serve', () => {
    expect(plans['authorize-callback']?.wechat?.authorizationEventUrl).toBe(
      '<function URL of wxa-deploy-authorize-callback>/wechat/component/events',
    );
    const message = Object.values(plans).find((p) => p.wechat?.messageUrl);
    expect(message?.wechat?.messageUrl).toMatch(/^<function URL of [\w-]+>\/wechat\/authorizers\/\$APPID\$\/events$/);
  });
});

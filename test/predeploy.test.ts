/**
 * The pre-deploy check: every variable the functions read is declared in both templates, and a deployment with a
 * missing or malformed one (or a bundle without the configured store's driver) is refused with the whole list.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { renderTemplate, withThrowawayHome } from '../infra/scf/render';
import { DEPLOY_PROVIDERS } from '../scripts/build';
import { checkResources, codeCacheWarnings, nodeOfRuntime } from '../scripts/predeploy';
import { REQUIRED_IN_CLOUD } from '../shared/runtime/config';

const root = resolve(__dirname, '..');
const scfFile = join(root, 'serverless.yml');

const COMPLETE = {
  STORE: 'cloudbase',
  SCF_ROLE: 'SCF_WxaDeployRole',
  TCB_ENV: 'wxa-prod-1a2b3c',
  DATA_KEY: Buffer.alloc(32, 9).toString('base64'),
  ADMIN_API_KEY: 'admin-key-0123456789abcdefghij',
  WECHAT_COMPONENT_APPID: 'wx1234567890abcdef',
  WECHAT_COMPONENT_SECRET: 'component-secret',
  WECHAT_TOKEN: 'wxatoken',
  WECHAT_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  PUBLIC_BASE_URL: 'https://wxa.example.com',
};

/** The variables shared/runtime/config.ts declares, read from its schema's source. */
function configVariables(): string[] {
  const source = readFileSync(join(root, 'shared', 'runtime', 'config.ts'), 'utf8');
  const block = /const EnvSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)?.[1] ?? '';
  return [...block.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] ?? '');
}

/** Stand-in bundles next to a copy of the rendered template's code paths. */
function fakeBuild(dir: string, names: string[], driver?: string) {
  for (const name of names) {
    mkdirSync(join(dir, 'dist', name), { recursive: true });
    writeFileSync(join(dir, 'dist', name, 'index.js'), 'exports.handler = async () => 1;');
    if (driver) {
      mkdirSync(join(dir, 'dist', name, 'node_modules', driver), { recursive: true });
      writeFileSync(join(dir, 'dist', name, 'node_modules', driver, 'index.js'), 'module.exports = {};');
    }
  }
}

describe('declared variables', () => {
  // Local-only: the port of `npm start` and the SQLite file.
  const LOCAL_ONLY = ['PORT', 'SQLITE_PATH'];

  it.each(['serverless.yml', 'serverless.fc.yml'])('%s declares every cloud variable config.ts reads', (file) => {
    const template = parse(readFileSync(join(root, file), 'utf8')) as { vars: { environment: Record<string, unknown> } };
    const declared = Object.keys(template.vars.environment);
    const wanted = configVariables().filter((name) => !LOCAL_ONLY.includes(name));
    expect(wanted.length).toBeGreaterThan(15);
    expect(wanted.filter((name) => !declared.includes(name))).toEqual([]);
  });
});

describe('checkResources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-predeploy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every missing variable once, for WXA_ENV=cloud', () => {
    const resources = renderTemplate(scfFile, {});
    fakeBuild(dir, Object.keys(resources), '@cloudbase/node-sdk');
    const problems = checkResources(resources, dir);
    for (const name of [...REQUIRED_IN_CLOUD, 'TCB_ENV']) {
      expect(problems.filter((p) => p.startsWith(`${name} is required`))).toHaveLength(1);
    }
    expect(problems.find((p) => p.startsWith('DATA_KEY'))).toMatch(/\(api, .*maintenance/);
  });
  it('passes a complete configuration whose bundles carry the store driver', () => {
    const resources = renderTemplate(scfFile, COMPLETE);
    expect(checkResources(resources, dir)).toEqual([]);
  });
  it('refuses STORE=cloudbase without an execution role: CloudBase would have no keys to sign with', () => {
    const { SCF_ROLE: _role, ...withoutRole } = COMPLETE;
    const resources = renderTemplate(scfFile, withoutRole);
    fakeBuild(dir, Object.keys(resources), '@cloudbase/node-sdk');
    const problems = checkResources(resources, dir);
    expect(problems).toEqual([
      expect.stringMatching(/^STORE=cloudbase needs the function to run with a role .*\(set SCF_ROLE\) \(api, .*maintenance, webhooks\)$/),
    ]);
  });
  it('refuses a bundle that requires fast-xml-parser without carrying it', () => {
    const resources = renderTemplate(scfFile, COMPLETE);
    const meta = { outputs: { 'bundle.js': { imports: [{ path: 'fast-xml-parser', kind: 'require-call', external: true }] } } };
    writeFileSync(join(dir, 'dist', 'review', 'meta.json'), JSON.stringify(meta));
    try {
      expect(checkResources(resources, dir)).toEqual([
        './dist/review requires fast-xml-parser but does not carry it (npm run build) (review)',
      ]);
      mkdirSync(join(dir, 'dist', 'review', 'node_modules', 'fast-xml-parser'), { recursive: true });
      writeFileSync(join(dir, 'dist', 'review', 'node_modules', 'fast-xml-parser', 'index.js'), 'module.exports = {};');
      expect(checkResources(resources, dir)).toEqual([]);
    } finally {
      rmSync(join(dir, 'dist', 'review', 'meta.json'));
    }
  });
  it('each deploy script builds the shim of the provider its template deploys to, and no other', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const [script, providers] of Object.entries(DEPLOY_PROVIDERS)) {
      const build = new RegExp(`(^|&& )(STORE=\\S+ )?WXA_PROVIDERS=\\$\\{WXA_PROVIDERS:-${providers.join(',')}\\} npm run build &&`);
      expect({ script, builds: build.test(scripts[script] ?? '') }).toEqual({ script, builds: true });
    }
  });
  it('refuses a bundle built without the shim of the template provider', () => {
    const resources = renderTemplate(scfFile, COMPLETE);
    const built = (...shims: string[]) => ({
      outputs: {
        'dist/api/bundle.js': {
          imports: [],
          inputs: Object.fromEntries(shims.map((shim) => [`shared/runtime/shim/${shim}.ts`, { bytesInOutput: shim === 'aws' ? 0 : 100 }])),
        },
      },
    });
    try {
      // aws.ts read by esbuild but none of its code kept: not carried.
      writeFileSync(join(dir, 'dist', 'api', 'meta.json'), JSON.stringify(built('common', 'index', 'fc', 'aws')));
      expect(checkResources(resources, dir)).toEqual([
        './dist/api carries no scf shim (built for WXA_PROVIDERS=fc), so it would refuse every event: WXA_PROVIDERS=fc,scf npm run build (api)',
      ]);
      writeFileSync(join(dir, 'dist', 'api', 'meta.json'), JSON.stringify(built('common', 'index', 'scf', 'fc')));
      expect(checkResources(resources, dir)).toEqual([]);
    } finally {
      rmSync(join(dir, 'dist', 'api', 'meta.json'));
    }
  });
  it('refuses malformed values and a bundle built for another store', () => {
    const resources = renderTemplate(scfFile, {
      ...COMPLETE,
      STORE: 'mongodb',
      MONGODB_URL: 'mongodb://db.example.com/wxa',
      DATA_KEY: 'short',
    });
    const problems = checkResources(resources, dir);
    expect(problems.some((p) => p.startsWith('DATA_KEY must be 32 random bytes'))).toBe(true);
    expect(problems.some((p) => /STORE=mongodb but \.\/dist\/api carries no mongodb \(STORE=mongodb npm run build\)/.test(p))).toBe(true);
  });
});

describe('codeCacheWarnings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxa-predeploy-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** Stand-in code caches: only their first line (who made them) matters here. */
  const writeCaches = (names: string[], node: string | undefined) => {
    for (const name of names) {
      const file = join(dir, 'dist', name, 'bundle.js.v8cache');
      rmSync(file, { force: true });
      if (node)
        writeFileSync(file, `${JSON.stringify({ format: 1, node, v8: 'x', platform: 'linux', arch: 'x64', bundle: '', data: '' })}\ndata`);
    }
  };

  it('maps provider runtimes to the Node versions they run', () => {
    expect(nodeOfRuntime('Nodejs18.15')).toBe('v18.15.');
    expect(nodeOfRuntime('nodejs18')).toBe('v18.');
    expect(nodeOfRuntime('Python3.9')).toBeUndefined();
  });

  it('warns once, naming the functions, when the caches were made by another Node than the runtime; not otherwise', () => {
    const resources = renderTemplate(scfFile, COMPLETE);
    const names = Object.keys(resources);
    fakeBuild(dir, names, '@cloudbase/node-sdk');
    writeCaches(names, 'v20.20.2');
    const warnings = codeCacheWarnings(resources, dir);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/made by Node v20\.20\.2 but Nodejs18\.15 runs Node v18\.15\.x.*CODE_CACHE_NODE.*\(api, .*maintenance/);
    writeCaches(names, 'v18.15.0');
    expect(codeCacheWarnings(resources, dir)).toEqual([]);
    writeCaches(names, undefined);
    expect(codeCacheWarnings(resources, dir)).toEqual([expect.stringMatching(/^no V8 code cache next to the bundle/)]);
    // Warnings only: the deployment is not refused for them.
    expect(checkResources(resources, dir)).toEqual([]);
  });
});

describe('tsx scripts/predeploy.ts', () => {
  it('exits 1 and prints the list when variables are missing', () => {
    withThrowawayHome('wxa-predeploy-home-', (home) => {
      const pinned = Object.fromEntries(
        [...readFileSync(scfFile, 'utf8').matchAll(/\$\{env\('([A-Z0-9_]+)'/g)].map((m) => [m[1] ?? '', '']),
      );
      let failure: { status?: number; stderr?: string } = {};
      try {
        execFileSync(join(root, 'node_modules', '.bin', 'tsx'), ['scripts/predeploy.ts'], {
          cwd: root,
          env: { PATH: process.env.PATH ?? '', HOME: home, ...pinned, STORE: 'cloudbase' },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        failure = error as { status?: number; stderr?: string };
      }
      expect(failure.status).toBe(1);
      expect(failure.stderr).toMatch(/Not deploying .*serverless\.yml/);
      expect(failure.stderr).toMatch(/- DATA_KEY is required in the cloud/);
      expect(failure.stderr).toMatch(/- WECHAT_ENCODING_AES_KEY is required in the cloud/);
    });
  });
});

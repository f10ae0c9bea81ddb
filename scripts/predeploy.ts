/**
 * The pre-deploy check `npm run deploy` runs between the build and `s deploy`: renders the template exactly as
 * Serverless Devs will (`s preview`), then, for every function resource,
 * - parses the environment it would receive with `parseConfig` as the cloud does (WXA_ENV=cloud), so a missing or
 *   malformed variable stops the deployment with the whole list, instead of a function failing at its first
 *   cold start (Serverless Devs renders an unset `${env('X', '')}` as '', which the component leaves out);
 * - checks the bundle exists and carries the driver of the configured STORE and the packages it requires on rare
 *   paths (fast-xml-parser: see docs/build.md), and the event shim of the template's provider (SCF or FC);
 * - warns (without stopping the deployment) when a bundle's V8 code cache was made by another Node than the runtime
 *   the template declares: the function then compiles its bundle at every cold start (see docs/build.md).
 *
 *   tsx scripts/predeploy.ts [-t serverless.yml]
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type RenderedResource, renderTemplate, repoRoot } from '../infra/scf/render';
import { isAppError } from '../shared/domain/errors';
import { parseConfig } from '../shared/runtime/config';
import { PROVIDERS, type Provider } from '../shared/runtime/shim/common';
import { BUNDLE_FILES, RARELY_USED_PACKAGES, readCodeCacheHeader, STORE_DRIVERS } from './build';

/** Environment-map key per provider template: SCF (our component) and Alibaba FC3. */
const environmentOf = (resource: RenderedResource): Record<string, unknown> | undefined =>
  (resource.props.environment ?? resource.props.environmentVariables) as Record<string, unknown> | undefined;

/**
 * The packages of `RARELY_USED_PACKAGES` the bundle in `code` requires, from the build's metafile (none without
 * one): missing, the function would fail only on the rare path that loads them.
 */
function rarelyUsedPackagesOf(code: string): string[] {
  const metaFile = join(code, 'meta.json');
  if (!existsSync(metaFile)) return [];
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as {
    outputs: Record<string, { imports?: { path: string; external?: boolean }[] }>;
  };
  const required = Object.values(meta.outputs).flatMap((output) => (output.imports ?? []).filter((i) => i.external).map((i) => i.path));
  return RARELY_USED_PACKAGES.filter((pkg) => required.includes(pkg));
}

/** The provider whose events a resource's function receives: FC for component fc3, SCF for ours (infra/scf). */
const providerOfResource = (resource: RenderedResource): Provider | undefined =>
  resource.component === 'fc3' ? 'fc' : /(^|[\\/])infra[\\/]scf$/.test(resource.component) ? 'scf' : undefined;

/**
 * The providers whose event shims the bundle in `code` carries (scripts/build.ts `--providers`), from the build's
 * metafile: the shim files with code in bundle.js. Undefined without a metafile, or one that names no shim.
 */
function providersOf(code: string): Provider[] | undefined {
  const metaFile = join(code, 'meta.json');
  if (!existsSync(metaFile)) return undefined;
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as {
    outputs: Record<string, { inputs?: Record<string, { bytesInOutput: number }> }>;
  };
  const held = Object.values(meta.outputs).flatMap((output) =>
    Object.entries(output.inputs ?? {}).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : [])),
  );
  const carried = PROVIDERS.filter((provider) => held.some((input) => input.endsWith(`shared/runtime/shim/${provider}.ts`)));
  return carried.length > 0 ? carried : undefined;
}

export function checkResources(resources: Record<string, RenderedResource>, templateDir: string): string[] {
  const problems: string[] = [];
  for (const [name, resource] of Object.entries(resources)) {
    const environment = environmentOf(resource);
    if (!environment || typeof resource.props.code !== 'string') continue;
    const env = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
    try {
      parseConfig({ ...env, WXA_ENV: env.WXA_ENV || 'cloud' });
    } catch (error) {
      const listed = isAppError(error) && Array.isArray(error.details?.problems) ? (error.details.problems as string[]) : [String(error)];
      problems.push(...listed.map((p) => `${name}: ${p}`));
    }
    const store = env.STORE || 'sqlite';
    // CloudBase signs every request with the keys of the role the function runs as; without one, every store
    // call fails (and the SDK's own check would end the instance: see assertCloudbaseCredentials).
    if (store === 'cloudbase' && !resource.props.role && !(env.TENCENTCLOUD_SECRETID && env.TENCENTCLOUD_SECRETKEY)) {
      problems.push(`${name}: STORE=cloudbase needs the function to run with a role allowing CloudBase database access (set SCF_ROLE)`);
    }
    const code = resolve(templateDir, resource.props.code);
    if (!existsSync(join(code, 'index.js'))) {
      problems.push(`${name}: ${resource.props.code}/index.js is missing (npm run build)`);
      continue;
    }
    const provider = providerOfResource(resource);
    const carried = providersOf(code);
    if (provider && carried && !carried.includes(provider)) {
      problems.push(
        `${name}: ${resource.props.code} carries no ${provider} shim (built for WXA_PROVIDERS=${carried.join(',')}), so it would refuse every event: WXA_PROVIDERS=${[...carried, provider].join(',')} npm run build`,
      );
    }
    for (const pkg of rarelyUsedPackagesOf(code)) {
      if (!existsSync(join(code, 'node_modules', pkg, 'index.js'))) {
        problems.push(`${name}: ${resource.props.code} requires ${pkg} but does not carry it (npm run build)`);
      }
    }
    if (store === 'cloudbase' || store === 'mongodb') {
      const driver = STORE_DRIVERS[store];
      if (!existsSync(join(code, 'node_modules', driver, 'index.js'))) {
        problems.push(`${name}: STORE=${store} but ${resource.props.code} carries no ${driver} (STORE=${store} npm run build)`);
      }
    }
  }
  // Every resource receives the same shared environment: report each problem once, with the resources it hits.
  const grouped = new Map<string, string[]>();
  for (const problem of problems) {
    const [resource = '', ...rest] = problem.split(': ');
    const text = rest.join(': ');
    grouped.set(text, [...(grouped.get(text) ?? []), resource]);
  }
  return [...grouped.entries()].map(([text, names]) => `${text} (${names.join(', ')})`);
}

/** The Node version prefix a provider runtime name stands for: `Nodejs18.15` (SCF) → `v18.15.`, `nodejs18` (FC) → `v18.`. */
export function nodeOfRuntime(runtime: unknown): string | undefined {
  const match = typeof runtime === 'string' ? /^nodejs(\d+)(?:\.(\d+))?$/i.exec(runtime) : null;
  if (!match) return undefined;
  return match[2] === undefined ? `v${match[1]}.` : `v${match[1]}.${match[2]}.`;
}

/**
 * Bundles whose code cache the runtime will refuse (V8 takes only a cache its own version made), or that have none:
 * they still work, compiling the bundle at every cold start instead. One line per distinct finding.
 */
export function codeCacheWarnings(resources: Record<string, RenderedResource>, templateDir: string): string[] {
  const findings = new Map<string, string[]>();
  for (const [name, resource] of Object.entries(resources)) {
    if (typeof resource.props.code !== 'string') continue;
    const want = nodeOfRuntime(resource.props.runtime);
    if (!want) continue;
    const code = resolve(templateDir, resource.props.code);
    if (!existsSync(join(code, BUNDLE_FILES.loader))) continue; // a missing bundle is a problem of its own
    const header = readCodeCacheHeader(join(code, BUNDLE_FILES.codeCache));
    const finding = !header
      ? `no V8 code cache next to the bundle: cold starts compile it (build without --no-code-cache / CODE_CACHE_NODE=off)`
      : header.node.startsWith(want)
        ? undefined
        : `the V8 code cache was made by Node ${header.node} but ${String(resource.props.runtime)} runs Node ${want}x, which will refuse it and compile the bundle at every cold start: build with that Node, or set CODE_CACHE_NODE to one`;
    if (finding) findings.set(finding, [...(findings.get(finding) ?? []), name]);
  }
  return [...findings.entries()].map(([text, names]) => `${text} (${names.join(', ')})`);
}

function render(templateFile: string, env: NodeJS.ProcessEnv): Record<string, RenderedResource> {
  return renderTemplate(templateFile, Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)), {
    pin: false,
    home: env.HOME ?? '',
  });
}

export function checkDeployment(templateFile: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return checkResources(render(templateFile, env), dirname(templateFile));
}

if (require.main === module) {
  const flag = process.argv.indexOf('-t');
  const template = resolve(flag >= 0 ? (process.argv[flag + 1] ?? 'serverless.yml') : join(repoRoot, 'serverless.yml'));
  const resources = render(template, process.env);
  const problems = checkResources(resources, dirname(template));
  if (problems.length > 0) {
    console.error(`Not deploying ${template}: fix these first (variables come from the environment or .env next to it):`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  for (const warning of codeCacheWarnings(resources, dirname(template))) console.warn(`warning: ${warning}`);
  console.log(`pre-deploy check passed for ${template}`);
}

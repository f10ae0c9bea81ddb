/**
 * The pre-deploy check `npm run deploy` runs between the build and `s deploy`: renders the template exactly as
 * Serverless Devs will (`s preview`), then, for every function resource,
 * - parses the environment it would receive with `parseConfig` as the cloud does (WXA_ENV=cloud), so a missing or
 *   malformed variable stops the deployment with the whole list, instead of a function failing at its first
 *   cold start (Serverless Devs renders an unset `${env('X', '')}` as '', which the component leaves out);
 * - checks the bundle exists and carries the driver of the configured STORE (see scripts/build.ts).
 *
 *   tsx scripts/predeploy.ts [-t serverless.yml]
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { renderTemplate, repoRoot, type RenderedResource } from '../infra/scf/render';
import { isAppError } from '../shared/domain/errors';
import { parseConfig } from '../shared/runtime/config';
import { STORE_DRIVERS } from './build';

/** Environment-map key per provider template: SCF (our component) and Alibaba FC3. */
const environmentOf = (resource: RenderedResource): Record<string, unknown> | undefined =>
  (resource.props.environment ?? resource.props.environmentVariables) as Record<string, unknown> | undefined;

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
    const code = resolve(templateDir, resource.props.code);
    if (!existsSync(join(code, 'index.js'))) {
      problems.push(`${name}: ${resource.props.code}/index.js is missing (npm run build)`);
      continue;
    }
    const store = env.STORE || 'sqlite';
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

export function checkDeployment(templateFile: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const rendered = renderTemplate(
    templateFile,
    Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    { pin: false, home: env.HOME ?? '' },
  );
  return checkResources(rendered, dirname(templateFile));
}

if (require.main === module) {
  const flag = process.argv.indexOf('-t');
  const template = resolve(flag >= 0 ? (process.argv[flag + 1] ?? 'serverless.yml') : join(repoRoot, 'serverless.yml'));
  const problems = checkDeployment(template);
  if (problems.length > 0) {
    console.error(`Not deploying ${template}: fix these first (variables come from the environment or .env next to it):`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  console.log(`pre-deploy check passed for ${template}`);
}

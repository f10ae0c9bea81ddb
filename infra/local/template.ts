/**
 * Reads the Serverless Devs template (`serverless.yml`) into the list of functions, routes and timers the local
 * runtime mounts. Only what Serverless Devs itself would resolve is supported: `${env('NAME', 'fallback')}`,
 * `${vars.x}` and `${path('./x')}` variables, and `extend` of a `template:` block.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import * as z from '../../shared/domain/zod';
import { compilePath, type HttpMethod } from '../../shared/runtime/http/route';
import { parseScfCron } from './cron';

const routeText = z
  .string()
  .check(z.regex(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/, 'a route is "METHOD /path", e.g. "POST /wechat/component/events"'));

const triggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('url'), name: z._default(z.string(), 'url'), routes: z.array(routeText).check(z.minLength(1)) }),
  z.object({
    type: z.literal('timer'),
    name: z.string().check(z.minLength(1)),
    cronExpression: z.string().check(z.minLength(1)),
    argument: z.optional(z.string().check(z.maxLength(4096))),
  }),
]);

const propsSchema = z.object({
  functionName: z.string().check(z.minLength(1)),
  code: z.string().check(z.regex(/^\.\/dist\/[a-z0-9-]+$/, 'code must be ./dist/<function folder>')),
  handler: z.string().check(z.regex(/^index\.[A-Za-z_$][\w$]*$/, 'handler must be index.<export>')),
  timeout: z.number().check(z.int(), z.gte(1), z.lte(900)),
  memorySize: z.optional(z.number().check(z.int())),
  environment: z.optional(z.record(z.string(), z.unknown())),
  triggers: z.array(triggerSchema).check(z.minLength(1)),
});

const templateSchema = z.object({
  edition: z.literal('3.0.0'),
  name: z.string(),
  vars: z.optional(z.record(z.string(), z.unknown())),
  template: z.optional(z.record(z.string(), z.record(z.string(), z.unknown()))),
  resources: z.record(
    z.string(),
    z.object({
      component: z.string(),
      extend: z.optional(z.object({ name: z.string(), ignore: z.optional(z.array(z.string())) })),
      props: z.record(z.string(), z.unknown()),
    }),
  ),
});

export interface LocalRoute {
  method: HttpMethod;
  path: string;
  pattern: RegExp;
  names: string[];
}

export interface LocalTimer {
  name: string;
  cronExpression: string;
  payload: string | undefined;
}

export interface LocalFunction {
  /** Resource name in the template, also the folder under functions/ and dist/. */
  name: string;
  functionName: string;
  /** TypeScript entry, run by the local runtime. */
  source: string;
  /** esbuild bundle, run in the cloud (and by the bundle smoke tests). */
  bundle: string;
  exportName: string;
  timeoutMs: number;
  routes: LocalRoute[];
  timers: LocalTimer[];
}

export interface LocalTemplate {
  name: string;
  functions: LocalFunction[];
}

const VARIABLE = /\$\{([^}]+)\}/g;

function resolveVariables(value: unknown, scope: { env: NodeJS.ProcessEnv; vars: Record<string, unknown>; root: string }): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]+)\}$/.exec(value);
    // A variable that is the whole value keeps its type (a map of vars stays a map).
    if (whole?.[1]) return evaluate(whole[1].trim(), scope);
    return value.replace(VARIABLE, (_, expression: string) => String(evaluate(expression.trim(), scope) ?? ''));
  }
  if (Array.isArray(value)) return value.map((item) => resolveVariables(item, scope));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveVariables(v, scope)]));
  }
  return value;
}

function evaluate(expression: string, scope: { env: NodeJS.ProcessEnv; vars: Record<string, unknown>; root: string }): unknown {
  const env = /^env\(\s*'([^']+)'\s*(?:,\s*'([^']*)'\s*)?\)$/.exec(expression);
  if (env?.[1]) {
    const found = scope.env[env[1]];
    if (found !== undefined && found !== '') return found;
    if (env[2] !== undefined) return env[2];
    throw new Error(`serverless.yml: environment variable ${env[1]} is not set and has no fallback`);
  }
  const path = /^path\(\s*'([^']+)'\s*\)$/.exec(expression);
  if (path?.[1]) return resolve(scope.root, path[1]);
  const vars = /^vars\.([A-Za-z0-9_.]+)$/.exec(expression);
  if (vars?.[1]) {
    let current: unknown = scope.vars;
    for (const key of vars[1].split('.')) {
      current = current && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
    }
    if (current === undefined) throw new Error(`serverless.yml: \${vars.${vars[1]}} is not defined`);
    return resolveVariables(current, scope);
  }
  throw new Error(`serverless.yml: unsupported variable \${${expression}}`);
}

export function loadTemplate(file: string, env: NodeJS.ProcessEnv = process.env): LocalTemplate {
  const root = dirname(resolve(file));
  const parsed = templateSchema.parse(parse(readFileSync(file, 'utf8')));
  const scope = { env, vars: parsed.vars ?? {}, root };
  const functions: LocalFunction[] = [];
  const seen = new Map<string, string>();

  for (const [name, resource] of Object.entries(parsed.resources)) {
    const base = resource.extend ? parsed.template?.[resource.extend.name] : undefined;
    if (resource.extend && !base) throw new Error(`serverless.yml: ${name} extends unknown template ${resource.extend.name}`);
    const merged = { ...(base ?? {}), ...resource.props };
    for (const ignored of resource.extend?.ignore ?? []) delete merged[ignored];
    const props = propsSchema.parse(resolveVariables(merged, scope));
    const folder = props.code.slice('./dist/'.length);
    const routes: LocalRoute[] = [];
    const timers: LocalTimer[] = [];
    for (const trigger of props.triggers) {
      if (trigger.type === 'url') {
        for (const text of trigger.routes) {
          const [method = '', path = ''] = text.split(' ');
          const key = `${method} ${path}`;
          const owner = seen.get(key);
          if (owner) throw new Error(`serverless.yml: ${key} is declared by both ${owner} and ${name}`);
          seen.set(key, name);
          routes.push({ method: method as HttpMethod, path, ...compilePath(path) });
        }
      } else {
        parseScfCron(trigger.cronExpression); // a typo must stop start-up, not silently never fire
        timers.push({ name: trigger.name, cronExpression: trigger.cronExpression, payload: trigger.argument });
      }
    }
    functions.push({
      name,
      functionName: props.functionName,
      source: join(root, 'functions', folder, 'handler.ts'),
      bundle: join(root, 'dist', folder, 'index.js'),
      exportName: props.handler.slice('index.'.length),
      timeoutMs: props.timeout * 1000,
      routes,
      timers,
    });
  }
  return { name: parsed.name, functions };
}

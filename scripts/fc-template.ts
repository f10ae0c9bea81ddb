/**
 * Generates `serverless.fc.yml` (Alibaba Function Compute 3.0, component `fc3`) from `serverless.yml`, so the
 * second target deploys the same bundles with the same routes and timers:
 *
 *   tsx scripts/fc-template.ts            rewrite serverless.fc.yml
 *   tsx scripts/fc-template.ts --check    exit 1 if it is out of date
 *
 * Translation: an SCF function URL → an FC `http` trigger (anonymous, the routes' methods and OPTIONS for CORS
 * preflights); an SCF 7-field timer
 * (`s m h dom mon dow year`, UTC+8) → an FC 6-field cron with `CRON_TZ=Asia/Shanghai` (FC evaluates cron in UTC
 * otherwise). Only `*` years and unrestricted weekdays are translated: FC's weekday numbering is not verified here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import * as z from '../shared/domain/zod';

const root = resolve(__dirname, '..');

const scfTemplate = z.object({
  vars: z.catchall(z.object({ environment: z.record(z.string(), z.unknown()) }), z.unknown()),
  template: z.object({ function: z.record(z.string(), z.unknown()) }),
  resources: z.record(
    z.string(),
    z.object({
      component: z.string(),
      props: z.catchall(
        z.object({
          functionName: z.string(),
          description: z.optional(z.string()),
          code: z.string(),
          timeout: z.optional(z.number()),
          memorySize: z.optional(z.number()),
          triggers: z.array(
            z.union([
              z.catchall(z.object({ type: z.literal('url'), routes: z.array(z.string()) }), z.unknown()),
              z.object({ type: z.literal('timer'), name: z.string(), cronExpression: z.string(), argument: z.optional(z.string()) }),
            ]),
          ),
        }),
        z.unknown(),
      ),
    }),
  ),
});

// `0 */10 * * * * *` (SCF) → `CRON_TZ=Asia/Shanghai 0 */10 * * * *` (FC).
export function scfCronToFc(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 7) throw new Error(`${expression}: SCF timers have 7 fields`);
  const [second, minute, hour, day, month, weekday, year] = fields;
  if (year !== '*') throw new Error(`${expression}: a restricted year has no FC equivalent`);
  if (weekday !== '*' && weekday !== '?')
    throw new Error(`${expression}: restricted weekdays are not translated (FC numbering unverified)`);
  return `CRON_TZ=Asia/Shanghai ${[second, minute, hour, day, month, '*'].join(' ')}`;
}

export function generateFcTemplate(scfYaml: string): string {
  const scf = scfTemplate.parse(parse(scfYaml));
  const base = scf.template.function;
  const resources: Record<string, unknown> = {};
  for (const [name, resource] of Object.entries(scf.resources)) {
    const { props } = resource;
    const triggers = props.triggers.map((trigger) => {
      if (trigger.type === 'url') {
        // OPTIONS too: with CORS_ORIGINS set, a browser's preflight must reach the function (its CORS middleware
        // answers it); FC refuses methods a trigger does not list before the function runs. fc3's schema
        // (devsapp/fc3 src/schema.json, IHttpTriggerConfig.methods) allows OPTIONS.
        const methods = [...new Set([...(trigger.routes as string[]).map((route) => route.split(' ')[0] ?? ''), 'OPTIONS'])].sort();
        return { triggerName: 'http', triggerType: 'http', triggerConfig: { authType: 'anonymous', methods } };
      }
      return {
        triggerName: trigger.name,
        triggerType: 'timer',
        triggerConfig: {
          cronExpression: scfCronToFc(trigger.cronExpression),
          enable: true,
          ...(trigger.argument === undefined ? {} : { payload: trigger.argument }),
        },
      };
    });
    resources[name] = {
      component: 'fc3',
      extend: { name: 'function' },
      props: {
        functionName: props.functionName,
        ...(props.description ? { description: props.description } : {}),
        code: props.code,
        ...(props.timeout === undefined ? {} : { timeout: props.timeout }),
        ...(props.memorySize === undefined ? {} : { memorySize: props.memorySize }),
        triggers,
      },
    };
  }
  const environment = { ...scf.vars.environment, STORE: "${env('STORE', 'mongodb')}" };
  const document = {
    edition: '3.0.0',
    name: 'wxa-deploy-fc',
    access: "${env('S_ACCESS_FC', 'default')}",
    vars: { region: "${env('FC_REGION', 'cn-hangzhou')}", environment },
    template: {
      function: {
        region: '${vars.region}',
        runtime: 'nodejs18',
        handler: base.handler ?? 'index.handler',
        memorySize: base.memorySize ?? 256,
        timeout: base.timeout ?? 15,
        environmentVariables: '${vars.environment}',
      },
    },
    resources,
  };
  const header = [
    '# GENERATED from serverless.yml by scripts/fc-template.ts: do not edit; run `tsx scripts/fc-template.ts`.',
    '# Alibaba Function Compute 3.0 (component fc3), the second target for the same bundles (`npm run deploy:fc`).',
    '# HTTP triggers are anonymous (functions check their callers themselves); timers run in Asia/Shanghai time like',
    "# SCF's. STORE defaults to mongodb here: CloudBase is Tencent's. Credentials: `s config add` (alibaba), S_ACCESS_FC.",
  ].join('\n');
  return `${header}\n${stringify(document, { lineWidth: 0 })}`;
}

if (require.main === module) {
  const target = join(root, 'serverless.fc.yml');
  const generated = generateFcTemplate(readFileSync(join(root, 'serverless.yml'), 'utf8'));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== generated) {
      console.error('serverless.fc.yml is out of date: run `tsx scripts/fc-template.ts`');
      process.exit(1);
    }
  } else {
    writeFileSync(target, generated);
    console.log(`wrote ${target}`);
  }
}

/**
 * The props of one `component: ${path('./infra/scf')}` resource, after Serverless Devs has merged `extend`
 * and resolved the variables. Field names follow serverless.yml (camelCase); `requests.ts` maps them 1:1 onto
 * the SCF API (PascalCase). Validated as a whole so a typo fails before any API call.
 */
import * as z from '../../shared/domain/zod';
import { parseScfCron } from '../local/cron';

const routeText = z
  .string()
  .check(z.regex(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/, 'a route is "METHOD /path", e.g. "POST /wechat/component/events"'));

const cron = z.string().check(
  z.refine(
    (value) => {
      try {
        parseScfCron(value);
        return value.trim().split(/\s+/).length === 7;
      } catch {
        return false;
      }
    },
    { message: 'must be an SCF 7-field cron (second minute hour day month weekday year)' },
  ),
);

// SCF's own rules (CreateFunction): 2–60 chars, a letter first, no trailing '-' or '_'.
const functionName = z
  .string()
  .check(
    z.regex(/^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$/, 'SCF function names are 2–60 letters, digits, - or _, starting with a letter'),
  );
// Trigger names: letters, digits, '-' and '_', at most 100 (CreateTriggerRequest.TriggerName).
const triggerName = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,100}$/, 'trigger names are 1–100 letters, digits, - or _'));

// CreateFunctionRequest.Description (scf_models.d.ts): at most 1000 English letters, digits, spaces, commas,
// newlines and periods, and Chinese; anything else is refused with InvalidParameterValue.Description.
const description = z._default(
  z
    .string()
    .check(
      z.maxLength(1000),
      z.regex(
        /^[A-Za-z0-9 ,.\n\p{Script=Han}]*$/u,
        'SCF descriptions allow only letters, digits, spaces, commas, periods, newlines and Chinese characters',
      ),
    ),
  '',
);

export const urlTriggerSchema = z.object({
  type: z.literal('url'),
  name: z._default(triggerName, 'url'),
  routes: z.array(routeText).check(z.minLength(1)),
});

// Timer trigger names (SCF 定时触发器, https://cloud.tencent.com/document/product/583/9708): at most 60 characters
// of a-z, A-Z, 0-9, '-' and '_', starting with a letter.
const timerName = z
  .string()
  .check(z.regex(/^[A-Za-z][A-Za-z0-9_-]{0,59}$/, 'timer trigger names are 1–60 letters, digits, - or _, starting with a letter'));

export const timerTriggerSchema = z.object({
  type: z.literal('timer'),
  name: timerName,
  cronExpression: cron,
  // SCF passes it as event.Message; its limit is 4 KB.
  argument: z.optional(z.string().check(z.maxLength(4096))),
});

export const triggerSchema = z.discriminatedUnion('type', [urlTriggerSchema, timerTriggerSchema]);

/** YAML may type `LOG_LEVEL: 1` or `FLAG: true`; SCF only takes strings. */
const envValue = z.pipe(
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
  z.transform((v) => (v === null ? '' : String(v))),
);

export const scfPropsSchema = z
  .object({
    region: z.string().check(z.regex(/^[a-z]+-[a-z]+(-\d+)?$/, 'a Tencent Cloud region such as ap-guangzhou')),
    namespace: z._default(z.string().check(z.minLength(1)), 'default'),
    functionName,
    description,
    runtime: z.string().check(z.regex(/^Nodejs\d+\.\d+$/, 'a Node.js SCF runtime such as Nodejs18.15')),
    handler: z.string().check(z.regex(/^index\.[A-Za-z_$][\w$]*$/, 'handler must be index.<export>')),
    memorySize: z.number().check(
      z.int(),
      z.refine((mb) => mb === 64 || (mb >= 128 && mb <= 3072 && mb % 128 === 0), 'SCF memory is 64, or 128–3072 MB in steps of 128'),
    ),
    timeout: z.number().check(z.int(), z.gte(1), z.lte(900)),
    /** CAM role the function runs as (its temporary keys reach the code as TENCENTCLOUD_*); '' = none. */
    role: z._default(z.string(), ''),
    environment: z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/)), envValue), {}),
    code: z.string().check(z.minLength(1)),
    triggers: z._default(z.array(triggerSchema), []),
  })
  .check(
    z.superRefine((props, ctx) => {
      const names = new Set<string>();
      let urls = 0;
      props.triggers.forEach((trigger, index) => {
        if (names.has(trigger.name))
          ctx.addIssue({ code: 'custom', path: ['triggers', index, 'name'], message: `duplicate trigger name ${trigger.name}` });
        names.add(trigger.name);
        if (trigger.type === 'url') urls++;
      });
      // One function URL per version/alias (SCF "创建函数 URL"); every route of the function shares it.
      if (urls > 1) ctx.addIssue({ code: 'custom', path: ['triggers'], message: 'a function has at most one url trigger' });
    }),
  );

export type ScfProps = z.output<typeof scfPropsSchema>;
export type UrlTrigger = z.output<typeof urlTriggerSchema>;
export type TimerTrigger = z.output<typeof timerTriggerSchema>;

export class ScfPropsError extends Error {
  override readonly name = 'ScfPropsError';
}

export function parseScfProps(resource: string, raw: unknown): ScfProps {
  const parsed = scfPropsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'props'}: ${issue.message}`);
  throw new ScfPropsError(`${resource}: invalid props\n  - ${problems.join('\n  - ')}`);
}

/**
 * Props → SCF API requests, as pure functions: `deploy` sends exactly these and `plan` prints exactly these,
 * so the dry run cannot drift from what a deployment does.
 *
 * API shapes: tencentcloud-sdk-nodejs-scf's scf_models.d.ts (v20180416). Function URL = a trigger of type
 * `http` whose TriggerDesc is `{ AuthType, NetConfig: { EnableIntranet, EnableExtranet } }` (SCF doc 583/100227).
 */
import type {
  CreateFunctionRequest,
  CreateTriggerRequest,
  DeleteTriggerRequest,
  ListTriggersRequest,
  TriggerInfo,
  UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationRequest,
  UpdateTriggerRequest,
  Variable,
} from 'tencentcloud-sdk-nodejs-scf/tencentcloud/services/scf/v20180416/scf_models';
import type { ScfProps, TimerTrigger, UrlTrigger } from './props';

/** Triggers live on the `$DEFAULT` alias so a later version rollout does not need new URLs or timers. */
export const QUALIFIER = '$DEFAULT';

/** A trigger as ListTriggers reports it (GetFunction's `Trigger` has the same fields). */
export type ExistingTrigger = Pick<TriggerInfo, 'Type' | 'TriggerName' | 'TriggerDesc' | 'Qualifier' | 'Enable' | 'CustomArgument'>;

/** ListTriggers' largest page is not documented (default 20); the toolkit asks for 100 and so does this. */
export const TRIGGER_PAGE = 100;

/**
 * The function's triggers on `$DEFAULT`. GetFunction describes `$LATEST` (its Qualifier defaults to it), so its
 * `Triggers` never lists these; Tencent's own toolkit (tencent-component-toolkit, triggers/base.ts
 * getTriggerList) reads them with ListTriggers filtered by Qualifier, as here.
 */
export const listTriggersRequest = (props: ScfProps, offset: number): ListTriggersRequest => ({
  FunctionName: props.functionName,
  Namespace: props.namespace,
  Offset: offset,
  Limit: TRIGGER_PAGE,
  Filters: [{ Name: 'Qualifier', Values: [QUALIFIER] }],
});

/**
 * SCF rejects empty variable values ("不可为空字符"), and Serverless Devs renders an unset `${env('X', '')}` as
 * ''. Such variables are left out here; `scripts/predeploy.ts` is what fails a deployment missing a required one.
 */
export function environmentOf(props: ScfProps): { Variables: Variable[] } {
  return {
    Variables: Object.entries(props.environment)
      .filter(([, value]) => value !== '')
      .map(([Key, Value]) => ({ Key, Value })),
  };
}

export function omittedVariables(props: ScfProps): string[] {
  return Object.entries(props.environment)
    .filter(([, value]) => value === '')
    .map(([key]) => key);
}

export function createFunctionRequest(props: ScfProps, zipBase64: string): CreateFunctionRequest {
  return {
    FunctionName: props.functionName,
    Namespace: props.namespace,
    Type: 'Event',
    Runtime: props.runtime,
    Handler: props.handler,
    Description: props.description,
    MemorySize: props.memorySize,
    Timeout: props.timeout,
    Environment: environmentOf(props),
    ...(props.role ? { Role: props.role } : {}),
    CodeSource: 'ZipFile',
    Code: { ZipFile: zipBase64 },
  };
}

export function updateCodeRequest(props: ScfProps, zipBase64: string): UpdateFunctionCodeRequest {
  return {
    FunctionName: props.functionName,
    Namespace: props.namespace,
    Handler: props.handler,
    CodeSource: 'ZipFile',
    ZipFile: zipBase64,
  };
}

export function updateConfigurationRequest(props: ScfProps): UpdateFunctionConfigurationRequest {
  return {
    FunctionName: props.functionName,
    Namespace: props.namespace,
    Description: props.description,
    MemorySize: props.memorySize,
    Timeout: props.timeout,
    Environment: environmentOf(props),
    ...(props.role ? { Role: props.role } : {}),
  };
}

/** The trigger as SCF's CreateTrigger/UpdateTrigger take it. */
export interface TriggerSpec {
  Type: 'http' | 'timer';
  TriggerName: string;
  TriggerDesc: string;
  Qualifier: string;
  Enable: 'OPEN';
  CustomArgument?: string;
}

export function triggerSpec(trigger: UrlTrigger | TimerTrigger): TriggerSpec {
  if (trigger.type === 'url') {
    return {
      Type: 'http',
      TriggerName: trigger.name,
      // WeChat calls these URLs anonymously; each function verifies its callers itself (signatures, API keys).
      TriggerDesc: JSON.stringify({ AuthType: 'NONE', NetConfig: { EnableIntranet: false, EnableExtranet: true } }),
      Qualifier: QUALIFIER,
      Enable: 'OPEN',
    };
  }
  return {
    Type: 'timer',
    TriggerName: trigger.name,
    TriggerDesc: trigger.cronExpression,
    Qualifier: QUALIFIER,
    Enable: 'OPEN',
    ...(trigger.argument === undefined ? {} : { CustomArgument: trigger.argument }),
  };
}

export const createTriggerRequest = (props: ScfProps, spec: TriggerSpec): CreateTriggerRequest => ({
  FunctionName: props.functionName,
  Namespace: props.namespace,
  ...spec,
});

export const updateTriggerRequest = (props: ScfProps, spec: TriggerSpec): UpdateTriggerRequest => ({
  FunctionName: props.functionName,
  Namespace: props.namespace,
  ...spec,
});

export const deleteTriggerRequest = (props: ScfProps, existing: ExistingTrigger): DeleteTriggerRequest => ({
  FunctionName: props.functionName,
  Namespace: props.namespace,
  Type: existing.Type ?? '',
  TriggerName: existing.TriggerName ?? '',
  ...(existing.Qualifier ? { Qualifier: existing.Qualifier } : {}),
});

/** The trigger types this component owns; others (added by hand in the console) are left alone. */
export const MANAGED_TRIGGER_TYPES: readonly string[] = ['http', 'timer'];

/**
 * Whether an existing trigger already matches. SCF reports `Enable` as 1/0 and, for timers, may wrap the
 * cron as `{"cron": "..."}` (noted in tencent-component-toolkit's timer trigger); both are normalised first.
 */
export function triggerMatches(existing: ExistingTrigger, wanted: TriggerSpec): boolean {
  if (existing.Type !== wanted.Type || existing.TriggerName !== wanted.TriggerName) return false;
  if ((existing.Qualifier ?? QUALIFIER) !== wanted.Qualifier) return false;
  if (existing.Enable !== undefined && existing.Enable !== 1) return false;
  if (wanted.Type === 'timer') {
    return cronOf(existing.TriggerDesc) === wanted.TriggerDesc && (existing.CustomArgument ?? '') === (wanted.CustomArgument ?? '');
  }
  const have = parseJson(existing.TriggerDesc);
  const want = parseJson(wanted.TriggerDesc);
  const net = (desc: Record<string, unknown> | null) => (desc?.NetConfig ?? {}) as Record<string, unknown>;
  return (
    have?.AuthType === want?.AuthType &&
    net(have).EnableExtranet === net(want).EnableExtranet &&
    net(have).EnableIntranet === net(want).EnableIntranet
  );
}

function cronOf(desc: string | undefined): string {
  const parsed = parseJson(desc);
  return typeof parsed?.cron === 'string' ? parsed.cron : (desc ?? '');
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (!text?.trim().startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The public URL of a function URL trigger. Where SCF puts it is not in the API reference: the http trigger has it inside TriggerDesc's NetConfig (a CloudBase deploy script reads `NetConfig.WssExtranetUrl` for
 * WebSocket functions). So: `NetConfig.ExtranetUrl` if present, else the first https URL found in NetConfig.
 */
export function functionUrlOf(triggers: readonly ExistingTrigger[] | undefined, name: string): string | null {
  const trigger = triggers?.find((t) => t.Type === 'http' && t.TriggerName === name);
  const net = parseJson(trigger?.TriggerDesc)?.NetConfig;
  if (!net || typeof net !== 'object') return null;
  const config = net as Record<string, unknown>;
  if (typeof config.ExtranetUrl === 'string' && config.ExtranetUrl.startsWith('https://')) return config.ExtranetUrl.replace(/\/+$/, '');
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === 'string' && value.startsWith('https://') && !/intranet/i.test(key)) return value.replace(/\/+$/, '');
  }
  return null;
}

/** What to paste into the WeChat open platform, derived from the routes a function URL serves. */
export function wechatUrls(routes: readonly string[], baseUrl: string): { authorizationEventUrl?: string; messageUrl?: string } {
  const out: { authorizationEventUrl?: string; messageUrl?: string } = {};
  for (const route of routes) {
    const [method, path = ''] = route.split(' ');
    if (method !== 'POST') continue;
    if (path === '/wechat/component/events') out.authorizationEventUrl = `${baseUrl}${path}`;
    const message = /^\/wechat\/authorizers\/\{[a-zA-Z][a-zA-Z0-9]*\}\/events$/.exec(path);
    if (message) out.messageUrl = `${baseUrl}/wechat/authorizers/$APPID$/events`;
  }
  return out;
}

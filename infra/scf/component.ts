/**
 * A local Serverless Devs v3 component for Tencent SCF (no maintained v3 component exists: reference §1.5).
 *
 *   resources.<name>.component: ${path('./infra/scf')}      → `s deploy | s remove | s plan -t serverless.yml`
 *
 * Serverless Devs `require`s `infra/scf/index.js`, constructs the default export with `{ logger }` and calls the
 * command's method with `inputs` (`props`, `yaml.path`, `resource`, `getCredential()`…).
 *
 * deploy: zip `props.code` → GetFunction → CreateFunction, or UpdateFunctionCode + UpdateFunctionConfiguration
 *         (each followed by waiting for `Status: Active`, since SCF refuses changes while a function updates)
 *         → ListTriggers on `$DEFAULT` → create / update / delete the `http` (function URL) and `timer` triggers
 *         → report the URLs (read back with ListTriggers, on every deploy).
 * remove: DeleteFunction (its triggers go with it).
 * plan:   offline; prints the requests deploy would send, from props alone (no credentials, no network).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { GetFunctionResponse } from 'tencentcloud-sdk-nodejs-scf/tencentcloud/services/scf/v20180416/scf_models';
import { isNotFound, type ScfClient, type ScfClientFactory, sdkClientFactory, type TencentCredentials } from './client';
import { parseScfProps, type ScfProps } from './props';
import {
  createFunctionRequest,
  createTriggerRequest,
  deleteTriggerRequest,
  type ExistingTrigger,
  functionUrlOf,
  listTriggersRequest,
  MANAGED_TRIGGER_TYPES,
  omittedVariables,
  TRIGGER_PAGE,
  triggerMatches,
  triggerSpec,
  updateCodeRequest,
  updateConfigurationRequest,
  updateTriggerRequest,
  wechatUrls,
} from './requests';
import { collectCodeFiles, zipEntries } from './zip';

/** What Serverless Devs 3.x passes to a component method (engine getProps; only the fields used here). */
export interface ComponentInputs {
  props: unknown;
  cwd?: string;
  command?: string;
  args?: string[];
  yaml?: { path?: string };
  resource?: { name?: string; component?: string; access?: string };
  getCredential?: () => Promise<Record<string, unknown>>;
}

export interface ComponentLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface ComponentOptions {
  logger?: ComponentLogger;
  clientFactory?: ScfClientFactory;
  sleep?: (ms: number) => Promise<void>;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for a function to become Active, and for its URL to appear. */
  pollIntervalMs?: number;
  maxPolls?: number;
}

export interface DeployOutput {
  functionName: string;
  region: string;
  namespace: string;
  action: 'created' | 'updated';
  url: string | null;
  routes: string[];
  timers: { name: string; cronExpression: string }[];
  triggers: { created: string[]; updated: string[]; unchanged: string[]; deleted: string[] };
  omittedEmptyVariables: string[];
  wechat?: { authorizationEventUrl?: string; messageUrl?: string };
}

export interface CodePackage {
  dir: string;
  zip: Buffer;
  files: { name: string; bytes: number }[];
  sha256: string;
}

/**
 * UpdateFunctionCodeRequest.ZipFile (scf_models.d.ts): "zip 文件的内容转成 base64 编码，最大支持20M". CreateFunction's
 * Code.ZipFile takes 50 MB, but a function that could be created and never updated is no use, so 20 MB of base64
 * (about 15 MB of zip) is the limit, checked before any API call.
 */
const MAX_ZIP_BASE64_BYTES = 20 * 2 ** 20;

export function packageCode(props: ScfProps, inputs: ComponentInputs): CodePackage {
  const base = inputs.yaml?.path ? dirname(inputs.yaml.path) : (inputs.cwd ?? process.cwd());
  const dir = isAbsolute(props.code) ? props.code : resolve(base, props.code);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`${props.functionName}: code directory ${dir} does not exist; run \`npm run build\` first`);
  }
  const entries = collectCodeFiles(dir);
  const entry = `${props.handler.split('.')[0]}.js`;
  if (!entries.some((e) => e.name === entry)) throw new Error(`${props.functionName}: ${dir} has no ${entry} for handler ${props.handler}`);
  const zip = zipEntries(entries);
  const base64Bytes = Math.ceil(zip.length / 3) * 4;
  if (base64Bytes > MAX_ZIP_BASE64_BYTES) {
    throw new Error(
      `${props.functionName}: the zip is ${(base64Bytes / 2 ** 20).toFixed(1)} MB in base64; UpdateFunctionCode takes at most ${MAX_ZIP_BASE64_BYTES / 2 ** 20} MB (ship less, or deploy the code through COS)`,
    );
  }
  return {
    dir,
    zip,
    files: entries.map((e) => ({ name: e.name, bytes: e.data.length })).sort((a, b) => a.name.localeCompare(b.name)),
    sha256: createHash('sha256').update(zip).digest('hex'),
  };
}

const ACTIVE = 'Active';

export class ScfComponent {
  private readonly logger: ComponentLogger;
  private readonly clientFactory: ScfClientFactory;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly pollIntervalMs: number;
  private readonly maxPolls: number;

  constructor(options: ComponentOptions = {}) {
    this.logger = options.logger ?? { info: (m) => console.log(m), warn: (m) => console.warn(m) };
    this.clientFactory = options.clientFactory ?? sdkClientFactory;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.env = options.env ?? process.env;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.maxPolls = options.maxPolls ?? 90;
  }

  async deploy(inputs: ComponentInputs): Promise<DeployOutput> {
    const props = parseScfProps(inputs.resource?.name ?? 'resource', inputs.props);
    const code = packageCode(props, inputs);
    const zipBase64 = code.zip.toString('base64');
    const client = this.clientFactory({ region: props.region, credentials: await this.credentials(inputs) });
    const omitted = omittedVariables(props);
    if (omitted.length) this.logger.warn(`${props.functionName}: empty variables not sent to SCF: ${omitted.join(', ')}`);

    const existing = await this.getFunction(client, props);
    let action: DeployOutput['action'];
    if (!existing) {
      this.logger.info(`${props.functionName}: creating (${(code.zip.length / 1024).toFixed(1)} KB zip)`);
      await client.CreateFunction(createFunctionRequest(props, zipBase64));
      action = 'created';
    } else {
      if (existing.Runtime && existing.Runtime !== props.runtime) {
        // SCF cannot change a runtime in place ("创建时指定，目前不支持修改").
        throw new Error(
          `${props.functionName} runs ${existing.Runtime}; SCF cannot switch it to ${props.runtime}: remove the function first`,
        );
      }
      await this.waitActive(client, props);
      this.logger.info(`${props.functionName}: updating code (${(code.zip.length / 1024).toFixed(1)} KB zip)`);
      await client.UpdateFunctionCode(updateCodeRequest(props, zipBase64));
      await this.waitActive(client, props);
      this.logger.info(`${props.functionName}: updating configuration`);
      await client.UpdateFunctionConfiguration(updateConfigurationRequest(props));
      action = 'updated';
    }
    await this.waitActive(client, props);

    const triggers = await this.syncTriggers(client, props, await this.listTriggers(client, props));
    const urlTrigger = props.triggers.find((t) => t.type === 'url');
    const url = urlTrigger ? await this.waitForUrl(client, props, urlTrigger.name) : null;
    const routes = urlTrigger?.type === 'url' ? urlTrigger.routes : [];
    const wechat = url ? wechatUrls(routes, url) : {};
    const output: DeployOutput = {
      functionName: props.functionName,
      region: props.region,
      namespace: props.namespace,
      action,
      url,
      routes,
      timers: props.triggers.flatMap((t) => (t.type === 'timer' ? [{ name: t.name, cronExpression: t.cronExpression }] : [])),
      triggers,
      omittedEmptyVariables: omitted,
      ...(Object.keys(wechat).length ? { wechat } : {}),
    };
    if (urlTrigger && !url) this.logger.warn(`${props.functionName}: the function URL did not appear yet; see SCF console → 函数 URL`);
    if (url) this.logger.info(`${props.functionName}: function URL ${url}`);
    if (wechat.authorizationEventUrl)
      this.logger.info(`WeChat 授权事件接收 URL (authorization-event URL): ${wechat.authorizationEventUrl}`);
    if (wechat.messageUrl) this.logger.info(`WeChat 消息与事件接收 URL (message URL): ${wechat.messageUrl}`);
    return output;
  }

  async remove(inputs: ComponentInputs): Promise<{ functionName: string; removed: boolean }> {
    const props = parseScfProps(inputs.resource?.name ?? 'resource', inputs.props);
    const client = this.clientFactory({ region: props.region, credentials: await this.credentials(inputs) });
    try {
      await client.DeleteFunction({ FunctionName: props.functionName, Namespace: props.namespace });
      this.logger.info(`${props.functionName}: removed`);
      return { functionName: props.functionName, removed: true };
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.logger.info(`${props.functionName}: already absent`);
      return { functionName: props.functionName, removed: false };
    }
  }

  /** Offline dry run: validates props, packages the code and prints the requests deploy would send. */
  async plan(inputs: ComponentInputs): Promise<PlanOutput> {
    const props = parseScfProps(inputs.resource?.name ?? 'resource', inputs.props);
    const output = planOf(props, inputs);
    this.logger.info(formatPlan(inputs.resource?.name ?? props.functionName, output));
    return output;
  }

  private async credentials(inputs: ComponentInputs): Promise<TencentCredentials> {
    let fromAccess: Record<string, unknown> = {};
    try {
      fromAccess = (await inputs.getCredential?.()) ?? {};
    } catch {
      // No `s config add` alias: fall back to the variables SCF and tccli use.
    }
    const secretId = String(fromAccess.SecretID ?? this.env.TENCENTCLOUD_SECRETID ?? '');
    const secretKey = String(fromAccess.SecretKey ?? this.env.TENCENTCLOUD_SECRETKEY ?? '');
    const token = fromAccess.SecurityToken ?? this.env.TENCENTCLOUD_SESSIONTOKEN;
    if (!secretId || !secretKey) {
      throw new Error(
        'No Tencent Cloud credentials: run `s config add` (provider tencent: AccountID, SecretID, SecretKey) ' +
          'and set S_ACCESS to its alias, or export TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY',
      );
    }
    return { secretId, secretKey, ...(typeof token === 'string' && token ? { token } : {}) };
  }

  private async getFunction(client: ScfClient, props: ScfProps): Promise<GetFunctionResponse | null> {
    try {
      return await client.GetFunction({ FunctionName: props.functionName, Namespace: props.namespace });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async waitActive(client: ScfClient, props: ScfProps): Promise<GetFunctionResponse> {
    for (let poll = 0; ; poll++) {
      const fn = await client.GetFunction({ FunctionName: props.functionName, Namespace: props.namespace });
      if (fn.Status === ACTIVE) return fn;
      if (fn.Status?.endsWith('Failed')) {
        const reasons = (fn.StatusReasons ?? []).map((r) => `${r.ErrorCode ?? ''} ${r.ErrorMessage ?? ''}`.trim()).join('; ');
        throw new Error(`${props.functionName}: ${fn.Status} ${fn.StatusDesc ?? ''} ${reasons}`.trim());
      }
      if (poll >= this.maxPolls) throw new Error(`${props.functionName}: still ${fn.Status ?? 'unknown'} after ${poll} polls`);
      await this.sleep(this.pollIntervalMs);
    }
  }

  /** Every trigger on `$DEFAULT`, page by page (see listTriggersRequest for why not GetFunction). */
  private async listTriggers(client: ScfClient, props: ScfProps): Promise<ExistingTrigger[]> {
    const triggers: ExistingTrigger[] = [];
    for (let offset = 0; ; offset += TRIGGER_PAGE) {
      const page = await client.ListTriggers(listTriggersRequest(props, offset));
      const found = page.Triggers ?? [];
      triggers.push(...found);
      if (found.length < TRIGGER_PAGE || triggers.length >= (page.TotalCount ?? 0)) return triggers;
    }
  }

  private async syncTriggers(client: ScfClient, props: ScfProps, existing: readonly ExistingTrigger[]): Promise<DeployOutput['triggers']> {
    const result: DeployOutput['triggers'] = { created: [], updated: [], unchanged: [], deleted: [] };
    const wanted = props.triggers.map(triggerSpec);
    for (const stale of existing) {
      if (!MANAGED_TRIGGER_TYPES.includes(stale.Type ?? '')) continue;
      if (wanted.some((w) => w.Type === stale.Type && w.TriggerName === stale.TriggerName)) continue;
      this.logger.info(`${props.functionName}: deleting ${stale.Type} trigger ${stale.TriggerName}`);
      await client.DeleteTrigger(deleteTriggerRequest(props, stale));
      result.deleted.push(`${stale.Type}:${stale.TriggerName}`);
    }
    for (const spec of wanted) {
      const label = `${spec.Type}:${spec.TriggerName}`;
      const current = existing.find((t) => t.Type === spec.Type && t.TriggerName === spec.TriggerName);
      if (!current) {
        this.logger.info(`${props.functionName}: creating ${label}`);
        await client.CreateTrigger(createTriggerRequest(props, spec));
        result.created.push(label);
      } else if (triggerMatches(current, spec)) {
        result.unchanged.push(label);
      } else {
        this.logger.info(`${props.functionName}: updating ${label}`);
        await client.UpdateTrigger(updateTriggerRequest(props, spec));
        result.updated.push(label);
      }
    }
    return result;
  }

  private async waitForUrl(client: ScfClient, props: ScfProps, triggerName: string): Promise<string | null> {
    for (let poll = 0; poll <= Math.min(this.maxPolls, 15); poll++) {
      const url = functionUrlOf(await this.listTriggers(client, props), triggerName);
      if (url) return url;
      await this.sleep(this.pollIntervalMs);
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// plan

/** Variables whose values are not secrets and may be printed by the plan. */
const PRINTABLE_VARIABLES = new Set([
  'WXA_ENV',
  'STORE',
  'TCB_ENV',
  'TCB_REGION',
  'MONGODB_DB',
  'WECHAT_COMPONENT_APPID',
  'WECHAT_API_BASE',
  'PUBLIC_BASE_URL',
  'CORS_ORIGINS',
  'LOG_LEVEL',
]);

export interface PlanOutput {
  functionName: string;
  region: string;
  namespace: string;
  code: { dir: string; zipBytes: number; sha256: string; files: { name: string; bytes: number }[]; problem?: string };
  /** Sent in CreateFunction (absent function) or UpdateFunctionConfiguration (existing one). */
  configuration: { runtime: string; handler: string; memorySize: number; timeout: number; description: string };
  environment: Record<string, string>;
  omittedEmptyVariables: string[];
  requests: { ifAbsent: string[]; ifPresent: string[] };
  triggers: { type: string; name: string; desc: string; customArgument?: string }[];
  routes: string[];
  wechat?: { authorizationEventUrl?: string; messageUrl?: string };
}

export function planOf(props: ScfProps, inputs: ComponentInputs): PlanOutput {
  let code: Pick<CodePackage, 'dir' | 'sha256' | 'files'> & { zipBytes: number; problem?: string };
  try {
    const built = packageCode(props, inputs);
    code = { dir: built.dir, zipBytes: built.zip.length, sha256: built.sha256, files: built.files };
  } catch (error) {
    // A dry run reports a missing bundle instead of stopping: deploy is what refuses it.
    code = { dir: props.code, zipBytes: 0, sha256: '', files: [], problem: error instanceof Error ? error.message : String(error) };
  }
  const request = createFunctionRequest(props, '<zip>');
  const specs = props.triggers.map(triggerSpec);
  const urlTrigger = props.triggers.find((t) => t.type === 'url');
  const routes = urlTrigger?.type === 'url' ? urlTrigger.routes : [];
  const wechat = wechatUrls(routes, `<function URL of ${props.functionName}>`);
  const triggerCalls = specs.map((s) => `CreateTrigger or UpdateTrigger ${s.Type}:${s.TriggerName} (skipped when unchanged)`);
  return {
    functionName: props.functionName,
    region: props.region,
    namespace: props.namespace,
    code,
    configuration: {
      runtime: props.runtime,
      handler: props.handler,
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
    },
    environment: Object.fromEntries(
      (request.Environment?.Variables ?? []).map((v) => [v.Key ?? '', PRINTABLE_VARIABLES.has(v.Key ?? '') ? (v.Value ?? '') : '***']),
    ),
    omittedEmptyVariables: omittedVariables(props),
    requests: {
      ifAbsent: [
        'GetFunction → ResourceNotFound',
        'CreateFunction',
        'GetFunction until Active',
        'ListTriggers ($DEFAULT)',
        ...triggerCalls,
        'ListTriggers (function URL)',
      ],
      ifPresent: [
        'GetFunction',
        'UpdateFunctionCode',
        'GetFunction until Active',
        'UpdateFunctionConfiguration',
        'GetFunction until Active',
        'ListTriggers ($DEFAULT)',
        'DeleteTrigger for http/timer triggers no longer declared',
        ...triggerCalls,
        'ListTriggers (function URL)',
      ],
    },
    triggers: specs.map((s) => ({
      type: s.Type,
      name: s.TriggerName,
      desc: s.TriggerDesc,
      ...(s.CustomArgument === undefined ? {} : { customArgument: s.CustomArgument }),
    })),
    routes,
    ...(Object.keys(wechat).length ? { wechat } : {}),
  };
}

export function formatPlan(resource: string, plan: PlanOutput): string {
  const lines = [
    `${resource} → SCF ${plan.region}/${plan.namespace}/${plan.functionName}`,
    ...(plan.code.problem
      ? [`  code     NOT DEPLOYABLE: ${plan.code.problem}`]
      : [
          `  code     ${plan.code.dir}: ${plan.code.files.map((f) => `${f.name} (${(f.bytes / 1024).toFixed(1)} KB)`).join(', ')}`,
          `           zip ${(plan.code.zipBytes / 1024).toFixed(1)} KB sha256 ${plan.code.sha256.slice(0, 16)}…`,
        ]),
    `  function ${plan.configuration.runtime} ${plan.configuration.handler} ${plan.configuration.memorySize} MB ${plan.configuration.timeout} s`,
    `  env      ${Object.keys(plan.environment).join(', ') || '(none)'}`,
    ...(plan.omittedEmptyVariables.length ? [`  omitted  (empty) ${plan.omittedEmptyVariables.join(', ')}`] : []),
    ...plan.triggers.map((t) => `  trigger  ${t.type}:${t.name} ${t.desc}${t.customArgument ? ` argument=${t.customArgument}` : ''}`),
    ...plan.routes.map((r) => `  route    ${r}`),
    ...(plan.wechat?.authorizationEventUrl ? [`  WeChat authorization-event URL: ${plan.wechat.authorizationEventUrl}`] : []),
    ...(plan.wechat?.messageUrl ? [`  WeChat message URL: ${plan.wechat.messageUrl}`] : []),
  ];
  return lines.join('\n');
}

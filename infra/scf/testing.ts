/**
 * Test support for the SCF component: the real serverless.yml as Serverless Devs renders it (`s preview`, offline),
 * and a recording fake of the SCF API that behaves like the service where the component depends on it
 * (ResourceNotFound, Creating/Updating → Active, function URLs appearing in the http trigger's TriggerDesc, and
 * GetFunction describing one qualifier — `$LATEST` unless asked — so triggers on `$DEFAULT` show only in
 * ListTriggers, which filters by Qualifier / TriggerName / Type and pages with Offset / Limit).
 */
import type { GetFunctionResponse, Trigger, TriggerInfo } from 'tencentcloud-sdk-nodejs-scf/tencentcloud/services/scf/v20180416/scf_models';
import type { ScfClient } from './client';

export { type RenderedResource, renderTemplate, repoRoot, runS, sBin, templateVariables } from './render';

export interface RecordedCall {
  action: keyof ScfClient;
  request: Record<string, unknown>;
}

class FakeApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface FakeFunction {
  config: GetFunctionResponse;
  triggers: Trigger[];
  /** How many more GetFunction calls report the transitional status before Active. */
  settlingPolls: number;
}

/** A stand-in for SCF at the SDK boundary. `urlHost(name)` is the function URL SCF would assign. */
export class FakeScf implements ScfClient {
  readonly calls: RecordedCall[] = [];
  readonly functions = new Map<string, FakeFunction>();
  constructor(
    private readonly urlHost: (functionName: string) => string = (n) => `https://1250000000-${n.length}abc.ap-guangzhou.tencentscf.com`,
  ) {}

  private record(action: keyof ScfClient, request: object) {
    this.calls.push({ action, request: JSON.parse(JSON.stringify(request)) as Record<string, unknown> });
  }

  private fn(name: string | undefined): FakeFunction {
    const found = this.functions.get(name ?? '');
    if (!found) throw new FakeApiError('ResourceNotFound.Function', `function ${name} not found`);
    return found;
  }

  private settle(fn: FakeFunction, status: string) {
    fn.config.Status = status;
    fn.settlingPolls = 1;
  }

  async GetFunction(req: Parameters<ScfClient['GetFunction']>[0]) {
    this.record('GetFunction', req);
    const fn = this.fn(req.FunctionName);
    if (fn.settlingPolls > 0) fn.settlingPolls--;
    else fn.config.Status = 'Active';
    const qualifier = req.Qualifier ?? '$LATEST';
    return { ...fn.config, Triggers: fn.triggers.filter((t) => t.Qualifier === qualifier).map((t) => ({ ...t })) };
  }

  private static readonly FILTERABLE: Record<string, keyof Trigger> = { Qualifier: 'Qualifier', TriggerName: 'TriggerName', Type: 'Type' };

  async ListTriggers(req: Parameters<ScfClient['ListTriggers']>[0]) {
    this.record('ListTriggers', req);
    const fn = this.fn(req.FunctionName);
    const matching = fn.triggers.filter((trigger) =>
      (req.Filters ?? []).every((filter) => {
        const field = FakeScf.FILTERABLE[filter.Name];
        if (!field) throw new FakeApiError('InvalidParameterValue.Filters', `cannot filter triggers by ${filter.Name}`);
        return filter.Values.includes(String(trigger[field] ?? ''));
      }),
    );
    const offset = req.Offset ?? 0;
    const page: TriggerInfo[] = matching.slice(offset, offset + (req.Limit ?? 20)).map((t) => ({ ...t }));
    return { Triggers: page, TotalCount: matching.length, RequestId: 'req-list-triggers' };
  }

  async CreateFunction(req: Parameters<ScfClient['CreateFunction']>[0]) {
    this.record('CreateFunction', req);
    const fn: FakeFunction = {
      config: { FunctionName: req.FunctionName, Namespace: req.Namespace ?? 'default', Runtime: req.Runtime ?? '', Status: 'Creating' },
      triggers: [],
      settlingPolls: 0,
    };
    this.functions.set(req.FunctionName, fn);
    this.settle(fn, 'Creating');
    return { RequestId: 'req-create' };
  }

  async UpdateFunctionCode(req: Parameters<ScfClient['UpdateFunctionCode']>[0]) {
    this.record('UpdateFunctionCode', req);
    this.settle(this.fn(req.FunctionName), 'Updating');
    return { RequestId: 'req-code' };
  }

  async UpdateFunctionConfiguration(req: Parameters<ScfClient['UpdateFunctionConfiguration']>[0]) {
    this.record('UpdateFunctionConfiguration', req);
    this.settle(this.fn(req.FunctionName), 'Updating');
    return { RequestId: 'req-config' };
  }

  /** Stores triggers the way GetFunction reports them: Enable as 1, timers as {"cron"}, URLs inside NetConfig. */
  private stored(
    req: { Type: string; TriggerName: string; TriggerDesc?: string; Qualifier?: string; CustomArgument?: string },
    functionName: string,
  ): Trigger {
    let desc = req.TriggerDesc ?? '';
    if (req.Type === 'timer') desc = JSON.stringify({ cron: desc });
    if (req.Type === 'http') {
      const parsed = JSON.parse(desc) as { NetConfig?: Record<string, unknown> };
      parsed.NetConfig = { ...parsed.NetConfig, ExtranetUrl: this.urlHost(functionName) };
      desc = JSON.stringify(parsed);
    }
    return {
      Type: req.Type,
      TriggerName: req.TriggerName,
      TriggerDesc: desc,
      Qualifier: req.Qualifier ?? '$LATEST',
      Enable: 1,
      ...(req.CustomArgument === undefined ? {} : { CustomArgument: req.CustomArgument }),
    };
  }

  async CreateTrigger(req: Parameters<ScfClient['CreateTrigger']>[0]) {
    this.record('CreateTrigger', req);
    const fn = this.fn(req.FunctionName);
    if (fn.triggers.some((t) => t.TriggerName === req.TriggerName && t.Type === req.Type)) {
      throw new FakeApiError('ResourceInUse.Trigger', 'trigger exists');
    }
    const trigger = this.stored(req, req.FunctionName);
    fn.triggers.push(trigger);
    return { TriggerInfo: trigger, RequestId: 'req-trigger' };
  }

  async UpdateTrigger(req: Parameters<ScfClient['UpdateTrigger']>[0]) {
    this.record('UpdateTrigger', req);
    const fn = this.fn(req.FunctionName);
    const index = fn.triggers.findIndex((t) => t.TriggerName === req.TriggerName && t.Type === req.Type);
    if (index < 0) throw new FakeApiError('ResourceNotFound.Trigger', 'no such trigger');
    fn.triggers[index] = this.stored(req, req.FunctionName);
    return { RequestId: 'req-update-trigger' };
  }

  async DeleteTrigger(req: Parameters<ScfClient['DeleteTrigger']>[0]) {
    this.record('DeleteTrigger', req);
    const fn = this.fn(req.FunctionName);
    fn.triggers = fn.triggers.filter((t) => !(t.TriggerName === req.TriggerName && t.Type === req.Type));
    return { RequestId: 'req-delete-trigger' };
  }

  async DeleteFunction(req: Parameters<ScfClient['DeleteFunction']>[0]) {
    this.record('DeleteFunction', req);
    this.fn(req.FunctionName);
    this.functions.delete(req.FunctionName);
    return { RequestId: 'req-delete' };
  }
}

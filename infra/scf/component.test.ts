/**
 * The SCF component against a recording fake of the SCF API (the SDK boundary only), with the props Serverless
 * Devs itself renders from the real serverless.yml (`s preview`, offline).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComponentInputs, type DeployOutput, ScfComponent } from './component';
import { parseScfProps } from './props';
import { FakeScf, type RenderedResource, renderTemplate, repoRoot } from './testing';
import { unzipEntries } from './zip';

const ENV = {
  S_ACCESS: 'default',
  SCF_REGION: 'ap-guangzhou',
  SCF_NAMESPACE: 'default',
  STORE: 'cloudbase',
  TCB_ENV: 'wxa-prod-1a2b3c',
  DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
  ADMIN_API_KEY: 'admin-key-0123456789abcdefghij',
  WECHAT_COMPONENT_APPID: 'wx1234567890abcdef',
  WECHAT_COMPONENT_SECRET: 'component-secret',
  WECHAT_TOKEN: 'wxatoken',
  WECHAT_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  WECHAT_API_BASE: 'https://api.weixin.qq.com',
  PUBLIC_BASE_URL: 'https://wxa.example.com',
  LOG_LEVEL: 'info',
};

const work = mkdtempSync(join(tmpdir(), 'wxa-scf-component-'));
const yamlPath = join(work, 'serverless.yml');
let resources: Record<string, RenderedResource>;

beforeAll(() => {
  resources = renderTemplate(join(repoRoot, 'serverless.yml'), ENV);
  // The code each resource points at (`./dist/<name>`), relative to the template: stand-in bundles.
  for (const resource of Object.values(resources)) {
    const dir = join(work, String(resource.props.code));
    mkdirSync(join(dir, 'node_modules', '@cloudbase', 'node-sdk'), { recursive: true });
    writeFileSync(join(dir, 'index.js'), `exports.handler = async () => ${JSON.stringify(resource.props.functionName)};\n`);
    writeFileSync(join(dir, 'index.js.map'), '{}');
    writeFileSync(join(dir, 'meta.json'), '{}');
    writeFileSync(join(dir, 'node_modules', '@cloudbase', 'node-sdk', 'index.js'), 'module.exports = {};\n');
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const inputsOf = (name: string): ComponentInputs => ({
  props: resources[name]?.props,
  yaml: { path: yamlPath },
  resource: { name, component: join(repoRoot, 'infra', 'scf'), access: 'default' },
  getCredential: async () => ({ AccountID: '100000000001', SecretID: 'AKIDtest', SecretKey: 'secret' }),
});

const quiet = { info: () => undefined, warn: () => undefined };

function componentWith(fake: FakeScf) {
  const regions: string[] = [];
  const component = new ScfComponent({
    logger: quiet,
    sleep: async () => undefined,
    clientFactory: ({ region, credentials }) => {
      regions.push(`${region}:${credentials.secretId}`);
      return fake;
    },
  });
  return { component, regions };
}

/** Replaces the base64 zip by a marker after checking what it contains. */
function takeZip(request: Record<string, unknown>, expectedEntry: string): Record<string, unknown> {
  const code = request.Code as { ZipFile?: string } | undefined;
  const base64 = code?.ZipFile ?? (request.ZipFile as string | undefined);
  expect(typeof base64).toBe('string');
  const entries = unzipEntries(Buffer.from(base64 ?? '', 'base64'));
  expect(entries.map((e) => e.name)).toEqual(['index.js', 'node_modules/@cloudbase/node-sdk/index.js']);
  expect(entries[0]?.data.toString()).toContain(expectedEntry);
  return code ? { ...request, Code: { ZipFile: '<zip>' } } : { ...request, ZipFile: '<zip>' };
}

const environmentOf = (name: string) => ({
  Variables: Object.entries((resources[name]?.props.environment ?? {}) as Record<string, string>)
    .filter(([, value]) => value !== '')
    .map(([Key, Value]) => ({ Key, Value })),
});

const HTTP_DESC = '{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}';

describe('serverless.yml as rendered by Serverless Devs', () => {
  it('declares valid props for every resource of this component', () => {
    for (const [name, resource] of Object.entries(resources)) {
      if (!resource.component.endsWith('/infra/scf')) continue;
      expect(() => parseScfProps(name, resource.props)).not.toThrow();
    }
    expect(Object.keys(resources)).toEqual(expect.arrayContaining(['api', 'authorize-callback', 'maintenance']));
  });

  it('sends the secrets it was given and leaves empty variables out (SCF refuses empty values)', () => {
    const variables = environmentOf('api').Variables;
    expect(variables).toEqual(
      expect.arrayContaining([
        { Key: 'WXA_ENV', Value: 'cloud' },
        { Key: 'STORE', Value: 'cloudbase' },
        { Key: 'TCB_ENV', Value: ENV.TCB_ENV },
        { Key: 'DATA_KEY', Value: ENV.DATA_KEY },
        { Key: 'WECHAT_ENCODING_AES_KEY', Value: ENV.WECHAT_ENCODING_AES_KEY },
      ]),
    );
    expect(variables.find((v) => v.Key === 'MONGODB_URL')).toBeUndefined();
  });
});

describe('deploy (first time: the functions do not exist)', () => {
  const fake = new FakeScf();
  const outputs: Record<string, DeployOutput> = {};

  beforeAll(async () => {
    const { component } = componentWith(fake);
    for (const name of ['api', 'authorize-callback', 'maintenance']) outputs[name] = await component.deploy(inputsOf(name));
  });

  const callsFor = (functionName: string) => fake.calls.filter((c) => c.request.FunctionName === functionName);
  /**
   * A first deploy of a function with one trigger: look it up, create it, wait until it is Active, list and create its
   * trigger (a function URL is then listed again, to report its URL).
   */
  const CREATED_WITH_A_TRIGGER = ['GetFunction', 'CreateFunction', 'GetFunction', 'GetFunction', 'ListTriggers', 'CreateTrigger'];

  it('creates authorize-callback, waits for Active, adds its function URL and reports the WeChat authorization-event URL', () => {
    const calls = callsFor('wxa-deploy-authorize-callback');
    const fn = { FunctionName: 'wxa-deploy-authorize-callback', Namespace: 'default' };
    expect(calls.map((c) => c.action)).toEqual([...CREATED_WITH_A_TRIGGER, 'ListTriggers']);
    expect(calls[0]?.request).toEqual(fn);
    expect(calls[4]?.request).toEqual({ ...fn, Offset: 0, Limit: 100, Filters: [{ Name: 'Qualifier', Values: ['$DEFAULT'] }] });
    expect(takeZip(calls[1]?.request ?? {}, 'wxa-deploy-authorize-callback')).toEqual({
      ...fn,
      Type: 'Event',
      Runtime: 'Nodejs18.15',
      Handler: 'index.handler',
      Description: resources['authorize-callback']?.props.description,
      MemorySize: 256,
      Timeout: 15,
      Environment: environmentOf('authorize-callback'),
      CodeSource: 'ZipFile',
      Code: { ZipFile: '<zip>' },
    });
    expect(calls[5]?.request).toEqual({
      ...fn,
      Type: 'http',
      TriggerName: 'url',
      TriggerDesc: HTTP_DESC,
      Qualifier: '$DEFAULT',
      Enable: 'OPEN',
    });
    const url = 'https://1250000000-29abc.ap-guangzhou.tencentscf.com';
    expect(outputs['authorize-callback']).toMatchObject({
      action: 'created',
      url,
      routes: expect.arrayContaining(['POST /wechat/component/events']),
      wechat: { authorizationEventUrl: `${url}/wechat/component/events` },
      triggers: { created: ['http:url'], updated: [], unchanged: [], deleted: [] },
      omittedEmptyVariables: expect.arrayContaining(['MONGODB_URL']),
    });
  });

  it('reports the WeChat message URL, with $APPID$, for the function serving POST /wechat/authorizers/{appid}/events', async () => {
    const serving = Object.entries(resources).find(([, r]) =>
      JSON.stringify(r.props.triggers).includes('POST /wechat/authorizers/{appid}/events'),
    );
    expect(serving).toBeDefined();
    const [name] = serving ?? ['?'];
    const output = await componentWith(fake).component.deploy(inputsOf(name));
    expect(output.wechat?.messageUrl).toBe(`${output.url}/wechat/authorizers/$APPID$/events`);
  });

  it('creates api with its function URL and no WeChat URL', () => {
    const calls = callsFor('wxa-deploy-api');
    expect(calls.map((c) => c.action)).toEqual([...CREATED_WITH_A_TRIGGER, 'ListTriggers']);
    expect(takeZip(calls[1]?.request ?? {}, 'wxa-deploy-api')).toMatchObject({
      FunctionName: 'wxa-deploy-api',
      MemorySize: 256,
      Timeout: 15,
    });
    expect(outputs.api?.wechat).toBeUndefined();
    expect(outputs.api?.url).toMatch(/^https:\/\/.+\.tencentscf\.com$/);
  });

  it('creates maintenance with its 7-field timer on $DEFAULT and no URL', () => {
    const calls = callsFor('wxa-deploy-maintenance');
    expect(calls.map((c) => c.action)).toEqual(CREATED_WITH_A_TRIGGER);
    expect(takeZip(calls[1]?.request ?? {}, 'wxa-deploy-maintenance')).toMatchObject({ Timeout: 60 });
    expect(calls[5]?.request).toEqual({
      FunctionName: 'wxa-deploy-maintenance',
      Namespace: 'default',
      Type: 'timer',
      TriggerName: 'purge-expired',
      TriggerDesc: '0 */10 * * * * *',
      Qualifier: '$DEFAULT',
      Enable: 'OPEN',
    });
    expect(outputs.maintenance).toMatchObject({ url: null, timers: [{ name: 'purge-expired', cronExpression: '0 */10 * * * * *' }] });
  });

  it('redeploys: updates code, then configuration, each after the function is Active, and leaves matching triggers alone', async () => {
    fake.calls.length = 0;
    const { component } = componentWith(fake);
    const output = await component.deploy(inputsOf('maintenance'));
    const fn = { FunctionName: 'wxa-deploy-maintenance', Namespace: 'default' };
    expect(fake.calls.map((c) => c.action)).toEqual([
      'GetFunction',
      'GetFunction',
      'UpdateFunctionCode',
      'GetFunction',
      'GetFunction',
      'UpdateFunctionConfiguration',
      'GetFunction',
      'GetFunction',
      'ListTriggers',
    ]);
    expect(takeZip(fake.calls[2]?.request ?? {}, 'wxa-deploy-maintenance')).toEqual({
      ...fn,
      Handler: 'index.handler',
      CodeSource: 'ZipFile',
      ZipFile: '<zip>',
    });
    expect(fake.calls[5]?.request).toEqual({
      ...fn,
      Description: resources.maintenance?.props.description,
      MemorySize: 256,
      Timeout: 60,
      Environment: environmentOf('maintenance'),
    });
    expect(output.triggers).toEqual({ created: [], updated: [], unchanged: ['timer:purge-expired'], deleted: [] });
  });

  it('updates a changed timer and deletes triggers no longer declared, leaving other trigger types alone', async () => {
    const stored = fake.functions.get('wxa-deploy-maintenance');
    stored?.triggers.push(
      { Type: 'timer', TriggerName: 'old-job', TriggerDesc: '{"cron":"0 0 * * * * *"}', Qualifier: '$DEFAULT', Enable: 1 },
      { Type: 'cos', TriggerName: 'bucket', TriggerDesc: '{}', Qualifier: '$DEFAULT', Enable: 1 },
    );
    fake.calls.length = 0;
    const { component } = componentWith(fake);
    const props = {
      ...resources.maintenance?.props,
      triggers: [{ type: 'timer', name: 'purge-expired', cronExpression: '0 */5 * * * * *', argument: '{"job":"purge"}' }],
    };
    const output = await component.deploy({ ...inputsOf('maintenance'), props });
    const triggerCalls = fake.calls.filter((c) => c.action.endsWith('Trigger'));
    expect(triggerCalls).toEqual([
      {
        action: 'DeleteTrigger',
        request: {
          FunctionName: 'wxa-deploy-maintenance',
          Namespace: 'default',
          Type: 'timer',
          TriggerName: 'old-job',
          Qualifier: '$DEFAULT',
        },
      },
      {
        action: 'UpdateTrigger',
        request: {
          FunctionName: 'wxa-deploy-maintenance',
          Namespace: 'default',
          Type: 'timer',
          TriggerName: 'purge-expired',
          TriggerDesc: '0 */5 * * * * *',
          Qualifier: '$DEFAULT',
          Enable: 'OPEN',
          CustomArgument: '{"job":"purge"}',
        },
      },
    ]);
    expect(output.triggers).toEqual({ created: [], updated: ['timer:purge-expired'], unchanged: [], deleted: ['timer:old-job'] });
    expect(stored?.triggers.map((t) => t.TriggerName)).toEqual(['purge-expired', 'bucket']);
  });

  it('removes a function, and reports an absent one as already removed', async () => {
    const { component } = componentWith(fake);
    expect(await component.remove(inputsOf('api'))).toEqual({ functionName: 'wxa-deploy-api', removed: true });
    expect(await component.remove(inputsOf('api'))).toEqual({ functionName: 'wxa-deploy-api', removed: false });
  });
});

describe('deploying twice (triggers live on $DEFAULT, which GetFunction does not describe)', () => {
  const fake = new FakeScf();
  const lines: string[] = [];
  const component = new ScfComponent({
    logger: { info: (m) => lines.push(m), warn: (m) => lines.push(`WARN ${m}`) },
    sleep: async () => undefined,
    clientFactory: () => fake,
  });
  const triggerCalls = () => fake.calls.filter((c) => /Trigger$/.test(c.action) && c.action !== 'ListTriggers');

  it('the second deploy finds the function URL and timer through ListTriggers: nothing is created again, and the URLs are printed both times', async () => {
    const first = await component.deploy(inputsOf('authorize-callback'));
    const timerFirst = await component.deploy(inputsOf('maintenance'));
    expect(triggerCalls().map((c) => c.action)).toEqual(['CreateTrigger', 'CreateTrigger']);
    const printedFirst = lines.filter((l) => l.includes('authorization-event URL'));

    fake.calls.length = 0;
    lines.length = 0;
    const second = await component.deploy(inputsOf('authorize-callback'));
    const timerSecond = await component.deploy(inputsOf('maintenance'));
    expect(triggerCalls()).toEqual([]);
    expect(second.triggers).toEqual({ created: [], updated: [], unchanged: ['http:url'], deleted: [] });
    expect(timerSecond.triggers).toEqual({ created: [], updated: [], unchanged: ['timer:purge-expired'], deleted: [] });
    expect(second.url).toBe(first.url);
    expect(second.wechat).toEqual(first.wechat);
    expect(timerSecond.timers).toEqual(timerFirst.timers);
    expect(lines.filter((l) => l.includes('authorization-event URL'))).toEqual(printedFirst);
    expect(lines).toContain(`wxa-deploy-authorize-callback: function URL ${first.url}`);
    expect(lines.filter((l) => l.includes('function URL did not appear'))).toEqual([]);
    expect(fake.functions.get('wxa-deploy-authorize-callback')?.triggers.map((t) => `${t.Type}:${t.TriggerName}@${t.Qualifier}`)).toEqual([
      'http:url@$DEFAULT',
    ]);
  });

  it('a trigger changed outside the template is updated in place on $DEFAULT, never created beside the old one', async () => {
    const stored = fake.functions.get('wxa-deploy-authorize-callback')?.triggers[0];
    if (!stored) throw new Error('the first deploy stored no trigger');
    stored.TriggerDesc = JSON.stringify({
      AuthType: 'CAM',
      NetConfig: { EnableIntranet: false, EnableExtranet: true, ExtranetUrl: 'https://1250000000-29abc.ap-guangzhou.tencentscf.com' },
    });
    fake.calls.length = 0;
    const output = await component.deploy(inputsOf('authorize-callback'));
    expect(triggerCalls()).toEqual([
      {
        action: 'UpdateTrigger',
        request: {
          FunctionName: 'wxa-deploy-authorize-callback',
          Namespace: 'default',
          Type: 'http',
          TriggerName: 'url',
          TriggerDesc: HTTP_DESC,
          Qualifier: '$DEFAULT',
          Enable: 'OPEN',
        },
      },
    ]);
    expect(output.triggers.updated).toEqual(['http:url']);
    expect(output.url).toBe('https://1250000000-29abc.ap-guangzhou.tencentscf.com');
    expect(fake.functions.get('wxa-deploy-authorize-callback')?.triggers).toHaveLength(1);
  });
});

describe('deploy refuses before any API call', () => {
  it('without credentials', async () => {
    const fake = new FakeScf();
    const component = new ScfComponent({ logger: quiet, env: {}, clientFactory: () => fake });
    await expect(component.deploy({ ...inputsOf('api'), getCredential: async () => ({}) })).rejects.toThrow(/s config add/);
    expect(fake.calls).toEqual([]);
  });

  it('with invalid props, listing every problem', async () => {
    const fake = new FakeScf();
    const component = new ScfComponent({ logger: quiet, clientFactory: () => fake });
    const props = {
      ...resources.maintenance?.props,
      memorySize: 300,
      triggers: [{ type: 'timer', name: 't', cronExpression: '*/5 * * * *' }],
    };
    await expect(component.deploy({ ...inputsOf('maintenance'), props })).rejects.toThrow(/memorySize[\s\S]*triggers\.0\.cronExpression/);
    expect(fake.calls).toEqual([]);
  });

  it('with a description SCF would refuse (InvalidParameterValue.Description), naming the field', async () => {
    const fake = new FakeScf();
    const component = new ScfComponent({ logger: quiet, clientFactory: () => fake });
    for (const description of ["An account's mini program", 'Submit; undo', 'ext_json', 'in-flight (deployments)']) {
      const props = { ...resources.api?.props, description };
      await expect(component.deploy({ ...inputsOf('api'), props })).rejects.toThrow(/description: SCF descriptions allow only letters/);
    }
    expect(fake.calls).toEqual([]);
    const accepted = { ...resources.api?.props, description: 'Frontend reads, setup.\n前端读取与配置' };
    expect(parseScfProps('api', accepted).description).toBe('Frontend reads, setup.\n前端读取与配置');
  });

  it('with a timer name SCF would refuse: a letter first, at most 60 characters', async () => {
    const fake = new FakeScf();
    const component = new ScfComponent({ logger: quiet, clientFactory: () => fake });
    for (const name of ['1-purge', '_purge', `p${'x'.repeat(60)}`]) {
      const props = { ...resources.maintenance?.props, triggers: [{ type: 'timer', name, cronExpression: '0 */10 * * * * *' }] };
      await expect(component.deploy({ ...inputsOf('maintenance'), props })).rejects.toThrow(
        /triggers\.0\.name: timer trigger names are 1–60/,
      );
    }
    expect(fake.calls).toEqual([]);
    const longest = {
      ...resources.maintenance?.props,
      triggers: [{ type: 'timer', name: `p${'x'.repeat(59)}`, cronExpression: '0 */10 * * * * *' }],
    };
    expect(parseScfProps('maintenance', longest).triggers[0]?.name).toHaveLength(60);
  });

  it('when the zip is over the 20 MB of base64 UpdateFunctionCode takes', async () => {
    const fake = new FakeScf();
    const component = new ScfComponent({ logger: quiet, clientFactory: () => fake });
    const dir = join(work, 'dist', 'too-big');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.js'), 'exports.handler = async () => 1;\n');
    // Random bytes do not compress: 15.5 MiB of them make about 20.7 MiB of base64.
    writeFileSync(join(dir, 'blob.bin'), randomBytes(15.5 * 2 ** 20));
    const props = { ...resources.api?.props, code: './dist/too-big' };
    await expect(component.deploy({ ...inputsOf('api'), props })).rejects.toThrow(/MB in base64; UpdateFunctionCode takes at most 20 MB/);
    expect(fake.calls).toEqual([]);
    expect((await component.plan({ ...inputsOf('api'), props })).code.problem).toMatch(/at most 20 MB/);
  });

  it('when the bundle was not built', async () => {
    const component = new ScfComponent({ logger: quiet, clientFactory: () => new FakeScf() });
    const props = { ...resources.api?.props, code: './dist/missing' };
    await expect(component.deploy({ ...inputsOf('api'), props })).rejects.toThrow(/npm run build/);
  });
});

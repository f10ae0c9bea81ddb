import {
  type App,
  type AssetMeta,
  appSchema,
  checkAppConfig,
  checkImages,
  type IotVideoConfig,
  imageRefs,
  imageWarnings,
  iotVideoConfigSchema,
  linkApp,
  newApp,
  newAppInputSchema,
  parseAppConfig,
  resetTheme,
  unlinkApp,
  withConfig,
} from './app';
import { ValidationError } from './errors';
import { exampleIotVideoConfig, exampleLowcodeConfig } from './examples';

const T0 = 1_700_000_000_000;
const png = (width: number): AssetMeta => ({ kind: 'upload', type: 'image/png', width });

const iotApp = (config: IotVideoConfig = exampleIotVideoConfig()): App =>
  newApp(
    { kind: 'iot-video', name: 'Camera app', templateId: 12, requiredPlugins: [], config, productIds: [] },
    { id: 'app_cam', accountId: 'acc_demo' },
    T0,
  );

const allAssets = new Map<string, AssetMeta>([
  ['ast_appdownloadqr', png(150)],
  ['ast_instructions', png(370)],
  ['ast_cameramanual', { kind: 'upload', type: 'image/jpeg', width: 1200 }],
  ['ast_homebottom', png(750)],
  ['ast_doorlocktop', png(750)],
]);

/** The validation error's issues for a config, or [] when it parses. */
const issuesOf = (input: unknown) => {
  try {
    parseAppConfig('iot-video', input);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    expect(error.code).toBe('APP_CONFIG_INVALID');
    return error.issues.map((issue) => issue.path);
  }
};

const DELETE = Symbol('delete');

/** A deep copy of the example with the field at `path` set to `value` (or deleted), for the "each bad field" table. */
const variant = (path: string, value: unknown): unknown => {
  const config: unknown = structuredClone(exampleIotVideoConfig());
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  let node = config as Record<string, unknown>;
  for (const key of keys) node = node[key] as Record<string, unknown>;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return config;
};

describe('iot-video config (seed 003 §5.1–5.2)', () => {
  test('the full example is accepted as is', () => {
    expect(iotVideoConfigSchema.parse(exampleIotVideoConfig())).toEqual(exampleIotVideoConfig());
    expect(issuesOf(exampleIotVideoConfig())).toEqual([]);
  });

  test('only the required fields: map key and one reminder category; the optional sections default to empty', () => {
    const minimal = { mapKey: 'OB4BZ-D4W3U-B7VVO-4PJWW-6TKDJ-WPB77', reminders: [exampleIotVideoConfig().reminders[0]] };
    expect(iotVideoConfigSchema.parse(minimal)).toEqual({ ...minimal, afterSales: {}, productManuals: [], theme: {} });
  });

  test.each<[string, string, unknown, string]>([
    ['missing map key', 'mapKey', DELETE, 'config.mapKey'],
    ['malformed map key', 'mapKey', 'not-a-key', 'config.mapKey'],
    ['no reminder category', 'reminders', [], 'config.reminders'],
    ['unknown category', 'reminders.0.category', 'doorbell', 'config.reminders.0.category'],
    ['a category twice', 'reminders.1.category', 'camera', 'config.reminders.1.category'],
    ['bad default product id', 'reminders.0.defaultProductId', 'abc', 'config.reminders.0.defaultProductId'],
    ['missing model_id', 'reminders.1.modelId', DELETE, 'config.reminders.1.modelId'],
    ['model_id with spaces', 'reminders.0.modelId', 'a b', 'config.reminders.0.modelId'],
    ['message template id too short', 'reminders.0.messageTemplateId', 'abc', 'config.reminders.0.messageTemplateId'],
    ['after-sales phone with letters', 'afterSales.phone', 'call us', 'config.afterSales.phone'],
    ['after-sales phone too short', 'afterSales.phone', '1234', 'config.afterSales.phone'],
    ['blank feedback guide', 'afterSales.feedbackGuide', '   ', 'config.afterSales.feedbackGuide'],
    ['feedback guide too long', 'afterSales.feedbackGuide', 'x'.repeat(501), 'config.afterSales.feedbackGuide'],
    ['QR image not an asset id', 'afterSales.appDownloadQrImage', 'https://x.example/qr.png', 'config.afterSales.appDownloadQrImage'],
    ['instructions image not an asset id', 'instructionsImage', 'app_notanasset', 'config.instructionsImage'],
    ['manual without a name', 'productManuals.0.name', '', 'config.productManuals.0.name'],
    ['manual without an image', 'productManuals.0.image', DELETE, 'config.productManuals.0.image'],
    ['main colour not #RRGGBB', 'theme.mainColor', 'blue', 'config.theme.mainColor'],
    ['secondary colour #RGB', 'theme.secondaryColor', '#fff', 'config.theme.secondaryColor'],
    ['home bottom image not an asset id', 'homeBottomImage', 42, 'config.homeBottomImage'],
    ['door-lock top image not an asset id', 'doorLockTopImage', 'ast_', 'config.doorLockTopImage'],
    ['a misspelt field', 'theme.mainColour', '#000000', 'config.theme'],
  ])('%s → %s', (_name, field, value, path) => {
    expect(issuesOf(variant(field, value))).toEqual([path]);
  });

  test('every bad field is reported at once', () => {
    const bad = { ...exampleIotVideoConfig(), mapKey: 'x', theme: { mainColor: 'red' } };
    expect(issuesOf(bad)).toEqual(['config.mapKey', 'config.theme.mainColor']);
  });

  test('reset restores the template colours, one or both', () => {
    const config = exampleIotVideoConfig();
    expect(resetTheme(config).theme).toEqual({});
    expect(resetTheme(config, ['mainColor']).theme).toEqual({ secondaryColor: '#E8F3FF' });
    expect(config.theme.mainColor).toBe('#0052D9');
  });
});

describe('images', () => {
  test('every image of the config is listed with the width the template suggests', () => {
    expect(imageRefs(iotApp()).map((r) => [r.path, r.suggestedMaxWidth])).toEqual([
      ['config.afterSales.appDownloadQrImage', 150],
      ['config.instructionsImage', 370],
      ['config.productManuals.0.image', null],
      ['config.homeBottomImage', null],
      ['config.doorLockTopImage', null],
    ]);
    expect(imageRefs({ kind: 'lowcode', config: exampleLowcodeConfig() })).toEqual([]);
  });

  test('a non-image or an unknown asset fails at the field; a pixel over the suggested width only warns', () => {
    const refs = imageRefs(iotApp());
    expect(checkImages(refs, allAssets)).toEqual([]);
    expect(imageWarnings(refs, allAssets)).toEqual([]);
    const assets = new Map(allAssets);
    assets.set('ast_appdownloadqr', png(151));
    assets.set('ast_instructions', png(371));
    assets.set('ast_cameramanual', { kind: 'upload', type: 'application/pdf', width: 0 });
    assets.delete('ast_doorlocktop');
    expect(checkImages(refs, assets)).toEqual([
      { path: 'config.productManuals.0.image', message: expect.stringContaining('application/pdf') },
      { path: 'config.doorLockTopImage', message: 'asset ast_doorlocktop does not exist' },
    ]);
    expect(imageWarnings(refs, assets)).toEqual([
      {
        path: 'config.afterSales.appDownloadQrImage',
        code: 'IMAGE_WIDER_THAN_SUGGESTED',
        params: { width: 151, suggestedMaxWidth: 150 },
        message: expect.stringContaining('151 px wide and the IoT Video template suggests at most 150 px'),
      },
      {
        path: 'config.instructionsImage',
        code: 'IMAGE_WIDER_THAN_SUGGESTED',
        params: { width: 371, suggestedMaxWidth: 370 },
        message: expect.stringContaining('371 px wide and the IoT Video template suggests at most 370 px'),
      },
    ]);
  });

  test('an experience QR code is no image a config may use, whatever its size: it is never served publicly', () => {
    const assets = new Map(allAssets);
    assets.set('ast_homebottom', { kind: 'qrcode', type: 'image/jpeg', width: 430 });
    expect(checkImages(imageRefs(iotApp()), assets)).toEqual([
      { path: 'config.homeBottomImage', message: expect.stringContaining('experience QR code') },
    ]);
    const decision = checkAppConfig(iotApp(), assets);
    expect(decision.ok ? null : decision.error.field).toBe('config.homeBottomImage');
  });

  test('checkAppConfig: a build-ready app is allowed; otherwise one ValidationError lists every issue', () => {
    expect(checkAppConfig(iotApp(), allAssets)).toEqual({ ok: true });
    const decision = checkAppConfig(iotApp(), new Map());
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.error).toBeInstanceOf(ValidationError);
    expect((decision.error as ValidationError).issues).toHaveLength(5);
    expect(decision.error.field).toBe('config.afterSales.appDownloadQrImage');
  });
});

describe('apps', () => {
  test('a new app is unlinked and stores as its schema says', () => {
    const app = iotApp();
    expect(app).toMatchObject({ miniProgramAppid: null, linkLostReason: null, createdAt: T0, updatedAt: T0 });
    expect(appSchema.parse(app)).toEqual(app);
  });

  test('create input: lowcode config defaults to an empty ext; the kind picks the config schema', () => {
    const lowcode = newAppInputSchema.parse({ kind: 'lowcode', name: 'Shop', templateId: 3 });
    expect(lowcode).toMatchObject({ config: { ext: {}, extPages: {} }, requiredPlugins: [] });
    const wrong = newAppInputSchema.safeParse({ kind: 'iot-video', name: 'Cam', templateId: 3, config: exampleLowcodeConfig() });
    expect(wrong.success).toBe(false);
  });

  test('lowcode config: page paths are checked', () => {
    expect(() => parseAppConfig('lowcode', { ...exampleLowcodeConfig(), pages: ['../etc/passwd'] })).toThrow(ValidationError);
    expect(parseAppConfig('lowcode', exampleLowcodeConfig())).toEqual(exampleLowcodeConfig());
  });

  /** The paths of the issues a lowcode config has, or [] when it parses. */
  const lowcodeIssues = (patch: Record<string, unknown>) => {
    try {
      parseAppConfig('lowcode', { ...exampleLowcodeConfig(), ...patch });
      return [];
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return error.issues.map((issue) => issue.path);
    }
  };

  test('lowcode requiredPrivateInfos: only the geolocation APIs WeChat knows, each once, never fuzzy with precise (85310/85311)', () => {
    expect(lowcodeIssues({ requiredPrivateInfos: ['getLocation', 'chooseLocation', 'chooseAddress'] })).toEqual([]);
    expect(lowcodeIssues({ requiredPrivateInfos: ['getFuzzyLocation', 'choosePoi'] })).toEqual([]);
    expect(lowcodeIssues({ requiredPrivateInfos: ['getLocation', 'getUserLocation'] })).toEqual(['config.requiredPrivateInfos.1']);
    expect(lowcodeIssues({ requiredPrivateInfos: ['chooseAddress', 'chooseAddress'] })).toEqual(['config.requiredPrivateInfos.1']);
    expect(lowcodeIssues({ requiredPrivateInfos: ['getFuzzyLocation', 'getLocation'] })).toEqual(['config.requiredPrivateInfos.1']);
    expect(lowcodeIssues({ requiredPrivateInfos: ['startLocationUpdate', 'onLocationChange', 'getFuzzyLocation'] })).toEqual([
      'config.requiredPrivateInfos.0',
      'config.requiredPrivateInfos.1',
    ]);
  });

  test('lowcode tab bar and page overrides stay within the selected pages (85046/85045)', () => {
    const tabBar = {
      color: '#000000',
      list: [
        { pagePath: 'pages/index/index', text: '首页' },
        { pagePath: 'pages/me/me', text: '我的' },
      ],
    };
    expect(lowcodeIssues({ tabBar })).toEqual(['config.tabBar.list.1.pagePath']);
    expect(lowcodeIssues({ tabBar, pages: ['pages/index/index', 'pages/me/me'] })).toEqual([]);
    expect(lowcodeIssues({ extPages: { 'pages/gone/gone': { navigationBarTitleText: 'x' } } })).toEqual([
      'config.extPages.pages/gone/gone',
    ]);
    // Without `pages` the template's own list applies, which only WeChat knows.
    expect(lowcodeIssues({ pages: undefined, tabBar, extPages: { 'pages/gone/gone': {} } })).toEqual([]);
  });

  test('a stored lowcode app saved before these rules still reads back; its build is refused, naming the field', () => {
    const app = newApp(
      {
        kind: 'lowcode',
        name: 'Old',
        templateId: 3,
        requiredPlugins: [],
        config: { ...exampleLowcodeConfig(), requiredPrivateInfos: ['getLocation', 'getLocation'] },
      },
      { id: 'app_old', accountId: 'acc_demo' },
      T0,
    );
    expect(appSchema.parse(app)).toEqual(app);
    const decision = checkAppConfig(app, new Map());
    expect(decision.ok ? null : decision.error.field).toBe('config.requiredPrivateInfos.1');
  });

  test('withConfig validates against the app kind and keeps the kind', () => {
    const app = iotApp();
    expect(withConfig(app, resetTheme(app.config as IotVideoConfig), T0 + 1)).toMatchObject({
      kind: 'iot-video',
      config: { theme: {} },
      updatedAt: T0 + 1,
    });
    expect(() => withConfig(app, exampleLowcodeConfig(), T0 + 1)).toThrow(ValidationError);
  });

  test('link and loss: the owner sees why the mini program went', () => {
    const linked = linkApp(iotApp(), 'wx0123456789abcdef', T0 + 1);
    const lost = unlinkApp(linked, { at: T0 + 2, reason: 'unbound', miniProgramAppid: 'wx0123456789abcdef', message: 'unbound' });
    expect(lost).toMatchObject({ miniProgramAppid: null, linkLostReason: { reason: 'unbound' }, updatedAt: T0 + 2 });
    expect(linkApp(lost, 'wx0123456789abcdef', T0 + 3).linkLostReason).toBeNull();
  });
});

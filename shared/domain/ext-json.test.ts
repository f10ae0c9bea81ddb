import { type App, newApp } from './app';
import { EXAMPLE_PRODUCT_IDS, exampleIotVideoConfig, exampleLowcodeConfig } from './examples';
import { buildExtJson, parseExtJson } from './ext-json';
import type { RequiredPlugin } from './plugins';

const T0 = 1_700_000_000_000;
const TARGET = 'wx0123456789abcdef';
const assetUrl = (id: string) => `https://assets.example.com/${id}`;
const p2p: RequiredPlugin = { appId: 'wx1319af22356934bf', alias: 'xp2p', version: '1.4.0', name: 'IoT Video P2P' };

const iot = (requiredPlugins: RequiredPlugin[] = [p2p]): App =>
  newApp(
    {
      kind: 'iot-video',
      name: 'Cam',
      templateId: 12,
      requiredPlugins,
      config: exampleIotVideoConfig(),
      productIds: [...EXAMPLE_PRODUCT_IDS],
    },
    { id: 'app_cam', accountId: 'acc_demo' },
    T0,
  );

describe('buildExtJson', () => {
  test('returns the JSON string WeChat wants: extAppid, ext, and every required plugin', () => {
    const extJson = buildExtJson(iot(), { extAppid: TARGET, assetUrl });
    expect(typeof extJson).toBe('string');
    const parsed = parseExtJson(extJson);
    expect(parsed).toMatchObject({
      extEnable: true,
      extAppid: TARGET,
      plugins: { xp2p: { version: '1.4.0', provider: 'wx1319af22356934bf' } },
    });
    expect(parsed?.ext).toMatchObject({
      appId: 'app_cam',
      kind: 'iot-video',
      productIds: ['K3LD6E2V9Q', 'P8WQ2M7ZXA'],
      mapKey: 'OB4BZ-D4W3U-B7VVO-4PJWW-6TKDJ-WPB77',
      reminders: exampleIotVideoConfig().reminders,
      afterSales: { phone: '400-800-1234', appDownloadQrUrl: 'https://assets.example.com/ast_appdownloadqr' },
      instructionsImageUrl: 'https://assets.example.com/ast_instructions',
      productManuals: [{ name: '智能摄像头 C1', imageUrl: 'https://assets.example.com/ast_cameramanual' }],
      theme: { mainColor: '#0052D9', secondaryColor: '#E8F3FF' },
      homeBottomImageUrl: 'https://assets.example.com/ast_homebottom',
      doorLockTopImageUrl: 'https://assets.example.com/ast_doorlocktop',
    });
  });

  test('left-out optional fields are left out; no plugins, no plugins key', () => {
    const app = iot([]);
    const minimal: App = {
      ...app,
      kind: 'iot-video',
      productIds: [],
      config: { ...exampleIotVideoConfig(), afterSales: {}, theme: {}, instructionsImage: undefined },
    };
    const parsed = parseExtJson(buildExtJson(minimal, { extAppid: TARGET, assetUrl }));
    expect(parsed).not.toHaveProperty('plugins');
    expect(parsed?.ext).toMatchObject({ afterSales: {}, theme: {} });
    expect(parsed?.ext).not.toHaveProperty('instructionsImageUrl');
  });

  test('lowcode: ext, extPages, pages and window come from the config', () => {
    const app = newApp(
      { kind: 'lowcode', name: 'Shop', templateId: 3, requiredPlugins: [], config: exampleLowcodeConfig() },
      { id: 'app_shop', accountId: 'acc_demo' },
      T0,
    );
    expect(parseExtJson(buildExtJson(app, { extAppid: TARGET, assetUrl }))).toEqual({
      extEnable: true,
      extAppid: TARGET,
      ...exampleLowcodeConfig(),
    });
  });

  test('parseExtJson: only a JSON object reads back', () => {
    expect(parseExtJson('[]')).toBeNull();
    expect(parseExtJson('{')).toBeNull();
  });
});

/**
 * Complete, valid examples, shared by the tests, the demo and the API documentation, so that all three show a
 * config the way a real customer fills in the IoT Video console form (seed 003 §5.1–5.2).
 */
import type { IotVideoConfig, LowcodeConfig } from './app';
import type { DeploymentCommand, NewDeployment } from './deployment';
import type { AssetId } from './ids';

export interface IotVideoImages {
  readonly appDownloadQr: AssetId;
  readonly instructions: AssetId;
  readonly manual: AssetId;
  readonly homeBottom: AssetId;
  readonly doorLockTop: AssetId;
}

export const exampleIotVideoConfig = (
  images: IotVideoImages = {
    appDownloadQr: 'ast_appdownloadqr',
    instructions: 'ast_instructions',
    manual: 'ast_cameramanual',
    homeBottom: 'ast_homebottom',
    doorLockTop: 'ast_doorlocktop',
  },
): IotVideoConfig => ({
  mapKey: 'OB4BZ-D4W3U-B7VVO-4PJWW-6TKDJ-WPB77',
  reminders: [
    {
      category: 'camera',
      defaultProductId: 'K3LD6E2V9Q',
      modelId: 'DYEbVCrZ8i7ZfqGtNd5eZw',
      messageTemplateId: 'Ooz9KvUJ7x3Z2kQbW1mR5yTnC8dLfHgA0sPqEiVu4oM',
    },
    {
      category: 'doorLock',
      defaultProductId: 'P8WQ2M7ZXA',
      modelId: 'Lk2-Ux9QmT_4vRb8cNz1aw',
      messageTemplateId: 'Xy7pLm2Nq9Rs4Tv6Wb8Zc1Df3Gh5Jk0Am2Bn4Cp6Dq8',
    },
  ],
  afterSales: {
    phone: '400-800-1234',
    feedbackGuide: '请描述问题现象、设备型号和发生时间，我们会在 24 小时内回复。',
    appDownloadQrImage: images.appDownloadQr,
  },
  instructionsImage: images.instructions,
  productManuals: [{ name: '智能摄像头 C1', image: images.manual }],
  theme: { mainColor: '#0052D9', secondaryColor: '#E8F3FF' },
  homeBottomImage: images.homeBottom,
  doorLockTopImage: images.doorLockTop,
});

/** The products the example's reminders name, linked to the app as seed 003 step 3 does. */
export const EXAMPLE_PRODUCT_IDS: readonly string[] = ['K3LD6E2V9Q', 'P8WQ2M7ZXA'];

export const exampleLowcodeConfig = (): LowcodeConfig => ({
  ext: { apiBaseUrl: 'https://api.example.com', shopName: '示例小店' },
  extPages: { 'pages/index/index': { navigationBarTitleText: '首页' } },
  pages: ['pages/index/index', 'pages/cart/cart'],
  window: { navigationBarBackgroundColor: '#ffffff' },
});

/**
 * The commands a successful build applies, in the pipeline's order (commit → privacy guide → domains → QR → testers):
 * one list for every test and benchmark that seeds a built deployment, so a new build step is added once.
 */
export const commandsToBuilt = (qrAssetId: AssetId, boundTesters: readonly string[] = []): DeploymentCommand[] => [
  { type: 'startBuild' },
  { type: 'buildCommitted' },
  { type: 'privacyGuideSet' },
  { type: 'domainsSet' },
  { type: 'qrStored', qrAssetId },
  { type: 'buildSucceeded', boundTesters: [...boundTesters] },
];

/**
 * A deployment's history from creation to `released` with no detour, as `from→to`: one build entry per build step,
 * then one per phase. The tests that walk the product flow expect this; a new build step changes it here once.
 */
export const BUILT_WALK = [
  'configuring→building',
  'building→building',
  'building→building',
  'building→building',
  'building→building',
  'building→built',
] as const;
export const RELEASED_WALK = [
  ...BUILT_WALK,
  'built→submitting',
  'submitting→auditing',
  'auditing→approved',
  'approved→releasing',
  'releasing→released',
] as const;

/** `history` as `from→to` steps, to compare with a walk above. */
export const walkOf = (history: readonly { from: string; to: string }[]): string[] => history.map((h) => `${h.from}→${h.to}`);

/** A new deployment of the demo account's app (template 7, version 1.0.0) to its mini program; `overrides` change it. */
export const exampleNewDeployment = (overrides: Partial<NewDeployment> = {}): NewDeployment => ({
  id: 'dep_test',
  accountId: 'acc_demo',
  appId: 'app_demo',
  miniProgramAppid: 'wx0123456789abcdef',
  templateId: 7,
  userVersion: '1.0.0',
  userDesc: '',
  extJson: '{}',
  testers: [],
  ...overrides,
});

/**
 * The `ext_json` of `/wxa/commit` (reference §4.2): a JSON *string*, whose `extAppid` makes the template's code
 * run as the target mini program and whose `ext` the code reads with `wx.getExtConfigSync()`. `plugins` replaces
 * the template's list wholesale, so every plugin the app needs is listed.
 *
 * The deployment stores the string it was built with, so a build resumed by the poller commits the same code
 * even if the app's config changed in between.
 */
import type { App, IotVideoConfig, LowcodeConfig } from './app';
import type { AssetId, WeChatAppid } from './ids';
import type { RequiredPlugin } from './plugins';

export interface ExtJsonOptions {
  /** The mini program the code is committed to. */
  readonly extAppid: WeChatAppid;
  /** Where the mini program downloads an uploaded image (its URL must be on a registered download domain). */
  readonly assetUrl: (assetId: AssetId) => string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const pluginsOf = (plugins: readonly RequiredPlugin[]): Record<string, { version: string; provider: string }> =>
  Object.fromEntries(plugins.map((p) => [p.alias, { version: p.version, provider: p.appId }]));

// Left-out fields stay out (JSON.stringify drops undefined): the template shows nothing, or its default.
const iotVideoExt = (
  app: Extract<App, { kind: 'iot-video' }>,
  config: IotVideoConfig,
  url: (id: AssetId | undefined) => string | undefined,
) => ({
  appId: app.id,
  kind: app.kind,
  /** The linked products: the mini program lets users add devices of these by hand (seed 003 step 3). */
  productIds: [...app.productIds],
  mapKey: config.mapKey,
  reminders: config.reminders.map((r) => ({ ...r })),
  afterSales: {
    phone: config.afterSales.phone,
    feedbackGuide: config.afterSales.feedbackGuide,
    appDownloadQrUrl: url(config.afterSales.appDownloadQrImage),
  },
  instructionsImageUrl: url(config.instructionsImage),
  productManuals: config.productManuals.map((m) => ({ name: m.name, imageUrl: url(m.image) })),
  theme: { ...config.theme },
  homeBottomImageUrl: url(config.homeBottomImage),
  doorLockTopImageUrl: url(config.doorLockTopImage),
});

const lowcodeFields = (config: LowcodeConfig) => ({
  ext: config.ext,
  extPages: config.extPages,
  pages: config.pages,
  window: config.window,
  tabBar: config.tabBar,
  requiredPrivateInfos: config.requiredPrivateInfos,
});

export const buildExtJson = (app: App, options: ExtJsonOptions): string => {
  const url = (id: AssetId | undefined) => (id === undefined ? undefined : options.assetUrl(id));
  const fields = app.kind === 'iot-video' ? { ext: iotVideoExt(app, app.config, url) } : lowcodeFields(app.config);
  const extJson = {
    extEnable: true,
    extAppid: options.extAppid,
    ...fields,
    ...(app.requiredPlugins.length > 0 ? { plugins: pluginsOf(app.requiredPlugins) } : {}),
  };
  return JSON.stringify(extJson);
};

/** Reads an ext_json string back (for display and tests); null if it is not a JSON object. */
export const parseExtJson = (extJson: string): Record<string, Json> | null => {
  try {
    const value: unknown = JSON.parse(extJson);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, Json>) : null;
  } catch {
    return null;
  }
};

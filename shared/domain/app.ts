/**
 * Apps: what an account publishes. Two kinds, from the two seeds:
 * - `lowcode` (seed 000, WeDa): the template carries the code, the config fills its `ext_json` (ext fields,
 *   pages, window, tab bar).
 * - `iot-video` (seed 003, IoT Video console): a fixed template configured by the form of §5.1–5.2, every field
 *   of which is here.
 *
 * Images are never stored in a config, only asset ids: the bytes live in `assets`, uploaded once, and a width
 * limit is checked against the asset's metadata by `checkImages` (the schema cannot see the asset).
 *
 * The schemas are `z.lazy`: built on their first parse rather than at every cold start's import (`lazyTarget` in
 * common.ts gives the built schema, to derive another from it).
 */

import type { AppKind } from './app-kind';
import { ALLOWED, type Decision, fieldIssues, refused } from './common';
import { type FieldIssue, ValidationError } from './errors';
import type { AccountId, AppId, AssetId, WeChatAppid } from './ids';
import { accountIdSchema, appIdSchema, assetIdSchema, timestampSchema, weChatAppidSchema } from './ids';
import { APP_DOWNLOAD_QR_SUGGESTED_WIDTH, INSTRUCTIONS_IMAGE_SUGGESTED_WIDTH, IOT_VIDEO_THEME_DEFAULTS } from './iot-video-template';
import { requiredPluginsSchema } from './plugins';
import { privacyGuideSchema } from './privacy-guide';
import { serverDomainsSchema } from './server-domains';
import { ugcDeclarationSchema } from './ugc-declaration';
import * as z from './zod';

export { APP_KINDS, type AppKind, appKindSchema } from './app-kind';
// Kept in a zod-free module for the console; exported here as before.
export { APP_DOWNLOAD_QR_SUGGESTED_WIDTH, INSTRUCTIONS_IMAGE_SUGGESTED_WIDTH, IOT_VIDEO_THEME_DEFAULTS };

// ---------------------------------------------------------------------------------------------------------
// What every kind's config carries for WeChat's go-live rules (privacy-guide.ts, server-domains.ts)

const publishingFields = () => ({
  /** The user privacy guide WeChat shows; set on every build and before every submit. */
  privacyGuide: z.optional(privacyGuideSchema),
  /** Domains the code reaches besides the asset host; set on the mini program by every build. */
  serverDomains: z.optional(serverDomainsSchema),
  /** The UGC declaration every submit carries (ugc-declaration.ts): WeChat needs it on a social category's first submit. */
  ugcDeclaration: z.optional(ugcDeclarationSchema),
});

// ---------------------------------------------------------------------------------------------------------
// iot-video (seed 003 §5.1–5.2)

/** A Tencent Location Service key (地图选点应用 key): six groups of five, e.g. `OB4BZ-D4W3U-B7VVO-4PJWW-6TKDJ-WPB77`. */
const mapKey = z.string().check(z.regex(/^[A-Z0-9]{5}(-[A-Z0-9]{5}){5}$/, 'a map key looks like XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX'));
/** IoT Video product ids are ten upper-case letters or digits. */
const productId = z.string().check(z.regex(/^[A-Z0-9]{10}$/, 'a product id is 10 upper-case letters or digits'));
const token = (what: string, min = 1) =>
  z.string().check(z.regex(new RegExp(`^[A-Za-z0-9_-]{${min},64}$`), `${what} is ${min}–64 letters, digits, - or _`));
const colour = z.string().check(z.regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #RRGGBB'));
/** 5–20 digits, single separators allowed: `400-800-1234`, `010-12345678`, `+86 138 0000 0000`. */
const phone = z.string().check(z.regex(/^\+?(\d[ -]?){4,19}\d$/, 'a phone number is 5–20 digits, optionally separated by spaces or -'));

export const REMINDER_CATEGORIES = ['camera', 'doorLock'] as const;

/** 强提醒消息配置, one entry per selected category: each category has its own product, model_id and template. */
export const reminderSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    category: z.enum(REMINDER_CATEGORIES),
    /** 默认产品 ID: a product created under this category in step 2 of the seed. */
    defaultProductId: productId,
    /** model_id added for this category in the mini program's admin console. */
    modelId: token('a model_id'),
    /** 消息模板 id subscribed in the mini program's admin console; a wrong one silently loses every reminder. */
    messageTemplateId: token('a message template id', 8),
  }),
);
export type Reminder = z.infer<typeof reminderSchema>;

export const iotVideoConfigSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    /** 基础配置 · 家庭位置应用 key. */
    mapKey,
    /** 强提醒消息配置 · 产品品类 (camera and/or door lock, multi-select). */
    reminders: z.array(reminderSchema).check(
      z.minLength(1, 'choose at least one reminder category'),
      z.maxLength(REMINDER_CATEGORIES.length),
      z.superRefine((reminders, ctx) => {
        const seen = new Set<string>();
        reminders.forEach((reminder, index) => {
          if (seen.has(reminder.category)) {
            ctx.addIssue({ code: 'custom', path: [index, 'category'], message: `category ${reminder.category} is listed twice` });
          }
          seen.add(reminder.category);
        });
      }),
    ),
    /** 售后与反馈: every field optional; what is left out is not shown in the mini program. */
    afterSales: z._default(
      z.strictObject({
        phone: z.optional(phone),
        feedbackGuide: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(500))),
        /** App 下载二维码, 150 px wide suggested (wider is warned about). */
        appDownloadQrImage: z.optional(assetIdSchema),
      }),
      {},
    ),
    /** 小程序使用说明书, 370 px wide suggested (wider is warned about). */
    instructionsImage: z.optional(assetIdSchema),
    /** 产品使用说明: one manual per hardware product. */
    productManuals: z._default(
      z
        .array(z.strictObject({ name: z.string().check(z.trim(), z.minLength(1), z.maxLength(32)), image: assetIdSchema }))
        .check(z.maxLength(20)),
      [],
    ),
    /** 小程序主题配色: a colour left out is the template's default ("重置" removes it, see `resetTheme`). */
    theme: z._default(z.strictObject({ mainColor: z.optional(colour), secondaryColor: z.optional(colour) }), {}),
    /** 首页底部图片 (replaces the template's). */
    homeBottomImage: z.optional(assetIdSchema),
    /** 门锁顶部图片 (replaces the template's). */
    doorLockTopImage: z.optional(assetIdSchema),
    ...publishingFields(),
  }),
);
export type IotVideoConfig = z.infer<typeof iotVideoConfigSchema>;

export type ThemeColour = keyof IotVideoConfig['theme'];

/** The colours the mini program shows: the config's, and the template's where the config has none. */
export const effectiveTheme = (config: IotVideoConfig): Required<IotVideoConfig['theme']> => ({
  ...IOT_VIDEO_THEME_DEFAULTS,
  ...config.theme,
});

/**
 * IoT Video products linked to the app (seed 003 step 3: "关联在步骤2中创建的产品"; without them devices cannot be
 * added by hand in the mini program). At most 100, each once.
 */
export const linkedProductIdsSchema = /* @__PURE__ */ z.lazy(() =>
  z.array(productId).check(
    z.maxLength(100),
    z.refine((ids) => new Set(ids).size === ids.length, 'a product is listed twice'),
  ),
);

/** 重置: back to the template's colours, one or both. */
export const resetTheme = (config: IotVideoConfig, colours: readonly ThemeColour[] = ['mainColor', 'secondaryColor']): IotVideoConfig => {
  const theme = { ...config.theme };
  for (const name of colours) delete theme[name];
  return { ...config, theme };
};

// ---------------------------------------------------------------------------------------------------------
// lowcode (seed 000): what the template's ext_json may carry (reference §4.2)

const jsonObject = z.record(z.string(), z.json());
const pagePath = z.string().check(z.regex(/^[\w-]+(\/[\w-]+)*$/, 'a page path looks like pages/index/index'));

/** The geolocation APIs `requiredPrivateInfos` may name; anything else WeChat refuses at commit (85310). */
export const PRIVATE_INFO_APIS = [
  'getFuzzyLocation',
  'getLocation',
  'onLocationChange',
  'startLocationUpdate',
  'startLocationUpdateBackground',
  'chooseLocation',
  'choosePoi',
  'chooseAddress',
] as const;
export type PrivateInfoApi = (typeof PRIVATE_INFO_APIS)[number];

/**
 * The fuzzy location cannot be declared with any precise one (WeChat: 85311 at commit, "互斥"): a code either
 * knows where the user roughly is or tracks them precisely.
 */
const EXCLUSIVE_WITH_FUZZY: readonly PrivateInfoApi[] = [
  'getLocation',
  'onLocationChange',
  'startLocationUpdate',
  'startLocationUpdateBackground',
];

const isPrivateInfoApi = (name: string): name is PrivateInfoApi => (PRIVATE_INFO_APIS as readonly string[]).includes(name);

// Strings checked against the list rather than an enum: the input parses to the stored type (`string[]`), which a
// config saved before the list existed has too.
const requiredPrivateInfos = () =>
  z.array(z.string()).check(
    z.superRefine((apis, ctx) => {
      apis.forEach((api, index) => {
        if (!isPrivateInfoApi(api)) {
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `${api} is not a geolocation API WeChat knows (85310); one of ${PRIVATE_INFO_APIS.join(', ')}`,
          });
        } else if (apis.indexOf(api) !== index) {
          ctx.addIssue({ code: 'custom', path: [index], message: `${api} is listed twice` });
        } else if (EXCLUSIVE_WITH_FUZZY.includes(api) && apis.includes('getFuzzyLocation')) {
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `${api} cannot be declared together with getFuzzyLocation (WeChat 85311): choose one`,
          });
        }
      });
    }),
  );

const lowcodeFields = () => ({
  /** Custom fields the template reads with `wx.getExtConfigSync()`. */
  ext: z._default(jsonObject, {}),
  /** Per-page overrides, merged key by key into the template's. */
  extPages: z._default(z.record(pagePath, jsonObject), {}),
  /** A subset of the template's pages; left out = all of them. */
  pages: z.optional(z.array(pagePath).check(z.minLength(1))),
  window: z.optional(jsonObject),
  tabBar: z.optional(jsonObject),
  /** Geolocation APIs the code uses; without them submit fails with 61040. */
  requiredPrivateInfos: z.optional(z.array(z.string().check(z.minLength(1)))),
  ...publishingFields(),
});

/**
 * A lowcode config as stored. Lenient on purpose: a config saved before a rule was added must still read back (a
 * stricter schema here would turn an old app into a corrupt document); a build checks it with the input schema.
 */
export const storedLowcodeConfigSchema = /* @__PURE__ */ z.lazy(() => z.strictObject(lowcodeFields()));
export type LowcodeConfig = z.infer<typeof storedLowcodeConfigSchema>;

/** The `pagePath` of each tab, where the tab bar has a list of objects carrying one. */
const tabPagePaths = (tabBar: Record<string, unknown> | undefined): { index: number; pagePath: string }[] => {
  const list = tabBar?.list;
  if (!Array.isArray(list)) return [];
  return list.flatMap((tab: unknown, index) => {
    const pagePath = typeof tab === 'object' && tab !== null ? (tab as Record<string, unknown>).pagePath : undefined;
    return typeof pagePath === 'string' ? [{ index, pagePath }] : [];
  });
};

/**
 * A lowcode config as a frontend sends it, checked for what WeChat would refuse at commit — once the build has
 * started, where all the user can do is cancel: unknown, repeated or exclusive `requiredPrivateInfos` (85310/85311)
 * and, when `pages` selects the pages, a tab or a page override outside them (85046/85045). Without `pages` the
 * template's own list applies, which only WeChat knows.
 */
export const lowcodeConfigSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({ ...lowcodeFields(), requiredPrivateInfos: z.optional(requiredPrivateInfos()) }).check(
    z.superRefine((config, ctx) => {
      if (config.pages === undefined) return;
      const pages = new Set(config.pages);
      for (const { index, pagePath } of tabPagePaths(config.tabBar)) {
        if (!pages.has(pagePath))
          ctx.addIssue({
            code: 'custom',
            path: ['tabBar', 'list', index, 'pagePath'],
            message: `${pagePath} is not one of pages (WeChat 85046)`,
          });
      }
      for (const page of Object.keys(config.extPages)) {
        if (!pages.has(page))
          ctx.addIssue({ code: 'custom', path: ['extPages', page], message: `${page} is not one of pages (WeChat 85045)` });
      }
    }),
  ),
);

export type AppConfig = IotVideoConfig | LowcodeConfig;

// ---------------------------------------------------------------------------------------------------------
// The app document

/** Why an app no longer has its mini program; shown to the app's owner. */
export const linkLossSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    at: timestampSchema,
    reason: z.enum(['superseded', 'unbound', 'unauthorized']),
    miniProgramAppid: weChatAppidSchema,
    /** The app that took the mini program over, only when it belongs to the same account. */
    byAppId: z.optional(appIdSchema),
    message: z.string(),
  }),
);
export type LinkLoss = z.infer<typeof linkLossSchema>;

/** A label an account puts on its apps, for rollouts to select by: lower-case letters, digits, `.`, `_`, `:`, `-`. */
export const appLabelSchema = z
  .string()
  .check(
    z.regex(/^[a-z0-9][a-z0-9._:-]{0,62}$/, 'a label is 1–63 lower-case letters, digits, ., _, : or -, starting with a letter or digit'),
  );

/** Built on first use, with the app schemas that spread it (not at import). */
const appFields = /* @__PURE__ */ z.builtOnFirstUse(() => ({
  id: appIdSchema,
  accountId: accountIdSchema,
  name: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
  /** The WeChat code template (`/wxa/gettemplatelist` template_id) the app is built from. */
  templateId: z.number().check(z.int(), z.nonnegative()),
  requiredPlugins: z._default(requiredPluginsSchema, []),
  miniProgramAppid: z.nullable(weChatAppidSchema),
  linkLostReason: z.nullable(linkLossSchema),
  /** Labels the account puts on the app, for rollouts to select by (issue 15). */
  labels: z._default(z.array(appLabelSchema).check(z.maxLength(20)), []),
  /** Whether the platform admin may roll new template versions out to this app; the account's choice, off by default. */
  platformManagedUpdates: z._default(z.boolean(), false),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
}));

export const appSchema = /* @__PURE__ */ z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.object({ ...appFields(), kind: z.literal('lowcode'), config: storedLowcodeConfigSchema }),
    z.object({
      ...appFields(),
      kind: z.literal('iot-video'),
      config: iotVideoConfigSchema,
      productIds: z._default(linkedProductIdsSchema, []),
    }),
  ]),
);
export type App = z.infer<typeof appSchema>;

/** What a frontend sends to create an app. */
export const newAppInputSchema = /* @__PURE__ */ z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('lowcode'),
      name: appFields().name,
      templateId: appFields().templateId,
      requiredPlugins: appFields().requiredPlugins,
      config: z._default(lowcodeConfigSchema, { ext: {}, extPages: {} }),
    }),
    z.object({
      kind: z.literal('iot-video'),
      name: appFields().name,
      templateId: appFields().templateId,
      requiredPlugins: appFields().requiredPlugins,
      config: iotVideoConfigSchema,
      productIds: z._default(linkedProductIdsSchema, []),
    }),
  ]),
);
export type NewAppInput = z.infer<typeof newAppInputSchema>;

export const newApp = (input: NewAppInput, ids: { id: AppId; accountId: AccountId }, at: number): App => ({
  ...input,
  ...ids,
  miniProgramAppid: null,
  linkLostReason: null,
  labels: [],
  platformManagedUpdates: false,
  createdAt: at,
  updatedAt: at,
});

/** A kind with its config, narrowed together. */
export type KindedConfig = { kind: 'lowcode'; config: LowcodeConfig } | { kind: 'iot-video'; config: IotVideoConfig };

const configSchemaOf = (kind: AppKind) => (kind === 'iot-video' ? iotVideoConfigSchema : lowcodeConfigSchema);

/**
 * Every mistake in an app's config is one kind, `APP_CONFIG_INVALID` (a colour, an image, a missing field alike),
 * said in one sentence: the first field and what is wrong with it; `issues` lists them all.
 */
export const configInvalid = (issues: readonly FieldIssue[]): ValidationError => {
  const first = issues[0];
  return new ValidationError(first ? `${first.path}: ${first.message}` : 'the config is invalid', issues, { code: 'APP_CONFIG_INVALID' });
};

const parseWith = <S extends z.ZodMiniType>(schema: S, input: unknown): z.output<S> => {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw configInvalid(fieldIssues(parsed.error, 'config'));
  return parsed.data;
};

/** Validates a config for an app kind; every bad field is reported under `config.<path>`. */
export const parseAppConfig = (kind: AppKind, input: unknown): AppConfig => parseWith(configSchemaOf(kind), input);

/**
 * Reads a new app as sent: a mistake in its config is `APP_CONFIG_INVALID` (as when the config is replaced later),
 * any other `INVALID_BODY`; paths are relative to the body (`config.theme.mainColor`, `name`).
 */
export const parseNewApp = (input: unknown): NewAppInput => {
  const parsed = newAppInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = fieldIssues(parsed.error, '');
  const first = issues[0];
  if (first && (first.path === 'config' || first.path.startsWith('config.'))) throw configInvalid(issues);
  throw new ValidationError(first ? `${first.path}: ${first.message}` : 'invalid app', issues, { code: 'INVALID_BODY' });
};

/** Replaces the config; the kind never changes (a different kind is a different template, so a new app). */
export const withConfig = (app: App, input: unknown, at: number): App =>
  app.kind === 'iot-video'
    ? { ...app, config: parseWith(iotVideoConfigSchema, input), updatedAt: at }
    : { ...app, config: parseWith(lowcodeConfigSchema, input), updatedAt: at };

export const linkApp = (app: App, miniProgramAppid: WeChatAppid, at: number): App => ({
  ...app,
  miniProgramAppid,
  linkLostReason: null,
  updatedAt: at,
});

export const unlinkApp = (app: App, loss: LinkLoss): App => ({ ...app, miniProgramAppid: null, linkLostReason: loss, updatedAt: loss.at });

// ---------------------------------------------------------------------------------------------------------
// Images

/** What `checkImages` needs to know of an uploaded asset. */
export interface AssetMeta {
  /**
   * `upload`: an image the account uploaded. `qrcode`: an experience QR a build stored — it opens unreleased code, so
   * it is never served publicly and a mini program could not download it.
   */
  readonly kind: 'upload' | 'qrcode';
  readonly type: string;
  readonly width: number;
}

export const IMAGE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/gif'];

export interface ImageRef {
  /** Field path, as in validation errors. */
  readonly path: string;
  readonly assetId: AssetId;
  /** Widest the template suggests, in px; null = any width. */
  readonly suggestedMaxWidth: number | null;
}

/** Every image the app's config points at, with its limit: the assets a build must load and check. */
export const imageRefs = (app: KindedConfig): ImageRef[] => {
  if (app.kind !== 'iot-video') return [];
  const { config } = app;
  const refs: ImageRef[] = [];
  const add = (path: string, assetId: AssetId | undefined, suggestedMaxWidth: number | null) => {
    if (assetId !== undefined) refs.push({ path: `config.${path}`, assetId, suggestedMaxWidth });
  };
  add('afterSales.appDownloadQrImage', config.afterSales.appDownloadQrImage, APP_DOWNLOAD_QR_SUGGESTED_WIDTH);
  add('instructionsImage', config.instructionsImage, INSTRUCTIONS_IMAGE_SUGGESTED_WIDTH);
  config.productManuals.forEach((manual, index) => {
    add(`productManuals.${index}.image`, manual.image, null);
  });
  add('homeBottomImage', config.homeBottomImage, null);
  add('doorLockTopImage', config.doorLockTopImage, null);
  return refs;
};

/** Checks each referenced asset exists (among the account's) and is an uploaded image; widths only warn. */
export const checkImages = (refs: readonly ImageRef[], assets: ReadonlyMap<string, AssetMeta>): FieldIssue[] =>
  refs.flatMap((ref): FieldIssue[] => {
    const asset = assets.get(ref.assetId);
    if (!asset) return [{ path: ref.path, message: `asset ${ref.assetId} does not exist` }];
    if (asset.kind !== 'upload') {
      return [
        {
          path: ref.path,
          message: `asset ${ref.assetId} is an experience QR code, not an uploaded image: upload the image (POST /v1/assets) and use its id`,
        },
      ];
    }
    if (!IMAGE_TYPES.includes(asset.type)) {
      return [{ path: ref.path, message: `asset ${ref.assetId} is ${asset.type}, not a PNG, JPEG or GIF image` }];
    }
    return [];
  });

/** The warnings an app can carry, by a stable code: a client words them in its reader's language from the code and params. */
export const APP_WARNING_CODES = ['IMAGE_WIDER_THAN_SUGGESTED', 'NO_PRODUCT_LINKED', 'REMINDER_PRODUCT_NOT_LINKED'] as const;
export type AppWarningCode = (typeof APP_WARNING_CODES)[number];

/** Accepted, but worth fixing: at a field (`path`), with the English `message` and the figures it is made of. */
export interface AppWarning extends FieldIssue {
  readonly code: AppWarningCode;
  readonly params: Readonly<Record<string, string | number>>;
}

/** What a user should know about images that are accepted all the same: wider than the template suggests. */
export const imageWarnings = (refs: readonly ImageRef[], assets: ReadonlyMap<string, AssetMeta>): AppWarning[] =>
  refs.flatMap((ref): AppWarning[] => {
    const width = assets.get(ref.assetId)?.width;
    if (ref.suggestedMaxWidth === null || width === undefined || width <= ref.suggestedMaxWidth) return [];
    return [
      {
        path: ref.path,
        code: 'IMAGE_WIDER_THAN_SUGGESTED',
        params: { width, suggestedMaxWidth: ref.suggestedMaxWidth },
        message: `the image is ${width} px wide and the IoT Video template suggests at most ${ref.suggestedMaxWidth} px: it is accepted, but the mini program may show it scaled down`,
      },
    ];
  });

/** Everything a build checks about the app itself before touching WeChat: its config and its images. */
export const checkAppConfig = (app: App, assets: ReadonlyMap<string, AssetMeta>): Decision => {
  const parsed = configSchemaOf(app.kind).safeParse(app.config);
  const issues = parsed.success ? checkImages(imageRefs(app), assets) : fieldIssues(parsed.error, 'config');
  return issues.length === 0 ? ALLOWED : refused(configInvalid(issues));
};

/** The geolocation APIs the app's next build declares (`requiredPrivateInfos` of its ext_json; iot-video: none). */
export const declaredPrivateInfosOf = (app: App): readonly string[] =>
  app.kind === 'lowcode' ? (app.config.requiredPrivateInfos ?? []) : [];

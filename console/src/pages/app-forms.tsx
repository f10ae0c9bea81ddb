/**
 * The app configuration forms: the IoT Video form of seed 003 §5.1–5.2 field by field, and the low-code app's
 * ext and required plugins (seed 000). A draft holds what is typed; `toIotConfig` turns it into the API's input.
 * Errors come only from the API, keyed by field path (`config.mapKey`), and are shown next to their field.
 */
import { type ReactNode, useState } from 'react';
import { Button, Checkbox, Space, Tag } from 'tdesign-react';
import { APP_DOWNLOAD_QR_SUGGESTED_WIDTH, INSTRUCTIONS_IMAGE_SUGGESTED_WIDTH } from '../../../shared/domain/iot-video-template';
import type { AppView, AssetView, IotVideoConfigInput, LowcodeConfigInput, NewAppInput } from '../api';
import { type T, useT } from '../i18n';
import { Field, type FieldErrors, KeyedImage, TextField, TextInput, useSession, useSubmit } from '../ui';

type IotConfig = Extract<AppView, { kind: 'iot-video' }>['config'];
type Category = IotConfig['reminders'][number]['category'];
const CATEGORIES: readonly Category[] = ['camera', 'doorLock'];

export interface IotDraft {
  mapKey: string;
  reminders: Record<Category, { on: boolean; defaultProductId: string; modelId: string; messageTemplateId: string }>;
  phone: string;
  feedbackGuide: string;
  appDownloadQrImage: string;
  instructionsImage: string;
  productManuals: { name: string; image: string }[];
  mainColor: string;
  secondaryColor: string;
  homeBottomImage: string;
  doorLockTopImage: string;
  productIds: string;
}

const emptyReminder = { on: false, defaultProductId: '', modelId: '', messageTemplateId: '' };

export const iotDraftOf = (config: IotConfig | null, productIds: readonly string[] = []): IotDraft => {
  const reminder = (category: Category) => {
    const found = config?.reminders.find((r) => r.category === category);
    return found
      ? { on: true, defaultProductId: found.defaultProductId, modelId: found.modelId, messageTemplateId: found.messageTemplateId }
      : { ...emptyReminder };
  };
  return {
    mapKey: config?.mapKey ?? '',
    reminders: { camera: reminder('camera'), doorLock: reminder('doorLock') },
    phone: config?.afterSales.phone ?? '',
    feedbackGuide: config?.afterSales.feedbackGuide ?? '',
    appDownloadQrImage: config?.afterSales.appDownloadQrImage ?? '',
    instructionsImage: config?.instructionsImage ?? '',
    productManuals: config?.productManuals.map((m) => ({ ...m })) ?? [],
    mainColor: config?.theme.mainColor ?? '',
    secondaryColor: config?.theme.secondaryColor ?? '',
    homeBottomImage: config?.homeBottomImage ?? '',
    doorLockTopImage: config?.doorLockTopImage ?? '',
    productIds: productIds.join(', '),
  };
};

type AssetId = `ast_${string}`;
/** Image fields hold what an upload answered; anything else (nothing uploaded) is left out. */
const isAssetId = (value: string): value is AssetId => value.startsWith('ast_');
const optionalImage = <K extends string>(key: K, value: string): Partial<Record<K, AssetId>> =>
  isAssetId(value) ? ({ [key]: value } as Record<K, AssetId>) : {};

/** An empty text is "left out" (the template's default or nothing shown), never an empty string sent. */
const optional = <K extends string>(key: K, value: string): Partial<Record<K, string>> =>
  (value.trim() ? { [key]: value.trim() } : {}) as Partial<Record<K, string>>;

/** The config as the API takes it, and which category each sent reminder index is (errors name indexes). */
export function toIotConfig(
  draft: IotDraft,
  base: Pick<IotVideoConfigInput, 'privacyGuide' | 'serverDomains'> = {},
): { config: IotVideoConfigInput; reminderOrder: Category[] } {
  const reminderOrder = CATEGORIES.filter((category) => draft.reminders[category].on);
  return {
    reminderOrder,
    config: {
      ...base,
      mapKey: draft.mapKey.trim(),
      reminders: reminderOrder.map((category) => ({
        category,
        defaultProductId: draft.reminders[category].defaultProductId.trim(),
        modelId: draft.reminders[category].modelId.trim(),
        messageTemplateId: draft.reminders[category].messageTemplateId.trim(),
      })),
      afterSales: {
        ...optional('phone', draft.phone),
        ...optional('feedbackGuide', draft.feedbackGuide),
        ...optionalImage('appDownloadQrImage', draft.appDownloadQrImage),
      },
      ...optionalImage('instructionsImage', draft.instructionsImage),
      productManuals: draft.productManuals.map((m) => ({ name: m.name.trim(), image: isAssetId(m.image) ? m.image : 'ast_' })),
      theme: { ...optional('mainColor', draft.mainColor), ...optional('secondaryColor', draft.secondaryColor) },
      ...optionalImage('homeBottomImage', draft.homeBottomImage),
      ...optionalImage('doorLockTopImage', draft.doorLockTopImage),
    },
  };
}

export const productIdsOf = (draft: IotDraft): string[] =>
  draft.productIds
    .split(/[\s,，]+/)
    .map((id) => id.trim())
    .filter(Boolean);

/** Renames `config.reminders.<index>.x` to `config.reminders.<category>.x`, the way the form names its fields. */
export const byCategory = (errors: FieldErrors, order: readonly Category[]): Map<string, string> =>
  new Map(
    [...errors].map(([path, message]) => {
      const found = /^config\.reminders\.(\d+)(\..*)?$/.exec(path);
      const category = found ? order[Number(found[1])] : undefined;
      return [found && category ? `config.reminders.${category}${found[2] ?? ''}` : path, message];
    }),
  );

/** An image field: upload (PNG/JPEG/GIF), preview, its width against the seed's suggestion, and removal. */
function ImageField(props: {
  label: string;
  value: string;
  onChange(id: string): void;
  error?: string | undefined;
  suggestedWidth?: number;
  warning?: string | undefined;
  name: string;
}) {
  const t = useT();
  const { api } = useSession();
  const [uploaded, setUploaded] = useState<AssetView | null>(null);
  const { busy, error: uploadError, submit } = useSubmit();
  const upload = (file: File) =>
    submit(async () => {
      const asset = await api.call('upload', { body: file, contentType: file.type });
      setUploaded(asset);
      props.onChange(asset.id);
    });
  const width = uploaded && uploaded.id === props.value ? uploaded.width : undefined;
  const tooWide = props.suggestedWidth !== undefined && width !== undefined && width > props.suggestedWidth;
  const help = [
    props.suggestedWidth
      ? t(`建议宽度不超过 ${props.suggestedWidth}px`, `Suggested width: at most ${props.suggestedWidth} px`)
      : t('PNG、JPEG 或 GIF', 'PNG, JPEG or GIF'),
    width !== undefined ? t(`已上传：宽 ${width}px`, `Uploaded: ${width} px wide`) : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const warning = tooWide
    ? t(
        `图片宽 ${width}px，超过建议的 ${props.suggestedWidth}px：小程序中可能缩小显示。`,
        `The image is ${width} px wide, over the suggested ${props.suggestedWidth} px: the mini program may show it scaled down.`,
      )
    : props.warning;
  return (
    <Field label={props.label} error={props.error ?? uploadError ?? undefined} help={help}>
      {(id, describedBy) => (
        <div className="image-field" data-field={props.name}>
          {props.value ? (
            <KeyedImage
              endpoint="asset"
              params={{ assetId: props.value }}
              alt={t(`${props.label}预览`, `${props.label} preview`)}
              className="preview"
            />
          ) : (
            <span className="preview empty">{t('未上传', 'none')}</span>
          )}
          <div className="image-actions">
            <input
              id={id}
              aria-describedby={describedBy}
              type="file"
              accept="image/png,image/jpeg,image/gif"
              disabled={busy}
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                if (file) void upload(file);
              }}
            />
            {props.value ? (
              <Button size="small" variant="text" onClick={() => props.onChange('')}>
                {t('移除', 'Remove')}
              </Button>
            ) : null}
            {warning ? (
              <p className="warn-text" role="status">
                {warning}
              </p>
            ) : null}
          </div>
        </div>
      )}
    </Field>
  );
}

function ColourField(props: {
  label: string;
  value: string;
  fallback: string;
  onChange(value: string): void;
  onReset(): void;
  error?: string | undefined;
  name: string;
}) {
  const t = useT();
  const shown = props.value || props.fallback;
  return (
    <Field
      label={props.label}
      error={props.error}
      help={t(
        `模板默认：${props.fallback}${props.value ? '' : '（当前使用）'}`,
        `Template default: ${props.fallback}${props.value ? '' : ' (in use)'}`,
      )}
    >
      {(id, describedBy) => (
        <Space align="center" breakLine>
          <input
            type="color"
            className="colour-picker"
            aria-label={t(`${props.label}取色器`, `${props.label} picker`)}
            value={/^#[0-9a-fA-F]{6}$/.test(shown) ? shown : props.fallback}
            onChange={(e) => props.onChange(e.currentTarget.value.toUpperCase())}
          />
          <TextInput
            id={id}
            describedBy={describedBy}
            value={props.value}
            onChange={props.onChange}
            placeholder={props.fallback}
            name={props.name}
            invalid={!!props.error}
          />
          <Button size="small" variant="outline" onClick={props.onReset}>
            {t('重置', 'Reset')}
          </Button>
        </Space>
      )}
    </Field>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="form-section">
      <legend>{title}</legend>
      {children}
    </fieldset>
  );
}

/** Black or white, whichever reads better on the colour (WCAG relative luminance): the preview stays legible. */
const textOn = (hex: string): string => {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? '#000000' : '#ffffff';
};
const isColour = (value: string) => /^#[0-9a-fA-F]{6}$/.test(value);

const categoryText = (t: T, category: Category) => (category === 'camera' ? t('摄像头', 'Camera') : t('门锁', 'Door lock'));

/** Seed 003 §5.1 (小程序配置) and §5.2 (小程序 UI 配置). */
export function IotConfigForm(props: {
  draft: IotDraft;
  onChange(draft: IotDraft): void;
  errors: FieldErrors;
  warnings: ReadonlyMap<string, string>;
  themeDefaults: { mainColor: string; secondaryColor: string };
  onResetColour(colour: 'mainColor' | 'secondaryColor'): void;
}) {
  const t = useT();
  const { draft, errors } = props;
  const set = <K extends keyof IotDraft>(key: K, value: IotDraft[K]) => props.onChange({ ...draft, [key]: value });
  const text = (key: 'mapKey' | 'phone' | 'productIds', label: string, path: string, help?: string) => (
    <TextField label={label} error={errors.get(path)} help={help} value={draft[key]} onChange={(v) => set(key, v)} name={path} />
  );
  const setReminder = (category: Category, patch: Partial<IotDraft['reminders'][Category]>) =>
    set('reminders', { ...draft.reminders, [category]: { ...draft.reminders[category], ...patch } });
  const mainColor = draft.mainColor || props.themeDefaults.mainColor;
  const secondaryColor = draft.secondaryColor || props.themeDefaults.secondaryColor;
  const barColour = isColour(mainColor) ? mainColor : props.themeDefaults.mainColor;
  return (
    <div className="config-form">
      <Section title={t('基础配置', 'Basics')}>
        {text(
          'mapKey',
          t('家庭位置应用 key', 'Home location map key'),
          'config.mapKey',
          t(
            '创建地图选点应用时获取的 Key，如 XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX',
            'The key of the map location app, like XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX',
          ),
        )}
        {text(
          'productIds',
          t('关联产品 ID', 'Linked product ids'),
          'productIds',
          t(
            '逗号分隔；不关联则无法在小程序上手动添加设备',
            'Comma-separated; without them devices cannot be added by hand in the mini program',
          ),
        )}
      </Section>
      <Section title={t('强提醒消息配置', 'Reminder messages')}>
        <p className="muted">{t('产品品类（可多选）', 'Product categories (one or both)')}</p>
        {errors.get('config.reminders') ? (
          <p className="error-text" role="alert">
            {errors.get('config.reminders')}
          </p>
        ) : null}
        {CATEGORIES.map((category) => {
          const reminder = draft.reminders[category];
          const path = (field: string) => `config.reminders.${category}.${field}`;
          return (
            <div key={category} className="reminder">
              <Checkbox checked={reminder.on} onChange={(on) => setReminder(category, { on })}>
                {categoryText(t, category)}
              </Checkbox>
              {reminder.on ? (
                <div className="reminder-fields">
                  {(
                    [
                      ['defaultProductId', t('默认产品 ID', 'Default product id')],
                      ['modelId', 'model_id'],
                      ['messageTemplateId', t('消息模板 ID', 'Message template id')],
                    ] as const
                  ).map(([field, label]) => (
                    <TextField
                      key={field}
                      label={`${categoryText(t, category)} · ${label}`}
                      error={errors.get(path(field))}
                      value={reminder[field]}
                      onChange={(v) => setReminder(category, { [field]: v })}
                      name={path(field)}
                    />
                  ))}
                  <p className="muted">
                    {t(
                      '消息模板 ID 填错将收不到微信推送的强提醒消息。',
                      'A wrong message template id means no reminder ever reaches the user.',
                    )}
                  </p>
                </div>
              ) : null}
            </div>
          );
        })}
      </Section>
      <Section title={t('售后与反馈', 'After-sales and feedback')}>
        {text(
          'phone',
          t('售后电话（选填）', 'After-sales phone (optional)'),
          'config.afterSales.phone',
          t('不填写则小程序上不显示', 'Left empty, the mini program shows none'),
        )}
        <TextField
          label={t('问题反馈指引（选填）', 'Feedback guide (optional)')}
          error={errors.get('config.afterSales.feedbackGuide')}
          value={draft.feedbackGuide}
          onChange={(v) => set('feedbackGuide', v)}
          name="config.afterSales.feedbackGuide"
          rows={3}
        />
        <ImageField
          label={t('App 下载二维码（选填）', 'App download QR (optional)')}
          name="config.afterSales.appDownloadQrImage"
          value={draft.appDownloadQrImage}
          onChange={(v) => set('appDownloadQrImage', v)}
          error={errors.get('config.afterSales.appDownloadQrImage')}
          warning={props.warnings.get('config.afterSales.appDownloadQrImage')}
          suggestedWidth={APP_DOWNLOAD_QR_SUGGESTED_WIDTH}
        />
      </Section>
      <Section title={t('小程序使用说明配置', 'Mini program instructions')}>
        <ImageField
          label={t('小程序使用说明书（选填）', 'Instructions (optional)')}
          name="config.instructionsImage"
          value={draft.instructionsImage}
          onChange={(v) => set('instructionsImage', v)}
          error={errors.get('config.instructionsImage')}
          warning={props.warnings.get('config.instructionsImage')}
          suggestedWidth={INSTRUCTIONS_IMAGE_SUGGESTED_WIDTH}
        />
      </Section>
      <Section title={t('产品使用说明配置（选填）', 'Product manuals (optional)')}>
        {draft.productManuals.map((manual, index) => {
          const update = (patch: Partial<{ name: string; image: string }>) =>
            set(
              'productManuals',
              draft.productManuals.map((m, i) => (i === index ? { ...m, ...patch } : m)),
            );
          const path = `config.productManuals.${index}`;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: a manual is its position in the list (its fields are being typed)
            <div key={index} className="manual">
              <TextField
                label={t(`硬件产品名称 ${index + 1}`, `Product name ${index + 1}`)}
                error={errors.get(`${path}.name`)}
                value={manual.name}
                onChange={(name) => update({ name })}
                name={`${path}.name`}
              />
              <ImageField
                label={t(`产品使用说明书 ${index + 1}`, `Manual ${index + 1}`)}
                name={`${path}.image`}
                value={manual.image}
                onChange={(image) => update({ image })}
                error={errors.get(`${path}.image`)}
              />
              <Button
                size="small"
                variant="text"
                theme="danger"
                onClick={() =>
                  set(
                    'productManuals',
                    draft.productManuals.filter((_, i) => i !== index),
                  )
                }
              >
                {t('删除此说明', 'Remove this manual')}
              </Button>
            </div>
          );
        })}
        <Button variant="dashed" onClick={() => set('productManuals', [...draft.productManuals, { name: '', image: '' }])}>
          {t('添加产品使用说明', 'Add a product manual')}
        </Button>
      </Section>
      <Section title={t('小程序 UI 配置', 'Mini program UI')}>
        <ColourField
          label={t('主色', 'Main colour')}
          name="config.theme.mainColor"
          value={draft.mainColor}
          fallback={props.themeDefaults.mainColor}
          onChange={(v) => set('mainColor', v)}
          onReset={() => props.onResetColour('mainColor')}
          error={errors.get('config.theme.mainColor')}
        />
        <ColourField
          label={t('配色', 'Secondary colour')}
          name="config.theme.secondaryColor"
          value={draft.secondaryColor}
          fallback={props.themeDefaults.secondaryColor}
          onChange={(v) => set('secondaryColor', v)}
          onReset={() => props.onResetColour('secondaryColor')}
          error={errors.get('config.theme.secondaryColor')}
        />
        <div className="theme-preview" aria-label={t('配色预览', 'Colour preview')} role="img">
          <div className="phone-bar" style={{ background: barColour, color: textOn(barColour) }}>
            {t('我的设备', 'My devices')}
          </div>
          <div
            className="phone-body"
            style={{ background: isColour(secondaryColor) ? secondaryColor : props.themeDefaults.secondaryColor }}
          >
            <span className="phone-chip" style={{ borderColor: mainColor, color: '#1f1f1f' }}>
              {t('摄像头', 'Camera')}
            </span>
          </div>
        </div>
        <ImageField
          label={t('首页底部图片', 'Home page bottom image')}
          name="config.homeBottomImage"
          value={draft.homeBottomImage}
          onChange={(v) => set('homeBottomImage', v)}
          error={errors.get('config.homeBottomImage')}
        />
        <ImageField
          label={t('门锁顶部图片', 'Door lock page top image')}
          name="config.doorLockTopImage"
          value={draft.doorLockTopImage}
          onChange={(v) => set('doorLockTopImage', v)}
          error={errors.get('config.doorLockTopImage')}
        />
      </Section>
    </div>
  );
}

// ------------------------------------------------------------------------------------------------ low-code

export interface PluginDraft {
  name: string;
  appId: string;
  alias: string;
  version: string;
}

export interface LowcodeDraft {
  ext: string;
  plugins: PluginDraft[];
}

export const lowcodeDraftOf = (config: LowcodeConfigInput | null): LowcodeDraft => ({
  ext: JSON.stringify(config?.ext ?? {}, null, 2),
  plugins: [],
});

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The ext as typed; a text that is not a JSON object is reported on the field without asking the API. */
export function parseExt(t: T, text: string): { ext: { [key: string]: Json } } | { error: string } {
  try {
    // What JSON.parse returns is JSON by construction.
    const parsed: Json = JSON.parse(text || '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return { ext: parsed };
  } catch {
    // reported below
  }
  return { error: t('ext 须是 JSON 对象，如 {"shopName": "艾克米"}', 'ext must be a JSON object, like {"shopName": "Acme"}') };
}

type PluginAppid = `wx${string}`;
const isPluginAppid = (value: string): value is PluginAppid => value.startsWith('wx');

/** The plugins as the API takes them; an appid that is not even `wx…` is named on its field before sending. */
export function pluginsOf(
  t: T,
  draft: LowcodeDraft,
): { plugins: NonNullable<NewAppInput['requiredPlugins']> } | { errors: Map<string, string> } {
  const errors = new Map<string, string>();
  const plugins = draft.plugins.flatMap((p, index) => {
    const appId = p.appId.trim();
    if (isPluginAppid(appId)) return [{ name: p.name.trim(), appId, alias: p.alias.trim(), version: p.version.trim() }];
    errors.set(`requiredPlugins.${index}.appId`, t('插件 AppID 以 wx 开头', 'A plugin appid starts with wx'));
    return [];
  });
  return errors.size ? { errors } : { plugins };
}

export function LowcodeForm(props: {
  draft: LowcodeDraft;
  onChange(draft: LowcodeDraft): void;
  errors: FieldErrors;
  pluginsEditable: boolean;
  existingPlugins?: AppView['requiredPlugins'];
}) {
  const t = useT();
  const { draft, errors } = props;
  const setPlugin = (index: number, patch: Partial<PluginDraft>) =>
    props.onChange({ ...draft, plugins: draft.plugins.map((p, i) => (i === index ? { ...p, ...patch } : p)) });
  return (
    <div className="config-form">
      <Section title={t('所需插件', 'Required plugins')}>
        <p className="muted">
          {t(
            '应用依赖的插件须先在发布的小程序上添加（微信公众平台 设置 > 第三方设置 > 插件管理），否则构建会失败。',
            'Plugins the app depends on must first be added to the mini program (mp.weixin.qq.com: Settings > Third-party settings > Plugins), or the build fails.',
          )}
        </p>
        {props.pluginsEditable ? (
          <>
            {draft.plugins.map((plugin, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a plugin row is its position in the list (its fields are being typed)
              <div key={index} className="plugin">
                {(
                  [
                    ['name', t('插件名称', 'Plugin name')],
                    ['appId', t('插件 AppID', 'Plugin appid')],
                    ['alias', t('别名', 'Alias')],
                    ['version', t('版本', 'Version')],
                  ] as const
                ).map(([field, label]) => {
                  const path = `requiredPlugins.${index}.${field}`;
                  return (
                    <Field
                      key={field}
                      label={`${label} ${index + 1}`}
                      error={errors.get(path) ?? (field === 'name' ? errors.get(`requiredPlugins.${index}`) : undefined)}
                    >
                      {(id, describedBy) => (
                        <TextInput
                          id={id}
                          describedBy={describedBy}
                          value={plugin[field]}
                          onChange={(v) => setPlugin(index, { [field]: v })}
                          name={path}
                          invalid={errors.has(path)}
                        />
                      )}
                    </Field>
                  );
                })}
                <Button
                  size="small"
                  variant="text"
                  theme="danger"
                  onClick={() => props.onChange({ ...draft, plugins: draft.plugins.filter((_, i) => i !== index) })}
                >
                  {t('删除插件', 'Remove plugin')}
                </Button>
              </div>
            ))}
            <Button
              variant="dashed"
              onClick={() => props.onChange({ ...draft, plugins: [...draft.plugins, { name: '', appId: '', alias: '', version: '' }] })}
            >
              {t('添加插件', 'Add a plugin')}
            </Button>
          </>
        ) : (props.existingPlugins ?? []).length === 0 ? (
          <p>{t('无', 'None')}</p>
        ) : (
          <Space breakLine>
            {(props.existingPlugins ?? []).map((p) => (
              <Tag key={p.appId}>{`${p.name} · ${p.appId} · ${p.version}`}</Tag>
            ))}
          </Space>
        )}
      </Section>
      <Section title={t('扩展配置 ext', 'Ext config')}>
        <TextField
          label="ext (JSON)"
          error={errors.get('config.ext')}
          help={t('模板通过 wx.getExtConfigSync() 读取', 'The template reads it with wx.getExtConfigSync()')}
          value={draft.ext}
          onChange={(ext) => props.onChange({ ...draft, ext })}
          name="config.ext"
          rows={4}
        />
      </Section>
    </div>
  );
}

/**
 * What the API says is worth knowing but not an error — an app's warnings, why an account cannot publish — by a
 * stable code, worded here in the reader's language from the code's params (the API's `message` is English). A code
 * this table does not know shows the API's own message. test/console/error-texts.test.ts checks every code the
 * backend defines has a text here.
 */
import type { T } from './api-errors';
import type { AccountView, AppView } from './endpoints';

type AppWarningView = AppView['warnings'][number];
type PublishBlockedCode = NonNullable<AccountView['publishBlockedCode']>;

type Params = AppWarningView['params'];
const param = (params: Params, name: string): string => String(params[name] ?? '?');

export const WARNING_TEXTS: Readonly<Record<AppWarningView['code'], (t: T, params: Params) => string>> = {
  IMAGE_WIDER_THAN_SUGGESTED: (t, p) =>
    t(
      `图片宽 ${param(p, 'width')} px，模板建议不超过 ${param(p, 'suggestedMaxWidth')} px：可以使用，但小程序可能缩小显示。`,
      `The image is ${param(p, 'width')} px wide and the template suggests at most ${param(p, 'suggestedMaxWidth')} px: it is accepted, but the mini program may show it scaled down.`,
    ),
  NO_PRODUCT_LINKED: (t) =>
    t(
      '应用还没有关联 IoT Video 产品：关联之前，用户无法在小程序中手动添加设备。',
      'No IoT Video product is linked to the app: users cannot add devices by hand in the mini program until one is.',
    ),
  REMINDER_PRODUCT_NOT_LINKED: (t, p) =>
    t(
      `产品 ${param(p, 'productId')} 未关联到应用：请先关联它，或填写已关联的产品。`,
      `Product ${param(p, 'productId')} is not linked to the app: link it, or name a linked one.`,
    ),
};

/** Where a warning is, in the form's own words (a field the table does not know shows its path). */
const FIELD_LABELS: readonly [RegExp, (t: T, index: string) => string][] = [
  [/^config\.afterSales\.appDownloadQrImage$/, (t) => t('App 下载二维码', 'App download QR')],
  [/^config\.instructionsImage$/, (t) => t('小程序使用说明书', 'Instructions')],
  [/^productIds$/, (t) => t('关联产品 ID', 'Linked product ids')],
  [
    /^config\.reminders\.(\d+)\.defaultProductId$/,
    (t, i) => t(`强提醒 ${Number(i) + 1} · 默认产品 ID`, `Reminder ${Number(i) + 1} · default product id`),
  ],
];

export function warningText(t: T, warning: AppWarningView): string {
  return WARNING_TEXTS[warning.code]?.(t, warning.params) ?? warning.message;
}

export function warningFieldLabel(t: T, field: string): string {
  for (const [pattern, label] of FIELD_LABELS) {
    const match = pattern.exec(field);
    if (match) return label(t, match[1] ?? '');
  }
  return field;
}

export const PUBLISH_BLOCKED_TEXTS: Readonly<Record<PublishBlockedCode, (t: T, appid: string | null) => string>> = {
  PRIMARY_NOT_BOUND: (t) =>
    t(
      '请先绑定账号的主小程序：绑定之前，本账号的小程序都无法发布。',
      'Bind the account’s primary mini program first: until then no mini program of the account can publish.',
    ),
  PRIMARY_UNBOUND: (t, appid) =>
    t(
      `主小程序 ${appid ?? ''} 已解除绑定（在此解绑，或管理员在微信取消了授权）：重新绑定主小程序之前，本账号的小程序都无法发布。`,
      `The primary mini program ${appid ?? ''} was unbound (here, or its admin revoked the authorization on WeChat): no mini program of the account can publish until a primary is bound again.`,
    ),
  PRIMARY_TAKEN: (t, appid) =>
    t(
      `主小程序 ${appid ?? ''} 已被其他账号绑定：重新绑定主小程序之前，本账号的小程序都无法发布。`,
      `The primary mini program ${appid ?? ''} was bound by another account: no mini program of the account can publish until a primary is bound again.`,
    ),
};

export function publishBlockedText(
  t: T,
  account: Pick<AccountView, 'publishBlockedCode' | 'publishBlockedReason' | 'primaryMiniProgram'>,
): string | null {
  const code = account.publishBlockedCode;
  if (code === null) return null;
  return PUBLISH_BLOCKED_TEXTS[code]?.(t, account.primaryMiniProgram?.appid ?? null) ?? account.publishBlockedReason;
}

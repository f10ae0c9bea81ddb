/**
 * The console says every API error in Chinese and English by its code (console/src/api-errors.ts). The codes are
 * read from the backend's own source (shared/, functions/): a code added there without a translation fails here,
 * unless it is listed below as one no console call can be answered with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ERROR_TEXTS, errorText, FIELD_TEXTS, fieldErrorText, type T } from '../../console/src/api-errors';
import { PUBLISH_BLOCKED_TEXTS, publishBlockedText, WARNING_TEXTS, warningFieldLabel, warningText } from '../../console/src/notice-texts';
import { PUBLISH_BLOCKED_CODES } from '../../functions/api/views';
import { APP_WARNING_CODES } from '../../shared/domain/app';

const root = resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && entry.name !== 'testing.ts' ? [path] : [];
  });
}

/**
 * Every UPPER_SNAKE string literal (codes are passed in several ways: a class field, an option, a constructor's
 * argument, a list), and a one-word one where a code is given (`code: 'TIMEOUT'`, `options.code ?? 'FORBIDDEN'`).
 */
const literalsIn = (text: string): string[] => [
  ...[...text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)].map((m) => m[1] ?? ''),
  ...[...text.matchAll(/\bcode\s*(?:=|:|\?\?)\s*'([A-Z]{3,})'/g)].map((m) => m[1] ?? ''),
];

/** Literals that are not error codes: settings' names, Node's errnos, an authorization's success outcomes. */
const NOT_ERROR_CODES = new Set([
  'ADMIN_API_KEY',
  'DATA_KEY',
  'MONGODB_URL',
  'PUBLIC_BASE_URL',
  'TCB_ENV',
  'TENCENTCLOUD_SECRETID',
  'WECHAT_COMPONENT_APPID',
  'WECHAT_COMPONENT_SECRET',
  'WECHAT_ENCODING_AES_KEY',
  'WECHAT_TOKEN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
  'MODULE_NOT_FOUND',
  'PRIMARY_BOUND',
  'MINI_PROGRAM_AUTHORIZED',
]);

/** Codes no console call is answered with, and why. */
const NEVER_ANSWERED_TO_THE_CONSOLE: readonly [RegExp, string][] = [
  [/^WECHAT_(MSG|XML|PUSH)_|^WECHAT_TIMESTAMP_STALE$|^WECHAT_ENCODING_AES_KEY_INVALID$/, 'answers WeChat’s pushes, not a person'],
  [/^TRIGGER_|^HANDLER_RESULT_INVALID$|^CONTEXT_CALLBACK_UNSUPPORTED$/, 'the runtime shim’s own (a deployment mistake, thrown at start)'],
  [/^DATABASE_/, 'CloudBase’s codes, handled inside the store'],
  // The error handler answers any internal-category error as INTERNAL_ERROR (shared/runtime/http/stack.ts).
  [/^(CORRUPT_DOCUMENT|CONFIG_INVALID|SEALED_VALUE_INVALID|UNDECLARED_STATUS)$/, 'internal: answered as INTERNAL_ERROR'],
];

const codes = new Set(
  ['shared', 'functions'].flatMap((dir) => sourceFiles(join(root, dir)).flatMap((file) => literalsIn(readFileSync(file, 'utf8')))),
);
const answerable = [...codes].filter((code) => !NOT_ERROR_CODES.has(code) && !NEVER_ANSWERED_TO_THE_CONSOLE.some(([re]) => re.test(code)));

const zh: T = (chinese) => chinese;
const en: T = (_, english) => english;

describe('the console’s error texts', () => {
  it('finds the backend’s codes where they are made', () => {
    // A scan that found nothing would pass the next test vacuously.
    for (const known of [
      'APP_CONFIG_INVALID',
      'DEPLOYMENT_INVALID_TRANSITION',
      'DEPLOYMENT_ALREADY_OPEN',
      'TIMEOUT',
      'FORBIDDEN',
      'NOT_FOUND',
    ])
      expect(answerable).toContain(known);
  });

  it('translates every code a console call can be answered with', () => {
    // An app's warnings and why an account cannot publish are notices, worded by console/src/notice-texts.ts.
    const notices = new Set<string>([...Object.keys(WARNING_TEXTS), ...Object.keys(PUBLISH_BLOCKED_TEXTS)]);
    expect(answerable.filter((code) => !(code in ERROR_TEXTS) && !notices.has(code))).toEqual([]);
  });

  it('has Chinese in every Chinese text and none in the English ones', () => {
    const han = /\p{Script=Han}/u;
    for (const [zhText, enText] of [...Object.values(ERROR_TEXTS), ...Object.values(FIELD_TEXTS)]) {
      expect(zhText).toMatch(han);
      expect(enText).not.toMatch(han);
    }
  });

  it('says a known code in the reader’s language, a WeChat errcode with its number, an unknown code as the API did', () => {
    const conflict = { code: 'DEPLOYMENT_ALREADY_OPEN', message: 'deployment dep_1 of this app is still built: cancel or finish it first' };
    expect(errorText(zh, conflict)).toBe('该应用已有进行中的部署：请先完成或取消它。');
    expect(errorText(en, conflict)).toBe('This app has a deployment in progress: finish or cancel it first.');
    expect(errorText(zh, { code: 'WECHAT_85009', message: 'WeChat /wxa/submit_audit failed: errcode 85009' })).toContain('85009');
    expect(errorText(zh, { code: 'SOMETHING_NEW', message: 'as the API said it' })).toBe('as the API said it');
  });

  it('says a field’s rule by its path (any index), and keeps the API’s message for a field it does not know', () => {
    expect(fieldErrorText(zh, 'config.theme.secondaryColor', 'a colour is #RRGGBB')).toBe('颜色格式为 #RRGGBB，例如 #07C160。');
    expect(fieldErrorText(zh, 'requiredPlugins.0.alias', 'a plugin alias is an identifier')).toContain('别名');
    expect(fieldErrorText(zh, 'config.reminders.1.modelId', 'a model_id is 1–64 letters')).toContain('model_id');
    expect(fieldErrorText(zh, 'config.productManuals.3.image', 'asset a does not exist')).toContain('上传');
    expect(fieldErrorText(zh, 'config.window.navigationBarTitleText', 'as the API said it')).toBe('as the API said it');
  });
});

describe('the console’s notice texts', () => {
  it('words every warning and publish-blocked code the API defines, in both languages, from its params', () => {
    expect(Object.keys(WARNING_TEXTS).sort()).toEqual([...APP_WARNING_CODES].sort());
    expect(Object.keys(PUBLISH_BLOCKED_TEXTS).sort()).toEqual([...PUBLISH_BLOCKED_CODES].sort());
    const wide = {
      field: 'config.afterSales.appDownloadQrImage',
      code: 'IMAGE_WIDER_THAN_SUGGESTED' as const,
      message: 'the image is 200 px wide and the IoT Video template suggests at most 150 px',
      params: { width: 200, suggestedMaxWidth: 150 },
    };
    expect(warningText(zh, wide)).toBe('图片宽 200 px，模板建议不超过 150 px：可以使用，但小程序可能缩小显示。');
    expect(warningText(en, wide)).toContain('200 px wide');
    expect(warningFieldLabel(zh, wide.field)).toBe('App 下载二维码');
    expect(warningFieldLabel(zh, 'config.reminders.1.defaultProductId')).toBe('强提醒 2 · 默认产品 ID');
    expect(warningFieldLabel(zh, 'config.somethingNew')).toBe('config.somethingNew');
    const blocked = { publishBlockedCode: 'PRIMARY_TAKEN' as const, publishBlockedReason: 'English', primaryMiniProgram: null };
    expect(publishBlockedText(zh, blocked)).toContain('已被其他账号绑定');
    expect(publishBlockedText(zh, { ...blocked, publishBlockedCode: null })).toBeNull();
    const han = /\p{Script=Han}/u;
    for (const code of APP_WARNING_CODES) {
      expect(WARNING_TEXTS[code](zh, {})).toMatch(han);
      expect(WARNING_TEXTS[code](en, {})).not.toMatch(han);
    }
    for (const code of PUBLISH_BLOCKED_CODES) {
      expect(PUBLISH_BLOCKED_TEXTS[code](zh, 'wx1')).toMatch(han);
      expect(PUBLISH_BLOCKED_TEXTS[code](en, 'wx1')).not.toMatch(han);
    }
  });
});

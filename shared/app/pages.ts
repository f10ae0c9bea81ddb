/**
 * The pages an admin sees in the browser after WeChat redirects back from the authorization page: often on the
 * phone that scanned, so each says in plain words (Chinese, then English) what happened and what to do, and leads
 * back into the console (served at /console/ by the same backend).
 */
import type { ErrorPage, Reply } from '../runtime/http/route';
import type { AuthResult } from './authorization/outcome';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** Where the console is, relative to the callback (same host): the link back from a result page. */
export const CONSOLE_LINK = '/console/';

/** What a refusal means for the admin, and what they can do about it: [中文, English]. */
const PLAIN_WORDS: Readonly<Record<string, readonly [string, string]>> = {
  SUBJECT_MISMATCH: [
    '该小程序与账号的主小程序不是同一主体，目前仅支持授权相同主体的小程序。请改用同一主体的小程序扫码，或先更换主小程序。',
    'This mini program belongs to another subject than the account’s primary; only mini programs of the same subject can be authorized. Scan with a mini program of that subject, or change the primary first.',
  ],
  PERMISSIONS_MISSING: [
    '授权时未勾选所需的权限集。请重新扫码，并保持所列权限集勾选。',
    'Permission sets the platform needs were not granted. Scan again and keep the listed sets ticked.',
  ],
  PRIMARY_NOT_BOUND: [
    '账号还没有绑定主小程序。请先在控制台“账号”页绑定主小程序，再授权应用的小程序。',
    'The account has no primary mini program yet. Bind it first on the console’s Account page, then authorize the app’s mini program.',
  ],
  PRIMARY_SUBJECT_CHANGE_NEEDS_FORCE: [
    '扫码的小程序与当前主小程序主体不同，更换会阻止旧主体的小程序发布，因此未更换。如确需更换，请在控制台确认后重新扫码。',
    'The scanned mini program is of another subject than the current primary; changing it would block the old subject’s mini programs, so nothing changed. To change it anyway, confirm in the console and scan again.',
  ],
  AUTH_CODE_USED: [
    '这次授权已被使用。请回到控制台重新生成二维码再扫码。',
    'This authorization was already used. Make a new QR code in the console and scan again.',
  ],
  AUTH_STATE_INVALID: [
    '授权链接无效或已过期（30 分钟）。请回到控制台重新生成二维码。',
    'The authorization link is invalid or expired (30 minutes). Make a new QR code in the console.',
  ],
  AUTH_CODE_MISSING: [
    '授权未完成。请重新扫码并在微信中确认授权。',
    'The authorization was not completed. Scan again and confirm in WeChat.',
  ],
  NOT_A_MINI_PROGRAM: [
    '授权的不是小程序（可能是公众号）。请用小程序管理员的微信扫码并选择小程序。',
    'What was authorized is not a mini program. Scan as the mini program’s admin and choose the mini program.',
  ],
};

function page(
  lang: 'zh-CN' | 'en',
  title: string,
  paragraphs: readonly string[],
  facts: readonly [label: string, value: string][],
): string {
  const text = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('');
  const small = facts.map(([label, value]) => `<p><small>${escapeHtml(label)}: <code>${escapeHtml(value)}</code></small></p>`).join('');
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<main><h1>${escapeHtml(title)}</h1>${text}${small}
<p><a href="${CONSOLE_LINK}">返回控制台 · Back to the console</a></p></main>
</body></html>`;
}

/** A completed authorization: JSON for programs (Accept: application/json), a small page for people. */
export function authResultReply(result: AuthResult, json: boolean): Reply {
  if (json) return { status: 200, json: result };
  return {
    status: 200,
    text: page(
      'zh-CN',
      '授权成功 · Authorization complete',
      ['授权成功，可以回到控制台继续操作。', result.message],
      [['code', result.code]],
    ),
    contentType: 'text/html; charset=utf-8',
  };
}

/**
 * A refused one, rendered by the HTTP stack's error middleware (which chose the status) for the route's
 * `errorPage`: the same envelope a JSON client gets, as a page, with the plain words of its code first.
 */
export const authErrorPage: ErrorPage = (view) => {
  const plain = PLAIN_WORDS[view.code];
  return page(
    'zh-CN',
    '授权失败 · Authorization failed',
    [...(plain ?? []), view.message],
    [['code', view.code], ...(view.field ? [['field', view.field] as [string, string]] : []), ['request id', view.requestId]],
  );
};

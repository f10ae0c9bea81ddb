/**
 * The authorization pages a merchant's admin sees (reference §3.4), small enough to read in a browser: the
 * real page shows a QR code for the admin's phone; here the "scan" is a form that posts to `/sim/scan`, which
 * answers with the same 302 to `redirect_uri?auth_code=…&expires_in=600` the real flow ends with.
 */
import type { MiniProgramSnapshot } from './types';

/** Names of the permission sets the page offers; the numbers are what `func_info` reports (17: doc miniprogram_authority). */
const SCOPE_NAMES: Readonly<Record<number, string>> = {
  17: '获取小程序码',
  18: '开发管理与数据分析权限',
  19: '客服消息管理权限',
  25: '开放平台帐号管理权限',
  30: '小程序基本信息设置权限',
  31: '小程序认证名称检测权限',
  36: '微信卡路里权限',
  37: '附近地点权限',
  40: '插件管理权限',
  41: '好物圈权限',
  45: '微信物流服务权限',
  48: '微信财政电子票据权限',
  49: '云开发管理权限',
  51: '即时配送权限',
  52: '小程序直播权限',
  57: '内容安全权限',
  65: '小程序评价权限',
  67: '小程序广告管理权限',
  70: '快递配送权限',
  71: '订单与物流权限',
  73: '小程序交易组件权限',
  76: '小程序订阅消息权限',
  81: '服务卡片权限',
  84: '小程序码与小程序链接权限',
  85: '小程序用户隐私保护权限',
  86: '小程序体验二维码权限',
  88: '城市服务权限',
  93: '购物订单权限',
  99: '小程序页面管理权限',
  102: '小程序一物一码权限',
  104: '小程序运维中心权限',
  105: '小程序安全中心权限',
};

const AUTHORIZATION_LABELS: Readonly<Record<MiniProgramSnapshot['authorization'], string>> = {
  authorized: '已授权 · authorized',
  revoked: '已解除授权 · revoked',
  never: '未授权 · not authorized',
};

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const STYLE = [
  'body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:640px;margin:2em auto;',
  'padding:0 1em;color:#222}h1{font-size:1.3em}fieldset{border:1px solid #ddd;border-radius:6px;margin:1em 0}',
  'label{display:block;margin:.3em 0}.sub{color:#888;font-size:.85em}.scopes{columns:2}.error{color:#c00}',
  'button{background:#07c160;color:#fff;border:0;border-radius:4px;padding:.6em 1.4em;font-size:1em}',
].join('');

function page(title: string, body: string): string {
  return (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`
  );
}

export interface AuthPageModel {
  componentAppId: string;
  preAuthCode: string;
  redirectUri: string | undefined;
  authType: number | undefined;
  bizAppId: string | undefined;
  miniPrograms: MiniProgramSnapshot[];
  scopeIds: number[];
  mobile: boolean;
}

export function renderAuthPage(model: AuthPageModel): string {
  const hidden = (name: string, value: string | number | undefined): string =>
    value === undefined ? '' : `<input type="hidden" name="${name}" value="${escapeHtml(String(value))}">`;
  const accounts =
    model.miniPrograms.length === 0
      ? '<p class="error">没有可授权的小程序 (no mini program may authorize on this page).</p>'
      : model.miniPrograms
          .map((mp, i) => {
            const state = AUTHORIZATION_LABELS[mp.authorization];
            const checked = i === 0 ? ' checked' : '';
            return (
              `<label><input type="radio" name="app_id" value="${escapeHtml(mp.appId)}"${checked}> ` +
              `<b>${escapeHtml(mp.nickName)}</b> ` +
              `<span class="sub">${escapeHtml(mp.appId)} · ${escapeHtml(mp.principalName)} · ${state}</span></label>`
            );
          })
          .join('');
  const scopes = model.scopeIds
    .map((id) => {
      const name = escapeHtml(SCOPE_NAMES[id] ?? '权限集');
      return `<label><input type="checkbox" name="func_scope_id" value="${id}" checked> ${id} ${name}</label>`;
    })
    .join('');
  const body =
    `<h1>授权小程序给第三方平台 <span class="sub">${escapeHtml(model.componentAppId)}</span></h1>` +
    `<p class="sub">WeChat simulator — ${model.mobile ? 'mobile page' : 'PC page'}. ` +
    'Pick the mini program whose admin "scans", untick the permission sets to withhold, then authorize.</p>' +
    `<form method="post" action="/sim/scan">` +
    hidden('pre_auth_code', model.preAuthCode) +
    hidden('redirect_uri', model.redirectUri) +
    hidden('auth_type', model.authType) +
    hidden('biz_appid', model.bizAppId) +
    `<fieldset><legend>小程序 · mini program</legend>${accounts}</fieldset>` +
    `<fieldset><legend>权限集 · permission sets</legend><div class="scopes">${scopes}</div></fieldset>` +
    (model.miniPrograms.length === 0 ? '' : '<button type="submit">扫码确认授权 · scan &amp; authorize</button>') +
    `</form>`;
  return page('授权 · WeChat simulator', body);
}

export function renderErrorPage(message: string): string {
  return page('授权失败 · WeChat simulator', `<h1 class="error">授权失败</h1><p>${escapeHtml(message)}</p>`);
}

/** Where a scan lands when no redirect_uri was given, so a human still sees the auth code. */
export function renderAuthorizedPage(authCode: string, expiresIn: string): string {
  return page(
    '已授权 · WeChat simulator',
    `<h1>授权成功 · authorized</h1><p>auth_code: <code>${escapeHtml(authCode)}</code></p>` + `<p>expires_in: ${escapeHtml(expiresIn)}</p>`,
  );
}

/** The page an admin sees in the browser after WeChat redirects back from the authorization page. */
import type { Reply } from '../runtime/http/route';
import type { AuthResult } from './authorization';

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** JSON for programs (Accept: application/json), a small page for people; failures keep a 4xx status either way. */
export function authResultReply(result: AuthResult, accept: string | undefined): Reply {
  const status = result.ok ? 200 : result.code === 'AUTH_STATE_INVALID' ? 400 : 403;
  if (accept?.includes('application/json')) return { status, json: result };
  const title = result.ok ? 'Authorization complete' : 'Authorization failed';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>${title}</h1><p>${escape(result.message)}</p><p><small>code: <code>${escape(result.code)}</code></small></p>
</body></html>`;
  return { status, text: html, contentType: 'text/html; charset=utf-8' };
}

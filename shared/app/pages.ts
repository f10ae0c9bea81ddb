/** The pages an admin sees in the browser after WeChat redirects back from the authorization page. */
import type { ErrorPage, Reply } from '../runtime/http/route';
import type { AuthResult } from './authorization/outcome';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string, message: string, facts: readonly [label: string, value: string][]): string {
  const small = facts.map(([label, value]) => `<p><small>${escapeHtml(label)}: <code>${escapeHtml(value)}</code></small></p>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${small}
</body></html>`;
}

/** A completed authorization: JSON for programs (Accept: application/json), a small page for people. */
export function authResultReply(result: AuthResult, json: boolean): Reply {
  if (json) return { status: 200, json: result };
  return {
    status: 200,
    text: page('Authorization complete', result.message, [['code', result.code]]),
    contentType: 'text/html; charset=utf-8',
  };
}

/**
 * A refused one, rendered by the HTTP stack's error middleware (which chose the status) for the route's
 * `errorPage`: the same envelope a JSON client gets, as a page.
 */
export const authErrorPage: ErrorPage = (view) =>
  page('Authorization failed', view.message, [
    ['code', view.code],
    ...(view.field ? [['field', view.field] as [string, string]] : []),
    ['request id', view.requestId],
  ]);

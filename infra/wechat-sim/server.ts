/**
 * The HTTP face of the simulator: one node:http server for the WeChat API (`/cgi-bin/…`, `/wxa/…`), the
 * authorization pages and the control API (`/sim/…`).
 *
 * WeChat API calls go through, in order: counter, injected faults (latency, hang, 502, -1), settling of
 * whatever became due, method/token/permission checks, the handler. Errors come back the WeChat way: HTTP 200
 * with `{errcode, errmsg: "… rid: …"}`. Faults never touch `/sim/*` or the authorization pages, so a test can
 * always steer the simulator and a human can always authorize.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { AnswerLost, findApiRoute, runApiRoute, type ScriptedAction } from './api-routes';
import { renderAuthPage, renderErrorPage } from './auth-page';
import { type ControlTarget, controlError, handleControl } from './control-routes';
import { WxFailure } from './errors';
import { html, json, readBody, type SimResponse } from './http-util';
import type { PushRequest, SimState } from './state';
import type { FaultConfig } from './types';

export interface ServerHooks {
  state: SimState;
  control: ControlTarget;
  faults(): FaultConfig;
  random(): number;
  count(path: string): void;
  /** Applies due automatic decisions (and queues their pushes) before a request looks at the state. */
  settle(): void;
  emit(push: PushRequest): void;
  sleep(ms: number): Promise<void>;
  /** Takes one use of a scripted fault matching this call, if any. */
  scripted(path: string, appId: string | undefined): ScriptedAction | undefined;
  /** Takes the hold set on this path (`holdNextAnswer`), if any: called once the call did its work, the answer waits for it. */
  held(path: string): (() => Promise<void>) | undefined;
}

/** The PC page, the current mobile page and the legacy mobile page (reference §3.4). */
const AUTH_PAGE_PATHS: ReadonlySet<string> = new Set(['/cgi-bin/componentloginpage', '/wxaopen/safe/bindcomponent', '/safe/bindcomponent']);

const BAD_GATEWAY_HTML = [
  '<html>',
  '<head><title>502 Bad Gateway</title></head>',
  '<body>',
  '<center><h1>502 Bad Gateway</h1></center>',
  '<hr><center>nginx</center>',
  '</body>',
  '</html>',
  '',
].join('\r\n');

/** WeChat's request id: three groups of 8 hex digits, appended to every errmsg. */
const rid = (): string => {
  const hex = randomBytes(12).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}`;
};

export const wechatError = (errcode: number, errmsg: string, contentType?: string): SimResponse => ({
  ...json({ errcode, errmsg: `${errmsg} rid: ${rid()}` }),
  ...(contentType === undefined ? {} : { contentType }),
});

export function createRequestHandler(hooks: ServerHooks): http.RequestListener {
  return (req, res) => {
    handle(hooks, req, res).catch((error: unknown) => {
      // A bug in the simulator: say so loudly instead of imitating a WeChat answer.
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) send(res, json({ errcode: -1, errmsg: `simulator bug: ${message}` }, 500));
      else res.destroy();
    });
  };
}

async function handle(hooks: ServerHooks, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  const method = req.method ?? 'GET';
  const rawBody = await readBody(req);
  const path = url.pathname;

  if (path === '/sim' || path.startsWith('/sim/')) {
    hooks.settle();
    const contentType = String(req.headers['content-type'] ?? '');
    send(res, await handleControl(hooks.control, { method, path, query: url.searchParams, rawBody, contentType }));
    return;
  }

  hooks.count(path);
  if (AUTH_PAGE_PATHS.has(path)) {
    send(res, authPage(hooks, url.searchParams, path !== '/cgi-bin/componentloginpage'));
    return;
  }

  const route = findApiRoute(path);
  if (route === undefined) {
    send(res, json({ errcode: 40066, errmsg: `invalid url rid: ${rid()}` }, 404));
    return;
  }

  const faults = hooks.faults();
  if (faults.latencyMs > 0) await hooks.sleep(faults.latencyMs);
  // A hang keeps the socket open and never answers; close() destroys it.
  if (hooks.random() < faults.hangRate) return;
  if (hooks.random() < faults.http5xxRate) {
    send(res, html(BAD_GATEWAY_HTML, 502));
    return;
  }
  if (hooks.random() < faults.systemErrorRate) {
    send(res, wechatError(-1, 'system error'));
    return;
  }

  hooks.settle();
  let body: unknown;
  if (rawBody.trim() !== '') {
    try {
      body = JSON.parse(rawBody);
    } catch {
      send(res, wechatError(47001, 'data format error'));
      return;
    }
  }
  try {
    const ctx = { state: hooks.state, query: url.searchParams, body, emit: hooks.emit };
    const hold = hooks.held(path);
    let answer: SimResponse;
    try {
      answer = await runApiRoute(route, method, ctx, (appId) => hooks.scripted(path, appId));
    } finally {
      if (hold) await hold();
    }
    send(res, answer);
  } catch (error) {
    if (error instanceof WxFailure)
      send(res, wechatError(error.errcode, error.errmsg, route.auth === 'authorizer' ? route.errorContentType : undefined));
    else if (error instanceof AnswerLost) res.destroy();
    else throw error;
  } finally {
    // Again after the call: what it made due later (an audit's decision, a phase's day 15) gets its timer now,
    // not at the next request.
    hooks.settle();
  }
}

function authPage(hooks: ServerHooks, query: URLSearchParams, mobile: boolean): SimResponse {
  const text = (name: string): string | undefined => {
    const value = query.get(name);
    return value === null || value === '' ? undefined : value;
  };
  const componentAppId = text('component_appid');
  if (componentAppId !== hooks.state.component.appId) {
    return html(renderErrorPage(`component_appid ${componentAppId ?? '(missing)'} is not the simulated platform`), 400);
  }
  const preAuthCode = text('pre_auth_code');
  if (preAuthCode === undefined) return html(renderErrorPage('pre_auth_code is missing'), 400);
  const authTypeText = text('auth_type');
  const categoryText = text('category_id_list');
  const redirectUri = text('redirect_uri');
  const bizAppId = text('biz_appid');
  const params = {
    ...(redirectUri === undefined ? {} : { redirectUri }),
    ...(authTypeText === undefined ? {} : { authType: Number(authTypeText) }),
    ...(bizAppId === undefined ? {} : { bizAppId }),
    ...(categoryText === undefined ? {} : { categoryIds: parseCategoryIds(categoryText) }),
  };
  try {
    const { miniPrograms, scopeIds } = hooks.state.openAuthPage(preAuthCode, params);
    const { authType } = params;
    return html(renderAuthPage({ componentAppId, preAuthCode, redirectUri, authType, bizAppId, miniPrograms, scopeIds, mobile }));
  } catch (error) {
    const answer = controlError(error);
    const message = error instanceof Error ? error.message : 'authorization failed';
    return html(renderErrorPage(message), answer.kind === 'json' ? (answer.status ?? 400) : 400);
  }
}

/** `category_id_list=18|40` → [18, 40]; junk entries are ignored like unknown ids. */
const parseCategoryIds = (text: string): number[] =>
  text
    .split('|')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);

function send(res: http.ServerResponse, response: SimResponse): void {
  switch (response.kind) {
    case 'json': {
      const text = JSON.stringify(response.body);
      // The charset spelling WeChat really uses (reference §9).
      const headers = {
        'Content-Type': response.contentType ?? 'application/json; encoding=utf-8',
        'Content-Length': Buffer.byteLength(text),
      };
      res.writeHead(response.status ?? 200, headers);
      res.end(text);
      return;
    }
    case 'html':
      res.writeHead(response.status ?? 200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(response.html),
      });
      res.end(response.html);
      return;
    case 'binary':
      res.writeHead(200, {
        'Content-Type': response.contentType,
        'Content-Length': response.data.length,
        ...response.headers,
      });
      res.end(response.data);
      return;
    case 'redirect':
      res.writeHead(302, { Location: response.location, 'Content-Length': 0 });
      res.end();
      return;
  }
}

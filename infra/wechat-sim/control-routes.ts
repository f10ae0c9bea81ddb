/**
 * `/sim/*`: the control API over HTTP, for a simulator running as its own process. Every route maps onto one
 * method of the programmatic API (`types.ts`) and validates its input with the same zod schemas, so
 * a bad control call is an HTTP 400 naming the field, whichever way it arrives.
 */

import { type ErrorCategory, isAppError, ValidationError } from '../../shared/domain/errors';
import * as z from '../../shared/domain/zod';
import { STATUS_BY_CATEGORY } from '../../shared/runtime/http/stack';
import { auditProfileSchema } from './audit-profiles';
import { renderAuthorizedPage, renderErrorPage } from './auth-page';
import { goLiveStateSchema, platformPenaltySchema } from './go-live';
import { grayPauseSchema } from './gray-release';
import { html, json, parseControl, type SimResponse } from './http-util';
import { rateLimitsSchema } from './rate-limits';
import type { ScanInput, WeChatSimulator } from './types';

// ---------------------------------------------------------------------------------------------------------------
// Schemas (also used by the programmatic methods)

const rate = z.number().check(z.gte(0), z.lte(1));
const nonNegativeInt = z.number().check(z.int(), z.gte(0));
const appId = z.string().check(z.minLength(1));

const httpUrl = (what: string) =>
  z.string().check(
    z.refine((value) => {
      try {
        const url = new URL(value.replaceAll('$APPID$', 'wx0000000000000000'));
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    }, `${what} must be an http(s) URL`),
  );

export const faultsSchema = z.strictObject({
  systemErrorRate: z.optional(rate),
  http5xxRate: z.optional(rate),
  latencyMs: z.optional(nonNegativeInt),
  hangRate: z.optional(rate),
  dropPushRate: z.optional(rate),
  duplicatePushRate: z.optional(rate),
  reorderPushes: z.optional(z.boolean()),
});

export const scriptedFaultSchema = z.union([
  z.strictObject({
    path: z.string().check(z.startsWith('/')),
    appId: z.optional(appId),
    times: z.optional(z.number().check(z.int(), z.positive())),
    errcode: z.number().check(z.int()),
  }),
  z.strictObject({
    path: z.string().check(z.startsWith('/')),
    appId: z.optional(appId),
    times: z.optional(z.number().check(z.int(), z.positive())),
    loseAnswer: z.literal(true),
  }),
]);

/** Hosts the platform registered (`assets.example.com`), per kind; a kind left out accepts every domain. */
const host = z.string().check(z.regex(/^[a-z0-9.-]+$/i, 'a host looks like assets.example.com'));
export const registeredDomainsSchema = z.strictObject({ server: z.optional(z.array(host)), webview: z.optional(z.array(host)) });

export const configureSchema = z.strictObject({
  registeredDomains: z.optional(registeredDomainsSchema),
  componentEventUrl: z.optional(httpUrl('componentEventUrl')),
  messageUrlTemplate: z.optional(httpUrl('messageUrlTemplate')),
  ticketIntervalMs: z.optional(nonNegativeInt),
  auditDecisionDelayMs: z.optional(z.nullable(nonNegativeInt)),
  privacyScanMs: z.optional(nonNegativeInt),
  pushTimeoutMs: z.optional(z.number().check(z.int(), z.positive())),
  pushRetryDelayMs: z.optional(nonNegativeInt),
});

const pluginStatus = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);
const category = z.strictObject({
  first_class: z.string().check(z.minLength(1)),
  second_class: z.string().check(z.minLength(1)),
  first_id: z.number().check(z.int()),
  second_id: z.number().check(z.int()),
});

export const miniProgramSpecSchema = z.strictObject({
  appId,
  nickName: z.string().check(z.minLength(1)),
  principalName: z.string().check(z.minLength(1)),
  userName: z.optional(z.string().check(z.regex(/^gh_[0-9A-Za-z]+$/, 'userName must look like gh_…'))),
  plugins: z.optional(z.array(z.strictObject({ appId, status: z.optional(pluginStatus) }))),
  categories: z.optional(z.array(category)),
  ungrantedPrivacyApis: z.optional(z.array(z.string().check(z.minLength(1)))),
  profileComplete: z.optional(z.boolean()),
  heldByOtherPlatform: z.optional(z.array(z.number().check(z.int(), z.positive()))),
  released: z.optional(
    z.strictObject({ templateId: nonNegativeInt, userVersion: z.string().check(z.minLength(1)), userDesc: z.optional(z.string()) }),
  ),
});

export const templateSchema = z.strictObject({
  templateId: nonNegativeInt,
  userVersion: z.string(),
  userDesc: z.string(),
  pages: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  templateType: z.optional(z.union([z.literal(0), z.literal(1)])),
  privacyApis: z.optional(z.array(z.string().check(z.minLength(1)))),
  requiredPrivateInfos: z.optional(z.array(z.string().check(z.minLength(1)))),
  sourceMiniProgramAppid: z.optional(z.string().check(z.regex(/^wx[0-9a-zA-Z]{16}$/))),
  createdAt: z.optional(nonNegativeInt),
});

export const scanSchema = z.strictObject({
  preAuthCode: z.string().check(z.minLength(1)),
  appId,
  funcScopeIds: z.optional(z.array(z.number().check(z.int(), z.positive()))),
  redirectUri: z.optional(z.string().check(z.minLength(1))),
  authType: z.optional(z.number().check(z.int())),
  bizAppId: z.optional(z.string()),
});

export const decideSchema = z.strictObject({
  appId,
  decision: z.enum(['approve', 'reject', 'delay']),
  reason: z.optional(z.string()),
  screenshots: z.optional(z.array(z.string().check(z.minLength(1)))),
});

export const quotaSchema = z.strictObject({
  submitRest: z.optional(nonNegativeInt),
  submitLimit: z.optional(nonNegativeInt),
  speedupRest: z.optional(nonNegativeInt),
  speedupLimit: z.optional(nonNegativeInt),
  undoPerDay: z.optional(nonNegativeInt),
  undoPerMonth: z.optional(nonNegativeInt),
  componentTokenDaily: z.optional(nonNegativeInt),
  testersPerMiniProgram: z.optional(nonNegativeInt),
  miniProgramsPerTester: z.optional(nonNegativeInt),
});

export const tokenKindSchema = z.enum(['component', 'authorizer', 'all']);
export const pluginStatusSchema = z.strictObject({ appId, pluginAppId: z.string().check(z.minLength(1)), status: pluginStatus });

// ---------------------------------------------------------------------------------------------------------------
// Routes

/** What the control routes need beyond the public API. */
export interface ControlTarget extends WeChatSimulator {
  /** The scan of the HTML form: answers at once and lets the push go out on its own, as WeChat's redirect does. */
  scanAndRedirect(input: ScanInput): string;
}

export interface ControlRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  rawBody: string;
  contentType: string;
}

interface ControlRoute {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  handle: (sim: ControlTarget, body: unknown, req: ControlRequest) => SimResponse | Promise<SimResponse>;
}

const done = (): SimResponse => json({ ok: true });
const appIdBody = z.strictObject({ appId });
const whichBody = z.strictObject({ which: tokenKindSchema });

const ROUTES: ControlRoute[] = [
  { method: 'GET', path: '/sim/counters', summary: 'calls per WeChat endpoint path', handle: (s) => json(s.counters()) },
  {
    method: 'POST',
    path: '/sim/counters/reset',
    summary: 'zero the counters',
    handle: (sim) => {
      sim.resetCounters();
      return done();
    },
  },
  { method: 'GET', path: '/sim/faults', summary: 'current fault settings', handle: (sim) => json(sim.faults()) },
  {
    method: 'POST',
    path: '/sim/faults',
    summary: 'patch fault settings (FaultConfig fields)',
    handle: (sim, body) => {
      sim.setFaults(parseControl(faultsSchema, body, 'faults'));
      return json(sim.faults());
    },
  },
  {
    method: 'POST',
    path: '/sim/faults/scripted',
    summary: 'aim a fault at the next call(s) of one endpoint: { path, appId?, times?, errcode | loseAnswer: true }',
    handle: (sim, body) => {
      sim.scriptFault(parseControl(scriptedFaultSchema, body, 'scripted fault'));
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/faults/scripted/clear',
    summary: 'forget the scripted faults not used up yet',
    handle: (sim) => {
      sim.clearScriptedFaults();
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/configure',
    summary: 'patch URLs, ticket interval, audit delay, privacy scan, push timing',
    handle: (sim, body) => {
      sim.configure(parseControl(configureSchema, body, 'configuration'));
      return done();
    },
  },
  {
    method: 'GET',
    path: '/sim/mini-programs',
    summary: 'snapshots of every mini program',
    handle: (sim) => json(sim.miniPrograms()),
  },
  {
    method: 'POST',
    path: '/sim/mini-programs',
    summary: 'register or update a mini program (MiniProgramSpec)',
    handle: (sim, body) => {
      sim.addMiniProgram(parseControl(miniProgramSpecSchema, body, 'mini program'));
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/templates',
    summary: 'add a template to the library',
    handle: (sim, body) => {
      sim.addTemplate(parseControl(templateSchema, body, 'template'));
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/ticket',
    summary: 'push a component_verify_ticket now',
    handle: async (sim) => json({ ticket: await sim.pushVerifyTicket() }),
  },
  { method: 'POST', path: '/sim/scan', summary: "play the admin's scan (JSON → JSON; HTML form → 302)", handle: scan },
  {
    method: 'GET',
    path: '/sim/authorized',
    summary: 'landing page when no redirect_uri was given',
    handle: (_sim, _body, req) => html(renderAuthorizedPage(req.query.get('auth_code') ?? '', req.query.get('expires_in') ?? '')),
  },
  {
    method: 'POST',
    path: '/sim/revoke',
    summary: 'the admin revokes: pushes unauthorized',
    handle: async (sim, body) => {
      await sim.revokeAuthorization(parseControl(appIdBody, body, 'request').appId);
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/audit/decide',
    summary: 'approve / reject / delay the pending audit',
    handle: async (sim, body) => {
      const { appId: id, decision, reason, screenshots } = parseControl(decideSchema, body, 'decision');
      await sim.decideAudit(id, decision, {
        ...(reason === undefined ? {} : { reason }),
        ...(screenshots === undefined ? {} : { screenshots }),
      });
      return done();
    },
  },
  { method: 'GET', path: '/sim/rate-limits', summary: 'call-rate limit rules', handle: (sim) => json({ rules: sim.rateLimits() }) },
  {
    method: 'POST',
    path: '/sim/rate-limits',
    summary: 'replace the call-rate limits: { rules: [{ path?, perMinute?, perDay? }] } (45011 / 45009 per account and API; [] lifts)',
    handle: (sim, body) => {
      sim.setRateLimits(parseControl(rateLimitsSchema, body, 'rate limits').rules);
      return json({ rules: sim.rateLimits() });
    },
  },
  { method: 'GET', path: '/sim/audit/profiles', summary: 'audit profiles by template', handle: (sim) => json(sim.auditProfiles()) },
  {
    method: 'POST',
    path: '/sim/audit/profiles',
    summary:
      "set how a template's audits go: { templateId, minMs, medianMs, maxMs, rejectRate, reason?, seed? } (lognormal durations, seeded)",
    handle: (sim, body) => {
      sim.setAuditProfile(parseControl(auditProfileSchema, body, 'audit profile'));
      return json(sim.auditProfiles());
    },
  },
  {
    method: 'POST',
    path: '/sim/audit/profiles/clear',
    summary: 'forget the audit profiles',
    handle: (sim) => {
      sim.clearAuditProfiles();
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/tokens/expire',
    summary: 'expire component / authorizer / all tokens (→ 42001)',
    handle: (sim, body) => {
      sim.expireTokens(parseControl(whichBody, body, 'request').which);
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/refresh-tokens/invalidate',
    summary: "invalidate a mini program's refresh tokens (→ 61023)",
    handle: (sim, body) => {
      sim.invalidateRefreshToken(parseControl(appIdBody, body, 'request').appId);
      return done();
    },
  },
  { method: 'GET', path: '/sim/quota', summary: 'current quotas', handle: (sim) => json(sim.quota()) },
  {
    method: 'POST',
    path: '/sim/quota',
    summary: 'patch quotas',
    handle: (sim, body) => {
      sim.setQuota(parseControl(quotaSchema, body, 'quota'));
      return json(sim.quota());
    },
  },
  {
    method: 'POST',
    path: '/sim/plugins/status',
    summary: 'answer a plugin application (status 1 applying, 2 approved, 3 rejected, 4 timed out)',
    handle: (sim, body) => {
      const b = parseControl(pluginStatusSchema, body, 'plugin status');
      sim.setPluginStatus(b.appId, b.pluginAppId, b.status);
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/mini-programs/go-live',
    summary:
      'put a mini program in a go-live state: { appId, icpStatus?, icpAvailable?, icpAuditData?, verified?, barred?, ugcCategoryIds?, privacyInterfaces? }',
    handle: (sim, body) => {
      const { appId: id, ...patch } = parseControl(z.extend(goLiveStateSchema, { appId }), body, 'go-live state');
      sim.setGoLive(id, patch);
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/mini-programs/gray-release',
    summary: 'the admin pauses or resumes a phased release from the mp console: { appId, paused }',
    handle: (sim, body) => {
      const b = parseControl(grayPauseSchema, body, 'phased release');
      sim.setGrayReleasePaused(b.appId, b.paused);
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/platform/penalty',
    summary: 'penalise the platform: { errcode: 86008 | 86009 | 86010 | null }',
    handle: (sim, body) => {
      sim.setPlatformPenalty(parseControl(platformPenaltySchema, body, 'platform penalty').errcode);
      return done();
    },
  },
  { method: 'GET', path: '/sim/pushes', summary: 'log of every push delivery attempt', handle: (s) => json(s.pushLog()) },
  {
    method: 'POST',
    path: '/sim/pushes/clear',
    summary: 'empty the push log',
    handle: (sim) => {
      sim.clearPushLog();
      return done();
    },
  },
  {
    method: 'POST',
    path: '/sim/pushes/settle',
    summary: 'wait until no push is queued or retrying',
    handle: async (sim) => {
      await sim.pushesSettled();
      return done();
    },
  },
];

const MINI_PROGRAM_PATH = /^\/sim\/mini-programs\/([^/]+)$/;

export async function handleControl(sim: ControlTarget, req: ControlRequest): Promise<SimResponse> {
  if (req.path === '/sim' || req.path === '/sim/') {
    const routes = ROUTES.map((r) => `${r.method} ${r.path} — ${r.summary}`);
    return json({ routes: [...routes, 'GET /sim/mini-programs/{appId} — snapshot of one mini program'] });
  }
  const one = MINI_PROGRAM_PATH.exec(req.path);
  if (one !== null && req.method === 'GET') {
    const snapshot = sim.miniProgram(decodeURIComponent(one[1] ?? ''));
    return snapshot === undefined ? json({ error: 'not found', code: 'MINI_PROGRAM_UNKNOWN' }, 404) : json(snapshot);
  }
  const route = ROUTES.find((r) => r.path === req.path && r.method === req.method);
  if (route === undefined) {
    const known = ROUTES.some((r) => r.path === req.path);
    if (known) return json({ error: `method ${req.method} not allowed` }, 405);
    return json({ error: `no control route ${req.path}` }, 404);
  }
  try {
    const isForm = req.contentType.startsWith('application/x-www-form-urlencoded');
    const body = isForm ? undefined : parseJson(req.rawBody);
    return await route.handle(sim, body, req);
  } catch (error) {
    return controlError(error);
  }
}

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    const issues = [{ path: '', message: 'invalid JSON' }];
    throw new ValidationError('request body is not valid JSON', issues, { code: 'SIM_INVALID_JSON' });
  }
}

// The control API answers with the same statuses as our own functions, from the same table.
const statusOf = (category: ErrorCategory): number => STATUS_BY_CATEGORY[category];

export function controlError(error: unknown): SimResponse {
  if (isAppError(error)) {
    const issues = error instanceof ValidationError ? { issues: error.issues } : {};
    const field = error.field === undefined ? {} : { field: error.field };
    return json({ error: error.message, code: error.code, ...field, ...issues }, statusOf(error.category));
  }
  return json({ error: error instanceof Error ? error.message : String(error), code: 'SIM_INTERNAL' }, 500);
}

/** `/sim/scan`: JSON for programs; the HTML form of the authorization page gets a 302 or an error page. */
async function scan(sim: ControlTarget, body: unknown, req: ControlRequest): Promise<SimResponse> {
  if (!req.contentType.startsWith('application/x-www-form-urlencoded')) {
    return json(await sim.scanAuthorization(parseControl(scanSchema, body, 'scan')));
  }
  const form = new URLSearchParams(req.rawBody);
  const optional = (name: string): string | undefined => {
    const value = form.get(name);
    return value === null || value === '' ? undefined : value;
  };
  const authType = optional('auth_type');
  const input: Record<string, unknown> = {
    preAuthCode: form.get('pre_auth_code') ?? '',
    appId: form.get('app_id') ?? '',
    funcScopeIds: form.getAll('func_scope_id').map(Number),
  };
  const redirectUri = optional('redirect_uri');
  const bizAppId = optional('biz_appid');
  if (redirectUri !== undefined) input.redirectUri = redirectUri;
  if (bizAppId !== undefined) input.bizAppId = bizAppId;
  if (authType !== undefined) input.authType = Number(authType);
  try {
    const location = sim.scanAndRedirect(parseControl(scanSchema, input, 'scan'));
    return { kind: 'redirect', location };
  } catch (error) {
    const message = isAppError(error) ? `${error.message} (${error.code})` : String(error);
    const status = isAppError(error) ? statusOf(error.category) : 500;
    return html(renderErrorPage(message), status);
  }
}

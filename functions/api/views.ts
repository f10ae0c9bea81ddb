/**
 * What the `api` function answers: the response schemas (they are also the OpenAPI document's) and the mappings
 * from stored documents to them. A view leaves out what a frontend must not see (API key hashes) or should not
 * build on (the poller's bookkeeping), so those can change without breaking a client.
 */

import { type Asset, assetSchema } from '../../shared/app/collections';
import { type Account, accountSchema, primaryOf } from '../../shared/domain/account';
import { APP_WARNING_CODES, type App, type AssetMeta, appSchema, effectiveTheme, IOT_VIDEO_THEME_DEFAULTS } from '../../shared/domain/app';
import { appStatusOf, appStatusSchema, appWarnings } from '../../shared/domain/app-state';
import { lazyTarget } from '../../shared/domain/common';
import { type Deployment, deploymentSchema, deploymentStateSchema } from '../../shared/domain/deployment';
import {
  type MiniProgram,
  miniProgramRoleSchema,
  miniProgramSchema,
  miniProgramStatusSchema,
  rolesOf,
} from '../../shared/domain/mini-program';
import { hasCodePermissions } from '../../shared/domain/rules';
import { libraryTemplateSchema } from '../../shared/domain/templates';
import * as z from '../../shared/domain/zod';

// ------------------------------------------------------------------------------------------------ accounts

/** Why an account cannot publish (`publishBlockedCode`). */
export const PUBLISH_BLOCKED_CODES = ['PRIMARY_NOT_BOUND', 'PRIMARY_UNBOUND', 'PRIMARY_TAKEN'] as const;

export const accountView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.extend(z.omit(lazyTarget(accountSchema), { apiKeyHashes: true }), {
      apiKeyCount: z.described(
        z.number().check(z.int(), z.gte(0)),
        'Live API keys (at most 2: a rotation keeps the previous one working).',
      ),
      primaryMiniProgramStatus: z.described(
        z.nullable(z.object({ status: miniProgramStatusSchema, statusReason: z.nullable(z.string()), nickname: z.string() })),
        "The primary mini program's authorization as WeChat last reported it; null when none was ever bound.",
      ),
      canPublish: z.described(z.boolean(), 'False while no primary mini program is bound: no mini program of the account can publish.'),
      publishBlockedReason: z.nullable(z.string()),
      publishBlockedCode: z.described(
        z.nullable(z.enum(PUBLISH_BLOCKED_CODES)),
        'Why canPublish is false, by a stable code (publishBlockedReason says it in English): PRIMARY_NOT_BOUND (never bound), PRIMARY_UNBOUND (unbound here or revoked on WeChat), PRIMARY_TAKEN (another account bound it). null when canPublish.',
      ),
    }),
    { id: 'Account' },
  ),
);
export type AccountView = z.infer<typeof accountView>;

export function toAccountView(account: Account, primary: MiniProgram | null): AccountView {
  const { apiKeyHashes, ...rest } = account;
  const bound = primaryOf(account) !== null;
  const was = account.primaryMiniProgram;
  // Why the primary went: unbound here, revoked on WeChat, or taken by another account (the history says which).
  const why = was ? account.history.findLast((e) => e.miniProgramAppid === was.appid && e.event !== 'primary-bound') : undefined;
  return {
    ...rest,
    apiKeyCount: apiKeyHashes.length,
    primaryMiniProgramStatus: primary ? { status: primary.status, statusReason: primary.statusReason, nickname: primary.nickname } : null,
    canPublish: bound,
    publishBlockedCode: bound
      ? null
      : !was
        ? 'PRIMARY_NOT_BOUND'
        : why?.event === 'mini-program-taken'
          ? 'PRIMARY_TAKEN'
          : 'PRIMARY_UNBOUND',
    publishBlockedReason: bound
      ? null
      : was
        ? `${why ? why.message : `The primary mini program ${was.appid} was unbound.`} No mini program of this account can publish until a primary is bound again.`
        : 'Bind the account’s primary mini program first (POST /v1/authorizations with purpose bind-primary).',
  };
}

export const accountCreatedView = /* @__PURE__ */ z.lazy(() =>
  z.object({
    account: accountView,
    apiKey: z.described(z.string(), 'Shown this once; only its hash is stored.'),
  }),
);

export const apiKeyView = /* @__PURE__ */ z.lazy(() =>
  z.object({
    apiKey: z.described(z.string(), 'Shown this once. The previous key keeps working until the next rotation.'),
  }),
);

// ---------------------------------------------------------------------------------------------------- apps

const colours = /* @__PURE__ */ z.lazy(() => z.object({ mainColor: z.string(), secondaryColor: z.string() }));

/** What the stored app does not say by itself: derived at every read. */
const appDerived = /* @__PURE__ */ z.lazy(() =>
  z.object({
    status: z.described(
      appStatusSchema,
      'unlinked: no mini program; configuring: ready to build (nothing open; after a cancel too); building, built, in-review, rejected, withdrawn, approved, releasing, failed (retryable): the open deployment’s step; released: the latest deployment was released.',
    ),
    latestDeployment: z.described(
      z.nullable(z.object({ id: z.string(), state: deploymentStateSchema })),
      'The deployment the status comes from; null before the first build.',
    ),
    warnings: z.described(
      z.array(
        z.object({
          field: z.string(),
          code: z.enum(APP_WARNING_CODES),
          message: z.string(),
          params: z.record(z.string(), z.union([z.string(), z.number()])),
        }),
      ),
      'Accepted, but worth fixing: an image wider than the template suggests, products not linked. A build is not refused for them. `code` is stable; `message` is English, made of `params` (a client words it in its own language from code and params).',
    ),
    effectiveTheme: z.described(
      z.nullable(colours),
      'iot-video: the colours the mini program shows, the template’s defaults where config.theme has none (after reset-theme: the defaults). null for lowcode.',
    ),
    themeDefaults: z.described(
      z.nullable(colours),
      'iot-video: the template’s default colours, what reset-theme returns to. null for lowcode.',
    ),
  }),
);

export const appView = /* @__PURE__ */ z.lazy(() => z.registered(z.intersection(appSchema, appDerived), { id: 'App' }));
export type AppView = z.infer<typeof appView>;
export const appListView = /* @__PURE__ */ z.lazy(() => z.object({ apps: z.array(appView) }));

export const toAppView = (app: App, latest: Deployment | null, assets: ReadonlyMap<string, AssetMeta>): AppView => ({
  ...app,
  status: appStatusOf(app, latest),
  latestDeployment: latest ? { id: latest.id, state: latest.state } : null,
  warnings: appWarnings(app, assets).map((warning) => ({
    field: warning.path,
    code: warning.code,
    message: warning.message,
    params: warning.params,
  })),
  effectiveTheme: app.kind === 'iot-video' ? effectiveTheme(app.config) : null,
  themeDefaults: app.kind === 'iot-video' ? { ...IOT_VIDEO_THEME_DEFAULTS } : null,
});

// -------------------------------------------------------------------------------------------------- assets

export const assetView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.extend(z.omit(assetSchema, { data: true, accountId: true }), {
      id: z.string(),
      publicUrl: z.described(
        z.nullable(z.string()),
        'Where a mini program downloads the image; null for experience QR codes, which are not public.',
      ),
    }),
    { id: 'Asset' },
  ),
);
export type AssetView = z.infer<typeof assetView>;

export const toAssetView = (id: string, asset: Omit<Asset, 'data'>, publicBaseUrl: string): AssetView => ({
  id,
  kind: asset.kind,
  contentType: asset.contentType,
  width: asset.width,
  height: asset.height,
  size: asset.size,
  createdAt: asset.createdAt,
  publicUrl: asset.kind === 'upload' ? `${publicBaseUrl}/v1/public/assets/${id}` : null,
});

// ------------------------------------------------------------------------------------------- mini programs

export const miniProgramView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.extend(lazyTarget(miniProgramSchema), {
      roles: z.described(
        z.array(miniProgramRoleSchema),
        "primary: the account's bound primary mini program now (unbinding it needs force); target: an app publishes to it (linkedAppId). Both, one or none.",
      ),
      missingPermissionSets: z.described(
        z.array(z.object({ id: z.number().check(z.int()), name: z.string() })),
        'Permission sets the platform needs that the admin did not grant; scanning again fixes it.',
      ),
    }),
    { id: 'MiniProgram' },
  ),
);
export type MiniProgramView = z.infer<typeof miniProgramView>;

/**
 * A mini program no app publishes to (a primary only) needs no set; one an app publishes to needs 18. Set 40
 * depends on the app's plugins: the build names it when it is missing.
 */
export const toMiniProgramView = (mp: MiniProgram, account: Account): MiniProgramView => ({
  ...mp,
  roles: rolesOf(mp, account),
  missingPermissionSets:
    mp.linkedAppId === null
      ? []
      : hasCodePermissions(mp.funcScopeIds, { plugins: false }).missing.map((set) => ({ id: set.id, name: set.name })),
});

export const miniProgramListView = /* @__PURE__ */ z.lazy(() => z.object({ miniPrograms: z.array(miniProgramView) }));

// --------------------------------------------------------------------------------------------- deployments

const pollerFields = { nextPollAt: true, pollAttempts: true } as const;

export const deploymentView = /* @__PURE__ */ z.lazy(() =>
  z.registered(z.omit(lazyTarget(deploymentSchema), pollerFields), { id: 'Deployment' }),
);
export type DeploymentView = z.infer<typeof deploymentView>;

export const deploymentSummaryView = /* @__PURE__ */ z.lazy(() =>
  z.registered(z.omit(lazyTarget(deploymentSchema), { ...pollerFields, history: true, extJson: true }), {
    id: 'DeploymentSummary',
    description: 'A deployment without its history and ext_json: GET the deployment for those.',
  }),
);
export type DeploymentSummaryView = z.infer<typeof deploymentSummaryView>;

export const toDeploymentView = (d: Deployment): DeploymentView => {
  const { nextPollAt: _next, pollAttempts: _attempts, ...view } = d;
  return view;
};

export const toDeploymentSummary = (d: Deployment): DeploymentSummaryView => {
  const { nextPollAt: _next, pollAttempts: _attempts, history: _history, extJson: _extJson, ...summary } = d;
  return summary;
};

export const deploymentListView = /* @__PURE__ */ z.lazy(() => z.object({ deployments: z.array(deploymentSummaryView) }));

// -------------------------------------------------------------------------------------------------- others

export const authorizationView = /* @__PURE__ */ z.lazy(() =>
  z.object({
    url: z.described(z.string(), 'Open it (PC: shows a QR code to scan; mobile: opens in WeChat). Its state is signed and expires.'),
    pcUrl: z.described(z.string(), 'The PC page for the same pre-auth code, whatever `mobile` asked.'),
    mobileUrl: z.described(z.string(), 'The mobile page for the same pre-auth code (the first scan of either spends it).'),
    expiresAt: z.described(z.number().check(z.int()), 'Epoch ms after which the callback refuses the state.'),
  }),
);

export const quotaView = /* @__PURE__ */ z.lazy(() =>
  z.object({
    miniProgramAppid: z.described(z.string(), 'The mini program WeChat was asked through.'),
    rest: z.number().check(z.int()),
    limit: z.number().check(z.int()),
    speedupRest: z.number().check(z.int()),
    speedupLimit: z.number().check(z.int()),
  }),
);

export const templateView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.extend(lazyTarget(libraryTemplateSchema), {
      latest: z.described(
        z.boolean(),
        'The newest template of its code line (same source development mini program): what a build without templateId takes.',
      ),
    }),
    { id: 'Template' },
  ),
);
export const templateListView = /* @__PURE__ */ z.lazy(() => z.object({ templates: z.array(templateView) }));

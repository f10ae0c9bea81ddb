/**
 * The `api` function's routes: accounts and keys, apps and their config, image assets, authorization URLs, and
 * the reads of mini programs, deployments and the audit quota — plus the OpenAPI document of every function.
 *
 * Frontend routes act for the account of the API key and nothing else: every id in a path, query or body is
 * looked up within that account, so another account's id answers 404 with the same code as a missing one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { authorizationUrl } from '../../shared/app/authorization/start';
import {
  assetMetasOf,
  createAccount,
  createApp,
  getAccount,
  getApp,
  getAsset,
  linkAppProducts,
  listApps,
  MAX_ASSET_BYTES,
  putAsset,
  resetAppTheme,
  rotateApiKey,
  updateAppConfig,
} from '../../shared/app/catalog';
import type { Asset } from '../../shared/app/collections';
import { accountOf, type Services } from '../../shared/app/context';
import { getDeployment, latestDeploymentOf, rejectionScreenshot } from '../../shared/app/deployments';
import { readImageMeta } from '../../shared/app/images';
import { templateLibrary } from '../../shared/app/templates';
import { accountSchema } from '../../shared/domain/account';
import {
  type App,
  IMAGE_TYPES,
  iotVideoConfigSchema,
  linkedProductIdsSchema,
  lowcodeConfigSchema,
  newAppInputSchema,
  parseNewApp,
} from '../../shared/domain/app';
import { lazyTarget } from '../../shared/domain/common';
import { deploymentStateSchema } from '../../shared/domain/deployment';
import { NotFoundError, UnsupportedMediaTypeError, ValidationError } from '../../shared/domain/errors';
import { type AccountId, accountIdSchema } from '../../shared/domain/ids';
import { withLatestMarked } from '../../shared/domain/templates';
import * as z from '../../shared/domain/zod';
import { miniProgramParams } from '../../shared/routes/params';
import { documented, OPENAPI_FILE, type OpenApiDocument } from '../../shared/runtime/http/openapi';
import { type AnyRoute, json, mediaTypeOf, type Reply, route } from '../../shared/runtime/http/route';
import { defineCollection } from '../../shared/store/port';
import { metricsRoutes } from './metrics-routes';
import { readinessRoutes } from './readiness-routes';
import { getMiniProgram, listDeployments, listMiniPrograms, primaryMiniProgramOf, queryQuota } from './reads';
import { rolloutRoutes } from './rollout-routes';
import {
  accountCreatedView,
  accountView,
  apiKeyView,
  appListView,
  appView,
  assetView,
  authorizationView,
  deploymentListView,
  deploymentView,
  miniProgramListView,
  miniProgramView,
  quotaView,
  templateListView,
  toAccountView,
  toAppView,
  toAssetView,
  toDeploymentSummary,
  toDeploymentView,
  toMiniProgramView,
} from './views';
import { webhookRoutes } from './webhook-routes';

const healthProbes = defineCollection({ name: 'healthProbes', schema: z.object({ at: z.number() }) });

const idOf = (prefix: string, what: string) =>
  z.described(z.string().check(z.regex(new RegExp(`^${prefix}_[0-9a-z]{1,64}$`), `not ${what}`)), `${what} (${prefix}_…)`);
const accountParams = /* @__PURE__ */ z.lazy(() => z.object({ accountId: z.described(accountIdSchema, 'an account id (acc_…)') }));
const appParams = /* @__PURE__ */ z.lazy(() => z.object({ appId: idOf('app', 'an app id') }));
const assetParams = /* @__PURE__ */ z.lazy(() => z.object({ assetId: idOf('ast', 'an asset id') }));
const deploymentParams = z.object({ deploymentId: idOf('dep', 'a deployment id') });
const screenshotParams = z.extend(deploymentParams, {
  mediaId: z.described(
    z.string().check(z.regex(/^[0-9A-Za-z_-]{1,128}$/, 'not a WeChat media id')),
    "a media id from the deployment's `audit.screenshots`",
  ),
});
const appConfigSchema = z.union([iotVideoConfigSchema, lowcodeConfigSchema]);

export const authorizationBody = /* @__PURE__ */ z.lazy(() =>
  z
    .strictObject({
      purpose: z.described(
        z.enum(['bind-primary', 'authorize-app']),
        "bind-primary: the account's primary mini program (fixes its subject); authorize-app: a target mini program for an app",
      ),
      appId: z.described(
        z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
        'The app to link the mini program to; required for authorize-app.',
      ),
      mobile: z.described(z.optional(z.boolean()), 'The page opened inside WeChat on a phone instead of the PC page with a QR code.'),
      force: z.described(
        z.optional(z.boolean()),
        "bind-primary only: allow the scanned mini program to change the account's subject (its mini programs of the old subject are then blocked and their deployments in flight voided). Without it such a scan is refused with PRIMARY_SUBJECT_CHANGE_NEEDS_FORCE.",
      ),
    })
    .check(
      z.superRefine((body, ctx) => {
        if (body.purpose === 'authorize-app' && body.appId === undefined) {
          ctx.addIssue({ code: 'custom', path: ['appId'], message: 'required when purpose is authorize-app' });
        }
        if (body.purpose !== 'bind-primary' && body.force !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['force'], message: 'only for purpose bind-primary' });
        }
      }),
    ),
);

const deploymentQuery = /* @__PURE__ */ z.lazy(() =>
  z.object({
    appId: z.optional(idOf('app', 'an app id')),
    state: z.optional(deploymentStateSchema),
    limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  }),
);

/**
 * The domain names fields relative to the app (`config.theme.mainColor`, `name`); a 400 names them as they were
 * sent, like every other 400 of the stack: `body.config.theme.mainColor` when the body is the app,
 * `body.theme.mainColor` when the body is the config. The message stays one sentence: the first field, its problem.
 */
async function reportingFieldsOf<T>(body: 'app' | 'config', run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const inConfig = (path: string) => path === 'config' || path.startsWith('config.');
    if (!(error instanceof ValidationError)) throw error;
    if (body === 'config' && !error.issues.some((issue) => inConfig(issue.path))) throw error;
    const asSent = (path: string) => (body === 'app' ? `body.${path}` : inConfig(path) ? `body${path.slice('config'.length)}` : path);
    const issues = error.issues.map((issue) => ({ ...issue, path: asSent(issue.path) }));
    const first = issues[0];
    throw new ValidationError(first ? `${first.path}: ${first.message}` : error.message, issues, {
      code: error.code,
      cause: error,
      ...(error.details ? { details: error.details } : {}),
    });
  }
}

const imageBytesReply = (bytes: Buffer, contentType: string, cacheControl: string): Reply => ({
  status: 200,
  bytes,
  contentType,
  headers: { 'cache-control': cacheControl, 'x-content-type-options': 'nosniff' },
});
const imageReply = (asset: Asset, cacheControl: string): Reply =>
  imageBytesReply(Buffer.from(asset.data, 'base64'), asset.contentType, cacheControl);

// The bytes behind an asset id never change, so a reader may keep them; the account's copy stays private.
const PRIVATE_IMMUTABLE = 'private, max-age=31536000, immutable';
const PUBLIC_IMMUTABLE = 'public, max-age=31536000, immutable';

/** An app as frontends read it: with its status, latest deployment, warnings and effective theme. */
const appViewOf = async (services: Services, accountId: AccountId, app: App) =>
  toAppView(app, await latestDeploymentOf(services, app.id), await assetMetasOf(services, accountId, app));

async function accountDetails(services: Services, accountId: AccountId) {
  const account = (await getAccount(services, accountId)).data;
  return toAccountView(account, await primaryMiniProgramOf(services, accountId, account.primaryMiniProgram?.appid));
}

/**
 * The OpenAPI document, with this deployment's URL. The build defines `process.env.WXA_BUNDLE_OPENAPI_FILE` as
 * "true" in the bundles (scripts/build.ts), so the generator's `import()` is a dead branch there, dropped with it.
 */
async function servedOpenApiDocument(own: readonly AnyRoute[], publicBaseUrl: string): Promise<OpenApiDocument> {
  return process.env.WXA_BUNDLE_OPENAPI_FILE === 'true'
    ? { ...(JSON.parse(readFileSync(join(__dirname, OPENAPI_FILE), 'utf8')) as OpenApiDocument), servers: [{ url: publicBaseUrl }] }
    : (await import('./openapi-document')).generateOpenApiDocument(own, publicBaseUrl);
}

export const routes = (services: Services): AnyRoute[] => {
  const probes = services.store.collection(healthProbes);
  let document: OpenApiDocument | undefined;
  const viewOf = (accountId: AccountId, app: App) => appViewOf(services, accountId, app);

  const own: AnyRoute[] = [
    route({
      method: 'GET',
      path: '/v1/health',
      auth: 'public',
      summary: 'Liveness and store round-trip',
      response: z.lazy(() => z.object({ ok: z.literal(true), storeRoundTripMs: z.number() })),
      handle: async () => {
        const started = services.clock();
        // A short-lived write + read proves the store accepts writes, not just that the process runs.
        await probes.insert(`probe-${started}-${Math.random().toString(36).slice(2)}`, { at: started }, { expiresAt: started + 60_000 });
        return json(200, { ok: true, storeRoundTripMs: services.clock() - started });
      },
    }),

    documented(
      route({
        method: 'GET',
        path: '/openapi.json',
        auth: 'public',
        summary: 'This API, every function of it, as an OpenAPI 3.1 document generated from the route declarations',
        handle: async () => {
          // Built on first use: the routes cannot change while the instance lives.
          document ??= await servedOpenApiDocument(own, services.config.publicBaseUrl);
          return json(200, document, { 'cache-control': 'public, max-age=300' });
        },
      }),
      { description: 'The OpenAPI document itself (JSON).' },
    ),

    // ---------------------------------------------------------------------------------------------- accounts
    route({
      method: 'POST',
      path: '/v1/accounts',
      status: 201,
      auth: 'admin',
      summary: 'Create an account and its first API key (shown once, stored hashed)',
      body: z.lazy(() => z.strictObject({ name: lazyTarget(accountSchema).shape.name })),
      response: accountCreatedView,
      handle: async ({ body }) => {
        const { account, apiKey } = await createAccount(services, body.name);
        return json(201, { account: toAccountView(account, null), apiKey });
      },
    }),
    route({
      method: 'GET',
      path: '/v1/accounts/{accountId}',
      auth: 'admin',
      summary: 'An account, with its primary mini program status',
      params: accountParams,
      response: accountView,
      handle: async ({ params }) => json(200, await accountDetails(services, params.accountId)),
    }),
    route({
      method: 'GET',
      path: '/v1/account',
      auth: 'account',
      summary: 'The account of the API key, with its primary mini program status and whether it can publish',
      response: accountView,
      handle: async ({ principal }) => json(200, await accountDetails(services, accountOf(principal))),
    }),
    documented(
      route({
        method: 'POST',
        path: '/v1/account/api-keys',
        status: 201,
        auth: 'account',
        summary: 'Rotate: issue a new API key (shown once); the previous one keeps working until the next rotation',
        response: apiKeyView,
        handle: async ({ principal }) => json(201, { apiKey: await rotateApiKey(services, accountOf(principal)) }),
      }),
      { description: 'At most two keys are live: issuing a third revokes the oldest.' },
    ),

    // -------------------------------------------------------------------------------------------------- apps
    documented(
      route({
        method: 'POST',
        path: '/v1/apps',
        status: 201,
        auth: 'account',
        summary: 'Create an app (lowcode or iot-video) with its config',
        // Read by the domain, so that a mistake in the config is APP_CONFIG_INVALID here as on PUT …/config.
        body: z.lazy(() => z.record(z.string(), z.unknown())),
        response: appView,
        handle: async ({ body, principal }) =>
          json(
            201,
            await viewOf(
              accountOf(principal),
              await reportingFieldsOf('app', () => createApp(services, accountOf(principal), parseNewApp(body))),
            ),
          ),
      }),
      {
        bodyDocumentedAs: newAppInputSchema,
        description:
          'Images in the config are asset ids (POST /v1/assets first); their type is checked, and a width over what the template suggests is a warning. A mistake in the config answers APP_CONFIG_INVALID, any other INVALID_BODY.',
      },
    ),
    route({
      method: 'GET',
      path: '/v1/apps',
      auth: 'account',
      summary: "The account's apps",
      response: appListView,
      handle: async ({ principal }) => {
        const accountId = accountOf(principal);
        return json(200, { apps: await Promise.all((await listApps(services, accountId)).map((app) => viewOf(accountId, app))) });
      },
    }),
    route({
      method: 'GET',
      path: '/v1/apps/{appId}',
      auth: 'account',
      summary:
        'An app: its status, latest deployment, warnings, effective theme, its mini program and, when it lost it, why (linkLostReason)',
      params: appParams,
      response: appView,
      handle: async ({ params, principal }) =>
        json(200, await viewOf(accountOf(principal), (await getApp(services, accountOf(principal), params.appId)).data)),
    }),
    documented(
      route({
        method: 'PUT',
        path: '/v1/apps/{appId}/config',
        auth: 'account',
        summary: "Replace the app's config; validated for the app's kind, every bad field reported with its path",
        params: appParams,
        // Which schema applies depends on the stored app's kind, so the route only asks for an object.
        body: z.lazy(() => z.record(z.string(), z.unknown())),
        response: appView,
        handle: async ({ params, body, principal }) =>
          json(
            200,
            await viewOf(
              accountOf(principal),
              await reportingFieldsOf('config', () => updateAppConfig(services, accountOf(principal), params.appId, body)),
            ),
          ),
      }),
      { bodyDocumentedAs: appConfigSchema, description: 'The body is the config of the app’s kind: iot-video or lowcode.' },
    ),
    route({
      method: 'POST',
      path: '/v1/apps/{appId}/config/reset-theme',
      auth: 'account',
      summary: "Reset an iot-video app's theme colours to the template's (both, or those listed)",
      params: appParams,
      body: z.lazy(() =>
        z.optional(
          z.strictObject({
            colours: z.optional(z.array(z.enum(['mainColor', 'secondaryColor'])).check(z.minLength(1))),
          }),
        ),
      ),
      response: appView,
      handle: async ({ params, body, principal }) =>
        json(200, await viewOf(accountOf(principal), await resetAppTheme(services, accountOf(principal), params.appId, body?.colours))),
    }),
    route({
      method: 'PUT',
      path: '/v1/apps/{appId}/products',
      auth: 'account',
      summary:
        'Link an iot-video app to its IoT Video products (seed 003 step 3): the mini program lets users add devices of these by hand',
      params: appParams,
      body: z.lazy(() => z.strictObject({ productIds: linkedProductIdsSchema })),
      response: appView,
      handle: async ({ params, body, principal }) =>
        json(200, await viewOf(accountOf(principal), await linkAppProducts(services, accountOf(principal), params.appId, body.productIds))),
    }),

    // ------------------------------------------------------------------------------------------------ assets
    route({
      method: 'POST',
      path: '/v1/assets',
      status: 201,
      auth: 'account',
      summary: `Upload an image: its bytes are the body (PNG, JPEG or GIF, at most ${MAX_ASSET_BYTES / 1024} KiB)`,
      bodyTypes: IMAGE_TYPES,
      response: assetView,
      handle: async ({ headers, rawBody, principal }) => {
        const declared = mediaTypeOf(headers['content-type']);
        if (!IMAGE_TYPES.includes(declared)) {
          throw new UnsupportedMediaTypeError(
            `send the image bytes with content-type image/png, image/jpeg or image/gif, not ${declared || 'none'}`,
            {
              field: 'headers.content-type',
            },
          );
        }
        // The width limits are checked against the file, so the file must be what the client says it is.
        if (rawBody.length > 0 && rawBody.length <= MAX_ASSET_BYTES) {
          const actual = readImageMeta(rawBody).contentType;
          if (actual !== declared) {
            throw new ValidationError(
              `the body is ${actual}, not ${declared}`,
              [{ path: 'headers.content-type', message: `the body is ${actual}` }],
              {
                code: 'IMAGE_TYPE_MISMATCH',
              },
            );
          }
        }
        const { id, ...asset } = await putAsset(services, accountOf(principal), rawBody);
        return json(201, toAssetView(id, asset, services.config.publicBaseUrl));
      },
    }),
    documented(
      route({
        method: 'GET',
        path: '/v1/assets/{assetId}',
        auth: 'account',
        summary: "One of the account's images (uploads and experience QR codes), as bytes",
        params: assetParams,
        handle: async ({ params, principal }) =>
          imageReply(await getAsset(services, accountOf(principal), params.assetId), PRIVATE_IMMUTABLE),
      }),
      { responseContentTypes: IMAGE_TYPES },
    ),
    documented(
      route({
        method: 'GET',
        path: '/v1/public/assets/{assetId}',
        auth: 'public',
        summary: 'An uploaded image as the published mini program downloads it (no API key)',
        params: assetParams,
        handle: async ({ params }) => {
          const asset = await getAsset(services, null, params.assetId);
          // Experience QR codes let testers open unreleased code: they stay behind the account's key.
          if (asset.kind !== 'upload')
            throw new NotFoundError(`asset ${params.assetId} not found`, { code: 'ASSET_NOT_FOUND', field: 'assetId' });
          return imageReply(asset, PUBLIC_IMMUTABLE);
        },
      }),
      { responseContentTypes: IMAGE_TYPES },
    ),

    // ---------------------------------------------------------------------------------------- authorizations
    documented(
      route({
        method: 'POST',
        path: '/v1/authorizations',
        status: 201,
        auth: 'account',
        summary: "A WeChat authorization page URL: bind the account's primary mini program, or authorize one for an app",
        body: authorizationBody,
        response: authorizationView,
        handle: async ({ body, principal }) =>
          json(
            201,
            await authorizationUrl(services, accountOf(principal), {
              purpose: body.purpose,
              ...(body.appId !== undefined ? { appId: body.appId } : {}),
              ...(body.mobile !== undefined ? { mobile: body.mobile } : {}),
              ...(body.force !== undefined ? { force: body.force } : {}),
            }),
          ),
      }),
      { description: 'The URL carries a signed state naming the account and app; it expires after 30 minutes.' },
    ),

    // ----------------------------------------------------------------------------------------- mini programs
    route({
      method: 'GET',
      path: '/v1/mini-programs',
      auth: 'account',
      summary: "The account's mini programs",
      response: miniProgramListView,
      handle: async ({ principal }) => {
        const account = (await getAccount(services, accountOf(principal))).data;
        return json(200, { miniPrograms: (await listMiniPrograms(services, account.id)).map((mp) => toMiniProgramView(mp, account)) });
      },
    }),
    route({
      method: 'GET',
      path: '/v1/mini-programs/{appid}',
      auth: 'account',
      summary: 'A mini program: status, subject, roles, linked app, plugins, permission sets and link history',
      params: miniProgramParams,
      response: miniProgramView,
      handle: async ({ params, principal }) => {
        const account = (await getAccount(services, accountOf(principal))).data;
        return json(200, toMiniProgramView((await getMiniProgram(services, account.id, params.appid)).data, account));
      },
    }),

    // ------------------------------------------------------------------------------------------- deployments
    route({
      method: 'GET',
      path: '/v1/deployments',
      auth: 'account',
      summary: "The account's deployments, newest first, optionally of one app or in one state",
      query: deploymentQuery,
      response: deploymentListView,
      handle: async ({ query, principal }) =>
        json(200, { deployments: (await listDeployments(services, accountOf(principal), query)).map(toDeploymentSummary) }),
    }),
    route({
      method: 'GET',
      path: '/v1/deployments/{deploymentId}',
      auth: 'account',
      summary: 'A deployment with its full history (every transition: who, when, why, WeChat errcode)',
      params: deploymentParams,
      response: deploymentView,
      handle: async ({ params, principal }) =>
        json(200, toDeploymentView((await getDeployment(services, accountOf(principal), params.deploymentId)).data)),
    }),
    documented(
      route({
        method: 'GET',
        path: '/v1/deployments/{deploymentId}/qrcode',
        auth: 'account',
        summary: "The deployment's experience QR code image (404 QR_NOT_READY until the build stored it)",
        params: deploymentParams,
        handle: async ({ params, principal }) => {
          const accountId = accountOf(principal);
          const deployment = (await getDeployment(services, accountId, params.deploymentId)).data;
          if (!deployment.qrAssetId) {
            throw new NotFoundError(`deployment ${deployment.id} has no experience QR code yet (state ${deployment.state})`, {
              code: 'QR_NOT_READY',
              details: { state: deployment.state },
            });
          }
          // A retried build may store a new QR: this URL's bytes can change, so clients revalidate.
          return imageReply(await getAsset(services, accountId, deployment.qrAssetId), 'private, no-cache');
        },
      }),
      { responseContentTypes: IMAGE_TYPES },
    ),

    documented(
      route({
        method: 'GET',
        path: '/v1/deployments/{deploymentId}/screenshots/{mediaId}',
        auth: 'account',
        summary:
          "A screenshot of WeChat's audit rejection, read from WeChat (404 SCREENSHOT_NOT_FOUND for an id not in the deployment's audit.screenshots)",
        params: screenshotParams,
        handle: async ({ params, principal, signal }) => {
          const shot = await rejectionScreenshot(services, accountOf(principal), params.deploymentId, params.mediaId, signal);
          // A media id names one permanent material: the reader may keep it a day without asking WeChat again.
          return imageBytesReply(shot.bytes, shot.contentType, 'private, max-age=86400');
        },
      }),
      { responseContentTypes: IMAGE_TYPES },
    ),

    // --------------------------------------------------------------------------------------------- templates
    route({
      method: 'GET',
      path: '/v1/templates',
      auth: 'account',
      summary:
        "The platform's code templates (WeChat's template library), newest first, each line's latest version marked; what an app's templateId names",
      response: templateListView,
      handle: async ({ signal }) => json(200, { templates: withLatestMarked(await templateLibrary(services, signal)) }),
    }),

    // ------------------------------------------------------------------------------------------------- quota
    route({
      method: 'GET',
      path: '/v1/quota',
      auth: 'account',
      summary: "The platform's audit quota (WeChat queryquota), asked through the account's primary or any authorized mini program",
      response: quotaView,
      handle: async ({ principal, signal }) => json(200, await queryQuota(services, accountOf(principal), signal)),
    }),

    ...readinessRoutes(services),
    // ---------------------------------------------------------------------------------------------- webhooks
    ...webhookRoutes(services),
    ...metricsRoutes(services),
    ...rolloutRoutes(services),
  ];
  return own;
};

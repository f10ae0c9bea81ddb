/**
 * Isolation: a second account gets 404 — the code a missing id gets — on every frontend route, of every function,
 * for the first account's ids. The routes come from the served OpenAPI document, so a route added later is
 * covered without touching this file (or fails here, asking for a sample id or body).
 */
import { randomBytes } from 'node:crypto';
import { type Call, type Client, pngOfWidth } from '../../infra/local/driver';
import { linkApp } from '../../shared/domain/app';
import { exampleIotVideoConfig } from '../../shared/domain/examples';
import { type AccountId, appIdSchema, assetIdSchema } from '../../shared/domain/ids';
import * as z from '../../shared/domain/zod';
import { errorOf, idReply, platformForFile, postIotVideoApp, seedMiniProgram, uniqueAppid, uploadPng } from './support';

const world = platformForFile();

interface Owner {
  id: AccountId;
  api: Client;
  ids: { appId: string; assetId: string; deploymentId: string; appid: string; qrAssetId: string; webhookId: string; rolloutId: string };
  config: unknown;
}
let first: Owner;
let second: { id: AccountId; api: Client };

/** The first account's world: an iot-video app with its images, a mini program linked to it, a built deployment. */
async function ownerWithData(): Promise<Owner> {
  const { id, api } = await world.newAccount(`First ${randomBytes(3).toString('hex')}`);
  const images = {
    appDownloadQr: await uploadPng(api, 120),
    instructions: await uploadPng(api, 300),
    manual: await uploadPng(api, 500),
    homeBottom: await uploadPng(api, 750),
    doorLockTop: await uploadPng(api, 750),
  } as const;
  const config = exampleIotVideoConfig(images);
  const appReply = await postIotVideoApp(api, config);
  const appId = appIdSchema.parse(idReply.parse(appReply.body).id);

  // Binding and building need WeChat round trips the pipeline tests cover; here the results are enough.
  const appid = uniqueAppid();
  await seedMiniProgram(world.s, id, appid, { linkedAppId: appId });
  const app = await world.s.db.apps.get(appId);
  if (!app) throw new Error('the app should exist');
  await world.s.db.apps.update(appId, app.version, linkApp(app.data, appid, Date.now()));
  const deployment = await world.seedDeployment({ accountId: id, appId, appid, at: Date.now(), built: pngOfWidth(430, 430) });
  const webhookReply = await api.post('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', eventTypes: ['deployment.state_changed'] });
  const webhookId = z.object({ webhook: z.object({ id: z.string() }) }).parse(webhookReply.body).webhook.id;
  const rolloutReply = await api.post('/v1/rollouts', { templateId: 201, userVersion: '2.0.0', selection: { appIds: [appId] } });
  const rolloutId = idReply.parse(rolloutReply.body).id;

  return {
    id,
    api,
    config,
    ids: {
      appId,
      assetId: images.appDownloadQr,
      deploymentId: deployment.id,
      appid,
      qrAssetId: deployment.qrAssetId ?? '',
      webhookId,
      rolloutId,
    },
  };
}

beforeAll(async () => {
  first = await ownerWithData();
  second = await world.newAccount(`Second ${randomBytes(3).toString('hex')}`);
});

const operationSchema = z.object({ operationId: z.string(), 'x-auth': z.enum(['public', 'account', 'admin']) });
const documentSchema = z.object({ paths: z.record(z.string(), z.record(z.string(), operationSchema)) });

interface FrontendRoute {
  method: string;
  path: string;
}

async function frontendRoutes(): Promise<FrontendRoute[]> {
  const document = documentSchema.parse(await (await fetch(`${world.p.url}/openapi.json`)).json());
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, operation]) => operation['x-auth'] === 'account')
      .map(([method]) => ({ method: method.toUpperCase(), path })),
  );
}

/** Ids of the first account, by path parameter name, and ids nobody has, in the same format. */
// A screenshot route looks the deployment up first: any well-formed media id shows whose deployment it is.
const idsFor = (owner: Owner): Record<string, string> => ({ ...owner.ids, mediaId: 'media_of_a_rejection' });
const MISSING: Record<string, string> = {
  mediaId: 'media_of_a_rejection',
  appId: 'app_doesnotexist',
  assetId: 'ast_doesnotexist',
  deploymentId: 'dep_doesnotexist',
  webhookId: 'whk_doesnotexist',
  rolloutId: 'rol_doesnotexist',
  appid: uniqueAppid(),
};

/** A body each route accepts, so that the request reaches the id lookup rather than failing validation. */
function bodyFor(route: FrontendRoute, owner: Owner): unknown {
  if (route.method === 'PUT' && route.path === '/v1/apps/{appId}/config') return owner.config;
  if (route.path === '/v1/apps/{appId}/deployments') return { userVersion: '9.9.9', userDesc: 'not yours' };
  if (route.path === '/v1/apps/{appId}/products') return { productIds: [] };
  if (route.path === '/v1/webhooks/{webhookId}/redeliver') return { since: 0 };
  if (route.path === '/v1/rollouts/{rolloutId}/release-wave') return { wave: 0 };
  return {};
}

async function call(api: Client, route: FrontendRoute, ids: Record<string, string>, owner: Owner): Promise<Call> {
  const path = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const id = ids[name];
    if (!id) throw new Error(`no sample id for {${name}} in ${route.method} ${route.path}: add one to this test`);
    return id;
  });
  if (route.method === 'GET') return api.get(path);
  return api.raw(route.method, path, bodyFor(route, owner), { 'content-type': 'application/json' });
}

describe('isolation between accounts', () => {
  it('answers 404, with the missing-id code, on every frontend route with an id of another account', async () => {
    const withIds = (await frontendRoutes()).filter((route) => route.path.includes('{'));
    // The api's own id routes at least; the pipeline functions' routes join them from the same document.
    expect(withIds.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'GET /v1/apps/{appId}',
        'PUT /v1/apps/{appId}/config',
        'POST /v1/apps/{appId}/config/reset-theme',
        'GET /v1/assets/{assetId}',
        'GET /v1/mini-programs/{appid}',
        'GET /v1/deployments/{deploymentId}',
        'GET /v1/deployments/{deploymentId}/qrcode',
        'GET /v1/deployments/{deploymentId}/screenshots/{mediaId}',
      ]),
    );
    const outcomes = [];
    for (const route of withIds) {
      const stranger = await call(second.api, route, idsFor(first), first);
      const missing = await call(first.api, route, MISSING, first);
      outcomes.push({
        route: `${route.method} ${route.path}`,
        status: stranger.status,
        code: stranger.status === 404 ? errorOf(stranger).code : JSON.stringify(stranger.body),
        sameCodeAsMissing: missing.status === 404 && errorOf(missing).code === (stranger.status === 404 ? errorOf(stranger).code : ''),
      });
    }
    expect(outcomes).toEqual(
      outcomes.map((o) => ({ ...o, status: 404, code: expect.stringMatching(/_NOT_FOUND$/), sameCodeAsMissing: true })),
    );
  });

  it('answers 404 for ids of another account in a query or a body', async () => {
    const byApp = await second.api.get(`/v1/deployments?appId=${first.ids.appId}`);
    expect(byApp.status).toBe(404);
    expect(errorOf(byApp).code).toBe('APP_NOT_FOUND');
    const authorization = await second.api.post('/v1/authorizations', { purpose: 'authorize-app', appId: first.ids.appId });
    expect(authorization.status).toBe(404);
    expect(errorOf(authorization).code).toBe('APP_NOT_FOUND');
  });

  it('refuses a config that points at another account’s image as if the image did not exist', async () => {
    const images = {
      appDownloadQr: assetIdSchema.parse(first.ids.assetId),
      instructions: await uploadPng(second.api, 300),
      manual: await uploadPng(second.api, 500),
      homeBottom: await uploadPng(second.api, 750),
      doorLockTop: await uploadPng(second.api, 750),
    } as const;
    const reply = await second.api.post('/v1/apps', {
      kind: 'iot-video',
      name: 'Thief',
      templateId: 201,
      config: exampleIotVideoConfig(images),
    });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).field).toBe('body.config.afterSales.appDownloadQrImage');
    expect(errorOf(reply).message).toContain('does not exist');
  });

  it("lists none of the first account's data to the second", async () => {
    expect((await second.api.get('/v1/apps')).body).toEqual({ apps: [] });
    expect((await second.api.get('/v1/mini-programs')).body).toEqual({ miniPrograms: [] });
    expect((await second.api.get('/v1/deployments')).body).toEqual({ deployments: [] });
    const quota = await second.api.get('/v1/quota');
    expect(quota.status).toBe(409);
  });

  it('left the first account’s data as it was, and the first account still reads all of it', async () => {
    const { appId, assetId, deploymentId, appid, qrAssetId } = first.ids;
    for (const path of [
      `/v1/apps/${appId}`,
      `/v1/assets/${assetId}`,
      `/v1/assets/${qrAssetId}`,
      `/v1/mini-programs/${appid}`,
      `/v1/deployments/${deploymentId}`,
      `/v1/deployments/${deploymentId}/qrcode`,
      `/v1/deployments?appId=${appId}`,
    ]) {
      const reply = await first.api.get(path);
      expect({ path, status: reply.status }).toEqual({ path, status: 200 });
    }
    const deployment = z
      .object({ state: z.string(), history: z.array(z.unknown()) })
      .parse((await first.api.get(`/v1/deployments/${deploymentId}`)).body);
    expect(deployment).toMatchObject({ state: 'built' });
    expect(deployment.history).toHaveLength(6);
    const mp = z
      .object({ status: z.string(), linkedAppId: z.nullable(z.string()) })
      .parse((await first.api.get(`/v1/mini-programs/${appid}`)).body);
    expect(mp).toEqual({ ...mp, status: 'authorized', linkedAppId: appId });
    const app = z
      .object({ config: z.unknown(), miniProgramAppid: z.nullable(z.string()) })
      .parse((await first.api.get(`/v1/apps/${appId}`)).body);
    expect(app).toEqual({ ...app, config: first.config, miniProgramAppid: appid });
  });
});

/**
 * What a new user hits (issue 12): the routes and answers a frontend written from the documents alone relies on.
 */
import { randomBytes } from 'node:crypto';
import { authorize, type Client, createLowcodeApp, deploymentOf, expectStatus, pngOfWidth } from '../../infra/local/driver';
import { templateLibraryCollection } from '../../shared/app/templates';
import { IOT_VIDEO_THEME_DEFAULTS } from '../../shared/domain/app';
import { EXAMPLE_PRODUCT_IDS, exampleIotVideoConfig } from '../../shared/domain/examples';
import { appIdSchema, assetIdSchema } from '../../shared/domain/ids';
import * as z from '../../shared/domain/zod';
import { undocumentedAnswers } from '../support/documented-statuses';
import { errorOf, idReply, iotImages, platformForFile, postIotVideoApp, seedMiniProgram, uniqueAppid } from './support';

const platform = platformForFile();
afterEach(async () => expect(await undocumentedAnswers(platform.p)).toEqual([]));

describe('a POST without a body', () => {
  it('unbinds (every field of the body is optional), like cancel, submit and release take none', async () => {
    const { id, api } = await platform.newAccount();
    const appid = uniqueAppid();
    await seedMiniProgram(platform.s, id, appid);
    const unbound = await api.raw('POST', `/v1/mini-programs/${appid}/unbind`);
    expect(unbound.status).toBe(200);
    expect(unbound.body).toMatchObject({ appid, wasPrimary: false });
  });

  it('still says what is missing where the body has required fields', async () => {
    const { api } = await platform.newAccount();
    const refused = await api.raw('POST', '/v1/authorizations');
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toMatchObject({ code: 'INVALID_BODY', field: 'body', message: 'body: send a JSON object' });
  });
});

describe('one code per kind of mistake, one sentence each', () => {
  const iotApp = (config: unknown) => ({ kind: 'iot-video', name: 'Camera', templateId: 201, config });

  it('answers a bad colour as APP_CONFIG_INVALID on create as on update, naming the field once', async () => {
    const { api } = await platform.newAccount();
    const config = exampleIotVideoConfig(await iotImages(api));
    const created = await postIotVideoApp(api, { ...config, theme: { mainColor: 'blue' } });
    expect(created.status).toBe(400);
    expect(errorOf(created)).toMatchObject({
      code: 'APP_CONFIG_INVALID',
      field: 'body.config.theme.mainColor',
      message: 'body.config.theme.mainColor: a colour is #RRGGBB',
    });

    const { id } = idReply.parse((await postIotVideoApp(api, config)).body);
    const updated = await api.put(`/v1/apps/${id}/config`, { ...config, theme: { mainColor: 'blue' } });
    expect(errorOf(updated)).toMatchObject({
      code: 'APP_CONFIG_INVALID',
      field: 'body.theme.mainColor',
      message: 'body.theme.mainColor: a colour is #RRGGBB',
    });

    // A mistake outside the config is the body's.
    const nameless = await api.post('/v1/apps', { ...iotApp(config), name: '' });
    expect(errorOf(nameless)).toMatchObject({ code: 'INVALID_BODY', field: 'body.name' });
  });

  it('says what is wrong with an image once', async () => {
    const { id: accountId, api } = await platform.newAccount();
    const images = await iotImages(api);
    const { id } = idReply.parse((await postIotVideoApp(api, exampleIotVideoConfig(images))).body);
    const qr =
      (
        await platform.seedDeployment({
          accountId,
          appId: appIdSchema.parse(id),
          appid: uniqueAppid(),
          at: Date.now(),
          built: pngOfWidth(430, 430),
        })
      ).qrAssetId ?? '';
    const refused = await api.put(`/v1/apps/${id}/config`, exampleIotVideoConfig({ ...images, homeBottom: assetIdSchema.parse(qr) }));
    const error = errorOf(refused);
    expect(error).toMatchObject({ code: 'APP_CONFIG_INVALID', field: 'body.homeBottomImage' });
    expect(error.message).toBe(`body.homeBottomImage: ${error.issues?.[0]?.message ?? ''}`);
    expect(error.message.split('experience QR code')).toHaveLength(2);
  });

  it('answers an image over 1 MiB 413, like a body over MAX_BODY_BYTES', async () => {
    const { api } = await platform.newAccount();
    const big = Buffer.concat([pngOfWidth(100), Buffer.alloc(1024 * 1024)]);
    const refused = await api.raw('POST', '/v1/assets', big, { 'content-type': 'image/png' });
    expect(refused.status).toBe(413);
    expect(errorOf(refused)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'body', message: expect.stringContaining('at most 1 MiB') });
  });
});

const appView = z.object({
  id: z.string(),
  status: z.string(),
  latestDeployment: z.nullable(z.object({ id: z.string(), state: z.string() })),
  warnings: z.array(z.object({ field: z.string(), code: z.string(), message: z.string() })),
  effectiveTheme: z.nullable(z.object({ mainColor: z.string(), secondaryColor: z.string() })),
  themeDefaults: z.nullable(z.object({ mainColor: z.string(), secondaryColor: z.string() })),
  config: z.record(z.string(), z.unknown()),
  productIds: z.optional(z.array(z.string())),
});

describe('an iot-video app shows its defaults and products', () => {
  it('reads the effective theme: the template’s colours where the config has none, after reset-theme too', async () => {
    const { api } = await platform.newAccount();
    const created = appView.parse(
      (await postIotVideoApp(api, { ...exampleIotVideoConfig(await iotImages(api)), theme: { mainColor: '#E34D59' } })).body,
    );
    expect(created.themeDefaults).toEqual(IOT_VIDEO_THEME_DEFAULTS);
    expect(created.effectiveTheme).toEqual({ mainColor: '#E34D59', secondaryColor: IOT_VIDEO_THEME_DEFAULTS.secondaryColor });

    const reset = appView.parse((await api.raw('POST', `/v1/apps/${created.id}/config/reset-theme`)).body);
    expect(reset.config.theme).toEqual({});
    expect(reset.effectiveTheme).toEqual(IOT_VIDEO_THEME_DEFAULTS);
    expect(appView.parse((await api.get(`/v1/apps/${created.id}`)).body).effectiveTheme).toEqual(IOT_VIDEO_THEME_DEFAULTS);

    const lowcode = appView.parse((await api.post('/v1/apps', { kind: 'lowcode', name: 'Shop', templateId: 101 })).body);
    expect(lowcode).toMatchObject({ effectiveTheme: null, themeDefaults: null });
  });

  it('links the app to its IoT Video products, and warns while a reminder names a product it is not linked to', async () => {
    const { api } = await platform.newAccount();
    const created = appView.parse((await postIotVideoApp(api, exampleIotVideoConfig(await iotImages(api)))).body);
    expect(created.productIds).toEqual([]);
    expect(created.warnings.map((w) => w.field)).toEqual(['productIds']);

    const one = await api.put(`/v1/apps/${created.id}/products`, { productIds: [EXAMPLE_PRODUCT_IDS[0]] });
    expect(one.status).toBe(200);
    expect(appView.parse(one.body)).toMatchObject({
      productIds: [EXAMPLE_PRODUCT_IDS[0]],
      warnings: [{ field: 'config.reminders.1.defaultProductId', code: 'REMINDER_PRODUCT_NOT_LINKED' }],
    });

    const both = appView.parse((await api.put(`/v1/apps/${created.id}/products`, { productIds: EXAMPLE_PRODUCT_IDS })).body);
    expect(both).toMatchObject({ productIds: EXAMPLE_PRODUCT_IDS, warnings: [] });
    expect(appView.parse((await api.get(`/v1/apps/${created.id}`)).body).productIds).toEqual(EXAMPLE_PRODUCT_IDS);

    const onCreate = appView.parse(
      (
        await api.post('/v1/apps', {
          kind: 'iot-video',
          name: 'Linked',
          templateId: 201,
          productIds: EXAMPLE_PRODUCT_IDS,
          config: exampleIotVideoConfig(await iotImages(api)),
        })
      ).body,
    );
    expect(onCreate.productIds).toEqual(EXAMPLE_PRODUCT_IDS);

    const twice = await api.put(`/v1/apps/${created.id}/products`, { productIds: ['K3LD6E2V9Q', 'K3LD6E2V9Q'] });
    expect(errorOf(twice)).toMatchObject({ code: 'INVALID_BODY', field: 'body.productIds' });
    const lowcode = appView.parse((await api.post('/v1/apps', { kind: 'lowcode', name: 'Shop', templateId: 101 })).body);
    expect(errorOf(await api.put(`/v1/apps/${lowcode.id}/products`, { productIds: EXAMPLE_PRODUCT_IDS }))).toMatchObject({
      code: 'APP_HAS_NO_PRODUCTS',
    });
  });
});

/** A lowcode app of a new account, linked to a mini program of the account's subject (primary bound first). */
async function linkedLowcodeApp(): Promise<{ api: Client; appId: string }> {
  const { p } = platform;
  const { api } = await platform.newAccount();
  const company = `测试科技有限公司${randomBytes(3).toString('hex')}`;
  const primary = uniqueAppid();
  const target = uniqueAppid();
  for (const appid of [primary, target])
    p.sim.addMiniProgram({ appId: appid, nickName: `小程序${appid.slice(-4)}`, principalName: company });
  expect((await authorize(p, api, 'bind-primary', primary)).result.code).toBe('PRIMARY_BOUND');
  const appId = await createLowcodeApp(api);
  expect(appView.parse((await api.get(`/v1/apps/${appId}`)).body).status).toBe('unlinked');
  expect((await authorize(p, api, 'authorize-app', target, appId)).result.ok).toBe(true);
  return { api, appId };
}

describe('an app has a status', () => {
  it('follows its deployment: unlinked → configuring → built → (cancel) configuring again', async () => {
    const { api, appId } = await linkedLowcodeApp();
    const statusOf = async () => appView.parse((await api.get(`/v1/apps/${appId}`)).body);
    expect(await statusOf()).toMatchObject({ status: 'configuring', latestDeployment: null });

    const built = deploymentOf(expectStatus(await api.post(`/v1/apps/${appId}/deployments`, { userVersion: '1.0.0' }), 202));
    expect(await statusOf()).toMatchObject({ status: built.state, latestDeployment: { id: built.id, state: built.state } });
    expect(built.state).toBe('built');

    expectStatus(await api.raw('POST', `/v1/deployments/${built.id}/cancel`), 200);
    expect(await statusOf()).toMatchObject({ status: 'configuring', latestDeployment: { id: built.id, state: 'cancelled' } });
    const listed = z.object({ apps: z.array(appView) }).parse((await api.get('/v1/apps')).body);
    expect(listed.apps.map((app) => app.status)).toEqual(['configuring']);
  });
});

describe('code templates', () => {
  const templates = z.object({
    templates: z.array(
      z.object({
        templateId: z.number(),
        userVersion: z.string(),
        userDesc: z.string(),
        createdAt: z.nullable(z.number()),
        sourceMiniProgramAppid: z.nullable(z.string()),
        latest: z.boolean(),
      }),
    ),
  });

  it('lists WeChat’s template library with versions and descriptions, cached; a build without a template id takes the latest version', async () => {
    const { p, s } = platform;
    const { api } = await platform.newAccount();
    const first = templates.parse(expectStatus(await api.get('/v1/templates'), 200).body).templates;
    expect(first).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ templateId: 101, userVersion: '1.4.0', userDesc: 'lowcode runtime', latest: true }),
      ]),
    );

    // WeChat's library gains version 1.5.0 of the lowcode runtime (the same development mini program as 101).
    const source = first.find((t) => t.templateId === 101)?.sourceMiniProgramAppid;
    p.sim.addTemplate({
      templateId: 150,
      userVersion: '1.5.0',
      userDesc: 'lowcode runtime, dark mode',
      sourceMiniProgramAppid: source ?? '',
      createdAt: Date.now() + 1000,
      pages: ['pages/index/index'],
    });
    // Cached: not listed until the copy expires (dropped here, as if its five minutes had passed).
    expect(templates.parse((await api.get('/v1/templates')).body).templates.map((t) => t.templateId)).not.toContain(150);
    await s.store.collection(templateLibraryCollection).delete('library');
    const fresh = templates.parse((await api.get('/v1/templates')).body).templates;
    expect(fresh.filter((t) => t.templateId === 101 || t.templateId === 150).map((t) => [t.templateId, t.userVersion, t.latest])).toEqual([
      [150, '1.5.0', true],
      [101, '1.4.0', false],
    ]);

    const { api: owner, appId } = await linkedLowcodeApp();
    const latest = expectStatus(await owner.post(`/v1/apps/${appId}/deployments`, { userVersion: '2.0.0' }), 202);
    expect(latest.body).toMatchObject({ templateId: 150, state: 'built' });
    expectStatus(await owner.raw('POST', `/v1/deployments/${deploymentOf(latest).id}/cancel`), 200);
    const pinned = expectStatus(await owner.post(`/v1/apps/${appId}/deployments`, { userVersion: '2.0.1', templateId: 101 }), 202);
    expect(pinned.body).toMatchObject({ templateId: 101 });
  });
});

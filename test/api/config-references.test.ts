/**
 * What an app's config may point at, checked at the API boundary (400 naming the field) rather than found out by
 * WeChat after the build started: images must be the account's uploads (an experience QR code is never served
 * publicly, so its URL in ext_json would be broken), `requiredPrivateInfos` must name geolocation APIs WeChat knows,
 * each once and never fuzzy with precise (85310/85311), and the tab bar and page overrides must stay within `pages`
 * (85046/85045).
 */
import { type Client, type Platform, pngOfWidth } from '../../infra/local/driver';
import type { Services } from '../../shared/app/context';
import { exampleIotVideoConfig, exampleLowcodeConfig } from '../../shared/domain/examples';
import { appIdSchema, assetIdSchema } from '../../shared/domain/ids';
import {
  errorOf,
  idReply,
  newAccount as newAccountOf,
  postIotVideoApp,
  seedDeployment,
  startApiWorld,
  uniqueAppid,
  uploadPng,
} from './support';

let p: Platform;
let s: Services;
let close: () => Promise<void>;
beforeAll(async () => ({ p, s, close } = await startApiWorld()));
afterAll(() => close());

const newAccount = () => newAccountOf(p);

describe('images in an iot-video config', () => {
  it('refuses an experience QR code as an image, naming the field, on update and on create', async () => {
    const { id: accountId, api } = await newAccount();
    const images = {
      appDownloadQr: await uploadPng(api, 150),
      instructions: await uploadPng(api, 370),
      manual: await uploadPng(api, 600),
      homeBottom: await uploadPng(api, 750),
      doorLockTop: await uploadPng(api, 750),
    };
    const { id } = idReply.parse((await postIotVideoApp(api, exampleIotVideoConfig(images))).body);
    // The account's own experience QR code, stored by one of its builds: a real asset, but never public.
    const built = await seedDeployment(s, {
      accountId,
      appId: appIdSchema.parse(id),
      appid: uniqueAppid(),
      at: Date.now(),
      built: pngOfWidth(430, 430),
    });
    const qr = assetIdSchema.parse(built.qrAssetId);
    expect((await fetch(`${p.url}/v1/public/assets/${qr}`)).status).toBe(404);

    const put = await api.put(`/v1/apps/${id}/config`, exampleIotVideoConfig({ ...images, homeBottom: qr }));
    expect(put.status).toBe(400);
    expect(errorOf(put)).toMatchObject({
      code: 'APP_CONFIG_INVALID',
      field: 'body.homeBottomImage',
      message: expect.stringContaining('experience QR code'),
    });

    const create = await api.post('/v1/apps', {
      kind: 'iot-video',
      name: 'Copy',
      templateId: 201,
      config: exampleIotVideoConfig({ ...images, manual: qr }),
    });
    expect(create.status).toBe(400);
    expect(errorOf(create)).toMatchObject({ code: 'APP_CONFIG_INVALID', field: 'body.config.productManuals.0.image' });

    // Nothing of the refused update was kept.
    expect((await api.get(`/v1/apps/${id}`)).body).toMatchObject({ config: { homeBottomImage: images.homeBottom } });
  });
});

describe('a lowcode config', () => {
  const create = (api: Client, config: Record<string, unknown>) =>
    api.post('/v1/apps', { kind: 'lowcode', name: 'Shop', templateId: 101, config });

  it.each<[string, Record<string, unknown>, string]>([
    ['an API WeChat does not know (85310)', { requiredPrivateInfos: ['getLocation', 'getUserLocation'] }, 'requiredPrivateInfos.1'],
    ['an API listed twice', { requiredPrivateInfos: ['chooseAddress', 'chooseLocation', 'chooseAddress'] }, 'requiredPrivateInfos.2'],
    [
      'fuzzy and precise location together (85311)',
      { requiredPrivateInfos: ['getFuzzyLocation', 'getLocation'] },
      'requiredPrivateInfos.1',
    ],
    [
      'a tab outside pages (85046)',
      {
        tabBar: {
          list: [
            { pagePath: 'pages/index/index', text: '首页' },
            { pagePath: 'pages/me/me', text: '我的' },
          ],
        },
      },
      'tabBar.list.1.pagePath',
    ],
    [
      'a page override outside pages (85045)',
      { extPages: { 'pages/gone/gone': { navigationBarTitleText: '?' } } },
      'extPages.pages/gone/gone',
    ],
  ])('refuses %s with the field, on create and on update', async (_name, patch, field) => {
    const { api } = await newAccount();
    const refused = await create(api, { ...exampleLowcodeConfig(), ...patch });
    expect(refused.status).toBe(400);
    expect(errorOf(refused).field).toBe(`body.config.${field}`);

    const { id } = idReply.parse((await create(api, exampleLowcodeConfig())).body);
    const put = await api.put(`/v1/apps/${id}/config`, { ...exampleLowcodeConfig(), ...patch });
    expect(put.status).toBe(400);
    expect(errorOf(put)).toMatchObject({ code: 'APP_CONFIG_INVALID', field: `body.${field}` });
  });

  it('accepts what WeChat accepts', async () => {
    const { api } = await newAccount();
    const config = {
      ...exampleLowcodeConfig(),
      requiredPrivateInfos: ['getFuzzyLocation', 'chooseLocation', 'chooseAddress'],
      tabBar: {
        color: '#000000',
        list: [
          { pagePath: 'pages/index/index', text: '首页' },
          { pagePath: 'pages/cart/cart', text: '购物车' },
        ],
      },
    };
    expect((await create(api, config)).status).toBe(201);
  });
});

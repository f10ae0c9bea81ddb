/**
 * The `api` function over HTTP, through the local runtime (every function of serverless.yml) and the WeChat
 * simulator: accounts and keys, apps and configs, image assets, authorization URLs, reads, quota, idempotency.
 */
import { createHash, randomBytes } from 'node:crypto';
import { authorize, type Client, client, createLowcodeApp, pngOfWidth } from '../../infra/local/driver';
import { BUILT_WALK, exampleIotVideoConfig, exampleLowcodeConfig, walkOf } from '../../shared/domain/examples';
import { appIdSchema } from '../../shared/domain/ids';
import * as z from '../../shared/domain/zod';
import { errorOf, idReply, iotImages, platformForFile, postIotVideoApp, uniqueAppid, uploadPng } from './support';

const world = platformForFile();

const admin = () => client(world.p.url, world.p.adminKey);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const accountCreated = z.object({ account: z.object({ id: z.string(), name: z.string(), apiKeyCount: z.number() }), apiKey: z.string() });
const accountView = z.object({
  id: z.string(),
  name: z.string(),
  apiKeyCount: z.number(),
  primaryStatus: z.string(),
  primaryMiniProgram: z.nullable(z.object({ appid: z.string(), subject: z.string() })),
  primaryMiniProgramStatus: z.nullable(z.object({ status: z.string() })),
  canPublish: z.boolean(),
  publishBlockedReason: z.nullable(z.string()),
  publishBlockedCode: z.nullable(z.string()),
});
const assetReply = z.object({
  id: z.string(),
  kind: z.string(),
  contentType: z.string(),
  width: z.number(),
  height: z.number(),
  size: z.number(),
  publicUrl: z.nullable(z.string()),
});

async function upload(api: Client, bytes: Buffer, contentType = 'image/png') {
  return api.raw('POST', '/v1/assets', bytes, { 'content-type': contentType });
}

describe('accounts and API keys', () => {
  it('lets only the admin create an account: 401 without a key, with a wrong key, and with an account key', async () => {
    const bare = await fetch(`${world.p.url}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"x"}',
    });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe('API_KEY_MISSING');

    const wrong = await client(world.p.url, `adm_${randomBytes(24).toString('base64url')}`).post('/v1/accounts', { name: 'x' });
    expect(wrong.status).toBe(401);
    expect(errorOf(wrong).code).toBe('API_KEY_INVALID');

    const { api } = await world.newAccount();
    const asAccount = await api.post('/v1/accounts', { name: 'x' });
    expect(asAccount.status).toBe(401);
    expect((await api.get('/v1/accounts/acc_whatever')).status).toBe(401);
  });

  it('creates an account with its first key, shown once and stored only as a hash', async () => {
    const reply = await admin().post('/v1/accounts', { name: '  艾克米科技  ' });
    expect(reply.status).toBe(201);
    const { account, apiKey } = accountCreated.parse(reply.body);
    expect(account).toMatchObject({ name: '艾克米科技', apiKeyCount: 1 });
    expect(apiKey).toMatch(/^wxa_/);

    const stored = await world.s.db.accounts.get(account.id);
    expect(stored?.data.apiKeyHashes).toEqual([sha256(apiKey)]);
    expect(JSON.stringify(stored)).not.toContain(apiKey);
    expect(await world.s.db.apiKeys.get(apiKey)).toBeNull();

    // The key works, and nothing shows it again.
    const me = await client(world.p.url, apiKey).get('/v1/account');
    expect(me.status).toBe(200);
    expect(accountView.parse(me.body)).toMatchObject({
      id: account.id,
      primaryStatus: 'none',
      canPublish: false,
      publishBlockedCode: 'PRIMARY_NOT_BOUND',
      primaryMiniProgramStatus: null,
    });
    expect(JSON.stringify(me.body)).not.toContain(apiKey);
    expect(JSON.stringify(me.body)).not.toContain('apiKeyHashes');
    const byAdmin = await admin().get(`/v1/accounts/${account.id}`);
    expect(accountView.parse(byAdmin.body).id).toBe(account.id);
    expect(JSON.stringify(byAdmin.body)).not.toContain(apiKey);
  });

  it('answers 404 to the admin for an unknown account, 400 for something that is not an account id', async () => {
    expect(errorOf(await admin().get('/v1/accounts/acc_doesnotexist')).code).toBe('ACCOUNT_NOT_FOUND');
    const bad = await admin().get('/v1/accounts/nope');
    expect(bad.status).toBe(400);
    expect(errorOf(bad).field).toBe('params.accountId');
  });

  it('refuses a blank account name with the field', async () => {
    const reply = await admin().post('/v1/accounts', { name: '   ' });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).field).toBe('body.name');
  });

  it('rotates keys keeping at most two alive: the newest two work, the oldest stops', async () => {
    const { apiKey: first, id } = await world.newAccount();
    const rotate = async (key: string) => {
      const reply = await client(world.p.url, key).post('/v1/account/api-keys');
      expect(reply.status).toBe(201);
      return z.object({ apiKey: z.string() }).parse(reply.body).apiKey;
    };
    const second = await rotate(first);
    expect((await client(world.p.url, first).get('/v1/account')).status).toBe(200);
    expect((await client(world.p.url, second).get('/v1/account')).status).toBe(200);

    const third = await rotate(second);
    expect(new Set([first, second, third]).size).toBe(3);
    const old = await client(world.p.url, first).get('/v1/account');
    expect(old.status).toBe(401);
    expect(errorOf(old).code).toBe('API_KEY_INVALID');
    expect((await client(world.p.url, second).get('/v1/account')).status).toBe(200);
    const me = accountView.parse((await client(world.p.url, third).get('/v1/account')).body);
    expect(me).toMatchObject({ id, apiKeyCount: 2 });
    expect((await world.s.db.apiKeys.find({ where: { accountId: id } })).length).toBe(2);
  });
});

describe('apps and their config', () => {
  const app = z.object({
    id: z.string(),
    kind: z.string(),
    name: z.string(),
    accountId: z.string(),
    miniProgramAppid: z.nullable(z.string()),
    linkLostReason: z.nullable(z.unknown()),
    config: z.record(z.string(), z.unknown()),
  });

  it('creates, reads and lists apps of both kinds', async () => {
    const { api, id } = await world.newAccount();
    const lowcode = await api.post('/v1/apps', { kind: 'lowcode', name: 'Shop', templateId: 101, config: exampleLowcodeConfig() });
    expect(lowcode.status).toBe(201);
    const created = app.parse(lowcode.body);
    expect(created).toMatchObject({ kind: 'lowcode', name: 'Shop', accountId: id, miniProgramAppid: null, linkLostReason: null });

    const images = await iotImages(api);
    const iot = await postIotVideoApp(api, exampleIotVideoConfig(images));
    expect(iot.status).toBe(201);
    const camera = app.parse(iot.body);

    const fetched = await api.get(`/v1/apps/${camera.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(iot.body);
    const list = z.object({ apps: z.array(app) }).parse((await api.get('/v1/apps')).body);
    expect(list.apps.map((a) => a.id).sort()).toEqual([created.id, camera.id].sort());
  });

  it('refuses a bad field on create with its request path', async () => {
    const { api } = await world.newAccount();
    const config = { ...exampleIotVideoConfig(await iotImages(api)), mapKey: 'not-a-key' };
    const reply = await postIotVideoApp(api, config);
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toMatchObject({ code: 'APP_CONFIG_INVALID', field: 'body.config.mapKey' });
  });

  it('replaces the config, validated for the app kind: a bad field is a 400 naming it', async () => {
    const { api } = await world.newAccount();
    const images = await iotImages(api);
    const { id } = idReply.parse((await postIotVideoApp(api, exampleIotVideoConfig(images))).body);

    const good = { ...exampleIotVideoConfig(images), afterSales: { phone: '010-12345678' } };
    const updated = await api.put(`/v1/apps/${id}/config`, good);
    expect(updated.status).toBe(200);
    expect(app.parse(updated.body).config).toMatchObject({ afterSales: { phone: '010-12345678' } });

    const badColour = await api.put(`/v1/apps/${id}/config`, { ...good, theme: { mainColor: 'blue' } });
    expect(badColour.status).toBe(400);
    const error = errorOf(badColour);
    expect(error).toMatchObject({ code: 'APP_CONFIG_INVALID', field: 'body.theme.mainColor' });
    expect(error.message).toContain('body.theme.mainColor');

    // A lowcode field is unknown to an iot-video app: its kind decides the schema.
    const wrongKind = await api.put(`/v1/apps/${id}/config`, { ...good, ext: {} });
    expect(wrongKind.status).toBe(400);
    expect(errorOf(wrongKind).code).toBe('APP_CONFIG_INVALID');

    const notObject = await api.put(`/v1/apps/${id}/config`, ['x']);
    expect(notObject.status).toBe(400);
    expect(errorOf(notObject).code).toBe('INVALID_BODY');

    // Nothing of the refused updates was kept.
    expect(app.parse((await api.get(`/v1/apps/${id}`)).body).config).toMatchObject({ theme: { mainColor: '#0052D9' } });
  });

  it('resets the theme colours, one or both', async () => {
    const { api } = await world.newAccount();
    const { id } = idReply.parse((await postIotVideoApp(api, exampleIotVideoConfig(await iotImages(api)))).body);
    const one = await api.post(`/v1/apps/${id}/config/reset-theme`, { colours: ['secondaryColor'] });
    expect(one.status).toBe(200);
    expect(app.parse(one.body).config.theme).toEqual({ mainColor: '#0052D9' });
    const both = await api.raw('POST', `/v1/apps/${id}/config/reset-theme`);
    expect(both.status).toBe(200);
    expect(app.parse(both.body).config.theme).toEqual({});

    const lowcode = idReply.parse((await api.post('/v1/apps', { kind: 'lowcode', name: 'Shop', templateId: 101 })).body);
    const refused = await api.post(`/v1/apps/${lowcode.id}/config/reset-theme`, {});
    expect(refused.status).toBe(400);
    expect(errorOf(refused).code).toBe('APP_HAS_NO_THEME');
  });
});

describe('image assets', () => {
  it('stores an upload with its real type and size, and serves it back, privately and publicly', async () => {
    const { api } = await world.newAccount();
    const bytes = pngOfWidth(151, 40);
    const reply = await upload(api, bytes);
    expect(reply.status).toBe(201);
    const asset = assetReply.parse(reply.body);
    expect(asset).toMatchObject({ kind: 'upload', contentType: 'image/png', width: 151, height: 40, size: bytes.length });
    expect(asset.publicUrl).toBe(`${world.p.url}/v1/public/assets/${asset.id}`);

    const back = await api.get(`/v1/assets/${asset.id}`);
    expect(back.status).toBe(200);
    expect(back.headers.get('content-type')).toBe('image/png');
    expect(back.body).toEqual(bytes);

    const open = await fetch(asset.publicUrl ?? '');
    expect(open.status).toBe(200);
    expect(open.headers.get('cache-control')).toContain('public');
    expect(Buffer.from(await open.arrayBuffer())).toEqual(bytes);
  });

  it('accepts a 151 px app-download QR (150 px is a suggestion) and warns, naming the field; 150 px has no warning', async () => {
    const { api } = await world.newAccount();
    const images = await iotImages(api);
    const { id } = idReply.parse((await postIotVideoApp(api, exampleIotVideoConfig(images))).body);
    const wide = await uploadPng(api, 151);
    const warningsOf = (body: unknown) =>
      z
        .object({
          warnings: z.array(
            z.object({
              field: z.string(),
              code: z.string(),
              message: z.string(),
              params: z.record(z.string(), z.union([z.string(), z.number()])),
            }),
          ),
        })
        .parse(body).warnings;

    const put = await api.put(`/v1/apps/${id}/config`, exampleIotVideoConfig({ ...images, appDownloadQr: wide }));
    expect(put.status).toBe(200);
    expect(warningsOf(put.body).filter((w) => w.field.includes('Image'))).toEqual([
      {
        field: 'config.afterSales.appDownloadQrImage',
        // The code and figures a client words the warning with in its reader's language (the console does).
        code: 'IMAGE_WIDER_THAN_SUGGESTED',
        params: { width: 151, suggestedMaxWidth: 150 },
        message: expect.stringContaining('151 px wide and the IoT Video template suggests at most 150 px'),
      },
    ]);
    expect(warningsOf((await api.get(`/v1/apps/${id}`)).body).map((w) => w.field)).toContain('config.afterSales.appDownloadQrImage');

    const create = await api.post('/v1/apps', {
      kind: 'iot-video',
      name: 'Wide',
      templateId: 201,
      config: exampleIotVideoConfig({ ...images, instructions: await uploadPng(api, 371) }),
    });
    expect(create.status).toBe(201);
    expect(warningsOf(create.body).map((w) => w.field)).toContain('config.instructionsImage');

    const fitting = await api.put(`/v1/apps/${id}/config`, exampleIotVideoConfig(images));
    expect(warningsOf(fitting.body).filter((w) => w.field.includes('Image'))).toEqual([]);
  });

  it('refuses a wrong content type (415), a body that is not what it claims, and bytes that are no image', async () => {
    const { api } = await world.newAccount();
    const svg = await upload(api, Buffer.from('<svg/>'), 'image/svg+xml');
    expect(svg.status).toBe(415);
    expect(errorOf(svg).field).toBe('headers.content-type');
    const json = await api.post('/v1/assets', { not: 'an image' });
    expect(json.status).toBe(415);

    const lie = await upload(api, pngOfWidth(10), 'image/gif');
    expect(lie.status).toBe(400);
    expect(errorOf(lie).code).toBe('IMAGE_TYPE_MISMATCH');

    const junk = await upload(api, Buffer.from('definitely not a png'), 'image/png');
    expect(junk.status).toBe(400);
    expect(errorOf(junk).code).toBe('IMAGE_INVALID');

    const empty = await upload(api, Buffer.alloc(0), 'image/png');
    expect(empty.status).toBe(400);
    expect(errorOf(empty).code).toBe('IMAGE_INVALID');
  });

  it('keeps experience QR codes off the public route', async () => {
    const { api, id } = await world.newAccount();
    const qr = await world.seedDeployment({
      accountId: id,
      appId: appIdSchema.parse('app_none'),
      appid: uniqueAppid(),
      at: Date.now(),
      built: pngOfWidth(430, 430),
    });
    const assetId = qr.qrAssetId ?? '';
    expect((await api.get(`/v1/assets/${assetId}`)).status).toBe(200);
    const open = await fetch(`${world.p.url}/v1/public/assets/${assetId}`);
    expect(open.status).toBe(404);
  });
});

describe('authorization URLs', () => {
  it("returns the simulator's authorization page with a signed state naming the account", async () => {
    const { api, id } = await world.newAccount();
    const reply = await api.post('/v1/authorizations', { purpose: 'bind-primary' });
    expect(reply.status).toBe(201);
    const { url, expiresAt } = z.object({ url: z.string(), expiresAt: z.number() }).parse(reply.body);
    expect(url.startsWith(`${world.p.sim.baseUrl}/cgi-bin/componentloginpage?`)).toBe(true);
    expect(expiresAt).toBeGreaterThan(Date.now());

    const page = new URL(url);
    expect(page.searchParams.get('pre_auth_code')).toBeTruthy();
    const redirect = new URL(page.searchParams.get('redirect_uri') ?? '');
    expect(redirect.pathname).toBe('/wechat/bind/callback');
    const state = world.s.signer.verify(redirect.searchParams.get('state') ?? undefined);
    expect(state).toMatchObject({ purpose: 'bind-primary', accountId: id, appId: null });
    // A state altered by one character is refused: it is signed, not just encoded.
    const raw = redirect.searchParams.get('state') ?? '';
    expect(() => world.s.signer.verify(`${raw.slice(0, -1)}${raw.endsWith('A') ? 'B' : 'A'}`)).toThrow(/authorization state/);

    const opened = await fetch(url);
    expect(opened.status).toBe(200);
  });

  it('answers the PC and the mobile page for one pre-auth code, so a console shows both from one call', async () => {
    const { api } = await world.newAccount();
    const reply = await api.post('/v1/authorizations', { purpose: 'bind-primary' });
    const { url, pcUrl, mobileUrl } = z.object({ url: z.string(), pcUrl: z.string(), mobileUrl: z.string() }).parse(reply.body);
    expect(url).toBe(pcUrl);
    const preAuthCode = (page: string) => new URL(page).searchParams.get('pre_auth_code');
    expect(preAuthCode(mobileUrl)).toBeTruthy();
    expect(preAuthCode(mobileUrl)).toBe(preAuthCode(pcUrl));
    expect(mobileUrl).not.toBe(pcUrl);
    const mobile = z
      .object({ url: z.string(), mobileUrl: z.string() })
      .parse((await api.post('/v1/authorizations', { purpose: 'bind-primary', mobile: true })).body);
    expect(mobile.url).toBe(mobile.mobileUrl);
  });

  it('asks for the app when authorizing one, and checks it belongs to the account', async () => {
    const { api } = await world.newAccount();
    const missing = await api.post('/v1/authorizations', { purpose: 'authorize-app' });
    expect(missing.status).toBe(400);
    expect(errorOf(missing).field).toBe('body.appId');
    const unknown = await api.post('/v1/authorizations', { purpose: 'authorize-app', appId: 'app_doesnotexist' });
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe('APP_NOT_FOUND');
    const wrongPurpose = await api.post('/v1/authorizations', { purpose: 'steal' });
    expect(errorOf(wrongPurpose).field).toBe('body.purpose');
  });

  it('after the admin scans, lists the primary mini program, shows it on the account and answers the quota through a mini program granting set 18', async () => {
    const { api } = await world.newAccount();
    const none = await api.get('/v1/quota');
    expect(none.status).toBe(409);
    expect(errorOf(none).code).toBe('NO_AUTHORIZED_MINI_PROGRAM');

    const appid = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: appid, nickName: '测试主小程序', principalName: '测试科技有限公司' });
    const bound = await authorize(world.p, api, 'bind-primary', appid);
    expect(bound.result).toMatchObject({ ok: true, code: 'PRIMARY_BOUND' });

    const me = accountView.parse((await api.get('/v1/account')).body);
    expect(me).toMatchObject({
      primaryStatus: 'bound',
      primaryMiniProgram: { appid, subject: '测试科技有限公司' },
      primaryMiniProgramStatus: { status: 'authorized' },
      canPublish: true,
      publishBlockedReason: null,
      publishBlockedCode: null,
    });
    const mp = z
      .object({
        appid: z.string(),
        roles: z.array(z.string()),
        status: z.string(),
        subject: z.string(),
        funcScopeIds: z.array(z.number()),
        missingPermissionSets: z.array(z.unknown()),
        linkHistory: z.array(z.unknown()),
      })
      .parse((await api.get(`/v1/mini-programs/${appid}`)).body);
    expect(mp).toMatchObject({ appid, roles: ['primary'], status: 'authorized', subject: '测试科技有限公司', missingPermissionSets: [] });
    const list = z.object({ miniPrograms: z.array(z.object({ appid: z.string() })) }).parse((await api.get('/v1/mini-programs')).body);
    expect(list.miniPrograms.map((m) => m.appid)).toEqual([appid]);

    // The primary keeps its code management (set 18), which queryquota needs: an app's mini program answers it.
    const notYet = await api.get('/v1/quota');
    expect(notYet.status).toBe(409);
    expect(errorOf(notYet).code).toBe('NO_AUTHORIZED_MINI_PROGRAM');
    const target = uniqueAppid();
    world.p.sim.addMiniProgram({ appId: target, nickName: '测试店铺', principalName: '测试科技有限公司' });
    expect((await authorize(world.p, api, 'authorize-app', target, await createLowcodeApp(api))).result).toMatchObject({ ok: true });
    const quota = await api.get('/v1/quota');
    expect(quota.status).toBe(200);
    expect(quota.body).toEqual({
      miniProgramAppid: target,
      rest: expect.any(Number),
      limit: expect.any(Number),
      speedupRest: expect.any(Number),
      speedupLimit: expect.any(Number),
    });
  });
});

describe('deployments (reads)', () => {
  it('lists newest first, filters by app and state, limits, and shows one with its full history', async () => {
    const { api, id } = await world.newAccount();
    const appA = appIdSchema.parse(idReply.parse((await api.post('/v1/apps', { kind: 'lowcode', name: 'A', templateId: 101 })).body).id);
    const appB = appIdSchema.parse(idReply.parse((await api.post('/v1/apps', { kind: 'lowcode', name: 'B', templateId: 101 })).body).id);
    const appid = uniqueAppid();
    const now = Date.now();
    const oldest = await world.seedDeployment({ accountId: id, appId: appA, appid, at: now - 3000, built: pngOfWidth(430, 430) });
    const middle = await world.seedDeployment({ accountId: id, appId: appB, appid, at: now - 2000 });
    const newest = await world.seedDeployment({ accountId: id, appId: appA, appid, at: now - 1000 });

    const summary = z.object({
      deployments: z.array(z.catchall(z.object({ id: z.string(), state: z.string(), appId: z.string() }), z.unknown())),
    });
    const all = summary.parse((await api.get('/v1/deployments')).body).deployments;
    expect(all.map((d) => d.id)).toEqual([newest.id, middle.id, oldest.id]);
    // The list is a summary; the history and ext_json are on the deployment itself.
    expect(all[0]).not.toHaveProperty('history');
    expect(all[0]).not.toHaveProperty('extJson');
    expect(all[0]).not.toHaveProperty('nextPollAt');

    expect(summary.parse((await api.get(`/v1/deployments?appId=${appA}`)).body).deployments.map((d) => d.id)).toEqual([
      newest.id,
      oldest.id,
    ]);
    expect(summary.parse((await api.get('/v1/deployments?state=built')).body).deployments.map((d) => d.id)).toEqual([oldest.id]);
    expect(summary.parse((await api.get('/v1/deployments?limit=2')).body).deployments.map((d) => d.id)).toEqual([newest.id, middle.id]);
    const badState = await api.get('/v1/deployments?state=flying');
    expect(badState.status).toBe(400);
    expect(errorOf(badState).field).toBe('query.state');
    expect(errorOf(await api.get('/v1/deployments?limit=0')).field).toBe('query.limit');

    const detail = z
      .object({
        id: z.string(),
        state: z.string(),
        extJson: z.string(),
        history: z.array(z.object({ from: z.string(), to: z.string(), command: z.string() })),
      })
      .parse((await api.get(`/v1/deployments/${oldest.id}`)).body);
    expect(detail.state).toBe('built');
    expect(walkOf(detail.history)).toEqual(BUILT_WALK);
    expect(errorOf(await api.get('/v1/deployments/dep_doesnotexist')).code).toBe('DEPLOYMENT_NOT_FOUND');
  });

  it('serves the experience QR once the build stored it, and says QR_NOT_READY before', async () => {
    const { api, id } = await world.newAccount();
    const appId = appIdSchema.parse(idReply.parse((await api.post('/v1/apps', { kind: 'lowcode', name: 'A', templateId: 101 })).body).id);
    const qr = pngOfWidth(430, 430);
    const built = await world.seedDeployment({ accountId: id, appId, appid: uniqueAppid(), at: Date.now(), built: qr });
    const pending = await world.seedDeployment({ accountId: id, appId, appid: uniqueAppid(), at: Date.now() });

    const image = await api.get(`/v1/deployments/${built.id}/qrcode`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.body).toEqual(qr);

    const early = await api.get(`/v1/deployments/${pending.id}/qrcode`);
    expect(early.status).toBe(404);
    expect(errorOf(early)).toMatchObject({ code: 'QR_NOT_READY', details: { state: 'configuring' } });
  });
});

describe('Idempotency-Key', () => {
  it('replays POST /v1/apps with the same key and body instead of creating a second app', async () => {
    const { api } = await world.newAccount();
    const key = `create-app-${randomBytes(6).toString('hex')}`;
    const body = { kind: 'lowcode', name: 'Once', templateId: 101 };
    const first = await api.post('/v1/apps', body, { 'idempotency-key': key });
    const second = await api.post('/v1/apps', body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(idReply.parse(second.body).id).toBe(idReply.parse(first.body).id);
    expect(z.object({ apps: z.array(z.unknown()) }).parse((await api.get('/v1/apps')).body).apps).toHaveLength(1);

    const reused = await api.post('/v1/apps', { ...body, name: 'Other' }, { 'idempotency-key': key });
    expect(reused.status).toBe(400);
    expect(errorOf(reused).code).toBe('IDEMPOTENCY_KEY_REUSED');

    // Keys are per account: another account's identical key is its own request.
    const other = await world.newAccount();
    const theirs = await other.api.post('/v1/apps', body, { 'idempotency-key': key });
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotency-replayed')).toBeNull();
    expect(idReply.parse(theirs.body).id).not.toBe(idReply.parse(first.body).id);
  });

  it('replays an upload and a key rotation too', async () => {
    const { api } = await world.newAccount();
    const key = `upload-${randomBytes(6).toString('hex')}`;
    const bytes = pngOfWidth(20);
    const a = await api.raw('POST', '/v1/assets', bytes, { 'content-type': 'image/png', 'idempotency-key': key });
    const b = await api.raw('POST', '/v1/assets', bytes, { 'content-type': 'image/png', 'idempotency-key': key });
    expect(assetReply.parse(b.body).id).toBe(assetReply.parse(a.body).id);
    expect(b.headers.get('idempotency-replayed')).toBe('true');

    const rotation = `rotate-${randomBytes(6).toString('hex')}`;
    const k1 = await api.post('/v1/account/api-keys', {}, { 'idempotency-key': rotation });
    const k2 = await api.post('/v1/account/api-keys', {}, { 'idempotency-key': rotation });
    expect(k2.body).toEqual(k1.body);
  });
});

describe('health and CORS-free basics', () => {
  it('answers the health check without a key, and 405 for a wrong method on a known path', async () => {
    const health = await fetch(`${world.p.url}/v1/health`);
    expect(health.status).toBe(200);
    const { api } = await world.newAccount();
    const wrong = await api.raw('DELETE', '/v1/apps');
    expect(wrong.status).toBe(405);
  });

  it('refuses frontend routes without an account key', async () => {
    for (const path of ['/v1/account', '/v1/apps', '/v1/mini-programs', '/v1/deployments', '/v1/quota']) {
      const reply = await fetch(`${world.p.url}${path}`);
      expect({ path, status: reply.status }).toEqual({ path, status: 401 });
    }
    expect((await admin().get('/v1/apps')).status).toBe(401);
  });
});

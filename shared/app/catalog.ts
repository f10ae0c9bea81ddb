/**
 * Accounts, their API keys, apps and uploaded assets: the setup a frontend does before any deployment.
 * Every read is scoped to the calling account; another account's id answers 404, exactly like a missing one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Account, addApiKeyHash, newAccount } from '../domain/account';
import {
  type App,
  type AssetMeta,
  checkImages,
  configInvalid,
  imageRefs,
  type NewAppInput,
  newApp,
  resetTheme,
  type ThemeColour,
  withConfig,
} from '../domain/app';
import { NotFoundError, PayloadTooLargeError, ValidationError } from '../domain/errors';
import { type AccountId, type AssetId, newAccountId, newAppId, newAssetId } from '../domain/ids';
import type { MiniProgram } from '../domain/mini-program';
import type { AccountAuthenticator } from '../runtime/http/stack';
import type { Stored } from '../store/port';
import { retryOnConflict } from '../store/retry';
import type { Asset } from './collections';
import type { Services } from './context';
import { readImageMeta } from './images';

export const MAX_ASSET_BYTES = 1024 * 1024;

const hashKey = (apiKey: string) => createHash('sha256').update(apiKey).digest('hex');
const newApiKey = () => `wxa_${randomBytes(24).toString('base64url')}`;

// ------------------------------------------------------------------------------------------------ accounts

/** Creates an account and its first API key; the key is returned once and only its hash is kept. */
export async function createAccount(services: Services, name: string): Promise<{ account: Account; apiKey: string }> {
  const apiKey = newApiKey();
  const hash = hashKey(apiKey);
  const account = newAccount({ id: newAccountId(services.randomBytes), name, apiKeyHash: hash }, services.clock());
  await services.store.commit([
    services.db.accounts.insertWrite(account.id, account),
    services.db.apiKeys.insertWrite(hash, { accountId: account.id, createdAt: services.clock() }),
  ]);
  return { account, apiKey };
}

/** Issues a new key; the previous one keeps working until the next rotation (at most two live keys). */
export async function rotateApiKey(services: Services, accountId: AccountId): Promise<string> {
  const apiKey = newApiKey();
  const hash = hashKey(apiKey);
  const stored = await getAccount(services, accountId);
  const next = addApiKeyHash(stored.data, hash, services.clock());
  const dropped = stored.data.apiKeyHashes.filter((keyHash) => !next.apiKeyHashes.includes(keyHash));
  const droppedDocs = await Promise.all(dropped.map((keyHash) => services.db.apiKeys.get(keyHash)));
  await services.store.commit([
    services.db.accounts.updateWrite(accountId, stored.version, next),
    services.db.apiKeys.insertWrite(hash, { accountId, createdAt: services.clock() }),
    ...droppedDocs.flatMap((doc) => (doc ? [services.db.apiKeys.deleteWrite(doc.id, doc.version)] : [])),
  ]);
  return apiKey;
}

export const accountAuthenticator = (services: Services): AccountAuthenticator => ({
  authenticate: async (apiKey) => {
    if (apiKey.length > 256) return null;
    return (await services.db.apiKeys.get(hashKey(apiKey)))?.data.accountId ?? null;
  },
});

export async function getAccount(services: Services, accountId: AccountId): Promise<Stored<Account>> {
  const stored = await services.db.accounts.get(accountId);
  if (!stored) throw new NotFoundError(`account ${accountId} not found`, { code: 'ACCOUNT_NOT_FOUND' });
  return stored;
}

// ---------------------------------------------------------------------------------------------------- apps

export async function createApp(services: Services, accountId: AccountId, input: NewAppInput): Promise<App> {
  const app = newApp(input, { id: newAppId(services.randomBytes), accountId }, services.clock());
  await checkAppImages(services, accountId, app);
  await services.db.apps.insert(app.id, app);
  return app;
}

export async function getApp(services: Services, accountId: AccountId, appId: string): Promise<Stored<App>> {
  const stored = await services.db.apps.get(appId);
  if (!stored || stored.data.accountId !== accountId)
    throw new NotFoundError(`app ${appId} not found`, { code: 'APP_NOT_FOUND', field: 'appId' });
  return stored;
}

/** The account's mini program; another account's appid answers exactly like a missing one. */
export async function getMiniProgram(services: Services, accountId: AccountId, appid: string): Promise<Stored<MiniProgram>> {
  const stored = await services.db.miniPrograms.get(appid);
  if (!stored || stored.data.accountId !== accountId) {
    throw new NotFoundError(`mini program ${appid} not found`, { code: 'MINI_PROGRAM_NOT_FOUND', field: 'appid' });
  }
  return stored;
}

export async function listApps(services: Services, accountId: AccountId): Promise<App[]> {
  return (await services.db.apps.find({ where: { accountId }, orderBy: { field: 'id' }, limit: 500 })).map((stored) => stored.data);
}

/** Replaces the app's config after validating it for its kind and checking every referenced image. */
export async function updateAppConfig(services: Services, accountId: AccountId, appId: string, config: unknown): Promise<App> {
  return retryOnConflict(`update the config of app ${appId}`, async () => {
    const stored = await getApp(services, accountId, appId);
    const next = withConfig(stored.data, config, services.clock());
    await checkAppImages(services, accountId, next);
    return (await services.db.apps.update(stored.id, stored.version, next)).data;
  });
}

export async function resetAppTheme(
  services: Services,
  accountId: AccountId,
  appId: string,
  colours?: readonly ThemeColour[],
): Promise<App> {
  const stored = await getApp(services, accountId, appId);
  if (stored.data.kind !== 'iot-video') {
    throw new ValidationError('only iot-video apps have a theme', [{ path: 'appId', message: 'not an iot-video app' }], {
      code: 'APP_HAS_NO_THEME',
    });
  }
  return updateAppConfig(services, accountId, appId, resetTheme(stored.data.config, colours));
}

/** Links an iot-video app to its IoT Video products (replacing the list); other kinds have none. */
export async function linkAppProducts(
  services: Services,
  accountId: AccountId,
  appId: string,
  productIds: readonly string[],
): Promise<App> {
  return retryOnConflict(`link app ${appId} to its products`, async () => {
    const stored = await getApp(services, accountId, appId);
    if (stored.data.kind !== 'iot-video') {
      throw new ValidationError(
        'only iot-video apps are linked to IoT Video products',
        [{ path: 'appId', message: 'not an iot-video app' }],
        { code: 'APP_HAS_NO_PRODUCTS' },
      );
    }
    return (
      await services.db.apps.update(stored.id, stored.version, { ...stored.data, productIds: [...productIds], updatedAt: services.clock() })
    ).data;
  });
}

/** The metadata of every image the app's config points at (only the account's own assets count). */
export async function assetMetasOf(services: Services, accountId: AccountId, app: App): Promise<Map<string, AssetMeta>> {
  const refs = imageRefs(app.kind === 'iot-video' ? { kind: 'iot-video', config: app.config } : { kind: 'lowcode', config: app.config });
  const metas = new Map<string, AssetMeta>();
  const assets = await Promise.all(refs.map((ref) => services.db.assets.get(ref.assetId)));
  refs.forEach((ref, i) => {
    const asset = assets[i];
    if (asset && asset.data.accountId === accountId)
      metas.set(ref.assetId, { kind: asset.data.kind, type: asset.data.contentType, width: asset.data.width });
  });
  return metas;
}

async function checkAppImages(services: Services, accountId: AccountId, app: App): Promise<void> {
  const refs = imageRefs(app.kind === 'iot-video' ? { kind: 'iot-video', config: app.config } : { kind: 'lowcode', config: app.config });
  const issues = checkImages(refs, await assetMetasOf(services, accountId, app));
  if (issues.length > 0) throw configInvalid(issues);
}

// -------------------------------------------------------------------------------------------------- assets

export async function putAsset(
  services: Services,
  accountId: AccountId,
  bytes: Buffer,
  kind: Asset['kind'] = 'upload',
): Promise<{ id: AssetId } & Omit<Asset, 'data'>> {
  if (bytes.length === 0) throw new ValidationError('the upload is empty', [{ path: 'body', message: 'empty' }], { code: 'IMAGE_INVALID' });
  // Too large is one kind of mistake whatever the limit: 413, like a body over MAX_BODY_BYTES.
  if (bytes.length > MAX_ASSET_BYTES) {
    throw new PayloadTooLargeError(
      `an image is at most ${MAX_ASSET_BYTES / 1024 / 1024} MiB (${MAX_ASSET_BYTES} bytes); this one is ${bytes.length} bytes`,
      { field: 'body' },
    );
  }
  const meta = readImageMeta(bytes);
  const id = newAssetId(services.randomBytes);
  const asset: Asset = { accountId, kind, ...meta, size: bytes.length, data: bytes.toString('base64'), createdAt: services.clock() };
  await services.db.assets.insert(id, asset);
  const { data: _data, ...rest } = asset;
  return { id, ...rest };
}

/** With an account: only that account's assets. Without: the public read a mini program makes of its images. */
export async function getAsset(services: Services, accountId: AccountId | null, assetId: string): Promise<Asset> {
  const stored = await services.db.assets.get(assetId);
  if (!stored || (accountId !== null && stored.data.accountId !== accountId)) {
    throw new NotFoundError(`asset ${assetId} not found`, { code: 'ASSET_NOT_FOUND', field: 'assetId' });
  }
  return stored.data;
}

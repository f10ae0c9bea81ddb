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
import { ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from '../domain/errors';
import { type AccountId, type AssetId, newAccountId, newAppId, newAssetId } from '../domain/ids';
import type { AccountAuthenticator } from '../runtime/http/stack';
import type { Stored } from '../store/port';
import type { Asset } from './collections';
import type { Services } from './context';
import { readImageMeta } from './images';

export const MAX_ASSET_BYTES = 1024 * 1024;

const hashKey = (apiKey: string) => createHash('sha256').update(apiKey).digest('hex');
const newApiKey = () => `wxa_${randomBytes(24).toString('base64url')}`;

// ------------------------------------------------------------------------------------------------ accounts

/** Creates an account and its first API key; the key is returned once and only its hash is kept. */
export async function createAccount(s: Services, name: string): Promise<{ account: Account; apiKey: string }> {
  const apiKey = newApiKey();
  const hash = hashKey(apiKey);
  const account = newAccount({ id: newAccountId(s.randomBytes), name, apiKeyHash: hash }, s.clock());
  await s.store.commit([
    s.db.accounts.insertWrite(account.id, account),
    s.db.apiKeys.insertWrite(hash, { accountId: account.id, createdAt: s.clock() }),
  ]);
  return { account, apiKey };
}

/** Issues a new key; the previous one keeps working until the next rotation (at most two live keys). */
export async function rotateApiKey(s: Services, accountId: AccountId): Promise<string> {
  const apiKey = newApiKey();
  const hash = hashKey(apiKey);
  const stored = await getAccount(s, accountId);
  const next = addApiKeyHash(stored.data, hash, s.clock());
  const dropped = stored.data.apiKeyHashes.filter((h) => !next.apiKeyHashes.includes(h));
  const droppedDocs = await Promise.all(dropped.map((h) => s.db.apiKeys.get(h)));
  await s.store.commit([
    s.db.accounts.updateWrite(accountId, stored.version, next),
    s.db.apiKeys.insertWrite(hash, { accountId, createdAt: s.clock() }),
    ...droppedDocs.flatMap((doc) => (doc ? [s.db.apiKeys.deleteWrite(doc.id, doc.version)] : [])),
  ]);
  return apiKey;
}

export const accountAuthenticator = (s: Services): AccountAuthenticator => ({
  authenticate: async (apiKey) => {
    if (apiKey.length > 256) return null;
    return (await s.db.apiKeys.get(hashKey(apiKey)))?.data.accountId ?? null;
  },
});

export async function getAccount(s: Services, accountId: AccountId): Promise<Stored<Account>> {
  const stored = await s.db.accounts.get(accountId);
  if (!stored) throw new NotFoundError(`account ${accountId} not found`, { code: 'ACCOUNT_NOT_FOUND' });
  return stored;
}

// ---------------------------------------------------------------------------------------------------- apps

export async function createApp(s: Services, accountId: AccountId, input: NewAppInput): Promise<App> {
  const app = newApp(input, { id: newAppId(s.randomBytes), accountId }, s.clock());
  await checkAppImages(s, accountId, app);
  await s.db.apps.insert(app.id, app);
  return app;
}

export async function getApp(s: Services, accountId: AccountId, appId: string): Promise<Stored<App>> {
  const stored = await s.db.apps.get(appId);
  if (!stored || stored.data.accountId !== accountId)
    throw new NotFoundError(`app ${appId} not found`, { code: 'APP_NOT_FOUND', field: 'appId' });
  return stored;
}

export async function listApps(s: Services, accountId: AccountId): Promise<App[]> {
  return (await s.db.apps.find({ where: { accountId }, orderBy: { field: 'id' }, limit: 500 })).map((d) => d.data);
}

/** Replaces the app's config after validating it for its kind and checking every referenced image. */
export async function updateAppConfig(s: Services, accountId: AccountId, appId: string, config: unknown): Promise<App> {
  for (;;) {
    const stored = await getApp(s, accountId, appId);
    const next = withConfig(stored.data, config, s.clock());
    await checkAppImages(s, accountId, next);
    try {
      return (await s.db.apps.update(stored.id, stored.version, next)).data;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

export async function resetAppTheme(s: Services, accountId: AccountId, appId: string, colours?: readonly ThemeColour[]): Promise<App> {
  const stored = await getApp(s, accountId, appId);
  if (stored.data.kind !== 'iot-video') {
    throw new ValidationError('only iot-video apps have a theme', [{ path: 'appId', message: 'not an iot-video app' }], {
      code: 'APP_HAS_NO_THEME',
    });
  }
  return updateAppConfig(s, accountId, appId, resetTheme(stored.data.config, colours));
}

/** Links an iot-video app to its IoT Video products (replacing the list); other kinds have none. */
export async function linkAppProducts(s: Services, accountId: AccountId, appId: string, productIds: readonly string[]): Promise<App> {
  for (;;) {
    const stored = await getApp(s, accountId, appId);
    if (stored.data.kind !== 'iot-video') {
      throw new ValidationError(
        'only iot-video apps are linked to IoT Video products',
        [{ path: 'appId', message: 'not an iot-video app' }],
        { code: 'APP_HAS_NO_PRODUCTS' },
      );
    }
    try {
      return (await s.db.apps.update(stored.id, stored.version, { ...stored.data, productIds: [...productIds], updatedAt: s.clock() }))
        .data;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

/** The metadata of every image the app's config points at (only the account's own assets count). */
export async function assetMetasOf(s: Services, accountId: AccountId, app: App): Promise<Map<string, AssetMeta>> {
  const refs = imageRefs(app.kind === 'iot-video' ? { kind: 'iot-video', config: app.config } : { kind: 'lowcode', config: app.config });
  const metas = new Map<string, AssetMeta>();
  const assets = await Promise.all(refs.map((ref) => s.db.assets.get(ref.assetId)));
  refs.forEach((ref, i) => {
    const asset = assets[i];
    if (asset && asset.data.accountId === accountId)
      metas.set(ref.assetId, { kind: asset.data.kind, type: asset.data.contentType, width: asset.data.width });
  });
  return metas;
}

async function checkAppImages(s: Services, accountId: AccountId, app: App): Promise<void> {
  const refs = imageRefs(app.kind === 'iot-video' ? { kind: 'iot-video', config: app.config } : { kind: 'lowcode', config: app.config });
  const issues = checkImages(refs, await assetMetasOf(s, accountId, app));
  if (issues.length > 0) throw configInvalid(issues);
}

// -------------------------------------------------------------------------------------------------- assets

export async function putAsset(
  s: Services,
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
  const id = newAssetId(s.randomBytes);
  const asset: Asset = { accountId, kind, ...meta, size: bytes.length, data: bytes.toString('base64'), createdAt: s.clock() };
  await s.db.assets.insert(id, asset);
  const { data: _data, ...rest } = asset;
  return { id, ...rest };
}

/** With an account: only that account's assets. Without: the public read a mini program makes of its images. */
export async function getAsset(s: Services, accountId: AccountId | null, assetId: string): Promise<Asset> {
  const stored = await s.db.assets.get(assetId);
  if (!stored || (accountId !== null && stored.data.accountId !== accountId)) {
    throw new NotFoundError(`asset ${assetId} not found`, { code: 'ASSET_NOT_FOUND', field: 'assetId' });
  }
  return stored.data;
}

/**
 * Starting an authorization (DESIGN §1 steps 1–2): the URL an admin opens, carrying a signed `state` that names the
 * account, the app and the purpose, so that the redirect back knows what the scan was for.
 */
import { primaryOf } from '../../domain/account';
import { NotFoundError } from '../../domain/errors';
import type { AccountId, AppId } from '../../domain/ids';
import { permissionSetsFor } from '../../domain/rules';
import { getAccount, getApp } from '../catalog';
import type { Services } from '../context';
import type { StatePayload } from '../state-token';
import { AuthorizationRefusedError } from './outcome';

export type Purpose = StatePayload['purpose'];

/** Builds the URL an admin opens (PC: shows a QR; mobile: opens in WeChat) to authorize a mini program. */
export async function authorizationUrl(
  services: Services,
  accountId: AccountId,
  input: { purpose: Purpose; appId?: string; mobile?: boolean; force?: boolean },
): Promise<{ url: string; pcUrl: string; mobileUrl: string; expiresAt: number }> {
  const account = await getAccount(services, accountId);
  let appId: AppId | null = null;
  let plugins = false;
  if (input.purpose === 'authorize-app') {
    if (!input.appId)
      throw new NotFoundError('appId is required to authorize a mini program for an app', { code: 'APP_NOT_FOUND', field: 'appId' });
    const app = (await getApp(services, accountId, input.appId)).data;
    appId = app.id;
    plugins = app.requiredPlugins.length > 0;
    // Seed 000 step 2: the account's primary mini program must be bound before any app can be authorized.
    if (!primaryOf(account.data)) {
      throw new AuthorizationRefusedError('PRIMARY_NOT_BOUND', 'bind the account’s primary mini program first (purpose bind-primary)');
    }
  }
  const ttlSeconds = 30 * 60;
  const state = services.signer.sign({ purpose: input.purpose, accountId, appId, ...(input.force ? { force: true } : {}) }, ttlSeconds);
  const callback = input.purpose === 'bind-primary' ? '/wechat/bind/callback' : '/wechat/authorize/callback';
  const redirectUri = `${services.config.publicBaseUrl}${callback}?state=${encodeURIComponent(state)}`;
  const { pre_auth_code: preAuthCode } = await services.wechat.client.createPreAuthCode();
  const categoryIdList = permissionSetsFor(input.purpose, { plugins }).requested.map((set) => set.id);
  // auth_type 2: mini programs only (an official account cannot publish mini program code). Both pages carry the
  // same pre-auth code, so a console shows both (QR code for a phone, link for a desktop) from one call; the first
  // scan spends it.
  const pageUrl = (mobile: boolean) =>
    services.wechat.client.authorizationPageUrl({ preAuthCode, redirectUri, mobile, authType: 2, categoryIdList });
  const pcUrl = pageUrl(false);
  const mobileUrl = pageUrl(true);
  return { url: input.mobile ? mobileUrl : pcUrl, pcUrl, mobileUrl, expiresAt: services.clock() + ttlSeconds * 1000 };
}

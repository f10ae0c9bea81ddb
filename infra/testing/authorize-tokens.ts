/**
 * A mini program authorized at the simulator the way the platform does it (pre-auth code, the admin's scan,
 * query_auth), with its tokens saved by a token manager: for the tests and benches that start from an authorized
 * mini program without the HTTP product around it.
 */

import type { ComponentApi } from '../../shared/wechat/component-api';
import type { TokenManager } from '../../shared/wechat/tokens';
import type { WeChatSimulator } from '../wechat-sim';

export async function authorizeWithTokens(sim: WeChatSimulator, tokens: TokenManager, api: ComponentApi, appId: string) {
  const cat = await tokens.componentToken();
  const { pre_auth_code } = await api.createPreAuthCode(cat);
  const { authCode } = await sim.scanAuthorization({ preAuthCode: pre_auth_code, appId });
  const { authorization_info: info } = await api.queryAuth(cat, authCode);
  if (!info.authorizer_refresh_token) throw new Error('query_auth returned no refresh token');
  await tokens.saveAuthorization(appId, {
    accessToken: info.authorizer_access_token,
    expiresInSeconds: info.expires_in,
    refreshToken: info.authorizer_refresh_token,
  });
  return info;
}

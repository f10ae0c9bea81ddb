/**
 * The world the hostile suites aim at: two accounts, each with a bound primary, an app with its target mini
 * program, a built deployment (with its experience QR) and an uploaded image.
 */
import { z } from 'zod';
import { deploymentReply, expectStatus, type Platform, pngOfWidth } from '../local/driver';
import { readyApp } from './seeded-platform';

export interface AccountWorld {
  key: string;
  accountId: string;
  appId: string;
  /** The app's target mini program. */
  appid: string;
  /** Its original id (`gh_…`): the ToUserName of the pushes WeChat sends to its URL. */
  userName: string;
  primary: string;
  deploymentId: string;
  qrAssetId: string;
  assetId: string;
}

export async function accountWorld(p: Platform): Promise<AccountWorld> {
  const ready = await readyApp(p);
  const built = deploymentReply.parse(
    expectStatus(await ready.api.post(`/v1/apps/${ready.appId}/deployments`, { userVersion: '1.0.0', userDesc: 'hostile' }), 202).body,
  );
  if (built.state !== 'built' || !built.qrAssetId) throw new Error(`the deployment did not build: ${built.state}`);
  const userName = p.sim.miniProgram(ready.target)?.userName;
  if (!userName) throw new Error(`the simulator does not know ${ready.target}`);
  const asset = z
    .object({ id: z.string() })
    .parse(expectStatus(await ready.api.raw('POST', '/v1/assets', pngOfWidth(120), { 'content-type': 'image/png' }), 201).body);
  return {
    key: ready.apiKey,
    accountId: ready.accountId,
    appId: ready.appId,
    appid: ready.target,
    userName,
    primary: ready.primary,
    deploymentId: built.id,
    qrAssetId: built.qrAssetId,
    assetId: asset.id,
  };
}

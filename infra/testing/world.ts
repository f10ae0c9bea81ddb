/**
 * The world the hostile suites aim at: two accounts, each with a bound primary, an app with its target mini
 * program, a built deployment (with its experience QR) and an uploaded image.
 */
import * as z from '../../shared/domain/zod';
import { createAccount, deploymentReply, expectStatus, type Platform, pngOfWidth } from '../local/driver';
import type { FuzzWorld } from './fuzz-model';
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

/** What the fuzzer aims at: two account worlds, and a spare account whose key the key-rotation route may revoke. */
export async function fuzzWorld(p: Platform): Promise<FuzzWorld> {
  const a = await accountWorld(p);
  const b = await accountWorld(p);
  const world: FuzzWorld = {
    ids: {
      appId: [a.appId, b.appId],
      deploymentId: [a.deploymentId, b.deploymentId],
      assetId: [a.assetId, a.qrAssetId, b.assetId],
      appid: [a.appid, a.primary, b.appid],
      accountId: [a.accountId, b.accountId],
    },
    keys: { account: a.key, other: b.key, admin: p.adminKey, spare: (await createAccount(p, 'Spare')).apiKey },
  };
  await p.sim.pushesSettled();
  return world;
}

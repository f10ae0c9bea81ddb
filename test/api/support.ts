/**
 * What the api tests share: a second handle on the platform's database (to seed what over HTTP would need a whole
 * WeChat build, and to look at what was stored), and readers for the replies.
 */
import { randomBytes } from 'node:crypto';
import { type Call, type Client, createAccount, type Platform, pngOfWidth, startPlatform } from '../../infra/local/driver';
import { putAsset } from '../../shared/app/catalog';
import { createServices, type Services } from '../../shared/app/context';
import { createDeployment, type Deployment, transition } from '../../shared/domain/deployment';
import { commandsToBuilt } from '../../shared/domain/examples';
import {
  type AccountId,
  type AppId,
  type AssetId,
  accountIdSchema,
  assetIdSchema,
  newDeploymentId,
  type WeChatAppid,
  weChatAppidSchema,
  weChatUserNameSchema,
} from '../../shared/domain/ids';
import type { MiniProgram } from '../../shared/domain/mini-program';
import * as z from '../../shared/domain/zod';
import { parseConfig } from '../../shared/runtime/config';
import { createLogger } from '../../shared/runtime/logger';
import { openSqliteStore } from '../../shared/store/sqlite';
import { createWeChatPlatform } from '../../shared/wechat/platform';
import { startedForFile } from '../support/for-file';
import { type ErrorBody, errorIn } from '../support/http';

/**
 * The whole local product (every function of serverless.yml, the simulator, a temp SQLite file). The simulator's
 * first verify ticket is pushed only once the environment names the simulator: a function whose cold start ran
 * before that would keep a configuration without WECHAT_API_BASE for the life of the process.
 */
export async function startApiPlatform(): Promise<Platform> {
  const p = await startPlatform({ ticketIntervalMs: 0 });
  await p.sim.pushVerifyTicket();
  return p;
}

/** Services on the same SQLite file and WeChat as the running platform (call after `startPlatform`). */
export function openServices(): { s: Services; close: () => Promise<void> } {
  const config = parseConfig(process.env);
  const log = createLogger({ level: 'error' });
  const store = openSqliteStore({ path: process.env.SQLITE_PATH ?? '' });
  const wechat = createWeChatPlatform({ config, store, log });
  return { s: createServices({ config, log, store, wechat }), close: () => store.close() };
}

export const errorOf = (call: Call): ErrorBody => errorIn(call.body);

export const idReply = z.object({ id: z.string() });

/** A mini program as the authorization callback would have stored it. */
export async function seedMiniProgram(
  s: Services,
  accountId: AccountId,
  appid: WeChatAppid,
  options: { linkedAppId?: AppId } = {},
): Promise<MiniProgram> {
  const at = s.clock();
  const mp: MiniProgram = {
    appid,
    accountId,
    subject: '测试科技有限公司',
    nickname: `小程序${appid.slice(-4)}`,
    userName: weChatUserNameSchema.parse(`gh_${appid.slice(2, 14)}`),
    funcScopeIds: [18],
    status: 'authorized',
    statusReason: null,
    linkedAppId: options.linkedAppId ?? null,
    plugins: [],
    pluginsCheckedAt: null,
    linkHistory: options.linkedAppId
      ? [{ at, change: 'linked', appId: options.linkedAppId, reason: 'authorized', actor: { kind: 'account', id: accountId } }]
      : [],
    authorizedAt: at,
    createdAt: at,
    updatedAt: at,
  };
  await s.db.miniPrograms.insert(appid, mp);
  return mp;
}

/**
 * A deployment taken through the state machine as a build would: `built` stores an experience QR (a real asset of
 * the account), `configuring` has none yet.
 */
export async function seedDeployment(
  s: Services,
  input: { accountId: AccountId; appId: AppId; appid: WeChatAppid; at: number; built?: Buffer },
): Promise<Deployment> {
  const actor = { kind: 'account' as const, id: input.accountId };
  let deployment = createDeployment(
    {
      id: newDeploymentId(s.randomBytes),
      accountId: input.accountId,
      appId: input.appId,
      miniProgramAppid: input.appid,
      templateId: 101,
      userVersion: '1.0.0',
      userDesc: 'seeded',
      extJson: '{"extEnable":true}',
      testers: ['tester001'],
    },
    { at: input.at, actor },
  );
  if (input.built) {
    const qr = await putAsset(s, input.accountId, input.built, 'qrcode');
    for (const command of commandsToBuilt(qr.id, ['tester001'])) {
      deployment = transition(deployment, command, { at: input.at, actor }).deployment;
    }
  }
  await s.db.deployments.insert(deployment.id, deployment);
  return deployment;
}

let counter = 0;
/** A WeChat appid nobody else in the run uses. */
export const uniqueAppid = (): WeChatAppid =>
  weChatAppidSchema.parse(`wx${Date.now().toString(16).slice(-8)}${(counter++).toString(16).padStart(8, '0')}`);

export interface ApiWorld {
  p: Platform;
  s: Services;
  /** Closes the database handle, then the platform. */
  close(): Promise<void>;
}

/** The platform and a second handle on its database: in `beforeAll`, `({ p, s, close } = await startApiWorld())`. */
export async function startApiWorld(): Promise<ApiWorld> {
  const p = await startApiPlatform();
  const services = openServices();
  return {
    p,
    s: services.s,
    close: async () => {
      await services.close();
      await p.close();
    },
  };
}

/** A file's platform and database handle, with the seeding helpers bound to them; read inside tests and hooks. */
export interface FileWorld {
  readonly p: Platform;
  readonly s: Services;
  /** `newAccount` on this platform. */
  newAccount(name?: string): ReturnType<typeof newAccount>;
  /** `seedDeployment` into this platform's database. */
  seedDeployment(input: Parameters<typeof seedDeployment>[1]): Promise<Deployment>;
}

/** Starts the platform and a second handle on its database before the file's tests and closes both after them. */
export function platformForFile(): FileWorld {
  const current = startedForFile(startApiWorld, (world) => world.close());
  return {
    get p() {
      return current().p;
    },
    get s() {
      return current().s;
    },
    newAccount: (name) => newAccount(current().p, name),
    seedDeployment: (input) => seedDeployment(current().s, input),
  };
}

/** A new account (answered 201) named `name`, with its id typed and a client on its API key. */
export async function newAccount(
  p: Pick<Platform, 'url' | 'adminKey'>,
  name = `Acme ${randomBytes(3).toString('hex')}`,
): Promise<{ id: AccountId; apiKey: string; api: Client }> {
  const created = await createAccount(p, name);
  return { ...created, id: accountIdSchema.parse(created.id) };
}

/** Uploads a PNG of that width as the account's image. */
export async function uploadPng(api: Client, width: number): Promise<AssetId> {
  const reply = await api.raw('POST', '/v1/assets', pngOfWidth(width), { 'content-type': 'image/png' });
  if (reply.status !== 201) throw new Error(`upload answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return assetIdSchema.parse(idReply.parse(reply.body).id);
}

/** `POST /v1/apps`: an iot-video app "Camera" on template 201 with `config`; the reply as it came. */
export const postIotVideoApp = (api: Client, config: unknown): Promise<Call> =>
  api.post('/v1/apps', { kind: 'iot-video', name: 'Camera', templateId: 201, config });

/** Five images within the widths the template suggests, for a complete iot-video config. */
export async function iotImages(api: Client) {
  return {
    appDownloadQr: await uploadPng(api, 150),
    instructions: await uploadPng(api, 370),
    manual: await uploadPng(api, 600),
    homeBottom: await uploadPng(api, 750),
    doorLockTop: await uploadPng(api, 750),
  } as const;
}

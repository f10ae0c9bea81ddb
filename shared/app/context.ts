/**
 * What the application services need, built once per cold start: the store's collections, WeChat, the clock
 * and randomness (injected, so tests control them), the state signer and configuration.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../domain/common';
import { NotFoundError } from '../domain/errors';
import type { AccountId, RandomBytes } from '../domain/ids';
import type { Config } from '../runtime/config';
import type { Principal } from '../runtime/http/route';
import type { Logger } from '../runtime/logger';
import { invocationMetrics, type MetricsRecorder } from '../runtime/metrics';
import type { DocumentStore } from '../store/port';
import type { WeChatPlatform } from '../wechat/platform';
import {
  accountsCollection,
  apiKeysCollection,
  appsCollection,
  assetsCollection,
  deploymentsCollection,
  miniProgramsCollection,
} from './collections';
import { createStateSigner, type StateSigner } from './state-token';

export function openCollections(store: DocumentStore) {
  return {
    accounts: store.collection(accountsCollection),
    apiKeys: store.collection(apiKeysCollection),
    miniPrograms: store.collection(miniProgramsCollection),
    apps: store.collection(appsCollection),
    deployments: store.collection(deploymentsCollection),
    assets: store.collection(assetsCollection),
  };
}
export type Collections = ReturnType<typeof openCollections>;

export interface Services {
  config: Config;
  log: Logger;
  store: DocumentStore;
  db: Collections;
  wechat: WeChatPlatform;
  clock: () => number;
  randomBytes: RandomBytes;
  random: () => number;
  signer: StateSigner;
  /** Records into the invocation under way (one metrics record per invocation, see runtime/metrics.ts). */
  metrics: MetricsRecorder;
}

export function createServices(options: {
  config: Config;
  log: Logger;
  store: DocumentStore;
  wechat: WeChatPlatform;
  clock?: () => number;
  randomBytes?: RandomBytes;
  random?: () => number;
  metrics?: MetricsRecorder;
}): Services {
  const clock = options.clock ?? Date.now;
  let signer: StateSigner | undefined;
  return {
    config: options.config,
    log: options.log,
    store: options.store,
    db: openCollections(options.store),
    wechat: options.wechat,
    clock,
    randomBytes: options.randomBytes ?? ((size) => randomBytes(size)),
    random: options.random ?? Math.random,
    metrics: options.metrics ?? invocationMetrics,
    // Its key is derived (HKDF) when first needed: only the routes that start or complete an authorization sign or
    // verify a state, and the derivation is ~1 ms of a cold start.
    get signer() {
      return (signer ??= createStateSigner(options.config.dataKey, clock));
    },
  };
}

/** The account a frontend request acts for; admin and public principals have none. */
export function accountOf(principal: Principal): AccountId {
  if (principal.kind !== 'account') throw new NotFoundError('this route needs an account API key', { code: 'ACCOUNT_REQUIRED' });
  return principal.accountId as AccountId;
}

export const actorOf = (principal: Principal): Actor =>
  principal.kind === 'account'
    ? { kind: 'account', id: principal.accountId }
    : principal.kind === 'admin'
      ? { kind: 'admin' }
      : { kind: 'system' };

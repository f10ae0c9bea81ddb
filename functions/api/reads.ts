/**
 * The account-scoped reads the `api` function adds to the catalog: mini programs, deployment lists and the audit
 * quota. Like every read in shared/app, another account's id answers exactly like a missing one.
 */

import { getAccount, getApp } from '../../shared/app/catalog';
import type { Services } from '../../shared/app/context';
import { noteAuditQuota } from '../../shared/app/webhooks/quota';
import { primaryOf } from '../../shared/domain/account';
import type { Deployment, DeploymentState } from '../../shared/domain/deployment';
import { AppError } from '../../shared/domain/errors';
import type { AccountId } from '../../shared/domain/ids';
import type { MiniProgram } from '../../shared/domain/mini-program';
import { hasCodePermissions } from '../../shared/domain/rules';

export class NoAuthorizedMiniProgramError extends AppError {
  readonly code = 'NO_AUTHORIZED_MINI_PROGRAM';
  readonly category = 'conflict' as const;
}

// Kept in the catalog, which the readiness report and the unbinding read too.
export { getMiniProgram } from '../../shared/app/catalog';

export async function listMiniPrograms(services: Services, accountId: AccountId): Promise<MiniProgram[]> {
  return (await services.db.miniPrograms.find({ where: { accountId }, orderBy: { field: 'id' }, limit: 500 })).map((d) => d.data);
}

/** The primary mini program's document, if the account ever bound one and it still belongs to the account. */
export async function primaryMiniProgramOf(
  services: Services,
  accountId: AccountId,
  appid: string | undefined,
): Promise<MiniProgram | null> {
  if (!appid) return null;
  const stored = await services.db.miniPrograms.get(appid);
  return stored && stored.data.accountId === accountId ? stored.data : null;
}

export interface DeploymentFilter {
  appId?: string | undefined;
  state?: DeploymentState | undefined;
  limit: number;
}

/** Newest first. Filtering by an app the account does not own is a 404, not an empty list, like any other id. */
export async function listDeployments(services: Services, accountId: AccountId, filter: DeploymentFilter): Promise<Deployment[]> {
  if (filter.appId !== undefined) await getApp(services, accountId, filter.appId);
  const found = await services.db.deployments.find({
    where: {
      accountId,
      ...(filter.appId !== undefined ? { appId: filter.appId } : {}),
      ...(filter.state !== undefined ? { state: filter.state } : {}),
    },
    orderBy: { field: 'createdAt', direction: 'desc' },
    limit: filter.limit,
  });
  return found.map((d) => d.data);
}

export interface Quota {
  miniProgramAppid: string;
  rest: number;
  limit: number;
  speedupRest: number;
  speedupLimit: number;
}

/**
 * WeChat counts the audit quota per third-party platform but only answers `queryquota` with the token of a mini
 * program that granted code management (set 18, doc setCodeAuditQuota), so any such mini program of the account
 * will do; the primary first, the one the account is least likely to unbind — though a primary is not asked for 18.
 */
export async function queryQuota(services: Services, accountId: AccountId, signal: AbortSignal): Promise<Quota> {
  const account = await getAccount(services, accountId);
  const managed = (mp: MiniProgram | null | undefined): mp is MiniProgram =>
    mp?.status === 'authorized' && hasCodePermissions(mp.funcScopeIds, { plugins: false }).ok;
  const primary = await primaryMiniProgramOf(services, accountId, primaryOf(account.data)?.appid);
  const via = managed(primary) ? primary : (await listMiniPrograms(services, accountId)).find(managed);
  if (!via) {
    throw new NoAuthorizedMiniProgramError(
      'The account has no mini program whose code management (permission set 18) it granted, to ask WeChat through: authorize an app’s mini program first (POST /v1/authorizations).',
    );
  }
  const quota = await services.wechat.client.queryQuota(via.appid, { signal });
  await noteAuditQuota(services, quota);
  return {
    miniProgramAppid: via.appid,
    rest: quota.rest,
    limit: quota.limit,
    speedupRest: quota.speedup_rest,
    speedupLimit: quota.speedup_limit,
  };
}

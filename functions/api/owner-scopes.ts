/**
 * Rollouts and webhooks have the same routes twice: an account's, over what it owns (account API key), and the
 * platform admin's (admin key). An owner scope says which of the two a set of routes is.
 */
import { accountOf } from '../../shared/app/context';
import type { AccountId } from '../../shared/domain/ids';
import type { Principal } from '../../shared/runtime/http/route';

export interface OwnerScope {
  /** Where the routes are mounted, e.g. `/v1/webhooks` or `/v1/platform/webhooks`. */
  prefix: string;
  auth: 'account' | 'admin';
  /** The account a request acts for; null for the platform admin. */
  whose: (principal: Principal) => AccountId | null;
  /** Who the routes act for, as their summaries say it. */
  who: string;
}

export const accountScope = (prefix: string, who: string): OwnerScope => ({ prefix, auth: 'account', whose: accountOf, who });

export const platformScope = (prefix: string, who: string): OwnerScope => ({ prefix, auth: 'admin', whose: () => null, who });

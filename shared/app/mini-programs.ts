/**
 * What happens to a stored mini program outside an authorization: its plugin list re-read, and the one rule for
 * marking it "needs a new scan" (used by the token manager's 61023 hook and by the pipeline). Authorization and
 * unbind change it in their own batches; everything else that touches one mini program document lives here.
 */

import type { WeChatAppid } from '../domain/ids';
import { type MiniProgram, markNeedsReauth, withPlugins } from '../domain/mini-program';
import { ConflictRetriesExhaustedError, retryOnConflict, updateWithRetry } from '../store/retry';
import type { Services } from './context';
import { commitWithEvents, miniProgramWriteEvents } from './webhooks/outbox';

/**
 * The refresh token is dead (61023) and only the admin's new scan brings it back, so the owner must see it on the
 * mini program. Only an `authorized` one is marked: `unauthorized` (revoked, detached) says more and must not be
 * overwritten, and a mini program no longer stored is left alone. A lost race reads again (the store's retry rule);
 * when the retries run out it gives up with a warning: the caller's own error matters more, and the next call
 * (the deployment's next try) marks it.
 */
export async function markMiniProgramNeedsReauth(
  services: Pick<Services, 'db' | 'store' | 'clock' | 'log' | 'randomBytes'>,
  appid: string,
  reason: string,
): Promise<MiniProgram | null> {
  try {
    // With its `mini_program.needs_reauth` webhook event, in the same batch (the outbox).
    return await retryOnConflict(`mark mini program ${appid} needs-reauth`, async () => {
      const stored = await services.db.miniPrograms.get(appid);
      if (stored?.data.status !== 'authorized') return stored?.data ?? null;
      const at = services.clock();
      const marked = markNeedsReauth(stored.data, reason, at);
      await commitWithEvents(
        services.store,
        [services.db.miniPrograms.updateWrite(appid, stored.version, marked)],
        miniProgramWriteEvents(services.randomBytes, stored, marked, at),
      );
      return marked;
    });
  } catch (error) {
    if (!(error instanceof ConflictRetriesExhaustedError)) throw error;
    services.log.warn('could not mark the mini program as needing a new authorization', { appid, error });
    return null;
  }
}

/** Re-reads the installed plugins (permission set 40 only). Best effort: the list is re-read before every build anyway. */
export async function refreshPlugins(services: Services, appid: WeChatAppid, funcScopeIds: readonly number[]): Promise<MiniProgram | null> {
  if (!funcScopeIds.includes(40)) return null;
  try {
    const list = await services.wechat.client.plugins(appid);
    const plugins = list.plugin_list.map((plugin) => ({
      appId: plugin.appid,
      status: plugin.status,
      ...(plugin.nickname ? { nickname: plugin.nickname } : {}),
    }));
    const updated = await updateWithRetry(services.db.miniPrograms, appid, (stored) => withPlugins(stored.data, plugins, services.clock()));
    return updated?.stored.data ?? null;
  } catch (error) {
    services.log.warn('could not read the plugin list', { appid, error });
    return null;
  }
}

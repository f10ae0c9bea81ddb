import { declaredPrivateInfosOf } from '../../domain/app';
import type { AccountId } from '../../domain/ids';
import { PrivacyGuideIncomplete } from '../../domain/privacy-guide';
import type { ReadinessActionId } from '../../domain/readiness';
import { getMiniProgram } from '../catalog';
import type { Services } from '../context';
import { privacyGuideFor, setDomains } from '../go-live-settings';
import { freshReport, linkedApp, ReadinessConflictError, type ReadinessReport } from './reports';

// ---------------------------------------------------------------------------------------------------------------
// Actions: fixes this backend applies by API

/**
 * Applies one fix, then answers the report read afresh. `set-privacy-guide` sets the guide from the app's config for
 * what is known to be collected (the build sets it again after each commit); `set-domains` adds the domains the app
 * needs to the mini program (what the build's domain step does).
 */
export async function runReadinessAction(
  services: Services,
  accountId: AccountId,
  appid: string,
  action: ReadinessActionId,
  signal?: AbortSignal,
): Promise<ReadinessReport> {
  const mp = (await getMiniProgram(services, accountId, appid)).data;
  const app = await linkedApp(services, mp);
  if (app === null) throw new ReadinessConflictError('APP_NOT_LINKED', `mini program ${appid} has no app linked: nothing to set from`);
  const call = signal ? { signal } : {};
  if (action === 'set-privacy-guide') {
    // The guide the build would set: what WeChat detected (known keys or not), what the code declares, the app's own.
    const body = await privacyGuideFor(services, mp.appid, app, declaredPrivateInfosOf(app), call);
    if (body === null) {
      throw new ReadinessConflictError(
        'NOTHING_TO_DECLARE',
        'no user information is known to be collected yet (nothing committed, no requiredPrivateInfos): the build sets the guide after its commit',
      );
    }
    if (body instanceof PrivacyGuideIncomplete) {
      throw new ReadinessConflictError('PRIVACY_GUIDE_INCOMPLETE', body.message, { field: 'config.privacyGuide.contact' });
    }
    await services.wechat.client.setPrivacySetting(mp.appid, body, call);
  } else {
    const set = await setDomains(services, mp.appid, app, call);
    if (set.kind === 'fail') throw new ReadinessConflictError('DOMAINS_NOT_SET', set.reason, { field: 'config.serverDomains' });
  }
  return freshReport(services, mp, app, signal);
}

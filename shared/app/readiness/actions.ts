import type { AccountId } from '../../domain/ids';
import { privacyKeysToDeclare, privacySettingFor } from '../../domain/privacy-guide';
import type { ReadinessActionId } from '../../domain/readiness';
import { DOMAIN_LISTS, domainsNeeded } from '../../domain/server-domains';
import type { Services } from '../context';
import { requiredPrivateInfosOf } from './facts';
import { freshReport, linkedApp, ownMiniProgram, ReadinessConflictError, type ReadinessReport } from './reports';

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
  const mp = await ownMiniProgram(services, accountId, appid);
  const app = await linkedApp(services, mp);
  if (app === null) throw new ReadinessConflictError('APP_NOT_LINKED', `mini program ${appid} has no app linked: nothing to set from`);
  const call = signal ? { signal } : {};
  const { client } = services.wechat;
  if (action === 'set-privacy-guide') {
    const detected = (await client.getPrivacySetting(appid, 2, call)).privacy_list;
    const keys = privacyKeysToDeclare({
      detected,
      requiredPrivateInfos: requiredPrivateInfosOf(services, app, mp.appid),
      guide: app.config.privacyGuide,
    });
    const body = privacySettingFor(app.kind, app.config.privacyGuide, keys);
    if (body === null) {
      throw new ReadinessConflictError(
        'NOTHING_TO_DECLARE',
        'no user information is known to be collected yet (nothing committed, no requiredPrivateInfos): the build sets the guide after its commit',
      );
    }
    if (!('privacy_ver' in body)) {
      throw new ReadinessConflictError('PRIVACY_GUIDE_INCOMPLETE', body.message, { field: 'config.privacyGuide.contact' });
    }
    await client.setPrivacySetting(appid, body, call);
  } else {
    const needed = domainsNeeded(services.config.publicBaseUrl, app.config.serverDomains);
    const current = await client.modifyDomain(appid, { action: 'get' }, call);
    const missing = (list: (typeof DOMAIN_LISTS)[number]) => needed[list].filter((d) => !(current[list] ?? []).includes(d));
    if (DOMAIN_LISTS.some((list) => missing(list).length > 0)) {
      await client.modifyDomain(
        appid,
        {
          action: 'add',
          requestdomain: missing('requestdomain'),
          wsrequestdomain: missing('wsrequestdomain'),
          uploaddomain: missing('uploaddomain'),
          downloaddomain: missing('downloaddomain'),
          udpdomain: [],
          tcpdomain: [],
        },
        call,
      );
    }
  }
  return freshReport(services, mp, app, signal);
}

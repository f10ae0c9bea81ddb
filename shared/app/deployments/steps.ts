/**
 * What each step of the worker does at WeChat — the build steps, the submit, the audit poll, the release — and the
 * change it records. WeChat's refusals a step does not handle itself are thrown, for the worker to record.
 */
import type { TesterRefusal, Work } from '../../domain/deployment';
import type { WeChatAppid } from '../../domain/ids';
import type { MiniProgram } from '../../domain/mini-program';
import { blockedReason, refusalReason } from '../../domain/readiness';
import { ugcDeclareOf } from '../../domain/ugc-declaration';
import { ERRCODE, TESTER_REFUSALS, WeChatApiError } from '../../wechat/errcodes';
import { putAsset } from '../catalog';
import type { Services } from '../context';
import { applyPrivacyGuide, prepareSubmit, type StepResult, setDomains } from '../go-live-settings';
import { type HandOver, handOverFor, type ReleaseHandOver, releaseBlocker, type SubmitHandOver, submitBlocker } from '../readiness';
import { adoptOwnAudit, pollAudit } from './audits';
import { callOf } from './leases';
import type { Linked } from './link';
import { type Applied, applyCommand, type StepOutcome, SYSTEM, type Versioned } from './state-changes';

/**
 * Does `work` for the deployment (`current`: as the worker read or last wrote it, which the step's change is
 * decided on); the caller holds its lease and has checked that its app still holds the mini program (`linked`:
 * both as read for that check; the steps' settings come from the app). `handOver`: what the user's check has just
 * read in this invocation, used by the submit and release steps instead of reading it again while it is young.
 */
export async function doStep(
  services: Services,
  current: Versioned,
  work: Work,
  linked: Linked,
  signal?: AbortSignal,
  handOver?: HandOver,
): Promise<StepOutcome> {
  const { app } = linked;
  const deployment = current.data;
  const appid = deployment.miniProgramAppid;
  const { client } = services.wechat;
  const call = callOf(signal);
  const record = (command: Parameters<typeof applyCommand>[2]) => applyCommand(services, deployment.id, command, SYSTEM, current);
  switch (work) {
    case 'commitCode': {
      const { templateId, extJson, userVersion, userDesc } = deployment;
      await client.commit(appid, { templateId, extJson, userVersion, userDesc }, call);
      return record({ type: 'buildCommitted' });
    }
    case 'setPrivacyGuide':
      return settleStep(services, current, await applyPrivacyGuide(services, deployment, app, call), () =>
        record({ type: 'privacyGuideSet' }),
      );
    case 'setDomains':
      return settleStep(services, current, await setDomains(services, appid, app, call), () => record({ type: 'domainsSet' }));
    case 'fetchQrCode': {
      const qr = await client.getQrcode(appid, undefined, call);
      const asset = await putAsset(services, deployment.accountId, qr.bytes, 'qrcode');
      return record({ type: 'qrStored', qrAssetId: asset.id });
    }
    case 'bindTesters': {
      const { bound, refused } = await bindTesters(services, appid, deployment.testers, signal);
      if (refused.length > 0) {
        services.log.warn('testers refused by WeChat', { deploymentId: deployment.id, errcodes: refused.map((r) => r.errcode) });
      }
      return record({ type: 'buildSucceeded', boundTesters: bound, refusedTesters: refused });
    }
    case 'submitAudit':
      return submit(services, current, linked, signal, handOverFor(handOver, 'submitAudit', appid, services.clock()));
    case 'pollAudit':
      return pollAudit(services, deployment, signal, current);
    case 'release':
      return release(services, current, linked.miniProgram, signal, handOverFor(handOver, 'release', appid, services.clock()));
  }
}

/** Records a failure of the deployment's current step (`current`: as the worker read or last wrote it). */
export const failWith = (
  services: Services,
  current: Versioned,
  failure: { reason: string; retryable: boolean; errcode?: number | undefined },
): Promise<Applied> =>
  applyCommand(
    services,
    current.data.id,
    {
      type: 'fail',
      reason: failure.reason,
      retryable: failure.retryable,
      ...(failure.errcode === undefined ? {} : { errcode: failure.errcode }),
    },
    SYSTEM,
    current,
  );

/** Records how a go-live settings step ended: `done` when done, a failure the user can act on, or nothing yet. */
async function settleStep(services: Services, current: Versioned, result: StepResult, done: () => Promise<Applied>): Promise<StepOutcome> {
  switch (result.kind) {
    case 'later':
      return 'later';
    case 'fail':
      return failWith(services, current, result);
    case 'done':
      return done();
  }
}

/**
 * Binds each tester. WeChat refusing a person (`TESTER_REFUSALS`: no such WeChat id, the mini program's tester
 * limit, the person's own limit) does not fail the build — the code is committed and its QR stored, and no retry
 * could change the answer — so the user gets a built deployment listing who was refused and why, and binds them
 * again once the cause is gone (`bindTestersLater`). Anything else (token, network, quota) is the step's failure.
 */
export async function bindTesters(
  services: Services,
  appid: WeChatAppid,
  testers: readonly string[],
  signal?: AbortSignal,
): Promise<{ bound: string[]; refused: TesterRefusal[] }> {
  const bound: string[] = [];
  const refused: TesterRefusal[] = [];
  for (const tester of testers) {
    try {
      await services.wechat.client.bindTester(appid, tester, callOf(signal));
      bound.push(tester);
    } catch (error) {
      if (!(error instanceof WeChatApiError)) throw error;
      if (error.errcode === ERRCODE.ALREADY_A_TESTER) bound.push(tester);
      else if (TESTER_REFUSALS.has(error.errcode) || error.kind === 'input')
        refused.push({ wechatId: tester, errcode: error.errcode, reason: error.meaning, at: services.clock() });
      else throw error;
    }
  }
  return { bound, refused };
}

/**
 * `checked`: the user's check has just found nothing blocking, reading WeChat's answers the step would read again
 * (the latest audit, the scan, the detected privacy keys, the domains, the categories); a step without it (a retry,
 * the poller) reads them and checks the readiness itself.
 */
async function submit(
  services: Services,
  current: Versioned,
  { app, miniProgram }: Linked,
  signal: AbortSignal | undefined,
  checked: SubmitHandOver | undefined,
): Promise<StepOutcome> {
  const deployment = current.data;
  const { client } = services.wechat;
  const appid = deployment.miniProgramAppid;
  const call = callOf(signal);
  const read = checked?.reads ?? {};
  // A submit may already have happened before an instance died or its answer was lost — and WeChat may even have
  // decided it since: submitting again would abandon that audit and spend another of the month's submits.
  const adopted = await adoptOwnAudit(services, deployment, signal, read.latestAudit);
  if (adopted) return adopted;
  // The privacy scan, the guide and the domains: a step left undone ends the submit here.
  const ready = await prepareSubmit(services, deployment, app, call, read);
  if (ready.kind === 'later') return 'later';
  if (ready.kind === 'fail') return failWith(services, current, ready);
  // The categories, for the audit's item, read once: a report read afresh below takes them from here.
  const categories = read.categories ?? (await client.getCategory(appid, call));
  // A prerequisite lost since the build fails with the report's words before WeChat is asked (a bounded read: the
  // report of the last minute when there is one).
  const blocked = checked ? null : await submitBlocker(services, miniProgram, app, { categories }, signal);
  if (blocked) return failWith(services, current, { reason: blockedReason(blocked), retryable: true });
  const [first] = categories.category_list;
  if (!first) {
    return failWith(services, current, {
      reason:
        refusalReason(ERRCODE.NO_CATEGORY, 'the mini program has no approved category')?.reason ??
        'the mini program has no service category: add one on mp.weixin.qq.com, then retry',
      retryable: true,
      errcode: ERRCODE.NO_CATEGORY,
    });
  }
  try {
    const versionDesc = deployment.userDesc || deployment.userVersion;
    const ugc = app.config.ugcDeclaration;
    const request = { item_list: [first], version_desc: versionDesc, ...(ugc === undefined ? {} : { ugc_declare: ugcDeclareOf(ugc) }) };
    const { auditid } = await client.submitAudit(appid, request, call);
    return await applyCommand(services, deployment.id, { type: 'auditSubmitted', auditId: Number(auditid) }, SYSTEM, current);
  } catch (error) {
    if (!(error instanceof WeChatApiError)) throw error;
    if (error.errcode === ERRCODE.PRIVACY_SCAN_RUNNING) return 'later';
    if (error.errcode !== ERRCODE.AUDIT_ALREADY_PENDING) throw error;
    const adoptedNow = await adoptOwnAudit(services, deployment, signal);
    if (adoptedNow) return adoptedNow;
    // Another deployment's audit (or one submitted outside this platform): adopting it would release code this
    // deployment never submitted.
    return failWith(services, current, {
      reason: `WeChat is reviewing another version of this mini program (${ERRCODE.AUDIT_ALREADY_PENDING}), not this deployment’s: retry once WeChat has decided it`,
      retryable: true,
      errcode: ERRCODE.AUDIT_ALREADY_PENDING,
    });
  }
}

/**
 * Releases the approved version; already released counts as done. `checked`: the user's release check has just
 * read the filing status in this invocation and found it not blocking.
 */
async function release(
  services: Services,
  current: Versioned,
  miniProgram: MiniProgram,
  signal: AbortSignal | undefined,
  checked: ReleaseHandOver | undefined,
): Promise<StepOutcome> {
  const deployment = current.data;
  const call = callOf(signal);
  // The filing status again, whoever started the release (a retry, the poller): WeChat's answer for an unfiled mini
  // program is undocumented.
  const blocked = checked ? null : await releaseBlocker(services, miniProgram, signal);
  if (blocked) return failWith(services, current, { reason: blockedReason(blocked), retryable: true });
  try {
    await services.wechat.client.release(deployment.miniProgramAppid, call);
    return await applyCommand(services, deployment.id, { type: 'released' }, SYSTEM, current);
  } catch (error) {
    if (!(error instanceof WeChatApiError)) throw error;
    if (error.errcode === ERRCODE.ALREADY_RELEASED) {
      return applyCommand(services, deployment.id, { type: 'releaseAlreadyDone' }, SYSTEM, current);
    }
    if (error.errcode !== ERRCODE.STATUS_FORBIDS_RELEASE && error.errcode !== ERRCODE.NO_VERSION_IN_AUDIT) throw error;
    const latest = await services.wechat.client.getLatestAuditStatus(deployment.miniProgramAppid, call);
    if (latest.status === 0 && Number(latest.auditid) === deployment.audit?.auditId) return 'later'; // approved: WeChat is catching up
    return failWith(services, current, {
      reason: `WeChat refused the release (${error.errcode}): the approved version is no longer the latest`,
      retryable: false,
      errcode: error.errcode,
    });
  }
}

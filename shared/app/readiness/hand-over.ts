/**
 * What a user's submit or release check has just read from WeChat, handed to the worker's step that the same
 * invocation runs right after it (issue 17: the step asked WeChat the same again a moment later). The step checks
 * again because a retry, the poller or another invocation runs it without the HTTP check: those get no hand-over
 * and read afresh. A hand-over is a value passed down the call (never stored, never kept past the invocation) and
 * is used only while it is `HAND_OVER_MAX_AGE_MS` young.
 */
import type { WeChatAppid } from '../../domain/ids';
import type {
  CategoryListResponse,
  CodePrivacyInfoResponse,
  LatestAuditStatusResponse,
  ModifyDomainResponse,
  PrivacySettingResponse,
} from '../../wechat/schemas';

/**
 * How old a check's reads may be for its step to use them: the check, the recorded command and the lease take well
 * under a second; a step that starts later (a slow store, a lease waited for) reads WeChat itself.
 */
export const HAND_OVER_MAX_AGE_MS = 10_000;

/** WeChat's answers as the readiness check read them; one WeChat refused or did not answer is absent. */
export interface CheckReads {
  /** null: the mini program never had an audit (85058). */
  latestAudit?: LatestAuditStatusResponse | null;
  /** null: WeChat's privacy scan of the last commit still runs (61039). */
  privacyScan?: CodePrivacyInfoResponse | null;
  /** Version 2, whose `privacy_list` is what WeChat detected in the code. */
  privacySetting?: PrivacySettingResponse;
  /** `modify_domain` with `action: get`: the mini program's server domains. */
  serverDomains?: ModifyDomainResponse;
  categories?: CategoryListResponse;
}

/**
 * `submitAudit`: the submit check found nothing blocking, with these reads. `release`: the filing status read by the
 * release check does not block.
 */
export type HandOver =
  | { readonly step: 'submitAudit'; readonly appid: WeChatAppid; readonly at: number; readonly reads: CheckReads }
  | { readonly step: 'release'; readonly appid: WeChatAppid; readonly at: number };
export type SubmitHandOver = Extract<HandOver, { step: 'submitAudit' }>;
export type ReleaseHandOver = Extract<HandOver, { step: 'release' }>;

const isFor = <S extends HandOver['step']>(handOver: HandOver, step: S): handOver is Extract<HandOver, { step: S }> =>
  handOver.step === step;

/** The hand-over for `step` on the mini program `appid` while it is young enough; otherwise none (read again). */
export function handOverFor<S extends HandOver['step']>(
  handOver: HandOver | undefined,
  step: S,
  appid: WeChatAppid,
  now: number,
): Extract<HandOver, { step: S }> | undefined {
  if (handOver === undefined || !isFor(handOver, step) || handOver.appid !== appid) return undefined;
  // A clock that went back is no age at all: read again.
  return now >= handOver.at && now - handOver.at <= HAND_OVER_MAX_AGE_MS ? handOver : undefined;
}

/**
 * Call-rate limits, off until the control API sets them: per account and per API, a daily budget (45009 "reach max
 * api daily quota limit", 调用超过天级别频率限制) and a per-minute one (45011 "api minute-quota reach limit mustslower
 * retry next minute", API 调用太频繁，请稍候再试) — WeChat's 公共错误码 (doc Return_code_descriptions_new). The account
 * is the mini program for authorizer-token calls: "第三方帮助公众号调用时，实际上是在消耗公众号自身的quota" (doc
 * API_Call_Limits, 接口调用频次限制说明); the platform's own calls spend the platform's. Days turn at 00:00 China time
 * like WeChat's daily counters; minutes are calendar minutes of the injected clock. A refused call spends nothing.
 * WeChat's real figures differ per API and per account and are not modelled: a test sets the ones it needs.
 */
import * as z from '../../shared/domain/zod';

const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;

const budget = z.number().check(z.int(), z.gte(0));
export const rateLimitRuleSchema = z
  .strictObject({
    /** One WeChat API path (`/wxa/submit_audit`); left out: every API, each counted on its own. */
    path: z.optional(z.string().check(z.startsWith('/'))),
    perMinute: z.optional(budget),
    perDay: z.optional(budget),
  })
  .check(
    z.refine((r) => r.perMinute !== undefined || r.perDay !== undefined, { message: 'needs perMinute or perDay', path: ['perMinute'] }),
  );
export type RateLimitRule = z.infer<typeof rateLimitRuleSchema>;

export const rateLimitsSchema = z.strictObject({ rules: z.array(rateLimitRuleSchema) });

export interface CallsSpent {
  minute: number;
  inMinute: number;
  day: number;
  inDay: number;
}

/**
 * Checks a call against every rule for its path and, if no budget is used up, spends it in `spent` (by account and
 * API). Returns the errcode of the first budget used up, or null. Plain data in and out, so the state persists it.
 */
export function spendCall(
  rules: readonly RateLimitRule[],
  spent: Map<string, CallsSpent>,
  call: { account: string; path: string; now: number },
): 45009 | 45011 | null {
  const applicable = rules.filter((r) => r.path === undefined || r.path === call.path);
  if (applicable.length === 0) return null;
  const key = `${call.account} ${call.path}`;
  const minute = Math.floor(call.now / MINUTE_MS);
  const day = Math.floor((call.now + CHINA_OFFSET_MS) / DAY_MS);
  const previous = spent.get(key);
  const inMinute = previous?.minute === minute ? previous.inMinute : 0;
  const inDay = previous?.day === day ? previous.inDay : 0;
  if (applicable.some((r) => r.perDay !== undefined && inDay >= r.perDay)) return 45009;
  if (applicable.some((r) => r.perMinute !== undefined && inMinute >= r.perMinute)) return 45011;
  spent.set(key, { minute, inMinute: inMinute + 1, day, inDay: inDay + 1 });
  return null;
}

/**
 * When WeChat renews the platform's monthly audit quota. queryquota answers rest/limit/speedup_rest/speedup_limit
 * and nothing about renewal; the doc calls `limit` "当月分配quota" and `speedup_limit` "当月分配加急次数" (doc
 * setCodeAuditQuota / query_quota: the quota of the calendar month, shared by every mini program of the platform),
 * and WeChat's notice moved it "从每周改至每月" (community thread 000624e8bf4bd0df85194a71c5d000). So the quota renews
 * when the month turns in China (UTC+8, no daylight saving): the 1st, 00:00 China Standard Time. The exact instant
 * within the first day is not documented.
 */

const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The first instant (epoch ms) of the next calendar month in China after `now`. */
export function nextAuditQuotaRenewal(now: number): number {
  const china = new Date(now + CHINA_OFFSET_MS);
  return Date.UTC(china.getUTCFullYear(), china.getUTCMonth() + 1, 1) - CHINA_OFFSET_MS;
}

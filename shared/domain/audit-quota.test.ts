import { nextAuditQuotaRenewal } from './audit-quota';

describe('nextAuditQuotaRenewal', () => {
  it('is the next 1st, 00:00 China time (UTC+8), whatever the UTC date says', () => {
    // 2025-01-15 10:00 China
    expect(nextAuditQuotaRenewal(Date.UTC(2025, 0, 15, 2))).toBe(Date.UTC(2025, 0, 31, 16));
    // 2025-01-31 23:59:59.999 China: still January there
    expect(nextAuditQuotaRenewal(Date.UTC(2025, 0, 31, 15, 59, 59, 999))).toBe(Date.UTC(2025, 0, 31, 16));
    // 2025-02-01 00:00 China (31 Jan 16:00 UTC): February has begun, so March's start is next
    expect(nextAuditQuotaRenewal(Date.UTC(2025, 0, 31, 16))).toBe(Date.UTC(2025, 1, 28, 16));
  });

  it('crosses the year', () => {
    expect(nextAuditQuotaRenewal(Date.UTC(2026, 11, 20))).toBe(Date.UTC(2026, 11, 31, 16));
  });
});

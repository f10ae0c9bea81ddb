import { CronSyntaxError, parseScfCron } from './cron';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('SCF 7-field cron', () => {
  it('fires every 5 minutes on the minute', () => {
    const cron = parseScfCron('0 */5 * * * * *', 0);
    expect(iso(cron.next(at('2026-11-21T10:02:30Z')))).toBe('2026-11-21T10:05:00.000Z');
    expect(iso(cron.next(at('2026-11-21T10:05:00Z')))).toBe('2026-11-21T10:10:00.000Z');
  });

  it('fires every 5 seconds', () => {
    const cron = parseScfCron('*/5 * * * * * *', 0);
    expect(iso(cron.next(at('2026-11-21T10:00:03.400Z')))).toBe('2026-11-21T10:00:05.000Z');
  });

  it('evaluates in UTC+8 like SCF: 02:00 on the 1st of the month, Beijing time', () => {
    const cron = parseScfCron('0 0 2 1 * * *');
    expect(iso(cron.next(at('2026-11-21T00:00:00Z')))).toBe('2026-11-30T18:00:00.000Z');
  });

  it('understands weekday names and ranges', () => {
    const cron = parseScfCron('0 15 10 * * MON-FRI *', 0);
    // 2026-11-21 is a Saturday: the next weekday is Monday the 23rd.
    expect(iso(cron.next(at('2026-11-21T11:00:00Z')))).toBe('2026-11-23T10:15:00.000Z');
  });

  it('ORs day-of-month and day-of-week when both are restricted', () => {
    const cron = parseScfCron('0 0 0 25 * SUN *', 0);
    expect(iso(cron.next(at('2026-11-21T00:00:00Z')))).toBe('2026-11-22T00:00:00.000Z'); // Sunday
    expect(iso(cron.next(at('2026-11-22T00:00:00Z')))).toBe('2026-11-25T00:00:00.000Z'); // the 25th
  });

  it('respects the year field and ends when no year is left', () => {
    const cron = parseScfCron('0 0 0 1 JAN * 2027', 0);
    expect(iso(cron.next(at('2026-11-21T00:00:00Z')))).toBe('2027-01-01T00:00:00.000Z');
    expect(cron.next(at('2027-01-01T00:00:00Z'))).toBeNull();
  });

  it.each([
    ['*/5 * * * *', /7 fields/],
    ['60 * * * * * *', /second/],
    ['0 0 25 * * * *', /hour/],
    ['0 0 0 * 13 * *', /month/],
    ['0 0 0 * * 8 *', /day-of-week/],
    ['0 5-1 * * * * *', /backwards/],
    ['0 */0 * * * * *', /step/],
  ])('rejects %s with a message naming the problem', (expression, message) => {
    expect(() => parseScfCron(expression)).toThrow(CronSyntaxError);
    expect(() => parseScfCron(expression)).toThrow(message);
  });
});

/**
 * Tencent SCF timer expressions: seven fields, `second minute hour day-of-month month day-of-week year`,
 * with `*`, `?`, lists, ranges, steps and English month / weekday names. When both day fields are restricted
 * a day matches if either matches (SCF's documented rule). SCF evaluates them in UTC+8; the offset is a
 * parameter so the local runtime fires when the cloud would.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  aliases?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, aliases: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 6, aliases: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
  { name: 'year', min: 1970, max: 2099 },
];

export class CronSyntaxError extends Error {
  override readonly name = 'CronSyntaxError';
}

export interface CronSchedule {
  readonly expression: string;
  /** The first fire time strictly after `afterMs`, or null if there is none before 2100. */
  next(afterMs: number): number | null;
}

function parseValue(text: string, field: Field): number {
  const alias = field.aliases?.indexOf(text.toUpperCase()) ?? -1;
  const value = alias >= 0 ? alias + (field.name === 'month' ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < field.min || value > field.max) {
    throw new CronSyntaxError(`${field.name}: "${text}" is not in ${field.min}–${field.max}`);
  }
  return value;
}

/** Returns the allowed values, or null for "any" (`*` / `?`), which matters for the day-of-month/week rule. */
function parseField(text: string, field: Field): Set<number> | null {
  if (text === '*' || text === '?') return null;
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [rangeText = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronSyntaxError(`${field.name}: bad step in "${part}"`);
    let from: number;
    let to: number;
    if (rangeText === '*') {
      [from, to] = [field.min, field.max];
    } else if (rangeText.includes('-')) {
      const [a = '', b = ''] = rangeText.split('-');
      [from, to] = [parseValue(a, field), parseValue(b, field)];
      if (from > to) throw new CronSyntaxError(`${field.name}: range "${rangeText}" runs backwards`);
    } else {
      from = parseValue(rangeText, field);
      to = stepText === undefined ? from : field.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

export function parseScfCron(expression: string, utcOffsetMinutes = 480): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    throw new CronSyntaxError(`SCF cron needs 7 fields (second minute hour day month weekday year), got ${parts.length}: "${expression}"`);
  }
  const [second, minute, hour, dom, month, dow, year] = FIELDS.map((field, i) => parseField(parts[i] ?? '', field));
  const ok = (set: Set<number> | null | undefined, value: number) => !set || set.has(value);
  const offsetMs = utcOffsetMinutes * 60_000;

  const dayMatches = (d: Date) => {
    if (dom && dow) return dom.has(d.getUTCDate()) || dow.has(d.getUTCDay());
    return ok(dom, d.getUTCDate()) && ok(dow, d.getUTCDay());
  };

  return {
    expression,
    next: (afterMs) => {
      // Work in "wall clock" time by shifting into a UTC Date, then shift back at the end.
      let t = Math.floor((afterMs + offsetMs) / 1000) * 1000 + 1000;
      for (let guard = 0; guard < 200_000; guard++) {
        const d = new Date(t);
        const y = d.getUTCFullYear();
        if (y > 2099) return null;
        if (!ok(year, y)) {
          t = Date.UTC(y + 1, 0, 1);
          continue;
        }
        if (!ok(month, d.getUTCMonth() + 1)) {
          t = Date.UTC(y, d.getUTCMonth() + 1, 1);
          continue;
        }
        if (!dayMatches(d)) {
          t = Date.UTC(y, d.getUTCMonth(), d.getUTCDate() + 1);
          continue;
        }
        if (!ok(hour, d.getUTCHours())) {
          t = Date.UTC(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
          continue;
        }
        if (!ok(minute, d.getUTCMinutes())) {
          t = Date.UTC(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes() + 1);
          continue;
        }
        if (!ok(second, d.getUTCSeconds())) {
          t += 1000;
          continue;
        }
        return t - offsetMs;
      }
      return null;
    },
  };
}

/**
 * Structured JSON logs, one line per event, with secrets removed before anything is written.
 *
 * Two nets catch secrets: keys whose name says "secret" (token, password, authorization, …) have their value
 * replaced whatever it is, and every value registered with `registerSecret` (the admin key, the component
 * secret, each access token as it is issued) is masked wherever it appears inside any string — a URL with a
 * token in its query string, an error message quoting a body.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /(secret|token|password|passwd|authorization|api[-_]?key|apikey|cookie|ticket|data[-_]?key|aes[-_]?key|refresh|signature|auth[-_]?code)/i;
export const REDACTED = '[redacted]';

const registered = new Set<string>();
let registeredPattern: RegExp | null = null;

/** Masks this exact value in every log line from now on (values shorter than 8 chars are too common to mask). */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 8 || registered.has(value)) return;
  registered.add(value);
  const escaped = [...registered]
    .sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  registeredPattern = new RegExp(escaped.join('|'), 'g');
}

const maskString = (value: string): string => (registeredPattern ? value.replace(registeredPattern, REDACTED) : value);

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[depth]';
  if (value instanceof Error) return redactError(value, depth);
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // Numbers and booleans under secret-sounding keys (tokenExpiresAt, hasRefreshToken) carry no secret.
    const hides = SECRET_KEY.test(key) && (typeof item === 'string' || (typeof item === 'object' && item !== null));
    out[key] = hides ? REDACTED : redact(item, depth + 1);
  }
  return out;
}

function redactError(error: Error, depth: number): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(error)) extra[key] = item;
  return {
    name: error.name,
    message: maskString(error.message),
    ...(redact(extra, depth + 1) as Record<string, unknown>),
    stack: error.stack ? maskString(error.stack) : undefined,
    cause: error.cause === undefined ? undefined : redact(error.cause, depth + 1),
  };
}

export type LogSink = (line: string) => void;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  options: { level?: LogLevel; sink?: LogSink; base?: Record<string, unknown>; now?: () => number } = {},
): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const sink = options.sink ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = options.now ?? Date.now;
  const base = options.base ?? {};
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    const entry = redact({ time: new Date(now()).toISOString(), level, msg: message, ...base, ...fields });
    sink(JSON.stringify(entry));
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/**
 * Structured JSON logs, one line per event, with secrets removed before anything is written.
 *
 * Two nets catch secrets: keys whose name says "secret" (token, password, authorization, …) have their value
 * replaced whatever it is, and every value registered with `registerSecret` (the admin key, the component
 * secret, each access token as it is issued) is masked wherever it appears inside any string — a URL with a
 * token in its query string, an error message quoting a body.
 */
import { writeStdoutLine } from './stdout';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY =
  /(secret|token|password|passwd|authorization|api[-_]?key|apikey|cookie|ticket|data[-_]?key|aes[-_]?key|refresh|signature|auth[-_]?code)/i;
export const REDACTED = '[redacted]';

/**
 * Registered secrets come in two kinds. Tokens, tickets and API keys are runs of `[A-Za-z0-9_@-]`: every such run
 * in a string is looked up in a set, so masking costs the same with ten or ten thousand live tokens (a poller
 * serving thousands of mini programs opens thousands). The few configuration secrets with other characters
 * (base64 keys) are searched for directly.
 */
const TOKEN_SHAPE = /^[A-Za-z0-9_@-]+$/;
const TOKEN_RUN = /[A-Za-z0-9_@-]{8,}/g;
/** Tokens live two hours; a long-running instance forgets the oldest first rather than grow without end. */
const MAX_TOKEN_SECRETS = 100_000;
const tokenSecrets = new Set<string>();
const otherSecrets: string[] = [];

/** Masks this exact value in every log line from now on (values shorter than 8 chars are too common to mask). */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 8) return;
  if (TOKEN_SHAPE.test(value)) {
    if (tokenSecrets.has(value)) return;
    tokenSecrets.add(value);
    if (tokenSecrets.size > MAX_TOKEN_SECRETS) {
      const oldest = tokenSecrets.values().next().value;
      if (oldest !== undefined) tokenSecrets.delete(oldest);
    }
  } else if (!otherSecrets.includes(value)) {
    otherSecrets.push(value);
    otherSecrets.sort((a, b) => b.length - a.length);
  }
}

/** Every registered secret is at least this long, so a shorter string holds none (most logged values). */
const MIN_SECRET_LENGTH = 8;

const maskTokens = (value: string): string => {
  // Scans first and rebuilds only when a run is a live token: nearly every logged string holds none.
  TOKEN_RUN.lastIndex = 0;
  for (let run = TOKEN_RUN.exec(value); run; run = TOKEN_RUN.exec(value)) {
    if (tokenSecrets.has(run[0])) return value.replace(TOKEN_RUN, (found) => (tokenSecrets.has(found) ? REDACTED : found));
  }
  return value;
};

const maskString = (value: string): string => {
  if (value.length < MIN_SECRET_LENGTH) return value;
  let masked = tokenSecrets.size > 0 ? maskTokens(value) : value;
  for (const secret of otherSecrets) if (masked.includes(secret)) masked = masked.split(secret).join(REDACTED);
  return masked;
};

/** Field names repeat on every line (time, msg, requestId, status…): their verdict is worked out once each. */
const secretKeyVerdicts = new Map<string, boolean>();
const MAX_KEY_VERDICTS = 10_000;
const isSecretKey = (key: string): boolean => {
  let verdict = secretKeyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = SECRET_KEY.test(key);
    if (secretKeyVerdicts.size < MAX_KEY_VERDICTS) secretKeyVerdicts.set(key, verdict);
  }
  return verdict;
};

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
    const hides = (typeof item === 'string' || (typeof item === 'object' && item !== null)) && isSecretKey(key);
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
  const sink = options.sink ?? writeStdoutLine;
  const now = options.now ?? Date.now;
  // A child (one per request) shares its parent's settings and only carries its own base fields.
  const withBase = (base: Record<string, unknown>): Logger => {
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
      child: (fields) => withBase({ ...base, ...fields }),
    };
  };
  return withBase(options.base ?? {});
}

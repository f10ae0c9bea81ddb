/**
 * The error vocabulary of wxa-deploy.
 *
 * Every error the system raises on purpose is an `AppError`: it carries a stable `code` (clients and tests
 * match on it), a `category` (what kind of failure it is, independent of any transport) and, for bad input,
 * the `field` that was wrong. The HTTP status is *not* decided here: exactly one place, the HTTP stack's error
 * handler (`STATUS_BY_CATEGORY` in `shared/runtime/http/stack.ts`), maps categories to statuses, so the domain
 * stays transport-free.
 */

export const ERROR_CATEGORIES = [
  'invalid', // the caller sent something wrong; fixing the request fixes it
  'unauthenticated', // no or bad credentials
  'forbidden', // credentials fine, action not allowed
  'not-found',
  'method-not-allowed',
  'conflict', // a concurrent writer won, or the resource is in a state that forbids this
  'too-large',
  'unsupported-media',
  'rate-limited', // a quota (ours or WeChat's) is used up; retrying now will not help
  'unavailable', // a dependency failed in a way that may pass; retry later
  'internal', // a bug or corrupted data: never shown to the caller in detail
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

export interface AppErrorOptions {
  cause?: unknown;
  /** Dotted path of the offending input field, e.g. `config.theme.mainColor`. */
  field?: string;
  /** Extra, caller-safe facts (never secrets) for the response body and logs. */
  details?: Record<string, unknown>;
}

export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly category: ErrorCategory;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.field = options.field;
    this.details = options.details;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/** One problem found while validating input; `path` is the dotted field path ('' for the whole value). */
export interface FieldIssue {
  path: string;
  message: string;
}

export class ValidationError extends AppError {
  readonly code: string;
  readonly category = 'invalid' as const;
  readonly issues: readonly FieldIssue[];

  constructor(message: string, issues: readonly FieldIssue[], options: AppErrorOptions & { code?: string } = {}) {
    super(message, { ...options, field: options.field ?? issues[0]?.path });
    this.code = options.code ?? 'VALIDATION_FAILED';
    this.issues = issues;
  }
}

export class NotFoundError extends AppError {
  readonly code: string;
  readonly category = 'not-found' as const;
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(message, options);
    this.code = options.code ?? 'NOT_FOUND';
  }
}

/** A compare-and-set lost: somebody else wrote the document since it was read. Re-read and decide again. */
export class ConflictError extends AppError {
  readonly code: string = 'VERSION_CONFLICT';
  readonly category = 'conflict' as const;
}

/** An insert met an existing (unexpired) document with the same key. */
export class DuplicateKeyError extends ConflictError {
  override readonly code = 'DUPLICATE_KEY';
}

export class AuthenticationError extends AppError {
  readonly code: string;
  readonly category = 'unauthenticated' as const;
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(message, options);
    this.code = options.code ?? 'UNAUTHENTICATED';
  }
}

export class ForbiddenError extends AppError {
  readonly code: string;
  readonly category = 'forbidden' as const;
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(message, options);
    this.code = options.code ?? 'FORBIDDEN';
  }
}

export class PayloadTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly category = 'too-large' as const;
}

export class UnsupportedMediaTypeError extends AppError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly category = 'unsupported-media' as const;
}

export class MethodNotAllowedError extends AppError {
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly category = 'method-not-allowed' as const;
}

/** Stored data no longer matches its schema: a bug or a manual edit. Never silently "fixed". */
export class CorruptDocumentError extends AppError {
  readonly code = 'CORRUPT_DOCUMENT';
  readonly category = 'internal' as const;
}

/** Start-up configuration is missing or malformed; the message lists every problem at once. */
export class ConfigError extends AppError {
  readonly code = 'CONFIG_INVALID';
  readonly category = 'internal' as const;
}

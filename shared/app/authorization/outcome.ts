/**
 * What an authorization ends in: the outcome recorded per auth code (shown again on a refreshed callback page) and
 * the refusal error the callbacks answer with.
 */

import { AppError, ERROR_CATEGORIES, type ErrorCategory } from '../../domain/errors';
import * as z from '../../domain/zod';

export const authResultSchema = z.object({
  ok: z.boolean(),
  code: z.string(),
  message: z.string(),
  /** A refusal's error category, so a replay answers with the same status (absent before 2026-11-22). */
  // A category this release does not know reads as none (answered as forbidden), not as a corrupt document.
  category: z.catch(z.optional(z.enum(ERROR_CATEGORIES)), undefined),
  appid: z.nullable(z.string()),
  at: z.number(),
});
export type AuthResult = z.infer<typeof authResultSchema>;

export class AuthorizationRefusedError extends AppError {
  readonly code: string;
  readonly category: ErrorCategory;
  constructor(code: string, message: string, cause?: unknown, category: ErrorCategory = 'forbidden') {
    super(message, { cause });
    this.code = code;
    this.category = category;
  }
}

/** A refusal recorded for an auth code, raised again with the status it had the first time. */
export const refusalOf = (result: AuthResult): AuthorizationRefusedError =>
  new AuthorizationRefusedError(result.code, result.message, undefined, result.category ?? 'forbidden');

/**
 * Small vocabulary shared by the entities: who did something, and how a rule answers.
 */

import type { AppError, FieldIssue } from './errors';
import * as z from './zod';

/**
 * Who caused a change. `account` = a frontend acting with an account's API key, `admin` = the platform
 * operator, `wechat` = a push from WeChat, `system` = our own timer (poller, maintenance).
 */
export const actorSchema = z.object({
  kind: z.enum(['account', 'admin', 'wechat', 'system']),
  id: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});
export type Actor = z.infer<typeof actorSchema>;

/**
 * The answer of a business rule. A refusal is an expected outcome, so it is returned rather than thrown; the
 * caller decides whether to throw `error` (a handler) or to show it (a list of what blocks publishing).
 */
export type Decision = { readonly ok: true } | { readonly ok: false; readonly error: AppError };

export const ALLOWED: Decision = Object.freeze({ ok: true });
export const refused = (error: AppError): Decision => ({ ok: false, error });

/**
 * The schema a `z.lazy` stands for, to derive another from it (`.omit`, `.extend`, `.shape`): the domain's document
 * schemas are lazy (built on first use rather than at every cold start's import), and this is the instance their
 * parses use, built now if it was not yet.
 */
export const lazyTarget = <T extends z.ZodMiniType>(schema: z.ZodMiniLazy<T>): T => schema._zod.innerType;

/** zod issues as our dotted field paths, so every bad field reaches the caller under its request path. */
export const fieldIssues = (error: z.core.$ZodError, prefix: string): FieldIssue[] =>
  error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part.length > 0).join('.'),
    message: issue.message,
  }));

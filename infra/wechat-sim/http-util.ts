/**
 * Small HTTP vocabulary shared by the WeChat API routes, the control routes and the server: what a handler
 * returns, how a body is read, how a zod failure becomes a field path.
 */
import type { IncomingMessage } from 'node:http';
import { type FieldIssue, ValidationError } from '../../shared/domain/errors';
import type * as z from '../../shared/domain/zod';

export type SimResponse =
  | { kind: 'json'; status?: number; body: unknown /** Default `application/json; encoding=utf-8`. */; contentType?: string }
  | { kind: 'binary'; contentType: string; data: Buffer; headers?: Record<string, string> }
  | { kind: 'html'; status?: number; html: string }
  | { kind: 'redirect'; location: string };

export const json = (body: unknown, status?: number): SimResponse =>
  status === undefined ? { kind: 'json', body } : { kind: 'json', status, body };
export const html = (markup: string, status?: number): SimResponse =>
  status === undefined ? { kind: 'html', html: markup } : { kind: 'html', status, html: markup };

/** Bodies larger than this are cut off: nothing WeChat accepts comes close. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) break;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function fieldIssues(error: z.core.$ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Parses control input; a failure is a ValidationError naming the offending field (→ HTTP 400 under /sim). */
export function parseControl<T>(schema: z.ZodMiniType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = fieldIssues(result.error);
  const first = issues[0];
  const where = first === undefined || first.path === '' ? '' : ` at ${first.path}`;
  const message = `invalid ${what}${where}: ${first?.message ?? 'invalid input'}`;
  throw new ValidationError(message, issues, { code: 'SIM_INVALID_INPUT' });
}

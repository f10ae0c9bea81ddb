/** Test-only helpers shared by the shim's test files (not exported from index.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from '../../domain/zod';

/** Stands for "the moment the request was received" where a provider sends no request time. */
export const RECEIVED_AT = 1_700_000_000_000;

export const loadFixture = (name: string): unknown => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));

const contextsSchema = z.object({
  scf: z.record(z.string(), z.unknown()),
  fc: z.record(z.string(), z.unknown()),
  local: z.record(z.string(), z.unknown()),
});
export const contexts = contextsSchema.parse(loadFixture('contexts.json'));

/** A shallow copy of a fixture object with some fields replaced or (value `undefined`) removed. */
export function withFields(value: unknown, changes: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...z.record(z.string(), z.unknown()).parse(value) };
  for (const [key, next] of Object.entries(changes)) {
    if (next === undefined) delete copy[key];
    else copy[key] = next;
  }
  return copy;
}

/** The first bytes of a real PNG (signature + IHDR start) plus bytes that are invalid UTF-8 on their own. */
export const PNG_BYTES = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0xfe, 0x80, 0x00,
]);

/** Runs `fn` and returns what it threw, failing the test if it threw nothing. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

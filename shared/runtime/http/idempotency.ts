/**
 * `Idempotency-Key` for every POST: the first request with a key runs; a repeat with the same key and body gets
 * the stored response back (header `idempotency-replayed: true`) without running again; a repeat with another
 * body is refused; a repeat while the first is still running gets 409. The algorithm is AWS Powertools'
 * (claim → run → complete, or delete on failure so a retry can run), on our document store.
 */

import { createHash } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { AppError, ConflictError, DuplicateKeyError, ValidationError } from '../../domain/errors';
import * as z from '../../domain/zod';
import { type DocumentStore, defineCollection } from '../../store/port';
import { retryOnConflict } from '../../store/retry';
import type { SecretBox } from '../../store/secret-box';

export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

export const idempotencyCollection = defineCollection({
  name: 'idempotency',
  schema: z.lazy(() =>
    z.object({
      requestHash: z.string(),
      status: z.enum(['in-progress', 'completed']),
      inProgressUntil: z.number(),
      response: z.nullable(
        z.object({
          statusCode: z.number().check(z.int()),
          headers: z.record(z.string(), z.string()),
          body: z.string(),
          isBase64Encoded: z.boolean(),
        }),
      ),
    }),
  ),
});

export class IdempotencyInProgressError extends AppError {
  readonly code = 'IDEMPOTENCY_KEY_IN_USE';
  readonly category = 'conflict' as const;
}

const KEY = /^[A-Za-z0-9._:-]{8,128}$/;

export interface IdempotencyGuard {
  /** Runs `execute` at most once per key; returns the stored response for a replay. */
  run(
    scope: string,
    key: string,
    body: Buffer,
    timeLimitMs: number,
    execute: () => Promise<APIGatewayProxyResult>,
  ): Promise<APIGatewayProxyResult>;
}

/**
 * With a secret box, stored response bodies are sealed: a replayed response may carry a secret shown once (a new
 * account's API key), and at rest it must stay as unreadable as the hashes the account itself keeps.
 */
export function createIdempotencyGuard(store: DocumentStore, clock: () => number = Date.now, box?: SecretBox): IdempotencyGuard {
  const records = store.collection(idempotencyCollection);
  const seal = (id: string, body: string) => (box ? box.seal(body, `idempotency/${id}`) : body);
  const open = (id: string, body: string) => (box ? box.open(body, `idempotency/${id}`) : body);
  return {
    run: async (scope, key, body, timeLimitMs, execute) => {
      if (!KEY.test(key)) {
        throw new ValidationError(
          'Idempotency-Key must be 8–128 characters of letters, digits, . _ : -',
          [{ path: 'headers.idempotency-key', message: 'invalid format' }],
          { code: 'IDEMPOTENCY_KEY_INVALID' },
        );
      }
      const id = createHash('sha256').update(scope).update('\0').update(key).digest('hex');
      const requestHash = createHash('sha256').update(body).digest('hex');
      const now = clock();
      const claim = { requestHash, status: 'in-progress' as const, inProgressUntil: now + timeLimitMs, response: null };
      // Claim the key, or decide on its record. A takeover that loses its race (or a record purged in between) reads
      // again under the one retry rule; another request's live claim is not a race to retry: 409 at once.
      const claimed = await retryOnConflict(
        `claim idempotency key ${id}`,
        async (): Promise<{ version: number } | { replay: APIGatewayProxyResult }> => {
          try {
            return { version: (await records.insert(id, claim, { expiresAt: now + IDEMPOTENCY_RETENTION_MS })).version };
          } catch (error) {
            if (!(error instanceof DuplicateKeyError)) throw error;
          }
          const existing = await records.get(id);
          if (!existing) throw new ConflictError(`idempotency record ${id} expired while being claimed`, { details: { id } });
          if (existing.data.requestHash !== requestHash) {
            throw new ValidationError(
              'this Idempotency-Key was already used with a different request body',
              [{ path: 'headers.idempotency-key', message: 'reused with a different body' }],
              { code: 'IDEMPOTENCY_KEY_REUSED' },
            );
          }
          if (existing.data.status === 'completed' && existing.data.response) {
            const stored = existing.data.response;
            return { replay: { ...stored, body: open(id, stored.body), headers: { ...stored.headers, 'idempotency-replayed': 'true' } } };
          }
          // A claim whose invocation died (past its time limit) may be taken over; a live one may not.
          if (existing.data.inProgressUntil > now) {
            throw new IdempotencyInProgressError('the request with this Idempotency-Key is still being processed');
          }
          return { version: (await records.update(id, existing.version, claim)).version };
        },
      );
      if ('replay' in claimed) return claimed.replay;
      const { version } = claimed;
      let result: APIGatewayProxyResult;
      try {
        result = await execute();
      } catch (error) {
        await records.delete(id, version).catch(() => undefined);
        throw error;
      }
      if (result.statusCode >= 500 || result.statusCode === 409 || result.statusCode === 429) {
        // Worth retrying as a fresh request: do not pin the failure to the key.
        await records.delete(id, version).catch(() => undefined);
        return result;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
      await records.update(id, version, {
        ...claim,
        status: 'completed',
        response: { statusCode: result.statusCode, headers, body: seal(id, result.body), isBase64Encoded: result.isBase64Encoded ?? false },
      });
      return result;
    },
  };
}

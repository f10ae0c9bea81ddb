/**
 * The inbox: every WeChat push is written here *before* `success` is answered, keyed by a fingerprint of its
 * decrypted content, so WeChat's retries (3 attempts when not answered within 5 s) and duplicated deliveries are
 * recognised, and a delivery whose processing crashed is processed again by the next retry.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, DuplicateKeyError } from '../domain/errors';
import { defineCollection, type DocumentStore } from '../store/port';

export const INBOX_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** A "received" entry older than this is taken to belong to a crashed invocation and may be claimed again. */
export const INBOX_CLAIM_TIMEOUT_MS = 60_000;

export const inboxCollection = defineCollection({
  name: 'inbox',
  schema: z.object({
    source: z.enum(['component', 'authorizer']),
    /** InfoType (component pushes) or Event (authorizer pushes). */
    type: z.string(),
    /** The mini program concerned, when the push names one. */
    appId: z.string().nullable(),
    createTime: z.number().nullable(),
    receivedAt: z.number(),
    status: z.enum(['received', 'processed', 'failed']),
    claimedAt: z.number(),
    processedAt: z.number().nullable(),
    outcome: z.string().nullable(),
  }),
  // No indexes: the inbox is read only by id, and every index would tax the hot path of every push.
});
export type InboxEntry = z.output<typeof inboxCollection.schema>;

export const fingerprintOf = (source: string, plaintext: string): string =>
  createHash('sha256').update(source).update('\0').update(plaintext).digest('hex');

export type Claim =
  | { kind: 'new'; id: string; version: number }
  | { kind: 'duplicate'; status: InboxEntry['status'] };

export function createInbox(store: DocumentStore, clock: () => number = Date.now) {
  const inbox = store.collection(inboxCollection);
  return {
    /** Records the push durably; says whether this invocation should process it. */
    claim: async (id: string, entry: Omit<InboxEntry, 'receivedAt' | 'status' | 'claimedAt' | 'processedAt' | 'outcome'>): Promise<Claim> => {
      const now = clock();
      try {
        const stored = await inbox.insert(
          id,
          { ...entry, receivedAt: now, status: 'received', claimedAt: now, processedAt: null, outcome: null },
          { expiresAt: now + INBOX_RETENTION_MS },
        );
        return { kind: 'new', id, version: stored.version };
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
      const existing = await inbox.get(id);
      if (!existing) return { kind: 'duplicate', status: 'processed' };
      if (existing.data.status === 'received' && now - existing.data.claimedAt >= INBOX_CLAIM_TIMEOUT_MS) {
        try {
          const reclaimed = await inbox.update(id, existing.version, { ...existing.data, claimedAt: now });
          return { kind: 'new', id, version: reclaimed.version };
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
        }
      }
      return { kind: 'duplicate', status: existing.data.status };
    },
    settle: async (claim: { id: string; version: number }, status: 'processed' | 'failed', outcome: string): Promise<void> => {
      const current = await inbox.get(claim.id);
      if (!current || current.version !== claim.version) return; // another invocation reclaimed it: theirs wins
      await inbox.update(claim.id, current.version, { ...current.data, status, processedAt: clock(), outcome });
    },
    /** Processing failed in a way a retry may fix: forget the push so WeChat's next retry processes it again. */
    release: async (claim: { id: string; version: number }): Promise<void> => {
      try {
        await inbox.delete(claim.id, claim.version);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    },
    get: (id: string) => inbox.get(id),
    find: inbox.find,
  };
}
export type Inbox = ReturnType<typeof createInbox>;

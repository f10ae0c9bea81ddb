/**
 * The inbox: every WeChat push is recorded here *before* `success` is answered, keyed by a fingerprint of its
 * decrypted content, so WeChat's retries (3 attempts when not answered within 5 s) and duplicated deliveries are
 * recognised and acknowledged without acting twice.
 *
 * One write per push: the receiver acts first and records the push with its outcome afterwards. Every reaction
 * is idempotent (state-machine transitions repeat harmlessly, tokens are compare-and-set), so the gaps this
 * leaves are harmless: a crash after acting and before recording means WeChat's retry acts again, to no effect;
 * two deliveries of one push racing each other both act, and the second record finds the first. What this order
 * rules out is the opposite failure — a push recorded as seen whose reaction never happened — so a retry can never
 * be acknowledged on the strength of an attempt that later failed.
 */
import { createHash } from 'node:crypto';
import { ConflictError, DuplicateKeyError } from '../domain/errors';
import * as z from '../domain/zod';
import { type DocumentStore, defineCollection } from '../store/port';
import { retryOnConflict } from '../store/retry';

export const INBOX_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export const inboxCollection = defineCollection({
  name: 'inbox',
  schema: z.lazy(() =>
    z.object({
      source: z.enum(['component', 'authorizer']),
      /** InfoType (component pushes) or Event (authorizer pushes). */
      type: z.string(),
      /** The mini program concerned, when the push names one. */
      appId: z.nullable(z.string()),
      createTime: z.nullable(z.number()),
      receivedAt: z.number(),
      /** `received`: written by releases before 2026-11-21, which recorded a push before acting on it. */
      status: z.enum(['received', 'processed', 'failed']),
      /** Only on `received` entries of those releases. */
      claimedAt: z.optional(z.number()),
      processedAt: z.nullable(z.number()),
      outcome: z.nullable(z.string()),
    }),
  ),
  // No indexes: the inbox is read only by id, and every index would tax the hot path of every push.
});
export type InboxEntry = z.output<typeof inboxCollection.schema>;
export type PushFacts = Pick<InboxEntry, 'source' | 'type' | 'appId' | 'createTime'>;

/**
 * The inbox key. An authorizer push is keyed by the appid of the URL that received it too: msg_signature does not
 * cover the path, so the same genuine plaintext can be posted to another mini program's URL, and whatever happens
 * there must never make the push look handled where WeChat sent it. Component pushes, whose URL names no appid,
 * keep their key.
 *
 * Authorizer entries recorded before the appid was part of the key never match again. That is harmless: the inbox
 * only has to recognise WeChat's retries, which follow the first attempt within seconds, so at worst a push whose
 * retry straddles the deployment is handled twice — and every reaction is idempotent (see above).
 */
export const fingerprintOf = (source: 'component' | 'authorizer', plaintext: string, receivingAppid?: string): string => {
  const hash = createHash('sha256').update(source).update('\0');
  // Appids are [0-9A-Za-z] and XML holds no NUL, so the separator keeps (appid, plaintext) pairs apart.
  if (receivingAppid !== undefined) hash.update(receivingAppid).update('\0');
  return hash.update(plaintext).digest('hex');
};

export function createInbox(store: DocumentStore, clock: () => number = Date.now) {
  const inbox = store.collection(inboxCollection);
  return {
    /**
     * The outcome recorded for this push, if it was handled before. A `received` entry (a reaction that never
     * finished, under the old protocol) does not count: the push is handled again.
     */
    handled: async (id: string): Promise<Pick<InboxEntry, 'status' | 'outcome'> | null> => {
      const entry = await inbox.get(id);
      return entry && entry.data.status !== 'received' ? { status: entry.data.status, outcome: entry.data.outcome } : null;
    },
    /**
     * Records a push as handled, durably, in one write. Says `duplicate` when another delivery of the same push
     * recorded it first (its record stands).
     */
    record: async (
      id: string,
      facts: PushFacts,
      receivedAt: number,
      status: 'processed' | 'failed',
      outcome: string,
    ): Promise<'recorded' | 'duplicate'> => {
      // The facts' fields named one by one rather than spread: new keys after a spread cost ~1.5 µs each on Node 20
      // (bench/object-spread.ts), paid on every push.
      const entry: InboxEntry = {
        source: facts.source,
        type: facts.type,
        appId: facts.appId,
        createTime: facts.createTime,
        receivedAt,
        status,
        processedAt: clock(),
        outcome,
      };
      return retryOnConflict(`record push ${id}`, async () => {
        try {
          await inbox.insert(id, entry, { expiresAt: receivedAt + INBOX_RETENTION_MS });
          return 'recorded';
        } catch (error) {
          if (!(error instanceof DuplicateKeyError)) throw error;
        }
        const existing = await inbox.get(id);
        // Expired between the insert and the read: a lost race like any other, so insert again.
        if (!existing) throw new ConflictError(`inbox ${id} expired while being recorded`, { details: { id } });
        if (existing.data.status !== 'received') return 'duplicate';
        await inbox.update(id, existing.version, entry);
        return 'recorded';
      });
    },
  };
}
export type Inbox = ReturnType<typeof createInbox>;

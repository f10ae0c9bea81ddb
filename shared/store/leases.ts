/**
 * Leases: "exactly one instance does this for a while" (refresh a token, poll a deployment), built only from the
 * port's compare-and-set primitives so every adapter gets the same semantics.
 *
 * A lease is a document whose own expiry is the lease expiry. While it is live, `insert` fails for everybody
 * else; once it has expired it is invisible and the next `insert` takes it over (the adapter bumps the version,
 * so the previous holder's renew/release compare-and-set fails instead of touching the new holder's lease).
 */

import { ConflictError, DuplicateKeyError } from '../domain/errors';
import * as z from '../domain/zod';
import { type Clock, type DocumentStore, defineCollection } from './port';

export const leasesCollection = defineCollection({
  name: 'leases',
  schema: z.lazy(() => z.object({ owner: z.string().check(z.minLength(1)), acquiredAt: z.number(), until: z.number() })),
});

export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly version: number;
  readonly until: number;
}

export interface Leases {
  /** Returns the lease, or null if somebody else holds it. Re-acquiring one's own live lease extends it. */
  acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a lease still held; null if it was lost (expired and taken over, or released). */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /** Gives the lease up if still held; a lost lease is a no-op. */
  release(lease: Lease): Promise<void>;
  holder(name: string): Promise<{ owner: string; until: number } | null>;
}

export function createLeases(store: DocumentStore, clock: Clock = Date.now): Leases {
  const leases = store.collection(leasesCollection);

  const lost = (error: unknown) => error instanceof ConflictError;

  return {
    acquire: async (name, owner, ttlMs) => {
      const now = clock();
      const until = now + ttlMs;
      try {
        const stored = await leases.insert(name, { owner, acquiredAt: now, until }, { expiresAt: until });
        return { name, owner, version: stored.version, until };
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
      const current = await leases.get(name);
      if (!current || current.data.owner !== owner) return null;
      try {
        const stored = await leases.update(name, current.version, { ...current.data, until }, { expiresAt: until });
        return { name, owner, version: stored.version, until };
      } catch (error) {
        if (lost(error)) return null;
        throw error;
      }
    },
    renew: async (lease, ttlMs) => {
      const now = clock();
      const until = now + ttlMs;
      // A purged lease re-inserted by someone else starts again at version 1: the version alone could match a
      // stale holder's, so the owner is checked too.
      const current = await leases.get(lease.name);
      if (!current || current.data.owner !== lease.owner || current.version !== lease.version) return null;
      try {
        const stored = await leases.update(lease.name, lease.version, { owner: lease.owner, acquiredAt: now, until }, { expiresAt: until });
        return { ...lease, version: stored.version, until };
      } catch (error) {
        if (lost(error)) return null;
        throw error;
      }
    },
    release: async (lease) => {
      const current = await leases.get(lease.name);
      if (!current || current.data.owner !== lease.owner) return;
      try {
        await leases.delete(lease.name, lease.version);
      } catch (error) {
        if (!lost(error)) throw error;
      }
    },
    holder: async (name) => {
      const current = await leases.get(name);
      return current ? { owner: current.data.owner, until: current.data.until } : null;
    },
  };
}

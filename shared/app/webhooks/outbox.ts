/**
 * The outbox: a state change and the events reporting it are one `store.commit` batch, so an event exists exactly
 * when its change does — never lost (a crash after the write leaves the event for the timer), never early (a write
 * that fails or loses its compare-and-set takes its events with it). Delivery happens afterwards.
 */

import type { RandomBytes } from '../../domain/ids';
import type { MiniProgram } from '../../domain/mini-program';
import { miniProgramEvents, type OutboxEvent } from '../../domain/webhooks/state-changes';
import type { DocumentStore, Stored, Write } from '../../store/port';
import { ownerOf, webhookCollections } from './collections';

/** Events and deliveries are kept this long, as the delivery log and for redelivery; ten times the retry window. */
export const WEBHOOK_RETENTION_MS = 30 * 86_400_000;

export function outboxWrites(store: DocumentStore, events: readonly OutboxEvent[]): Write[] {
  const { outbox } = webhookCollections(store);
  return events.map(({ id, event }) =>
    outbox.insertWrite(id, { ...event, owner: ownerOf(event.accountId) }, { expiresAt: event.occurredAt + WEBHOOK_RETENTION_MS }),
  );
}

export type { OutboxEvent };

/** Stores `writes` and the events they report in one batch, then tells this process's delivery worker (if any). */
export async function commitWithEvents(store: DocumentStore, writes: readonly Write[], events: readonly OutboxEvent[]): Promise<void> {
  await store.commit([...writes, ...outboxWrites(store, events)]);
  if (events.length > 0) notifyOutbox(store);
}

// A process that delivers (the local runtime, a warm function) listens; a state change only rings the bell. Keyed
// by store so tests with several stores in one process do not ring each other.
const listeners = new WeakMap<DocumentStore, Set<() => void>>();

export function notifyOutbox(store: DocumentStore): void {
  for (const listener of listeners.get(store) ?? []) listener();
}

export function onOutbox(store: DocumentStore, listener: () => void): () => void {
  let set = listeners.get(store);
  if (!set) listeners.set(store, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/** The events of a mini program write: `before` as read (null: a new document), `after` as it will be written. */
export function miniProgramWriteEvents(
  randomBytes: RandomBytes,
  before: Pick<Stored<MiniProgram>, 'data' | 'version'> | null,
  after: MiniProgram,
  at: number,
): OutboxEvent[] {
  return miniProgramEvents(before?.data ?? null, after, (before?.version ?? 0) + 1, at, randomBytes);
}

// "No endpoint exists" as this process last saw it (per store): the after-request run skips the worker meanwhile,
// and an endpoint created here ends it at once.
const noEndpointsUntil = new WeakMap<DocumentStore, number>();

export const believedWithoutEndpoints = (store: DocumentStore, now: number): boolean => now < (noEndpointsUntil.get(store) ?? 0);
export const sawNoEndpoints = (store: DocumentStore, until: number): void => void noEndpointsUntil.set(store, until);
export const endpointCreated = (store: DocumentStore): void => void noEndpointsUntil.delete(store);

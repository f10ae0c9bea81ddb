/**
 * The events a state change reports, worked out from the document before and after it — pure, so the write that
 * stores the change can carry its events in the same batch (the outbox), and a test can check them without a store.
 */
import type { Deployment } from '../deployment';
import type { AccountId, RandomBytes } from '../ids';
import type { MiniProgram } from '../mini-program';
import type { Rollout } from '../rollout';
import { makeEvent, newEventId, type WebhookEvent } from './events';

export interface OutboxEvent {
  readonly id: string;
  readonly event: WebhookEvent;
}

const withId = (event: WebhookEvent, randomBytes: RandomBytes): OutboxEvent => ({ id: newEventId(event.occurredAt, randomBytes), event });

/**
 * One event per history entry a change added. The entry's position in the history is its sequence: it only grows,
 * and a write that adds two entries gives them two numbers.
 */
function perNewEntry<E extends { at: number }>(
  before: readonly E[],
  after: readonly E[],
  randomBytes: RandomBytes,
  make: (entry: E, sequence: number) => WebhookEvent,
): OutboxEvent[] {
  return after.slice(before.length).map((entry, i) => withId(make(entry, before.length + i + 1), randomBytes));
}

export function deploymentStateEvents(before: Deployment | null, after: Deployment, randomBytes: RandomBytes): OutboxEvent[] {
  return perNewEntry(before?.history ?? [], after.history, randomBytes, (entry, sequence) =>
    makeEvent({
      type: 'deployment.state_changed',
      accountId: after.accountId,
      subject: after.id,
      sequence,
      occurredAt: entry.at,
      data: {
        accountId: after.accountId,
        deploymentId: after.id,
        appId: after.appId,
        miniProgramAppid: after.miniProgramAppid,
        sequence,
        from: entry.from,
        to: entry.to,
        entry,
        reason: entry.to === after.state ? after.stateReason : (entry.cause ?? null),
      },
    }),
  );
}

/**
 * Linked / unlinked (new link-history entries) and needs-reauth (the status turning to it). Their sequence comes from
 * `version`, the document's version after the write (the link history is capped, and a status change adds no
 * entry): `version · 4 + i` for the i-th event of the write, so an unlink and the link that replaced it stay ordered.
 */
export function miniProgramEvents(
  before: MiniProgram | null,
  after: MiniProgram,
  version: number,
  at: number,
  randomBytes: RandomBytes,
): OutboxEvent[] {
  const seen = new Set((before?.linkHistory ?? []).map((entry) => JSON.stringify(entry)));
  const events: WebhookEvent[] = [];
  const next = () => ({ accountId: after.accountId, subject: after.appid, sequence: version * 4 + events.length, occurredAt: at });
  for (const entry of after.linkHistory.filter((e) => !seen.has(JSON.stringify(e)))) {
    const base = next();
    events.push(
      entry.change === 'linked'
        ? makeEvent({
            ...base,
            type: 'mini_program.linked',
            data: { accountId: after.accountId, appid: after.appid, appId: entry.appId, sequence: base.sequence },
          })
        : makeEvent({
            ...base,
            type: 'mini_program.unlinked',
            data: { accountId: after.accountId, appid: after.appid, appId: entry.appId, reason: entry.reason, sequence: base.sequence },
          }),
    );
  }
  if (after.status === 'needs-reauth' && before?.status !== 'needs-reauth') {
    const base = next();
    const reason = after.statusReason ?? 'WeChat refused the refresh token';
    events.push(
      makeEvent({
        ...base,
        type: 'mini_program.needs_reauth',
        data: { accountId: after.accountId, appid: after.appid, reason, sequence: base.sequence },
      }),
    );
  }
  return events.map((event) => withId(event, randomBytes));
}

/** `authorization.refused`: a scan this backend refused (another subject, missing permission sets…), once per code. */
export function authorizationRefusedEvents(
  refused: { accountId: AccountId; attempt: string; purpose: 'bind-primary' | 'authorize-app'; code: string; reason: string; at: number },
  randomBytes: RandomBytes,
): OutboxEvent[] {
  const { accountId, attempt, purpose, code, reason, at } = refused;
  const event = makeEvent({
    type: 'authorization.refused',
    accountId,
    // A refusal is no document's change: each attempt (auth code) is its own subject, first of its sequence.
    subject: `authorization:${attempt}`,
    sequence: 1,
    occurredAt: at,
    data: { accountId, appid: null, purpose, code, reason },
  });
  return [withId(event, randomBytes)];
}

/** `rollout.state_changed`, one per history entry the change added (a wave advancing is one too). */
export function rolloutStateEvents(before: Rollout | null, after: Rollout, randomBytes: RandomBytes): OutboxEvent[] {
  return perNewEntry(before?.history ?? [], after.history, randomBytes, (entry, sequence) =>
    makeEvent({
      type: 'rollout.state_changed',
      accountId: after.accountId,
      subject: after.id,
      sequence,
      occurredAt: entry.at,
      data: { accountId: after.accountId, rolloutId: after.id, sequence, from: entry.from, to: entry.to, entry, counts: after.counts },
    }),
  );
}

import { randomBytes } from 'node:crypto';
import { ConflictError } from '../domain/errors';
import { type MiniProgram, markUnauthorized, recordAuthorization } from '../domain/mini-program';
import { createLogger } from '../runtime/logger';
import { DEFAULT_RETRY_POLICY } from '../store/retry';
import { openSqliteStore } from '../store/sqlite';
import { loseFirstRace } from '../store/testing';
import { openCollections } from './context';
import { markMiniProgramNeedsReauth } from './mini-programs';
import { webhookCollections } from './webhooks/collections';

const APPID = 'wx0123456789abcdef';
const REASON = '61023 refresh_token is invalid';

function world() {
  let now = 1_000_000;
  const store = openSqliteStore({ path: ':memory:', clock: () => now });
  const warnings: string[] = [];
  const log = createLogger({ level: 'warn', sink: (line) => void warnings.push(line) });
  const services = { db: openCollections(store), store, clock: () => now, log, randomBytes };
  const authorized = recordAuthorization(
    null,
    { appid: APPID, accountId: 'acc_demo', subject: 'Demo Co.', nickname: 'Demo', userName: 'gh_demo', funcScopeIds: [18] },
    { at: now, actor: { kind: 'system' }, scannedFor: 'primary' },
  ).miniProgram;
  return { services, authorized, warnings, later: () => (now += 1000) };
}

describe('markMiniProgramNeedsReauth: the one rule for a dead refresh token', () => {
  it('marks an authorized mini program, with the reason for its owner', async () => {
    const { services, authorized } = world();
    await services.db.miniPrograms.insert(APPID, authorized);
    await markMiniProgramNeedsReauth(services, APPID, REASON);
    expect((await services.db.miniPrograms.get(APPID))?.data).toMatchObject({ status: 'needs-reauth', statusReason: REASON });
    // Its webhook event is in the outbox, written with it.
    const events = await webhookCollections(services.store).outbox.find({ limit: 10 });
    expect(events.map((e) => e.data.type)).toEqual(['mini_program.needs_reauth']);
  });

  it('leaves a revoked (unauthorized) mini program as it is: revocation says more than a dead token', async () => {
    const { services, authorized, later } = world();
    const revoked: MiniProgram = markUnauthorized(authorized, { at: later(), actor: { kind: 'wechat' } }).miniProgram;
    await services.db.miniPrograms.insert(APPID, revoked);
    await markMiniProgramNeedsReauth(services, APPID, REASON);
    const stored = await services.db.miniPrograms.get(APPID);
    expect(stored?.data).toEqual(revoked);
    expect(stored?.version).toBe(1);
  });

  it('does nothing for a mini program that is not stored', async () => {
    const { services } = world();
    await expect(markMiniProgramNeedsReauth(services, APPID, REASON)).resolves.toBeNull();
    expect(await services.db.miniPrograms.get(APPID)).toBeNull();
  });

  it('reads again after losing a race, and keeps the other writer’s change', async () => {
    const { services, authorized, later } = world();
    await services.db.miniPrograms.insert(APPID, authorized);
    loseFirstRace(services.db.miniPrograms, (current) => ({ ...current, nickname: 'Renamed', updatedAt: later() }));
    await markMiniProgramNeedsReauth(services, APPID, REASON);
    expect((await services.db.miniPrograms.get(APPID))?.data).toMatchObject({ status: 'needs-reauth', nickname: 'Renamed' });
  });

  it('gives up with a warning, not forever, when every write loses a race', async () => {
    const { services, authorized, warnings } = world();
    await services.db.miniPrograms.insert(APPID, authorized);
    let tries = 0;
    services.store.commit = async () => {
      tries += 1;
      throw new ConflictError('another writer won');
    };
    await expect(markMiniProgramNeedsReauth(services, APPID, REASON)).resolves.toBeNull();
    expect(tries).toBe(DEFAULT_RETRY_POLICY.attempts);
    expect((await services.db.miniPrograms.get(APPID))?.data.status).toBe('authorized');
    expect(warnings.join('\n')).toContain('could not mark the mini program as needing a new authorization');
  });
});

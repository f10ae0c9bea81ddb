/**
 * The hostile-input corpus (`fixtures/*.json`), sent over HTTP to the whole product: forged, stale and replayed
 * WeChat pushes, damaged ciphertexts, XML attacks, malformed and schema-invalid bodies, odd ids, another account's
 * ids, bad credentials. Each case must get the status (a 4xx) and error code it declares, in our error envelope,
 * never a 5xx — and leave every document of the store exactly as it was. The one deliberate exception: a push
 * replayed within the 5-minute window is indistinguishable from WeChat's own retry, so it is acknowledged with
 * `success` (200) — and must change nothing either.
 *
 * The world the cases aim at: account A (primary bound, an app with its target mini program, a built deployment,
 * an uploaded image) and account B, the same, whose key attacks A's ids; account C's key was rotated ("revoked").
 */
import { join } from 'node:path';
import { client, createAccount, createLowcodeApp, expectStatus, redirectAfterScan } from '../../infra/local/driver';
import { type AccountWorld, accountWorld } from '../../infra/testing/world';
import * as z from '../../shared/domain/zod';
import { newMiniProgram, newSubject, type SeededPlatform, startSeededPlatform } from '../reliability/support';
import { errorEnvelope } from '../support/http';
import {
  bodyBytes,
  buildPush,
  type HostileCase,
  loadCorpus,
  type PushKeys,
  type RawReply,
  rawRequest,
  snapshotStore,
  storeChanges,
  substitute,
  type World,
} from './corpus';

jest.mock('qrcode', () => jest.requireActual('../reliability/fast-qrcode'));

const corpus = loadCorpus(join(__dirname, 'fixtures'));
/** `/v1/health` writes a probe by design; nothing in the corpus calls it, but a stray probe is not the case's doing. */
const IGNORED_COLLECTIONS = ['healthProbes'];

let p: SeededPlatform;
let world: World;
let keys: PushKeys;
let authHeaders: Record<HostileCase['auth'], Record<string, string>>;

const asPlaceholders = (label: 'A' | 'B', w: AccountWorld): World =>
  Object.fromEntries(
    Object.entries(w)
      .filter(([name]) => name !== 'key')
      .map(([name, value]) => [`${label}.${name}`, value]),
  );

beforeAll(async () => {
  // A small body limit keeps the oversized cases small.
  p = await startSeededPlatform({ env: { MAX_BODY_BYTES: '65536' } });
  const a = await accountWorld(p);
  const b = await accountWorld(p);
  const aKey = a.key;
  const bKey = b.key;
  // Account C rotates its key twice: at most two keys live, so the first one is now revoked.
  const c = await createAccount(p, 'Carol');
  const second = z.object({ apiKey: z.string() }).parse(expectStatus(await c.api.post('/v1/account/api-keys', {}), 201).body).apiKey;
  expectStatus(await client(p.url, second).post('/v1/account/api-keys', {}), 201);
  world = {
    ...asPlaceholders('A', a),
    ...asPlaceholders('B', b),
    'A.key': aKey,
    adminKey: p.adminKey,
    adminKeyUpper: p.adminKey.toUpperCase(),
    componentAppId: p.credentials.componentAppId,
  };
  keys = { componentAppId: p.credentials.componentAppId, token: p.credentials.token, encodingAESKey: p.credentials.encodingAESKey };
  authHeaders = {
    none: {},
    A: { authorization: `Bearer ${aKey}` },
    B: { authorization: `Bearer ${bKey}` },
    admin: { authorization: `Bearer ${p.adminKey}` },
    bogus: { authorization: 'Bearer acc_0000000000000000000000000000' },
    revoked: { authorization: `Bearer ${c.apiKey}` },
    'A-as-x-api-key': { 'x-api-key': aKey },
    basic: { authorization: `Basic ${Buffer.from(`${aKey}:`).toString('base64')}` },
    huge: { authorization: `Bearer ${'k'.repeat(12_000)}` },
  };
  await p.sim.pushesSettled();
});
afterAll(() => p?.close());

async function send(c: HostileCase): Promise<{ reply: RawReply; replayedFirst?: RawReply }> {
  // Pairs rather than an object: a case may name a header `__proto__`.
  const headers: [string, string][] = Object.entries(authHeaders[c.auth]);
  let path = substitute(c.path, world);
  let body: Buffer | undefined;
  if (c.body?.kind === 'push') {
    const built = buildPush(c.body, keys, world);
    path += `${path.includes('?') ? '&' : '?'}${built.query}`;
    body = Buffer.from(built.body, 'utf8');
    headers.push(['content-type', built.contentType]);
  } else if (c.body) {
    const made = bodyBytes(c.body, world);
    body = made.bytes;
    if (made.contentType) headers.push(['content-type', made.contentType]);
  }
  if (c.query) path += `${path.includes('?') ? '&' : '?'}${substitute(c.query, world)}`;
  const extra = c.headers === undefined ? [] : Array.isArray(c.headers) ? c.headers : Object.entries(c.headers);
  for (const [name, value] of extra) headers.push([name, substitute(value, world)]);
  const request = { method: c.method, path, headers, ...(body ? { body } : {}) };
  if (c.body?.kind === 'push' && c.body.replay) {
    // The original delivery, outside the snapshot: what an eavesdropper would have captured.
    const first = await rawRequest(p.url, request);
    const before = snapshotStore(p.sqlitePath, IGNORED_COLLECTIONS);
    const reply = await rawRequest(p.url, request);
    return { reply, replayedFirst: first, ...(await unchanged(before)) };
  }
  return { reply: await rawRequest(p.url, request) };
}

async function unchanged(before: Map<string, string>): Promise<Record<string, never>> {
  const changes = storeChanges(before, snapshotStore(p.sqlitePath, IGNORED_COLLECTIONS));
  if (changes.length > 0) throw new Error(`the store changed:\n  ${changes.join('\n  ')}`);
  return {};
}

const inRange = (status: number, expected: HostileCase['expect']['status']) =>
  typeof expected === 'number' ? status === expected : status >= expected[0] && status <= expected[1];

describe.each(corpus)('$file', ({ cases }) => {
  const runnable = cases.map((c) => [c.name, c] as const);
  const run = async (c: HostileCase) => {
    const before = snapshotStore(p.sqlitePath, IGNORED_COLLECTIONS);
    const { reply, replayedFirst } = await send(c);
    const text = reply.body.toString('utf8');
    const seen = `${c.method} ${c.path} → ${reply.status} ${text.slice(0, 300)}`;
    if (reply.status >= 500) throw new Error(`5xx: ${seen}`);
    if (replayedFirst && replayedFirst.status !== 200)
      throw new Error(`the original delivery was refused: ${replayedFirst.status} ${replayedFirst.body.toString('utf8').slice(0, 200)}`);
    if (!inRange(reply.status, c.expect.status)) throw new Error(`expected ${JSON.stringify(c.expect.status)}: ${seen}`);
    if (c.expect.text !== undefined && text !== c.expect.text) throw new Error(`expected the body ${c.expect.text}: ${seen}`);
    // Every 4xx of ours carries the error envelope; 431 comes from Node's HTTP parser before any of our code runs.
    if (reply.status >= 400 && reply.status !== 431) {
      const envelope = errorEnvelope.safeParse(JSON.parse(text || 'null'));
      if (!envelope.success) throw new Error(`not our error envelope: ${seen}`);
      const codes = c.expect.code === undefined ? undefined : [c.expect.code].flat();
      if (codes && !codes.includes(envelope.data.error.code)) throw new Error(`expected code ${codes.join(' or ')}: ${seen}`);
    }
    if (!replayedFirst) await unchanged(before);
  };
  it.each(runnable.filter(([, c]) => !c.knownBug))('%s', async (_name, c) => run(c));
  const known = runnable.filter(([, c]) => c.knownBug);
  if (known.length > 0) it.failing.each(known)('%s (known bug)', async (_name, c) => run(c));
});

it('has at least 200 cases', () => {
  expect(corpus.reduce((sum, file) => sum + file.cases.length, 0)).toBeGreaterThanOrEqual(200);
});

/*
 * Controls: the same machinery with nothing damaged is accepted and does change the store, so a refusal above is
 * the damage's doing and the snapshot would have seen a change.
 */
describe('controls', () => {
  const control = async (c: HostileCase) => {
    const before = snapshotStore(p.sqlitePath, IGNORED_COLLECTIONS);
    const { reply } = await send(c);
    return {
      status: reply.status,
      text: reply.body.toString('utf8'),
      changes: storeChanges(before, snapshotStore(p.sqlitePath, IGNORED_COLLECTIONS)),
    };
  };

  it.each([
    ['component', '/wechat/component/events', 'ticket'],
    ['authorizer', '/wechat/authorizers/{A.appid}/events', 'audit-success'],
  ] as const)('an undamaged %s push is answered success and recorded', async (_where, path, message) => {
    const outcome = await control({
      name: 'control',
      method: 'POST',
      path,
      auth: 'none',
      body: { kind: 'push', message },
      expect: { status: 200 },
    });
    expect({ status: outcome.status, text: outcome.text }).toEqual({ status: 200, text: 'success' });
    expect(outcome.changes.some((change) => change.startsWith('added inbox/'))).toBe(true);
  });

  // WeChat's push docs name no Content-Type and the peers read the body whatever it says: the signature proves the
  // push, so a genuine one is taken under any label (refusing a label could only lose real pushes).
  it.each([
    ['component', '/wechat/component/events', 'ticket', 'text/plain'],
    ['component', '/wechat/component/events', 'ticket', 'application/json'],
    ['authorizer', '/wechat/authorizers/{A.appid}/events', 'audit-success', 'application/x-www-form-urlencoded'],
    ['authorizer', '/wechat/authorizers/{A.appid}/events', 'audit-success', 'text/plain'],
  ] as const)('a genuine %s push labelled %s is answered success and recorded', async (_where, path, message, contentType) => {
    const outcome = await control({
      name: 'control',
      method: 'POST',
      path,
      auth: 'none',
      body: { kind: 'push', message, contentType },
      expect: { status: 200 },
    });
    expect({ status: outcome.status, text: outcome.text }).toEqual({ status: 200, text: 'success' });
    expect(outcome.changes.some((change) => change.startsWith('added inbox/'))).toBe(true);
  });

  it('a valid API request through the same client changes the store', async () => {
    const body = { kind: 'json' as const, value: { kind: 'lowcode', name: 'Control', templateId: 101 } };
    const outcome = await control({ name: 'control', method: 'POST', path: '/v1/apps', auth: 'A', body, expect: { status: 201 } });
    expect(outcome.status).toBe(201);
    expect(outcome.changes.some((change) => change.startsWith('added apps/'))).toBe(true);
  });
});

/*
 * The authorization redirects under attack and under retry. Every outcome asserted here must hold whatever the
 * interleaving; the simulator holds WeChat's answer to the first exchange so that the concurrent deliveries really
 * overlap it.
 */
describe('authorization redirects: spent codes, mismatched states, concurrent deliveries', () => {
  const QUERY_AUTH = '/cgi-bin/component/api_query_auth';
  const follow = async (url: URL) => {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    return { status: response.status, text: await response.text() };
  };
  const withCodeOf = (redirect: URL, other: URL): URL => {
    const replay = new URL(redirect);
    replay.searchParams.set('auth_code', other.searchParams.get('auth_code') ?? '');
    return replay;
  };
  const errorCodeOf = (text: string) => errorEnvelope.parse(JSON.parse(text)).error.code;

  /** An account that has bound its primary: the redirect it used (code and state now spent) and what it bound. */
  async function accountThatBound(name: string) {
    const account = await createAccount(p, name);
    const subject = newSubject();
    const primary = newMiniProgram(p.sim, subject);
    const spent = await redirectAfterScan(p, account.api, { purpose: 'bind-primary' }, primary);
    expect(JSON.parse((await follow(spent)).text)).toMatchObject({ ok: true, code: 'PRIMARY_BOUND', appid: primary });
    return { ...account, subject, primary, spent };
  }

  it("another account's spent auth code with a fresh state of one's own is refused, tells nothing and burns nothing", async () => {
    const victim = await accountThatBound('Victor');
    const attacker = await createAccount(p, 'Mallory');
    const ownPrimary = newMiniProgram(p.sim, newSubject());
    const own = await redirectAfterScan(p, attacker.api, { purpose: 'bind-primary' }, ownPrimary);

    const before = snapshotStore(p.sqlitePath, IGNORED_COLLECTIONS);
    const replay = await follow(withCodeOf(own, victim.spent));
    expect({ status: replay.status, code: errorCodeOf(replay.text) }).toEqual({ status: 403, code: 'AUTH_CODE_USED' });
    expect(replay.text).not.toContain(victim.primary);
    expect(replay.text).not.toContain('PRIMARY_BOUND');
    await unchanged(before);
    // The attacker's own state was not burnt: its own code still completes it.
    expect(JSON.parse((await follow(own)).text)).toMatchObject({ ok: true, code: 'PRIMARY_BOUND', appid: ownPrimary });
  });

  it('a state for another purpose never gets the outcome of a bind: a spent bind code on the authorize callback', async () => {
    const account = await accountThatBound('Purpose');
    const appId = await createLowcodeApp(account.api);
    const target = newMiniProgram(p.sim, account.subject);
    const own = await redirectAfterScan(p, account.api, { purpose: 'authorize-app', appId }, target);
    expect(own.pathname).toBe('/wechat/authorize/callback');

    const before = snapshotStore(p.sqlitePath, IGNORED_COLLECTIONS);
    const replay = await follow(withCodeOf(own, account.spent));
    expect({ status: replay.status, code: errorCodeOf(replay.text) }).toEqual({ status: 403, code: 'AUTH_CODE_USED' });
    expect(replay.text).not.toContain(account.primary);
    await unchanged(before);
    expect(JSON.parse((await follow(own)).text)).toMatchObject({ ok: true, code: 'MINI_PROGRAM_AUTHORIZED', appid: target });
  });

  it('twenty concurrent deliveries of one genuine redirect all show the binding, and so does every refresh', async () => {
    const account = await createAccount(p, 'Retrying browser');
    const primary = newMiniProgram(p.sim, newSubject());
    const redirect = await redirectAfterScan(p, account.api, { purpose: 'bind-primary' }, primary);
    const exchangesBefore = p.sim.counters()[QUERY_AUTH] ?? 0;
    const receivedBefore = p.stack.runtime.received;

    // The first exchange spends the code at WeChat at once, but its answer waits until every delivery is in.
    const hold = p.sim.holdNextAnswer(QUERY_AUTH);
    const deliveries = Array.from({ length: 20 }, () => follow(redirect));
    await hold.arrived;
    await p.stack.runtime.untilReceived(receivedBefore + 20);
    hold.release();

    const bound = { status: 200, ok: true, code: 'PRIMARY_BOUND', appid: primary };
    for (const delivery of await Promise.all(deliveries))
      expect({ status: delivery.status, ...JSON.parse(delivery.text) }).toMatchObject(bound);
    const refresh = await follow(redirect);
    expect({ status: refresh.status, ...JSON.parse(refresh.text) }).toMatchObject(bound);
    // One exchange at WeChat: the other deliveries waited for its outcome instead of spending the code again.
    expect((p.sim.counters()[QUERY_AUTH] ?? 0) - exchangesBefore).toBe(1);
  });
});

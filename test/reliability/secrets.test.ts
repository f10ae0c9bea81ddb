/**
 * Secrets: a full run — accounts and key rotation, binding, authorization, build, submit, audit pushes, release,
 * rollback, withdraw, expired and invalidated tokens, a revoked authorization, forged pushes, the poller — with the
 * runtime as a child process at LOG_LEVEL=debug (every function's log lines on its stdout/stderr) and the poller
 * in this process writing to a captured sink. WeChat sits behind a wire tap, so the test knows every token, ticket,
 * code and refresh token that was really issued, not just the configured secrets.
 *
 * Then: no log line contains any of them; and the SQLite files (db, -wal, -shm) hold no plaintext token, ticket,
 * refresh token, secret or API key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { authorize, type Client, client, createLowcodeApp, deploymentReply, expectStatus, pngOfWidth } from '../../infra/local/driver';
import { pollDue } from '../../shared/app/deployments';
import * as z from '../../shared/domain/zod';
import { createLogger } from '../../shared/runtime/logger';
import { WeChatMessageCrypto } from '../../shared/wechat/crypto';
import {
  type Exchange,
  newMiniProgram,
  newSubject,
  type ProcessPlatform,
  type RuntimeProcess,
  remotePlatform,
  sleep,
  startProcessPlatform,
} from './support';

jest.mock('qrcode', () => jest.requireActual('./fast-qrcode'));

let harness: ProcessPlatform;
let runtime: RuntimeProcess | undefined;
const pollerLines: string[] = [];
/** Every secret of the run, with where it came from (for the failure message). */
const secrets = new Map<string, string>();
/** Plaintext the store is expected to hold, to prove the file scan can see text at all. */
let plainMarker: string;
/** An id the logs are expected to mention, to prove they were captured. */
let logMarker: string;

/** The first place a secret was seen names it; later sightings (the token in a query string) do not. */
const addSecret = (value: string | undefined | null, origin: string) => {
  if (value && value.length >= 8 && !secrets.has(value)) secrets.set(value, origin);
};

/** The credential fields of WeChat's bodies: tokens, tickets, codes and the app secret. */
const SECRET_FIELD = /(access_token|refresh_token|verify_ticket|pre_auth_code|authorization_code|auth_code|appsecret)$/i;

/** Every string under a credential field of a WeChat JSON body, request or answer. */
function collectFromJson(value: unknown, origin: string, key = ''): void {
  if (typeof value === 'string') {
    if (SECRET_FIELD.test(key)) addSecret(value, `${origin} ${key}`);
    return;
  }
  if (Array.isArray(value))
    value.forEach((item) => {
      collectFromJson(item, origin, key);
    });
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) collectFromJson(v, origin, k);
}

function collectFromExchange(exchange: Exchange): void {
  const query = new URLSearchParams(exchange.target.split('?')[1] ?? '');
  for (const [k, v] of query) if (SECRET_FIELD.test(k)) addSecret(v, `${exchange.path} query ${k}`);
  for (const text of [exchange.requestBody, exchange.contentType.includes('json') ? exchange.responseBody.toString('utf8') : '']) {
    if (!text.trim().startsWith('{')) continue;
    collectFromJson(JSON.parse(text), exchange.path);
  }
}

const apiKeyReply = z.object({ apiKey: z.string() });
const accountReply = z.object({ account: z.object({ id: z.string() }), apiKey: z.string() });

/** An account created with an Idempotency-Key, as a frontend that retries would. */
async function newAccount(name: string): Promise<{ id: string; key: string; api: Client }> {
  const reply = expectStatus(
    await client(harness.url, harness.credentials.adminKey).post(
      '/v1/accounts',
      { name },
      { 'idempotency-key': `create-${name.replace(/\W/g, '')}-0001` },
    ),
    201,
  );
  const created = accountReply.parse(reply.body);
  addSecret(created.apiKey, `API key of ${name}`);
  return { id: created.account.id, key: created.apiKey, api: client(harness.url, created.apiKey) };
}

async function build(api: Client, appId: string, version: string): Promise<string> {
  const built = deploymentReply.parse(
    expectStatus(
      await api.post(`/v1/apps/${appId}/deployments`, { userVersion: version, userDesc: 'secrets', testers: ['tester001'] }),
      202,
    ).body,
  );
  expect(built.state).toBe('built');
  return built.id;
}

/** The whole product, once: every path that handles a token, a ticket, a code or a key. */
async function fullRun(): Promise<void> {
  const platform = remotePlatform(harness.url, harness.sim, harness.credentials.adminKey);
  const subject = newSubject();
  const alice = await newAccount(subject);
  plainMarker = subject;
  // Rotation, with an Idempotency-Key: the new key is in a stored response for 24 h.
  const rotated = apiKeyReply.parse(
    expectStatus(await alice.api.post('/v1/account/api-keys', {}, { 'idempotency-key': 'rotate-alice-0001' }), 201).body,
  ).apiKey;
  addSecret(rotated, 'rotated API key');
  const api = client(harness.url, rotated);

  const primary = newMiniProgram(harness.sim, subject);
  expect((await authorize(platform, api, 'bind-primary', primary)).result.code).toBe('PRIMARY_BOUND');
  const appId = await createLowcodeApp(api, 'Shop');
  const target = newMiniProgram(harness.sim, subject);
  expect((await authorize(platform, api, 'authorize-app', target, appId)).result.code).toBe('MINI_PROGRAM_AUTHORIZED');
  expectStatus(await api.raw('POST', '/v1/assets', pngOfWidth(120), { 'content-type': 'image/png' }), 201);

  // Build → submit → approve (pushed) → release → rollback, with the authorizer tokens expired halfway (42001,
  // refresh, rotated refresh token). The component token is not expired early: that stalls refreshes (reported).
  const first = await build(api, appId, '1.0.0');
  logMarker = first;
  expectStatus(await api.get(`/v1/deployments/${first}/qrcode`), 200);
  expectStatus(await api.post(`/v1/deployments/${first}/submit`), 200);
  harness.sim.expireTokens('authorizer');
  await harness.sim.decideAudit(target, 'approve');
  expectStatus(await api.post(`/v1/deployments/${first}/release`, {}, { 'idempotency-key': 'release-first-0001' }), 200);
  const next = await build(api, appId, '1.0.1');
  expectStatus(await api.post(`/v1/deployments/${next}/submit`), 200);
  // An audit push carries no audit id: two approvals of one mini program in the same second are the same bytes,
  // and the inbox rightly takes the second for WeChat's retry of the first.
  await sleep(1005 - (Date.now() % 1000));
  await harness.sim.decideAudit(target, 'approve');
  expectStatus(await api.post(`/v1/deployments/${next}/release`), 200);
  expectStatus(await api.post(`/v1/deployments/${next}/rollback`), 200);

  // A second app: delayed, rejected, resubmitted, withdrawn, resubmitted, approved with the push lost.
  const second = await createLowcodeApp(api, 'Second');
  const target2 = newMiniProgram(harness.sim, subject);
  expect((await authorize(platform, api, 'authorize-app', target2, second)).result.code).toBe('MINI_PROGRAM_AUTHORIZED');
  const other = await build(api, second, '2.0.0');
  expectStatus(await api.post(`/v1/deployments/${other}/submit`), 200);
  await harness.sim.decideAudit(target2, 'delay', { reason: '审核排队中' });
  await harness.sim.decideAudit(target2, 'reject', { reason: '1:名称不符', screenshots: ['media1'] });
  expectStatus(await api.post(`/v1/deployments/${other}/submit`), 200);
  expectStatus(await api.post(`/v1/deployments/${other}/undo`), 200);
  expectStatus(await api.post(`/v1/deployments/${other}/submit`), 200);
  harness.sim.setFaults({ dropPushRate: 1 });
  await harness.sim.decideAudit(target2, 'approve');
  harness.sim.setFaults({ dropPushRate: 0 });

  // Errors on the way: a forged push, a bad body, a bad key.
  const forged = new WeChatMessageCrypto({
    token: 'not-the-token',
    encodingAESKey: harness.credentials.encodingAESKey,
    appId: harness.credentials.componentAppId,
  });
  const sealed = forged.sealEnvelope('<xml><CreateTime>1</CreateTime><InfoType>component_verify_ticket</InfoType></xml>', {
    timestamp: String(Math.floor(Date.now() / 1000)),
    nonce: 'n0nce',
  });
  const refused = await fetch(
    `${harness.url}/wechat/component/events?timestamp=${Math.floor(Date.now() / 1000)}&nonce=n0nce&encrypt_type=aes&msg_signature=${sealed.msgSignature}`,
    { method: 'POST', headers: { 'content-type': 'text/xml' }, body: sealed.body },
  );
  expect(refused.status).toBe(401);
  expect((await api.post('/v1/apps', { kind: 'lowcode', name: '' })).status).toBe(400);
  expect((await client(harness.url, `${rotated}x`).get('/v1/account')).status).toBe(401);

  // The harness.poller, in this process, three hours later: it reconciles the lost approval, refreshing every token it uses.
  harness.poller.setClock(Date.now() + 3 * 60 * 60_000);
  await harness.poller.services.wechat.tokens.recordVerifyTicket(await harness.sim.pushVerifyTicket(), harness.poller.now());
  const tick = await pollDue(harness.poller.services, { budgetMs: 30_000 });
  expect(tick.changed).toBeGreaterThanOrEqual(1);

  // The refresh token stops working (61023): the release finds the mini program needs a new scan.
  harness.sim.invalidateRefreshToken(target2);
  harness.sim.expireTokens('authorizer');
  expect((await api.post(`/v1/deployments/${other}/release`)).status).toBeLessThan(500);
  // The admin revokes the first target.
  await harness.sim.revokeAuthorization(target);

  expectStatus(await api.post(`/v1/mini-programs/${primary}/unbind`, { force: true }), 200);
  await harness.sim.pushesSettled();

  // What WeChat really issued: read off the wire and off the pushes.
  await harness.sim.pushVerifyTicket().then((ticket) => addSecret(ticket, 'verify ticket'));
  await harness.sim.pushesSettled();
  for (const exchange of harness.tap.exchanges) collectFromExchange(exchange);
  for (const push of harness.sim.pushLog()) {
    for (const found of push.plaintext.matchAll(/<(ComponentVerifyTicket|AuthorizationCode|PreAuthCode)><!\[CDATA\[([^\]]+)\]\]>/g))
      addSecret(found[2], `push ${found[1] ?? ''}`);
  }
}

beforeAll(async () => {
  harness = await startProcessPlatform({
    name: 'secrets',
    logLevel: 'debug',
    pollerLog: createLogger({ level: 'debug', sink: (line) => pollerLines.push(line) }),
  });
  runtime = await harness.spawnRuntime();
  await harness.sim.pushVerifyTicket();
  const { credentials } = harness;
  addSecret(credentials.componentSecret, 'WECHAT_COMPONENT_SECRET');
  addSecret(credentials.token, 'WECHAT_TOKEN');
  addSecret(credentials.encodingAESKey, 'WECHAT_ENCODING_AES_KEY');
  addSecret(credentials.dataKey, 'DATA_KEY (base64)');
  addSecret(Buffer.from(credentials.dataKey, 'base64').toString('hex'), 'DATA_KEY (hex)');
  addSecret(credentials.adminKey, 'ADMIN_API_KEY');
  await fullRun();
});
afterAll(async () => {
  await harness?.close(runtime);
});

/** A secret as it would appear in text: as is, and URL-encoded (a query string in a logged URL). */
const spellings = (secret: string): string[] => [...new Set([secret, encodeURIComponent(secret)])];

/** Shapes of the simulator's tokens, in case one was issued somewhere the tap did not see. */
const TOKEN_SHAPES = [
  /\b9[12]_[A-Za-z0-9_-]{20,}/,
  /refreshtoken@@@/,
  /ticket@@@/,
  /preauthcode@@@/,
  /queryauthcode@@@/,
  /adm_[A-Za-z0-9_-]{20,}/,
];

it('collected the secrets of a real run: configured ones, API keys, and what WeChat issued', () => {
  const origins = [...secrets.values()].join('\n');
  // Several of each kind: the run refreshed tokens and rotated the refresh token.
  expect(origins).toMatch(/component_access_token/);
  expect(origins).toMatch(/authorizer_access_token/);
  expect(origins).toMatch(/authorizer_refresh_token/);
  expect(origins).toMatch(/component_verify_ticket|verify ticket/);
  expect(origins).toMatch(/pre_auth_code/);
  expect(origins).toMatch(/authorization_code/);
  expect(origins).toMatch(/API key/);
  expect(secrets.size).toBeGreaterThanOrEqual(20);
});

it('finds no secret in the logs of any function, at debug level', () => {
  const childOutput = runtime?.output() ?? '';
  const logs = `${childOutput}\n${pollerLines.join('\n')}`;
  // The capture is real: debug lines from the functions and from the harness.poller.
  expect(
    childOutput.split('\n').filter((line) => line.includes('"level":"debug"') || line.includes('"level":"info"')).length,
  ).toBeGreaterThan(20);
  expect(pollerLines.length).toBeGreaterThan(0);
  expect(logs).toContain(logMarker);
  const leaks = [...secrets].flatMap(([secret, origin]) =>
    spellings(secret).some((s) => logs.includes(s)) ? [`${origin} (${secret.slice(0, 6)}…)`] : [],
  );
  expect(leaks).toEqual([]);
  expect(TOKEN_SHAPES.filter((shape) => shape.test(logs)).map(String)).toEqual([]);
});

const storeFiles = () => ['', '-wal', '-shm'].map((suffix) => `${harness.sqlitePath}${suffix}`).filter((file) => existsSync(file));

/** WeChat's credentials and the configured secrets: sealed under DATA_KEY or never stored. */
const isWeChatSecret = (origin: string) => !origin.startsWith('API key') && origin !== 'rotated API key';

it('finds no plaintext WeChat token, ticket, code, refresh token or configured secret in the SQLite files', async () => {
  // Killed, not stopped: the WAL stays as the running process left it, uncheckpointed.
  runtime?.child.kill('SIGKILL');
  await runtime?.exited;
  const bytes = storeFiles().map((file) => readFileSync(file).toString('latin1'));
  expect(bytes.join('').length).toBeGreaterThan(0);
  // The scan sees text: the account's name is stored in the clear, as it should be.
  expect(bytes.some((text) => text.includes(Buffer.from(plainMarker, 'utf8').toString('latin1')))).toBe(true);
  const found = [...secrets]
    .filter(([, origin]) => isWeChatSecret(origin))
    .flatMap(([secret, origin]) => (bytes.some((text) => text.includes(secret)) ? [origin] : []));
  expect(found).toEqual([]);
  expect(
    TOKEN_SHAPES.slice(0, 5)
      .filter((shape) => bytes.some((text) => shape.test(text)))
      .map(String),
  ).toEqual([]);
});

/*
 * A request with an Idempotency-Key keeps its response for replays, and POST /v1/accounts and POST
 * /v1/account/api-keys answer with a new API key: those stored bodies are sealed under DATA_KEY, so the key is no
 * more readable at rest than the hashes the apiKeys collection holds.
 */
it('finds no plaintext account API key in the SQLite files', () => {
  const bytes = storeFiles().map((file) => readFileSync(file).toString('latin1'));
  const found = [...secrets]
    .filter(([, origin]) => !isWeChatSecret(origin))
    .flatMap(([secret, origin]) => (bytes.some((text) => text.includes(secret)) ? [origin] : []));
  expect(found).toEqual([]);
});

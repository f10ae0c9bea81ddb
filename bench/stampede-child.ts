/**
 * One "instance" of bench/stampede.ts, run as its own process (bundled by the parent with esbuild so that 100 of
 * them start fast): its own SQLite connection to the shared file and its own TokenManager against the shared
 * simulator. Reports whether it found both tokens expired, waits for `go`, asks for the mini program's
 * authorizer token (which needs the component token too), and reports a fingerprint of what it got.
 */
import { createHash } from 'node:crypto';
import { createLogger } from '../shared/runtime/logger';
import { createSecretBox } from '../shared/store/secret-box';
import { openSqliteStore } from '../shared/store/sqlite';
import { ComponentApi } from '../shared/wechat/component-api';
import { authorizerTokensCollection, platformCollection, TokenManager } from '../shared/wechat/tokens';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

async function run() {
  const offset = Number(env('CLOCK_OFFSET_MS'));
  const clock = () => Date.now() + offset;
  const componentAppId = env('COMPONENT_APPID');
  const appId = env('MP_APPID');
  const store = openSqliteStore({ path: env('SQLITE_PATH'), clock });
  const api = new ComponentApi({
    apiBase: env('API_BASE'),
    componentAppId,
    componentAppSecret: env('COMPONENT_SECRET'),
    timeoutMs: 10_000,
  });
  const tokens = new TokenManager({
    store,
    api,
    box: createSecretBox(Buffer.from(env('DATA_KEY'), 'base64')),
    log: createLogger({ level: 'error', sink: () => undefined }),
    clock,
  });
  const platform = await store.collection(platformCollection).get(componentAppId);
  const authorizer = await store.collection(authorizerTokensCollection).get(appId);
  const now = clock();
  const sawExpired =
    (platform?.data.componentTokenExpiresAt ?? Infinity) <= now && (authorizer?.data.accessTokenExpiresAt ?? Infinity) <= now;
  process.once('message', () => {
    const started = performance.now();
    tokens
      .authorizerToken(appId)
      .then((token) => ({ ok: true, token: createHash('sha256').update(token).digest('hex').slice(0, 16) }))
      .catch((error: unknown) => ({ ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }))
      .then(async (outcome) => {
        const ms = performance.now() - started;
        await store.close();
        process.send?.({ ...outcome, ms }, () => process.exit(0));
      });
  });
  process.send?.({ ready: true, sawExpired });
}

run().catch((error: unknown) => {
  process.send?.({ ok: false, error: String(error) }, () => process.exit(1));
});

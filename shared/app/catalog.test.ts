import { randomBytes } from 'node:crypto';
import { newAppInputSchema } from '../domain/app';
import { ConflictError } from '../domain/errors';
import { parseConfig } from '../runtime/config';
import { createLogger } from '../runtime/logger';
import { ConflictRetriesExhaustedError, DEFAULT_RETRY_POLICY } from '../store/retry';
import { openSqliteStore } from '../store/sqlite';
import { loseFirstRace } from '../store/testing';
import { createWeChatPlatform } from '../wechat/platform';
import { createAccount, createApp, linkAppProducts, updateAppConfig } from './catalog';
import { createServices } from './context';

async function world() {
  const config = parseConfig({
    WXA_ENV: 'local',
    // Never called: nothing here talks to WeChat.
    WECHAT_API_BASE: 'http://127.0.0.1:9',
    WECHAT_COMPONENT_APPID: 'wx0123456789abcdef',
    WECHAT_COMPONENT_SECRET: 'componentsecret',
    WECHAT_TOKEN: 'pushtoken',
    WECHAT_ENCODING_AES_KEY: 'a'.repeat(43),
    DATA_KEY: randomBytes(32).toString('base64'),
    ADMIN_API_KEY: randomBytes(24).toString('base64url'),
  });
  const log = createLogger({ level: 'error', sink: () => {} });
  const store = openSqliteStore({ path: ':memory:' });
  const services = createServices({ config, log, store, wechat: createWeChatPlatform({ config, store, log }) });
  const { account } = await createAccount(services, 'Shop owner');
  const app = await createApp(services, account.id, newAppInputSchema.parse({ kind: 'lowcode', name: 'Shop', templateId: 101 }));
  return { services, accountId: account.id, app };
}

describe('catalog updates under concurrent writers', () => {
  it('an app config update that lost a race reads again and keeps the other writer’s change', async () => {
    const { services, accountId, app } = await world();
    loseFirstRace(services.db.apps, (current) => ({ ...current, name: 'Renamed meanwhile' }));
    const updated = await updateAppConfig(services, accountId, app.id, { ext: { title: 'Hello' }, extPages: {} });
    expect(updated).toMatchObject({ name: 'Renamed meanwhile', config: { ext: { title: 'Hello' } } });
  });

  it('an update that loses every race ends in a conflict after the store’s bounded tries, not in an endless loop', async () => {
    const { services, accountId, app } = await world();
    let tries = 0;
    services.db.apps.update = async () => {
      tries += 1;
      throw new ConflictError('another writer won');
    };
    await expect(updateAppConfig(services, accountId, app.id, { ext: {}, extPages: {} })).rejects.toBeInstanceOf(
      ConflictRetriesExhaustedError,
    );
    expect(tries).toBe(DEFAULT_RETRY_POLICY.attempts);
    tries = 0;
    await expect(linkAppProducts(services, accountId, app.id, [])).rejects.toMatchObject({ code: 'APP_HAS_NO_PRODUCTS' });
    expect(tries).toBe(0);
  });
});

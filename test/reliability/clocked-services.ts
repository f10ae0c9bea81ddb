/**
 * Another instance of the backend on the same database and WeChat, whose clock the caller sets. Apart from
 * support.ts so that a poller run as a child process (rollout-poller-process.ts) loads no more than it needs.
 */
import { createServices, type Services } from '../../shared/app/context';
import { parseConfig } from '../../shared/runtime/config';
import { createLogger, type Logger } from '../../shared/runtime/logger';
import { openSqliteStore } from '../../shared/store/sqlite';
import { createWeChatPlatform } from '../../shared/wechat/platform';

/**
 * Another instance of the backend on the same database and WeChat, whose clock the test sets: what a poller
 * minutes or hours later would do (pipeline.test.ts `servicesAt`, with a clock that moves).
 */
export function servicesWithClock(env: Record<string, string | undefined>, start: number, log: Logger = createLogger({ level: 'error' })) {
  let now = start;
  const clock = () => now;
  const config = parseConfig(env);
  const store = openSqliteStore({ path: env.SQLITE_PATH ?? '', clock });
  const wechat = createWeChatPlatform({ config, store, log, clock });
  const services: Services = createServices({ config, log, store, wechat, clock });
  return {
    services,
    setClock: (at: number) => {
      now = at;
    },
    now: () => now,
    close: () => store.close(),
  };
}

export type ClockedServices = ReturnType<typeof servicesWithClock>;

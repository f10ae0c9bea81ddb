/**
 * What the WeChat platform logs of a call WeChat answered with an errcode: an answer the caller asked for on purpose
 * (85058 before a mini program's first audit) is no failure; anything else is.
 */
import { parseConfig } from '../runtime/config';
import { createLogger } from '../runtime/logger';
import { openSqliteStore } from '../store/sqlite';
import { WeChatApiError } from './errcodes';
import { createWeChatPlatform } from './platform';

function platformAnswering(errcode: number) {
  const lines: { level: string; msg: string; errcode?: number }[] = [];
  const config = parseConfig({
    WXA_ENV: 'local',
    DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
    ADMIN_API_KEY: 'admin-key-0123456789abcdefghij',
    WECHAT_API_BASE: 'http://wechat.invalid',
    WECHAT_COMPONENT_APPID: 'wx0000000000local0',
    WECHAT_COMPONENT_SECRET: 'secret',
    WECHAT_TOKEN: 'token123',
    WECHAT_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  });
  const store = openSqliteStore({ path: ':memory:' });
  const wechat = createWeChatPlatform({
    config,
    store,
    log: createLogger({ level: 'debug', sink: (line) => lines.push(JSON.parse(line)) }),
    fetch: async () => new Response(JSON.stringify({ errcode, errmsg: 'answer' }), { headers: { 'content-type': 'application/json' } }),
  });
  return { wechat, lines, close: () => store.close() };
}

describe('logging of WeChat errcodes', () => {
  it('does not log 85058 from get_latest_auditstatus (no audit yet) as a failed call', async () => {
    const { wechat, lines, close } = platformAnswering(85058);
    await expect(wechat.api.getLatestAuditStatus('authorizer-token')).rejects.toBeInstanceOf(WeChatApiError);
    expect(lines.map((line) => [line.level, line.msg, line.errcode])).toEqual([['debug', 'wechat call answered', 85058]]);
    await close();
  });

  it('logs an errcode the caller did not expect as a failed call', async () => {
    const { wechat, lines, close } = platformAnswering(40013);
    await expect(wechat.api.getLatestAuditStatus('authorizer-token')).rejects.toBeInstanceOf(WeChatApiError);
    expect(lines.map((line) => [line.level, line.msg, line.errcode])).toEqual([['warn', 'wechat call failed', 40013]]);
    await close();
  });
});

import { randomBytes } from 'node:crypto';
import { ConfigError } from '../domain/errors';
import { parseConfig, secretsOf } from './config';

const cloudEnv = () => ({
  WXA_ENV: 'cloud',
  STORE: 'mongodb',
  MONGODB_URL: 'mongodb://127.0.0.1:27017',
  DATA_KEY: randomBytes(32).toString('base64'),
  ADMIN_API_KEY: 'x'.repeat(32),
  WECHAT_COMPONENT_APPID: 'wx134c8103faa5a59e',
  WECHAT_COMPONENT_SECRET: 'secret',
  WECHAT_TOKEN: 'AAAAA',
  WECHAT_ENCODING_AES_KEY: 'A'.repeat(43),
  PUBLIC_BASE_URL: 'https://wxa.example.com/',
});

describe('configuration', () => {
  it('reads a complete cloud environment', () => {
    const config = parseConfig(cloudEnv());
    expect(config.store).toEqual({ kind: 'mongodb', url: 'mongodb://127.0.0.1:27017', dbName: 'wxa_deploy' });
    expect(config.dataKey).toHaveLength(32);
    expect(config.publicBaseUrl).toBe('https://wxa.example.com');
    expect(config.wechat.apiBase).toBeUndefined();
    expect(config.port).toBe(3000);
  });

  it('lists every problem in one error, naming each variable', () => {
    const env = {
      ...cloudEnv(),
      STORE: 'sqlite',
      PORT: 'eighty',
      DATA_KEY: 'short',
      WECHAT_TOKEN: undefined,
      WECHAT_ENCODING_AES_KEY: 'x',
    };
    let error: unknown;
    try {
      parseConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['PORT', 'DATA_KEY', 'WECHAT_TOKEN', 'WECHAT_ENCODING_AES_KEY', 'STORE']) expect(message).toContain(name);
    expect((error as ConfigError).details?.problems).toHaveLength(5);
  });

  it('treats blank variables as unset, as Serverless Devs renders missing ones', () => {
    expect(() => parseConfig({ ...cloudEnv(), ADMIN_API_KEY: '' })).toThrow(/ADMIN_API_KEY is required in the cloud/);
  });

  it('accepts hex keys and rejects keys of the wrong length', () => {
    expect(parseConfig({ ...cloudEnv(), DATA_KEY: 'ab'.repeat(32) }).dataKey).toEqual(Buffer.alloc(32, 0xab));
    expect(() => parseConfig({ ...cloudEnv(), DATA_KEY: randomBytes(16).toString('base64') })).toThrow(/DATA_KEY must be 32 random bytes/);
  });

  it('keeps the previous EncodingAESKey during a key change, validated like the current one and kept out of logs', () => {
    const previous = `${'B'.repeat(42)}c`;
    const config = parseConfig({ ...cloudEnv(), WECHAT_PREVIOUS_ENCODING_AES_KEY: previous });
    expect(config.wechat.previousEncodingAESKey).toBe(previous);
    expect(secretsOf(config)).toContain(previous);
    expect(parseConfig(cloudEnv()).wechat.previousEncodingAESKey).toBeUndefined();
    // Blank, as Serverless Devs renders it when not set: no previous key.
    expect(parseConfig({ ...cloudEnv(), WECHAT_PREVIOUS_ENCODING_AES_KEY: '' }).wechat.previousEncodingAESKey).toBeUndefined();
    expect(() => parseConfig({ ...cloudEnv(), WECHAT_PREVIOUS_ENCODING_AES_KEY: 'B'.repeat(42) })).toThrow(
      /WECHAT_PREVIOUS_ENCODING_AES_KEY must be 43 letters or digits/,
    );
    expect(() => parseConfig({ ...cloudEnv(), WECHAT_PREVIOUS_ENCODING_AES_KEY: `${'B'.repeat(42)}+` })).toThrow(
      /WECHAT_PREVIOUS_ENCODING_AES_KEY/,
    );
  });

  it('runs locally on embedded defaults, the simulator identity included', () => {
    const config = parseConfig({ WXA_ENV: 'local', DATA_KEY: randomBytes(32).toString('hex'), ADMIN_API_KEY: 'y'.repeat(30) });
    expect(config.store).toEqual({ kind: 'sqlite', path: '.data/wxa-deploy.db' });
    expect(config.wechat.componentAppId).toMatch(/^wx/);
    expect(config.wechat.encodingAESKey).toHaveLength(43);
  });

  it('requires the platform credentials once a real WeChat base URL is set', () => {
    expect(() =>
      parseConfig({
        WXA_ENV: 'local',
        DATA_KEY: randomBytes(32).toString('hex'),
        ADMIN_API_KEY: 'y'.repeat(30),
        WECHAT_API_BASE: 'https://api.weixin.qq.com',
      }),
    ).toThrow(/WECHAT_COMPONENT_SECRET is required when WECHAT_API_BASE is set/);
  });
});

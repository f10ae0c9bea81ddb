import { createLogger, REDACTED, registerSecret } from './logger';

describe('structured logger', () => {
  it('writes one JSON line per event with level, message and context', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l), now: () => 0 }).child({ fn: 'api', requestId: 'r1' });
    log.info('request', { status: 200 });
    log.debug('hidden below the threshold');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'request', fn: 'api', requestId: 'r1', status: 200 },
    ]);
  });

  it('redacts secret-named fields, registered secret values anywhere, and secrets inside errors', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    const token = 'AAT_3f9c2b7e1d0a4c58b6e2';
    registerSecret(token);
    log.info('calling', {
      url: `https://api.weixin.qq.com/wxa/commit?access_token=${token}`,
      component_appsecret: 'the-secret',
      authorizerRefreshToken: 'refreshtoken@@@xyz',
      tokenExpiresAt: 12345,
      nested: { headers: { authorization: 'Bearer abc' } },
      error: new Error(`WeChat said no for ${token}`, { cause: { access_token: token } }),
    });
    const text = lines.join('\n');
    expect(text).not.toContain(token);
    expect(text).not.toContain('the-secret');
    expect(text).not.toContain('refreshtoken@@@xyz');
    expect(text).not.toContain('Bearer abc');
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry.component_appsecret).toBe(REDACTED);
    expect(entry.tokenExpiresAt).toBe(12345);
    expect(entry.url).toBe(`https://api.weixin.qq.com/wxa/commit?access_token=${REDACTED}`);
    expect(entry.error.message).toBe(`WeChat said no for ${REDACTED}`);
  });
});

describe('secret registry', () => {
  it('masks base64 configuration secrets and token-shaped secrets, also next to other text', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    const dataKey = 'q83v+ZXk/0Jd8Gm1Qy3N2lH0s6aT9vWbC4eR7uI1oPk=';
    const refresh = 'refreshtoken@@@Zk1-abc_DEF99';
    registerSecret(dataKey);
    registerSecret(refresh);
    log.info(`key=${dataKey}; url=/x?t=${refresh}&y=1 "${refresh}"`);
    expect(lines[0]).not.toContain(dataKey);
    expect(lines[0]).not.toContain(refresh);
    expect(lines[0]).toContain('y=1');
  });

  it('stays fast with many thousands of live tokens', () => {
    const tokens = Array.from({ length: 20_000 }, (_, i) => `AAT_${i.toString(36)}_${'x'.repeat(20)}`);
    for (const token of tokens) registerSecret(token);
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    log.info('calling', { url: `https://api.weixin.qq.com/wxa/commit?access_token=${tokens[12_345]}` });
    expect(lines[0]).not.toContain(tokens[12_345]);
  });
});

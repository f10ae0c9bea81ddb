/**
 * The parts of the WeChat client that need no server: errcode table, error shapes, redaction, the response
 * parser (property-tested against arbitrary bodies) and the authorization-page URL.
 */
import fc from 'fast-check';
import { AppError, ValidationError } from '../domain/errors';
import * as z from '../domain/zod';
import { ComponentApi } from './component-api';
import {
  codeOfErrcode,
  errcodeInfo,
  isTokenError,
  parseRid,
  redact,
  redactUrl,
  WECHAT_ERRCODES,
  WeChatApiError,
  WeChatNetworkError,
  WeChatQuotaError,
  WeChatResponseError,
  wechatApiError,
} from './errcodes';
import { parseWeChatResponse, WeChatHttp } from './http';
import * as schemas from './schemas';

describe('errcode table', () => {
  it('covers every errcode the reference names in §3–§6, each with an English meaning and a kind', () => {
    const named = [
      -1, 40001, 40013, 40014, 40125, 40164, 40170, 41001, 41004, 41018, 42001, 42007, 43001, 43002, 44002, 45009, 45011, 47001, 48001,
      48006, 61003, 61004, 61005, 61006, 61007, 61009, 61010, 61011, 61014, 61023, 61024, 61039, 61040, 76003, 80066, 80067, 80082, 85006,
      85007, 85008, 85009, 85010, 85011, 85012, 85013, 85014, 85019, 85020, 85023, 85043, 85044, 85045, 85046, 85047, 85048, 85051, 85052,
      85058, 85064, 85065, 85077, 85085, 85086, 85087, 85092, 85093, 85094, 85310, 85311, 85312, 86000, 86001, 86002, 86007, 86008, 86009,
      86010, 86074, 87006, 87011, 87012, 87013, 89236, 89237, 89238, 89239, 89243, 89244, 89248, 89401, 89402, 89403, 89404, 89405, 9400001,
      9402202, 9402203,
    ];
    for (const code of named) {
      const info = WECHAT_ERRCODES[code];
      expect(info).toBeDefined();
      expect(info?.meaning).toMatch(/^[\x20-\x7e]+$/); // English, printable ASCII
    }
  });

  it('classifies the codes the retry and refresh rules depend on', () => {
    expect([40001, 40014, 42001].map((c) => errcodeInfo(c).kind)).toEqual(['token', 'token', 'token']);
    expect([45009, 45011, 85085, 89405, 87013].map((c) => errcodeInfo(c).kind)).toEqual(Array(5).fill('quota'));
    expect(errcodeInfo(-1).kind).toBe('transient');
    expect(errcodeInfo(85009).kind).toBe('state');
    expect(errcodeInfo(61023).kind).toBe('auth');
    expect(errcodeInfo(123456789)).toEqual({ kind: 'other', meaning: 'unknown WeChat errcode' });
  });

  it('derives stable codes, with a name for -1', () => {
    expect(codeOfErrcode(85009)).toBe('WECHAT_85009');
    expect(codeOfErrcode(-1)).toBe('WECHAT_SYSTEM_ERROR');
  });

  it('maps kinds to error categories', () => {
    const category = (errcode: number): string => wechatApiError({ errcode, errmsg: 'x', endpoint: '/wxa/x' }).category;
    expect(category(45009)).toBe('rate-limited');
    expect(category(-1)).toBe('unavailable');
    expect(category(40001)).toBe('unavailable');
    expect(category(85009)).toBe('conflict');
    expect(category(85013)).toBe('invalid');
    expect(category(61007)).toBe('forbidden');
    expect(category(61023)).toBe('forbidden');
    expect(category(999999)).toBe('unavailable');
  });
});

describe('WeChat errors', () => {
  it('WeChatApiError carries errcode, errmsg, meaning, endpoint and the rid parsed from errmsg', () => {
    const err = wechatApiError({
      errcode: 85009,
      errmsg: 'already has an auditing version rid: 6650a1b2-1c2d3e4f-5a6b7c8d',
      endpoint: '/wxa/submit_audit',
    });
    expect(err).toBeInstanceOf(WeChatApiError);
    expect(err).toBeInstanceOf(AppError);
    expect(err).not.toBeInstanceOf(WeChatQuotaError);
    expect(err).toMatchObject({
      code: 'WECHAT_85009',
      category: 'conflict',
      errcode: 85009,
      meaning: 'a version is already under audit',
      endpoint: '/wxa/submit_audit',
      rid: '6650a1b2-1c2d3e4f-5a6b7c8d',
      name: 'WeChatApiError',
    });
    expect(err.message).toContain('85009');
    expect(parseRid('no rid here')).toBeUndefined();
  });

  it('quota codes become WeChatQuotaError', () => {
    for (const errcode of [45009, 45011, 85085, 89405, 87013]) {
      const err = wechatApiError({ errcode, errmsg: 'quota', endpoint: '/x' });
      expect(err).toBeInstanceOf(WeChatQuotaError);
      expect(err.category).toBe('rate-limited');
      expect(err.name).toBe('WeChatQuotaError');
    }
    expect(isTokenError(wechatApiError({ errcode: 42001, errmsg: '', endpoint: '/x' }))).toBe(true);
    expect(isTokenError(wechatApiError({ errcode: 45009, errmsg: '', endpoint: '/x' }))).toBe(false);
  });

  it('network and response errors have fixed codes', () => {
    const net = new WeChatNetworkError({ endpoint: '/wxa/commit', failure: 'timeout', outcomeUnknown: true });
    expect(net).toMatchObject({ code: 'WECHAT_UNREACHABLE', category: 'unavailable', outcomeUnknown: true });
    const bad = new WeChatResponseError('/wxa/commit', 'schema mismatch');
    expect(bad).toMatchObject({ code: 'WECHAT_BAD_RESPONSE', endpoint: '/wxa/commit' });
  });
});

describe('redaction', () => {
  it('masks token parameters in URLs', () => {
    const url = 'https://api.weixin.qq.com/wxa/commit?access_token=ABC.def-123&x=1&component_access_token=zzz#f';
    expect(redactUrl(url)).toBe('https://api.weixin.qq.com/wxa/commit?access_token=***&x=1&component_access_token=***#f');
  });

  it('masks known secret values anywhere, but not short strings', () => {
    expect(
      redact('token is 61W3mEpU66027wgNZ_MhGHNQDHnFATkDa9-2llqrMBjUwxRSNPbVsMmyD-yq8wZETSoE5NQgecigDrSHkPtIYA now', [
        '61W3mEpU66027wgNZ_MhGHNQDHnFATkDa9-2llqrMBjUwxRSNPbVsMmyD-yq8wZETSoE5NQgecigDrSHkPtIYA',
      ]),
    ).toBe('token is *** now');
    expect(redact('ok fine', ['ok'])).toBe('ok fine');
  });
});

describe('parseWeChatResponse', () => {
  const allSchemas: [string, z.ZodMiniType<unknown>][] = Object.entries(schemas).flatMap(([name, value]) =>
    name.endsWith('ResponseSchema') && value instanceof z.ZodMiniType
      ? [[name, value as z.ZodMiniType<unknown>] as [string, z.ZodMiniType<unknown>]]
      : [],
  );

  it('has response schemas to fuzz', () => {
    expect(allSchemas.length).toBeGreaterThanOrEqual(20);
  });

  it('treats absent or 0 errcode as success and anything else as WeChatApiError', () => {
    expect(parseWeChatResponse('/x', '{"pre_auth_code":"p@@@1","expires_in":600}', schemas.preAuthCodeResponseSchema)).toEqual({
      pre_auth_code: 'p@@@1',
      expires_in: 600,
    });
    expect(parseWeChatResponse('/x', '{"errcode":0,"errmsg":"ok","auditid":7}', schemas.submitAuditResponseSchema)).toEqual({ auditid: 7 });
    expect(() => parseWeChatResponse('/x', '{"errcode":"85009","errmsg":"busy"}', schemas.okResponseSchema)).toThrow(
      expect.objectContaining({ code: 'WECHAT_85009' }),
    );
    expect(() => parseWeChatResponse('/x', '{"auditid":"x"}', schemas.submitAuditResponseSchema)).toThrow(WeChatResponseError);
    expect(() => parseWeChatResponse('/x', 'not json', schemas.okResponseSchema)).toThrow(WeChatResponseError);
    expect(() => parseWeChatResponse('/x', '[1]', schemas.okResponseSchema)).toThrow(WeChatResponseError);
    expect(() => parseWeChatResponse('/x', '{"errcode":1.5}', schemas.okResponseSchema)).toThrow(WeChatResponseError);
  });

  it('keeps the zod issues in cause of a schema mismatch', () => {
    try {
      parseWeChatResponse('/wxa/get_auditstatus', '{"errcode":0,"status":9}', schemas.auditStatusResponseSchema);
      throw new Error('unreachable');
    } catch (error) {
      expect(error).toBeInstanceOf(WeChatResponseError);
      const cause = (error as WeChatResponseError).cause as { issues?: unknown[] };
      expect(Array.isArray(cause.issues)).toBe(true);
      expect((error as Error).message).toContain('status');
    }
  });

  it('accepts the variants WeChat is known to send', () => {
    const latest = parseWeChatResponse(
      '/wxa/get_latest_auditstatus',
      '{"errcode":0,"auditid":"1234","status":1,"reason":"bad","ScreenShot":"a|b"}',
      schemas.latestAuditStatusResponseSchema,
    );
    expect(latest).toEqual({ auditid: 1234, status: 1, reason: 'bad', screenshots: ['a', 'b'] });
    const status = parseWeChatResponse('/x', '{"status":1,"screenshot":"m1"}', schemas.auditStatusResponseSchema);
    expect(status.screenshots).toEqual(['m1']);
    const auth = parseWeChatResponse(
      '/x',
      '{"authorization_info":{"appid":"wx1","authorizer_refresh_token":"r","func_info":[{"funcscope_category":{"id":18}}]}}',
      schemas.queryAuthResponseSchema,
    );
    expect(auth.authorization_info.authorizer_appid).toBe('wx1');
    expect(() => parseWeChatResponse('/x', '{"authorization_info":{"func_info":[]}}', schemas.queryAuthResponseSchema)).toThrow(
      WeChatResponseError,
    );
  });

  it('never throws anything but a typed WeChat error, whatever the body (property)', () => {
    const weChatish = fc.record(
      {
        errcode: fc.oneof(fc.constantFrom(0, -1, 40001, 45009, 85009), fc.integer(), fc.jsonValue()),
        errmsg: fc.oneof(fc.string(), fc.jsonValue()),
        auditid: fc.oneof(fc.integer(), fc.string()),
        status: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.jsonValue()),
        ScreenShot: fc.string(),
        authorization_info: fc.jsonValue(),
        authorizer_info: fc.jsonValue(),
        list: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const bodies = fc.oneof(
      fc.json(),
      fc.string(),
      weChatish.map((b) => JSON.stringify(b)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(bodies, fc.constantFrom(...allSchemas), (body, [, schema]) => {
        try {
          parseWeChatResponse('/fuzz', body, schema);
        } catch (error) {
          if (!(error instanceof WeChatApiError) && !(error instanceof WeChatResponseError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets a secret from the body into the error (property)', () => {
    const secret = 'SECRET_TOKEN_VALUE_0123456789';
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 99999999 }), fc.string(), fc.string(), (errcode, pre, post) => {
        const body = JSON.stringify({ errcode, errmsg: `${pre}${secret}${post} access_token=${secret}` });
        try {
          parseWeChatResponse('/fuzz', body, schemas.okResponseSchema, [secret]);
        } catch (error) {
          expect(String(error)).not.toContain(secret);
          expect(JSON.stringify(error)).not.toContain(secret);
        }
      }),
    );
  });
});

describe('authorization event fields', () => {
  const base = {
    AppId: 'wx134c8103faa5a59e',
    CreateTime: '1413192760',
    InfoType: 'authorized',
    AuthorizerAppid: 'wxba5fad812f8e6fb9',
    AuthorizationCode: 'queryauthcode@@@abc',
    PreAuthCode: 'preauthcode@@@xyz',
  };

  it('reads AuthorizationCodeExpiredTime as absolute or relative, always giving an absolute expiry', () => {
    const absolute = schemas.authorizationEventSchema.parse({ ...base, AuthorizationCodeExpiredTime: '1413196360' });
    expect(absolute.authorizationCodeExpiresAt).toBe(1413196360);
    const relative = schemas.authorizationEventSchema.parse({ ...base, AuthorizationCodeExpiredTime: 600 });
    expect(relative.authorizationCodeExpiresAt).toBe(1413192760 + 600);
    expect(schemas.authorizationEventSchema.safeParse({ ...base, InfoType: 'unauthorized' }).success).toBe(false);
  });
});

describe('authorizationPageUrl', () => {
  const api = new ComponentApi({
    componentAppId: 'wxcomponent0001',
    componentAppSecret: 'secret',
    pcAuthPageBase: 'https://mp.example/',
    mobileAuthPageBase: 'https://open.example',
  });
  const redirectUri = 'https://console.example.com/wechat/authorized?tenant=t1&app=a 2';

  it('builds the PC page with redirect_uri encoded exactly once', () => {
    const url = api.authorizationPageUrl({ preAuthCode: 'preauthcode@@@abc', redirectUri, authType: 2, categoryIdList: [18, 40] });
    expect(url).toBe(
      'https://mp.example/cgi-bin/componentloginpage?component_appid=wxcomponent0001&pre_auth_code=preauthcode%40%40%40abc' +
        '&redirect_uri=https%3A%2F%2Fconsole.example.com%2Fwechat%2Fauthorized%3Ftenant%3Dt1%26app%3Da%202' +
        '&auth_type=2&category_id_list=18%7C40',
    );
    const parsed = new URL(url);
    expect(parsed.searchParams.get('redirect_uri')).toBe(redirectUri);
  });

  it('builds the mobile page with the fixed action parameters and #wechat_redirect', () => {
    const url = api.authorizationPageUrl({ preAuthCode: 'p', redirectUri, mobile: true, bizAppId: 'wxbiz' });
    expect(
      url.startsWith(
        'https://open.example/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wxcomponent0001&pre_auth_code=p&redirect_uri=',
      ),
    ).toBe(true);
    expect(url.endsWith('&biz_appid=wxbiz#wechat_redirect')).toBe(true);
    expect(new URL(url).searchParams.get('auth_type')).toBeNull();
  });

  it('rejects biz_appid together with auth_type, and an already-encoded redirect URI', () => {
    const both = { preAuthCode: 'p', redirectUri, authType: 2, bizAppId: 'wx1' } as unknown as Parameters<
      ComponentApi['authorizationPageUrl']
    >[0];
    expect(() => api.authorizationPageUrl(both)).toThrow(ValidationError);
    expect(() => api.authorizationPageUrl({ preAuthCode: 'p', redirectUri: encodeURIComponent(redirectUri) })).toThrow(
      expect.objectContaining({ field: 'redirectUri' }),
    );
  });
});

describe('request validation', () => {
  const api = new ComponentApi({ componentAppId: 'wxc', componentAppSecret: 's', apiBase: 'http://127.0.0.1:9' });

  it('refuses bodies WeChat would reject before sending them', async () => {
    await expect(api.commit('t', { templateId: 1, extJson: '[1,2]', userVersion: 'v1', userDesc: 'd' })).rejects.toMatchObject({
      code: 'WECHAT_REQUEST_INVALID',
      field: 'ext_json',
    });
    await expect(api.submitAudit('t', { item_list: [] })).rejects.toBeInstanceOf(ValidationError);
    await expect(api.getAuthorizerList('t', 0, 501)).rejects.toMatchObject({ field: 'count' });
    await expect(api.setPrivacySetting('t', { owner_setting: { notice_method: 'popup' }, setting_list: [] })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});

describe('a file answer (get_qrcode)', () => {
  // WeChat answers the file as image/jpeg (reference §4.3); its errors as JSON, labelled application/json or
  // text/plain (WxJava's download executors take text/plain as the error signal). Either label must work.
  const answering = (contentType: string, body: string | Buffer) =>
    new WeChatHttp({
      apiBase: 'https://api.example',
      fetch: () => Promise.resolve(new Response(body, { headers: { 'content-type': contentType } })),
    });
  const call = (http: WeChatHttp) => http.binary({ method: 'GET', path: '/wxa/get_qrcode', idempotent: true });
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);

  it('takes an image as the file, whatever image type', async () => {
    await expect(call(answering('image/jpeg', jpeg))).resolves.toEqual({ contentType: 'image/jpeg', bytes: jpeg });
    await expect(call(answering('image/png', jpeg))).resolves.toMatchObject({ contentType: 'image/png' });
  });

  it.each(['application/json; encoding=utf-8', 'text/plain', 'text/plain; charset=utf-8'])(
    'reads an errcode labelled %s as the WeChat error it is',
    async (contentType) => {
      await expect(call(answering(contentType, '{"errcode":86001,"errmsg":"no committed code rid: 1"}'))).rejects.toMatchObject({
        code: 'WECHAT_86001',
        endpoint: '/wxa/get_qrcode',
      });
    },
  );
});

// AbortSignal.any arrived in Node 20.3; the runtime's eitherSignal (shared/runtime/abort.ts) stands in for it.
describe('WeChat calls with a caller signal on Node 18.15 (no AbortSignal.any)', () => {
  it('still work', async () => {
    const any = Object.getOwnPropertyDescriptor(AbortSignal, 'any');
    delete (AbortSignal as { any?: unknown }).any;
    try {
      const http = new WeChatHttp({
        apiBase: 'https://api.weixin.qq.com',
        fetch: async () =>
          new Response(JSON.stringify({ errcode: 0, errmsg: 'ok', value: 7 }), { headers: { 'content-type': 'application/json' } }),
      });
      const answer = await http.json(
        { method: 'GET', path: '/wxa/anything', idempotent: true, signal: new AbortController().signal },
        z.object({ value: z.number() }),
      );
      expect(answer.value).toBe(7);
    } finally {
      if (any) Object.defineProperty(AbortSignal, 'any', any);
    }
  });
});

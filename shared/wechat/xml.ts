/**
 * WeChat's XML dialect: one `<xml>` root, element-only content, string values in CDATA, numbers bare.
 *
 * Everything WeChat pushes at us arrives in this format, and the callback URLs are reachable by anyone, so
 * the parser is deliberately narrow: no DTDs (XXE, billion laughs), no entities beyond the five predefined ones
 * and character references, a size cap before any parsing work, exactly one root named `xml`, no mixed content,
 * and only characters XML 1.0 allows. Whatever fails any of this is a typed `AppError`, never a library error.
 */
import { AppError, ConfigError } from '../domain/errors';

// ---------------------------------------------------------------------------------------------------------------
// Shapes

/**
 * What `parseWeChatXml` returns for the children of `<xml>`.
 *
 * - a leaf element is its text as a `string` (never a number: `CreateTime` stays `"1715943329"`, coerce with zod);
 *   CDATA is kept verbatim, plain text is entity-decoded and trimmed, and as in every XML parser line ends
 *   (`\r\n`, `\r`) read as `\n`; an empty element (`<A/>`, `<A></A>`) is `""`;
 * - an element with child elements is a nested `WeChatXmlFields` (e.g. `AuthorizerInfo`);
 * - an element name that occurs more than once among its siblings becomes an array of those values, in document
 *   order. A name that occurs once is never wrapped, so a schema for a possibly-repeated element should accept
 *   both (`z.union([item, z.array(item)])`).
 *
 * Attributes are ignored (WeChat sends none). Objects are plain objects, which is what zod expects.
 */
export type WeChatXmlValue = string | WeChatXmlFields | Array<string | WeChatXmlFields>;
export interface WeChatXmlFields {
  [name: string]: WeChatXmlValue;
}

/** Input of `buildWeChatXml`. `undefined` members are skipped so optional fields can be passed as they are. */
export type WeChatXmlInputScalar = string | number;
export type WeChatXmlInputValue = WeChatXmlInputScalar | WeChatXmlInput | ReadonlyArray<WeChatXmlInputScalar | WeChatXmlInput>;
export interface WeChatXmlInput {
  readonly [name: string]: WeChatXmlInputValue | undefined;
}

export interface ParseWeChatXmlOptions {
  /** Upper bound on the UTF-8 size of the document; default 64 KiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_XML_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Errors

export class XmlParseError extends AppError {
  readonly code = 'WECHAT_XML_INVALID';
  readonly category = 'invalid' as const;
}

export class XmlTooLargeError extends AppError {
  readonly code = 'WECHAT_XML_TOO_LARGE';
  readonly category = 'too-large' as const;
}

export class XmlForbiddenConstructError extends AppError {
  readonly code = 'WECHAT_XML_FORBIDDEN';
  readonly category = 'invalid' as const;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/*
 * Matched anywhere, CDATA included: a DOCTYPE is the only door to external entities and entity expansion, and a
 * blunt textual ban cannot be confused by a parser quirk. WeChat never sends one. `buildWeChatXml` splits CDATA
 * so that values containing these words still round-trip.
 */
const FORBIDDEN_DECLARATION = /<!\s*(?:DOCTYPE|ENTITY)/i;

/** Anything outside XML 1.0's `Char` production (control characters, lone surrogates, U+FFFE/U+FFFF). */
const NON_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const MAX_DEPTH = 32;

const TEXT = '#text';
const CDATA = '#cdata';

/*
 * preserveOrder keeps CDATA apart from plain text (only the latter is entity-decoded and trimmed) and keeps the
 * sibling order needed to detect mixed content. Entity processing is off: the five predefined entities and
 * character references are decoded here instead, so no entity table exists that a document could extend.
 *
 * fast-xml-parser is `require`d by the first document the fast path leaves to it, not imported: the function
 * bundles leave it out (~60 KB with its dependencies), and scripts/build.ts ships it next to the bundles that
 * require it, as it ships the store drivers. WeChat's pushes are flat, so most instances never load it.
 */
let library: { parser: import('fast-xml-parser').XMLParser; validator: typeof import('fast-xml-parser').XMLValidator } | undefined;
function fastXmlParser() {
  if (library) return library;
  let loaded: typeof import('fast-xml-parser');
  try {
    loaded = require('fast-xml-parser') as typeof import('fast-xml-parser');
  } catch (error) {
    // A build that left it out is a deployment mistake, not a bad document: said as such, never as a 400.
    throw new ConfigError('fast-xml-parser is not shipped with this function: rebuild it with npm run build', { cause: error });
  }
  const { XMLParser, XMLValidator } = loaded;
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: true,
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    cdataPropName: CDATA,
    textNodeName: TEXT,
    commentPropName: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: false,
    maxNestedTags: MAX_DEPTH,
    // Names are kept verbatim; `setField` stores them without touching prototypes.
    onDangerousProperty: (name: string) => name,
  });
  library = { parser, validator: XMLValidator };
  return library;
}

/**
 * Parses a WeChat XML document and returns the children of its `<xml>` root (see `WeChatXmlFields`).
 *
 * Throws `XmlTooLargeError` above `maxBytes`, `XmlForbiddenConstructError` for DOCTYPE/ENTITY declarations, and
 * `XmlParseError` for everything else that is not a well-formed, element-only document rooted at `<xml>`.
 */
export function parseWeChatXml(xml: string, opts: ParseWeChatXmlOptions = {}): WeChatXmlFields {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  // A UTF-16 length above the cap implies a UTF-8 size above it too: refuse huge inputs without scanning them.
  if (xml.length > maxBytes || Buffer.byteLength(xml, 'utf8') > maxBytes) {
    throw new XmlTooLargeError(`XML document exceeds ${maxBytes} bytes`, { details: { maxBytes } });
  }
  if (FORBIDDEN_DECLARATION.test(xml)) {
    throw new XmlForbiddenConstructError('XML document contains a DOCTYPE or ENTITY declaration');
  }
  if (NON_XML_CHAR.test(xml)) {
    throw new XmlParseError('XML document contains a character that XML 1.0 does not allow');
  }

  return parseFlatDocument(xml) ?? parseAnyDocument(xml);
}

/**
 * The general parser behind `parseWeChatXml`, without its fast path; exported so tests can check that both give
 * the same answer for every document. Expects the size, declaration and character checks already done.
 */
export function parseAnyDocument(xml: string): WeChatXmlFields {
  // fast-xml-parser's parser recovers from mismatched and unclosed tags; its validator does not.
  // Loaded outside the try below: failing to load the library says nothing about the document.
  const { parser, validator } = fastXmlParser();
  let ordered: unknown;
  try {
    const validation = validator.validate(xml, { allowBooleanAttributes: false });
    if (validation !== true) {
      const { msg, line, col } = validation.err;
      throw new XmlParseError(`malformed XML: ${msg}`, { details: { line, col } });
    }
    ordered = parser.parse(xml);
  } catch (cause) {
    // Whatever the library throws (depth limit, reserved names, its own bugs) is a bad document to our callers.
    throw cause instanceof XmlParseError ? cause : new XmlParseError('malformed XML', { cause });
  }

  const topLevel = asNodeList(ordered, '');
  const roots = topLevel.filter((node) => elementName(node) !== undefined);
  const strayText = topLevel.some((node) => elementName(node) === undefined && !isBlankText(node));
  const root = roots.length === 1 && !strayText ? roots[0] : undefined;
  const rootName = root === undefined ? undefined : elementName(root);
  if (root === undefined || rootName !== 'xml') {
    throw new XmlParseError('XML document must have exactly one root element, named "xml"');
  }
  const value = convertElement(root[rootName], 'xml', 1);
  // `<xml/>` is an empty document, not an empty string.
  return typeof value === 'string' ? {} : value;
}

/*
 * The fast path. Nearly every document WeChat sends — the envelope of each push and the decrypted message inside
 * it — is flat: `<xml>` holding leaf elements whose content is one CDATA section, plain text without markup or
 * entities, or nothing. Those are read here with a single forward scan (several times faster than the general
 * parser and its validator). Anything else — nesting, an XML declaration, comments, attributes, entities,
 * carriage returns, split CDATA sections, any irregularity at all — makes the scan give up (`undefined`) and the
 * general parser decide, so the fast path can only ever agree with it (a property test holds it to that).
 */
const FLAT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const CDATA_OPEN = '<![CDATA[';

const isXmlSpace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a;

function skipSpace(xml: string, at: number): number {
  while (at < xml.length && isXmlSpace(xml.charCodeAt(at))) at++;
  return at;
}

export function parseFlatDocument(xml: string): WeChatXmlFields | undefined {
  if (xml.includes('\r')) return undefined; // line-end normalisation is the general parser's business
  let at = skipSpace(xml, 0);
  if (!xml.startsWith('<xml>', at)) return undefined;
  at += 5;
  const fields: WeChatXmlFields = {};
  for (;;) {
    at = skipSpace(xml, at);
    if (xml.startsWith('</xml>', at)) {
      return skipSpace(xml, at + 6) === xml.length ? fields : undefined;
    }
    if (xml.charCodeAt(at) !== 0x3c /* < */) return undefined;
    const nameEnd = xml.indexOf('>', at + 1);
    if (nameEnd < 0) return undefined;
    let name = xml.slice(at + 1, nameEnd);
    at = nameEnd + 1;
    let value: string;
    if (name.endsWith('/')) {
      name = name.slice(0, -1);
      value = '';
    } else {
      if (xml.startsWith(CDATA_OPEN, at)) {
        const end = xml.indexOf(']]>', at + CDATA_OPEN.length);
        if (end < 0) return undefined;
        value = xml.slice(at + CDATA_OPEN.length, end);
        at = end + 3;
      } else {
        const end = xml.indexOf('<', at);
        if (end < 0) return undefined;
        const raw = xml.slice(at, end);
        if (raw.includes('&') || raw.includes('>')) return undefined;
        value = raw.trim();
        at = end;
      }
      const close = `</${name}>`;
      if (!xml.startsWith(close, at)) return undefined;
      at += close.length;
    }
    if (!FLAT_NAME.test(name) || RESERVED_NAMES.has(name)) return undefined;
    addField(fields, name, value, assignField);
  }
}

type OrderedNode = Record<string, unknown>;

function isRecord(value: unknown): value is OrderedNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asNodeList(value: unknown, path: string): OrderedNode[] {
  if (!Array.isArray(value) || !value.every(isRecord)) {
    throw new XmlParseError(`unexpected parser output at "${path}"`);
  }
  return value;
}

function isBlankText(node: OrderedNode): boolean {
  const raw = node[TEXT];
  return typeof raw === 'string' && raw.trim() === '';
}

/** The tag name of an element node, or undefined for text/CDATA nodes. */
function elementName(node: OrderedNode): string | undefined {
  for (const key of Object.keys(node)) {
    // ':@' would hold attributes; they are ignored, so it never appears, but it is not a child either.
    if (key !== TEXT && key !== CDATA && key !== ':@') return key;
  }
  return undefined;
}

function convertElement(children: unknown, path: string, depth: number): string | WeChatXmlFields {
  if (depth > MAX_DEPTH) throw new XmlParseError(`XML nested deeper than ${MAX_DEPTH} levels`);
  const nodes = asNodeList(children, path);

  let fields: WeChatXmlFields | undefined;
  let text = '';
  let hasCdata = false;
  let hasNonBlankText = false;

  for (const node of nodes) {
    const name = elementName(node);
    if (name !== undefined) {
      const childPath = `${path}.${name}`;
      fields ??= {};
      addField(fields, name, convertElement(node[name], childPath, depth + 1));
      continue;
    }
    if (TEXT in node) {
      const raw = node[TEXT];
      if (typeof raw !== 'string') throw new XmlParseError(`unexpected parser output at "${path}"`);
      if (raw.trim() === '') continue; // indentation between elements, or around CDATA
      hasNonBlankText = true;
      text += decodeText(raw, path);
    } else if (CDATA in node) {
      const inner = asNodeList(node[CDATA], path)[0]?.[TEXT];
      if (typeof inner !== 'string') throw new XmlParseError(`unexpected parser output at "${path}"`);
      hasCdata = true;
      text += inner;
    }
  }

  if (fields !== undefined) {
    if (hasCdata || hasNonBlankText) {
      throw new XmlParseError(`element "${path}" mixes text and child elements`, { field: path });
    }
    return fields;
  }
  // Plain text is trimmed because pretty-printers indent it; CDATA is taken byte for byte.
  return hasCdata ? text : text.trim();
}

function addField(fields: WeChatXmlFields, name: string, value: string | WeChatXmlFields, set = setField): void {
  const existing = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (existing === undefined) {
    set(fields, name, value);
  } else if (Array.isArray(existing)) {
    existing.push(value);
  } else {
    set(fields, name, [existing, value]);
  }
}

/** Defines an own property even for names such as `__proto__`, which plain assignment would treat specially. */
function setField(fields: WeChatXmlFields, name: string, value: WeChatXmlValue): void {
  Object.defineProperty(fields, name, { value, enumerable: true, writable: true, configurable: true });
}

/** For names already checked not to be `__proto__` (the fast path): much cheaper than `defineProperty`. */
function assignField(fields: WeChatXmlFields, name: string, value: WeChatXmlValue): void {
  fields[name] = value;
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ENTITY_REFERENCE = /&([^;&]*);?/g;

function decodeText(raw: string, path: string): string {
  if (raw.includes(']]>')) {
    throw new XmlParseError(`"]]>" is not allowed in text of "${path}"`, { field: path });
  }
  if (!raw.includes('&')) return raw;
  return raw.replace(ENTITY_REFERENCE, (match: string, name: string) => {
    const decoded = match.endsWith(';') ? decodeReference(name) : undefined;
    if (decoded === undefined) {
      throw new XmlParseError(`invalid entity reference "${match}" in "${path}"`, { field: path });
    }
    return decoded;
  });
}

function decodeReference(name: string): string | undefined {
  const predefined = Object.hasOwn(PREDEFINED_ENTITIES, name) ? PREDEFINED_ENTITIES[name] : undefined;
  if (predefined !== undefined) return predefined;
  const numeric = /^#(?:([0-9]{1,7})|x([0-9A-Fa-f]{1,6}))$/.exec(name);
  if (numeric === null) return undefined;
  const codePoint = numeric[1] !== undefined ? Number.parseInt(numeric[1], 10) : Number.parseInt(numeric[2] ?? '', 16);
  if (!(codePoint <= 0x10ffff)) return undefined;
  const char = String.fromCodePoint(codePoint);
  return NON_XML_CHAR.test(char) ? undefined : char;
}

// ---------------------------------------------------------------------------------------------------------------
// Building

/** XML names as WeChat uses them: ASCII, no namespaces. */
const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Names that fast-xml-parser (rightly) refuses, so building them would produce undecodable documents. */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Builds `<xml>…</xml>` the way WeChat does: strings in CDATA, numbers bare, nested objects as child elements,
 * arrays as repeated elements, on one line. Throws `TypeError` for programming errors: invalid element names,
 * non-finite numbers, or characters XML 1.0 cannot carry.
 */
export function buildWeChatXml(fields: WeChatXmlInput): string {
  return `<xml>${buildChildren(fields, 'xml')}</xml>`;
}

function buildChildren(fields: WeChatXmlInput, path: string): string {
  let out = '';
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (!XML_NAME.test(name) || RESERVED_NAMES.has(name)) {
      throw new TypeError(`"${path}.${name}" is not a usable XML element name`);
    }
    if (isReadonlyArray(value)) {
      for (const item of value) out += buildElement(name, item, `${path}.${name}`);
    } else {
      out += buildElement(name, value, `${path}.${name}`);
    }
  }
  return out;
}

function isReadonlyArray(value: WeChatXmlInputValue): value is ReadonlyArray<WeChatXmlInputScalar | WeChatXmlInput> {
  return Array.isArray(value);
}

function buildElement(name: string, value: WeChatXmlInputScalar | WeChatXmlInput, path: string): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`"${path}" is not a finite number`);
    return `<${name}>${String(value)}</${name}>`;
  }
  if (typeof value === 'string') return `<${name}>${cdata(value, path)}</${name}>`;
  return `<${name}>${buildChildren(value, path)}</${name}>`;
}

/**
 * Wraps a string in CDATA so that any parser gives back exactly `value`:
 * - `]]>` would end the section early, so it is split across two sections;
 * - every `<!` is split too, so no value can smuggle the `<!DOCTYPE` / `<!ENTITY` text the parser refuses;
 * - a carriage return inside CDATA is turned into `\n` by XML line-end normalisation (and by fast-xml-parser),
 *   so it leaves the section as the character reference `&#13;`, which normalisation does not touch.
 */
export function cdata(value: string, path = 'value'): string {
  if (NON_XML_CHAR.test(value)) throw new TypeError(`"${path}" contains a character that XML 1.0 cannot carry`);
  const body = value.replace(/\]\]>|<!|\r/g, (m) =>
    m === ']]>' ? ']]]]><![CDATA[>' : m === '<!' ? '<!]]><![CDATA[' : ']]>&#13;<![CDATA[',
  );
  return `<![CDATA[${body}]]>`;
}

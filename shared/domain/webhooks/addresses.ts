/**
 * Where a webhook may be sent. A customer types the URL, so without these rules it could point our functions at
 * the cloud's metadata service or the VPC behind them (SSRF). Pure: the sender applies `classifyAddress` to every
 * address DNS returns, at connect time, so an answer that changed since the URL was accepted is still caught.
 *
 * Ranges: IANA special-purpose registries (RFC 6890 and updates). The metadata services of our clouds sit inside
 * them — Tencent Cloud 169.254.0.23 and AWS/GCP 169.254.169.254 (link-local), Alibaba Cloud 100.100.100.200
 * (shared address space, RFC 6598) — and are named apart so a refusal says which.
 */

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** 4, 6 or 0 like `net.isIP` (the domain uses no Node built-in): dotted quads, and IPv6 in its textual forms. */
export function isIP(text: string): 4 | 6 | 0 {
  if (V4.test(text)) return 4;
  const address = text.split('%')[0] ?? '';
  if (!/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(':')) return 0;
  const v4Tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  if (v4Tail !== undefined && !V4.test(v4Tail)) return 0;
  const hex = v4Tail === undefined ? address : `${address.slice(0, -v4Tail.length)}0:0`;
  const halves = hex.split('::');
  if (halves.length > 2) return 0;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  if (groups.some((list) => list.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g)))) return 0;
  const count = groups.reduce((n, list) => n + list.length, 0);
  return (halves.length === 2 ? count < 8 : count === 8) ? 6 : 0;
}

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'reserved';

const METADATA = new Set(['169.254.169.254', '169.254.0.23', '100.100.100.200', 'fd00:ec2::254']);

const V4_RANGES: readonly [string, number, AddressClass][] = [
  ['0.0.0.0', 8, 'reserved'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'reserved'],
  ['240.0.0.0', 4, 'reserved'],
];

const v4ToInt = (address: string): number => address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);

function classifyV4(address: string): AddressClass {
  if (METADATA.has(address)) return 'metadata';
  const value = v4ToInt(address);
  for (const [base, bits, kind] of V4_RANGES) {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    if (value >= start && value < start + size) return kind;
  }
  return 'public';
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped, embedded IPv4 tail expanded). */
function v6Groups(address: string): number[] {
  let text = address.split('%')[0] ?? '';
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4Tail) {
    const n = v4ToInt(v4Tail);
    text = `${text.slice(0, -v4Tail.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function classifyV6(address: string): AddressClass {
  if (METADATA.has(address.toLowerCase())) return 'metadata';
  const g = v6Groups(address);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embeddedV4 = () => `${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`;
  if (g.slice(0, 7).every((x) => x === 0)) return g7 === 1 ? 'loopback' : 'reserved';
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address inside them.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) return classifyV4(embeddedV4());
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return classifyV4(embeddedV4());
  if ((g0 & 0xfe00) === 0xfc00) return 'private';
  if ((g0 & 0xffc0) === 0xfe80 || (g0 & 0xffc0) === 0xfec0) return 'link-local';
  if ((g0 & 0xff00) === 0xff00) return 'reserved';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved';
  return 'public';
}

/** What kind of address this is; a string that is not an IP address is 'reserved' (never connected to). */
export function classifyAddress(address: string): AddressClass {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare.split('%')[0] ?? '');
  if (family === 4) return classifyV4(bare);
  if (family === 6) return classifyV6(bare);
  return 'reserved';
}

export type EndpointMode = 'local' | 'cloud';

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * The checks a URL passes when it is saved (and again before each attempt). Local mode allows `http` and private
 * addresses, so `npm start` can deliver to a receiver on the same machine.
 */
export function checkEndpointUrl(text: string, mode: EndpointMode): UrlVerdict {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'not an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(mode === 'local' && url.protocol === 'http:')) {
    return { ok: false, reason: mode === 'local' ? 'must be http or https' : 'must be https' };
  }
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
  if (url.hash) return { ok: false, reason: 'must not have a fragment' };
  if (mode === 'cloud') {
    const host = url.hostname.toLowerCase();
    if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, reason: 'must not point at this machine' };
    const kind = isIP(host.replace(/^\[|\]$/g, '')) ? classifyAddress(host) : 'public';
    if (kind !== 'public') return { ok: false, reason: `must not point at a ${kind} address` };
  }
  return { ok: true, url };
}

/**
 * One POST to a URL a customer typed (a webhook endpoint), made safe to send from inside our cloud:
 * - the URL rules of `checkEndpointUrl` (https only in the cloud, no credentials);
 * - every address DNS answers is classified *at connect time*, inside the socket's own lookup, so the address
 *   checked is the address connected to: a name that resolved to a public address when it was saved and to
 *   169.254.169.254 now (DNS rebinding) is refused. If any answer is not public, the name is refused;
 * - redirects are never followed (a 3xx is a failed attempt), so a public endpoint cannot bounce us inward;
 * - one time limit for the whole attempt, and the answer is read only up to `maxAnswerBytes`.
 * Local mode (`npm start`) skips the address rules so a receiver on the same machine works.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { type AddressClass, checkEndpointUrl, classifyAddress, type EndpointMode } from '../../domain/webhooks/addresses';

export type Resolve = (hostname: string) => Promise<readonly LookupAddress[]>;

const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

export interface GuardedPostOptions {
  mode: EndpointMode;
  timeoutMs: number;
  maxAnswerBytes: number;
  /** Injected by tests to make a name resolve where they want. */
  resolve?: Resolve;
}

export type PostOutcome =
  | { kind: 'answered'; status: number; latencyMs: number; answer: string; answerTruncated: boolean }
  /** Refused before any byte was sent: the URL or an address it resolved to is not allowed. */
  | { kind: 'refused'; reason: string; latencyMs: number }
  | { kind: 'failed'; reason: string; latencyMs: number };

class AddressRefusedError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly addressClass: AddressClass,
  ) {
    super(`${hostname} resolves to a ${addressClass} address (${address})`);
  }
}

function guardedLookup(resolve: Resolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const family = typeof options === 'object' && options.family ? options.family : 0;
        const usable = addresses.filter((a) => family === 0 || a.family === family);
        const bad = usable.find((a) => classifyAddress(a.address) !== 'public');
        if (bad) return callback(new AddressRefusedError(hostname, bad.address, classifyAddress(bad.address)), '', 0);
        const first = usable[0];
        if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        if (typeof options === 'object' && options.all) {
          // `all` callers (autoSelectFamily) take the list; the types of LookupFunction only name the single form.
          (callback as unknown as (e: null, list: LookupAddress[]) => void)(null, [...usable]);
          return;
        }
        callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), '', 0),
    );
  };
}

export async function guardedPost(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  options: GuardedPostOptions,
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const verdict = checkEndpointUrl(url, options.mode);
  if (!verdict.ok) return { kind: 'refused', reason: `URL ${verdict.reason}`, latencyMs: 0 };
  const target = verdict.url;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = Buffer.from(body, 'utf8');

  return new Promise<PostOutcome>((settle) => {
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      settle(outcome);
    };
    const req = send(target, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(payload.length),
        'user-agent': 'wxa-deploy-webhooks/1',
      },
      ...(options.mode === 'cloud' ? { lookup: guardedLookup(options.resolve ?? systemResolve) } : {}),
    });
    const timer = setTimeout(
      () => finish({ kind: 'failed', reason: `no answer within ${options.timeoutMs} ms`, latencyMs: elapsed() }),
      options.timeoutMs,
    );
    req.on('error', (error) => {
      if (error instanceof AddressRefusedError) finish({ kind: 'refused', reason: error.message, latencyMs: elapsed() });
      else finish({ kind: 'failed', reason: networkReason(error), latencyMs: elapsed() });
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (truncated: boolean) =>
        finish({
          kind: 'answered',
          status: res.statusCode ?? 0,
          latencyMs: elapsed(),
          answer: Buffer.concat(chunks).subarray(0, options.maxAnswerBytes).toString('utf8'),
          answerTruncated: truncated,
        });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Enough read: the rest of a large answer is neither waited for nor kept.
        if (size > options.maxAnswerBytes) done(true);
      });
      res.on('end', () => done(false));
      res.on('error', () => done(true));
    });
    req.end(payload);
  });
}

function networkReason(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `network error ${code}` : `network error: ${error.message}`;
}

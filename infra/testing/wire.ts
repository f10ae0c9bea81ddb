/** Bytes on the wire for the hostile-input suites and the fuzzer: raw requests, PNG headers, our error envelope. */
import { request } from 'node:http';
import * as z from '../../shared/domain/zod';

/** Our error envelope, as a client reads it. */
export const errorEnvelope = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.optional(z.string()),
    issues: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
    details: z.optional(z.record(z.string(), z.unknown())),
    requestId: z.optional(z.string()),
  }),
});

/** The first bytes of a PNG of this size: enough for the image checks, which read only the IHDR chunk. */
export function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.writeUInt8(8, 16);
  ihdr.writeUInt8(6, 17);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]);
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * node:http, so the request line carries the path exactly as the case wrote it. Headers are pairs set one by one:
 * an object literal cannot hold a header named `__proto__`.
 */
export function rawRequest(
  baseUrl: string,
  input: { method: string; path: string; headers: Record<string, string> | [string, string][]; body?: Buffer },
): Promise<RawReply> {
  const base = new URL(baseUrl);
  const pairs: [string, string][] = Array.isArray(input.headers) ? input.headers : Object.entries(input.headers);
  return new Promise((resolveReply, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method: input.method,
        path: input.path,
        agent: false,
        setHost: true,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolveReply({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    for (const [name, value] of pairs) req.setHeader(name, value);
    if (input.body) req.setHeader('content-length', String(input.body.length));
    req.on('error', reject);
    req.end(input.body);
  });
}

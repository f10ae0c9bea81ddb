/**
 * A closed-loop HTTP/1.1 load generator for loopback benchmarks, as light as a generator can be so that the server
 * is what gets measured: every request is a pre-built byte buffer (sealed body, headers, all of it) written to one
 * of `connections` keep-alive sockets; the next one goes out when the answer to the previous one is complete.
 * Each answer is checked (status, body) and timed with `process.hrtime` (sub-millisecond percentiles).
 *
 * Bounded: it sends exactly `requests.length` requests and gives up after `maxMs` (sockets destroyed, the
 * shortfall reported as errors).
 */
import { connect, type Socket } from 'node:net';

export interface Request {
  method: string;
  path: string;
  body: string;
  contentType: string;
}

export interface LoadResult {
  sent: number;
  answered: number;
  /** Answered with another status or body than expected, or not answered at all (socket error, deadline). */
  bad: number;
  socketErrors: number;
  seconds: number;
  rps: number;
  /** Milliseconds, one per answered request, in completion order. */
  latencies: Float64Array;
  /** 1 at the index of every request answered as expected. */
  acked: Uint8Array;
}

/** Serialises requests once, before anything is timed. */
export function prebuild(host: string, requests: readonly Request[]): Buffer[] {
  return requests.map((r) => {
    const body = Buffer.from(r.body, 'utf8');
    const head =
      `${r.method} ${r.path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${r.contentType}\r\n` +
      `Content-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  });
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** The body of the answer whose headers end at `start` (Content-Length or chunked framing), once complete. */
function frame(buffer: Buffer, start: number, head: string): { body: Buffer; total: number } | 'incomplete' | 'invalid' {
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) {
    const total = start + Number(length[1]);
    return buffer.length < total ? 'incomplete' : { body: buffer.subarray(start, total), total };
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) return 'invalid';
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd < 0) return 'incomplete';
    const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return 'invalid';
    const dataEnd = lineEnd + 2 + size;
    if (buffer.length < dataEnd + 2) return 'incomplete';
    if (size === 0) return { body: Buffer.concat(parts), total: dataEnd + 2 };
    parts.push(buffer.subarray(lineEnd + 2, dataEnd));
    at = dataEnd + 2;
  }
}

export function blast(
  url: string,
  requests: readonly Buffer[],
  options: { connections: number; expectStatus?: number; expectBody?: string; maxMs?: number },
): Promise<LoadResult> {
  const { hostname, port } = new URL(url);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost' && hostname !== '[::1]') throw new Error(`loopback only, not ${hostname}`);
  const expectStatus = options.expectStatus ?? 200;
  const expectBody = options.expectBody === undefined ? undefined : Buffer.from(options.expectBody);
  const latencies = new Float64Array(requests.length);
  const acked = new Uint8Array(requests.length);
  let next = 0;
  let answered = 0;
  let wrong = 0;
  let socketErrors = 0;
  const sockets: Socket[] = [];

  return new Promise((resolvePromise) => {
    const started = process.hrtime.bigint();
    let open = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      for (const s of sockets) s.destroy();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolvePromise({
        sent: next,
        answered,
        bad: wrong + (requests.length - answered),
        socketErrors,
        seconds,
        rps: answered / seconds,
        latencies: latencies.subarray(0, answered),
        acked,
      });
    };
    const deadline = setTimeout(finish, options.maxMs ?? 120_000);

    const runConnection = () => {
      const socket = connect({ host: hostname === 'localhost' ? '127.0.0.1' : hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
      socket.setNoDelay(true);
      sockets.push(socket);
      open += 1;
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0n;
      let current = -1;
      const sendNext = () => {
        const request = requests[next];
        if (request === undefined) {
          socket.end();
          return;
        }
        current = next;
        next += 1;
        sentAt = process.hrtime.bigint();
        socket.write(request);
      };
      socket.on('connect', sendNext);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const headerEnd = buffer.indexOf(HEADER_END);
          if (headerEnd < 0) return;
          const head = buffer.subarray(0, headerEnd).toString('latin1');
          const framed = frame(buffer, headerEnd + 4, head);
          if (framed === 'invalid') {
            // Close-delimited answers never come from these servers: count and stop this connection.
            wrong += 1;
            socket.destroy();
            return;
          }
          if (framed === 'incomplete') return;
          const { body, total } = framed;
          latencies[answered] = Number(process.hrtime.bigint() - sentAt) / 1e6;
          answered += 1;
          const status = Number(head.slice(9, 12));
          if (status !== expectStatus || (expectBody !== undefined && !body.equals(expectBody))) wrong += 1;
          else acked[current] = 1;
          buffer = buffer.subarray(total);
          sendNext();
        }
      });
      socket.on('error', () => {
        socketErrors += 1;
      });
      socket.on('close', () => {
        open -= 1;
        if (open === 0) finish();
      });
    };
    for (let i = 0; i < Math.min(options.connections, requests.length); i++) runConnection();
  });
}

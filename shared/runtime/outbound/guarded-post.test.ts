import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { guardedPost } from './guarded-post';

interface Receiver {
  url: string;
  hits: IncomingMessage[];
  close: () => Promise<void>;
}

async function receiver(answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<Receiver> {
  const hits: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req);
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const cloud = { mode: 'cloud' as const, timeoutMs: 2_000, maxAnswerBytes: 64 };
const local = { mode: 'local' as const, timeoutMs: 2_000, maxAnswerBytes: 64 };

describe('guarded POST: what a customer-typed URL may reach', () => {
  it('cloud mode refuses loopback and the metadata service before connecting', async () => {
    expect(await guardedPost('https://127.0.0.1:1/x', {}, '{}', cloud)).toMatchObject({
      kind: 'refused',
      reason: 'URL must not point at a loopback address',
    });
    expect(await guardedPost('https://169.254.169.254/latest/meta-data', {}, '{}', cloud)).toMatchObject({
      kind: 'refused',
      reason: 'URL must not point at a metadata address',
    });
    expect(await guardedPost('http://hooks.example.com/x', {}, '{}', cloud)).toMatchObject({
      kind: 'refused',
      reason: 'URL must be https',
    });
  });

  it('cloud mode refuses a name whose DNS answer is private, at connect time, without sending a byte', async () => {
    // A bare TCP listener at the port the URL names: had the guard let the private answer through, the client
    // would connect here (TLS or not), and the listener would count it.
    let connections = 0;
    const listener = createNetServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as AddressInfo;
    const asked: string[] = [];
    let outcome: Awaited<ReturnType<typeof guardedPost>>;
    try {
      outcome = await guardedPost(`https://rebinding.example.test:${port}/hook`, {}, '{}', {
        ...cloud,
        resolve: async (hostname) => {
          asked.push(hostname);
          // The private address first, where a client connects first.
          return [
            { address: '127.0.0.1', family: 4 },
            { address: '93.184.216.34', family: 4 },
          ];
        },
      });
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
    expect(asked).toEqual(['rebinding.example.test']);
    expect(outcome).toMatchObject({ kind: 'refused', reason: 'rebinding.example.test resolves to a loopback address (127.0.0.1)' });
    expect(connections).toBe(0);
  });

  it('never follows a redirect: a 302 to another address is a failed attempt and the target is never contacted', async () => {
    const inner = await receiver((_req, res) => res.end('secret'));
    const outer = await receiver((_req, res) => {
      res.writeHead(302, { location: inner.url });
      res.end();
    });
    const outcome = await guardedPost(outer.url, {}, '{}', local);
    expect(outcome).toMatchObject({ kind: 'answered', status: 302 });
    expect(outer.hits).toHaveLength(1);
    expect(inner.hits).toHaveLength(0);
    await Promise.all([inner.close(), outer.close()]);
  });

  it('reads an answer only up to the limit', async () => {
    const big = await receiver((_req, res) => res.end('x'.repeat(1_000_000)));
    const outcome = await guardedPost(big.url, {}, '{}', local);
    expect(outcome).toMatchObject({ kind: 'answered', status: 200, answerTruncated: true });
    expect(outcome.kind === 'answered' && outcome.answer.length).toBe(64);
    await big.close();
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const silent = await receiver(() => undefined);
    const outcome = await guardedPost(silent.url, {}, '{}', { ...local, timeoutMs: 100 });
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'no answer within 100 ms' });
    await silent.close().catch(() => undefined);
  });
});

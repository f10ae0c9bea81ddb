/**
 * Child process of bench/ingest.ts: a calibration, not the product. The least a correct receiver of component
 * pushes does, written by hand with no framework (`bench/ingest-floor.ts`), behind `node:http`, so the benchmark
 * can show where the floor lies on this machine. Left out, and what the product adds to this: zod validation of
 * the query, the XML and every document, the provider shim and the middy stack, the error mapping, log
 * redaction, configuration.
 *
 * With GROUP_COMMIT=1 the inbox records of all pushes that arrived in one turn of the event loop are written in
 * one transaction (each push still answered only after its record is committed): the lever SQLite's per-commit
 * cost leaves.
 *
 * IPC as bench/ingest-server.ts: sends `{url}` once listening; `exit` closes it.
 */
import { createServer } from 'node:http';
import { createFloorReceiver } from './ingest-floor';

const receive = createFloorReceiver({ sqlitePath: process.env.SQLITE_PATH ?? ':memory:', groupCommit: process.env.GROUP_COMMIT === '1' });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () =>
    receive(req.url ?? '', Buffer.concat(chunks).toString('utf8'), (status, _type, body) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    }),
  );
});
server.listen(0, '127.0.0.1', () => process.send?.({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }));
process.on('message', (message) => {
  if (message === 'exit') server.close(() => process.exit(0));
  server.closeAllConnections();
});

/**
 * The check the e2e suites run after each test must be able to fail: a status the document does not list for its
 * route, and an API path the document lacks, are both reported.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { undocumentedAnswers } from './documented-statuses';

const document = {
  paths: {
    '/v1/apps/{appId}': { get: { responses: { '200': {}, '4XX': {} } } },
  },
};

let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const answers = (...invocations: { trigger: string; status: number }[]) =>
  undocumentedAnswers({ url, stack: { runtime: { invocations } } } as unknown as Parameters<typeof undocumentedAnswers>[0]);

describe('undocumentedAnswers', () => {
  it('passes statuses the route lists, exactly or by range', async () => {
    expect(await answers({ trigger: 'http GET /v1/apps/a1', status: 200 }, { trigger: 'http HEAD /v1/apps/a1', status: 404 })).toEqual([]);
  });

  it('reports a status the route does not list', async () => {
    expect(await answers({ trigger: 'http GET /v1/apps/a1', status: 503 })).toEqual(['GET /v1/apps/a1 → 503 (listed: 200, 4XX)']);
  });

  it('reports an API path or method the document lacks, unless it was answered 404/405 or is a preflight', async () => {
    expect(
      await answers(
        { trigger: 'http POST /v1/apps/a1', status: 202 },
        { trigger: 'http GET /v1/rollouts', status: 200 },
        { trigger: 'http GET /v1/nothing', status: 404 },
        { trigger: 'http OPTIONS /v1/apps/a1', status: 204 },
        { trigger: 'http GET /console/', status: 200 },
      ),
    ).toEqual(['POST /v1/apps/a1 → 202 (not in the document)', 'GET /v1/rollouts → 200 (not in the document)']);
  });
});

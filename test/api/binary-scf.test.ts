/**
 * Images through an SCF function URL: the event carries the body as a string, so a client uploads an image
 * base64-encoded with `Content-Transfer-Encoding: base64` (README, Deploying), and the download answers with
 * `isBase64Encoded: true`. The `api` function runs behind the real shim (makeCloudHandler), on the platform's store.
 */

import { makeHandler as makeApiHandler } from '../../functions/api/handler';
import { createAccount, type Platform, pngOfWidth } from '../../infra/local/driver';
import { assetsCollection } from '../../shared/app/collections';
import * as z from '../../shared/domain/zod';
import { makeCloudHandler } from '../../shared/runtime/shim';
import { contexts, loadFixture, withFields } from '../../shared/runtime/shim/testing';
import { openServices, startApiPlatform } from './support';

let p: Platform;
beforeAll(async () => {
  p = await startApiPlatform();
});
afterAll(() => p.close());

const providerResult = z.object({
  statusCode: z.number(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  isBase64Encoded: z.boolean(),
});
const assetView = z.object({ id: z.string(), size: z.number() });

/** The observed function-URL event shape (fixtures/scf-url-observed.json), for one request. */
const urlEvent = (method: string, path: string, headers: Record<string, string>, body: string) =>
  withFields(loadFixture('scf-url-observed.json'), {
    httpMethod: method,
    path,
    headers: { ...headers, 'x-scf-request-id': `scf-${method}` },
    queryString: {},
    body,
  });

describe('an image through an SCF function URL', () => {
  it('uploaded base64-encoded with Content-Transfer-Encoding: base64, comes back byte for byte', async () => {
    const { s, close } = openServices();
    try {
      const cloud = makeCloudHandler({ http: makeApiHandler(s) });
      const created = await createAccount(p, 'Binary SCF');
      const auth = { authorization: `Bearer ${created.apiKey}` };
      // Bytes that are not UTF-8 (0x89, 0xff…): as a plain string body they could not survive.
      const image = Buffer.concat([pngOfWidth(151, 40), Buffer.from([0xff, 0xfe, 0x80, 0x00])]);

      const upload = providerResult.parse(
        await cloud(
          urlEvent(
            'POST',
            '/v1/assets',
            { ...auth, 'content-type': 'image/png', 'content-transfer-encoding': 'base64' },
            image.toString('base64'),
          ),
          contexts.scf,
        ),
      );
      expect(upload.statusCode).toBe(201);
      const asset = assetView.parse(JSON.parse(upload.body));
      expect(asset.size).toBe(image.length);

      const download = providerResult.parse(await cloud(urlEvent('GET', `/v1/assets/${asset.id}`, auth, ''), contexts.scf));
      expect(download).toMatchObject({
        statusCode: 200,
        isBase64Encoded: true,
        headers: expect.objectContaining({ 'content-type': 'image/png' }),
      });
      expect(Buffer.from(download.body, 'base64').equals(image)).toBe(true);

      // Wrapped at 76 characters as MIME tools write it: the same bytes.
      const wrapped = image.toString('base64').replace(/.{76}/g, '$&\r\n');
      const again = providerResult.parse(
        await cloud(
          urlEvent('POST', '/v1/assets', { ...auth, 'content-type': 'image/png', 'content-transfer-encoding': 'base64' }, wrapped),
          contexts.scf,
        ),
      );
      expect(assetView.parse(JSON.parse(again.body)).size).toBe(image.length);
    } finally {
      await close();
    }
  });

  it('a body declared base64 that is not is a 400 naming the body, and nothing is stored', async () => {
    const { s, close } = openServices();
    try {
      const cloud = makeCloudHandler({ http: makeApiHandler(s) });
      const created = await createAccount(p, 'Binary SCF bad');
      const event = urlEvent(
        'POST',
        '/v1/assets',
        { authorization: `Bearer ${created.apiKey}`, 'content-type': 'image/png', 'content-transfer-encoding': 'base64' },
        '\u0089PNG raw bytes',
      );
      const assets = s.store.collection(assetsCollection);
      const before = (await assets.find()).length;
      const result = providerResult.parse(await cloud(event, contexts.scf));
      expect(result.statusCode).toBe(400);
      expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'TRIGGER_EVENT_MALFORMED', field: 'body' } });
      expect(await assets.find()).toHaveLength(before);
    } finally {
      await close();
    }
  });
});

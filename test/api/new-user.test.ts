/**
 * What a new user hits (issue 12): the routes and answers a frontend written from the documents alone relies on.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { client, type Client } from '../../infra/local/driver';
import { accountIdSchema, type AccountId } from '../../shared/domain/ids';
import { errorOf, platformForFile, seedMiniProgram, uniqueAppid } from './support';

const platform = platformForFile();

const accountCreated = z.object({ account: z.object({ id: z.string() }), apiKey: z.string() });

async function newAccount(): Promise<{ id: AccountId; api: Client }> {
  const { p } = platform.current();
  const reply = await client(p.url, p.adminKey).post('/v1/accounts', { name: `Acme ${randomBytes(3).toString('hex')}` });
  const created = accountCreated.parse(reply.body);
  return { id: accountIdSchema.parse(created.account.id), api: client(p.url, created.apiKey) };
}

describe('a POST without a body', () => {
  it('unbinds (every field of the body is optional), like cancel, submit and release take none', async () => {
    const { id, api } = await newAccount();
    const appid = uniqueAppid();
    await seedMiniProgram(platform.current().s, id, appid);
    const unbound = await api.raw('POST', `/v1/mini-programs/${appid}/unbind`);
    expect(unbound.status).toBe(200);
    expect(unbound.body).toMatchObject({ appid, wasPrimary: false });
  });

  it('still says what is missing where the body has required fields', async () => {
    const { api } = await newAccount();
    const refused = await api.raw('POST', '/v1/authorizations');
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toMatchObject({ code: 'INVALID_BODY', field: 'body', message: 'body: send a JSON object' });
  });
});

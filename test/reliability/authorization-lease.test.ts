/**
 * An exchange of an auth code that outlives its lease (a slow WeChat, an instance stalled past its time): another
 * delivery of the same redirect takes the exchange over, and WeChat refuses it (61009, the code is spent). The
 * binding still went through, so the success is what is recorded and what every refresh shows.
 */
import { createAccount, redirectAfterScan } from '../../infra/local/driver';
import { completeAuthorization } from '../../shared/app/authorization/callback';
import { newMiniProgram, newSubject, type SeededPlatform, servicesWithClock, startSeededPlatform } from './support';

jest.mock('qrcode', () => jest.requireActual('./fast-qrcode'));

let p: SeededPlatform;
beforeAll(async () => {
  p = await startSeededPlatform();
}, 60_000);
afterAll(() => p?.close());

it('records the success of a lapsed exchange over the refusal of the delivery that took it over', async () => {
  const account = await createAccount(p, 'Slow WeChat');
  const primary = newMiniProgram(p.sim, newSubject());
  const redirect = await redirectAfterScan(p, account.api, { purpose: 'bind-primary' }, primary);
  const input = { authCode: redirect.searchParams.get('auth_code') ?? undefined, state: redirect.searchParams.get('state') ?? undefined };
  const slow = servicesWithClock(p.env, Date.now());
  // An instance a minute and a half later, past the first exchange's lease.
  const later = servicesWithClock(p.env, Date.now() + 90_000);
  try {
    const hold = p.sim.holdNextAnswer('/cgi-bin/component/api_query_auth');
    const first = completeAuthorization(slow.services, 'bind-primary', input);
    await hold.arrived;
    await expect(completeAuthorization(later.services, 'bind-primary', input)).resolves.toMatchObject({
      ok: false,
      code: 'AUTH_CODE_USED',
    });
    hold.release();
    await expect(first).resolves.toMatchObject({ ok: true, code: 'PRIMARY_BOUND', appid: primary });

    const refresh = await fetch(redirect, { headers: { accept: 'application/json' } });
    expect({ status: refresh.status, ...((await refresh.json()) as object) }).toMatchObject({
      status: 200,
      ok: true,
      code: 'PRIMARY_BOUND',
      appid: primary,
    });
    await expect(completeAuthorization(later.services, 'bind-primary', input)).resolves.toMatchObject({ ok: true, appid: primary });
  } finally {
    await slow.close();
    await later.close();
  }
});

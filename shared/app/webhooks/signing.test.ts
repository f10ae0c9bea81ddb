import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { deliveryBody } from '../../domain/webhooks/events';
import { isSigningSecret, newSigningSecret, signedHeaders } from './signing';

describe('Standard Webhooks signing, checked by the official library', () => {
  const body = deliveryBody({ type: 'webhook.test', occurredAt: Date.UTC(2026, 0, 1), data: { message: 'hi' } });

  it('verifies with the endpoint secret', () => {
    const secret = newSigningSecret(randomBytes);
    expect(isSigningSecret(secret)).toBe(true);
    const headers = signedHeaders([secret], 'evt_1', Date.now(), body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('during a rotation both the new and the previous secret verify; a third does not', () => {
    const [current, previous, other] = [newSigningSecret(randomBytes), newSigningSecret(randomBytes), newSigningSecret(randomBytes)];
    const headers = signedHeaders([current, previous], 'evt_2', Date.now(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(other).verify(body, { ...headers })).toThrow();
  });

  it('a changed body does not verify', () => {
    const secret = newSigningSecret(randomBytes);
    const headers = signedHeaders([secret], 'evt_3', Date.now(), body);
    expect(() => new Webhook(secret).verify(body.replace('hi', 'ho'), { ...headers })).toThrow();
  });
});

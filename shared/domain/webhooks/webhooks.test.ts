import { isIP as nodeIsIP } from 'node:net';
import { checkEndpointUrl, classifyAddress, isIP } from './addresses';
import { endpointReceives, makeEvent } from './events';
import { DISABLE_AFTER_MS, MAX_ATTEMPTS, nextAttemptDelayMs, RETRY_WINDOW_MS } from './schedule';

describe('events', () => {
  it('refuses data that does not match its type’s schema when the event is made', () => {
    expect(() =>
      makeEvent({ type: 'mini_program.needs_reauth', accountId: 'acc_a', subject: 'wx', sequence: 1, occurredAt: 1, data: {} as never }),
    ).toThrow();
  });

  it('an account endpoint hears its own account only; the platform admin hears every account', () => {
    const event = { type: 'deployment.state_changed' as const, accountId: 'acc_a' as const };
    expect(endpointReceives({ accountId: 'acc_a', eventTypes: ['deployment.state_changed'] }, event)).toBe(true);
    expect(endpointReceives({ accountId: 'acc_b', eventTypes: ['deployment.state_changed'] }, event)).toBe(false);
    expect(endpointReceives({ accountId: null, eventTypes: ['deployment.state_changed'] }, event)).toBe(true);
    expect(endpointReceives({ accountId: 'acc_a', eventTypes: ['mini_program.linked'] }, event)).toBe(false);
    expect(endpointReceives({ accountId: 'acc_a', eventTypes: ['quota.low'] }, { type: 'quota.low', accountId: null })).toBe(false);
  });
});

describe('retry schedule', () => {
  it('disables an always-failing endpoint by its last attempt however the jitter falls', () => {
    const spanOfAttempts = (random: () => number) =>
      Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => nextAttemptDelayMs(i + 1, random) ?? 0).reduce((a, b) => a + b, 0);
    // The shortest and the longest schedule both reach the disable threshold before the delivery is given up.
    expect(spanOfAttempts(() => 0)).toBeGreaterThanOrEqual(DISABLE_AFTER_MS);
    expect(spanOfAttempts(() => 0.999)).toBeGreaterThanOrEqual(DISABLE_AFTER_MS);
    expect(DISABLE_AFTER_MS).toBeGreaterThan(2 * 24 * 3_600_000);
  });

  it('retries for about three days, then gives up', () => {
    expect(RETRY_WINDOW_MS).toBeGreaterThan(2.5 * 86_400_000);
    expect(RETRY_WINDOW_MS).toBeLessThan(3.5 * 86_400_000);
    expect(nextAttemptDelayMs(MAX_ATTEMPTS, () => 0.5)).toBeNull();
  });

  it('grows exponentially, with jitter that spreads receivers coming back', () => {
    expect(nextAttemptDelayMs(1, () => 0.5)).toBe(5_000);
    expect(nextAttemptDelayMs(2, () => 0.5)).toBe(10_000);
    expect(nextAttemptDelayMs(3, () => 0)).toBe(16_000);
    expect(nextAttemptDelayMs(3, () => 0.999)).toBeGreaterThan(23_900);
  });
});

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.0.23', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['fd12::1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['not-an-ip', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('cloud mode takes https to public hosts only; local mode also http and this machine', () => {
    expect(checkEndpointUrl('https://hooks.example.com/x', 'cloud').ok).toBe(true);
    expect(checkEndpointUrl('http://hooks.example.com/x', 'cloud')).toEqual({ ok: false, reason: 'must be https' });
    expect(checkEndpointUrl('https://127.0.0.1/x', 'cloud')).toEqual({ ok: false, reason: 'must not point at a loopback address' });
    expect(checkEndpointUrl('https://[::ffff:169.254.169.254]/', 'cloud')).toEqual({
      ok: false,
      reason: 'must not point at a metadata address',
    });
    expect(checkEndpointUrl('https://localhost:8443/', 'cloud').ok).toBe(false);
    expect(checkEndpointUrl('https://u:p@hooks.example.com/', 'cloud').ok).toBe(false);
    expect(checkEndpointUrl('ftp://hooks.example.com/', 'local').ok).toBe(false);
    expect(checkEndpointUrl('http://127.0.0.1:9000/hook', 'local').ok).toBe(true);
  });
});

describe('isIP (no Node built-in in the domain) agrees with net.isIP', () => {
  it.each([
    '127.0.0.1',
    '256.0.0.1',
    '01.2.3.4',
    '::1',
    '::',
    'fe80::1%eth0',
    '::ffff:1.2.3.4',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    'g::1',
    'example.com',
    '',
    '1.2.3',
    '::ffff:1.2.3.999',
  ])('%s', (text) => {
    expect(isIP(text)).toBe(nodeIsIP(text));
  });
});

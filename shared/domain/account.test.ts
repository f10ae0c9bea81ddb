import {
  accountSchema,
  addApiKeyHash,
  bindPrimary,
  isPrimary,
  MAX_API_KEYS,
  newAccount,
  primaryOf,
  revokeApiKeyHash,
  unbindPrimary,
} from './account';

const T0 = 1_700_000_000_000;
const hash = (c: string) => c.repeat(64);
const fresh = () => newAccount({ id: 'acc_demo', name: 'Demo Co', apiKeyHash: hash('a') }, T0);

describe('accounts', () => {
  test('a new account has one key and no primary, and stores as its schema says', () => {
    const account = fresh();
    expect(accountSchema.parse(account)).toEqual(account);
    expect(account).toMatchObject({ apiKeyHashes: [hash('a')], primaryMiniProgram: null, primaryStatus: 'none' });
  });

  test('rotation: the new key is added, the oldest beyond the limit drops out, revoking removes one', () => {
    const rotated = addApiKeyHash(addApiKeyHash(fresh(), hash('b'), T0 + 1), hash('c'), T0 + 2);
    expect(rotated.apiKeyHashes).toEqual([hash('b'), hash('c')]);
    expect(rotated.apiKeyHashes).toHaveLength(MAX_API_KEYS);
    expect(revokeApiKeyHash(rotated, hash('b'), T0 + 3).apiKeyHashes).toEqual([hash('c')]);
    expect(accountSchema.safeParse(rotated).success).toBe(true);
  });

  test('bind, unbind and rebind the primary; the last primary is remembered after an unbind', () => {
    const bound = bindPrimary(fresh(), { appid: 'wx0123456789abcdef', subject: 'Demo Co' }, T0 + 1);
    expect(isPrimary(bound, 'wx0123456789abcdef')).toBe(true);
    const unbound = unbindPrimary(bound, T0 + 2, 'unbound');
    expect(unbound).toMatchObject({ primaryStatus: 'unbound', primaryMiniProgram: { appid: 'wx0123456789abcdef' } });
    expect(primaryOf(unbound)).toBeNull();
    expect(isPrimary(unbound, 'wx0123456789abcdef')).toBe(false);
    expect(unbindPrimary(unbound, T0 + 3, 'unbound')).toBe(unbound);
    expect(primaryOf(bindPrimary(unbound, { appid: 'wxfedcba9876543210', subject: 'Demo Co' }, T0 + 4))?.appid).toBe('wxfedcba9876543210');
  });
});

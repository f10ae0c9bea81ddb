import fc from 'fast-check';
import {
  accountIdSchema,
  appIdSchema,
  assetIdSchema,
  deploymentIdSchema,
  ID_BODY_LENGTH,
  idKindOf,
  newAccountId,
  newAppId,
  newAssetId,
  newDeploymentId,
  weChatAppidSchema,
  weChatUserNameSchema,
} from './ids';

const bytes = (seed: number) => (size: number) => Uint8Array.from({ length: size }, (_, i) => (seed * 31 + i * 7) % 256);

describe('ids', () => {
  test('generated ids carry their prefix, 20 unambiguous characters, and pass their own schema only', () => {
    const ids = [newAccountId(bytes(1)), newAppId(bytes(2)), newDeploymentId(bytes(3)), newAssetId(bytes(4))];
    const schemas = [accountIdSchema, appIdSchema, deploymentIdSchema, assetIdSchema];
    ids.forEach((id, i) => {
      expect(id).toMatch(new RegExp(`^(acc|app|dep|ast)_[0-9a-hjkmnp-tv-z]{${ID_BODY_LENGTH}}$`));
      schemas.forEach((schema, j) => {
        expect(schema.safeParse(id).success).toBe(i === j);
      });
    });
    expect(ids.map(idKindOf)).toEqual(['account', 'app', 'deployment', 'asset']);
  });

  test('the same random bytes give the same id (the generator is pure)', () => {
    expect(newAppId(bytes(9))).toBe(newAppId(bytes(9)));
  });

  test('any random bytes give a valid id', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: ID_BODY_LENGTH, maxLength: ID_BODY_LENGTH }),
        (b) => deploymentIdSchema.safeParse(newDeploymentId(() => b)).success,
      ),
    );
  });

  test('a short random source is a bug, not a short id', () => {
    expect(() => newAccountId(() => new Uint8Array(3))).toThrow(RangeError);
  });

  test.each(['acc_', 'acc_UPPER', 'acc-abc', 'app_abc', ' acc_abc', 'acc_abc/..'])('%j is not an account id', (value) => {
    expect(accountIdSchema.safeParse(value).success).toBe(false);
  });

  test('hand-written ids (fixtures, runbooks) are accepted', () => {
    expect(accountIdSchema.parse('acc_demo')).toBe('acc_demo');
    expect(idKindOf('xyz_demo')).toBeNull();
  });

  test.each([
    ['wx0123456789abcdef', true],
    ['wx0123456789ABCDEF', true],
    ['wx0123456789abcde', false],
    ['wx0123456789abcdef0', false],
    ['xw0123456789abcdef', false],
    ['wx0123456789abcde_', false],
  ])('WeChat appid %s → %s', (value, ok) => {
    expect(weChatAppidSchema.safeParse(value).success).toBe(ok);
  });

  test('original ids are gh_ + letters or digits', () => {
    expect(weChatUserNameSchema.safeParse('gh_97417a04a28d').success).toBe(true);
    expect(weChatUserNameSchema.safeParse('97417a04a28d').success).toBe(false);
  });
});

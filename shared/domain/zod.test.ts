import * as z from './zod';

describe('zod as this project uses it', () => {
  test('catch answers its constant for a value that does not fit, and the value when it does', () => {
    const lenient = z.catch(z.optional(z.number()), undefined);
    expect(lenient.parse(7)).toBe(7);
    expect(lenient.parse('7')).toBeUndefined();
    expect(lenient.parse(undefined)).toBeUndefined();
    const fallback = z.catch(z.string(), 'none');
    expect(fallback.parse(42)).toBe('none');
    expect(fallback.parse('x')).toBe('x');
    // A field of the wrong type in an object reads as the constant; a missing one too; the rest still validates.
    const context = z.object({ id: z.string(), memory: z.catch(z.optional(z.number()), undefined) });
    expect(context.parse({ id: 'a', memory: 'lots' })).toEqual({ id: 'a', memory: undefined });
    expect(context.parse({ id: 'a' })).toEqual({ id: 'a' });
    expect(context.safeParse({ memory: 1 }).success).toBe(false);
    // Ours, not zod/mini's (whose constant goes through `core.util`, which kept all of zod's util.js in a bundle):
    // zod tags its own constant thunk.
    expect('~constantCatch' in (lenient._zod.def.catchValue as object)).toBe(false);
  });

  test('catch given a function calls it with what was refused', () => {
    const seen: unknown[] = [];
    const schema = z.catch(z.number(), (ctx) => {
      seen.push(
        ctx.value,
        ctx.issues.map((issue) => issue.code),
      );
      return -1;
    });
    expect(schema.parse('x')).toBe(-1);
    expect(seen).toEqual(['x', ['invalid_type']]);
    expect(schema.parse(3)).toBe(3);
  });

  test('described and registered keep the schema’s validation', () => {
    const described = z.described(z.string().check(z.minLength(2)), 'two or more');
    expect(described.safeParse('ab').success).toBe(true);
    expect(described.safeParse('a').success).toBe(false);
    expect(z.globalRegistry.get(described)).toEqual({ description: 'two or more' });
  });
});

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { AppError } from '../domain/errors';
import { readImageMeta } from './images';
import { createStateSigner, InvalidStateError } from './state-token';

const png = (width: number, height: number) => {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
};
const gif = (width: number, height: number) => {
  const b = Buffer.alloc(13);
  b.write('GIF89a', 0, 'latin1');
  b.writeUInt16LE(width, 6);
  b.writeUInt16LE(height, 8);
  return b;
};
const jpeg = (width: number, height: number) =>
  Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
    Buffer.alloc(14),
    Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 255, width >> 8, width & 255, 0x03]),
    Buffer.alloc(8),
  ]);

describe('image header reader', () => {
  it('reads the width and height of PNG, GIF and JPEG', () => {
    expect(readImageMeta(png(150, 150))).toEqual({ contentType: 'image/png', width: 150, height: 150 });
    expect(readImageMeta(gif(370, 20))).toEqual({ contentType: 'image/gif', width: 370, height: 20 });
    expect(readImageMeta(jpeg(1024, 768))).toEqual({ contentType: 'image/jpeg', width: 1024, height: 768 });
  });

  it('refuses anything else with a typed 400, never a crash (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          readImageMeta(Buffer.from(bytes));
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).category).toBe('invalid');
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
        // Corrupt JPEGs: a valid start followed by garbage.
        try {
          readImageMeta(Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.from(tail)]));
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('signed authorization state', () => {
  const key = randomBytes(32);
  let now = 1_700_000_000_000;
  const signer = createStateSigner(key, () => now);

  it('round-trips account and app, and expires', () => {
    const state = signer.sign({ purpose: 'authorize-app', accountId: 'acc_1', appId: 'app_1' }, 60);
    expect(signer.verify(state)).toMatchObject({ purpose: 'authorize-app', accountId: 'acc_1', appId: 'app_1' });
    now += 61_000;
    expect(() => signer.verify(state)).toThrow(/expired/);
  });

  it('refuses a state signed with another key', () => {
    const other = createStateSigner(randomBytes(32), () => now);
    expect(() => signer.verify(other.sign({ purpose: 'bind-primary', accountId: 'acc_1', appId: null }))).toThrow(/not signed/);
  });

  it('refuses any single-character change and arbitrary input with a typed error (fast-check)', () => {
    const state = signer.sign({ purpose: 'bind-primary', accountId: 'acc_victim', appId: null });
    fc.assert(
      fc.property(fc.nat({ max: state.length - 1 }), fc.constantFrom(...'ABCxyz019-_.'), (at, c) => {
        const changed = state.slice(0, at) + c + state.slice(at + 1);
        if (changed === state) return;
        expect(() => signer.verify(changed)).toThrow(InvalidStateError);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), (junk) => {
        expect(() => signer.verify(junk)).toThrow(InvalidStateError);
      }),
      { numRuns: 2000 },
    );
  });
});

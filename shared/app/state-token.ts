/**
 * The `state` carried through WeChat's authorization redirect. WeChat hands it back untouched on the redirect to
 * our callback, so it must prove by itself who started the flow and for what: it is signed (HMAC-SHA256 under a
 * key derived from DATA_KEY), expires, and names the account and app. A forged, altered or stale state is refused.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../domain/errors';
import { accountIdSchema } from '../domain/ids';
import * as z from '../domain/zod';

const payloadSchema = /* @__PURE__ */ z.lazy(() =>
  z.object({
    purpose: z.enum(['bind-primary', 'authorize-app']),
    accountId: accountIdSchema,
    appId: z.nullable(z.string().check(z.minLength(1))),
    /** bind-primary only: the admin's consent, given before the scan, to change the account's subject. */
    force: z.optional(z.boolean()),
    /** Expiry, epoch seconds. */
    exp: z.number().check(z.int()),
    /** Makes every state unique, so a used one can be recognised. */
    nonce: z.string().check(z.minLength(8)),
  }),
);
export type StatePayload = z.infer<typeof payloadSchema>;

export class InvalidStateError extends ValidationError {
  constructor(reason: string) {
    super(`the authorization state is ${reason}; start the authorization again`, [{ path: 'query.state', message: reason }], {
      code: 'AUTH_STATE_INVALID',
    });
  }
}

export function createStateSigner(dataKey: Buffer, clock: () => number = Date.now) {
  // A key of its own, so a state signature can never be confused with any other use of DATA_KEY.
  const key = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'wxa-deploy authorization state', 32));
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();
  return {
    sign: (payload: Omit<StatePayload, 'exp' | 'nonce'>, ttlSeconds = 30 * 60): string => {
      const full: StatePayload = { ...payload, exp: Math.floor(clock() / 1000) + ttlSeconds, nonce: randomBytes(9).toString('base64url') };
      const body = Buffer.from(JSON.stringify(full)).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify: (state: string | undefined): StatePayload => {
      if (!state) throw new InvalidStateError('missing');
      const [body, signature, extra] = state.split('.');
      if (!body || !signature || extra !== undefined || state.length > 2048) throw new InvalidStateError('malformed');
      // Compare the canonical text, not decoded bytes: base64 decoders ignore the last character's spare bits,
      // so two different strings can decode to the same MAC.
      const given = Buffer.from(signature, 'utf8');
      const expected = Buffer.from(mac(body).toString('base64url'), 'utf8');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidStateError('not signed by this platform');
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        throw new InvalidStateError('malformed');
      }
      const payload = payloadSchema.safeParse(parsed);
      if (!payload.success) throw new InvalidStateError('malformed');
      if (payload.data.exp * 1000 < clock()) throw new InvalidStateError('expired');
      return payload.data;
    },
  };
}
export type StateSigner = ReturnType<typeof createStateSigner>;

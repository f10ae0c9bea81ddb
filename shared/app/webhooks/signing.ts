/**
 * Standard Webhooks 1.0 signing (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, the key
 * being the base64 bytes after `whsec_`, and `webhook-timestamp` the attempt's Unix time in seconds. During a
 * secret rotation both the new and the previous secret sign, so a receiver still holding the old one verifies.
 */
import { createHmac } from 'node:crypto';
import type { RandomBytes } from '../../domain/ids';

export const SECRET_PREFIX = 'whsec_';
/** 24 bytes (the spec allows 24–64): what Svix generates. */
const SECRET_BYTES = 24;

export const newSigningSecret = (randomBytes: RandomBytes): string =>
  `${SECRET_PREFIX}${Buffer.from(randomBytes(SECRET_BYTES)).toString('base64')}`;

export const isSigningSecret = (value: string): boolean =>
  value.startsWith(SECRET_PREFIX) && /^[A-Za-z0-9+/]+={0,2}$/.test(value.slice(SECRET_PREFIX.length));

export function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

export type SignedHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** The three headers of one attempt; `secrets` is the current one first, then a previous one still in its overlap. */
export function signedHeaders(secrets: readonly string[], id: string, at: number, body: string): SignedHeaders {
  const seconds = Math.floor(at / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': secrets.map((secret) => signatureOf(secret, id, seconds, body)).join(' '),
  };
}

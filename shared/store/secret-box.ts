/**
 * Secrets at rest (refresh tokens, access tokens, verify tickets): AES-256-GCM under DATA_KEY.
 *
 * Each sealed value is bound to *where* it is stored (the associated data, e.g. `authorizerTokens/wx…/refresh`):
 * a ciphertext copied into another account's document does not decrypt there. The format carries a version
 * so the key or algorithm can change later without guessing.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors';

const PREFIX = 'v1';

export class SealedValueError extends AppError {
  readonly code = 'SEALED_VALUE_INVALID';
  readonly category = 'internal' as const;
}

export interface SecretBox {
  seal(plaintext: string, boundTo: string): string;
  open(sealed: string, boundTo: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('DATA_KEY must be 32 bytes');
  // A short key id lets an operator see which key sealed a value without revealing anything about the key.
  const keyId = createHash('sha256').update(key).digest('base64url').slice(0, 6);
  return {
    seal: (plaintext, boundTo) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(boundTo, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [PREFIX, keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open: (sealed, boundTo) => {
      const [version, sealedKeyId, iv, tag, body, extra] = sealed.split('.');
      if (version !== PREFIX || !iv || !tag || body === undefined || extra !== undefined) {
        throw new SealedValueError(`a sealed value for ${boundTo} is malformed`);
      }
      if (sealedKeyId !== keyId) throw new SealedValueError(`a sealed value for ${boundTo} was sealed under another DATA_KEY`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(boundTo, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch (cause) {
        throw new SealedValueError(`a sealed value for ${boundTo} failed authentication`, { cause });
      }
    },
  };
}

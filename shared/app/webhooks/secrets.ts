/**
 * Endpoint secrets: sealed at rest (they must be read back to sign), bound to their endpoint so a sealed value
 * copied to another endpoint does not open there.
 */
import type { Stored } from '../../store/port';
import type { SecretBox } from '../../store/secret-box';
import type { WebhookEndpoint } from './collections';

export const secretBinding = (endpointId: string, which: 'current' | 'previous') => `webhookEndpoints/${endpointId}/${which}`;

/** The secrets that sign now: the current one, and the previous one while its overlap lasts. */
export function endpointSecrets(box: SecretBox, endpoint: Stored<WebhookEndpoint>, at: number): string[] {
  const { secret, previousSecret, previousSecretUntil } = endpoint.data;
  const secrets = [box.open(secret, secretBinding(endpoint.id, 'current'))];
  if (previousSecret !== null && previousSecretUntil !== null && at < previousSecretUntil) {
    secrets.push(box.open(previousSecret, secretBinding(endpoint.id, 'previous')));
  }
  return secrets;
}

/**
 * Identifier formats. Our own ids carry a type prefix (`acc_`, `app_`, `dep_`, `ast_`) so that a log line, a URL
 * or a support ticket says what an id is, and so that passing a deployment id where an app id belongs fails the
 * schema instead of finding nothing. The TypeScript types are template literals for the same reason.
 *
 * Generators take the random source as an argument (Node's `crypto.randomBytes` in production, a seeded one in
 * tests) so this module stays pure.
 */
import * as z from './zod';

export type RandomBytes = (size: number) => Uint8Array;

// Crockford's base32, lower case: no i, l, o, u, so an id read aloud or retyped from a screenshot survives.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
// 20 × 5 bits = 100 bits: ids cannot be guessed, so a 404 across accounts reveals nothing.
export const ID_BODY_LENGTH = 20;

export const ID_PREFIXES = { account: 'acc', app: 'app', deployment: 'dep', asset: 'ast', webhookEndpoint: 'whk', rollout: 'rol' } as const;
export type IdKind = keyof typeof ID_PREFIXES;

// Generated bodies are a strict subset: hand-written ids in fixtures and runbooks (`acc_demo`) stay valid.
const body = z.string().check(z.regex(/^[0-9a-z]{1,64}$/));

export const accountIdSchema = z.templateLiteral(['acc_', body]);
export const appIdSchema = z.templateLiteral(['app_', body]);
export const deploymentIdSchema = z.templateLiteral(['dep_', body]);
export const assetIdSchema = z.templateLiteral(['ast_', body]);
export const webhookEndpointIdSchema = z.templateLiteral(['whk_', body]);
export const rolloutIdSchema = z.templateLiteral(['rol_', body]);

export type AccountId = z.infer<typeof accountIdSchema>;
export type AppId = z.infer<typeof appIdSchema>;
export type DeploymentId = z.infer<typeof deploymentIdSchema>;
export type AssetId = z.infer<typeof assetIdSchema>;
export type RolloutId = z.infer<typeof rolloutIdSchema>;

/** A WeChat appid (mini program, plugin): `wx` + 16 letters or digits. */
export const weChatAppidSchema = z.templateLiteral(['wx', z.string().check(z.regex(/^[0-9a-zA-Z]{16}$/))]);
export type WeChatAppid = z.infer<typeof weChatAppidSchema>;

/** A mini program's original id (`user_name`), the only key audit pushes carry (`ToUserName`). */
export const weChatUserNameSchema = z.templateLiteral(['gh_', z.string().check(z.regex(/^[0-9a-zA-Z]{1,32}$/))]);
export type WeChatUserName = z.infer<typeof weChatUserNameSchema>;

/** Hex SHA-256 of an API key: keys are shown once and only their hashes are stored. */
export const sha256HexSchema = z.string().check(z.regex(/^[0-9a-f]{64}$/));

/** Epoch milliseconds. */
export const timestampSchema = z.number().check(z.int(), z.nonnegative());

const idBody = (randomBytes: RandomBytes): string => {
  const bytes = randomBytes(ID_BODY_LENGTH);
  if (bytes.length < ID_BODY_LENGTH) throw new RangeError(`random source returned ${bytes.length} bytes`);
  let out = '';
  // 256 is a multiple of 32, so masking keeps every character equally likely.
  for (let i = 0; i < ID_BODY_LENGTH; i += 1) out += ALPHABET[(bytes[i] ?? 0) & 31];
  return out;
};

export const newAccountId = (randomBytes: RandomBytes): AccountId => `acc_${idBody(randomBytes)}`;
export const newAppId = (randomBytes: RandomBytes): AppId => `app_${idBody(randomBytes)}`;
export const newDeploymentId = (randomBytes: RandomBytes): DeploymentId => `dep_${idBody(randomBytes)}`;
export const newAssetId = (randomBytes: RandomBytes): AssetId => `ast_${idBody(randomBytes)}`;
export const newRolloutId = (randomBytes: RandomBytes): RolloutId => `rol_${idBody(randomBytes)}`;
export const newWebhookEndpointId = (randomBytes: RandomBytes): `whk_${string}` => `whk_${idBody(randomBytes)}`;

/** Which kind of our ids this is, or null: lets a router answer 404 for a well-formed id of the wrong kind. */
export const idKindOf = (id: string): IdKind | null => {
  for (const [kind, prefix] of Object.entries(ID_PREFIXES) as [IdKind, string][]) {
    if (id.startsWith(`${prefix}_`) && body.safeParse(id.slice(prefix.length + 1)).success) return kind;
  }
  return null;
};

/**
 * The collections of DESIGN §3, with the domain's schemas validating every document read back. The indexes are
 * the fields the functions query by.
 */

import { accountSchema } from '../domain/account';
import { appSchema } from '../domain/app';
import { deploymentSchema } from '../domain/deployment';
import { accountIdSchema, timestampSchema } from '../domain/ids';
import { miniProgramSchema } from '../domain/mini-program';
import * as z from '../domain/zod';
import { defineCollection } from '../store/port';

export const accountsCollection = defineCollection({ name: 'accounts', schema: accountSchema });

/** Keyed by sha256(API key): the key itself is never stored; looking one up is a get by id. */
export const apiKeysCollection = defineCollection({
  name: 'apiKeys',
  schema: z.lazy(() => z.object({ accountId: accountIdSchema, createdAt: timestampSchema })),
  indexes: ['accountId'],
});

export const miniProgramsCollection = defineCollection({
  name: 'miniPrograms',
  schema: miniProgramSchema,
  indexes: ['accountId', 'linkedAppId', 'userName', 'status'],
});

export const appsCollection = defineCollection({ name: 'apps', schema: appSchema, indexes: ['accountId', 'miniProgramAppid'] });

export const deploymentsCollection = defineCollection({
  name: 'deployments',
  schema: deploymentSchema,
  indexes: ['accountId', 'appId', 'miniProgramAppid', 'state', 'nextPollAt', 'createdAt'],
});

export const assetSchema = z.object({
  accountId: accountIdSchema,
  kind: z.enum(['upload', 'qrcode']),
  contentType: z.enum(['image/png', 'image/jpeg', 'image/gif']),
  width: z.number().check(z.int(), z.positive()),
  height: z.number().check(z.int(), z.positive()),
  size: z.number().check(z.int(), z.positive()),
  /** base64: assets are small images (≤ 1 MiB); a document store keeps them next to their metadata. */
  data: z.string(),
  createdAt: timestampSchema,
});
export type Asset = z.infer<typeof assetSchema>;
export const assetsCollection = defineCollection({ name: 'assets', schema: assetSchema, indexes: ['accountId'] });

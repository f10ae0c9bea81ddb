/**
 * What an app is doing and what its owner should know, derived (never stored) from the app, its latest deployment
 * and its images: a frontend shows the app's step of the seed's flow without reading deployments itself.
 */

import { type App, type AppWarning, type AssetMeta, imageRefs, imageWarnings } from './app';
import { type Deployment, type DeploymentState, isTerminal } from './deployment';
import * as z from './zod';

/**
 * - `unlinked`: no mini program (never authorized, or lost: see linkLostReason); authorize one first.
 * - `configuring`: ready to build — no open deployment (never built, or the last one was cancelled, voided,
 *   failed for good or rolled back).
 * - `building`, `built`, `in-review` (submitting or auditing), `rejected`, `withdrawn`, `approved`, `releasing`,
 *   `failed` (retryable): the open deployment's step.
 * - `released`: the latest deployment was released and nothing newer is open.
 */
export const APP_STATUSES = [
  'unlinked',
  'configuring',
  'building',
  'built',
  'in-review',
  'rejected',
  'withdrawn',
  'approved',
  'releasing',
  'released',
  'failed',
] as const;
export const appStatusSchema = z.enum(APP_STATUSES);
export type AppStatus = z.infer<typeof appStatusSchema>;

const STATUS_OF_OPEN: Partial<Record<DeploymentState, AppStatus>> = {
  configuring: 'configuring',
  building: 'building',
  built: 'built',
  submitting: 'in-review',
  auditing: 'in-review',
  rejected: 'rejected',
  withdrawn: 'withdrawn',
  approved: 'approved',
  releasing: 'releasing',
  failed: 'failed',
};

/** The app's status from its latest deployment (the only one that can be open: one open deployment per app). */
export const appStatusOf = (app: Pick<App, 'miniProgramAppid'>, latest: Deployment | null): AppStatus => {
  if (latest && !isTerminal(latest)) return STATUS_OF_OPEN[latest.state] ?? 'configuring';
  if (app.miniProgramAppid === null) return 'unlinked';
  return latest?.state === 'released' ? 'released' : 'configuring';
};

/**
 * What is accepted but worth fixing: images wider than the template suggests, and an iot-video app whose
 * products are not linked (devices cannot be added by hand) or whose reminders name a product it is not linked to.
 */
export const appWarnings = (app: App, assets: ReadonlyMap<string, AssetMeta>): AppWarning[] => {
  if (app.kind !== 'iot-video') return [];
  const linked = new Set(app.productIds);
  const products: AppWarning[] =
    linked.size === 0
      ? [
          {
            path: 'productIds',
            code: 'NO_PRODUCT_LINKED',
            params: {},
            message:
              'no IoT Video product is linked to the app: users cannot add devices by hand in the mini program until one is (PUT /v1/apps/{appId}/products)',
          },
        ]
      : app.config.reminders.flatMap((reminder, index): AppWarning[] =>
          linked.has(reminder.defaultProductId)
            ? []
            : [
                {
                  path: `config.reminders.${index}.defaultProductId`,
                  code: 'REMINDER_PRODUCT_NOT_LINKED',
                  params: { productId: reminder.defaultProductId },
                  message: `product ${reminder.defaultProductId} is not linked to the app; link it (PUT /v1/apps/{appId}/products) or name a linked one`,
                },
              ],
        );
  return [...imageWarnings(imageRefs({ kind: 'iot-video', config: app.config }), assets), ...products];
};

/**
 * The console's route table: each call it makes, with the types of what it sends and what a success answers, all
 * taken from the schemas the routes declare (`import type`: no schema code reaches the browser). Nothing here
 * touches the DOM, so test/console/api-routes.test.ts can check the table against /openapi.json.
 */

import type { rolloutWithMembersView } from '../../functions/api/rollout-routes';
import type { authorizationBody } from '../../functions/api/routes';
import type {
  AccountView,
  AppView,
  AssetView,
  accountCreatedView,
  apiKeyView,
  authorizationView,
  DeploymentSummaryView,
  DeploymentView,
  MiniProgramView,
  quotaView,
  templateListView,
} from '../../functions/api/views';
import type { unbindMiniProgram } from '../../shared/app/deployments/unbind';
import type { Account } from '../../shared/domain/account';
import type { iotVideoConfigSchema, lowcodeConfigSchema, newAppInputSchema, ThemeColour } from '../../shared/domain/app';
import type { Deployment } from '../../shared/domain/deployment';
import type { AbortOptions, Rollout, rolloutInputSchema } from '../../shared/domain/rollout';
import type * as z from '../../shared/domain/zod';
import type { buildTriggerRoutes } from '../../shared/routes/build-trigger';
import type { unbindRoutes } from '../../shared/routes/unbind';

export type { AccountView, AppView, AssetView, DeploymentSummaryView, DeploymentView, MiniProgramView };
export type NewAppInput = z.input<typeof newAppInputSchema>;
export type IotVideoConfigInput = z.input<typeof iotVideoConfigSchema>;
export type LowcodeConfigInput = z.input<typeof lowcodeConfigSchema>;
export type Quota = z.infer<typeof quotaView>;
export type Template = z.infer<typeof templateListView>['templates'][number];
/** What a declared route accepts as its body: the schema's input, so a defaulted field may be left out. */
type BodyOf<D> = D extends { readonly body?: infer S } ? (S extends z.ZodMiniType ? z.input<S> : never) : never;
export type BuildBody = BodyOf<typeof buildTriggerRoutes.build>;
type TestersBody = BodyOf<typeof buildTriggerRoutes.testers>;
type UnbindBody = BodyOf<typeof unbindRoutes.unbind>;
/** What the unbind route answers: its handler's result. */
export type UnbindResult = Awaited<ReturnType<typeof unbindMiniProgram>>;

/** A rollout with its waves' counts, its estimated end and every member: what each rollout route answers. */
export type RolloutView = z.infer<typeof rolloutWithMembersView>;
/** A rollout as the list gives it: members per state as last counted, no members, no estimated end. */
export type RolloutSummary = Rollout;
export type RolloutInput = z.input<typeof rolloutInputSchema>;
/** What a rollout's action buttons call: `POST /v1/rollouts/{rolloutId}/<action>`, the rollout back. */
type RolloutAction = 'pauseRollout' | 'resumeRollout';

/** What a deployment's action buttons call: `POST /v1/deployments/{deploymentId}/<action>`, no body, the deployment back. */
type DeploymentAction = 'cancel' | 'retry' | 'submit' | 'undo' | 'speedup' | 'release' | 'rollback';

/** Each call the console makes: its method and path template, what it sends and what a success answers. */
export interface Endpoints
  extends Record<DeploymentAction, { body: undefined; response: Deployment }>,
    Record<RolloutAction, { body: undefined; response: RolloutView }> {
  account: { body: undefined; response: AccountView };
  accountById: { body: undefined; response: AccountView };
  createAccount: { body: Pick<Account, 'name'>; response: z.infer<typeof accountCreatedView> };
  rotateKey: { body: undefined; response: z.infer<typeof apiKeyView> };
  apps: { body: undefined; response: { apps: AppView[] } };
  app: { body: undefined; response: AppView };
  createApp: { body: NewAppInput; response: AppView };
  putConfig: { body: IotVideoConfigInput | LowcodeConfigInput; response: AppView };
  resetTheme: { body: { colours?: ThemeColour[] }; response: AppView };
  putProducts: { body: { productIds: string[] }; response: AppView };
  upload: { body: Blob; response: AssetView };
  authorize: { body: z.input<typeof authorizationBody>; response: z.infer<typeof authorizationView> };
  miniPrograms: { body: undefined; response: { miniPrograms: MiniProgramView[] } };
  unbind: { body: UnbindBody; response: UnbindResult };
  deployments: { body: undefined; response: { deployments: DeploymentSummaryView[] } };
  deployment: { body: undefined; response: DeploymentView };
  qrcode: { body: undefined; response: Blob };
  screenshot: { body: undefined; response: Blob };
  asset: { body: undefined; response: Blob };
  build: { body: BuildBody; response: Deployment };
  testers: { body: TestersBody; response: Deployment };
  templates: { body: undefined; response: z.infer<typeof templateListView> };
  quota: { body: undefined; response: Quota };
  rollouts: { body: undefined; response: { rollouts: RolloutSummary[] } };
  rollout: { body: undefined; response: RolloutView };
  createRollout: { body: RolloutInput; response: RolloutView };
  abortRollout: { body: Partial<AbortOptions>; response: RolloutView };
  retryRollout: { body: { appIds?: string[] }; response: RolloutView };
  releaseWave: { body: { wave: number }; response: RolloutView };
}
export type EndpointName = keyof Endpoints;

export const ENDPOINTS: { readonly [K in EndpointName]: `${'GET' | 'POST' | 'PUT'} /${string}` } = {
  account: 'GET /v1/account',
  accountById: 'GET /v1/accounts/{accountId}',
  createAccount: 'POST /v1/accounts',
  rotateKey: 'POST /v1/account/api-keys',
  apps: 'GET /v1/apps',
  app: 'GET /v1/apps/{appId}',
  createApp: 'POST /v1/apps',
  putConfig: 'PUT /v1/apps/{appId}/config',
  resetTheme: 'POST /v1/apps/{appId}/config/reset-theme',
  putProducts: 'PUT /v1/apps/{appId}/products',
  upload: 'POST /v1/assets',
  authorize: 'POST /v1/authorizations',
  miniPrograms: 'GET /v1/mini-programs',
  unbind: 'POST /v1/mini-programs/{appid}/unbind',
  deployments: 'GET /v1/deployments',
  deployment: 'GET /v1/deployments/{deploymentId}',
  qrcode: 'GET /v1/deployments/{deploymentId}/qrcode',
  screenshot: 'GET /v1/deployments/{deploymentId}/screenshots/{mediaId}',
  asset: 'GET /v1/assets/{assetId}',
  build: 'POST /v1/apps/{appId}/deployments',
  cancel: 'POST /v1/deployments/{deploymentId}/cancel',
  retry: 'POST /v1/deployments/{deploymentId}/retry',
  testers: 'POST /v1/deployments/{deploymentId}/testers',
  submit: 'POST /v1/deployments/{deploymentId}/submit',
  undo: 'POST /v1/deployments/{deploymentId}/undo',
  speedup: 'POST /v1/deployments/{deploymentId}/speedup',
  release: 'POST /v1/deployments/{deploymentId}/release',
  rollback: 'POST /v1/deployments/{deploymentId}/rollback',
  templates: 'GET /v1/templates',
  quota: 'GET /v1/quota',
  rollouts: 'GET /v1/rollouts',
  rollout: 'GET /v1/rollouts/{rolloutId}',
  createRollout: 'POST /v1/rollouts',
  pauseRollout: 'POST /v1/rollouts/{rolloutId}/pause',
  resumeRollout: 'POST /v1/rollouts/{rolloutId}/resume',
  abortRollout: 'POST /v1/rollouts/{rolloutId}/abort',
  retryRollout: 'POST /v1/rollouts/{rolloutId}/retry',
  releaseWave: 'POST /v1/rollouts/{rolloutId}/release-wave',
};

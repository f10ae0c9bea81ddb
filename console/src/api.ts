/**
 * The console's only way to the backend: the public HTTP API, with the key in the Authorization header and
 * nowhere else. Every request and answer type is taken from the schemas the routes declare (`import type`: no
 * schema code reaches the browser), so a route whose body or answer changes breaks the type-check here; the route
 * table below is checked against /openapi.json by test/console/api-routes.test.ts.
 */
import type { z } from 'zod';
import type { accountCreatedView, apiKeyView, AccountView, AppView, AssetView, authorizationView, DeploymentSummaryView, DeploymentView, MiniProgramView, quotaView, templateListView } from '../../functions/api/views';
import type { authorizationBody } from '../../functions/api/routes';
import type { BuildBody, TestersBody } from '../../functions/build-trigger/handler';
import type { UnbindBody, UnbindResult } from '../../functions/unbind/handler';
import type { Account } from '../../shared/domain/account';
import type { iotVideoConfigSchema, lowcodeConfigSchema, newAppInputSchema, ThemeColour } from '../../shared/domain/app';
import type { Deployment } from '../../shared/domain/deployment';

export type { AccountView, AppView, AssetView, DeploymentSummaryView, DeploymentView, MiniProgramView };
export type NewAppInput = z.input<typeof newAppInputSchema>;
export type IotVideoConfigInput = z.input<typeof iotVideoConfigSchema>;
export type LowcodeConfigInput = z.input<typeof lowcodeConfigSchema>;
export type Quota = z.infer<typeof quotaView>;
export type Template = z.infer<typeof templateListView>['templates'][number];
export type { BuildBody, UnbindResult };

/** Each call the console makes: its method and path template, what it sends and what a success answers. */
interface Endpoints {
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
  asset: { body: undefined; response: Blob };
  build: { body: BuildBody; response: Deployment };
  cancel: { body: undefined; response: Deployment };
  retry: { body: undefined; response: Deployment };
  testers: { body: TestersBody; response: Deployment };
  submit: { body: undefined; response: Deployment };
  undo: { body: undefined; response: Deployment };
  speedup: { body: undefined; response: Deployment };
  release: { body: undefined; response: Deployment };
  rollback: { body: undefined; response: Deployment };
  templates: { body: undefined; response: z.infer<typeof templateListView> };
  quota: { body: undefined; response: Quota };
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
};

/** The error envelope every route answers with (README: `{ error: { code, message, field?, issues? } }`). */
export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
  issues?: { path: string; message: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
  /** Issues by field path relative to the body (`config.mapKey`), the way the forms name their fields. */
  fieldErrors(prefix = ''): Map<string, string> {
    const errors = new Map<string, string>();
    const add = (path: string, message: string) => {
      const relative = prefix + path.replace(/^body\.?/, '');
      if (!errors.has(relative)) errors.set(relative, message);
    };
    for (const issue of this.body.issues ?? []) add(issue.path, issue.message);
    if (this.body.field && !this.body.issues?.length) add(this.body.field, this.body.message);
    return errors;
  }
}

const isErrorEnvelope = (value: unknown): value is { error: ApiErrorBody } =>
  typeof value === 'object' && value !== null && 'error' in value && typeof (value as { error: unknown }).error === 'object';

export type Query = Record<string, string | number | undefined>;

export interface ApiClient {
  call<K extends EndpointName>(
    name: K,
    options?: { params?: Record<string, string>; query?: Query; body?: Endpoints[K]['body']; contentType?: string },
  ): Promise<Endpoints[K]['response']>;
}

/** Where the API is: the page's own origin, or the one the static build was made for (`<meta name="wxa-api-base">`). */
export const apiBase = (): string =>
  document.querySelector<HTMLMetaElement>('meta[name="wxa-api-base"]')?.content.replace(/\/$/, '') ?? window.location.origin;

export function apiClient(base: string, key: string): ApiClient {
  return {
    async call<K extends EndpointName>(
      name: K,
      options: { params?: Record<string, string>; query?: Query; body?: Endpoints[K]['body']; contentType?: string } = {},
    ): Promise<Endpoints[K]['response']> {
      const [method, template] = ENDPOINTS[name].split(' ') as [string, string];
      const path = template.replace(/\{(\w+)\}/g, (_, param: string) => encodeURIComponent(options.params?.[param] ?? ''));
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) search.set(k, String(v));
      const { body } = options;
      const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'application/json' };
      let payload: BodyInit | undefined;
      if (body instanceof Blob) {
        payload = body;
        headers['content-type'] = options.contentType ?? body.type;
      } else if (body !== undefined || method === 'POST') {
        payload = JSON.stringify(body ?? {});
        headers['content-type'] = 'application/json';
      }
      const response = await fetch(`${base}${path}${search.size ? `?${search}` : ''}`, { method, headers, ...(payload ? { body: payload } : {}) });
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok) {
        const parsed: unknown = type.includes('json') ? await response.json() : undefined;
        throw new ApiError(
          response.status,
          isErrorEnvelope(parsed) ? parsed.error : { code: `HTTP_${response.status}`, message: `${response.status} ${response.statusText}` },
        );
      }
      // The answer is what the route declares (its schema is the type above); the API is ours, so it is not parsed again.
      if (type.startsWith('image/')) return (await response.blob()) as Endpoints[K]['response'];
      return (await response.json()) as Endpoints[K]['response'];
    },
  };
}

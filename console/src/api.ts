/**
 * The console's only way to the backend: the public HTTP API, with the key in the Authorization header and
 * nowhere else. Its calls and their types are the table in endpoints.ts, taken from the routes' own schemas.
 */
import { type ApiErrorBody, errorText, fieldErrorText, type T } from './api-errors';
import { ENDPOINTS, type EndpointName, type Endpoints } from './endpoints';

export type { ApiErrorBody } from './api-errors';
export * from './endpoints';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
  /**
   * Issues by field path relative to the body (`config.mapKey`), the way the forms name their fields, each said in
   * the reader's language (api-errors.ts).
   */
  fieldErrors(t: T, prefix = ''): Map<string, string> {
    const errors = new Map<string, string>();
    const add = (path: string, message: (relative: string) => string) => {
      const relative = prefix + path.replace(/^body\.?/, '');
      if (!errors.has(relative)) errors.set(relative, message(relative));
    };
    for (const issue of this.body.issues ?? []) add(issue.path, (relative) => fieldErrorText(t, relative, issue.message));
    if (this.body.field && !this.body.issues?.length) add(this.body.field, () => errorText(t, this.body));
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

/** `onUnauthenticated`: the key was refused (401: rotated out, or never valid); the caller signs the tab out. */
export function apiClient(base: string, key: string, onUnauthenticated: () => void = () => undefined): ApiClient {
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
      const response = await fetch(`${base}${path}${search.size ? `?${search}` : ''}`, {
        method,
        headers,
        ...(payload ? { body: payload } : {}),
      });
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok) {
        if (response.status === 401) onUnauthenticated();
        const parsed: unknown = type.includes('json') ? await response.json() : undefined;
        throw new ApiError(
          response.status,
          isErrorEnvelope(parsed)
            ? parsed.error
            : { code: `HTTP_${response.status}`, message: `${response.status} ${response.statusText}` },
        );
      }
      // The answer is what the route declares (its schema is the type above); the API is ours, so it is not parsed again.
      if (type.startsWith('image/')) return (await response.blob()) as Endpoints[K]['response'];
      return (await response.json()) as Endpoints[K]['response'];
    },
  };
}

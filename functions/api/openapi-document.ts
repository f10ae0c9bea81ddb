/**
 * The OpenAPI document `GET /openapi.json` serves, generated from the route declarations of every function by
 * zod's JSON-schema generator (shared/runtime/http/openapi.ts). From source it is generated on first use; the api
 * bundle carries neither this module nor the generator (~37 KB): the build generates the document (scripts/build.ts)
 * and writes it next to the bundle as `OPENAPI_FILE`, which `servedOpenApiDocument` (routes.ts) reads.
 */
import { webhookDocs } from '../../shared/domain/webhooks/events';
import { DOCUMENTED_FUNCTIONS } from '../../shared/routes';
import { type OpenApiDocument, openApiDocument } from '../../shared/runtime/http/openapi';
import type { AnyRoute } from '../../shared/runtime/http/route';

export const API_DESCRIPTION =
  'wxa-deploy publishes WeChat mini programs for many accounts as a WeChat third-party platform. Frontend routes take an ' +
  "account API key and only ever see that account's data (another account's id answers 404); admin routes take the " +
  'platform admin key. Every POST honours Idempotency-Key. Errors answer `{ error: { code, message, field?, issues? } }`.';

/** The document of every function, `own` being the api's routes, served from `publicBaseUrl`. */
export function generateOpenApiDocument(own: readonly AnyRoute[], publicBaseUrl: string): OpenApiDocument {
  return openApiDocument(
    [
      {
        name: 'api',
        routes: own,
        description: 'Frontend reads and setup: accounts, apps, assets, authorizations, mini programs, deployments',
      },
      ...DOCUMENTED_FUNCTIONS,
    ],
    {
      title: 'wxa-deploy',
      version: '1.0.0',
      description: API_DESCRIPTION,
      servers: [{ url: publicBaseUrl }],
      webhooks: webhookDocs(),
    },
  );
}

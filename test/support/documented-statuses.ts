/**
 * Checks the answers a test run got against the OpenAPI document: every status a route answered must be one the
 * document lists for that route (its declared success status, or the 4XX/5XX error ranges). Reads what the local
 * runtime recorded of each request, so a suite checks everything it did by calling this in `afterEach`.
 */

import type { Platform } from '../../infra/local/driver';
import * as z from '../../shared/domain/zod';
import { compilePath } from '../../shared/runtime/http/route';

const documentSchema = z.object({
  paths: z.record(z.string(), z.record(z.string(), z.object({ responses: z.record(z.string(), z.unknown()) }))),
});

/** The answers whose status the document does not list for their route, as `METHOD path → status (listed: …)`. */
export async function undocumentedAnswers(p: Pick<Platform, 'url' | 'stack'>): Promise<string[]> {
  const document = documentSchema.parse(await (await fetch(`${p.url}/openapi.json`)).json());
  const templates = Object.entries(document.paths).map(([path, operations]) => ({ pattern: compilePath(path).pattern, operations }));
  const problems = new Set<string>();
  for (const invocation of p.stack.runtime.invocations) {
    const http = /^http (\S+) (\S+)$/.exec(invocation.trigger);
    if (!http || typeof invocation.status !== 'number') continue;
    const [, method = '', path = ''] = http;
    // HEAD is answered from GET; OPTIONS (CORS) and paths no route serves are not the document's to list.
    const operationName = method === 'HEAD' ? 'get' : method.toLowerCase();
    const operation = templates.find((t) => t.pattern.test(path))?.operations[operationName];
    if (!operation) {
      // An API path the document has no operation for is a gap in the document, unless the answer says so itself.
      if (method !== 'OPTIONS' && path.startsWith('/v1/') && invocation.status !== 404 && invocation.status !== 405) {
        problems.add(`${method} ${path} → ${invocation.status} (not in the document)`);
      }
      continue;
    }
    const listed = Object.keys(operation.responses);
    const status = invocation.status;
    if (!listed.includes(String(status)) && !listed.includes(`${Math.floor(status / 100)}XX`)) {
      problems.add(`${method} ${path} → ${status} (listed: ${listed.join(', ')})`);
    }
  }
  return [...problems];
}

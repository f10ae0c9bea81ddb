/**
 * The console calls only the public API: every call in its table (console/src/api.ts) is a route /openapi.json
 * documents, with the key the console signs in with. The request and answer types are checked by tsc (they are the
 * routes' own schemas); this checks the methods and paths, which a type cannot see.
 */

import { ENDPOINTS } from '../../console/src/endpoints';
import { type Platform, startPlatform } from '../../infra/local/driver';
import * as z from '../../shared/domain/zod';

let p: Platform;
let documented: Map<string, string>;

beforeAll(async () => {
  p = await startPlatform();
  const document = z
    .object({ paths: z.record(z.string(), z.record(z.string(), z.catchall(z.object({ 'x-auth': z.string() }), z.unknown()))) })
    .parse(await (await fetch(`${p.url}/openapi.json`)).json());
  documented = new Map(
    Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op['x-auth']] as const),
    ),
  );
});
afterAll(() => p.close());

describe('the console’s API calls', () => {
  it.each(Object.entries(ENDPOINTS))('%s (%s) is a documented route', (name, endpoint) => {
    expect(documented.has(endpoint)).toBe(true);
    // The admin view uses the admin key on admin routes only; everything else is an account's.
    expect(documented.get(endpoint)).toBe(name === 'createAccount' || name === 'accountById' ? 'admin' : 'account');
  });
});

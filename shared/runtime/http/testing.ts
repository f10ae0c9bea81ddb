/** For the HTTP stack's tests (and the shim's, which wrap it). */
import { createLogger } from '../logger';
import { createHttpFunction, type HttpFunctionOptions } from './stack';

/** An HTTP function named `test` taking 1 KiB bodies and no CORS origins unless told, its log lines kept in `lines`. */
export function capturedHttpFunction(options: Partial<HttpFunctionOptions> & Pick<HttpFunctionOptions, 'routes'>) {
  const lines: string[] = [];
  const handler = createHttpFunction({
    name: 'test',
    log: createLogger({ sink: (line) => lines.push(line) }),
    maxBodyBytes: 1024,
    corsOrigins: [],
    ...options,
  });
  return { handler, lines };
}

/**
 * Non-canonical request paths are refused, never normalised. `/v1\account`, `/v1/apps/../account` and
 * `/v1/apps/%2e%2e/account` all name `/v1/account` once a URL parser has resolved them, but a gateway, a WAF rule or
 * a log reader sees the path as sent: serving the resolved one would let a request pass as another path than the
 * one it reaches. So a path is served only as written, and one that any layer would read differently is a 404.
 */
import { NotFoundError } from '../../domain/errors';

/** Dot segments spelled with an encoded dot (the literal ones are `decodedPathProblem`'s): URL parsers resolve them too. */
const ENCODED_DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
/** A separator the client encoded: the decoded path would have more segments than the one a gateway routed. */
const ENCODED_SEPARATOR = /%2f|%5c/i;

/**
 * Why the path as sent (still percent-encoded, without the query) is not canonical, or null when it is: a backslash,
 * a dot segment (literal or encoded), an encoded `/` or `\`, or anything a URL parser would rewrite.
 */
export function rawPathProblem(rawPath: string): string | null {
  const literal = decodedPathProblem(rawPath);
  if (literal) return literal;
  if (rawPath.split('/').some((segment) => ENCODED_DOT_SEGMENT.test(segment))) return 'it contains a dot segment';
  if (ENCODED_SEPARATOR.test(rawPath)) return 'it contains an encoded / or \\';
  let resolved: string;
  try {
    resolved = new URL(`http://canonical.invalid${rawPath}`).pathname;
  } catch {
    return 'it is not a valid path';
  }
  return resolved === rawPath ? null : 'a URL parser would rewrite it';
}

/**
 * The same question for a path a provider's gateway has already percent-decoded (what every shim hands the
 * function): a backslash or a dot segment there means the gateway passed on a path it did not resolve.
 */
export function decodedPathProblem(path: string): string | null {
  if (path.includes('\\')) return 'it contains a backslash';
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return 'it contains a dot segment';
  return null;
}

export class NonCanonicalPathError extends NotFoundError {
  constructor(problem: string) {
    super(`the request path is not canonical (${problem}); nothing is served at it`, { code: 'PATH_NOT_CANONICAL', field: 'path' });
  }
}

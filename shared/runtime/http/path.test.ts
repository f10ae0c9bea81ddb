import { decodedPathProblem, rawPathProblem } from './path';

describe('canonical request paths', () => {
  it.each([
    ['/v1\\account', 'backslash'],
    ['/v1/apps/../account', 'dot segment'],
    ['/v1/apps/%2e%2e/account', 'dot segment'],
    ['/v1/apps/%2E%2e/account', 'dot segment'],
    ['/v1/apps/.%2e/account', 'dot segment'],
    ['/v1/./account', 'dot segment'],
    ['/v1/apps/..', 'dot segment'],
    ['/v1/apps%2F..%2Faccount', 'encoded'],
    ['/v1/apps/a%5cb', 'encoded'],
    ['/v1/apps/{x}', 'rewrite'],
  ])('refuses %s as sent (%s)', (path, reason) => {
    expect(rawPathProblem(path)).toMatch(new RegExp(reason.replace('rewrite', 'rewrite it')));
  });

  it.each([
    ['/v1/account'],
    ['/v1/apps/app_1/config'],
    ['/v1/apps/app_%20x'],
    ['/v1/mini-programs/%25'],
    ['/'],
    ['/v1/apps/...'],
    ['/v1/apps/.hidden'],
  ])('takes %s as sent', (path) => {
    expect(rawPathProblem(path)).toBeNull();
  });

  it('refuses a decoded path that still holds a backslash or a dot segment, whatever gateway passed it on', () => {
    expect(decodedPathProblem('/v1\\account')).toMatch(/backslash/);
    expect(decodedPathProblem('/v1/apps/../account')).toMatch(/dot segment/);
    expect(decodedPathProblem('/v1/./account')).toMatch(/dot segment/);
    expect(decodedPathProblem('/v1/apps/app_1/config')).toBeNull();
    expect(decodedPathProblem('/v1/apps/...')).toBeNull();
  });
});

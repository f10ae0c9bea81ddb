// Layer rules the build enforces (`npm test`, `npm run lint`, run by scripts/check-layers.mjs), in the manner of
// domain-driven-hexagon's `.dependency-cruiser.js`. The layers, inner to outer: shared/domain → shared/store →
// shared/runtime → shared/wechat → shared/app → shared/routes → functions/<name>. A layer imports only layers inside
// it; infra/, scripts/ and bench/ sit outside all of them. README "Layout" says the same in prose.

/**
 * Test files and the store contract suite. Only the two rules about production code skip them (the domain's
 * dependencies, where tests also use fast-check; importing test/); every layer rule and no-circular hold for tests too.
 */
const TESTS = ['\\.test\\.ts$', '\\.contract\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-imports-nothing-of-ours',
      comment: 'shared/domain is pure: entities, the state machine and rules depend on no other folder of this project.',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: { path: '^(shared|functions|infra|scripts|bench|test)/', pathNot: '^shared/domain/' },
    },
    {
      name: 'domain-needs-only-zod',
      comment: 'Production domain code uses zod and nothing else outside itself, not even node built-ins (tests may use fast-check).',
      severity: 'error',
      from: { path: '^shared/domain/', pathNot: TESTS },
      // (^|/): node_modules may be a symlink, which the checker resolves to its real path.
      to: { dependencyTypesNot: ['local'], pathNot: '(^|/)node_modules/zod/' },
    },
    {
      name: 'store-below-runtime-wechat-app',
      comment: 'shared/store is given what it needs (config, logger); it imports neither runtime, wechat nor app.',
      severity: 'error',
      from: { path: '^shared/store/' },
      to: { path: '^shared/(runtime|wechat|app|routes)/' },
    },
    {
      name: 'runtime-below-wechat-app',
      comment: 'shared/runtime (config, logger, HTTP stack) knows nothing of WeChat or the use cases.',
      severity: 'error',
      from: { path: '^shared/runtime/' },
      to: { path: '^shared/(wechat|app|routes)/' },
    },
    {
      name: 'wechat-below-app',
      comment: 'shared/wechat (crypto, client, tokens, receiver) does not call the use cases; the app layer calls it.',
      severity: 'error',
      from: { path: '^shared/wechat/' },
      to: { path: '^shared/(app|routes)/' },
    },
    {
      name: 'app-below-routes',
      comment: 'shared/app (the use cases) does not know the HTTP routes that expose it.',
      severity: 'error',
      from: { path: '^shared/app/' },
      to: { path: '^shared/routes/' },
    },
    {
      name: 'shared-below-functions',
      comment: 'Nothing in shared/ knows the functions that compose it.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^functions/' },
    },
    {
      name: 'function-imports-no-other-function',
      comment: 'Each functions/<name>/ is bundled on its own; what two functions share lives in shared/.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/', pathNot: '^functions/$1/' },
    },
    {
      name: 'production-imports-no-test',
      comment: 'Only tests import the test world (test/); scripts/, bench/ and production code do not.',
      severity: 'error',
      from: { path: '^(shared|functions|infra|scripts|bench)/', pathNot: TESTS },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles: a cycle makes two modules one, and its load order an accident.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the checker cannot resolve would escape every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are layering too: a type from an outer layer couples an inner one to it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json', '.d.ts'],
    },
    cache: false,
  },
};

// Layer rules the build enforces (`npm test`, `npm run lint`, run by scripts/check-layers.mjs), in the manner of
// domain-driven-hexagon's `.dependency-cruiser.js`. The layers, inner to outer: shared/domain → shared/store →
// shared/runtime → shared/wechat → shared/app → shared/routes → functions/<name>. A layer imports only layers inside
// it; infra/, scripts/ and bench/ sit outside all of them. README "Layout" says the same in prose.

/**
 * Test files and the store contract suite. Only the two rules about production code skip them (the domain's
 * dependencies, where tests also use fast-check; importing test/); every layer rule and no-circular hold for tests too.
 */
const TESTS = ['\\.test\\.ts$', '\\.contract\\.ts$'];

/** The folders of shared/, inner to outer, and what each is for (the rules' comments). */
const LAYERS = [
  ['domain', 'entities, the state machine, rules'],
  ['store', 'the document store port and adapters: given its config and logger'],
  ['runtime', 'config, logger, the HTTP stack: knows nothing of WeChat'],
  ['wechat', 'crypto, client, tokens, push receiver'],
  ['app', 'the use cases'],
  ['routes', 'route declarations that functions bind and the OpenAPI document reads'],
];

/** One rule per layer: it imports no layer outside it, nor any function (the domain has a stricter rule below). */
const layerRules = LAYERS.map(([layer, role], index) => ({
  name: `${layer}-imports-no-outer-layer`,
  comment: `shared/${layer} (${role}) imports only the layers inside it.`,
  severity: 'error',
  from: { path: `^shared/${layer}/` },
  to: { path: [...LAYERS.slice(index + 1).map(([outer]) => `^shared/${outer}/`), '^functions/'] },
})).slice(1);

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
      name: 'zod-only-through-shared-domain-zod',
      comment:
        'zod is imported from shared/domain/zod.ts: zod/mini, which bundles tree-shake, with its English messages configured (classic zod bundled 173 KB into every function).',
      severity: 'error',
      from: { pathNot: '^shared/domain/zod\\.ts$' },
      to: { path: '(^|/)node_modules/zod/' },
    },
    ...layerRules,
    {
      name: 'function-imports-no-other-function',
      comment: 'Each functions/<name>/ is bundled on its own; what two functions share lives in shared/.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/', pathNot: '^functions/$1/' },
    },
    {
      name: 'production-imports-no-tooling',
      comment: 'What is deployed (shared/, functions/) does not import the local runtime, the simulator, scripts or benches.',
      severity: 'error',
      from: { path: '^(shared|functions)/', pathNot: TESTS },
      to: { path: '^(infra|scripts|bench)/' },
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

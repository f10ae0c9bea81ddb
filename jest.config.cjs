/** Type checking is done by `tsc --noEmit` in `npm test`; swc only strips types so the suite stays fast. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/functions', '<rootDir>/shared', '<rootDir>/infra', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': [
      '@swc/jest',
      {
        jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
        module: { type: 'commonjs' },
      },
    ],
  },
  // middy ships ESM only: let swc turn it into CommonJS like everything else.
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  // A guard against a hung test, not a speed limit: a CI machine shared with other jobs can run a test ten times
  // slower than a quiet one, and a test's outcome must not depend on that (no test sets a shorter one).
  testTimeout: 600_000,
};

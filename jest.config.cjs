/** Type checking is done by `tsc --noEmit` in `npm test`; swc only strips types so the suite stays fast. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/functions', '<rootDir>/shared', '<rootDir>/infra', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['@swc/jest', {
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
      module: { type: 'commonjs' },
    }],
  },
  // middy ships ESM only: let swc turn it into CommonJS like everything else.
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  testTimeout: 30000,
};

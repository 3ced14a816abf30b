/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': "ts-jest" },
  // adaptivecards' package "main" does not load under require(); its UMD bundle does.
  // strip-bom (used by @microsoft/app-manifest) is ESM only; Jest on Node 20 cannot require() it.
  moduleNameMapper: { '^adaptivecards$': 'adaptivecards/dist/adaptivecards.js', '^strip-bom$': '<rootDir>/test/support/strip-bom.cjs' },
  testTimeout: 30000,
  // Most suites wait on sockets and child processes: two workers keep both cores busy.
  maxWorkers: 2,
};

/**
 * One jest run, one summary, two projects:
 * - `suite`: units, integration tests against the simulator, and end-to-end tests through the real
 *   terraform, pulumi and docker-registry peers;
 * - `pulumi-unit`: Pulumi's setMocks tests, kept apart because setMocks replaces the runtime's
 *   process-global monitor (jest.pulumi-unit.config.js runs them alone).
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Built peers and packaging output are not the project's modules: .cache holds whole checkouts
  // (pulumi's, with test packages named like real ones) that would confuse module resolution.
  modulePathIgnorePatterns: ['<rootDir>/.cache/', '<rootDir>/dist/', '<rootDir>/release/'],
  testTimeout: 60000,
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...shared, displayName: 'suite', testMatch: ['<rootDir>/test/**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/pulumi-unit/'] },
    { ...shared, displayName: 'pulumi-unit', testMatch: ['<rootDir>/test/pulumi-unit/**/*.test.ts'] },
  ],
  testTimeout: 60000,
  // Two cores: more workers only thrash the simulators the integration tests start.
  maxWorkers: 2,
  globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
};

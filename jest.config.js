/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
  // Two cores: more workers only thrash the simulators the integration tests start.
  maxWorkers: 2,
  globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
};

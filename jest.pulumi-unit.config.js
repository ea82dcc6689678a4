/**
 * The Pulumi unit tests run in their own jest project: `pulumi.runtime.setMocks` replaces the
 * runtime's process-global monitor, which would leak into every other test in the same worker
 * (Pulumi runs its own mock tests in a separate process for the same reason).
 * Run: npx jest -c jest.pulumi-unit.config.js
 */
const { shared: base } = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: base.testEnvironment,
  transform: base.transform,
  moduleFileExtensions: base.moduleFileExtensions,
  testMatch: ['<rootDir>/test/pulumi-unit/**/*.test.ts'],
  testTimeout: 30000,
  maxWorkers: 1,
};

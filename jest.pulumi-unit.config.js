/**
 * The Pulumi setMocks unit tests alone (`npx jest -c jest.pulumi-unit.config.js`): the same project
 * that jest.config.js runs within the whole suite, in one worker.
 */
const { projects, testTimeout } = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = { ...projects.find((p) => p.displayName === 'pulumi-unit'), testTimeout, maxWorkers: 1 };

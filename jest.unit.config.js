/**
 * `npm run test:unit`: the fast tests beside the full suite (`npm test`). Pure logic only (codecs,
 * diff, schema mapping, validators, generators, the lint rules): no setup, and no simulator,
 * registry, terraform, pulumi or QEMU. A test belongs on this list when it starts none of them.
 */
const { projects, testTimeout } = require('./jest.config');

const UNIT = [
  'test/unit/**/*.test.ts',
  'test/lint/*.test.ts',
  'test/cli/{spec,plan-view,state-file,state-file-migration,docs}.test.ts',
  'test/provider/{codec,schema,provider-rpcs,destroy-run}.test.ts',
  'test/images/{flatten,naming}.test.ts',
  'test/cdktf/bindings-current.test.ts',
  'test/pulumi/native-provider.test.ts',
];

const suite = projects.find((p) => p.displayName === 'suite');
const pulumiUnit = projects.find((p) => p.displayName === 'pulumi-unit');

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...suite, displayName: 'unit', testMatch: UNIT.map((glob) => `<rootDir>/${glob}`) },
    // The Pulumi setMocks tests, without the one that starts fresh node processes to watch loading.
    { ...pulumiUnit, testPathIgnorePatterns: ['/node_modules/', '/lazy-loading\\.test\\.ts$'] },
  ],
  testTimeout,
  maxWorkers: 2,
};

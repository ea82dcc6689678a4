/**
 * The layering rules of eslint.config.mjs (docs/architecture.md) fire on the imports they forbid and
 * stay quiet on the ones the layering allows. Each case lints a few lines of source as if they were
 * a file in the folder under test (ESLint's lintText with a virtual path), so no fixture file ever
 * sits in src/ where it would break the real lint run. The type-aware rules need a file tsconfig
 * compiles, which a virtual one is not: they are off here, the layering rules do not need types.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const LAYERING = ['no-restricted-imports', 'no-restricted-syntax'];

// Jest's module sandbox cannot import() eslint.config.mjs: ESLint's Node API runs in a child process.
const LINT = `
const { ESLint } = require('eslint');
const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
});
(async () => {
  const out = [];
  for (const [file, source] of cases) out.push((await eslint.lintText(source, { filePath: require('node:path').join(process.cwd(), file) }))[0].messages);
  process.stdout.write(JSON.stringify(out));
})();`;

interface LintMessage {
  readonly ruleId: string | null;
  readonly message: string;
  readonly fatal?: boolean;
}

/** Lints each [file, source] as if the source were that file; the layering rules' messages per case. */
function layeringMessages(cases: readonly (readonly [string, string])[]): string[][] {
  const results = JSON.parse(execFileSync(process.execPath, ['-e', LINT], { cwd: ROOT, input: JSON.stringify(cases), encoding: 'utf8' })) as LintMessage[][];
  return results.map((messages, i) => {
    const fatal = messages.filter((m) => m.fatal);
    if (fatal.length > 0) throw new Error(`${cases[i][0]} did not parse: ${fatal.map((m) => m.message).join('; ')}`);
    return messages.filter((m) => LAYERING.includes(m.ruleId ?? '')).map((m) => m.message);
  });
}

const FORBIDDEN: readonly (readonly [string, string, RegExp])[] = [
  ['src/vsphere/x.ts', "import { declarations } from '../resources';", /src\/vsphere imports nothing above it/],
  ['src/vsphere/x.ts', "import type { Engine } from '../engine/types';", /src\/vsphere imports nothing above it/],
  ['src/vsphere/x.ts', "export { parseImageReference } from '../images/reference';", /src\/vsphere imports nothing above it/],
  ['src/vsphere/x.ts', "import { declarations } from '..';", /src\/vsphere imports nothing above it/],
  ['src/vsphere/x.ts', "export const load = () => import('../engine');", /src\/vsphere imports nothing above it/],
  ['src/images/x.ts', "import { image } from '../resources/image';", /src\/images imports nothing above it/],
  ['src/resources/x.ts', "import { planStack } from '../engine';", /src\/resources imports nothing above it/],
  ['src/resources/x.ts', "import { diffResource } from '../engine/diff';", /src\/resources imports nothing above it/],
  [
    'src/resources/x.ts',
    "// eslint-disable-next-line @typescript-eslint/no-require-imports\nexport const e = require('../engine/stack');",
    /src\/resources imports nothing above it/,
  ],
  ['src/engine/x.ts', "import { readState } from '../cli/state-file';", /src\/engine imports nothing above it/],
  ['src/engine/x.ts', "import { VicProvider } from '../../provider/provider';", /know nothing of the front ends/],
  ['provider/x.ts', "import type { ReadRequest } from '../src/engine/types';", /only through their public indexes/],
  ['provider/x.ts', "import { sameValue } from '../src/engine/diff';", /only through their public indexes/],
  ['provider/x.ts', "import { VimClient } from '../src/vsphere';", /never talk to vSphere/],
  ['pulumi-component/x.ts', "import { lifecycles } from '../src/resources/lifecycle-registry';", /only through their public indexes/],
  ['src/cli/x.ts', "import { planStack } from '../engine/stack';", /only through their public indexes/],
  ['src/cli/x.ts', "export const load = () => import('../engine/stack');", /only through their public indexes/],
  ['src/cli/x.ts', "import { buildImage } from '../images';", /never talk to vSphere or the image pipeline/],
  ['src/endpoint/x.ts', "import { parseImageReference } from '../images/reference';", /never talk to vSphere or the image pipeline/],
  ['src/endpoint/x.ts', "import { takeSnapshot } from '../resources/snapshot';", /only through their public indexes/],
  ['src/index.ts', "export { startSimulator } from './sim/simulator';", /holds no test tools/],
];

const ALLOWED: readonly (readonly [string, string])[] = [
  ['src/vsphere/x.ts', "import { parseXml } from './xml';"],
  ['src/images/x.ts', "import type { VimClient } from '../vsphere';"],
  ['src/resources/x.ts', "import { retrieveObject } from '../vsphere/property-collector';"],
  ['src/engine/x.ts', "import { lifecycles } from '../resources/lifecycle-registry';"],
  ['provider/x.ts', "import { sameValue, type Engine } from '../src/engine';\nimport { declarations } from '../src/resources';"],
  ['pulumi-component/x.ts', "import { containerVm } from '../src/resources';\nimport { ContainerVm } from './resources';"],
  ['src/cli/x.ts', "import { planStack } from '../engine';\nexport const load = () => import('../engine');\nimport { findPeer } from '../sim/peers';"],
  ['src/endpoint/x.ts', "import type { Engine } from '../engine';\nimport { parseImageReference } from '../resources';"],
  ['test/x.ts', "import { VsphereEngine } from '../src/engine/engine';"],
];

let forbidden: string[][];
let allowed: string[][];
beforeAll(() => {
  const all = layeringMessages([...FORBIDDEN.map(([file, source]) => [file, source] as const), ...ALLOWED]);
  forbidden = all.slice(0, FORBIDDEN.length);
  allowed = all.slice(FORBIDDEN.length);
}, 60_000);

describe('GIVEN an import that points up or past a public index', () => {
  it.each(FORBIDDEN.map((c, i) => [...c, i] as const))('WHEN %s has %s THEN lint fails with the layering rule', (_file, _source, message, i) => {
    expect(forbidden[i]).toHaveLength(1);
    expect(forbidden[i][0]).toMatch(message);
    expect(forbidden[i][0]).toContain('docs/architecture.md');
  });
});

describe('GIVEN an import the layering allows', () => {
  it.each(ALLOWED.map((c, i) => [...c, i] as const))('WHEN %s has %s THEN the layering rules say nothing', (_file, _source, i) => {
    expect(allowed[i]).toEqual([]);
  });
});

/**
 * CDKTF was archived upstream in December 2025; its community fork is CDK Terrain, npm package
 * `cdktn`. The bindings import `cdktf`. These tests compile examples/cdktf with the committed
 * bindings three ways and synthesize it (no network: every package comes from our node_modules):
 * - `cdktf` is cdktf 0.21.0 (the reference);
 * - `cdktf` is cdktn 0.24.0, as `npm install cdktf@npm:cdktn@0.24.0` installs it: same JSON;
 * - the program uses cdktn while the bindings use cdktf 0.21.0: synth fails (two libraries).
 * docs/cdktf.md states the same.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = join(__dirname, '../..');
const MODULES = join(REPO, 'node_modules');

interface Project {
  /** What `import ... from 'cdktf'` resolves to inside the project (the bindings' import). */
  readonly cdktf: 'cdktf' | 'cdktn';
  /** The library the program itself imports its App and TerraformStack from. */
  readonly programLibrary: 'cdktf' | 'cdktn';
}

async function node(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
}

/** Compiles examples/cdktf against the committed bindings in a scratch project, then synthesizes it. */
async function synthesize(scratch: string, name: string, project: Project): Promise<Record<string, unknown>> {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(join(MODULES, project.cdktf), join(dir, 'node_modules', 'cdktf'));
  symlinkSync(join(MODULES, 'cdktn'), join(dir, 'node_modules', 'cdktn'));
  symlinkSync(join(MODULES, 'constructs'), join(dir, 'node_modules', 'constructs'));
  symlinkSync(join(MODULES, '@types'), join(dir, 'node_modules', '@types'));
  for (const entry of readdirSync(join(REPO, 'cdktf'), { withFileTypes: true })) {
    if (entry.isDirectory() || entry.name === 'index.ts') cpSync(join(REPO, 'cdktf', entry.name), join(dir, 'vic', entry.name), { recursive: true });
  }
  const program = readFileSync(join(REPO, 'examples/cdktf/main.ts'), 'utf8')
    .replace(`from 'vic-iac/cdktf'`, `from './vic'`)
    .replace(`from 'cdktf'`, `from '${project.programLibrary}'`);
  writeFileSync(join(dir, 'main.ts'), program);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noImplicitOverride: true,
        target: 'ES2022',
        module: 'commonjs',
        moduleResolution: 'node',
        skipLibCheck: true,
        types: ['node'],
        outDir: 'out',
      },
      files: ['main.ts'],
    }),
  );
  await node([join(MODULES, 'typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
  await node(['out/main.js'], dir, { CDKTF_OUTDIR: join(dir, 'synth') });
  const stack = JSON.parse(readFileSync(join(dir, 'synth/stacks/vic-example/cdk.tf.json'), 'utf8')) as {
    '//': { metadata: Record<string, unknown> };
    terraform: { backend: { local: Record<string, unknown> } };
  };
  // Only the library version and the local state path may differ between runs and libraries.
  delete stack['//'].metadata.version;
  delete stack.terraform.backend.local.path;
  return stack;
}

describe('the bindings with CDK Terrain (cdktn), the community fork of CDKTF', () => {
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'vic-cdktn-'));
  });

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('GIVEN cdktn installed under the name cdktf WHEN the example compiles (strict) and synthesizes THEN the JSON equals the one cdktf 0.21.0 makes', async () => {
    const reference = await synthesize(scratch, 'reference', { cdktf: 'cdktf', programLibrary: 'cdktf' });
    const fork = await synthesize(scratch, 'aliased', { cdktf: 'cdktn', programLibrary: 'cdktf' });
    expect(reference).toHaveProperty('resource.vic_container_vm.web.image_id', '${vic_image.app.id}');
    expect(fork).toEqual(reference);
  }, 120_000);

  it('GIVEN a program on cdktn and the bindings on cdktf 0.21.0 WHEN synthesized THEN it fails: the two libraries do not mix', async () => {
    await expect(synthesize(scratch, 'mixed', { cdktf: 'cdktf', programLibrary: 'cdktn' })).rejects.toThrow(
      /_resetResolveDiscoveredProviderFeatureUsage is not a function/,
    );
  }, 120_000);
});

/**
 * examples/cdktf as a user runs it: the program type-checks against `vic-iac/cdktf` (installed with
 * the package's exports map), synthesizes with the CDKTF App API (no network, no cdktf CLI), and the
 * real `terraform` applies the synthesized JSON against the simulator with the provider from a
 * filesystem mirror; a second plan has no changes and destroy leaves nothing.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { REPO, Workspace, workspace } from '../provider/terraform-cli';
import { useTerraformTestbed } from '../provider/testbed';

const run = promisify(execFile);
const PASSWORD = 'Cdktf-e2e-S3cret!';

async function node(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(process.execPath, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`node ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * A scratch project: the example, a node_modules holding vic-iac compiled with its own package.json
 * (so `vic-iac/cdktf` resolves through the exports map, as after `npm install vic-iac`), and every
 * other dependency linked from the repository's node_modules.
 */
async function prepareExample(scratch: string): Promise<string> {
  const modules = join(scratch, 'node_modules');
  mkdirSync(modules, { recursive: true });
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (!entry.startsWith('.')) symlinkSync(join(REPO, 'node_modules', entry), join(modules, entry));
  }
  const pkg = join(modules, 'vic-iac');
  mkdirSync(pkg);
  cpSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
  const tsconfig = join(scratch, 'tsconfig.vic-iac.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(REPO, 'tsconfig.json'),
      compilerOptions: { outDir: join(pkg, 'dist'), rootDir: REPO, sourceMap: false, types: ['node'] },
      files: [join(REPO, 'cdktf/index.ts')],
      include: [],
    }),
  );
  await node([join(REPO, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], REPO);
  const project = join(scratch, 'example');
  cpSync(join(REPO, 'examples/cdktf'), project, { recursive: true });
  return project;
}

interface SynthesizedStack {
  terraform: { required_providers: Record<string, { source: string; version?: string }> };
  provider: Record<string, unknown>;
  resource: Record<string, Record<string, Record<string, unknown>>>;
  variable: Record<string, unknown>;
}

describe('examples/cdktf: synth, then terraform apply of the synthesized JSON', () => {
  const bed = useTerraformTestbed({ username: 'cdktf', password: PASSWORD, repository: 'test/cdktf', program: 'web' });
  let project: string;
  let stackDir: string;
  let ws: Workspace;
  const tf = (args: string[]) => bed.terraform(ws, args);
  const names = async (type: string) => {
    const outside = bed.outside();
    return (await retrieveFromContainer<{ name: string }>(outside, { container: outside.serviceContent.rootFolder, select: [{ type, paths: ['name'] }] })).map(
      (r) => r.props.name,
    );
  };

  beforeAll(async () => {
    project = await prepareExample(bed.scratch());
  }, 120_000);

  it('GIVEN the example WHEN type-checked with its own tsconfig (node16 resolution) THEN vic-iac/cdktf resolves through the exports map', async () => {
    await node([join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(project, 'tsconfig.json')], project);
  }, 120_000);

  it('GIVEN the example WHEN synthesized THEN the stack JSON holds the vic provider, the three resources and their references', async () => {
    const outdir = join(bed.scratch(), 'cdktf.out');
    await node([join(REPO, 'node_modules/tsx/dist/cli.mjs'), 'main.ts'], project, { CDKTF_OUTDIR: outdir });
    stackDir = join(outdir, 'stacks', 'vic-example');
    const stack = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as SynthesizedStack;
    expect(stack.terraform.required_providers.vic.source).toBe('registry.terraform.io/vic-iac/vic');
    // The cdktf CLI (`cdktf deploy`, `cdktf diff`) refuses a stack whose required_providers entry has no
    // version ("required_providers.vic.version: Required"): the bindings pin this package's provider.
    expect(stack.terraform.required_providers.vic.version).toBe((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
    expect(Object.keys(stack.resource).sort()).toEqual(['vic_container_vm', 'vic_image', 'vic_virtual_container_host']);
    expect(stack.resource.vic_virtual_container_host.vch).toMatchObject({ name: 'vch-cdktf', compute: '/DC0/host/DC0_C0', memory_limit_mb: 4096 });
    expect(stack.resource.vic_image.app).toMatchObject({ vch_id: '${vic_virtual_container_host.vch.id}', reference: '${var.image}' });
    expect(stack.resource.vic_container_vm.web).toMatchObject({ image_id: '${vic_image.app.id}', env: { GREETING: 'hello from cdktf' } });
    expect(Object.keys(stack.variable).sort()).toEqual(['image', 'insecure_registry']);
  }, 120_000);

  it('GIVEN the synthesized JSON WHEN terraform init and apply run THEN the VCH, the image and the container VM exist, and a second plan has no changes', async () => {
    expect(existsSync(join(stackDir, 'cdk.tf.json'))).toBe(true);
    ws = workspace('mirror');
    cpSync(join(stackDir, 'cdk.tf.json'), join(ws.dir, 'cdk.tf.json'));
    const init = await tf(['init']);
    expect(init.stdout).toContain('Installed vic-iac/vic v0.1.0 (unauthenticated)');
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    expect(await names('VirtualMachine')).toContain('web-cdktf');
    const plan = await bed.terraform(ws, ['plan', '-detailed-exitcode'], { allow: [] });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('No changes. Your infrastructure matches the configuration.');
  }, 240_000);

  it('GIVEN the applied stack WHEN destroyed THEN no VM or pool of the example is left', async () => {
    const destroy = await tf(['destroy', '-auto-approve']);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 3 destroyed.');
    expect(await names('VirtualMachine')).not.toContain('web-cdktf');
    expect(await names('ResourcePool')).not.toContain('vch-cdktf');
  }, 180_000);
});

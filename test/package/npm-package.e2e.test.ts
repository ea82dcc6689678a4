/**
 * The npm package as a user gets it: `npm pack` (which builds through "prepack"), then
 * `npm install ./vic-iac-<v>.tgz` into a scratch project with its own node_modules, nothing linked
 * from the repository. Through that install only:
 *   - the tarball holds compiled JS and .d.ts for vic-iac, vic-iac/pulumi and vic-iac/cdktf, the
 *     `vic` bin, the provider bundle and the bootstrap ISO, and none of the sources, tests or Go code;
 *   - `vic --help` and `vic sim start` run, with no tsx installed;
 *   - a TypeScript consumer type-checks against the three entry points;
 *   - a Pulumi program importing vic-iac/pulumi runs through the real pulumi CLI against that simulator;
 *   - a CDKTF app using vic-iac/cdktf synthesizes.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { providerLauncher } from '../../src/cli/provider-install';
import { findPeer } from '../../src/sim/peers';
import { VIC_PROVIDER_HCL, requireTerraform } from '../provider/terraform-cli';

const run = promisify(execFile);
const REPO = resolve(__dirname, '../..');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
// The peer dependencies a Pulumi or CDKTF user installs beside vic-iac, at the versions we test with.
const USER_DEPS = ['@pulumi/pulumi', 'cdktf', 'constructs', 'typescript', '@types/node'].map((name) => `${name}@${PKG.devDependencies[name]}`);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Ran> {
  try {
    const r = await run(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 << 20, timeout: opts.timeout ?? 240_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${e.message}` };
  }
}

async function ok(file: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Ran> {
  const r = await exec(file, args, opts);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.code}) in ${opts.cwd}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('the npm package, packed and installed into a scratch project', () => {
  let scratch: string;
  let tarball: string;
  let files: string[];
  let project: string;
  let userBin: string;
  let userEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vic-npm-package-'));
    // GIVEN the package as `npm pack` makes it (prepack compiles and bundles)
    const packed = await ok('npm', ['pack', '--pack-destination', scratch, '--json'], { cwd: REPO, timeout: 300_000 });
    const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = join(scratch, info[0].filename);
    files = info[0].files.map((f) => f.path).sort();

    // AND a user's project that installs it from the tarball, with the peers a Pulumi or CDKTF user adds
    project = join(scratch, 'app');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'vic-user-app', version: '1.0.0', private: true }, null, 2));
    await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, ...USER_DEPS], { cwd: project, timeout: 300_000 });

    // The simulator launcher is a Go program outside the package: the user has it on PATH.
    userBin = join(scratch, 'bin');
    mkdirSync(userBin);
    copyFileSync(findPeer('vcsim-launcher'), join(userBin, 'vcsim-launcher'));
    const pulumi = findPeer('pulumi');
    const languageHost = findPeer('pulumi-language-nodejs');
    copyFileSync(pulumi, join(userBin, 'pulumi'));
    copyFileSync(languageHost, join(userBin, 'pulumi-language-nodejs'));
    for (const b of ['vcsim-launcher', 'pulumi', 'pulumi-language-nodejs']) await ok('chmod', ['0755', join(userBin, b)], { cwd: scratch });
    // No VIC_CACHE and no repository directory on PATH: only the project's bins, the user's, the system's.
    const systemPath = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((d) => d !== '' && !resolve(d).startsWith(REPO) && !resolve(d).startsWith(realpathSync(REPO)));
    userEnv = {
      HOME: join(scratch, 'home'),
      PATH: [join(project, 'node_modules/.bin'), userBin, dirname(process.execPath), ...systemPath].join(delimiter),
      XDG_DATA_HOME: join(scratch, 'data'),
      NO_COLOR: '1',
      LANG: 'C.UTF-8',
    };
    mkdirSync(userEnv.HOME as string);
  }, 600_000);

  afterAll(async () => {
    if (project && userEnv) await exec(join(project, 'node_modules/.bin/vic'), ['sim', 'stop'], { cwd: project, env: userEnv });
    if (scratch && !process.env.VIC_KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  test('GIVEN the tarball THEN it holds compiled JS and typings of the three entry points, the bins (vic, the Terraform provider, the Pulumi plugin), the provider bundle and the ISO', () => {
    for (const f of [
      'package.json',
      'bin/vic',
      'bin/terraform-provider-vic',
      'bin/pulumi-resource-vic',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/main.js',
      'dist/pulumi-component/index.js',
      'dist/pulumi-component/index.d.ts',
      'dist/pulumi-component/provider-host.js',
      'dist/pulumi-component/native-provider.js',
      'dist/cdktf/index.js',
      'dist/cdktf/index.d.ts',
      'dist/terraform-provider/boot.js',
      'dist/terraform-provider/main.js',
      'dist/terraform-provider/engine-entry.js',
      'dist/terraform-provider/protocol-static.js',
      'dist/terraform-provider/self-signed.js',
      'dist/bootstrap.iso',
    ]) {
      expect(files).toContain(f);
    }
  });

  test('GIVEN the tarball THEN it holds nothing a user does not need: no sources, tests, Go code, scripts or source maps', () => {
    const unwanted = files.filter(
      (f) =>
        /^(test|scripts|bench|guest|examples|src|provider|pulumi-component|cdktf|\.ci|\.cache)\//.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
        /\.(go|mod|sum|map|tsbuildinfo)$/.test(f) ||
        /(^|\/)(generate|generate-types)\.(js|d\.ts)$/.test(f) ||
        /^dist\/(test|bench|scripts|provider)\//.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  test('GIVEN the install THEN vic-iac is a copy in the project, not a link into the repository, and no tsx is installed', () => {
    const installed = join(project, 'node_modules/vic-iac');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(realpathSync(installed).startsWith(realpathSync(REPO))).toBe(false);
    expect(existsSync(join(project, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(join(installed, 'src'))).toBe(false);
  });

  test('WHEN the user runs `vic --help` THEN the compiled CLI answers', async () => {
    const r = await ok('vic', ['--help'], { cwd: project, env: userEnv });
    expect(r.stdout).toMatch(/Usage: vic/);
    expect(r.stdout).toContain('sim');
    const version = await ok('vic', ['version'], { cwd: project, env: userEnv });
    expect(version.stdout.trim()).toContain(PKG.version);
  });

  test('WHEN a TypeScript program imports vic-iac, vic-iac/pulumi and vic-iac/cdktf THEN it type-checks against the shipped .d.ts', async () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      [
        "import { declarations, planStack, type ResourceType } from 'vic-iac';",
        "import * as vic from 'vic-iac/pulumi';",
        "import { provider, virtualContainerHost } from 'vic-iac/cdktf';",
        'const types: ResourceType[] = declarations.map((d) => d.type);',
        'export const uses = [types, planStack, vic.VirtualContainerHost, vic.ContainerApp, provider.VicProvider, virtualContainerHost.VirtualContainerHost];',
        '// @ts-expect-error: the Pulumi args are typed, so a wrong type fails to compile',
        "export const bad: vic.VirtualContainerHostArgs = { name: 1, compute: 'c', datastore: 'd' };",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, noEmit: true, types: ['node'] },
        files: ['consumer.ts'],
      }),
    );
    const r = await exec('tsc', ['-p', 'tsconfig.json'], { cwd: project, env: userEnv });
    expect(`${r.stdout}${r.stderr}`.replace(/Command failed.*\n?/, '')).toBe('');
    expect(r.code).toBe(0);
  });

  test('WHEN a CDKTF app uses vic-iac/cdktf THEN it synthesizes a stack with the vic provider and its resources', async () => {
    const app = join(project, 'cdktf-app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'main.js'),
      [
        "const { App, TerraformStack } = require('cdktf');",
        "const { provider, virtualContainerHost, image, containerVm } = require('vic-iac/cdktf');",
        'class Demo extends TerraformStack {',
        '  constructor(scope, id) {',
        '    super(scope, id);',
        "    new provider.VicProvider(this, 'vic', {});",
        "    const vch = new virtualContainerHost.VirtualContainerHost(this, 'demo', { name: 'vch-demo', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' });",
        "    const app = new image.Image(this, 'app', { vchId: vch.id, reference: 'registry.example.com/team/app:1.0' });",
        "    new containerVm.ContainerVm(this, 'web', { vchId: vch.id, imageId: app.id, name: 'web-1', memoryMb: 256 });",
        '  }',
        '}',
        "const app = new App({ outdir: 'cdktf.out' });",
        "new Demo(app, 'demo');",
        'app.synth();',
        '',
      ].join('\n'),
    );
    await ok(process.execPath, ['main.js'], { cwd: app, env: userEnv });
    const synthesized = JSON.parse(readFileSync(join(app, 'cdktf.out/stacks/demo/cdk.tf.json'), 'utf8')) as {
      terraform: { required_providers: Record<string, { source: string }> };
      resource: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(synthesized.terraform.required_providers.vic.source).toBe('registry.terraform.io/vic-iac/vic');
    expect(Object.keys(synthesized.resource).sort()).toEqual(['vic_container_vm', 'vic_image', 'vic_virtual_container_host']);
    expect(synthesized.resource.vic_container_vm.web).toMatchObject({ name: 'web-1', memory_mb: 256 });
  });

  test("WHEN Terraform uses the package's provider bundle through dev_overrides on node_modules/.bin THEN it loads the vic schema", async () => {
    const dir = join(project, 'tf-dev');
    mkdirSync(dir);
    writeFileSync(join(dir, 'main.tf'), VIC_PROVIDER_HCL);
    writeFileSync(
      join(dir, 'dev.tfrc'),
      `provider_installation {\n  dev_overrides {\n    "vic-iac/vic" = "${join(project, 'node_modules/.bin')}"\n  }\n  direct {}\n}\n`,
    );
    const r = await ok(requireTerraform(), ['providers', 'schema', '-json'], {
      cwd: dir,
      env: { ...userEnv, TF_CLI_CONFIG_FILE: join(dir, 'dev.tfrc'), CHECKPOINT_DISABLE: '1' },
    });
    const schema = JSON.parse(r.stdout) as { provider_schemas: Record<string, { resource_schemas: Record<string, unknown> }> };
    expect(Object.keys(schema.provider_schemas['registry.terraform.io/vic-iac/vic'].resource_schemas).sort()).toEqual([
      'vic_container_vm',
      'vic_image',
      'vic_virtual_container_host',
      'vic_volume',
    ]);
  });

  test('WHEN the user runs `vic provider install` THEN terraform init installs vic-iac/vic from ~/.terraform.d/plugins, with the launcher the clone installs too', async () => {
    const r = await ok('vic', ['provider', 'install'], { cwd: project, env: userEnv });
    const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;
    const target = join(
      userEnv.HOME as string,
      '.terraform.d/plugins/registry.terraform.io/vic-iac/vic',
      version,
      `linux_${process.arch === 'x64' ? 'amd64' : process.arch}`,
    );
    expect(r.stdout).toContain(`installed vic-iac/vic ${version} into ${target}`);
    // One launcher, whichever way it was installed (scripts/install-provider.sh writes the same).
    expect(readFileSync(join(target, `terraform-provider-vic_v${version}`), 'utf8')).toBe(providerLauncher(version, process.execPath));
    expect(readdirSync(target).sort()).toEqual(expect.arrayContaining(['boot.js', 'main.js', 'bootstrap.iso']));
    const dir = join(project, 'tf-mirror');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'main.tf'),
      `terraform {\n  required_providers {\n    vic = { source = "vic-iac/vic", version = "${version}" }\n  }\n}\nprovider "vic" {}\n`,
    );
    const env = { ...userEnv, CHECKPOINT_DISABLE: '1' };
    const init = await ok(requireTerraform(), ['init', '-input=false', '-no-color'], { cwd: dir, env });
    expect(init.stdout).toContain(`Installed vic-iac/vic v${version}`);
    const schema = JSON.parse((await ok(requireTerraform(), ['providers', 'schema', '-json'], { cwd: dir, env })).stdout) as {
      provider_schemas: Record<string, { resource_schemas: Record<string, unknown> }>;
    };
    expect(Object.keys(schema.provider_schemas['registry.terraform.io/vic-iac/vic'].resource_schemas)).toContain('vic_container_vm');
  });

  describe('with the simulator `vic sim start` runs from the package', () => {
    let vsphereEnv: NodeJS.ProcessEnv;

    beforeAll(async () => {
      // WHEN the user starts the embedded simulator through the installed bin
      const r = await ok('vic', ['sim', 'start', '--port', '0'], { cwd: project, env: userEnv, timeout: 60_000 });
      const exported = Object.fromEntries([...r.stdout.matchAll(/^export (VSPHERE_\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
      const passwordFile = /\$\(cat (.+)\)/.exec(exported.VSPHERE_PASSWORD ?? '')?.[1]?.replace(/^'|'$/g, '');
      if (!exported.VSPHERE_SERVER || !passwordFile) throw new Error(`vic sim start printed no VSPHERE_SERVER or password file:\n${r.stdout}`);
      vsphereEnv = { ...exported, VSPHERE_PASSWORD: readFileSync(passwordFile, 'utf8').trim() };
    }, 90_000);

    test('THEN `vic sim status` from the package reports it running', async () => {
      expect(vsphereEnv.VSPHERE_SERVER).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/sdk$/);
      expect(vsphereEnv.VSPHERE_THUMBPRINT).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const status = await ok('vic', ['sim', 'status'], { cwd: project, env: userEnv });
      expect(status.stdout).toContain(vsphereEnv.VSPHERE_SERVER as string);
    });

    test('WHEN a Pulumi program imports vic-iac/pulumi THEN `pulumi up` creates its VCH in that simulator and `pulumi destroy` removes it', async () => {
      const program = join(project, 'pulumi-app');
      mkdirSync(program);
      writeFileSync(join(program, 'Pulumi.yaml'), 'name: vic-package-e2e\nruntime: nodejs\ndescription: vic-iac/pulumi from the npm package\n');
      writeFileSync(join(program, 'package.json'), JSON.stringify({ name: 'vic-package-e2e', private: true, main: 'index.js' }));
      writeFileSync(
        join(program, 'index.js'),
        [
          "const vic = require('vic-iac/pulumi');",
          "const vch = new vic.VirtualContainerHost('demo', { name: 'vch-from-package', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', memoryLimitMb: 2048 });",
          'exports.vchId = vch.id;',
          'exports.bootstrapIso = vch.bootstrapIso;',
          '',
        ].join('\n'),
      );
      const backend = join(scratch, 'pulumi-state');
      mkdirSync(backend);
      const env: NodeJS.ProcessEnv = {
        ...userEnv,
        ...vsphereEnv,
        // The dynamic-provider host launcher ships in the SDK package the project installed.
        PATH: [userEnv.PATH, join(project, 'node_modules/@pulumi/pulumi')].join(delimiter),
        PULUMI_HOME: join(scratch, 'pulumi-home'),
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: 'package-e2e',
        PULUMI_SKIP_UPDATE_CHECK: 'true',
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      };
      await ok('pulumi', ['stack', 'init', 'e2e', '--non-interactive'], { cwd: program, env });
      const up = await ok('pulumi', ['up', '--yes', '--skip-preview', '--non-interactive'], { cwd: program, env, timeout: 300_000 });
      expect(up.stdout).toMatch(/dynamic\/vic:VirtualContainerHost demo created/);
      const out = await ok('pulumi', ['stack', 'output', 'vchId', '--non-interactive'], { cwd: program, env });
      expect(out.stdout.trim()).toMatch(/^resgroup-\d+$/);
      // The ISO the package ships was found beside the compiled engine and uploaded to the VCH.
      const iso = await ok('pulumi', ['stack', 'output', 'bootstrapIso', '--non-interactive'], { cwd: program, env });
      expect(iso.stdout.trim()).toBe('[LocalDS_0] vch-from-package/bootstrap.iso');
      expect(up.stdout + up.stderr).not.toContain(vsphereEnv.VSPHERE_PASSWORD as string);
      // THEN the packaged CLI sees the same VCH in vSphere
      const listed = await ok('vic', ['ls', '--all'], { cwd: project, env: { ...userEnv, ...vsphereEnv } });
      expect(listed.stdout).toContain('vch-from-package');
      expect(listed.stdout).toContain(out.stdout.trim());

      const destroy = await ok('pulumi', ['destroy', '--yes', '--skip-preview', '--non-interactive'], { cwd: program, env, timeout: 300_000 });
      expect(destroy.stdout).toMatch(/dynamic\/vic:VirtualContainerHost demo deleted/);
      const after = await ok('vic', ['ls', '--all'], { cwd: project, env: { ...userEnv, ...vsphereEnv } });
      expect(after.stdout).not.toContain('vch-from-package');
    }, 600_000);
  });
});

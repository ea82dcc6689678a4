/**
 * Runs the real `terraform` CLI against the provider as users install it: `npm run install-provider`
 * builds the bundle into a filesystem mirror, and a CLI config points Terraform at that mirror
 * (`terraform init`) or at bin/ through dev_overrides (no init).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = resolve(__dirname, '../..');
export const FIXTURES = join(REPO, 'test/fixtures/terraform');
/** The `terraform` block that asks for the vic provider, and its empty `provider` block (the connection comes from VSPHERE_*). */
export const VIC_PROVIDER_HCL = 'terraform {\n  required_providers {\n    vic = { source = "vic-iac/vic" }\n  }\n}\nprovider "vic" {}\n';

export function requireTerraform(): string {
  for (const candidate of [join(REPO, '.cache/bin/terraform'), 'terraform']) {
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('the terraform CLI is missing: run "npm run setup" (scripts/peers/30-terraform.sh builds v1.5.7 when none is installed)');
}

let built: string | undefined;

/** Builds and installs the provider into a fresh filesystem mirror (once per test file). */
export function installProvider(): string {
  if (built) return built;
  const mirror = mkdtempSync(join(tmpdir(), 'vic-tf-mirror-'));
  execFileSync('bash', [join(REPO, 'scripts/install-provider.sh'), mirror], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  built = mirror;
  return mirror;
}

export interface Workspace {
  readonly dir: string;
  readonly cliConfig: string;
  terraform(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  write(file: string, content: string): void;
}

/**
 * A working directory with its own CLI config. `mode: 'mirror'` installs through `terraform init`
 * from the filesystem mirror; `mode: 'dev'` uses dev_overrides on bin/ (validate and plan only).
 * `shared` names files of test/fixtures/terraform/shared to copy in beside the fixture.
 */
export function workspace(mode: 'mirror' | 'dev', opts: { fixture?: string; shared?: readonly string[]; extraMirror?: string } = {}): Workspace {
  const terraformBin = requireTerraform();
  const mirror = installProvider();
  const dir = mkdtempSync(join(tmpdir(), 'vic-tf-ws-'));
  if (opts.fixture) cpSync(join(FIXTURES, opts.fixture), dir, { recursive: true });
  // Terraform reads every .tf file of the directory: what several fixtures declare alike is copied in beside them.
  for (const file of opts.shared ?? []) cpSync(join(FIXTURES, 'shared', file), join(dir, file));
  const cliConfig = join(dir, '.terraformrc');
  // A provider that also matches `direct` is looked up in the public registry too, which is not reachable.
  const fromMirrors = ['registry.terraform.io/vic-iac/vic', ...(opts.extraMirror ? ['registry.terraform.io/vmware/vsphere'] : [])];
  const installation =
    mode === 'dev'
      ? `provider_installation {\n  dev_overrides {\n    "vic-iac/vic" = "${join(REPO, 'bin')}"\n  }\n  direct {}\n}\n`
      : `provider_installation {\n  filesystem_mirror {\n    path    = "${mirror}"\n    include = ["registry.terraform.io/vic-iac/vic"]\n  }\n${
          opts.extraMirror ? `  filesystem_mirror {\n    path    = "${opts.extraMirror}"\n    include = ["registry.terraform.io/vmware/vsphere"]\n  }\n` : ''
        }  direct {\n    exclude = [${fromMirrors.map((a) => `"${a}"`).join(', ')}]\n  }\n}\n`;
  writeFileSync(cliConfig, installation);
  mkdirSync(join(dir, '.plugin-cache'), { recursive: true });
  return {
    dir,
    cliConfig,
    write: (file, content) => writeFileSync(join(dir, file), content),
    async terraform(args, env = {}) {
      try {
        const r = await run(terraformBin, args, {
          cwd: dir,
          env: { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', NO_COLOR: '1', ...env },
          maxBuffer: 64 * 1024 * 1024,
        });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    },
  };
}

/** The attributes of the first instance of resource `name` in the workspace's state; fails naming what the state holds. */
export function stateAttributes(dir: string, name: string): Record<string, unknown> {
  const resources = readState(dir).resources;
  const found = resources.find((r) => r.name === name);
  if (!found?.instances[0])
    throw new Error(`no instance of "${name}" in the state of ${dir} (it holds: ${resources.map((r) => `${r.type}.${r.name}`).join(', ') || 'nothing'})`);
  return found.instances[0].attributes;
}

export function readState(dir: string): {
  resources: { type: string; name: string; instances: { attributes: Record<string, unknown>; sensitive_attributes?: unknown[]; schema_version?: number }[] }[];
} {
  return JSON.parse(readFileSync(join(dir, 'terraform.tfstate'), 'utf8'));
}

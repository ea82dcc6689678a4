/**
 * Pulumi projects on the native `vic` provider (pulumi-resource-vic), in Python and YAML, as a user
 * has them: the provider launcher on PATH, the language hosts of scripts/peers/65-pulumi-languages.sh,
 * for Python the project-local virtualenv with the `pulumi` SDK and the `pulumi_vic` SDK generated
 * from the provider's schema. A missing peer fails here, naming the setup step (never a skip).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { basename, delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PulumiCommand, type LocalWorkspaceOptions } from '@pulumi/pulumi/automation';
import { packageSchema } from '../../pulumi-component/schema';
import { findPeer, peerCacheDir } from '../../src/sim/peers';
import { ROOT } from './project';

const run = promisify(execFile);

const SETUP_HINT = 'run "npm run setup" (scripts/peers/65-pulumi-languages.sh builds it)';

function built(name: string): string {
  const path = join(peerCacheDir(), name);
  if (!existsSync(path)) throw new Error(`${name} is missing from ${peerCacheDir()}: ${SETUP_HINT}`);
  return path;
}

/** The virtualenv with the `pulumi` Python SDK (65-pulumi-languages.sh). */
export function pythonVenv(): string {
  const venv = join(dirname(peerCacheDir()), 'pulumi-python-venv');
  if (!existsSync(join(venv, 'bin', 'python'))) throw new Error(`the Python virtualenv ${venv} is missing: ${SETUP_HINT}`);
  return venv;
}

/**
 * Writes the provider's schema, generates the `pulumi_vic` Python SDK from it and pip-installs it
 * into `dir`/site, as a user installs it into their virtualenv. Returns the site directory, for
 * PYTHONPATH.
 */
export async function generatePythonSdk(dir: string): Promise<string> {
  const schemaFile = join(dir, 'schema.json');
  await mkdir(dir, { recursive: true });
  await writeFile(schemaFile, JSON.stringify(packageSchema()));
  const out = join(dir, 'python');
  await run(built('pulumi-python-sdkgen'), [schemaFile, out]);
  const site = join(dir, 'site');
  await run(join(pythonVenv(), 'bin', 'pip'), ['install', '--quiet', '--no-deps', '--no-build-isolation', '--target', site, out], { maxBuffer: 16 << 20 });
  return site;
}

export interface NativeBackend {
  readonly backend: string;
  readonly env: Record<string, string>;
  readonly options: LocalWorkspaceOptions;
}

/**
 * A local file:// backend and Pulumi home under `scratch`, with pulumi, the language hosts and
 * pulumi-resource-vic (bin/, the launcher a user puts on PATH) on PATH.
 */
export async function nativeBackend(scratch: string, passphrase: string, extraEnv: Record<string, string> = {}): Promise<NativeBackend> {
  const pulumi = findPeer('pulumi');
  built('pulumi-language-python');
  built('pulumi-language-yaml');
  const backend = join(scratch, 'state');
  await mkdir(backend, { recursive: true });
  const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(pulumi)), skipVersionCheck: true });
  // The Python host the proxy serves reads `runtime.options.virtualenv` from command-line flags the
  // current CLI no longer passes: it runs the first python3 on PATH, so the virtualenv's goes first.
  const env = {
    ...extraEnv,
    PATH: [join(ROOT, 'bin'), dirname(pulumi), peerCacheDir(), join(pythonVenv(), 'bin'), process.env.PATH ?? ''].join(delimiter),
    PULUMI_HOME: join(scratch, 'home'),
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  };
  return { backend, env, options: { pulumiCommand, pulumiHome: env.PULUMI_HOME, envVars: env } };
}

/** Copies a project under the repository into `scratch`; a Python project gets the virtualenv as `venv`. */
export async function copyProject(scratch: string, source: string): Promise<string> {
  const project = join(scratch, basename(source));
  await cp(join(ROOT, source), project, { recursive: true });
  if (existsSync(join(project, '__main__.py'))) await symlink(pythonVenv(), join(project, 'venv'));
  return project;
}

/** Runs the real `pulumi` CLI in `cwd`; rejects with its output when it fails. */
export async function pulumiCli(cwd: string, env: Record<string, string>, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(findPeer('pulumi'), args, { cwd, env: { ...process.env, ...env }, maxBuffer: 32 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`pulumi ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

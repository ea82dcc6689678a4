/**
 * Pulumi projects as a user has them: copied to a scratch directory, with `vic-iac` installed in
 * node_modules (compiled, with the package's own exports map) and the other
 * dependencies linked from ours. The serialized dynamic providers load `vic-iac/pulumi/provider-host`
 * by package name, so this is the layout they must work in.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { basename, delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PulumiCommand, type ConfigMap, type LocalWorkspaceOptions, type Stack } from '@pulumi/pulumi/automation';
import { findPeer } from '../../src/sim/peers';
import type { RunningSimulator } from '../../src/sim/simulator';
import type { VimClient } from '../../src/vsphere';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';

const run = promisify(execFile);
export const ROOT = join(__dirname, '../..');

/** Compiles what vic-iac/pulumi needs into <dir>/node_modules/vic-iac/dist, as `npm run build` would. */
async function installVicIac(dir: string): Promise<void> {
  const pkg = join(dir, 'node_modules', 'vic-iac');
  await mkdir(pkg, { recursive: true });
  await cp(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  const tsconfig = join(dir, 'tsconfig.vic-iac.json');
  await writeFile(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { outDir: join(pkg, 'dist'), rootDir: ROOT, sourceMap: false, types: ['node'] },
      files: [join(ROOT, 'pulumi-component/index.ts'), join(ROOT, 'pulumi-component/provider-host.ts')],
      include: [],
    }),
  );
  try {
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: ROOT, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`compiling vic-iac for the Pulumi project failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * Copies each Pulumi project (a directory under the repository) into `dir`, with one shared
 * `dir/node_modules` that Node and Pulumi find by walking up. Returns the copies' directories.
 */
export async function preparePulumiProjects(dir: string, sources: readonly string[]): Promise<string[]> {
  const modules = join(dir, 'node_modules');
  await mkdir(modules, { recursive: true });
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    if (entry.startsWith('.')) continue;
    await symlink(join(ROOT, 'node_modules', entry), join(modules, entry));
  }
  await installVicIac(dir);
  const projects: string[] = [];
  for (const source of sources) {
    const project = join(dir, basename(source));
    await cp(join(ROOT, source), project, { recursive: true });
    projects.push(project);
  }
  return projects;
}

/** Where Pulumi finds `pulumi-resource-pulumi-nodejs`, the launcher of the dynamic-provider host. */
export function pulumiSdkDir(): string {
  return dirname(require.resolve('@pulumi/pulumi/package.json'));
}

export interface LocalBackend {
  /** The file:// backend's directory: checkpoints, backups and history. */
  readonly backend: string;
  /** For LocalWorkspace.createStack: the peers' pulumi and language host on PATH, this backend, no update checks. */
  readonly options: LocalWorkspaceOptions;
}

/**
 * A local file:// backend and Pulumi home under `scratch`. A missing CLI fails here, naming the
 * install command (never a skip).
 */
export async function localBackend(scratch: string, passphrase: string, extraEnv: Record<string, string> = {}): Promise<LocalBackend> {
  const pulumi = findPeer('pulumi');
  const languageHost = findPeer('pulumi-language-nodejs');
  const backend = join(scratch, 'state');
  await mkdir(backend);
  const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(pulumi)), skipVersionCheck: true });
  const envVars = {
    ...extraEnv,
    PATH: [dirname(pulumi), dirname(languageHost), pulumiSdkDir(), process.env.PATH ?? ''].join(delimiter),
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  };
  return { backend, options: { pulumiCommand, pulumiHome: join(scratch, 'home'), envVars } };
}

/** What @pulumi/vsphere would output for the simulator: the root pool MOID of cluster DC0_C0 and the MOID of LocalDS_0. */
export async function simulatorPlacement(outside: VimClient): Promise<{ resourcePoolId: string; datastoreId: string }> {
  const clusters = await retrieveFromContainer<{ name: string; resourcePool: { value: string } }>(outside, {
    container: outside.serviceContent.rootFolder,
    select: [{ type: 'ClusterComputeResource', paths: ['name', 'resourcePool'] }],
  });
  const datastores = await retrieveFromContainer<{ name: string }>(outside, {
    container: outside.serviceContent.rootFolder,
    select: [{ type: 'Datastore', paths: ['name'] }],
  });
  const resourcePoolId = clusters.find((c) => c.props.name === 'DC0_C0')?.props.resourcePool.value;
  const datastoreId = datastores.find((d) => d.props.name === 'LocalDS_0')?.ref.value;
  if (!resourcePoolId || !datastoreId)
    throw new Error(`simulator inventory lacks DC0_C0 or LocalDS_0 (clusters: ${clusters.length}, datastores: ${datastores.length})`);
  return { resourcePoolId, datastoreId };
}

/** The vic provider's connection config for the simulator: the password a secret, the certificate pinned as a user would. */
export function connectionConfig(sim: RunningSimulator): ConfigMap {
  if (!sim.thumbprint) throw new Error('the simulator serves no TLS thumbprint; the test pins it as a user would');
  return {
    'vic:vsphereServer': { value: sim.url },
    'vic:user': { value: sim.username },
    'vic:password': { value: sim.password, secret: true },
    'vic:thumbprint': { value: sim.thumbprint },
  };
}

/** The names of every resource pool in the simulator, as seen from outside vic-iac. */
export async function poolNames(outside: VimClient): Promise<string[]> {
  const rows = await retrieveFromContainer<{ name: string }>(outside, {
    container: outside.serviceContent.rootFolder,
    select: [{ type: 'ResourcePool', paths: ['name'] }],
  });
  return rows.map((r) => r.props.name);
}

/** A preview's failure text (the engine's diagnostics and the error), or '' when it succeeds. */
export async function previewFailure(stack: Stack): Promise<string> {
  const events: string[] = [];
  try {
    await stack.preview({ onEvent: (e) => e.diagnosticEvent && events.push(e.diagnosticEvent.message) });
    return '';
  } catch (err) {
    return `${events.join('\n')}\n${(err as Error).message}`;
  }
}

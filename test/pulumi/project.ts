/**
 * Pulumi projects as a user has them: copied to a scratch directory, with `vic-iac` installed in
 * node_modules (compiled, with the package's own exports map) and the other
 * dependencies linked from ours. The serialized dynamic providers load `vic-iac/pulumi/provider-host`
 * by package name, so this is the layout they must work in.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

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

/**
 * `vic state mv` and what the tester found around it, end to end (bin/vic against a real vcsim and
 * a real registry): a resource renamed in the spec keeps its object once its address is moved in
 * the state (dependents' `dependsOn` too), with the refusals and checks of `state rm`; a
 * create-first replacement shows `+/-` with its legend line; `ls --json` gives the ID `vic import`
 * takes; a connection error says first what failed; `apply` without a terminal shows the plan
 * before it asks for --auto-approve.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { APP_IMAGE, HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { runVic, useVicProject, type VicRun, vchYaml } from './run-vic';

/** The spec, with the image and the web container VM under the names given (a rename in the spec). */
function spec(registryHost: string, names: { image?: string; web?: string } = {}): string {
  const image = names.image ?? 'app';
  return `${vchYaml('vch-mv')}image:
  ${image}:
    vch_id: \${virtual_container_host.demo.id}
    reference: ${registryHost}/mv/app:1
    insecure_registry: true
container_vm:
  ${names.web ?? 'web'}:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.${image}.id}
    name: web-1
  worker:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.${image}.id}
    name: worker-1
`;
}

interface StateFile {
  readonly spec?: string;
  readonly resources: Record<string, { type: string; name: string; dependsOn: string[]; attrs: Record<string, unknown> }>;
}

interface LsRow {
  readonly kind: string;
  readonly address?: string;
  readonly name: string;
  readonly id: string;
  readonly import_id: string;
}

describe('vic state mv, plan symbols, ls import ids, connection errors, apply without a terminal', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const project = useVicProject(sim, 'vic-state-mv-');
  let dir: string;
  let specFile: string;
  let stateFile: string;
  let env: NodeJS.ProcessEnv;

  const vic = (...args: string[]): Promise<VicRun> => runVic(args, env, { timeoutMs: 120_000 });
  const readStateFile = async (): Promise<StateFile> => JSON.parse(await readFile(stateFile, 'utf8')) as StateFile;
  const stateText = (): Promise<string> => readFile(stateFile, 'utf8');

  beforeAll(async () => {
    ({ dir, specFile, stateFile, env } = project());
    await registry().pushImage(HELLO_IMAGE, 'mv/app:1');
    await writeFile(specFile, spec(registry().host));
  }, 60_000);

  it('GIVEN no terminal and no --auto-approve WHEN applying THEN the plan is shown first, then exit 2 asking for --auto-approve, and nothing is made', async () => {
    const run = await vic('apply', '-f', specFile);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('  + container_vm.web');
    expect(run.stdout).toContain('Plan: 4 to add, 0 to change, 0 to destroy.');
    expect(run.stderr).toContain('vic apply needs --auto-approve when it cannot ask (no terminal on stdin, or --json)');
    expect(existsSync(stateFile)).toBe(false);
    // --json prints one object however it ends: it still fails before planning, with nothing on stdout.
    expect(await vic('apply', '-f', specFile, '--json')).toMatchObject({ code: 2, stdout: '' });
  });

  it('GIVEN the spec WHEN applied with -y THEN everything is made', async () => {
    const applied = await vic('apply', '-f', specFile, '-y');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
  });

  it('GIVEN the applied stack WHEN ls --json (--all and -f) THEN each row has the ID vic import takes: an image as <vch_id>/<digest>', async () => {
    const state = await readStateFile();
    const vchId = String(state.resources['virtual_container_host.demo'].attrs.id);
    const digest = String(state.resources['image.app'].attrs.id);
    const web = state.resources['container_vm.web'].attrs;
    const expected = [
      { kind: 'virtual_container_host', import_id: vchId },
      { kind: 'image', import_id: `${vchId}/${digest}` },
      { kind: 'container_vm', name: 'web-1', import_id: String(web.id) },
    ];
    const all = JSON.parse((await vic('ls', '--all', '--json')).stdout) as LsRow[];
    const mine = JSON.parse((await vic('ls', '-f', specFile, '--json')).stdout) as LsRow[];
    for (const rows of [all, mine]) for (const e of expected) expect(rows).toContainEqual(expect.objectContaining(e));
    // The image's id alone is what vic import refuses: the import id is not the digest.
    expect(all.find((r) => r.kind === 'image')?.id).toBe(digest);
  });

  it.each([
    ['a source not in the state', ['container_vm.wbe', 'container_vm.web2'], 'container_vm.wbe is not in the state', 'Did you mean container_vm.web?'],
    ['a destination already in the state', ['container_vm.web', 'container_vm.worker'], 'container_vm.worker is already in the state', 'Nothing was moved.'],
    ['another resource type', ['container_vm.web', 'image.web'], 'cannot move container_vm.web to image.web', 'keeps its type (container_vm)'],
    ['a malformed address', ['web', 'container_vm.web2'], 'the source "web" is not a resource address', 'Nothing was moved.'],
    ['an unknown type', ['container_vm.web', 'contaner_vm.web2'], 'has an unknown resource type "contaner_vm"', 'did you mean container_vm.web2?'],
  ])('GIVEN %s WHEN state mv THEN exit 2 saying why, and the state is unchanged', async (_what, [from, to], first, second) => {
    const before = await stateText();
    const run = await vic('state', 'mv', '-f', specFile, from, to);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain(first);
    expect(run.stderr).toContain(second);
    expect(await stateText()).toBe(before);
  });

  it('GIVEN another spec beside it, a --state path that holds nothing, or the lock held WHEN state mv THEN refused as state rm is, and the state is unchanged', async () => {
    const before = await stateText();
    const prod = join(dir, 'prod.yaml');
    await writeFile(prod, vchYaml('vch-mv-prod', 'prod'));
    const other = await vic('state', 'mv', '-f', prod, 'container_vm.web', 'container_vm.web2');
    expect(other).toMatchObject({ code: 2, stdout: '' });
    expect(other.stderr).toContain(`the state file ${stateFile} belongs to the spec spec.yaml`);
    expect(other.stderr).toContain('so vic state mv stopped before using that state');
    const typo = join(dir, 'typo.json');
    const missing = await vic('state', 'mv', '--state', typo, 'container_vm.web', 'container_vm.web2');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toContain(`No state file at ${typo} (--state)`);
    // A live vic run (this test's process stands for it) holds the lock.
    await writeFile(`${stateFile}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'test-lock', command: 'vic apply' }));
    try {
      const locked = await vic('state', 'mv', '-f', specFile, 'container_vm.web', 'container_vm.web2');
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain(`state ${stateFile} is locked by vic process ${process.pid} (vic apply)`);
    } finally {
      await writeFile(`${stateFile}.lock`, '');
      const { rm } = await import('node:fs/promises');
      await rm(`${stateFile}.lock`, { force: true });
    }
    expect(await stateText()).toBe(before);
  });

  it('GIVEN container_vm.web renamed to web2 in the spec (same name) WHEN state mv moves it THEN --dry-run changes nothing, the move keeps a backup, and the plan says No changes.', async () => {
    await writeFile(specFile, spec(registry().host, { web: 'web2' }));
    // Before the move, the plan refuses: web2 would create a VM named web-1 while web's still holds it.
    const refused = await vic('plan', '-f', specFile);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('container_vm.web2');
    const before = await stateText();
    const dry = await vic('state', 'mv', '-f', specFile, '--dry-run', 'container_vm.web', 'container_vm.web2');
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toContain('Would move container_vm.web to container_vm.web2');
    expect(dry.stdout).toContain('Nothing was changed (--dry-run).');
    expect(await stateText()).toBe(before);
    const run = await vic('state', 'mv', '-f', specFile, 'container_vm.web', 'container_vm.web2');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Moved container_vm.web to container_vm.web2');
    expect(run.stdout).toContain(`The state before is in ${stateFile}.backup.`);
    expect(await readFile(`${stateFile}.backup`, 'utf8')).toBe(before);
    const state = await readStateFile();
    expect(Object.keys(state.resources).sort()).toEqual(['container_vm.web2', 'container_vm.worker', 'image.app', 'virtual_container_host.demo']);
    expect(state.resources['container_vm.web2'].name).toBe('web2');
    expect(state.spec).toBe('../spec.yaml');
    expect(await vic('plan', '-f', specFile, '--detailed-exitcode')).toMatchObject({ code: 0, stdout: 'No changes. vSphere matches the spec.\n' });
  });

  it('GIVEN image.app renamed to image.img in the spec WHEN state mv (with --state) THEN the container VMs that depend on it name image.img, and the plan says No changes.', async () => {
    await writeFile(specFile, spec(registry().host, { web: 'web2', image: 'img' }));
    const run = await vic('state', 'mv', '--state', stateFile, 'image.app', 'image.img');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Renamed image.app to image.img in what depends on it: container_vm.web2, container_vm.worker.');
    const state = await readStateFile();
    for (const vm of ['container_vm.web2', 'container_vm.worker']) {
      expect(state.resources[vm].dependsOn).toContain('image.img');
      expect(state.resources[vm].dependsOn).not.toContain('image.app');
    }
    expect(await vic('plan', '-f', specFile, '--detailed-exitcode')).toMatchObject({ code: 0, stdout: 'No changes. vSphere matches the spec.\n' });
  });

  it('GIVEN the tag moved to another image WHEN planned THEN the image is +/- (create first) and the container VMs -/+, each with its legend line', async () => {
    await registry().pushImage(APP_IMAGE, 'mv/app:1');
    const run = await vic('plan', '-f', specFile);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toContain('  +/- image.img');
    expect(lines).toContain('  -/+ container_vm.web2');
    expect(lines).toContain('  +/- create replacement and then destroy');
    expect(lines).toContain('  -/+ destroy and then create replacement');
    expect(lines).not.toContain('  -/+ image.img');
    expect(lines.indexOf('Resource actions are indicated with the following symbols:')).toBeLessThan(lines.indexOf('  +/- image.img'));
  });

  it('GIVEN a server that refuses the connection WHEN a command connects THEN the error says first that vSphere could not be reached at that URL, then why', async () => {
    const url = 'https://127.0.0.1:1/sdk';
    for (const args of [
      ['ls', '--all'],
      ['plan', '-f', specFile],
    ]) {
      const run = await runVic([...args, '--vsphere-server', url], env);
      expect(run).toMatchObject({ code: 1, stdout: '' });
      expect(run.stderr).toMatch(/^Error: cannot connect to vSphere at https:\/\/127\.0\.0\.1:1\/sdk: connection to 127\.0\.0\.1:1 refused/);
      expect(run.stderr).not.toContain('RetrieveServiceContent');
    }
  });

  it('GIVEN the stack WHEN destroyed THEN everything goes', async () => {
    const run = await vic('destroy', '-f', specFile, '-y');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Destroy complete! Resources: 4 destroyed.');
  });
});

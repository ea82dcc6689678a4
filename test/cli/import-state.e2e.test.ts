/**
 * `vic state list`, `vic state rm` and `vic import` end to end: bin/vic as a child process against
 * a real vcsim and a real registry. Objects forgotten with `state rm` stay in vSphere; `import`
 * adopts each kind back (VCH, image, volume, container VM) through the engine's import path, after
 * which the plan has nothing to change (as Terraform's import then plan) and `destroy` removes them.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { runVic, useVicProject, type VicRun, vchYaml } from './run-vic';

const ADDRESSES = ['container_vm.web', 'container_vm.worker', 'image.app', 'virtual_container_host.demo', 'volume.data'];

function spec(registryHost: string): string {
  return `${vchYaml('vch-import')}image:
  app:
    vch_id: \${virtual_container_host.demo.id}
    reference: ${registryHost}/import/app:1
    insecure_registry: true
volume:
  data:
    vch_id: \${virtual_container_host.demo.id}
    name: data
    size_mb: 64
container_vm:
  web:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.app.id}
    name: web-1
    volumes:
      - volume_id: \${volume.data.id}
        path: /data
  worker:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.app.id}
    name: worker-1
`;
}

interface ListedEntry {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly id: string;
}

describe('vic import and vic state list/rm', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const project = useVicProject(sim, 'vic-import-state-');
  let specFile: string;
  let stateFile: string;
  let env: NodeJS.ProcessEnv;
  /** Each address's id as applied. */
  let applied: Record<string, string>;

  const vic = (...args: string[]): Promise<VicRun> => runVic(args, env, { timeoutMs: 120_000 });
  const stateAddresses = async (): Promise<string[]> => Object.keys((JSON.parse(await readFile(stateFile, 'utf8')) as { resources: object }).resources).sort();

  beforeAll(async () => {
    ({ specFile, stateFile, env } = project());
    await registry().pushImage(HELLO_IMAGE, 'import/app:1');
    await writeFile(specFile, spec(registry().host));
  }, 60_000);

  it('GIVEN no state yet WHEN listed THEN nothing on stdout, exit 0, and stderr says no state is there; a --state path that holds nothing fails', async () => {
    const run = await vic('state', 'list', '-f', specFile);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toContain(`No state file at ${stateFile}`);
    expect((await vic('state', 'list')).code).toBe(2);
    // A --state path given by hand that holds nothing is a wrong path, not an empty state.
    const wrong = await vic('state', 'list', '--state', `${stateFile}.typo`);
    expect(wrong).toMatchObject({ code: 1, stdout: '' });
    expect(wrong.stderr).toContain(`No state file at ${stateFile}.typo (--state). Check the path`);
  });

  it('GIVEN the spec applied WHEN the state is listed THEN one address a line, sorted; a type or an address filters; --json has the ids', async () => {
    const apply = await vic('apply', '-f', specFile, '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const list = await vic('state', 'list', '-f', specFile);
    expect(list).toMatchObject({ code: 0, stderr: '', stdout: `${ADDRESSES.join('\n')}\n` });
    expect((await vic('state', 'list', '--state', stateFile, 'container_vm', 'image.app')).stdout).toBe('container_vm.web\ncontainer_vm.worker\nimage.app\n');
    const json = JSON.parse((await vic('state', 'list', '-f', specFile, '--json')).stdout) as ListedEntry[];
    expect(json.map((e) => e.address)).toEqual(ADDRESSES);
    applied = Object.fromEntries(json.map((e) => [e.address, e.id]));
    expect(applied['virtual_container_host.demo']).toMatch(/^resgroup-\d+$/);
    expect(applied['container_vm.web']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GIVEN a misspelt address WHEN removed THEN exit 2 with the nearest address, and nothing leaves the state', async () => {
    const run = await vic('state', 'rm', '-f', specFile, 'container_vm.web', 'container_vm.wbe');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`container_vm.wbe is not in the state ${stateFile}. Did you mean container_vm.web?`);
    expect(run.stderr).toContain('Nothing was removed.');
    expect(await stateAddresses()).toEqual(ADDRESSES);
  });

  it('GIVEN --dry-run WHEN removing THEN it says what it would remove and the state keeps it', async () => {
    const run = await vic('state', 'rm', '-f', specFile, '--dry-run', 'container_vm.worker');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Would remove container_vm.worker (id ${applied['container_vm.worker']}) from the state`);
    expect(await stateAddresses()).toEqual(ADDRESSES);
  });

  it('GIVEN every resource removed from the state WHEN vSphere is listed THEN the objects are still there, and the output said so', async () => {
    const run = await vic('state', 'rm', '-f', specFile, ...ADDRESSES);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const a of ADDRESSES) {
      expect(run.stdout).toContain(`Removed ${a} (id ${applied[a]}) from the state; its vSphere object is left as it is and vic no longer manages it.`);
      expect(run.stdout).toContain(`Note: ${a} is still in the spec, so the next plan takes it for not made yet.`);
    }
    expect(run.stdout).toContain(`Successfully removed 5 resource(s) from the state. The state before is in ${stateFile}.backup.`);
    expect(await stateAddresses()).toEqual([]);
    expect(Object.keys((JSON.parse(await readFile(`${stateFile}.backup`, 'utf8')) as { resources: object }).resources).sort()).toEqual(ADDRESSES);
    expect((await vic('state', 'list', '-f', specFile)).stdout).toBe('');
    const all = JSON.parse((await vic('ls', '--all', '--json')).stdout) as Array<{ kind: string; name: string; id: string }>;
    expect(all.map((r) => [r.kind, r.name])).toEqual([
      ['virtual_container_host', 'vch-import'],
      ['image', expect.any(String)],
      ['volume', 'data'],
      ['container_vm', 'web-1'],
      ['container_vm', 'worker-1'],
    ]);
    // The plan now sees a VCH of the spec's name that no state of this spec made: it refuses, and says to import.
    const plan = await vic('plan', '-f', specFile);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toMatch(/virtual_container_host\.demo\.name: A virtual container host named "vch-import" \(resgroup-\d+\) already exists/);
    expect(plan.stderr).toContain('to move it into this state, import it');
  });

  it('GIVEN an address the spec does not declare WHEN imported THEN exit 2 naming it, the nearest declared one and what to do', async () => {
    const run = await vic('import', '-f', specFile, 'container_vm.wokrer', applied['container_vm.worker']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `container_vm.wokrer is not declared in ${specFile}, so there is nothing to import it into. Did you mean container_vm.worker?`,
    );
    expect(run.stderr).toContain('Declare it in the spec first');
    expect(run.stdout).toBe('');
    expect(await stateAddresses()).toEqual([]);
  });

  it.each([
    ['a container VM UUID', 'container_vm.web', '00000000-0000-4000-8000-000000000000', /no VM found for "00000000-0000-4000-8000-000000000000"/],
    ['a pool MOID', 'virtual_container_host.demo', 'resgroup-99999', /resource pool resgroup-99999 not found/],
  ])('GIVEN %s that does not exist WHEN imported THEN exit 1 naming the ID, and the state is unchanged', async (_what, address, id, reason) => {
    const run = await vic('import', '-f', specFile, address, id);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot import ${address} from ID "${id}": `);
    expect(run.stderr).toMatch(reason);
    expect(run.stderr).toContain('Nothing was changed: check the ID');
    expect(await stateAddresses()).toEqual([]);
  });

  it("GIVEN the objects left in vSphere WHEN each kind is imported back by its id THEN the state holds them with the spec's spelling of what vSphere does not hold, and the plan right after has no changes", async () => {
    const vchId = applied['virtual_container_host.demo'];
    const imports: Array<[string, string]> = [
      ['virtual_container_host.demo', vchId],
      ['image.app', `${vchId}/${applied['image.app']}`],
      ['volume.data', applied['volume.data']],
      ['container_vm.web', applied['container_vm.web']],
      ['container_vm.worker', applied['container_vm.worker']],
    ];
    for (const [address, id] of imports) {
      const run = await vic('import', '-f', specFile, address, id);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${address}: Importing from ID "${id}"...`);
      expect(run.stdout).toContain(`${address}: Import complete [id=${applied[address]}]`);
      expect(run.stdout).toContain('Import successful!');
    }
    expect(await stateAddresses()).toEqual(ADDRESSES);
    // What vSphere does not hold (insecure_registry) or holds spelled another way (the image pinned
    // by digest where the spec names its tag, the VCH's datacenter the spec leaves to the default)
    // the import takes from the spec: the spec matches the objects, so the plan has nothing to do.
    const plan = await vic('plan', '-f', specFile, '--detailed-exitcode');
    expect(plan).toMatchObject({ code: 0, stdout: 'No changes. vSphere matches the spec.\n', stderr: '' });
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { resources: Record<string, { attrs: Record<string, unknown> }> };
    expect(state.resources['image.app'].attrs).toMatchObject({
      reference: `${registry().host}/import/app:1`,
      insecure_registry: true,
      id: applied['image.app'],
    });
    expect(state.resources['virtual_container_host.demo'].attrs).toMatchObject({ datacenter: null, id: applied['virtual_container_host.demo'] });
    // A spec that differs from an object in vSphere still plans the change.
    await writeFile(specFile, spec(registry().host).replace('    name: worker-1\n', '    name: worker-1\n    memory_mb: 256\n'));
    const changed = await vic('plan', '-f', specFile);
    expect(changed.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    expect(changed.stdout).toMatch(/~ memory_mb\s+= 512 -> 256/);
    await writeFile(specFile, spec(registry().host));
    expect(JSON.parse((await vic('state', 'list', '-f', specFile, '--json')).stdout)).toEqual(
      ADDRESSES.map((address) => expect.objectContaining({ address, id: applied[address] })),
    );
  });

  it('GIVEN an address already in the state WHEN imported again THEN exit 2: it names the id it holds and says to state rm first', async () => {
    const run = await vic('import', '-f', specFile, 'container_vm.web', applied['container_vm.worker']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`container_vm.web is already in the state ${stateFile} (id ${applied['container_vm.web']})`);
    expect(run.stderr).toContain(`forget the one it holds first: vic state rm -f ${specFile} container_vm.web`);
  });

  it('GIVEN an object the state holds at another address WHEN imported THEN exit 2 naming that address, and the state is unchanged', async () => {
    expect((await vic('state', 'rm', '-f', specFile, 'container_vm.worker')).code).toBe(0);
    const run = await vic('import', '-f', specFile, 'container_vm.worker', applied['container_vm.web']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `is already in the state as container_vm.web. To move it, run vic state rm -f ${specFile} container_vm.web, then import again.`,
    );
    expect(await stateAddresses()).toEqual(ADDRESSES.filter((a) => a !== 'container_vm.worker'));
    expect((await vic('import', '-f', specFile, 'container_vm.worker', applied['container_vm.worker'])).code).toBe(0);
  });

  it('GIVEN the imported state WHEN destroyed THEN every object goes from vSphere: vic manages them again', async () => {
    const run = await vic('destroy', '-f', specFile, '--auto-approve');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Destroy complete! Resources: 5 destroyed.');
    expect(JSON.parse((await vic('ls', '--all', '--json')).stdout)).toEqual([]);
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
  });
});

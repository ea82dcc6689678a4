/**
 * VIC Group1 1-36 rename: the container keeps its id (the VM's BIOS UUID) and takes the new name,
 * in docker ps, inspect and the vSphere inventory; the old name is free for a new container, whose
 * UUID does not collide with the renamed one's; a name in use is a conflict; a container an IaC
 * state manages is refused. No guest runs here: created containers are enough.
 */
import type { Attrs } from '../../src/resources';
import { moRef } from '../../src/vsphere';
import { retrieveObjects } from '../../src/vsphere/property-collector';
import { connectTestClient } from '../helpers/engine';
import { useDockerBed } from './docker-env';

describe('1-36 docker rename', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-rename' });
  const since = Math.floor(Date.now() / 1000);

  const inspect = async (name: string, format: string) => {
    const r = await bed().docker(['inspect', '--format', format, name]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    return r.stdout.trim();
  };

  async function inventoryName(bios: string): Promise<string> {
    const vm = (await bed().engine.inventory()).containerVms.find((v) => v.id === bios);
    expect(vm).toBeDefined();
    const outside = await connectTestClient(bed().sim);
    try {
      const [row] = await retrieveObjects(outside, [moRef('VirtualMachine', String(vm?.moid))], ['name']);
      return String(row.props.name);
    } finally {
      await outside.close();
    }
  }

  test('GIVEN a container WHEN docker rename runs THEN the id stays, the new name shows everywhere and the old one is free for a new container', async () => {
    expect((await bed().docker(['create', '--name', 'rn-1', bed().image])).code).toBe(0);
    const id = await inspect('rn-1', '{{.Id}}');
    const bios = await inspect('rn-1', '{{.VSphere.BiosUuid}}');

    const r = await bed().docker(['rename', 'rn-1', 'rn-2']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    expect(await inspect('rn-2', '{{.Id}} {{.Name}} {{.VSphere.BiosUuid}}')).toBe(`${id} /rn-2 ${bios}`);
    expect((await bed().docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}'])).stdout).toBe(`${id} rn-2\n`);
    expect(await inventoryName(bios)).toBe('rn-2');
    const old = await bed().docker(['inspect', 'rn-1']);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/No such (container|object): rn-1/);

    // The old name again: a new container, with an id and a BIOS UUID of its own.
    expect((await bed().docker(['create', '--name', 'rn-1', bed().image])).code).toBe(0);
    const id2 = await inspect('rn-1', '{{.Id}}');
    const bios2 = await inspect('rn-1', '{{.VSphere.BiosUuid}}');
    expect(id2).not.toBe(id);
    expect(bios2).not.toBe(bios);
    expect((await bed().docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}'])).stdout.split('\n').sort()).toEqual(
      ['', `${id} rn-2`, `${id2} rn-1`].sort(),
    );

    // And back: the renamed container may take its first name again once that one is gone.
    expect((await bed().docker(['rm', 'rn-1'])).code).toBe(0);
    expect((await bed().docker(['rename', 'rn-2', 'rn-1'])).code).toBe(0);
    expect(await inspect('rn-1', '{{.Id}} {{.VSphere.BiosUuid}}')).toBe(`${id} ${bios}`);
    expect((await bed().docker(['rename', 'rn-1', 'rn-2'])).code).toBe(0);
    // A second container of the first name, kept for the VCH's destroy at the end.
    expect((await bed().docker(['create', '--name', 'rn-1', bed().image])).code).toBe(0);
    expect(await inspect('rn-1', '{{.VSphere.BiosUuid}}')).not.toBe(bios);
  });

  test('GIVEN two containers WHEN one is renamed onto the name of the other THEN it is a conflict and nothing changes', async () => {
    expect((await bed().docker(['create', '--name', 'rn-3', bed().image])).code).toBe(0);
    const r = await bed().docker(['rename', 'rn-3', 'rn-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Conflict\. The container name "\/rn-2" is already in use by container "[0-9a-f]{64}"/);
    expect((await bed().docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').sort()).toEqual(['', 'rn-1', 'rn-2', 'rn-3']);
  });

  test('GIVEN no such container, or a bad name THEN docker rename says so and exits 1', async () => {
    const missing = await bed().docker(['rename', 'nope', 'rn-9']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/No such container: nope/)]);
    // The container is looked up first, as dockerd: a missing one is the error even with a bad new name.
    const both = await bed().docker(['rename', 'nope', 'x']);
    expect([both.code, both.stderr]).toEqual([1, expect.stringMatching(/No such container: nope/)]);
    // dockerd's rule for container names, and its words: the name is not taken.
    for (const name of ['a/b', 'bad name!', 'x']) {
      const bad = await bed().docker(['rename', 'rn-3', name]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`Error response from daemon: Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n`);
    }
    const created = await bed().docker(['create', '--name', 'bad name2!', bed().image]);
    expect([created.code, created.stderr]).toEqual([
      1,
      'Error response from daemon: Invalid container name (bad name2!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n',
    ]);
    expect((await bed().docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').sort()).toEqual(['', 'rn-1', 'rn-2', 'rn-3']);
  });

  test('GIVEN a container VM an IaC state made WHEN docker rename runs THEN it is refused with the rule', async () => {
    const image = (await bed().engine.listIn('image', String(bed().vch.id)))[0];
    const plan = await bed().engine.plan('container_vm', null, {
      vch_id: bed().vch.id,
      image_id: image.id,
      name: 'iac-rn',
      power_state: 'stopped',
    });
    expect(plan.problems).toEqual([]);
    const iac = (await bed().engine.apply(plan)) as Attrs;
    const r = await bed().docker(['rename', 'iac-rn', 'iac-rn-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/container "iac-rn" is managed by infrastructure as code .*change its name in that configuration and apply/);
    const [now] = await bed().engine.read([{ type: 'container_vm', state: iac }]);
    expect(now?.name).toBe('iac-rn');
  });

  test('GIVEN what happened above WHEN docker events reads it back THEN the renames are there with the old names', async () => {
    expect(await bed().eventsSince(since, 'event=rename', '{{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}')).toEqual([
      '/rn-1 rn-2',
      '/rn-2 rn-1',
      '/rn-1 rn-2',
    ]);
  });

  test('GIVEN renamed containers and one that took an old name WHEN the VCH is destroyed with force_destroy THEN they count as its container VMs and go with it', async () => {
    const plan = await bed().engine.plan('virtual_container_host', { ...bed().vch, force_destroy: true }, null);
    expect(plan.problems).toEqual([]);
    await bed().engine.apply(plan);
    expect((await bed().engine.inventory()).containerVms.filter((vm) => vm.vch_id === bed().vch.id)).toEqual([]);
  });
});

/**
 * virtual_container_host through the engine against the simulator: create, read, update in place,
 * drift made in vSphere, plan-time errors, delete refusal, forced delete, import.
 */
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { VimClient, moRef } from '../../../src/vsphere';
import { createVm, destroyVm } from '../../../src/vsphere/virtual-machine';
import { updateResourcePool } from '../../../src/vsphere/resource-pool';
import { retrieveFromContainer } from '../../../src/vsphere/property-collector';
import { Inventory } from '../../../src/vsphere/inventory';
import { useSimulator } from '../../helpers/vcsim';
import { connectTestClient, connectTestEngine } from '../../helpers/engine';

const config: Attrs = { name: 'vch-a', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network', memory_limit_mb: 4096 };

describe('virtual_container_host lifecycle', () => {
  const sim = useSimulator();
  let engine: Engine;
  let outside: VimClient;
  let state: Attrs;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
  });
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
  });

  it('GIVEN a new VCH WHEN planned and applied THEN a marked pool, a folder and the image store exist', async () => {
    const plan = await engine.plan('virtual_container_host', null, config);
    expect(plan.problems).toEqual([]);
    expect(plan.action).toBe('create');
    state = (await engine.apply(plan)) as Attrs;
    expect(state).toMatchObject({ name: 'vch-a', memory_limit_mb: 4096, cpu_limit_mhz: -1, image_store_path: 'vch-a', image_store: '[LocalDS_0] vch-a' });
    expect(state.id).toMatch(/^resgroup-/);
    expect(state.folder_id).toMatch(/^group-/);
    const pools = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'ResourcePool', paths: ['name'] }],
    });
    expect(pools.filter((p) => p.props.name === 'vch-a')).toHaveLength(1);
  });

  it('GIVEN the applied VCH WHEN refreshed and planned again THEN no changes', async () => {
    const [read] = await engine.read([{ type: 'virtual_container_host', state }]);
    expect(read).toEqual(state);
    const plan = await engine.plan('virtual_container_host', read, config);
    expect(plan.action).toBe('no-op');
  });

  it('GIVEN a new memory limit WHEN planned THEN an in-place update that applies', async () => {
    const plan = await engine.plan('virtual_container_host', state, { ...config, memory_limit_mb: 2048, cpu_shares: 'high' });
    expect(plan.action).toBe('update');
    state = (await engine.apply(plan)) as Attrs;
    expect(state).toMatchObject({ memory_limit_mb: 2048, cpu_shares: 'high' });
  });

  it('GIVEN the limit changed directly in vSphere WHEN refreshed THEN the plan shows the drift', async () => {
    await updateResourcePool(outside, moRef('ResourcePool', String(state.id)), { memoryAllocation: { limit: 1024 } });
    const [read] = await engine.read([{ type: 'virtual_container_host', state }]);
    expect(read?.memory_limit_mb).toBe(1024);
    const plan = await engine.plan('virtual_container_host', read, { ...config, memory_limit_mb: 2048, cpu_shares: 'high' });
    expect(plan.action).toBe('update');
    expect(plan.reasons).toEqual(['memory_limit_mb: 1024 → 2048']);
  });

  it('GIVEN names that do not exist WHEN planned THEN every problem points at its attribute, before any change', async () => {
    const plan = await engine.plan('virtual_container_host', null, {
      ...config,
      name: 'vch-b',
      compute: '/DC0/host/NOPE',
      datastore: 'LocalDS_9',
      bridge_network: 'No Such Net',
    });
    expect(plan.problems.map((p) => p.path.join('.')).sort()).toEqual(['bridge_network', 'compute', 'datastore']);
    expect(plan.problems.find((p) => p.path[0] === 'datastore')?.detail).toContain('datastore "LocalDS_9" not found in datacenter "DC0" (known: LocalDS_0)');
    await expect(engine.apply(plan)).rejects.toThrow(/nothing was changed/);
  });

  it('GIVEN a VM inside the VCH WHEN deleted without force THEN it refuses and lists the VM', async () => {
    await createVm(outside, {
      folder: moRef('Folder', String(state.folder_id)),
      pool: moRef('ResourcePool', String(state.id)),
      config: { name: 'stray', guestId: 'otherGuest64', files: { vmPathName: '[LocalDS_0]' }, memoryMB: 64, numCPUs: 1 },
    });
    const plan = await engine.plan('virtual_container_host', state, null);
    expect(plan.action).toBe('delete');
    await expect(engine.apply(plan)).rejects.toThrow(/still holds 1 VM\(s\): stray \(vm-\d+\)\. Delete them first, or set force_destroy = true/);
  });

  it('GIVEN the VCH WHEN imported by MOID THEN the state matches what was applied', async () => {
    const imported = await engine.importState('virtual_container_host', String(state.id));
    expect(imported).toMatchObject({ id: state.id, name: 'vch-a', image_store_path: 'vch-a', folder_id: state.folder_id, bridge_network: 'VM Network' });
  });

  it('GIVEN the imported VCH WHEN the config names the same datastore and compute by MOID THEN an update of the state, not a replacement', async () => {
    const imported = await engine.importState('virtual_container_host', String(state.id));
    const inv = new Inventory(outside);
    const dc = await inv.datacenter('DC0');
    const ds = await inv.datastore(dc, 'LocalDS_0');
    const pool = await inv.resourcePool(dc, '/DC0/host/DC0_C0');
    const byMoid = { ...config, memory_limit_mb: 2048, cpu_shares: 'high', datastore: ds.ref.value, compute: pool.ref.value };
    const plan = await engine.plan('virtual_container_host', imported, byMoid);
    expect(plan.problems).toEqual([]);
    expect(plan.action).toBe('update');
    expect(plan.requiresReplace).toEqual([]);
    expect(plan.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^datastore: "LocalDS_0" and ".+" name the same object \(.+\); only the state changes$/),
        expect.stringMatching(/^compute: .* name the same object/),
      ]),
    );
    const applied = (await engine.apply(plan)) as Attrs;
    expect(applied).toMatchObject({ id: state.id, datastore: ds.ref.value, compute: pool.ref.value });
  });

  it('GIVEN force_destroy and a VM vic-iac did not make WHEN deleted THEN it refuses, names the VM and changes nothing', async () => {
    const forced = { ...state, force_destroy: true };
    await expect(engine.apply(await engine.plan('virtual_container_host', forced, null))).rejects.toThrow(
      /holds 1 VM\(s\) that are not its container VMs: stray \(vm-\d+\)\. force_destroy deletes only the container VMs vic-iac made for this VCH/,
    );
    const [read] = await engine.read([{ type: 'virtual_container_host', state: forced }]);
    expect(read?.id).toBe(state.id);
  });

  it('GIVEN force_destroy and only vic-iac objects WHEN deleted THEN the pool and the folder are gone and a refresh reads null', async () => {
    const forced = { ...state, force_destroy: true };
    const [stray] = (
      await retrieveFromContainer<{ name: string }>(outside, {
        container: outside.serviceContent.rootFolder,
        select: [{ type: 'VirtualMachine', paths: ['name'] }],
      })
    ).filter((v) => v.props.name === 'stray');
    await destroyVm(outside, stray.ref);
    await engine.apply(await engine.plan('virtual_container_host', forced, null));
    const [read] = await engine.read([{ type: 'virtual_container_host', state: forced }]);
    expect(read).toBeNull();
    const vms = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    expect(vms.map((v) => v.props.name)).not.toContain('stray');
  });
});

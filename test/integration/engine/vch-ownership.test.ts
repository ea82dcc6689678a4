/**
 * A VCH adopts and deletes only what vic-iac made for it, through the engine against the simulator:
 * squatted folders and image store directories are refused at plan, another state's VCH of the same
 * name is refused, a create that stopped midway is adopted, delete takes its targets from the state
 * (not from a rewritable marker), refuses foreign VMs, and a marker that does not parse is an error.
 */
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { containerVmUuid } from '../../../src/resources/container-vm.lifecycle';
import { STORE_MARKER_FILE } from '../../../src/resources/vch-ownership';
import { VimClient, moRef, type ManagedObjectReference } from '../../../src/vsphere';
import { ensureCustomFieldDef, setCustomField } from '../../../src/vsphere/custom-fields';
import { datastoreDirectoryExists } from '../../../src/vsphere/datastore-browser';
import { uploadDatastoreFile } from '../../../src/vsphere/datastore-http';
import { makeDirectory } from '../../../src/vsphere/file-manager';
import { createFolder } from '../../../src/vsphere/folder';
import { Inventory, type Datacenter, type InventoryObject } from '../../../src/vsphere/inventory';
import { retrieveFromContainer, retrieveObject } from '../../../src/vsphere/property-collector';
import { createVm } from '../../../src/vsphere/virtual-machine';
import { connectTestClient, connectTestEngine, defaultDatastore } from '../../helpers/engine';
import { useSimulator } from '../../helpers/vcsim';

const base: Attrs = { compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' };

describe('virtual_container_host ownership', () => {
  const sim = useSimulator();
  let engine: Engine;
  let outside: VimClient;
  let dc: Datacenter;
  let ds: InventoryObject;
  let markerKey: number;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    ({ dc, ds } = await defaultDatastore(outside));
    markerKey = (await ensureCustomFieldDef(outside, 'vic-iac.vch')).key;
  });
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
  });
  afterEach(() => sim().control.clearFaults());

  async function create(config: Attrs): Promise<Attrs> {
    const plan = await engine.plan('virtual_container_host', null, config);
    expect(plan.problems).toEqual([]);
    return (await engine.apply(plan)) as Attrs;
  }

  async function named(type: string, name: string): Promise<ManagedObjectReference[]> {
    const rows = await retrieveFromContainer<{ name: string }>(outside, { container: outside.serviceContent.rootFolder, select: [{ type, paths: ['name'] }] });
    return rows.filter((r) => r.props.name === name).map((r) => r.ref);
  }

  /** A VM as vic-iac makes a container VM of `vchId` (its markers and its derived BIOS UUID), without an image. */
  async function fakeContainerVm(vch: Attrs, name: string, spec = '{"networks":[]}'): Promise<ManagedObjectReference> {
    return createVm(outside, {
      folder: moRef('Folder', String(vch.folder_id)),
      pool: moRef('ResourcePool', String(vch.id)),
      config: {
        name,
        uuid: containerVmUuid(String(vch.id), name),
        guestId: 'otherGuest64',
        files: { vmPathName: '[LocalDS_0]' },
        memoryMB: 64,
        numCPUs: 1,
        extraConfig: { 'vic.owner': 'vic-iac', 'vic.vch': String(vch.id), 'vic.name': name, 'vic.spec': spec, 'vic.image': `sha256:${'a'.repeat(64)}` },
      },
    });
  }

  function foreignVm(folder: string, pool: string, name: string): Promise<ManagedObjectReference> {
    return createVm(outside, {
      folder: moRef('Folder', folder),
      pool: moRef('ResourcePool', pool),
      config: { name, guestId: 'otherGuest64', files: { vmPathName: '[LocalDS_0]' }, memoryMB: 64, numCPUs: 1 },
    });
  }

  it('GIVEN a VM folder with the VCH name and no marker WHEN planned THEN an error on name that names the folder and its MOID, and apply creates nothing', async () => {
    const squat = await createFolder(outside, dc.vmFolder, 'vch-squat');
    const plan = await engine.plan('virtual_container_host', null, { ...base, name: 'vch-squat' });
    expect(plan.problems).toEqual([
      expect.objectContaining({
        path: ['name'],
        detail: `A VM folder named "vch-squat" (${squat.value}) already exists in datacenter "DC0" and is not managed by vic-iac. vic-iac never takes over a folder it did not make for this VCH. Choose another VCH name, or rename or remove that folder.`,
      }),
    ]);
    await expect(engine.apply(plan)).rejects.toThrow(/nothing was changed/);
    expect(await named('ResourcePool', 'vch-squat')).toEqual([]);
  });

  it("GIVEN a VM folder with the VCH name that carries another VCH's marker WHEN planned THEN an error naming that VCH; once that VCH's pool is gone, an empty one is adopted, saying so", async () => {
    const holder = await create({ ...base, name: 'vch-holder' });
    const other = await createFolder(outside, dc.vmFolder, 'vch-taken');
    await setCustomField(outside, other, markerKey, JSON.stringify({ v: 1, vch: String(holder.id) }));
    const plan = await engine.plan('virtual_container_host', null, { ...base, name: 'vch-taken' });
    expect(plan.problems.map((p) => p.detail)).toEqual([
      expect.stringContaining(
        `A VM folder named "vch-taken" (${other.value}) already exists in datacenter "DC0" and belongs to virtual container host ${String(holder.id)}.`,
      ),
    ]);
    // A marker that names a pool no longer there (deleted outside vic-iac): what is left of a VCH, adopted when empty.
    await setCustomField(outside, other, markerKey, JSON.stringify({ v: 1, vch: 'resgroup-999' }));
    const orphan = await engine.forCommand().plan('virtual_container_host', null, { ...base, name: 'vch-taken' });
    expect(orphan.problems).toEqual([]);
    expect(orphan.notes).toContain(
      `the VM folder "vch-taken" (${other.value}) was left by virtual container host resgroup-999, whose resource pool no longer exists; this VCH adopts it`,
    );
  });

  it('GIVEN a folder squatted between plan and apply WHEN applied THEN apply refuses before it creates anything', async () => {
    const plan = await engine.plan('virtual_container_host', null, { ...base, name: 'vch-race' });
    expect(plan.problems).toEqual([]);
    await createFolder(outside, dc.vmFolder, 'vch-race');
    await expect(engine.apply(plan)).rejects.toThrow(/A VM folder named "vch-race" \(group-\d+\) already exists/);
    expect(await named('ResourcePool', 'vch-race')).toEqual([]);
  });

  it('GIVEN an image store directory without our marker WHEN planned THEN an error on image_store_path; with an empty name it is refused as well', async () => {
    await makeDirectory(outside, '[LocalDS_0] shared/data', dc.ref);
    const plan = await engine.plan('virtual_container_host', null, { ...base, name: 'vch-store', image_store_path: 'shared' });
    expect(plan.problems).toEqual([
      expect.objectContaining({
        path: ['image_store_path'],
        detail: `The image store directory [LocalDS_0] shared already exists and has no ${STORE_MARKER_FILE} (vic-iac did not make it for this VCH) and holds 1 entry. vic-iac never takes over a directory it did not make for this VCH. Set image_store_path to a new directory, or move that one away.`,
      }),
    ]);
    await makeDirectory(outside, '[LocalDS_0] vch-emptydir', dc.ref);
    const byName = await engine.plan('virtual_container_host', null, { ...base, name: 'vch-emptydir' });
    expect(byName.problems.map((p) => [p.path.join('.'), p.detail])).toEqual([
      ['name', expect.stringContaining('The image store directory [LocalDS_0] vch-emptydir already exists and has no')],
    ]);
  });

  it('GIVEN "../escape" as image_store_path WHEN planned THEN a validation problem, before anything is looked up or created', async () => {
    const plan = await engine.plan('virtual_container_host', null, { ...base, name: 'vch-escape', image_store_path: '../escape' });
    expect(plan.problems.map((p) => p.path.join('.'))).toEqual(['image_store_path']);
    expect(plan.problems[0].detail).toContain('contains ".."');
  });

  it("GIVEN another state's VCH of the same name on the same compute WHEN a second engine plans it THEN refused, pointing at the data source", async () => {
    const first = await create({ ...base, name: 'vch-twice' });
    const second = await connectTestEngine(sim());
    try {
      const plan = await second.plan('virtual_container_host', null, { ...base, name: 'vch-twice' });
      expect(plan.problems).toHaveLength(1);
      expect(plan.problems[0]).toMatchObject({ path: ['name'], summary: 'VCH managed elsewhere' });
      expect(plan.problems[0].detail).toContain(
        `A virtual container host named "vch-twice" (${String(first.id)}) already exists under /DC0/host/DC0_C0: another state`,
      );
      expect(plan.problems[0].detail).toContain('data "vic_virtual_container_host"');
    } finally {
      await second.close();
    }
  });

  it('GIVEN a create that stopped after marking its pool WHEN planned and applied again THEN the pool is adopted and completed, not duplicated', async () => {
    // The folder create fails: the pool exists, marked pending; nothing else does.
    await sim().control.addFault({ method: 'CreateFolder', fault: 'SystemError', message: 'injected crash' });
    const config = { ...base, name: 'vch-resume' };
    await expect(engine.apply(await engine.plan('virtual_container_host', null, config))).rejects.toThrow(/injected crash|SystemError/);
    const [pool] = await named('ResourcePool', 'vch-resume');
    expect(pool).toBeDefined();
    const again = await engine.plan('virtual_container_host', null, config);
    expect(again.problems).toEqual([]);
    expect(again.notes).toEqual([expect.stringContaining(`partly created by an earlier apply (${pool.value}); it will be adopted`)]);
    const state = (await engine.apply(again)) as Attrs;
    expect(state.id).toBe(pool.value);
    expect(await named('ResourcePool', 'vch-resume')).toHaveLength(1);
    expect(await named('Folder', 'vch-resume')).toHaveLength(1);
    // Complete now: a third create of the name is another state's (another command), and refused.
    const third = await engine.forCommand().plan('virtual_container_host', null, config);
    expect(third.problems.map((p) => p.summary)).toEqual(['VCH managed elsewhere']);
  });

  it('GIVEN force_destroy and a foreign VM in the VCH folder (not in its pool) WHEN deleted THEN refused naming it, and nothing is deleted', async () => {
    const vch = await create({ ...base, name: 'vch-folder-guest' });
    await fakeContainerVm(vch, 'web');
    const resources = await new Inventory(outside).resourcePool(dc, '/DC0/host/DC0_C0');
    const guest = await foreignVm(String(vch.folder_id), resources.ref.value, 'someone-elses');
    const forced = { ...vch, force_destroy: true };
    await expect(engine.apply(await engine.plan('virtual_container_host', forced, null))).rejects.toThrow(
      `the VM folder "vch-folder-guest" (${String(vch.folder_id)}) of virtual container host "vch-folder-guest" (${String(vch.id)}) holds 1 object(s) that are not container VMs in its pool: someone-elses (${guest.value}).`,
    );
    expect(await named('VirtualMachine', 'web')).toHaveLength(1);
    expect(await named('ResourcePool', 'vch-folder-guest')).toHaveLength(1);
  });

  it('GIVEN force_destroy and only container VMs WHEN deleted THEN they, the pool, the folder and the marked store are gone', async () => {
    const vch = await create({ ...base, name: 'vch-clean' });
    await fakeContainerVm(vch, 'c1');
    await fakeContainerVm(vch, 'c2');
    await engine.apply(await engine.plan('virtual_container_host', { ...vch, force_destroy: true }, null));
    expect(await named('VirtualMachine', 'c1')).toEqual([]);
    expect(await named('ResourcePool', 'vch-clean')).toEqual([]);
    expect(await named('Folder', 'vch-clean')).toEqual([]);
    expect(await datastoreDirectoryExists(outside, ds.ref, '[LocalDS_0] vch-clean')).toBe(false);
  });

  it("GIVEN a pool marker rewritten to name another folder and directory WHEN force-destroyed THEN only the state's folder and store go", async () => {
    const vch = await create({ ...base, name: 'vch-rewrite' });
    const decoyFolder = await createFolder(outside, dc.vmFolder, 'decoy-folder');
    await makeDirectory(outside, '[LocalDS_0] decoy-dir/keep', dc.ref);
    await uploadDatastoreFile(
      outside,
      { datacenter: 'DC0', datastore: 'LocalDS_0', path: `decoy-dir/${STORE_MARKER_FILE}` },
      JSON.stringify({ v: 1, vch: vch.id }),
    );
    const { customValue } = await retrieveObject<{ customValue: Array<{ key: number; value: string }> }>(outside, moRef('ResourcePool', String(vch.id)), [
      'customValue',
    ]);
    const marker = JSON.parse(
      [customValue]
        .flat()
        .filter((c) => Number(c.key) === markerKey)
        .pop()!.value,
    ) as Record<string, unknown>;
    await setCustomField(
      outside,
      moRef('ResourcePool', String(vch.id)),
      markerKey,
      JSON.stringify({ ...marker, folder_id: decoyFolder.value, image_store_path: 'decoy-dir' }),
    );

    // A refresh keeps what the state says the VCH owns.
    const [read] = await engine.read([{ type: 'virtual_container_host', state: vch }]);
    expect(read).toMatchObject({ folder_id: vch.folder_id, image_store_path: 'vch-rewrite', image_store: '[LocalDS_0] vch-rewrite' });

    await engine.apply(await engine.plan('virtual_container_host', { ...read, force_destroy: true }, null));
    expect(await named('Folder', 'vch-rewrite')).toEqual([]);
    expect(await named('Folder', 'decoy-folder')).toHaveLength(1);
    expect(await datastoreDirectoryExists(outside, ds.ref, '[LocalDS_0] decoy-dir/keep')).toBe(true);
    expect(await datastoreDirectoryExists(outside, ds.ref, '[LocalDS_0] vch-rewrite')).toBe(false);
  });

  it('GIVEN force_destroy and an image store whose marker file names another VCH WHEN deleted THEN the pool and folder go but the store stays', async () => {
    const vch = await create({ ...base, name: 'vch-unmarked-store' });
    // Overwritten by someone else: the store no longer says it is this VCH's.
    await uploadDatastoreFile(
      outside,
      { datacenter: 'DC0', datastore: 'LocalDS_0', path: `vch-unmarked-store/${STORE_MARKER_FILE}` },
      JSON.stringify({ v: 1, vch: 'resgroup-1' }),
    );
    await engine.apply(await engine.plan('virtual_container_host', { ...vch, force_destroy: true }, null));
    expect(await named('ResourcePool', 'vch-unmarked-store')).toEqual([]);
    expect(await datastoreDirectoryExists(outside, ds.ref, '[LocalDS_0] vch-unmarked-store')).toBe(true);
    expect(await datastoreDirectoryExists(outside, ds.ref, '[LocalDS_0] vch-unmarked-store/images')).toBe(true);
  });

  it('GIVEN a VCH destroyed without force_destroy (its store kept) WHEN a VCH of that name is created again THEN it reuses the store, and says so', async () => {
    const first = await create({ ...base, name: 'vch-again' });
    await engine.apply(await engine.plan('virtual_container_host', first, null));
    expect(await datastoreDirectoryExists(outside, ds.ref, '[LocalDS_0] vch-again/images')).toBe(true);
    const plan = await engine.plan('virtual_container_host', null, { ...base, name: 'vch-again' });
    expect(plan.problems).toEqual([]);
    expect(plan.notes).toEqual([
      `the image store [LocalDS_0] vch-again was kept by virtual container host ${String(first.id)} when it was destroyed; this VCH reuses it (and the images in it)`,
    ]);
    const second = (await engine.apply(plan)) as Attrs;
    expect(second.id).not.toBe(first.id);
    // Now the store is the new VCH's: another VCH pointing at it is refused.
    const third = await engine.plan('virtual_container_host', null, { ...base, name: 'vch-again-2', image_store_path: 'vch-again' });
    expect(third.problems.map((p) => p.detail)).toEqual([expect.stringContaining(`belongs to virtual container host ${String(second.id)}`)]);
  });

  it('GIVEN a pool marker that does not parse WHEN refreshed, planned or deleted THEN an error naming the pool, never "gone" or a replacement', async () => {
    const vch = await create({ ...base, name: 'vch-garbled' });
    await setCustomField(outside, moRef('ResourcePool', String(vch.id)), markerKey, '{not json');
    const message = new RegExp(
      `resource pool "vch-garbled" \\(${String(vch.id)}\\) carries a "vic-iac.vch" custom field that vic-iac cannot read: it is not JSON`,
    );
    await expect(engine.read([{ type: 'virtual_container_host', state: vch }])).rejects.toThrow(message);
    await expect(engine.apply(await engine.plan('virtual_container_host', vch, null))).rejects.toThrow(message);
    expect(await named('ResourcePool', 'vch-garbled')).toHaveLength(1);
    // A create of the name in another command (this one still holds the VCH it made).
    const plan = await engine.forCommand().plan('virtual_container_host', null, { ...base, name: 'vch-garbled' });
    expect(plan.problems.map((p) => p.detail)).toEqual([expect.stringMatching(message)]);
  });

  it('GIVEN a state whose MOID now names a container VM with another BIOS UUID WHEN that container VM is deleted THEN refused, and the VM stays', async () => {
    const vch = await create({ ...base, name: 'vch-uuid' });
    const other = await fakeContainerVm(vch, 'other');
    const prior: Attrs = { id: containerVmUuid(String(vch.id), 'mine'), vch_id: vch.id, name: 'mine', moid: other.value, image_id: `sha256:${'a'.repeat(64)}` };
    await expect(engine.apply(await engine.plan('container_vm', prior, null))).rejects.toThrow(
      new RegExp(`VM other \\(${other.value}\\) has the BIOS UUID .* not ${String(prior.id)} of container VM "mine"; refusing to delete it`),
    );
    expect(await named('VirtualMachine', 'other')).toHaveLength(1);
  });

  it('GIVEN a container VM whose vic.spec does not parse WHEN refreshed THEN an error naming the VM, not a re-create', async () => {
    const vch = await create({ ...base, name: 'vch-spec' });
    const ref = await fakeContainerVm(vch, 'broken', '{"command": [');
    const prior: Attrs = {
      id: containerVmUuid(String(vch.id), 'broken'),
      vch_id: vch.id,
      name: 'broken',
      moid: ref.value,
      image_id: `sha256:${'a'.repeat(64)}`,
    };
    await expect(engine.read([{ type: 'container_vm', state: prior }])).rejects.toThrow(
      new RegExp(
        `container VM "broken" \\(${ref.value}\\): its extraConfig "vic.spec" cannot be read: it is not JSON .*will not guess them, nor replace the VM because of it`,
      ),
    );
    expect(await named('VirtualMachine', 'broken')).toHaveLength(1);
  });
});

/**
 * Changes an admin or DRS makes in vCenter, through the engine against the simulator: a container
 * VM moved to another host plans no change; a VCH pool whose limits were edited is fixed in place;
 * a container VM moved out of its VCH's pool keeps its image, its volume and the VCH's store.
 */
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { VimClient, moRef, type ManagedObjectReference } from '../../../src/vsphere';
import { retrieveObject } from '../../../src/vsphere/property-collector';
import { updateResourcePool } from '../../../src/vsphere/resource-pool';
import { connectTestClient, connectTestEngine } from '../../helpers/engine';
import { APP_IMAGE, HELLO_IMAGE } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';
import { moveIntoFolder, moveIntoPool, moveToHost, otherHost, parentOf } from '../../helpers/vcenter-changes';

describe('moves made in vCenter', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let vch: Attrs;
  const vchConfig: Attrs = {
    name: 'vch-moves',
    compute: '/DC0/host/DC0_C0',
    datastore: 'LocalDS_0',
    bridge_network: 'VM Network',
    cpu_limit_mhz: 2000,
    memory_limit_mb: 4096,
    memory_shares: 'high',
  };

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    await registry().pushImage(APP_IMAGE, 'test/app:v1');
    await registry().pushImage(HELLO_IMAGE, 'test/hello:v1');
    vch = (await engine.apply(await engine.plan('virtual_container_host', null, vchConfig))) as Attrs;
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
  });

  // First: a refresh reads each resource once from one snapshot, so the drift must come before any read of the pool.
  it('GIVEN an admin changed the VCH pool limits and shares in vCenter WHEN planned THEN an in-place update that restores them', async () => {
    const pool = moRef('ResourcePool', String(vch.id));
    await updateResourcePool(outside, pool, { cpuAllocation: { limit: 500 }, memoryAllocation: { limit: 1024, shares: { level: 'low' } } });
    const [drifted] = await engine.read([{ type: 'virtual_container_host', state: vch }]);
    expect(drifted).toMatchObject({ id: vch.id, cpu_limit_mhz: 500, memory_limit_mb: 1024, memory_shares: 'low' });

    const plan = await engine.plan('virtual_container_host', drifted, vchConfig);
    expect(plan.action).toBe('update');
    expect(plan.requiresReplace).toEqual([]);
    expect([...plan.reasons].sort()).toEqual(['cpu_limit_mhz: 500 → 2000', 'memory_limit_mb: 1024 → 4096', 'memory_shares: "low" → "high"']);

    const fixed = (await engine.apply(plan)) as Attrs;
    expect(fixed).toMatchObject({ id: vch.id, cpu_limit_mhz: 2000, memory_limit_mb: 4096, memory_shares: 'high' });
    const [read] = await engine.read([{ type: 'virtual_container_host', state: fixed }]);
    expect((await engine.plan('virtual_container_host', read, vchConfig)).action).toBe('no-op');
  });

  it('GIVEN a running container VM WHEN DRS moves it to another host THEN a refresh reads the same state and the plan is empty', async () => {
    const image = (await engine.apply(
      await engine.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/test/app:v1`, insecure_registry: true }),
    )) as Attrs;
    const config: Attrs = { vch_id: vch.id, image_id: image.id, name: 'web-moved', memory_mb: 128 };
    const state = (await engine.apply(await engine.plan('container_vm', null, config))) as Attrs;
    const [before] = await engine.read([{ type: 'container_vm', state }]);
    const vm = moRef('VirtualMachine', String(state.moid));
    const { from, to } = await otherHost(outside, vm);

    await moveToHost(outside, vm, to);
    const { 'runtime.host': now } = await retrieveObject<{ 'runtime.host': ManagedObjectReference }>(outside, vm, ['runtime.host']);
    expect(now.value).toBe(to.value);
    expect(now.value).not.toBe(from.value);

    const [after] = await engine.read([{ type: 'container_vm', state: before! }]);
    expect(after).toEqual(before);
    const plan = await engine.plan('container_vm', after, config);
    expect(plan.action).toBe('no-op');
  });

  it('GIVEN a container VM with a volume that an admin moved out of the VCH pool WHEN its image, its volume or the VCH with force_destroy is destroyed THEN each is refused naming the VM, and nothing is deleted', async () => {
    const image = (await engine.apply(
      await engine.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/test/hello:v1`, insecure_registry: true }),
    )) as Attrs;
    const volume = (await engine.apply(await engine.plan('volume', null, { vch_id: vch.id, name: 'kept', size_mb: 64 }))) as Attrs;
    const config: Attrs = { vch_id: vch.id, image_id: image.id, name: 'moved-out', power_state: 'stopped', volumes: [{ volume_id: volume.id, path: '/data' }] };
    const state = (await engine.apply(await engine.plan('container_vm', null, config))) as Attrs;
    const vm = moRef('VirtualMachine', String(state.moid));
    const vchPool = moRef('ResourcePool', String(vch.id));
    await moveIntoPool(outside, await parentOf(outside, vchPool), [vm]);
    const { resourcePool } = await retrieveObject<{ resourcePool: ManagedObjectReference }>(outside, vm, ['resourcePool']);
    expect(resourcePool.value).not.toBe(vch.id);
    // Still its container VM: found by its UUID outside the pool, and started there.
    const [read] = await engine.read([{ type: 'container_vm', state }]);
    expect(read).toMatchObject({ id: state.id, moid: state.moid });
    const started = (await engine.apply(await engine.plan('container_vm', read, { ...config, power_state: 'running' }))) as Attrs;
    expect(started).toMatchObject({ moid: state.moid, power_state: 'running' });

    // Before: the pool's VMs were all the users looked for, and each of these deleted the disk from under moved-out.
    const named = `moved-out (${String(state.moid)})`;
    await expect(engine.apply(await engine.plan('image', image, null))).rejects.toThrow(`is in use by 1 container VM(s): ${named}`);
    await expect(engine.apply(await engine.plan('volume', volume, null))).rejects.toThrow(`is attached to 1 VM(s): ${named}`);
    const forced = { ...vch, force_destroy: true };
    // Moved to another pool only, it is still in the VCH's VM folder, which is refused first.
    await expect(engine.apply(await engine.plan('virtual_container_host', forced, null))).rejects.toThrow(
      `holds 1 object(s) that are not container VMs in its pool: ${named}`,
    );
    await moveIntoFolder(outside, await parentOf(outside, moRef('Folder', String(vch.folder_id))), [vm]);
    await expect(engine.apply(await engine.plan('virtual_container_host', forced, null))).rejects.toThrow(
      new RegExp(
        `force_destroy deletes its image store .* but 1 VM\\(s\\) outside its pool use disks in it: moved-out \\(${String(state.moid)}: .*volumes/kept/kept\\.vmdk.*\\)\\. Nothing was deleted`,
      ),
    );
    const [imageAfter, volumeAfter, vchAfter] = await engine.read([
      { type: 'image', state: image },
      { type: 'volume', state: volume },
      { type: 'virtual_container_host', state: vch },
    ]);
    expect(imageAfter).toMatchObject({ id: image.id });
    expect(volumeAfter).toMatchObject({ id: volume.id });
    expect(vchAfter).toMatchObject({ id: vch.id });

    // force_destroy on the volume detaches it from the VM outside the pool too, then deletes it.
    await engine.apply(await engine.plan('volume', { ...volume, force_destroy: true }, null));
    const { 'config.hardware.device': devices } = await retrieveObject<{ 'config.hardware.device': Array<{ backing?: { fileName?: string } }> }>(outside, vm, [
      'config.hardware.device',
    ]);
    expect(devices.map((d) => d.backing?.fileName).filter((f) => f?.includes('volumes/kept'))).toEqual([]);
    await engine.apply(await engine.plan('container_vm', state, null));
    await engine.apply(await engine.plan('image', image, null));
  });
});

/**
 * A VCH whose resource pool is deleted outside vic-iac (an administrator, a script): its folder and
 * image store stay behind with the volumes in it. The refresh drops the VCH and what lived in it;
 * the VCH made again under its name adopts the empty folder and the store, and the volume made
 * again adopts its disk, data and all: nothing is lost, nothing needs a hand-made import.
 */
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { moRef, type VimClient } from '../../../src/vsphere';
import { destroyResourcePool } from '../../../src/vsphere/resource-pool';
import { applied, connectTestClient, connectTestEngine } from '../../helpers/engine';
import { useSimulator } from '../../helpers/vcsim';

describe('a VCH whose resource pool was deleted outside vic-iac', () => {
  const sim = useSimulator();
  let engine: Engine;
  let outside: VimClient;
  const vchConfig = { name: 'vch-lost', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' };
  let vch: Attrs;
  let data: Attrs;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    vch = await applied(engine, await engine.plan('virtual_container_host', null, vchConfig));
    data = await applied(engine, await engine.plan('volume', null, { vch_id: vch.id, name: 'data', size_mb: 16 }));
    await destroyResourcePool(outside, moRef('ResourcePool', String(vch.id)));
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
  });

  it('GIVEN the pool deleted THEN the refresh drops the VCH and its volume; the VCH planned again adopts the empty folder and the store, saying so; applied, it keeps the folder', async () => {
    const command = engine.forCommand();
    const [vchNow, dataNow] = await command.read([
      { type: 'virtual_container_host', state: vch },
      { type: 'volume', state: data },
    ]);
    expect([vchNow, dataNow]).toEqual([null, null]);
    const plan = await command.plan('virtual_container_host', null, vchConfig);
    expect(plan.problems).toEqual([]);
    expect(plan.notes).toEqual([
      `the VM folder "vch-lost" (${String(vch.folder_id)}) was left by virtual container host ${String(vch.id)}, whose resource pool no longer exists; this VCH adopts it`,
      `the image store [LocalDS_0] vch-lost was kept by virtual container host ${String(vch.id)} when it was destroyed; this VCH reuses it (and the images in it)`,
    ]);
    const again = await applied(command, plan);
    expect(again.id).not.toBe(vch.id);
    expect(again.folder_id).toBe(vch.folder_id);
    vch = again;
  });

  it('GIVEN the VCH made again WHEN its volume is made again THEN the disk is adopted with its filesystem, not made anew', async () => {
    const command = engine.forCommand();
    const plan = await command.plan('volume', null, { vch_id: vch.id, name: 'data', size_mb: 16 });
    expect(plan.problems).toEqual([]);
    const adopted = await applied(command, plan);
    expect(adopted).toMatchObject({ id: data.id, vch_id: vch.id, filesystem_uuid: data.filesystem_uuid });
    // The marker names the new VCH now: the next refresh keeps it.
    const [read] = await engine.forCommand().read([{ type: 'volume', state: adopted }]);
    expect(read).toMatchObject({ id: data.id, vch_id: vch.id });
  });
});

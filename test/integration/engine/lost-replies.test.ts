/**
 * Lost replies: the simulator acts on a create, then the connection closes before its answer
 * (the launcher's `lose-reply` fault). Each apply recovers within the same run: it finds what the
 * lost call made, adopts it only because this very command just made it, and never duplicates it.
 * When every retry loses its answer, the next run recovers: the pool, marked pending first, claims
 * the empty folder and directory its create made.
 */
import { statSync } from 'node:fs';
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import type { FaultRule } from '../../../src/sim/control';
import { localBootstrapIso } from '../../../src/resources/bootstrap-iso';
import { STORE_MARKER_FILE } from '../../../src/resources/vch-ownership';
import { VimClient, moRef, type ManagedObjectReference } from '../../../src/vsphere';
import { downloadDatastoreFile, statDatastoreFile } from '../../../src/vsphere/datastore-http';
import { retrieveFromContainer, retrieveObject } from '../../../src/vsphere/property-collector';
import { connectTestClient, connectTestEngine } from '../../helpers/engine';
import { APP_IMAGE } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

const base: Attrs = { compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' };

describe('lost replies', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    await registry().pushImage(APP_IMAGE, 'test/app:v1');
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
  });
  afterEach(() => sim().control.clearFaults());

  async function named(type: string, name: string): Promise<ManagedObjectReference[]> {
    const rows = await retrieveFromContainer<{ name: string }>(outside, { container: outside.serviceContent.rootFolder, select: [{ type, paths: ['name'] }] });
    return rows.filter((r) => r.props.name === name).map((r) => r.ref);
  }

  async function readText(path: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of await downloadDatastoreFile(outside, { datacenter: 'DC0', datastore: 'LocalDS_0', path })) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Adds the rule, applies a new VCH, and checks the rule fired and the VCH is whole and single. */
  async function createThroughLostReply(name: string, rule: Omit<FaultRule, 'kind'>): Promise<Attrs> {
    const [added] = await sim().control.addFault({ ...rule, kind: 'lose-reply' });
    const plan = await engine.plan('virtual_container_host', null, { ...base, name });
    expect(plan.problems).toEqual([]);
    const state = (await engine.apply(plan)) as Attrs;
    const [after] = (await sim().control.faults()).filter((r) => r.id === added.id);
    expect(after.hits).toBe(1);
    expect(await named('ResourcePool', name)).toEqual([moRef('ResourcePool', String(state.id))]);
    expect(await named('Folder', name)).toEqual([moRef('Folder', String(state.folder_id))]);
    expect(JSON.parse(await readText(`${name}/${STORE_MARKER_FILE}`))).toEqual({ v: 1, vch: state.id });
    const [read] = await engine.read([{ type: 'virtual_container_host', state }]);
    expect(read).toEqual(state);
    return state;
  }

  it('GIVEN the reply to CreateResourcePool is lost WHEN a VCH is applied THEN the pool it made is adopted, once', async () => {
    await createThroughLostReply('vch-lost-pool', { method: 'CreateResourcePool' });
  });

  it('GIVEN the reply to CreateFolder is lost WHEN a VCH is applied THEN the folder it made is adopted and marked, once', async () => {
    const state = await createThroughLostReply('vch-lost-folder', { method: 'CreateFolder' });
    const { customValue } = await retrieveObject<{ customValue: Array<{ value: string }> }>(outside, moRef('Folder', String(state.folder_id)), ['customValue']);
    expect([customValue].flat().map((c) => c.value)).toContain(JSON.stringify({ v: 1, vch: state.id }));
  });

  it('GIVEN the reply to MakeDirectory of the image store is lost WHEN a VCH is applied THEN the directory it made is adopted and marked', async () => {
    await createThroughLostReply('vch-lost-dir', { method: 'MakeDirectory' });
  });

  it('GIVEN the reply to the upload of the store marker is lost WHEN a VCH is applied THEN the upload is sent again', async () => {
    await createThroughLostReply('vch-lost-marker', { method: 'HTTP PUT', this: `vch-lost-marker/${STORE_MARKER_FILE}` });
  });

  it('GIVEN the reply to the bootstrap ISO upload is lost WHEN a VCH is applied THEN the ISO is complete and recorded', async () => {
    const iso = localBootstrapIso();
    if (!iso) throw new Error('no bootstrap ISO: run "npm run setup" (scripts/build-bootstrap-iso.sh builds .cache/bootstrap/bootstrap.iso)');
    const state = await createThroughLostReply('vch-lost-iso', { method: 'HTTP PUT', this: 'vch-lost-iso/bootstrap.iso' });
    expect(state.bootstrap_iso).toBe('[LocalDS_0] vch-lost-iso/bootstrap.iso');
    expect((await statDatastoreFile(outside, { datacenter: 'DC0', datastore: 'LocalDS_0', path: 'vch-lost-iso/bootstrap.iso' }))?.size).toBe(
      statSync(iso).size,
    );
    expect((await readText('vch-lost-iso/bootstrap.iso.sha256')).split(' ')[1].trim()).toBe(String(statSync(iso).size));
  });

  it.each([
    ['CreateFolder', 'the folder'],
    ['MakeDirectory', 'the image store directory'],
  ])('GIVEN every reply to %s is lost WHEN the apply fails and runs again THEN %s it made is claimed by the pending pool', async (method) => {
    const name = `vch-next-${method.toLowerCase()}`;
    const config = { ...base, name };
    // Every attempt of the client's retries loses its answer: this run gives up.
    await sim().control.addFault({ method, kind: 'lose-reply', times: 4 });
    await expect(engine.apply(await engine.plan('virtual_container_host', null, config))).rejects.toThrow(/connection|socket|ECONNRESET/i);
    await sim().control.clearFaults();
    const [pool] = await named('ResourcePool', name);
    const again = await engine.plan('virtual_container_host', null, config);
    expect(again.problems).toEqual([]);
    expect(again.notes).toEqual([expect.stringContaining(`partly created by an earlier apply (${pool.value})`)]);
    const state = (await engine.apply(again)) as Attrs;
    expect(state.id).toBe(pool.value);
    expect(await named('Folder', name)).toEqual([moRef('Folder', String(state.folder_id))]);
    expect(JSON.parse(await readText(`${name}/${STORE_MARKER_FILE}`))).toEqual({ v: 1, vch: state.id });
  });

  describe('images and container VMs', () => {
    let vch: Attrs;
    let image: Attrs;

    beforeAll(async () => {
      vch = (await engine.apply(await engine.plan('virtual_container_host', null, { ...base, name: 'vch-lost-vm' }))) as Attrs;
    });

    it('GIVEN the reply to the upload of the image disk is lost WHEN the image is applied THEN the disk is sent again and the image is complete', async () => {
      const config: Attrs = { vch_id: vch.id, reference: `${registry().host}/test/app:v1`, insecure_registry: true };
      const [added] = await sim().control.addFault({ method: 'HTTP PUT', kind: 'lose-reply', times: 1 });
      image = (await engine.apply(await engine.plan('image', null, config))) as Attrs;
      expect((await sim().control.faults()).find((r) => r.id === added.id)?.hits).toBe(1);
      const again = await engine.plan('image', (await engine.read([{ type: 'image', state: image }]))[0], config);
      expect(again.action).toBe('no-op');
    });

    it('GIVEN the reply to CreateVM_Task is lost WHEN a container VM is applied THEN the VM it made is found by its BIOS UUID, never made twice', async () => {
      const config: Attrs = { vch_id: vch.id, image_id: image.id, name: 'web-lost', memory_mb: 128 };
      const [added] = await sim().control.addFault({ method: 'CreateVM_Task', kind: 'lose-reply' });
      const state = (await engine.apply(await engine.plan('container_vm', null, config))) as Attrs;
      expect((await sim().control.faults()).find((r) => r.id === added.id)?.hits).toBe(1);
      const vms = await named('VirtualMachine', 'web-lost');
      expect(vms).toEqual([moRef('VirtualMachine', String(state.moid))]);
      expect(state.power_state).toBe('running');
      const [read] = await engine.read([{ type: 'container_vm', state }]);
      expect((await engine.plan('container_vm', read, config)).action).toBe('no-op');
    });

    it('GIVEN the reply to Destroy_Task is lost WHEN the VCH is force-destroyed THEN the destroy completes', async () => {
      await sim().control.addFault({ method: 'Destroy_Task', kind: 'lose-reply' });
      await engine.apply(await engine.plan('virtual_container_host', { ...vch, force_destroy: true }, null));
      expect(await named('ResourcePool', 'vch-lost-vm')).toEqual([]);
      expect(await named('VirtualMachine', 'web-lost')).toEqual([]);
    });
  });
});

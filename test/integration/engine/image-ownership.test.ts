/**
 * An image's refresh and delete follow the state, through the engine against the simulator and a
 * real registry: the pool's `vic-iac.vch` marker rewritten to point the image store (or the
 * datacenter) elsewhere moves nothing, a delete removes the image the state names and leaves the
 * complete copy the marker points at, a state whose disk_path was edited out of shape is refused,
 * and an import refuses a store that says it is another VCH's.
 */
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { STORE_MARKER_FILE } from '../../../src/resources/vch-ownership';
import { VimClient } from '../../../src/vsphere';
import { datastoreDirectoryExists } from '../../../src/vsphere/datastore-browser';
import { statDatastoreFile } from '../../../src/vsphere/datastore-http';
import { deleteDatastoreFile, makeDirectory } from '../../../src/vsphere/file-manager';
import { type Datacenter, type InventoryObject } from '../../../src/vsphere/inventory';
import { applied, connectTestClient, connectTestEngine, defaultDatastore } from '../../helpers/engine';
import { HELLO_IMAGE } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { plantImageCopy, rewriteVchMarker } from '../../helpers/vch-marker';
import { useSimulator } from '../../helpers/vcsim';

describe('image ownership: read and delete follow the state', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let dc: Datacenter;
  let ds: InventoryObject;
  let reference: string;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    ({ dc, ds } = await defaultDatastore(outside));
    await registry().pushImage(HELLO_IMAGE, 'test/own:v1');
    reference = `${registry().host}/test/own:v1`;
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
  });

  async function vchWithImage(name: string): Promise<{ vch: Attrs; img: Attrs; hex: string }> {
    const vch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name, compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
    const img = await applied(engine, await engine.plan('image', null, { vch_id: vch.id, reference, insecure_registry: true, size_mb: 32 }));
    const hex = String(img.id).slice('sha256:'.length);
    expect(img.disk_path).toBe(`[LocalDS_0] ${name}/images/${hex}/${hex}.vmdk`);
    return { vch, img, hex };
  }

  const rewriteMarker = (vchId: string, change: Record<string, unknown>) => rewriteVchMarker(outside, vchId, change);
  const plantCopy = (from: string, to: string, hex: string, bytes: number) => plantImageCopy(outside, from, to, hex, bytes);
  const exists = (dsPath: string) => datastoreDirectoryExists(outside, ds.ref, dsPath);
  const stat = (path: string) => statDatastoreFile(outside, { datacenter: 'DC0', datastore: 'LocalDS_0', path });

  it("GIVEN the pool marker rewritten to point the image store at a complete copy of the image WHEN the image is deleted THEN the state's image goes and the copy stays", async () => {
    const { vch, img, hex } = await vchWithImage('vch-img-own');
    await plantCopy('vch-img-own', 'decoy-store', hex, Number(img.size_bytes));
    await rewriteMarker(String(vch.id), { image_store_path: 'decoy-store' });

    await engine.apply(await engine.plan('image', img, null));
    expect(await exists(`[LocalDS_0] vch-img-own/images/${hex}`)).toBe(false);
    expect(await exists('[LocalDS_0] vch-img-own/images')).toBe(true);
    expect(await stat(`decoy-store/images/${hex}/metadata.json`)).toBeDefined();
    expect(await stat(`decoy-store/images/${hex}/${hex}-flat.vmdk`)).toEqual({ size: Number(img.size_bytes) });
    // Gone where the state said: the copy the marker points at does not stand in for it.
    expect(await engine.read([{ type: 'image', state: img }])).toEqual([null]);
  });

  it('GIVEN the pool marker rewritten to point at a complete copy, then at a datacenter that does not exist WHEN refreshed THEN the state is read as it was (disk_path kept, never dropped)', async () => {
    const { vch, img, hex } = await vchWithImage('vch-img-dc');
    await plantCopy('vch-img-dc', 'decoy-read', hex, Number(img.size_bytes));
    await rewriteMarker(String(vch.id), { image_store_path: 'decoy-read' });
    expect(await engine.read([{ type: 'image', state: img }])).toEqual([img]);
    await rewriteMarker(String(vch.id), { datacenter: 'DC-elsewhere', datacenter_id: 'datacenter-999' });
    const fresh = await connectTestEngine(sim());
    try {
      expect(await fresh.read([{ type: 'image', state: img }])).toEqual([img]);
    } finally {
      await fresh.close();
    }
  });

  it('GIVEN the pool marker rewritten to point elsewhere WHEN an access setting changes in place THEN the update reads the image where the state says', async () => {
    const { vch, img } = await vchWithImage('vch-img-update');
    await rewriteMarker(String(vch.id), { image_store_path: 'nowhere' });
    const config: Attrs = {
      vch_id: vch.id,
      reference,
      insecure_registry: true,
      size_mb: 32,
      registry_auth: { username: 'reader', password: 'Upd4te-S3cret!' },
    };
    // A new command: nothing this engine remembers of the marker from the create.
    const fresh = await connectTestEngine(sim());
    try {
      const plan = await fresh.plan('image', img, config);
      expect(plan.action).toBe('update');
      const updated = await applied(fresh, plan);
      expect(updated).toMatchObject({ id: img.id, disk_path: img.disk_path, registry_auth: { username: 'reader' } });
    } finally {
      await fresh.close();
    }
  });

  it('GIVEN a state whose disk_path was edited to another directory WHEN refreshed or deleted THEN refused naming disk_path and the allowed shape, and nothing is deleted', async () => {
    const { img, hex } = await vchWithImage('vch-img-edit');
    await makeDirectory(outside, '[LocalDS_0] precious/data', dc.ref);
    const edited: Attrs[] = [
      { ...img, disk_path: '[LocalDS_0] precious/data/x.vmdk' },
      { ...img, disk_path: `[LocalDS_0] vch-img-edit/images/${hex}/../../../precious/images/${hex}/${hex}.vmdk` },
      { ...img, disk_path: `[LocalDS_0] images/${hex}/${hex}.vmdk` },
      { ...img, disk_path: null },
    ];
    for (const state of edited) {
      const message = `image ${String(img.id)}: the state's disk_path = ${JSON.stringify(state.disk_path)} is not where vic-iac puts an image disk. Allowed: "[<datastore>] <image store>/images/${hex}/${hex}.vmdk"`;
      await expect(engine.read([{ type: 'image', state }])).rejects.toThrow(message);
      await expect(engine.apply(await engine.plan('image', state, null))).rejects.toThrow(message);
    }
    expect(await exists('[LocalDS_0] precious/data')).toBe(true);
    expect(await exists(`[LocalDS_0] vch-img-edit/images/${hex}`)).toBe(true);
  });

  it('GIVEN an image imported by <vch_id>/<digest> WHEN the marker is rewritten afterwards and the image deleted THEN the import took disk_path from the marker once, and the delete follows it', async () => {
    const { vch, img, hex } = await vchWithImage('vch-img-import');
    const imported = await engine.importState('image', `${String(vch.id)}/${String(img.id)}`);
    expect(imported.disk_path).toBe(img.disk_path);
    await makeDirectory(outside, `[LocalDS_0] decoy-import/images/${hex}`, dc.ref);
    await rewriteMarker(String(vch.id), { image_store_path: 'decoy-import' });
    await engine.apply(await engine.plan('image', imported, null));
    expect(await exists(`[LocalDS_0] vch-img-import/images/${hex}`)).toBe(false);
    expect(await exists(`[LocalDS_0] decoy-import/images/${hex}`)).toBe(true);
  });

  it("GIVEN a VCH whose marker was rewritten to point at another VCH's image store WHEN an image is imported through it THEN refused naming that VCH; a store made before the marker file imports", async () => {
    const { vch: other, img, hex } = await vchWithImage('vch-img-other');
    const mine = await applied(
      engine,
      await engine.plan('virtual_container_host', null, {
        name: 'vch-img-mine',
        compute: '/DC0/host/DC0_C0',
        datastore: 'LocalDS_0',
        bridge_network: 'VM Network',
      }),
    );
    await rewriteMarker(String(mine.id), { image_store_path: 'vch-img-other' });
    await expect(engine.importState('image', `${String(mine.id)}/${String(img.id)}`)).rejects.toThrow(
      `cannot import image ${String(img.id)} into virtual container host ${String(mine.id)}: the pool's "vic-iac.vch" marker names the image store [LocalDS_0] vch-img-other, whose ${STORE_MARKER_FILE} says it belongs to virtual container host ${String(other.id)}. vic-iac imports an image only from its own VCH's store. Restore image_store_path in the pool's marker (vSphere Client: the pool's Custom Attributes), or import ${String(other.id)}/${String(img.id)} instead.`,
    );
    // A store made by a version without the marker file is imported by its own VCH as before.
    await deleteDatastoreFile(outside, `[LocalDS_0] vch-img-other/${STORE_MARKER_FILE}`, dc.ref);
    expect(await engine.importState('image', `${String(other.id)}/${String(img.id)}`)).toMatchObject({ id: img.id, disk_path: img.disk_path });
    expect(await exists(`[LocalDS_0] vch-img-other/images/${hex}`)).toBe(true);
  });
});

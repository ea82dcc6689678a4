/**
 * How a volume's disk travels, through the engine against the launcher's simulator: as a hosted
 * sparse VMDK the server converts (only the empty ext4's metadata crosses the wire, counted by a
 * TCP relay between the engine and the simulator), the flat fallback when the server refuses, a
 * failed conversion leaving no temporary file, and a create killed midway redone over its leftovers.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { volumeFilesystemUuid } from '../../../src/resources/volume';
import { deleteDatastoreFile, downloadDatastoreFile, statDatastoreFile, uploadDatastoreFile, type VimClient } from '../../../src/vsphere';
import { countingRelay, type CountingRelay } from '../../helpers/counting-relay';
import { applied, connectTestClient, defaultDatastore } from '../../helpers/engine';
import { bytesOf, ext4Uuid } from '../../helpers/disk-bytes';
import { useSimulator } from '../../helpers/vcsim';

const MiB = 1024 * 1024;

describe('GIVEN a VCH on the simulator, reached through a relay that counts the bytes sent', () => {
  const sim = useSimulator();
  let relay: CountingRelay;
  let engine: Engine;
  let outside: VimClient;
  let vch: Attrs;

  beforeAll(async () => {
    relay = await countingRelay(sim().url);
    engine = await connect();
    outside = await connectTestClient(sim());
    await defaultDatastore(outside);
    vch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name: 'vch-s', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    await relay?.close();
  });
  afterEach(async () => {
    await sim().control.clearFaults();
  });

  const file = (volume: string, name: string) => ({ datacenter: 'DC0', datastore: 'LocalDS_0', path: `vch-s/volumes/${volume}/${name}` });

  const connect = () => connectEngine({ url: relay.url, username: sim().username, password: sim().password, insecure: false, thumbprint: sim().thumbprint });

  /** Creates a volume as a new apply would: a new engine (the one that failed or was killed is gone). */
  async function create(name: string, sizeMb: number): Promise<{ state: Attrs; sent: number; details: string[] }> {
    const details: string[] = [];
    const fresh = await connect();
    try {
      const plan = await fresh.plan('volume', null, { vch_id: vch.id, name, size_mb: sizeMb });
      const before = relay.sent();
      const state = (await fresh.apply(plan, {
        onProgress: (e) => {
          if (e.phase === 'upload' && e.message) details.push(e.message);
        },
      })) as Attrs;
      return { state, sent: relay.sent() - before, details };
    } finally {
      await fresh.close();
    }
  }

  /** The volume is complete, its ext4 carries its UUID, and no temporary sparse file is left. */
  async function expectComplete(state: Attrs, name: string, sizeMb: number): Promise<void> {
    expect(state).toMatchObject({ id: `[LocalDS_0] vch-s/volumes/${name}/${name}.vmdk`, size_mb: sizeMb });
    expect(ext4Uuid(await bytesOf(await downloadDatastoreFile(outside, file(name, `${name}-flat.vmdk`)), 4096))).toBe(volumeFilesystemUuid(String(state.id)));
    expect((await statDatastoreFile(outside, file(name, `${name}-flat.vmdk`)))?.size).toBe(sizeMb * MiB);
    const descriptor = (await bytesOf(await downloadDatastoreFile(outside, file(name, `${name}.vmdk`)), Infinity)).toString('utf8');
    expect(descriptor).toContain(`RW ${(sizeMb * MiB) / 512} FLAT "${name}-flat.vmdk" 0`);
    expect(await statDatastoreFile(outside, file(name, `${name}-upload-sparse.vmdk`))).toBeUndefined();
    expect(await readFresh(state)).toEqual(state);
  }

  /** A refresh as a new command would do it (an engine's listing of a store lasts a command). */
  async function readFresh(state: Attrs): Promise<Attrs | null> {
    const fresh = await connect();
    try {
      return (await fresh.read([{ type: 'volume', state }]))[0];
    } finally {
      await fresh.close();
    }
  }

  test('WHEN a 1 GiB volume is created THEN at most 4 MiB cross the wire: the server converts the sparse upload of its empty ext4', async () => {
    const { state, sent, details } = await create('big', 1024);
    expect(sent).toBeLessThan(4 * MiB);
    expect(details.some((d) => /\(sparse: \d+ of 16384 grains hold data\)/.test(d))).toBe(true);
    await expectComplete(state, 'big', 1024);
    // On the simulator's host the extent is a sparse file: the free space is holes.
    const local = (await sim().control.info()).datastores.LocalDS_0;
    const onHost = await stat(join(local, 'vch-s/volumes/big/big-flat.vmdk'));
    expect(onHost.blocks * 512).toBeLessThan(64 * MiB);
    await applied(engine, await engine.plan('volume', state, null));
  }, 120_000);

  test('WHEN the server refuses the conversion (NotImplemented) THEN the create says why and uploads the whole flat extent instead', async () => {
    await sim().control.addFault({ method: 'CopyVirtualDisk_Task', kind: 'task', fault: 'NotImplemented', times: -1 });
    const { state, sent, details } = await create('flat', 64);
    expect((await sim().control.faults())[0]).toMatchObject({ hits: 1 });
    expect(details.some((d) => /does not convert sparse disks \(NotImplemented\): uploading the whole flat extent/.test(d))).toBe(true);
    expect(sent).toBeGreaterThan(64 * MiB);
    await expectComplete(state, 'flat', 64);
  }, 120_000);

  test('WHEN the conversion fails for another reason THEN the create fails naming it, leaves no temporary file, and the next apply completes the volume', async () => {
    await sim().control.addFault({ method: 'CopyVirtualDisk_Task', kind: 'task', fault: 'NoDiskSpace', message: 'datastore full (test)', times: 1 });
    await expect(create('fails', 32)).rejects.toThrow(/conversion of the sparse upload into .*NoDiskSpace/);
    expect(await statDatastoreFile(outside, file('fails', 'fails-upload-sparse.vmdk'))).toBeUndefined();
    expect(await statDatastoreFile(outside, file('fails', 'fails.vmdk'))).toBeUndefined();

    const { state, sent } = await create('fails', 32);
    expect(sent).toBeLessThan(4 * MiB);
    await expectComplete(state, 'fails', 32);
  }, 120_000);

  test('WHEN a create was killed after the conversion wrote the extent but before the descriptor THEN the next apply converts again over the leftovers', async () => {
    const first = await create('killed', 32);
    // What a kill leaves: the marker and an extent without its descriptor, and a stray sparse upload.
    await deleteDatastoreFile(outside, `[LocalDS_0] vch-s/volumes/killed/killed.vmdk`, (await defaultDatastore(outside)).dc.ref);
    await uploadDatastoreFile(outside, file('killed', 'killed-upload-sparse.vmdk'), Buffer.alloc(4096, 1));
    expect(await readFresh(first.state)).toBeNull();

    // Once the create lease of the leftovers has passed (they could be another create's at work before).
    process.env.VIC_VOLUME_CREATE_LEASE_MS = '0';
    const { state, sent } = await create('killed', 32).finally(() => delete process.env.VIC_VOLUME_CREATE_LEASE_MS);
    expect(sent).toBeLessThan(4 * MiB);
    await expectComplete(state, 'killed', 32);
  }, 120_000);
});

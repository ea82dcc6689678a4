/**
 * A volume's failures name the volume, not the VCH image store its directory lies in: the volume's
 * name and directory, what failed, and what to do. Through the engine against the simulator, with
 * the server's conversion failing.
 */
import { connectEngine, type Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { makeDirectory, uploadDatastoreFile } from '../../../src/vsphere';
import { applied, connectTestClient, defaultDatastore } from '../../helpers/engine';
import { useSimulator } from '../../helpers/vcsim';

describe('GIVEN a VCH on the simulator', () => {
  const sim = useSimulator();
  let engine: Engine;
  let vch: Attrs;

  beforeAll(async () => {
    engine = await connectEngine({ url: sim().url, username: sim().username, password: sim().password, insecure: false, thumbprint: sim().thumbprint });
    const outside = await connectTestClient(sim());
    await defaultDatastore(outside);
    await outside.close();
    vch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name: 'vch-e', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
  });
  afterEach(async () => {
    await sim().control.clearFaults();
  });

  test('WHEN the server fails the conversion of a volume disk THEN the error names the volume and its directory, the failure, and what to do', async () => {
    await sim().control.addFault({ method: 'CopyVirtualDisk_Task', kind: 'task', fault: 'NoDiskSpace', message: 'datastore full (test)', times: 1 });
    const err = await engine
      .plan('volume', null, { vch_id: vch.id, name: 'full', size_mb: 32 })
      .then((plan) => engine.apply(plan))
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err).toBeInstanceOf(Error);
    const message = String(err?.message);
    expect(message).toMatch(
      /volume "full" \(\[LocalDS_0\] vch-e\/volumes\/full\): conversion of the sparse upload into \[LocalDS_0\] vch-e\/volumes\/full\/full\.vmdk failed: .*NoDiskSpace/,
    );
    expect(message).toMatch(/check the datastore LocalDS_0 \(free space, your permissions on it\) and apply again/);
    expect(message).not.toMatch(/image store/);
  }, 120_000);

  test('WHEN a volume path that holds nothing is imported THEN the error says there is no such volume and where to find the ids; a disk without the marker is named as not made by vic-iac', async () => {
    await expect(engine.importState('volume', '[LocalDS_0] vch-e/volumes/nope/nope.vmdk')).rejects.toThrow(
      'cannot import [LocalDS_0] vch-e/volumes/nope/nope.vmdk: there is no volume "nope" in the store [LocalDS_0] vch-e. Check the datastore, the store path and the name: vic ls --all lists the volumes vic-iac made, with their ids.',
    );
    const outside = await connectTestClient(sim());
    try {
      const dc = (await defaultDatastore(outside)).dc.ref;
      await makeDirectory(outside, '[LocalDS_0] vch-e/volumes/theirs', dc, true);
      await uploadDatastoreFile(outside, { datacenter: 'DC0', datastore: 'LocalDS_0', path: 'vch-e/volumes/theirs/theirs.vmdk' }, '# Disk DescriptorFile\n');
    } finally {
      await outside.close();
    }
    await expect(engine.importState('volume', '[LocalDS_0] vch-e/volumes/theirs/theirs.vmdk')).rejects.toThrow(
      /the disk carries no vic-iac-volume\.json beside it, so vic-iac did not make it; only volumes made by vic-iac can be imported/,
    );
    await expect(engine.importState('volume', 'data')).rejects.toThrow(/vic ls --all lists the volumes vic-iac made, with their ids/);
  }, 120_000);
});

/**
 * A volume's failures name the volume, not the VCH image store its directory lies in: the volume's
 * name and directory, what failed, and what to do. Through the engine against the simulator, with
 * the server's conversion failing.
 */
import { connectEngine, type Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
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
});

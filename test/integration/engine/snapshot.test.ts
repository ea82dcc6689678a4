/**
 * The inventory reads a refresh takes (src/resources/snapshot.ts), against vcsim: what a read with
 * the VMs holds, and what a pool-only read leaves out.
 */
import { Inventory, VimClient, retrieveFromContainer, type SoapLogEvent } from '../../../src/vsphere';
import { takeSnapshot } from '../../../src/resources/snapshot';
import { useSimulator } from '../../helpers/vcsim';

describe('GIVEN a resource pool holding VMs', () => {
  const sim = useSimulator({ vms: 4 });
  let client: VimClient;
  const requests: string[] = [];
  let pool: string;
  let vmsInPool: string[];

  beforeAll(async () => {
    client = await VimClient.connect({
      url: sim().url,
      username: sim().username,
      password: sim().password,
      thumbprint: sim().thumbprint,
      logBodies: true,
      log: (e: SoapLogEvent) => void (e.method === 'RetrievePropertiesEx' && e.requestXml && requests.push(e.requestXml)),
    });
    const dc = await new Inventory(client).datacenter();
    const rows = await retrieveFromContainer<{ resourcePool?: { value: string } }>(client, {
      container: dc.vmFolder,
      select: [{ type: 'VirtualMachine', paths: ['resourcePool'] }],
    });
    const byPool = new Map<string, string[]>();
    for (const r of rows) if (r.props.resourcePool) byPool.set(r.props.resourcePool.value, [...(byPool.get(r.props.resourcePool.value) ?? []), r.ref.value]);
    [pool, vmsInPool] = [...byPool].sort((a, b) => b[1].length - a[1].length)[0];
  });

  afterAll(async () => {
    await client?.close();
  });

  it('WHEN it is read with its VMs THEN the pool lists them and every VM has its row, in one round trip', async () => {
    requests.length = 0;
    const snap = await takeSnapshot(client, [pool]);
    expect(vmsInPool.length).toBeGreaterThan(1);
    expect([...snap.pools.get(pool)!.vmMoids].sort()).toEqual([...vmsInPool].sort());
    expect(
      snap
        .vmsInPool(pool)
        .map((vm) => vm.moid)
        .sort(),
    ).toEqual([...vmsInPool].sort());
    expect(requests).toHaveLength(1);
  });

  it('WHEN only its row is read THEN the request asks for no list of VMs, which grows with the pool, and none comes back', async () => {
    requests.length = 0;
    const snap = await takeSnapshot(client, [pool], { vms: false });
    const row = snap.pools.get(pool)!;
    expect(row.name).not.toBe('');
    expect(row.vmMoids).toEqual([]);
    expect(snap.vms.size).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]).not.toMatch(/<pathSet>vm<\/pathSet>/);
    expect(requests[0]).toMatch(/<pathSet>customValue<\/pathSet>/);
  });
});

import { startSimulator, type SimulatorOptions } from '../../../src/sim/simulator';

describe('vcsim launcher: inventory flags', () => {
  test.each<[string, SimulatorOptions, Record<string, number>]>([
    [
      '2 clusters of 2 hosts, 1 standalone host, 3 datastores, 2 port groups',
      { clusters: 2, hostsPerCluster: 2, standaloneHosts: 1, datastores: 3, portgroups: 2 },
      // port groups: the 2 asked for plus the DVS uplink group
      { datacenters: 1, clusters: 2, hosts: 5, datastores: 3, portgroups: 3, dvs: 1, vms: 0 },
    ],
    [
      'no DVS, 2 VMs per pool and host',
      { clusters: 1, hostsPerCluster: 1, standaloneHosts: 1, dvs: false, vms: 2 },
      { clusters: 1, hosts: 2, portgroups: 0, dvs: 0, vms: 4 },
    ],
  ])('GIVEN %s WHEN started THEN /info counts match', async (_name, options, expected) => {
    const sim = await startSimulator({ ...options, tls: false });
    try {
      const info = await sim.control.info();
      expect(info.model).toMatchObject(expected);
      expect(Object.keys(info.datastores)).toHaveLength(expected.datastores ?? 1);
    } finally {
      await sim.stop();
    }
  });

  test('GIVEN 2 datacenters WHEN started THEN datastores are keyed by datacenter, each with its own directory', async () => {
    const sim = await startSimulator({ datacenters: 2, tls: false });
    try {
      const { datastores, model } = await sim.control.info();
      expect(model.datacenters).toBe(2);
      expect(Object.keys(datastores).sort()).toEqual(['DC0/LocalDS_0', 'DC1/LocalDS_0']);
      expect(new Set(Object.values(datastores)).size).toBe(2);
    } finally {
      await sim.stop();
    }
  });

  test('GIVEN a negative count WHEN starting THEN it rejects before spawning anything', async () => {
    await expect(startSimulator({ clusters: -1 })).rejects.toThrow(/clusters must be a non-negative integer, got -1/);
  });
});

/**
 * VIC Group1 1-10 ps, the cases 1-10-ps.test.ts and listing-filters.test.ts leave out: -l with -s,
 * a label given as a bare key, several values of one filter (any matches) and two filters (all
 * must match), and a container VM powered on through the vSphere API. No guest runs here: power
 * states are enough.
 */
import { moRef } from '../../src/vsphere';
import { powerOnVm } from '../../src/vsphere/virtual-machine';
import { connectTestClient } from '../helpers/engine';
import { eventually, useDockerBed } from './docker-env';

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('1-10 docker ps (VIC cases)', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-ps-vic' });

  const names = async (...args: string[]) => lines(await bed().dockerOk(['ps', '-a', '--format', '{{.Names}}', ...args])).sort();

  test('GIVEN a label given as a bare key (--label prod) WHEN docker ps -a filters label=prod or name=abe THEN the container alone is listed', async () => {
    await bed().dockerOk(['create', '--name', 'abe', '--label', 'prod', bed().image]);
    await bed().dockerOk(['create', '--name', 'other-1', '--label', 'dev', bed().image]);
    expect(await bed().dockerOk(['inspect', '-f', '{{json .Config.Labels.prod}}', 'abe'])).toBe('""');
    const byLabel = await bed().dockerOk(['ps', '-a', '-f', 'label=prod']);
    expect(lines(byLabel)).toHaveLength(2);
    expect(byLabel).toContain('abe');
    expect(await names('-f', 'label=prod')).toEqual(['abe']);
    expect(await names('-f', 'name=abe')).toEqual(['abe']);
  });

  test('GIVEN containers WHEN docker ps -l -s runs THEN it shows the SIZE column and the last container alone', async () => {
    const out = await bed().dockerOk(['ps', '-l', '-s']);
    const rows = lines(out);
    expect(rows[0]).toMatch(/ SIZE$/);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(/ other-1 +\S+.*$/);
  });

  test('GIVEN a container with volume foo WHEN ps filters volume=foo, volume=foo and volume=bar, or volume=fo THEN any value matches, a prefix does not', async () => {
    await bed().dockerOk(['create', '-v', 'foo:/dir', '--name', 'fooContainer', bed().image]);
    expect(await names('-f', 'volume=foo')).toEqual(['fooContainer']);
    expect(await names('-f', 'volume=foo', '-f', 'volume=bar')).toEqual(['fooContainer']);
    expect(await names('-f', 'volume=fo')).toEqual([]);
  });

  test('GIVEN the VCH bridge network WHEN ps filters network by its name, with another name, by a prefix of its name or of its id THEN as dockerd: name or id prefix, any value', async () => {
    const all = await names();
    expect(await names('-f', 'network=VM Network', '-f', 'network=barNet')).toEqual(all);
    expect(await names('-f', 'network=VM')).toEqual([]);
    const id = await bed().dockerOk(['network', 'inspect', '-f', '{{.Id}}', 'VM Network']);
    expect(await names('-f', `network=${id}`)).toEqual(all);
    expect(await names('-f', `network=${id.slice(0, 12)}`)).toEqual(all);
  });

  test('GIVEN a volume and a network filter WHEN both are given THEN a container must match both', async () => {
    await bed().dockerOk(['create', '-v', 'buz:/dir', '--network', 'VM Network', '--name', 'buzFooContainer', bed().image]);
    expect(await names('-f', 'volume=foo', '-f', 'network=bar')).toEqual([]);
    expect(await names('-f', 'network=bar', '-f', 'volume=foo')).toEqual([]);
    expect(await names('-f', 'volume=foo', '-f', 'volume=buz', '-f', 'network=bar')).toEqual([]);
    expect(await names('-f', 'volume=buz', '-f', 'network=VM Network')).toEqual(['buzFooContainer']);
  });

  test('GIVEN a created container WHEN its VM is powered on through the vSphere API THEN docker ps lists it as running', async () => {
    await bed().dockerOk(['create', '--name', 'jojo', bed().image, 'sleep', '600']);
    const before = lines(await bed().dockerOk(['ps', '-q'])).length;
    const outside = await connectTestClient(bed().sim);
    try {
      const vm = (await bed().engine.inventory()).containerVms.find((v) => v.name === 'jojo');
      await powerOnVm(outside, moRef('VirtualMachine', String(vm?.moid)));
    } finally {
      await outside.close();
    }
    await eventually(bed(), 'docker ps -q lists one more container', async () => lines(await bed().dockerOk(['ps', '-q'])).length === before + 1, 60_000);
    expect(await bed().dockerOk(['ps', '--filter', 'name=jojo', '--format', '{{.Names}} {{.State}}'])).toBe('jojo running');
  }, 90_000);
});

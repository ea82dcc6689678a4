/** The docker networks an endpoint keeps (networks.ts): each VCH's own, in one file per endpoint directory. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerNetworks, networkId, networksFile } from '../../../src/endpoint/networks';

describe('DockerNetworks', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'vic-networks-'));
  const names = (n: DockerNetworks) => n.list().map((r) => r.Name);

  it('GIVEN networks made for one VCH WHEN another VCH is served from the same directory THEN it lists none of them, and the first one lists its own again', () => {
    const file = networksFile(dir());
    const first = new DockerNetworks(file);
    first.serve('resgroup-1');
    first.create({ Name: 'app' }, 'VM Network', () => false);
    expect(names(first)).toEqual(['app']);

    const other = new DockerNetworks(file);
    other.serve('resgroup-2');
    expect(names(other)).toEqual([]);
    expect(other.find('app')).toBeUndefined();
    // The same name is free on the other VCH.
    other.create({ Name: 'app' }, 'VM Network', () => false);

    const again = new DockerNetworks(file);
    again.serve('resgroup-1');
    expect(names(again)).toEqual(['app']);
    expect(again.find(networkId('app').slice(0, 12))?.Vch).toBe('resgroup-1');
  });

  it('GIVEN a VCH destroyed WHEN its networks are forgotten THEN the file keeps only the other VCHs', () => {
    const file = networksFile(dir());
    const n = new DockerNetworks(file);
    n.serve('resgroup-1');
    n.create({ Name: 'old' }, 'VM Network', () => false);
    n.serve('resgroup-2');
    n.create({ Name: 'kept' }, 'VM Network', () => false);
    n.forget('resgroup-1');
    n.serve('resgroup-1');
    expect(names(n)).toEqual([]);
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Array<{ Name: string; Vch: string }>;
    expect(kept.map((r) => [r.Name, r.Vch])).toEqual([['kept', 'resgroup-2']]);
  });

  it('GIVEN records kept before they named their VCH THEN the first VCH served takes them, and no other lists them', () => {
    const file = networksFile(dir());
    const legacy = { Name: 'legacy', Id: networkId('legacy'), Created: '2026-01-01T00:00:00.000Z', Labels: {}, PortGroup: 'VM Network' };
    writeFileSync(file, JSON.stringify([legacy]));
    const n = new DockerNetworks(file);
    n.serve('resgroup-7');
    expect(names(n)).toEqual(['legacy']);
    expect((JSON.parse(readFileSync(file, 'utf8')) as Array<{ Vch: string }>)[0].Vch).toBe('resgroup-7');
    n.serve('resgroup-8');
    expect(names(n)).toEqual([]);
  });
});

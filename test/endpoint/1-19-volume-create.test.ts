/**
 * VIC Group1 1-19 volume create: named and unnamed volumes, the size option, and the inputs refused
 * with what to do instead (bad driver, bad size, bad name, a name taken). The volumes are read back
 * from vSphere through the engine, as IaC sees them.
 */
import type { Attrs } from '../../src/resources';
import { volumeFilesystemUuid } from '../../src/resources/volume';
import { downloadDatastoreFile } from '../../src/vsphere';
import { bytesOf, ext4Uuid } from '../helpers/disk-bytes';
import { connectTestClient } from '../helpers/engine';
import { useDockerBed } from './docker-env';

describe('1-19 docker volume create', () => {
  const bed = useDockerBed({ vchName: 'vch-volc' });
  const inVsphere = async (): Promise<Attrs[]> => bed().engine.forCommand().listIn('volume', String(bed().vch.id));

  test('GIVEN no name WHEN docker volume create runs THEN it prints a generated 64-hex name of a 1024 MB volume in the VCH store', async () => {
    const r = await bed().docker(['volume', 'create']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const v = (await inVsphere()).find((x) => x.name === r.stdout.trim());
    expect(v?.size_mb).toBe(1024);
    expect(v?.id).toBe(`[LocalDS_0] ${String(bed().vch.image_store_path)}/volumes/${r.stdout.trim()}/${r.stdout.trim()}.vmdk`);
  });

  test('GIVEN --name and -o size=64MB with --label THEN the volume has that size and labels; a second create of the name is refused', async () => {
    const r = await bed().docker(['volume', 'create', '--name=test', '-o', 'size=64MB', '--label', 'tier=db']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'test\n', '']);
    const v = (await inVsphere()).find((x) => x.name === 'test');
    expect(v?.size_mb).toBe(64);
    expect(v?.labels).toMatchObject({ tier: 'db', 'vic-iac.docker.origin': 'docker' });
    const again = await bed().docker(['volume', 'create', 'test']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('Error response from daemon: A volume named test already exists. Choose a different volume name.\n');
  });

  test('GIVEN a bare number or GB for the Capacity option THEN it is MB or GB', async () => {
    expect((await bed().docker(['volume', 'create', '--opt', 'Capacity=100', 'cap-mb'])).code).toBe(0);
    expect((await bed().docker(['volume', 'create', '--opt', 'size=1GB', 'cap-gb'])).code).toBe(0);
    const byName = new Map((await inVsphere()).map((v) => [v.name, v.size_mb]));
    expect([byName.get('cap-mb'), byName.get('cap-gb')]).toEqual([100, 1024]);
  });

  test.each([
    [
      ['-d', 'fakeDriver', '--name=test2'],
      /--driver fakeDriver: error looking up volume plugin fakeDriver: plugin not found; vic-iac volumes are VMDKs in the VCH's store: use the default driver \(local\) or vsphere/,
    ],
    [['--name=test5', '--opt', 'Capacity=0'], /-o Capacity=0 \(0 MB\) is below the minimum of 16 MB/],
    [['--name=test6', '--opt', 'Capacity=-1'], /-o Capacity=-1: not a size\. Allowed: a whole number of MB, GB or TB/],
    [['--name=test7', '--opt', 'Capacity=9999999999999999999'], /-o Capacity=9999999999999999999 is above the maximum of 2097152 MB \(2 TB\)/],
    [['--name=test9', '--opt', 'Capacity=3000000'], /-o Capacity=3000000 \(3000000 MB\) is above the maximum of 2097152 MB/],
    [['--name=test8', '--opt', 'VolumeStore=fakeStore'], /-o VolumeStore=fakeStore: VolumeStore is not a supported option; allowed: size \(or capacity\)/],
    [
      ['--name=test???'],
      // dockerd's words (and VIC's), after the name.
      /create test\?\?\?: "test\?\?\?" includes invalid characters for a volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_\.-\]" are allowed \(1 to 64 of them\)/,
    ],
  ])('GIVEN volume create %j THEN it exits 1 with what is allowed, and nothing is made', async (args, message) => {
    const before = (await inVsphere()).map((v) => v.name).sort();
    const r = await bed().docker(['volume', 'create', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error response from daemon: /);
    expect(r.stderr).toMatch(message);
    expect((await inVsphere()).map((v) => v.name).sort()).toEqual(before);
  });

  test('GIVEN -v or --mount with a host path THEN docker create is refused with what to do, and no volume is made', async () => {
    const before = (await inVsphere()).map((v) => v.name).sort();
    const bind = await bed().docker(['create', '-v', '/srv/data:/data', bed().image]);
    expect(bind.code).toBe(1);
    expect(bind.stderr).toContain(
      '-v /srv/data:/data: bind mounts are not supported by vic-iac: bind mounts need a host; use a named volume (-v <name>:/data)',
    );
    const mount = await bed().docker(['create', '--mount', 'type=bind,source=/srv/data,target=/data', bed().image]);
    expect(mount.code).toBe(1);
    expect(mount.stderr).toContain(
      '--mount type=bind,source=/srv/data,target=/data: bind mounts are not supported by vic-iac: bind mounts need a host; use a named volume (--mount type=volume,source=<name>,target=/data)',
    );
    expect((await inVsphere()).map((v) => v.name).sort()).toEqual(before);
  });

  test('GIVEN five clients creating one volume name at once THEN one makes it, with its labels, and the others get 409; the volume is whole', async () => {
    const runs = await Promise.all([1, 2, 3, 4, 5].map((n) => bed().docker(['volume', 'create', '--label', `n=${n}`, 'race'])));
    const made = runs.filter((r) => r.code === 0);
    expect(made.map((r) => r.stdout)).toEqual(['race\n']);
    for (const r of runs.filter((x) => x.code !== 0)) {
      expect([r.code, r.stderr]).toEqual([1, 'Error response from daemon: A volume named race already exists. Choose a different volume name.\n']);
    }
    const winner = runs.indexOf(made[0]) + 1;
    expect(await bed().dockerOk(['volume', 'inspect', '--format', '{{.Labels.n}}', 'race'])).toBe(String(winner));
    const v = (await inVsphere()).find((x) => x.name === 'race');
    expect(v?.filesystem_uuid).toBe(volumeFilesystemUuid(String(v?.id)));
    const flat = String(v?.id)
      .replace(/^\[LocalDS_0\] /, '')
      .replace(/\.vmdk$/, '-flat.vmdk');
    const client = await connectTestClient(bed().sim);
    try {
      const bytes = await bytesOf(await downloadDatastoreFile(client, { datacenter: 'DC0', datastore: 'LocalDS_0', path: flat }), 4096);
      expect(ext4Uuid(bytes)).toBe(volumeFilesystemUuid(String(v?.id)));
    } finally {
      await client.close();
    }
  });

  test('GIVEN two containers made at once over one new volume name THEN one volume is made and both mount it', async () => {
    await bed().dockerOk(['pull', bed().image]);
    const [a, b] = await Promise.all(['one', 'two'].map((n) => bed().docker(['create', '--name', `shares-${n}`, '-v', 'shared:/data', bed().image])));
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, '']);
    expect((await inVsphere()).filter((x) => x.name === 'shared').length).toBe(1);
    for (const n of ['one', 'two']) {
      expect(await bed().dockerOk(['inspect', '--format', '{{range .Mounts}}{{.Name}} {{.Destination}}{{end}}', `shares-${n}`])).toBe('shared /data');
      expect(await bed().dockerOk(['rm', `shares-${n}`])).toBe(`shares-${n}`);
    }
  });
});

/**
 * Anonymous volumes, as dockerd makes them: `-v /path`, a `--mount` without a source, and the
 * image's VOLUMEs that no mount covers each get a new volume (a 64-hex name, labelled
 * `com.docker.volume.anonymous`) that outlives `docker rm` and goes with `docker rm -v`, `docker
 * run --rm` and `docker volume prune`. A new volume mounted over files of the image takes a copy of
 * them, as dockerd fills one (the guest's tether copies them at its first mount). The volumes are
 * read back from vSphere through the engine, as IaC sees them.
 */
import type { Attrs } from '../../src/resources';
import { busyboxImage, useDockerBed } from './docker-env';

const BOOT_MS = 300_000;
const ANONYMOUS = 'com.docker.volume.anonymous';

describe('anonymous volumes', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 1 } }, pull: true, vchName: 'vch-anon' });
  const inVsphere = async (): Promise<Attrs[]> => bed().engine.forCommand().listIn('volume', String(bed().vch.id));
  const mountsOf = async (name: string): Promise<Array<{ Name: string; Destination: string; RW: boolean }>> =>
    JSON.parse(await bed().dockerOk(['inspect', '-f', '{{json .Mounts}}', name])) as Array<{ Name: string; Destination: string; RW: boolean }>;
  const volumeNames = async (): Promise<string[]> => (await inVsphere()).map((v) => String(v.name)).sort();

  let dbImage = '';
  beforeAll(async () => {
    const base = busyboxImage();
    dbImage = await bed().pushImage(
      {
        layers: [
          ...base.layers,
          {
            entries: [
              { type: 'dir', path: 'etc/app', mode: 0o750, uid: 1000, gid: 1000 },
              { type: 'file', path: 'etc/app/app.conf', content: 'port=5432\n', mode: 0o640, uid: 1000, gid: 1000 },
              { type: 'dir', path: 'var/lib/db' },
            ],
          },
        ],
        config: { ...base.config, Volumes: { '/etc/app': {}, '/var/lib/db': {} } },
      },
      'vic-test/anon-db:1',
    );
    const pulled = await bed().docker(['pull', dbImage], { timeoutMs: 180_000 });
    expect({ code: pulled.code, stderr: pulled.stderr }).toEqual({ code: 0, stderr: '' });
  }, 240_000);

  test('GIVEN -v /data and a --mount without a source THEN each is a new labelled volume that docker rm keeps and docker rm -v removes', async () => {
    const before = await volumeNames();
    const r = await bed().docker(['create', '--name', 'anon-1', '-v', '/data', '--mount', 'type=volume,target=/cache', bed().image]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const mounts = await mountsOf('anon-1');
    expect(mounts.map((m) => m.Destination).sort()).toEqual(['/cache', '/data']);
    for (const m of mounts) expect(m.Name).toMatch(/^[0-9a-f]{64}$/);
    const made = (await inVsphere()).filter((v) => mounts.some((m) => m.Name === v.name));
    expect(made.map((v) => [v.size_mb, (v.labels as Record<string, string>)[ANONYMOUS]])).toEqual([
      [1024, ''],
      [1024, ''],
    ]);
    expect(await bed().dockerOk(['volume', 'ls', '-q', '--filter', `label=${ANONYMOUS}`])).toContain(mounts[0].Name);

    // docker rm without -v keeps them, as dockerd does: a dangling volume docker volume ls shows.
    await bed().dockerOk(['rm', 'anon-1']);
    expect((await bed().dockerOk(['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n')).toEqual(expect.arrayContaining(mounts.map((m) => m.Name)));
    await bed().dockerOk(['volume', 'rm', ...mounts.map((m) => m.Name)]);

    await bed().dockerOk(['create', '--name', 'anon-2', '-v', '/data', '-v', 'anon-named:/named', bed().image]);
    const two = await mountsOf('anon-2');
    await bed().dockerOk(['rm', '-v', 'anon-2']);
    // -v removes the anonymous volume only: the named one stays.
    expect(await volumeNames()).toEqual([...before, 'anon-named'].sort());
    expect(two.find((m) => m.Destination === '/named')?.Name).toBe('anon-named');
    await bed().dockerOk(['volume', 'rm', 'anon-named']);
  });

  test(
    'GIVEN a run with a named and an anonymous volume THEN docker events tells each volume create, mount (before the start), unmount (after the die) and destroy, as dockerd',
    async () => {
      const since = Math.floor(Date.now() / 1000) - 1;
      await bed().dockerOk(['volume', 'create', 'events-named']);
      const id = await bed().dockerOk(['run', '-d', '--name', 'events-vol', '-v', 'events-named:/named:ro', '-v', '/scratch', bed().image, 'true']);
      expect(await bed().dockerOk(['wait', 'events-vol'])).toBe('0');
      const anonymous = (await mountsOf('events-vol')).find((m) => m.Destination === '/scratch')?.Name;
      expect(anonymous).toMatch(/^[0-9a-f]{64}$/);
      await bed().dockerOk(['rm', '-v', 'events-vol']);
      await bed().dockerOk(['volume', 'rm', 'events-named']);

      const format =
        '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}} {{.Actor.Attributes.destination}} {{index .Actor.Attributes "read/write"}}';
      const lines = (await bed().eventsSince(since, 'type=volume', format)).map((l) =>
        l
          .replace(String(anonymous), 'ANON')
          .replace(/ <no value>/g, '')
          .trimEnd(),
      );
      // The test before this one ends less than a second before: only this test's volumes.
      expect(lines.filter((l) => / (events-named|ANON) /.test(l))).toEqual([
        'volume create events-named vsphere',
        'volume create ANON vsphere',
        'volume mount events-named vsphere /named false',
        'volume mount ANON vsphere /scratch true',
        'volume unmount events-named vsphere',
        'volume unmount ANON vsphere',
        'volume destroy ANON vsphere',
        'volume destroy events-named vsphere',
      ]);
      // Mounts come before the container's start, unmounts after its die; each names the container.
      const order = await bed().eventsSince(since, `container=${id}`, '{{.Action}}');
      expect(order.filter((a) => ['start', 'die'].includes(a))).toEqual(['start', 'die']);
      const all = await bed().eventsSince(since, 'volume=events-named', '{{.Action}} {{.Actor.Attributes.container}}');
      expect(all).toEqual(['create <no value>', `mount ${id}`, `unmount ${id}`, 'destroy <no value>']);
    },
    BOOT_MS,
  );

  test('GIVEN an image with VOLUMEs WHEN a container is made from it THEN each VOLUME that no -v covers gets an anonymous volume; a refused create leaves none', async () => {
    const before = await volumeNames();
    await bed().dockerOk(['create', '--name', 'anon-img', '-v', 'anon-db-data:/var/lib/db', dbImage]);
    const mounts = await mountsOf('anon-img');
    expect(mounts.map((m) => [m.Destination, m.Name === 'anon-db-data' ? 'named' : /^[0-9a-f]{64}$/.test(m.Name) ? 'anonymous' : m.Name]).sort()).toEqual([
      ['/etc/app', 'anonymous'],
      ['/var/lib/db', 'named'],
    ]);
    // A create refused after its volumes were made (the name is taken) leaves none behind.
    const again = await bed().docker(['create', '--name', 'anon-img', dbImage]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is already in use');
    expect(await volumeNames()).toEqual([...before, 'anon-db-data', mounts.find((m) => m.Destination === '/etc/app')!.Name].sort());
    await bed().dockerOk(['rm', '-v', 'anon-img']);
    expect(await volumeNames()).toEqual([...before, 'anon-db-data'].sort());
    await bed().dockerOk(['volume', 'rm', 'anon-db-data']);
  });

  test('GIVEN dangling volumes WHEN docker volume prune runs THEN it removes the anonymous ones docker made, -a the named ones too, never one in use or an IaC one', async () => {
    await bed().dockerOk(['create', '--name', 'anon-keep', '-v', '/kept', bed().image]);
    const kept = (await mountsOf('anon-keep'))[0].Name;
    await bed().dockerOk(['create', '--name', 'anon-gone', '-v', '/gone', bed().image]);
    const gone = (await mountsOf('anon-gone'))[0].Name;
    await bed().dockerOk(['rm', 'anon-gone']);
    await bed().dockerOk(['volume', 'create', 'prune-named']);
    const iac = await bed().engine.plan('volume', null, { vch_id: bed().vch.id, name: 'prune-iac', size_mb: 16 });
    expect(iac.problems).toEqual([]);
    await bed().engine.apply(iac);

    const pruned = await bed().dockerOk(['volume', 'prune', '-f']);
    expect(pruned).toContain(`Deleted Volumes:\n${gone}`);
    let names = await volumeNames();
    expect(names).not.toContain(gone);
    expect(names).toEqual(expect.arrayContaining([kept, 'prune-named', 'prune-iac']));

    const all = await bed().dockerOk(['volume', 'prune', '-a', '-f']);
    expect(all).toContain('prune-named');
    names = await volumeNames();
    expect(names).not.toContain('prune-named');
    expect(names).toEqual(expect.arrayContaining([kept, 'prune-iac']));
    await bed().dockerOk(['rm', '-v', 'anon-keep']);
    expect(await volumeNames()).not.toContain(kept);
  });

  test(
    'GIVEN an image VOLUME over files of the image WHEN the container runs THEN its new volume holds a copy of them with their owner, and --rm removes the volume with the container',
    async () => {
      const before = await volumeNames();
      // The container's process sees the image's file through the volume, and writes beside it.
      const r = await bed().docker(
        ['run', '--name', 'anon-copy', dbImage, 'sh', '-c', 'cat /etc/app/app.conf; busybox stat -c "%u:%g %a" /etc/app; echo added > /etc/app/new'],
        {
          timeoutMs: BOOT_MS,
        },
      );
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'port=5432\n1000:1000 750\n', stderr: '' });
      const volume = (await mountsOf('anon-copy')).find((m) => m.Destination === '/etc/app')!.Name;
      // What the volume holds, through another container that mounts it by name elsewhere and is removed with --rm.
      const read = await bed().docker(['run', '--rm', '-v', `${volume}:/seen`, '-v', '/scratch', bed().image, 'sh', '-c', 'cat /seen/app.conf /seen/new'], {
        timeoutMs: BOOT_MS,
      });
      expect({ code: read.code, stdout: read.stdout, stderr: read.stderr }).toEqual({ code: 0, stdout: 'port=5432\nadded\n', stderr: '' });
      // --rm took its anonymous /scratch volume with it, not the one it mounted by name.
      const after = await volumeNames();
      expect(after.filter((n) => !before.includes(n))).toEqual((await mountsOf('anon-copy')).map((m) => m.Name).sort());
      await bed().dockerOk(['rm', '-v', 'anon-copy']);
      expect(await volumeNames()).toEqual(before);
    },
    2 * BOOT_MS,
  );
});

/**
 * VIC Group1 1-43 "docker cp offline": docker cp to and from a container that does not run, with the
 * docker CLI against real guests. A stopped container's disk is reached by a maintenance boot of its
 * VM (guest-config.md, "Maintenance boot"): the guest mounts the container's disk and volumes, runs
 * no process, and serves the copy; the container stays as it was (created, or exited with its code
 * and time), and what was copied in is there when it starts. Copies side by side share one boot.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 420_000;

describe('VIC 1-43: docker cp to and from a container that does not run', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-cp-offline' });
  let host: string;
  const state = (name: string) => bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}}', name]);
  const startAndList = async (name: string, dir: string): Promise<string> => {
    await bed().dockerOk(['start', name]);
    await waitUntilProcessRuns(bed(), name, BOOT_MS);
    return bed().dockerOk(['exec', name, 'ls', dir]);
  };

  beforeAll(() => {
    host = mkdtempSync(join(tmpdir(), 'vic-cp-offline-'));
    writeFileSync(join(host, 'foo.txt'), 'hello world');
    mkdirSync(join(host, 'bar'));
    writeFileSync(join(host, 'bar/inside.txt'), 'in bar');
  });

  afterAll(() => rmSync(host, { recursive: true, force: true }));

  test(
    'GIVEN a container never started WHEN a file is copied in and one out THEN it is still created, and the file is there once it starts',
    async () => {
      await bed().dockerOk(['create', '-i', '--name', 'offline', bed().image, 'sleep', '600']);
      await bed().dockerOk(['cp', join(host, 'foo.txt'), 'offline:/']);
      // /tmp too (Testcontainers copies its files in before the start): /tmp is on the container's disk, as with dockerd.
      await bed().dockerOk(['cp', join(host, 'foo.txt'), 'offline:/tmp/']);
      // Out of a container never started: the image's files (a build's artifact, say).
      await bed().dockerOk(['cp', 'offline:/etc/passwd', join(host, 'passwd')]);
      expect(readFileSync(join(host, 'passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
      expect(await state('offline')).toBe('created 0 0001-01-01T00:00:00Z 0001-01-01T00:00:00Z');
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=offline', '--format', '{{.Status}}'])).toBe('Created');
      expect((await startAndList('offline', '/')).split('\n')).toContain('foo.txt');
      expect(await bed().dockerOk(['exec', 'offline', 'cat', '/foo.txt'])).toBe('hello world');
      expect(await bed().dockerOk(['exec', 'offline', 'cat', '/tmp/foo.txt'])).toBe('hello world');
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a container that ran and stopped WHEN a directory is copied out and another in THEN its exit status and times stay, and the new directory is there at its next start',
    async () => {
      const word = randomUUID();
      await bed().dockerOk(['exec', 'offline', 'sh', '-c', `mkdir /testdir && echo ${word} > /testdir/fakefile`]);
      await bed().dockerOk(['stop', '-t', '1', 'offline']);
      const stopped = await state('offline');
      expect(stopped).toMatch(/^exited \d+ /);

      await bed().dockerOk(['cp', 'offline:/testdir', host]);
      expect(readFileSync(join(host, 'testdir/fakefile'), 'utf8')).toBe(`${word}\n`);
      await bed().dockerOk(['cp', join(host, 'bar'), 'offline:/bar']);
      expect(await state('offline')).toBe(stopped);

      const missing = await bed().docker(['cp', 'offline:/dne', host]);
      expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('Could not find the file /dne in container offline')]);
      const missingDir = await bed().docker(['cp', 'offline:/dne/.', host]);
      expect(missingDir.code).toBe(1);
      const noSource = await bed().docker(['cp', join(host, 'dne/'), 'offline:/']);
      expect([noSource.code, noSource.stderr]).toEqual([1, expect.stringContaining('no such file or directory')]);

      expect((await startAndList('offline', '/')).split('\n')).toContain('bar');
      expect(await bed().dockerOk(['exec', 'offline', 'cat', '/bar/inside.txt'])).toBe('in bar');
      await bed().dockerOk(['rm', '-f', 'offline']);
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a stopped container with a volume WHEN five copies go in side by side THEN each lands, in the volume too, and the container then starts with them',
    async () => {
      await bed().dockerOk(['volume', 'create', 'vol1']);
      await bed().dockerOk(['create', '-i', '--name', 'side', '-v', 'vol1:/vol1', bed().image, 'sleep', '600']);
      const copies = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => bed().docker(['cp', join(host, 'foo.txt'), `side:${i % 2 === 0 ? '/vol1' : ''}/foo-${i}`], { timeoutMs: BOOT_MS })),
      );
      expect(copies.map((c) => [c.code, c.stderr])).toEqual(copies.map(() => [0, '']));
      expect(await state('side')).toBe('created 0 0001-01-01T00:00:00Z 0001-01-01T00:00:00Z');
      const root = (await startAndList('side', '/')).split('\n');
      const vol = (await bed().dockerOk(['exec', 'side', 'ls', '/vol1'])).split('\n');
      expect({ root: root.filter((n) => n.startsWith('foo-')), vol: vol.filter((n) => n.startsWith('foo-')) }).toEqual({
        root: ['foo-1', 'foo-3'],
        vol: ['foo-0', 'foo-2', 'foo-4'],
      });
      await bed().dockerOk(['rm', '-f', 'side']);
      // The volume kept what was copied into it.
      await bed().dockerOk(['create', '--name', 'reader', '-v', 'vol1:/vol1', bed().image, 'sleep', '600']);
      await bed().dockerOk(['cp', 'reader:/vol1/foo-2', join(host, 'from-volume.txt')]);
      expect(readFileSync(join(host, 'from-volume.txt'), 'utf8')).toBe('hello world');
      await bed().dockerOk(['rm', 'reader']);
    },
    2 * BOOT_MS,
  );
});

/**
 * docker export against real guests: the container's root filesystem as one tar, written by the
 * guest's tether (a stopped or never started container's through a maintenance boot, as docker cp).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 420_000;
const run = promisify(execFile);

describe('docker export', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-export' });
  let host = '';
  beforeAll(() => (host = mkdtempSync(join(tmpdir(), 'vic-export-'))));
  afterAll(() => rmSync(host, { recursive: true, force: true }));
  const tarList = (file: string) => execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const tarRead = (file: string, entry: string) => execFileSync('tar', ['-xOf', file, entry], { encoding: 'utf8' });

  test(
    'GIVEN a container never started WHEN docker export -o FILE THEN the file is a tar of the image’s files, the container is still created, and events has export',
    async () => {
      const id = await bed().dockerOk(['create', '--name', 'exp1', bed().image]);
      const since = Math.floor(Date.now() / 1000) - 1;
      const file = join(host, 'exp1.tar');
      await bed().dockerOk(['export', '-o', file, 'exp1']);
      const entries = tarList(file);
      expect(entries).toEqual(expect.arrayContaining(['./etc/', './etc/passwd', './bin/busybox', './bin/sh']));
      expect(tarRead(file, './etc/passwd')).toMatch(/^root:x:0:0:/);
      // The kernel's filesystems come empty.
      expect(entries.filter((e) => e.startsWith('./proc/') && e !== './proc/')).toEqual([]);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'exp1'])).toBe('created');
      expect(await bed().eventsSince(since, 'event=export', '{{.Actor.ID}}')).toContain(id);
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a running container that wrote a file, one in its volume and one in /tmp WHEN docker export to stdout THEN the tar holds its own files, those of /tmp too, and the volume as an empty mount point, as dockerd',
    async () => {
      await bed().dockerOk([
        'run',
        '-d',
        '--name',
        'exp2',
        '-v',
        'expvol:/vol',
        bed().image,
        'sh',
        '-c',
        'mkdir -p /srv && echo written > /srv/state && echo kept > /vol/file && echo scratch > /tmp/file && sleep 600',
      ]);
      await waitUntilProcessRuns(bed(), 'exp2', BOOT_MS);
      await bed().dockerOk(['exec', 'exp2', 'cat', '/srv/state', '/vol/file', '/tmp/file']);
      const file = join(host, 'exp2.tar');
      // As a user pipes it: the CLI writes the tar to its stdout when that is not a terminal.
      const r = await run('sh', ['-c', 'docker export exp2 > "$1"', 'sh', file], { env: bed().env });
      expect(r.stderr).toBe('');
      expect(tarRead(file, './srv/state')).toBe('written\n');
      // /tmp is the container's own directory, on its disk, as with dockerd (no tmpfs).
      expect(tarRead(file, './tmp/file')).toBe('scratch\n');
      const entries = tarList(file);
      expect(entries).toEqual(expect.arrayContaining(['./vol/', './tmp/']));
      expect(entries.filter((e) => /^\.\/(vol|proc|dev)\/./.test(e))).toEqual([]);
    },
    2 * BOOT_MS,
  );

  test("GIVEN a container that is not there WHEN docker export names it THEN dockerd's 404 No such container", async () => {
    const r = await bed().docker(['export', 'nosuch']);
    expect([r.code, r.stderr.trim()]).toEqual([1, 'Error response from daemon: No such container: nosuch']);
  });
});

/**
 * docker cp against guests that really run (the simulator's QEMU runner), with the docker CLI,
 * modeled on VIC's 1-44 "Docker CP Online": directories and files each way (a destination that
 * exists, one that does not, a directory's content with `dir/.`), into a volume, a large file, paths
 * that are not there, copies side by side; and what the CLI takes besides (`-` for a tar on stdin or
 * stdout, `-L`, `-a`). The guest's tether reads and writes the files itself: busybox's own tools
 * play no part. A container that does not run is copied to and from through a maintenance boot:
 * 1-43-cp-offline.test.ts.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerCli, useDockerBed, waitUntilProcessRuns } from './docker-env';
import { runProcess } from '../cli/run-vic';

const BOOT_MS = 420_000;

describe('VIC 1-44: docker cp to and from a running container VM', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-cp' });
  let host: string;

  beforeAll(async () => {
    host = mkdtempSync(join(tmpdir(), 'vic-cp-'));
    writeFileSync(join(host, 'foo.txt'), 'hello world');
    mkdirSync(join(host, 'bar/deeper'), { recursive: true });
    writeFileSync(join(host, 'bar/deeper/note.txt'), 'in bar', { mode: 0o640 });
    symlinkSync('deeper/note.txt', join(host, 'bar/link'));
    // 1 MiB of every byte value, not zeros: what comes back is compared by its digest.
    writeFileSync(join(host, 'largefile.bin'), Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7 + (i >> 9)) & 0xff)));
    expect((await bed().docker(['volume', 'create', 'cp-vol'])).code).toBe(0);
    const r = await bed().docker(['run', '-d', '--name', 'online', '-v', 'cp-vol:/vol1', bed().image, 'busybox', 'sleep', '900']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    await waitUntilProcessRuns(bed(), 'online', BOOT_MS);
    await bed().dockerOk([
      'exec',
      'online',
      'busybox',
      'sh',
      '-c',
      'busybox mkdir /newdir && echo testing > /newdir/test.txt && busybox ln -s /newdir/test.txt /lnk',
    ]);
  }, BOOT_MS);

  afterAll(() => rmSync(host, { recursive: true, force: true }));

  test('a directory from the container to a host path that does not exist takes that name', async () => {
    await bed().dockerOk(['cp', 'online:/newdir', join(host, 'newdir')]);
    expect(readFileSync(join(host, 'newdir/test.txt'), 'utf8')).toBe('testing\n');
  });

  test("a directory's content (dir/.) into a host directory that exists; a file over a host file", async () => {
    mkdirSync(join(host, 'into'));
    await bed().dockerOk(['cp', 'online:/newdir/.', join(host, 'into')]);
    expect(readFileSync(join(host, 'into/test.txt'), 'utf8')).toBe('testing\n');
    writeFileSync(join(host, 'over.txt'), 'old content, longer than the new');
    await bed().dockerOk(['cp', 'online:/newdir/test.txt', join(host, 'over.txt')]);
    expect(readFileSync(join(host, 'over.txt'), 'utf8')).toBe('testing\n');
  });

  test('a symbolic link comes as the link, or with -L as what it points to', async () => {
    await bed().dockerOk(['cp', 'online:/lnk', join(host, 'lnk')]);
    expect(readlinkSync(join(host, 'lnk'))).toBe('/newdir/test.txt');
    await bed().dockerOk(['cp', '-L', 'online:/lnk', join(host, 'followed')]);
    expect(readFileSync(join(host, 'followed'), 'utf8')).toBe('testing\n');
  });

  test('a file and a directory from the host into the container, modes and links kept', async () => {
    await bed().dockerOk(['cp', join(host, 'foo.txt'), 'online:/']);
    await bed().dockerOk(['cp', join(host, 'bar'), 'online:/']);
    expect(await bed().dockerOk(['exec', 'online', 'busybox', 'cat', '/foo.txt'])).toBe('hello world');
    expect(await bed().dockerOk(['exec', 'online', 'busybox', 'cat', '/bar/link'])).toBe('in bar');
    expect(await bed().dockerOk(['exec', 'online', 'busybox', 'stat', '-c', '%a %F', '/bar/deeper/note.txt', '/bar/link'])).toBe(
      '640 regular file\n777 symbolic link',
    );
    // A file to a path that does not exist takes its name; into a directory that does not exist is refused by the CLI.
    await bed().dockerOk(['cp', join(host, 'foo.txt'), 'online:/newdir/renamed.txt']);
    expect(await bed().dockerOk(['exec', 'online', 'busybox', 'cat', '/newdir/renamed.txt'])).toBe('hello world');
    const missing = await bed().docker(['cp', join(host, 'foo.txt'), 'online:/doesnotexist/']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no such directory');
  });

  // 1 MiB each way through the guest's exec channel: under TCG emulation on a loaded machine this took
  // more than jest's 60 s default once (a clean-clone run, 2026-12-05; the whole file 85 s in another).
  test('into a volume, and a 1 MiB file there and back, byte for byte', async () => {
    await bed().dockerOk(['cp', join(host, 'bar'), 'online:/vol1/']);
    await bed().dockerOk(['cp', join(host, 'largefile.bin'), 'online:/vol1/']);
    expect(await bed().dockerOk(['exec', 'online', 'busybox', 'ls', '/vol1'])).toMatch(/bar[\s\S]*largefile\.bin/);
    expect(await bed().dockerOk(['exec', 'online', 'busybox', 'stat', '-c', '%s', '/vol1/largefile.bin'])).toBe('1048576');
    await bed().dockerOk(['cp', 'online:/vol1/largefile.bin', join(host, 'back.bin')]);
    const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    expect(digest(join(host, 'back.bin'))).toBe(digest(join(host, 'largefile.bin')));
  }, 240_000);

  test('a tar on stdout (-) and from stdin (-)', async () => {
    const out = await runProcess('sh', ['-c', `"${dockerCli()}" cp online:/newdir - | tar -tf -`], bed().env, { timeoutMs: 120_000 });
    expect([out.code, out.stdout.split('\n').filter(Boolean).sort()]).toEqual([0, ['newdir/', 'newdir/renamed.txt', 'newdir/test.txt']]);
    const tarIn = await runProcess('sh', ['-c', `tar -C "${host}" -cf - foo.txt | "${dockerCli()}" cp - online:/tmp`], bed().env, { timeoutMs: 120_000 });
    expect([tarIn.code, tarIn.stderr]).toEqual([0, '']);
    expect(await bed().dockerOk(['exec', 'online', 'busybox', 'cat', '/tmp/foo.txt'])).toBe('hello world');
  });

  test('paths that are not there: each an error naming the path', async () => {
    for (const path of ['/dne', '/dne/.', '/foo.txt/x']) {
      const r = await bed().docker(['cp', `online:${path}`, host]);
      expect([r.code, r.stderr]).toEqual([1, expect.stringContaining(`Could not find the file ${path} in container online`)]);
    }
    expect(statSync(host).isDirectory()).toBe(true);
  });

  test('copies side by side all land; docker events has their archive-path and extract-to-dir', async () => {
    const since = Math.floor(Date.now() / 1000);
    const runs = await Promise.all([0, 1, 2, 3, 4].map((i) => bed().docker(['cp', join(host, 'foo.txt'), `online:/foo-${i}`])));
    expect(runs.map((r) => [r.code, r.stderr])).toEqual(runs.map(() => [0, '']));
    expect((await bed().dockerOk(['exec', 'online', 'busybox', 'ls', '/'])).split('\n')).toEqual(
      expect.arrayContaining(['foo-0', 'foo-1', 'foo-2', 'foo-3', 'foo-4']),
    );
    await bed().dockerOk(['cp', 'online:/foo-0', join(host, 'foo-0')]);
    const events = await bed().eventsSince(since, 'container=online', '{{.Action}}');
    expect(events.filter((e) => e === 'extract-to-dir')).toHaveLength(5);
    expect(events).toContain('archive-path');
  });

  test(
    '-a gives what is copied in the container user: its uid and gid, not the host file owner',
    async () => {
      const r = await bed().docker(['run', '-d', '--name', 'cp-user', '-u', '1000:1000', bed().image, 'busybox', 'sleep', '900']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      await waitUntilProcessRuns(bed(), 'cp-user', BOOT_MS);
      await bed().dockerOk(['cp', '-a', join(host, 'foo.txt'), 'cp-user:/tmp/a.txt']);
      await bed().dockerOk(['cp', join(host, 'foo.txt'), 'cp-user:/tmp/plain.txt']);
      const owner = lstatSync(join(host, 'foo.txt'));
      expect(await bed().dockerOk(['exec', 'cp-user', 'busybox', 'stat', '-c', '%u:%g', '/tmp/a.txt', '/tmp/plain.txt'])).toBe(
        `1000:1000\n${owner.uid}:${owner.gid}`,
      );
      await bed().dockerOk(['rm', '-f', 'cp-user']);
    },
    BOOT_MS,
  );
});

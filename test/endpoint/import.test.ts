/**
 * docker import with the docker CLI and a real guest: a root filesystem the client sends as a tar
 * (docker export's, piped; or a gzip-compressed file) becomes an image with the changes `-c` gives
 * and the message `-m` as its comment, and a container run from it runs; what vic-iac cannot import
 * (another compression, a URL, a change that is no config's) is refused before anything is made.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runProcess } from '../cli/run-vic';
import { useDockerBed } from './docker-env';

const BOOT_MS = 420_000;

describe('docker import', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-import' });
  let host = '';
  beforeAll(() => (host = mkdtempSync(join(tmpdir(), 'vic-import-'))));
  afterAll(() => rmSync(host, { recursive: true, force: true }));

  const images = () => bed().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);

  test(
    "GIVEN docker export of a created container piped into docker import - with -c WHEN a container runs from the image THEN it runs the new command with the new environment, and the image's comment says where it came from",
    async () => {
      await bed().dockerOk(['create', '--name', 'source1', bed().image]);
      const r = await runProcess(
        'sh',
        ['-c', `docker export source1 | docker import -c 'ENV SRC=export' -c 'CMD ["sh", "-c", "echo imported from $SRC"]' - imported:v1`],
        bed().env,
        { timeoutMs: BOOT_MS },
      );
      expect([r.code, r.stderr]).toEqual([0, '']);
      const id = r.stdout.trim();
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}} {{.Comment}} {{json .Config.Env}}', 'imported:v1'])).toBe(
        `${id} Imported from - ["SRC=export"]`,
      );
      const run = await bed().docker(['run', '--rm', 'imported:v1'], { timeoutMs: BOOT_MS });
      expect([run.code, run.stdout, run.stderr]).toEqual([0, 'imported from export\n', '']);
    },
    3 * BOOT_MS,
  );

  test('GIVEN a gzip-compressed tar file WHEN docker import -m FILE NAME THEN the image holds its files and has the message as its comment, and no command', async () => {
    const root = join(host, 'root');
    execFileSync('mkdir', ['-p', join(root, 'srv'), join(root, 'bin')]);
    writeFileSync(join(root, 'srv', 'note'), 'from a file\n');
    const file = join(host, 'rootfs.tar.gz');
    writeFileSync(file, gzipSync(execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '-c', '.'])));
    await bed().dockerOk(['import', '-m', 'from a file', file, 'fromfile']);
    expect(await bed().dockerOk(['image', 'inspect', '-f', '{{.Comment}} {{json .Config.Cmd}} {{.Os}}/{{.Architecture}}', 'fromfile'])).toBe(
      'from a file null linux/amd64',
    );
    expect(await images()).toContain('fromfile:latest');
    // Nothing to run: dockerd's refusal of a create with no command.
    const r = await bed().docker(['create', 'fromfile']);
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('no command specified')]);
  });

  test('GIVEN an xz-compressed file, a URL or a RUN change WHEN docker import THEN each is refused saying why, and no image is made', async () => {
    const xz = join(host, 'rootfs.tar.xz');
    writeFileSync(xz, Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(64)]));
    const before = await images();
    const refused = [
      await bed().docker(['import', xz, 'xz-image']),
      await bed().docker(['import', 'http://example.invalid/rootfs.tar', 'url-image']),
      await bed().docker(['import', '-c', 'RUN make', xz, 'run-image']),
    ].map((r) => [r.code, r.stderr.trim()]);
    expect(refused).toEqual([
      [1, expect.stringMatching(/the file is xz-compressed; vic-iac imports a tar, plain or gzip-compressed: decompress it first/)],
      [1, expect.stringMatching(/docker import from a URL \(http:\/\/example\.invalid\/rootfs\.tar\) is not supported by vic-iac: download the file/)],
      [1, expect.stringMatching(/run is not a valid change command/)],
    ]);
    expect(await images()).toBe(before);
  });
});

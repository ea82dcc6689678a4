/**
 * docker load with the docker CLI: archives as docker save writes them (made here by skopeo's
 * docker-archive, and as docker 25 writes them, an OCI layout with manifest.json beside it), stored
 * as a pull stores an image: a container runs from one in a real guest, an image whose archive holds
 * its manifest keeps its id (and docker push sends it to a registry under that id), and what is not
 * such an archive is refused before anything is stored.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOciLayout } from '../helpers/oci-layout';
import { busyboxImage, useDockerBed } from './docker-env';

const BOOT_MS = 420_000;

describe('docker load', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, vchName: 'vch-load' });
  let host = '';
  beforeAll(() => (host = mkdtempSync(join(tmpdir(), 'vic-load-'))));
  afterAll(() => rmSync(host, { recursive: true, force: true }));

  // Sorted: what is stored is compared, not the order of rows (two names of one image come in either).
  const images = async () => (await bed().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').sort().join('\n');
  /** An OCI layout of `spec`, written under `name`. */
  const layout = (name: string, spec = busyboxImage()) => writeOciLayout(join(host, name), 'v1', [spec]);

  test(
    'GIVEN an archive skopeo wrote as docker-archive (docker save’s format) WHEN docker load -i FILE THEN it says what it loaded, docker images lists it, and a container runs from it',
    async () => {
      const oci = await layout('plain');
      const archive = join(host, 'busybox.tar');
      execFileSync('skopeo', ['copy', '--quiet', `oci:${oci.dir}:v1`, `docker-archive:${archive}:loaded/busybox:v1`]);
      const r = await bed().docker(['load', '-i', archive]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'Loaded image: loaded/busybox:v1\n', '']);
      expect(await images()).toContain('loaded/busybox:v1');
      const run = await bed().docker(['run', '--rm', 'loaded/busybox:v1', 'sh', '-c', 'echo running from a loaded image'], { timeoutMs: BOOT_MS });
      expect([run.code, run.stdout, run.stderr]).toEqual([0, 'running from a loaded image\n', '']);
    },
    2 * BOOT_MS,
  );

  test('GIVEN a gzip-compressed archive with the image’s OCI manifest in it, as docker 25 saves WHEN docker load < FILE THEN the image keeps the manifest’s digest as its id, and docker push sends that manifest', async () => {
    const oci = await layout('oci');
    const manifest = JSON.parse(readFileSync(join(oci.dir, 'blobs', 'sha256', oci.manifestDigests[0].slice(7)), 'utf8')) as {
      config: { digest: string };
      layers: Array<{ digest: string }>;
    };
    const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
    writeFileSync(
      join(oci.dir, 'manifest.json'),
      JSON.stringify([
        { Config: blob(manifest.config.digest), RepoTags: ['loaded/oci:v1', 'loaded/oci:stable'], Layers: manifest.layers.map((l) => blob(l.digest)) },
      ]),
    );
    const archive = join(host, 'oci.tar.gz');
    execFileSync('tar', ['-C', oci.dir, '-czf', archive, '.']);
    const r = await bed().docker(['load'], { input: readFileSync(archive) });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'Loaded image: loaded/oci:v1\nLoaded image: loaded/oci:stable\n', '']);
    expect(await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'loaded/oci:stable'])).toBe(oci.manifestDigests[0]);

    const target = `${bed().registryHost}/pushed/loaded:v1`;
    await bed().dockerOk(['tag', 'loaded/oci:v1', target]);
    const pushed = await bed().docker(['push', target]);
    expect([pushed.code, pushed.stderr]).toEqual([0, '']);
    const res = await fetch(`http://${bed().registryHost}/v2/pushed/loaded/manifests/v1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(
      `sha256:${createHash('sha256')
        .update(Buffer.from(await res.arrayBuffer()))
        .digest('hex')}`,
    ).toBe(oci.manifestDigests[0]);
  });

  test('GIVEN a tar that is no image archive, an image for arm64, and an archive with a path out of it WHEN docker load THEN each is refused saying why, and nothing is stored', async () => {
    const before = await images();
    const notArchive = join(host, 'not.tar');
    writeFileSync(join(host, 'readme'), 'hello\n');
    execFileSync('tar', ['-C', host, '-cf', notArchive, 'readme']);

    const arm = await layout('arm', { ...busyboxImage(), platform: { os: 'linux', architecture: 'arm64' } });
    const armArchive = join(host, 'arm.tar');
    execFileSync('skopeo', ['copy', '--quiet', `oci:${arm.dir}:v1`, `docker-archive:${armArchive}:loaded/arm:v1`]);

    const escaping = join(host, 'escape.tar');
    execFileSync('tar', ['-C', host, '-cf', escaping, '--transform', 's,^readme$,../../evil,', '-P', 'readme']);

    const answers = await Promise.all([notArchive, armArchive, escaping].map((f) => bed().docker(['load', '-i', f])));
    expect(answers.map((r) => [r.code, r.stderr.trim()])).toEqual([
      [1, expect.stringMatching(/docker load: the archive has no manifest\.json: vic-iac loads the archives docker save writes/)],
      [1, expect.stringMatching(/loaded\/arm:v1 in the archive is built for linux\/arm64; a container VM runs linux\/amd64/)],
      [1, expect.stringMatching(/entry "\.\.\/\.\.\/evil" leaves the archive/)],
    ]);
    expect(await images()).toBe(before);
  });
});

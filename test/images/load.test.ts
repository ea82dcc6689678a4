/**
 * docker load's reading of an archive (src/images/load.ts): the paths docker 25 writes twice, its
 * legacy ones as links into blobs/, are followed; a link out of the archive is refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractImageArchive, readArchiveImages } from '../../src/images';
import { busyboxImage } from '../endpoint/docker-env';
import { writeOciLayout } from '../helpers/oci-layout';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vic-load-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('GIVEN an archive whose manifest.json names layers through links into blobs/ WHEN read THEN the image has the OCI manifest, its config and its layers', async () => {
  const oci = await writeOciLayout(join(scratch, 'layout'), 'v1', [busyboxImage()]);
  const manifest = JSON.parse(await readFile(join(oci.dir, 'blobs', 'sha256', oci.manifestDigests[0].slice(7)), 'utf8')) as {
    config: { digest: string };
    layers: Array<{ digest: string }>;
  };
  await mkdir(join(oci.dir, 'legacy'));
  await symlink(`../blobs/sha256/${manifest.layers[0].digest.slice(7)}`, join(oci.dir, 'legacy', 'layer.tar'));
  await writeFile(
    join(oci.dir, 'manifest.json'),
    JSON.stringify([{ Config: `blobs/sha256/${manifest.config.digest.slice(7)}`, RepoTags: ['a/b:1'], Layers: ['legacy/layer.tar'] }]),
  );
  const archive = join(scratch, 'linked.tar');
  execFileSync('tar', ['-C', oci.dir, '-cf', archive, '.']);
  const out = join(scratch, 'linked');
  await mkdir(out);
  await extractImageArchive(archive, out);
  const [image, ...more] = await readArchiveImages(out);
  expect(more).toEqual([]);
  expect(image.tags).toEqual(['a/b:1']);
  expect(image.image.manifest.equals(await readFile(join(oci.dir, 'blobs', 'sha256', oci.manifestDigests[0].slice(7))))).toBe(true);
  expect(image.image.layers.map((l) => l.digest)).toEqual([manifest.layers[0].digest]);
  expect(image.image.config.cmd).toEqual(['sh', '-c', 'echo hello from a container VM']);
});

test('GIVEN an archive with a link out of it WHEN extracted THEN it is refused naming the link', async () => {
  const dir = join(scratch, 'evil');
  await mkdir(dir);
  await symlink('/etc/passwd', join(dir, 'manifest.json'));
  const archive = join(scratch, 'evil.tar');
  execFileSync('tar', ['-C', dir, '-cf', archive, '.']);
  const out = join(scratch, 'evil-out');
  await mkdir(out);
  await expect(extractImageArchive(archive, out)).rejects.toThrow(/the archive's link "\.\/manifest\.json" points out of the archive/);
});

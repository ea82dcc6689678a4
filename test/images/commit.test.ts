/**
 * An image made from a container's files (docker commit, src/images/commit.ts) into a local-directory
 * image store: the ext4 holds the tar's files, and what is kept beside the disk is what a registry
 * would serve of the image (a manifest whose digest is the id, a config naming the layer's diff id,
 * the gzip-compressed layer), which docker push sends as it is.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { commitImage, imageLayout, LocalDirectoryImageStore, readStoredImage } from '../../src/images';
import { checkFilesystem, readPath, statPath } from './ext4-inspect';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vic-commit-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A root filesystem as docker export writes it: a tar of `./…` entries, owned by root. */
async function containerTar(): Promise<string> {
  const root = await mkdtemp(join(scratch, 'rootfs-'));
  await mkdir(join(root, 'usr/local/nano'), { recursive: true });
  await mkdir(join(root, 'bin'), { recursive: true });
  await writeFile(join(root, 'usr/local/nano/version'), 'nano 7.2\n');
  await writeFile(join(root, 'bin/tool'), '#!/bin/sh\necho tool\n');
  await chmod(join(root, 'bin/tool'), 0o755);
  await symlink('tool', join(root, 'bin/alias'));
  const tar = `${root}.tar`;
  execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '--numeric-owner', '-cf', tar, '.']);
  return tar;
}

test('GIVEN a container’s files as a tar WHEN committed THEN the image holds them, and beside its disk are its manifest (whose digest is its id), its config and its layer', async () => {
  const tarPath = await containerTar();
  const store = new LocalDirectoryImageStore(join(scratch, 'store'));
  const workDir = join(scratch, 'work');
  await mkdir(workDir);
  const config = {
    entrypoint: [],
    cmd: ['sh', '-c', 'tail -f /dev/null'],
    env: ['PATH=/bin', 'TEST=commitEnvTest'],
    working_dir: '/srv',
    user: '',
    exposed_ports: ['80/tcp'],
    labels: { team: 'a' },
    volumes: ['/data'],
    stop_signal: 'SIGINT',
  };
  const info = await commitImage(
    {
      tarPath,
      name: 'debian-auth:latest',
      unnamedRepository: 'commit1',
      config,
      author: 'Robot',
      comment: 'Robot made a commit',
      createdBy: 'sh -c tail',
      workDir,
    },
    store,
  );
  expect(await readdir(workDir)).toEqual([]);
  expect([info.reused, info.reference, info.author, info.comment]).toEqual([false, 'docker.io/library/debian-auth:latest', 'Robot', 'Robot made a commit']);
  expect(info.config).toEqual(config);

  const layout = imageLayout(info.digest);
  const manifestBytes = await readFile(store.locate(layout.manifest));
  expect(sha256(manifestBytes)).toBe(info.digest);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as {
    mediaType: string;
    config: { digest: string; size: number };
    layers: Array<{ digest: string; size: number }>;
  };
  expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
  const configBytes = await readFile(store.locate(layout.blob(manifest.config.digest)));
  const layerBytes = await readFile(store.locate(layout.blob(manifest.layers[0].digest)));
  expect([sha256(configBytes), configBytes.length]).toEqual([manifest.config.digest, manifest.config.size]);
  expect([sha256(layerBytes), layerBytes.length]).toEqual([manifest.layers[0].digest, manifest.layers[0].size]);
  const tar = await readFile(tarPath);
  expect(gunzipSync(layerBytes).equals(tar)).toBe(true);
  const imageConfig = JSON.parse(configBytes.toString('utf8')) as Record<string, unknown> & {
    config: Record<string, unknown>;
    rootfs: unknown;
    history: unknown[];
  };
  expect(imageConfig).toMatchObject({
    architecture: 'amd64',
    os: 'linux',
    author: 'Robot',
    comment: 'Robot made a commit',
    rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
  });
  expect(imageConfig.config).toEqual({
    User: '',
    ExposedPorts: { '80/tcp': {} },
    Env: config.env,
    Entrypoint: null,
    Cmd: config.cmd,
    Volumes: { '/data': {} },
    WorkingDir: '/srv',
    Labels: { team: 'a' },
    StopSignal: 'SIGINT',
  });
  expect(imageConfig.history).toEqual([{ created: imageConfig.created, author: 'Robot', created_by: 'sh -c tail', comment: 'Robot made a commit' }]);

  const extent = store.locate(layout.extent);
  await checkFilesystem(extent);
  expect(await readPath(extent, '/usr/local/nano/version')).toBe('nano 7.2\n');
  expect((await statPath(extent, '/bin/tool'))?.mode).toBe(0o755);
  expect((await readStoredImage(store, info.digest))?.author).toBe('Robot');
  expect(await store.size(layout.files)).toBeGreaterThan(0);
}, 120_000);

test('GIVEN no name WHEN committed THEN the image is named by its digest under the container’s repository', async () => {
  const tarPath = await containerTar();
  const store = new LocalDirectoryImageStore(join(scratch, 'store2'));
  const config = { entrypoint: [], cmd: ['sh'], env: [], working_dir: '', user: '', exposed_ports: [], labels: {} };
  const info = await commitImage({ tarPath, unnamedRepository: 'commit1', config }, store);
  expect(info.reference).toBe(`docker.io/library/commit1@${info.digest}`);
}, 120_000);

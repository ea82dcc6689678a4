/**
 * The image pipeline end to end against a real registry (Debian's docker-registry, images pushed
 * with skopeo from OCI layouts written here), into a local-directory image store; the resulting
 * ext4 is read back with debugfs.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  buildImage,
  ImageError,
  imageLayout,
  inspectStoredImage,
  LocalDirectoryImageStore,
  resolveReference,
  rootfsUuidForDigest,
  type ImageProgress,
} from '../../src/images';
import { parseFlatDescriptor } from '../../src/images/vmdk';
import { layeredImage, HELLO_SCRIPT, multiPlatformImages, versionedImage } from '../fixtures/images/test-images';
import { writeOciLayout, type WrittenLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { checkFilesystem, listDirectory, readPath, statPath, superblock } from './ext4-inspect';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vic-images-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh store and an (initially empty) parent for staging areas, to check the cleanup. */
async function freshWorkspace(name: string): Promise<{ store: LocalDirectoryImageStore; workDir: string }> {
  const base = await mkdtemp(join(scratch, `${name}-`));
  const workDir = join(base, 'work');
  await rm(workDir, { recursive: true, force: true });
  await (await import('node:fs/promises')).mkdir(workDir);
  return { store: new LocalDirectoryImageStore(join(base, 'store')), workDir };
}

async function expectNoStagingLeft(workDir: string): Promise<void> {
  expect(await readdir(workDir)).toEqual([]);
}

describe('GIVEN an anonymous plain-HTTP registry holding a three-layer image', () => {
  const registry = useRegistry();
  let layout: WrittenLayout;
  beforeAll(async () => {
    layout = await writeOciLayout(join(scratch, 'layered'), 'v1', [layeredImage]);
    await registry().push(layout.dir, 'v1', 'test/layered:v1');
  }, 60_000);

  test('WHEN it is built THEN the ext4 holds the flattened tree with contents, modes and owners, and whiteouts applied', async () => {
    const { store, workDir } = await freshWorkspace('layered');
    const events: ImageProgress[] = [];
    const info = await buildImage(
      { reference: `${registry().host}/test/layered:v1`, insecureRegistry: true, workDir, onProgress: (e) => events.push(e) },
      store,
    );

    expect(info.digest).toBe(layout.manifestDigests[0]);
    expect(info.id).toBe(info.digest);
    expect(info.reused).toBe(false);
    expect(info.config).toEqual({
      entrypoint: ['/bin/hello'],
      cmd: ['--greet', 'world'],
      env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'GREETING=hi'],
      working_dir: '/home/app',
      user: '1000:1000',
      exposed_ports: ['53/udp', '8080/tcp'],
      labels: { 'org.example.purpose': 'vic-test' },
      volumes: [],
    });
    await expectNoStagingLeft(workDir);

    const files = imageLayout(info.digest);
    const extent = store.locate(files.extent);
    expect(info.diskPath).toBe(store.locate(files.descriptor));
    const descriptor = parseFlatDescriptor(await readFile(info.diskPath, 'utf8'));
    expect(descriptor).toEqual({ createType: 'monolithicFlat', extentFileName: files.extentFileName, sizeBytes: info.sizeBytes });
    const metadata = JSON.parse(await readFile(store.locate(files.metadata), 'utf8'));
    expect(metadata).toMatchObject({
      digest: info.digest,
      reference: `${registry().host}/test/layered:v1`,
      platform: 'linux/amd64',
      size_bytes: info.sizeBytes,
      rootfs_uuid: rootfsUuidForDigest(info.digest),
      entrypoint: ['/bin/hello'],
    });

    await checkFilesystem(extent);
    expect(await superblock(extent)).toMatchObject({ label: 'vic-rootfs', uuid: rootfsUuidForDigest(info.digest) });

    // Contents and modes, including the executable and the set-user-ID bit.
    expect(await readPath(extent, '/bin/hello')).toBe(HELLO_SCRIPT);
    expect(await statPath(extent, '/bin/hello')).toMatchObject({ type: 'regular', mode: 0o755, uid: 0, gid: 0 });
    expect(await statPath(extent, '/bin/su-tool')).toMatchObject({ mode: 0o4755 });
    expect(await statPath(extent, '/tmp')).toMatchObject({ type: 'directory', mode: 0o1777 });
    // Owners other than root.
    expect(await statPath(extent, '/home/app')).toMatchObject({ type: 'directory', mode: 0o750, uid: 1000, gid: 1000 });
    expect(await statPath(extent, '/home/app/notes.txt')).toMatchObject({ mode: 0o640, uid: 1000, gid: 1000 });
    expect(await statPath(extent, '/srv/data/deep/file.txt')).toMatchObject({ uid: 33, gid: 33 });
    // Device node and FIFO.
    expect(await statPath(extent, '/dev/null')).toMatchObject({ type: 'character', mode: 0o666, deviceNumbers: { major: 1, minor: 3 } });
    expect(await statPath(extent, '/run-fifo')).toMatchObject({ type: 'FIFO', mode: 0o620 });
    // Links.
    expect(await statPath(extent, '/bin/greet')).toMatchObject({ type: 'symlink', symlinkTarget: 'hello' });
    expect(await statPath(extent, '/etc/absolute-link')).toMatchObject({ type: 'symlink', symlinkTarget: '/etc/hostname' });
    const hello = await statPath(extent, '/bin/hello');
    const again = await statPath(extent, '/bin/hello-again');
    expect(again?.inode).toBe(hello?.inode);
    expect(hello?.links).toBe(2);
    // Overwrites, whiteouts, the opaque directory, and type changes across layers.
    expect(await readPath(extent, '/etc/hostname')).toBe('layer two\n');
    expect(await statPath(extent, '/etc/secret')).toBeUndefined();
    expect(await listDirectory(extent, '/etc')).toEqual(['absolute-link', 'hostname']);
    expect(await listDirectory(extent, '/opt/app')).toEqual(['c.txt']);
    expect(await statPath(extent, '/old')).toMatchObject({ type: 'regular' });
    expect(await readPath(extent, '/old')).toBe('old is a file now\n');
    expect(await statPath(extent, '/srv/data')).toMatchObject({ type: 'directory' });
    expect((await listDirectory(extent, '/')).filter((n) => n.startsWith('.wh.'))).toEqual([]);
    expect(await listDirectory(extent, '/')).toEqual(['bin', 'dev', 'etc', 'home', 'lost+found', 'old', 'opt', 'run-fifo', 'srv', 'tmp']);

    // Progress came in bytes for the three phases and ended complete.
    for (const phase of ['pull', 'build', 'upload'] as const) {
      const last = events.filter((e) => e.phase === phase).pop();
      expect(last).toBeDefined();
      expect(last?.current).toBe(last?.total);
      expect(last?.total).toBeGreaterThan(0);
    }
    expect(info.pulledBytes).toBeGreaterThan(0);
    const descriptorBytes = (await readFile(info.diskPath)).length;
    const metadataBytes = (await readFile(store.locate(files.metadata))).length;
    const listingBytes = await readFile(store.locate(files.files));
    // The config as the registry served it, kept for docker history; the layers' unpacked sizes.
    const configBytes = await readFile(store.locate(files.blob(String(info.configDigest))));
    expect(`sha256:${createHash('sha256').update(configBytes).digest('hex')}`).toBe(info.configDigest);
    expect(info.layerSizes).toHaveLength(3);
    expect(info.layerSizes?.every((n) => n > 0)).toBe(true);
    expect(info.uploadedBytes).toBe(info.sizeBytes + descriptorBytes + listingBytes.length + configBytes.length + metadataBytes);

    // The file listing docker diff compares with: every entry of the ext4 tree (lost+found, mke2fs's, aside), as the filesystem holds it.
    const listing = gunzipSync(listingBytes)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as [string, string, number, number, number, number, number, string]);
    const tree: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const name of await listDirectory(extent, dir)) {
        const path = `${dir === '/' ? '' : dir}/${name}`;
        if (path === '/lost+found') continue;
        tree.push(path);
        if ((await statPath(extent, path))?.type === 'directory') await walk(path);
      }
    };
    await walk('/');
    expect(listing.map((e) => e[0]).sort()).toEqual(tree.sort());
    const KINDS: Record<string, string> = { regular: 'f', directory: 'd', symlink: 'l', character: 'c', block: 'b', FIFO: 'p' };
    for (const [path, kind, mode, uid, gid, size, , link] of listing) {
      const inode = await statPath(extent, path);
      expect({ path, kind, mode: kind === 'l' ? inode?.mode : mode, uid, gid, size: kind === 'f' ? size : inode?.size, link: link || undefined }).toEqual({
        path,
        kind: KINDS[String(inode?.type)],
        mode: inode?.mode,
        uid: inode?.uid,
        gid: inode?.gid,
        size: inode?.size,
        link: inode?.symlinkTarget,
      });
    }
  });

  test('WHEN built under fakeroot, as for a non-root user THEN owners, modes, devices and links come out the same', async () => {
    const { store, workDir } = await freshWorkspace('fakeroot');
    const info = await buildImage({ reference: `${registry().host}/test/layered:v1`, insecureRegistry: true, workDir, privilege: 'fakeroot' }, store);
    const extent = store.locate(imageLayout(info.digest).extent);
    await checkFilesystem(extent);
    expect(await statPath(extent, '/bin/su-tool')).toMatchObject({ mode: 0o4755, uid: 0, gid: 0 });
    expect(await statPath(extent, '/home/app')).toMatchObject({ mode: 0o750, uid: 1000, gid: 1000 });
    expect(await statPath(extent, '/home/app/notes.txt')).toMatchObject({ mode: 0o640, uid: 1000, gid: 1000 });
    expect(await statPath(extent, '/tmp')).toMatchObject({ mode: 0o1777 });
    expect(await statPath(extent, '/dev/null')).toMatchObject({ type: 'character', deviceNumbers: { major: 1, minor: 3 } });
    expect(await statPath(extent, '/bin/hello')).toMatchObject({ mode: 0o755, links: 2 });
    await expectNoStagingLeft(workDir);
  });

  test('WHEN an image in the registry carries a path-traversal entry THEN the build is refused, nothing is uploaded and staging is cleaned', async () => {
    const evil = await writeOciLayout(join(scratch, 'evil'), 'v1', [
      {
        layers: [
          { entries: [{ type: 'file', path: 'ok.txt', content: 'fine' }] },
          {
            entries: [
              { type: 'symlink', path: 'out', target: '../../../../../tmp' },
              { type: 'file', path: 'out/vic-pwned', content: 'x' },
            ],
          },
        ],
      },
    ]);
    await registry().push(evil.dir, 'v1', 'test/evil:v1');
    const { store, workDir } = await freshWorkspace('evil');
    const attempt = buildImage({ reference: `${registry().host}/test/evil:v1`, insecureRegistry: true, workDir }, store);
    await expect(attempt).rejects.toMatchObject({ code: 'UnsafeLayerPath' });
    await expect(attempt).rejects.toThrow(new RegExp(`layer ${evil.layerDigests[0][1]}: entry "out/vic-pwned" would be written through symbolic link "out"`));
    await expect(readdir(store.root)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readFile('/tmp/vic-pwned')).rejects.toMatchObject({ code: 'ENOENT' });
    await expectNoStagingLeft(workDir);
  });

  test('WHEN the same image is built again THEN it is reused: no blob pulled, nothing uploaded', async () => {
    const { store, workDir } = await freshWorkspace('reuse');
    const reference = `${registry().host}/test/layered:v1`;
    const first = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    const blobGetsBefore = registry().blobGets();
    const events: ImageProgress[] = [];
    const second = await buildImage({ reference, insecureRegistry: true, workDir, onProgress: (e) => events.push(e) }, store);
    expect(second).toMatchObject({ digest: first.digest, reused: true, pulledBytes: 0, uploadedBytes: 0, sizeBytes: first.sizeBytes, created: first.created });
    expect(registry().blobGets()).toBe(blobGetsBefore);
    expect(events).toEqual([]);
    await expectNoStagingLeft(workDir);
  });

  test('WHEN the same image is pushed with Docker schema 2 media types THEN it builds the same tree', async () => {
    await registry().push(layout.dir, 'v1', 'test/layered-docker:v1', { format: 'v2s2' });
    const { store, workDir } = await freshWorkspace('docker');
    const resolved = await resolveReference({ reference: `${registry().host}/test/layered-docker:v1`, insecureRegistry: true });
    const info = await buildImage({ reference: `${registry().host}/test/layered-docker:v1`, insecureRegistry: true, workDir }, store);
    expect(info.digest).toBe(resolved.digest);
    expect(info.digest).not.toBe(layout.manifestDigests[0]);
    const extent = store.locate(imageLayout(info.digest).extent);
    expect(await readPath(extent, '/etc/hostname')).toBe('layer two\n');
    expect(await listDirectory(extent, '/opt/app')).toEqual(['c.txt']);
  });

  test('WHEN the tag does not exist THEN a clear error names tag and repository, and nothing is uploaded', async () => {
    const { store, workDir } = await freshWorkspace('missing');
    const attempt = buildImage({ reference: `${registry().host}/test/layered:nope`, insecureRegistry: true, workDir }, store);
    await expect(attempt).rejects.toThrow(/tag "nope" not found in repository "test\/layered"/);
    await expect(attempt).rejects.toMatchObject({ code: 'ManifestNotFound' });
    await expect(readdir(store.root)).rejects.toMatchObject({ code: 'ENOENT' });
    await expectNoStagingLeft(workDir);
  });

  test('WHEN the registry is plain HTTP and insecure_registry is not set THEN the pull is refused with a hint', async () => {
    const { store, workDir } = await freshWorkspace('plain');
    await expect(buildImage({ reference: `${registry().host}/test/layered:v1`, workDir }, store)).rejects.toThrow(/does not speak TLS.*insecure_registry/);
    await expectNoStagingLeft(workDir);
  });

  test('WHEN a layer blob is tampered with in the registry storage THEN the digest mismatch is refused and staging is cleaned', async () => {
    // A separate repository with its own image, so the tampering spoils no other test.
    const tampered = await writeOciLayout(join(scratch, 'tampered'), 'v1', [versionedImage('tamper-me')]);
    await registry().push(tampered.dir, 'v1', 'test/tampered:v1');
    const blob = registry().blobDataPath(tampered.layerDigests[0][0]);
    const bytes = await readFile(blob);
    bytes[bytes.length - 5] ^= 0xff;
    await writeFile(blob, bytes);

    const { store, workDir } = await freshWorkspace('tampered');
    const attempt = buildImage({ reference: `${registry().host}/test/tampered:v1`, insecureRegistry: true, workDir }, store);
    await expect(attempt).rejects.toMatchObject({ code: 'DigestMismatch' });
    await expect(attempt).rejects.toThrow(new RegExp(`blob ${tampered.layerDigests[0][0]} .* received content with digest sha256:[0-9a-f]{64}.*refusing it`));
    expect(await inspectStoredImage(store, tampered.manifestDigests[0])).toEqual({ state: 'absent' });
    await expectNoStagingLeft(workDir);
  });
});

describe('GIVEN a multi-platform index in the registry', () => {
  const registry = useRegistry();
  let layout: WrittenLayout;
  beforeAll(async () => {
    layout = await writeOciLayout(join(scratch, 'multi'), 'v1', multiPlatformImages);
    await registry().push(layout.dir, 'v1', 'test/multi:v1');
  }, 60_000);

  test.each([
    ['linux/amd64', 1, 'linux/amd64'],
    ['linux/arm64', 0, 'linux/arm64/v8'],
    ['linux/arm64/v8', 0, 'linux/arm64/v8'],
    ['linux/arm/v7', 2, 'linux/arm/v7'],
  ])('WHEN platform %s is asked for THEN its manifest is picked and built', async (platform, index, marker) => {
    const { store, workDir } = await freshWorkspace('multi');
    const info = await buildImage({ reference: `${registry().host}/test/multi:v1`, platform, insecureRegistry: true, workDir }, store);
    expect(info.digest).toBe(layout.manifestDigests[index]);
    expect(info.indexDigest).toBe(layout.topDigest);
    const extent = store.locate(imageLayout(info.digest).extent);
    expect(await readPath(extent, '/platform')).toBe(`${marker}\n`);
  });

  test('WHEN a platform the index lacks is asked for THEN the error lists what it offers', async () => {
    const { store, workDir } = await freshWorkspace('multi-missing');
    const attempt = buildImage({ reference: `${registry().host}/test/multi:v1`, platform: 'linux/s390x', insecureRegistry: true, workDir }, store);
    await expect(attempt).rejects.toThrow(/no manifest for platform linux\/s390x \(it offers: linux\/arm64\/v8, linux\/amd64, linux\/arm\/v7\)/);
    await expectNoStagingLeft(workDir);
  });

  test('WHEN the reference pins the index digest THEN resolving gives the platform manifest without pulling layers', async () => {
    const before = registry().blobGets();
    const resolved = await resolveReference({ reference: `${registry().host}/test/multi@${layout.topDigest}`, insecureRegistry: true });
    expect(resolved).toMatchObject({ digest: layout.manifestDigests[1], indexDigest: layout.topDigest, platform: 'linux/amd64' });
    expect(registry().blobGets()).toBe(before);
  });
});

describe('GIVEN a tag that moves to a new image', () => {
  const registry = useRegistry();

  test('WHEN the tag is re-pushed THEN resolveReference sees the new digest without pulling layers, and a digest reference stays put', async () => {
    const one = await writeOciLayout(join(scratch, 'moving-1'), 'latest', [versionedImage('1')]);
    const two = await writeOciLayout(join(scratch, 'moving-2'), 'latest', [versionedImage('2')]);
    await registry().push(one.dir, 'latest', 'test/moving:latest');
    const reference = `${registry().host}/test/moving:latest`;
    const first = await resolveReference({ reference, insecureRegistry: true });
    expect(first.digest).toBe(one.manifestDigests[0]);

    await registry().push(two.dir, 'latest', 'test/moving:latest');
    const second = await resolveReference({ reference, insecureRegistry: true });
    expect(second.digest).toBe(two.manifestDigests[0]);
    const pinned = await resolveReference({ reference: `${registry().host}/test/moving@${one.manifestDigests[0]}`, insecureRegistry: true });
    expect(pinned.digest).toBe(one.manifestDigests[0]);
    expect(registry().blobGets()).toBe(0);
  });
});

describe('errors carry a code', () => {
  test('GIVEN a malformed reference WHEN building THEN InvalidReference is raised before any network access', async () => {
    const store = new LocalDirectoryImageStore(join(scratch, 'never'));
    const err = await buildImage({ reference: 'Bad Reference' }, store).catch((e: unknown) => e);
    expect(ImageError.isImageError(err, 'InvalidReference')).toBe(true);
  });
});

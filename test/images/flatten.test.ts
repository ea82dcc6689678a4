/**
 * The flattener on layer files written here: path-traversal attempts are refused with a clear
 * error and write nothing outside the staging root; in-root symlinks are followed chroot-style.
 */
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RootfsStaging, type LayerFile } from '../../src/images/flatten';
import { buildLayerTar, opaque, whiteout, type TarEntrySpec } from '../helpers/oci-layout';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vic-flatten-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh sandbox: `outside/` next to `rootfs/`, to prove nothing escapes into it. */
async function sandbox(): Promise<{ staging: RootfsStaging; outside: string; layer: (entries: TarEntrySpec[], n?: number) => Promise<LayerFile> }> {
  const dir = await mkdtemp(join(scratch, 'case-'));
  const outside = join(dir, 'outside');
  await mkdir(outside);
  const staging = new RootfsStaging(join(dir, 'rootfs'));
  await staging.create();
  let count = 0;
  return {
    staging,
    outside,
    layer: async (entries) => {
      const path = join(dir, `layer-${count++}.tar.gz`);
      await writeFile(path, gzipSync(await buildLayerTar(entries)));
      return { path, digest: `sha256:${String(count).repeat(64).slice(0, 64)}` };
    },
  };
}

describe('GIVEN a layer that tries to write outside the image root', () => {
  test.each<[string, TarEntrySpec[][], RegExp]>([
    ['a ".." entry', [[{ type: 'file', path: '../evil', content: 'x' }]], /entry "\.\.\/evil" contains "\.\."/],
    ['a ".." in the middle', [[{ type: 'file', path: 'a/../../evil', content: 'x' }]], /contains "\.\."/],
    ['an absolute path', [[{ type: 'file', path: '/etc/passwd', content: 'x' }]], /entry "\/etc\/passwd" has an absolute path/],
    [
      'a write through a relative symlink that climbs out',
      [
        [
          { type: 'symlink', path: 'escape', target: '../../../..' },
          { type: 'file', path: 'escape/pwned', content: 'x' },
        ],
      ],
      /written through symbolic link "escape" -> "\.\.\/\.\.\/\.\.\/\.\.", which leads outside the image root/,
    ],
    [
      'a write through a symlink planted in an earlier layer',
      [[{ type: 'symlink', path: 'up', target: '../outside' }], [{ type: 'file', path: 'up/pwned', content: 'x' }]],
      /through symbolic link "up" -> "\.\.\/outside"/,
    ],
    [
      'a symlink chain that climbs out step by step',
      [
        [
          { type: 'dir', path: 'a/b/' },
          { type: 'symlink', path: 'a/b/c', target: '../../..' },
          { type: 'file', path: 'a/b/c/pwned', content: 'x' },
        ],
      ],
      /leads outside the image root/,
    ],
    [
      'a hard link to a ".." path',
      [[{ type: 'hardlink', path: 'stolen', target: '../outside/secret' }]],
      /hard link "stolen" points to "\.\.\/outside\/secret", outside the image root/,
    ],
    [
      'a hard link to an absolute path',
      [[{ type: 'hardlink', path: 'stolen', target: '/etc/shadow' }]],
      /hard link "stolen" points to "\/etc\/shadow", outside the image root/,
    ],
    [
      'a hard link through an escaping symlink',
      [
        [
          { type: 'symlink', path: 'esc', target: '../outside' },
          { type: 'hardlink', path: 'stolen', target: 'esc/secret' },
        ],
      ],
      /leads outside the image root|leads above the image root/,
    ],
    ['a whiteout of ".."', [[{ type: 'file', path: 'dir/.wh...', content: '' }]], /whiteout entry "dir\/\.wh\.\.\." names no file/],
  ])('WHEN it holds %s THEN it is refused, naming the entry and the layer, and nothing lands outside', async (_name, layers, message) => {
    const { staging, outside, layer } = await sandbox();
    await writeFile(join(outside, 'secret'), 'do not touch');
    let error: unknown;
    for (const entries of layers) {
      try {
        await staging.applyLayer(await layer(entries));
      } catch (err) {
        error = err;
        break;
      }
    }
    expect(error).toMatchObject({ code: 'UnsafeLayerPath' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/layer sha256:[0-9]{64}/);
    expect((await readdir(outside)).sort()).toEqual(['secret']);
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('do not touch');
  });
});

describe('GIVEN layers with symlinks that stay inside the root', () => {
  test('WHEN a later entry goes through an absolute symlink THEN it lands inside the root, as under chroot', async () => {
    const { staging, layer } = await sandbox();
    await staging.applyLayer(
      await layer([
        { type: 'dir', path: 'usr/lib/' },
        { type: 'symlink', path: 'lib', target: '/usr/lib' },
      ]),
    );
    await staging.applyLayer(await layer([{ type: 'file', path: 'lib/libx.so', content: 'elf' }]));
    expect(await readFile(join(staging.root, 'usr/lib/libx.so'), 'utf8')).toBe('elf');
    expect(await readlink(join(staging.root, 'lib'))).toBe('/usr/lib');
  });

  test('WHEN a symlink points outside but nothing is written through it THEN it is kept as a plain link', async () => {
    const { staging, layer } = await sandbox();
    await staging.applyLayer(await layer([{ type: 'symlink', path: 'etc/mtab', target: '../../../proc/self/mounts' }]));
    expect(await readlink(join(staging.root, 'etc/mtab'))).toBe('../../../proc/self/mounts');
  });
});

describe('GIVEN whiteouts and opaque markers in any order', () => {
  test("WHEN the opaque marker comes after the layer's own entries THEN only lower-layer content is hidden", async () => {
    const { staging, layer } = await sandbox();
    await staging.applyLayer(
      await layer([
        { type: 'file', path: 'd/old.txt', content: 'old' },
        { type: 'file', path: 'd/sub/older.txt', content: 'older' },
      ]),
    );
    await staging.applyLayer(
      await layer([{ type: 'file', path: 'd/sub/new.txt', content: 'new' }, { type: 'file', path: 'd/top.txt', content: 'top' }, opaque('d')]),
    );
    expect((await readdir(join(staging.root, 'd'))).sort()).toEqual(['sub', 'top.txt']);
    expect(await readdir(join(staging.root, 'd/sub'))).toEqual(['new.txt']);
  });

  test('WHEN a whiteout names something absent THEN it is a no-op', async () => {
    const { staging, layer } = await sandbox();
    await staging.applyLayer(await layer([whiteout('nothing/here')]));
    expect(await readdir(join(staging.root, 'nothing'))).toEqual([]);
  });

  test('WHEN a layer is not a tar stream THEN the error names the layer', async () => {
    const { staging } = await sandbox();
    const path = join(scratch, 'garbage.tar.gz');
    await writeFile(path, gzipSync(Buffer.from('this is not a tar archive at all, just text '.repeat(20))));
    await expect(staging.applyLayer({ path, digest: 'sha256:garbage' })).rejects.toMatchObject({
      code: 'LayerFormat',
      message: expect.stringMatching(/layer sha256:garbage is not a readable gzip-compressed tar stream/),
    });
  });
});

describe('GIVEN layers with files, a symlink, a hard link, a device and owners', () => {
  test("WHEN the staging is planned THEN its listing holds every entry once, with the kind, mode, owner, size, mtime and target the image's ext4 gets, and no whited-out one", async () => {
    const { staging, layer } = await sandbox();
    await staging.applyLayer(
      await layer([
        { type: 'dir', path: 'etc/', mode: 0o755 },
        { type: 'file', path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n', mode: 0o644 },
        { type: 'file', path: 'gone.txt', content: 'x' },
        { type: 'dir', path: 'home/app/', mode: 0o700, uid: 1000, gid: 1000 },
        { type: 'file', path: 'bin/tool', content: 'abc', mode: 0o4755 },
      ]),
    );
    await staging.applyLayer(
      await layer([
        whiteout('gone.txt'),
        { type: 'symlink', path: 'bin/sh', target: 'tool' },
        { type: 'hardlink', path: 'bin/tool2', target: 'bin/tool' },
        { type: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
      ]),
    );
    const { files } = await staging.plan();
    const byPath = new Map(files.map((f) => [f[0], f]));
    expect(files).toHaveLength(byPath.size);
    expect([...byPath.keys()].sort()).toEqual(['/bin', '/bin/sh', '/bin/tool', '/bin/tool2', '/dev', '/dev/null', '/etc', '/etc/passwd', '/home', '/home/app']);
    const mtime = Date.parse('2024-01-02T03:04:05Z') / 1000;
    expect(byPath.get('/etc/passwd')).toEqual(['/etc/passwd', 'f', 0o644, 0, 0, 26, mtime, '']);
    expect(byPath.get('/bin/tool')).toEqual(['/bin/tool', 'f', 0o4755, 0, 0, 3, mtime, '']);
    // A second name of an inode: the first name's attributes, which the privileged pass applies.
    expect(byPath.get('/bin/tool2')).toEqual(['/bin/tool2', 'f', 0o4755, 0, 0, 3, mtime, '']);
    expect(byPath.get('/bin/sh')).toEqual(['/bin/sh', 'l', 0o777, 0, 0, 0, expect.any(Number), 'tool']);
    expect(byPath.get('/home/app')).toEqual(['/home/app', 'd', 0o700, 1000, 1000, 0, mtime, '']);
    expect(byPath.get('/dev/null')?.slice(0, 6)).toEqual(['/dev/null', 'c', 0o666, 0, 0, 0]);
  });
});

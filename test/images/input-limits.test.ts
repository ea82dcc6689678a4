/**
 * Input limits on image layers: a compression bomb and a layer with very many entries, served by a
 * real registry, are refused while they stream, with an error that names the layer, the limit and
 * how to raise it; nothing is left in the staging area or the store. Limits are lowered so the
 * crafted layers stay small and fast.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildImage, DEFAULT_IMAGE_LIMITS, imageLimitsFromEnv, LocalDirectoryImageStore } from '../../src/images';
import { RootfsStaging } from '../../src/images/flatten';
import { buildLayerTar, writeOciLayout, type TarEntrySpec, type WrittenLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';

const MiB = 1024 * 1024;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vic-input-limits-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function freshWorkspace(name: string): Promise<{ store: LocalDirectoryImageStore; workDir: string; storeRoot: string }> {
  const base = await mkdtemp(join(scratch, `${name}-`));
  const workDir = join(base, 'work');
  await (await import('node:fs/promises')).mkdir(workDir);
  const storeRoot = join(base, 'store');
  return { store: new LocalDirectoryImageStore(storeRoot), workDir, storeRoot };
}

/** Bytes of regular files under a directory (what the flattener wrote to disk). */
async function bytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const st = await lstat(path);
    total += st.isDirectory() ? await bytesOnDisk(path) : st.isFile() ? st.size : 0;
  }
  return total;
}

const bombEntries = (mb: number): TarEntrySpec[] => [
  { type: 'dir', path: 'bin' },
  { type: 'file', path: 'bin/zeros', content: Buffer.alloc(mb * MiB) },
];
const manyEntries = (count: number): TarEntrySpec[] => [
  { type: 'dir', path: 'many' },
  ...Array.from({ length: count }, (_, i): TarEntrySpec => ({ type: 'file', path: `many/f${i}`, content: '' })),
];

describe('GIVEN a registry serving a gzip bomb, a layer with many tiny entries, and a modest image', () => {
  const registry = useRegistry();
  let bomb: WrittenLayout;
  let crowd: WrittenLayout;
  let modest: WrittenLayout;
  let bulky: WrittenLayout;
  beforeAll(async () => {
    // 48 MB of zeros that gzip squeezes into a few tens of KB.
    bomb = await writeOciLayout(join(scratch, 'bomb'), 'v1', [
      { layers: [{ entries: [{ type: 'file', path: 'hello', content: 'hi\n' }] }, { entries: bombEntries(48) }] },
    ]);
    crowd = await writeOciLayout(join(scratch, 'crowd'), 'v1', [{ layers: [{ entries: manyEntries(3000) }] }]);
    modest = await writeOciLayout(join(scratch, 'modest'), 'v1', [
      { layers: [{ entries: [...manyEntries(200), { type: 'file', path: 'data', content: Buffer.alloc(2 * MiB, 1) }] }] },
    ]);
    await registry().push(bomb.dir, 'v1', 'test/bomb:v1');
    await registry().push(crowd.dir, 'v1', 'test/crowd:v1');
    // Random bytes do not compress: the declared layer size alone passes a 4 MB limit.
    bulky = await writeOciLayout(join(scratch, 'bulky'), 'v1', [{ layers: [{ entries: [{ type: 'file', path: 'noise', content: randomBytes(6 * MiB) }] }] }]);
    await registry().push(modest.dir, 'v1', 'test/modest:v1');
    await registry().push(bulky.dir, 'v1', 'test/bulky:v1');
  }, 120_000);

  test('WHEN the bomb is built with an 8 MB unpack limit THEN it is refused naming the layer, the limit and how to raise it, and nothing is left behind', async () => {
    const { store, workDir, storeRoot } = await freshWorkspace('bomb');
    const attempt = buildImage({ reference: `${registry().host}/test/bomb:v1`, insecureRegistry: true, workDir, limits: { maxUnpackedMb: 8 } }, store);
    await expect(attempt).rejects.toMatchObject({ code: 'LayerLimit', name: 'LayerLimitError' });
    await expect(attempt).rejects.toThrow(new RegExp(`layer ${bomb.layerDigests[0][1]} unpacks beyond the limit of 8 MB`));
    await expect(attempt).rejects.toThrow(/set size_mb on the image .* VIC_IMAGE_MAX_UNPACKED_MB \(now 8\)/);
    expect(await readdir(workDir)).toEqual([]);
    await expect(readdir(storeRoot)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('WHEN the bomb is built with size_mb 16 THEN size_mb is the limit and the error says to raise size_mb', async () => {
    const { store, workDir } = await freshWorkspace('bomb-size');
    const attempt = buildImage({ reference: `${registry().host}/test/bomb:v1`, insecureRegistry: true, workDir, sizeMb: 16 }, store);
    await expect(attempt).rejects.toMatchObject({ code: 'LayerLimit' });
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `layer ${bomb.layerDigests[0][1]} unpacks beyond the limit of 16 MB.*size_mb \\(16\\) bounds its content: if the image is genuine, raise size_mb`,
      ),
    );
    expect(await readdir(workDir)).toEqual([]);
  });

  test('WHEN the crowded layer is built with a 1000-entry limit THEN it is refused naming the layer, the limit and VIC_IMAGE_MAX_ENTRIES', async () => {
    const { store, workDir, storeRoot } = await freshWorkspace('crowd');
    const attempt = buildImage({ reference: `${registry().host}/test/crowd:v1`, insecureRegistry: true, workDir, limits: { maxEntries: 1000 } }, store);
    await expect(attempt).rejects.toMatchObject({ code: 'LayerLimit' });
    await expect(attempt).rejects.toThrow(
      new RegExp(`layer ${crowd.layerDigests[0][0]} holds more entries than the limit of 1000 .*VIC_IMAGE_MAX_ENTRIES \\(now 1000\\)`),
    );
    expect(await readdir(workDir)).toEqual([]);
    await expect(readdir(storeRoot)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('WHEN the entry limit comes from VIC_IMAGE_MAX_ENTRIES THEN the build honours it', async () => {
    const { store, workDir } = await freshWorkspace('crowd-env');
    const saved = process.env.VIC_IMAGE_MAX_ENTRIES;
    process.env.VIC_IMAGE_MAX_ENTRIES = '500';
    try {
      await expect(buildImage({ reference: `${registry().host}/test/crowd:v1`, insecureRegistry: true, workDir }, store)).rejects.toThrow(
        /limit of 500 .*VIC_IMAGE_MAX_ENTRIES \(now 500\)/,
      );
    } finally {
      if (saved === undefined) delete process.env.VIC_IMAGE_MAX_ENTRIES;
      else process.env.VIC_IMAGE_MAX_ENTRIES = saved;
    }
    expect(await readdir(workDir)).toEqual([]);
  });

  test('WHEN layers declare more bytes than the limit THEN the build is refused before any blob is downloaded', async () => {
    const { store, workDir } = await freshWorkspace('bulky');
    const before = registry().blobGets();
    const attempt = buildImage({ reference: `${registry().host}/test/bulky:v1`, insecureRegistry: true, workDir, limits: { maxUnpackedMb: 4 } }, store);
    await expect(attempt).rejects.toMatchObject({ code: 'LayerLimit' });
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `layer ${bulky.layerDigests[0][0]} \\(\\d+ bytes, layer 1 of 1\\) takes the image's layers past the limit of 4 MB before they are even unpacked; refused before downloading it`,
      ),
    );
    expect(registry().blobGets()).toBe(before);
    expect(await readdir(workDir)).toEqual([]);
  });

  test('WHEN an image within the same lowered limits is built THEN it succeeds (the limits refuse only what passes them)', async () => {
    const { store, workDir } = await freshWorkspace('modest');
    const info = await buildImage(
      { reference: `${registry().host}/test/modest:v1`, insecureRegistry: true, workDir, limits: { maxUnpackedMb: 8, maxEntries: 1000 } },
      store,
    );
    expect(info.digest).toBe(modest.manifestDigests[0]);
    expect(await readdir(workDir)).toEqual([]);
  });
});

describe('GIVEN a bomb layer applied straight to a staging root', () => {
  test('WHEN it passes the byte limit THEN it is refused while streaming: what reached the disk stays within the limit', async () => {
    const dir = await mkdtemp(join(scratch, 'direct-'));
    const layerPath = join(dir, 'layer.tar.gz');
    await writeFile(layerPath, gzipSync(await buildLayerTar(bombEntries(48))));
    const staging = new RootfsStaging(join(dir, 'rootfs'), { maxBytes: 4 * MiB, maxEntries: 100, raise: { bytes: 'raise it', entries: 'raise them' } });
    await staging.create();
    await expect(staging.applyLayer({ path: layerPath, digest: 'sha256:bomb' })).rejects.toThrow(
      /layer sha256:bomb unpacks beyond the limit of 4 MB .* raise it$/,
    );
    expect(await bytesOnDisk(staging.root)).toBeLessThanOrEqual(4 * MiB);
  });
});

describe('imageLimitsFromEnv', () => {
  test.each([
    [{}, DEFAULT_IMAGE_LIMITS],
    [{ VIC_IMAGE_MAX_UNPACKED_MB: '32768' }, { ...DEFAULT_IMAGE_LIMITS, maxUnpackedMb: 32768 }],
    [
      { VIC_IMAGE_MAX_ENTRIES: ' 2000000 ', VIC_IMAGE_MAX_UNPACKED_MB: '' },
      { ...DEFAULT_IMAGE_LIMITS, maxEntries: 2_000_000 },
    ],
  ])('GIVEN %j THEN the limits are %j', (env, expected) => {
    expect(imageLimitsFromEnv(env)).toEqual(expected);
  });

  test.each(['abc', '0', '-5', '1.5', '1e3'])(
    'GIVEN VIC_IMAGE_MAX_UNPACKED_MB=%s THEN a clear error names the variable, the value and the default',
    (value) => {
      expect(() => imageLimitsFromEnv({ VIC_IMAGE_MAX_UNPACKED_MB: value })).toThrow(
        new RegExp(`VIC_IMAGE_MAX_UNPACKED_MB="${value.replace('.', '\\.')}" is not a positive whole number; set it to one \\(default 16384\\) or unset it`),
      );
    },
  );
});

/**
 * The hosted sparse VMDK writer (src/images/vmdk.ts): a raw image goes in, a monolithicSparse file
 * comes out that holds only the grains with data and reads back as the same bytes, both through a
 * reader written here from the format's layout and through qemu-img's own VMDK driver.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { monolithicSparseDescriptor, scanDataGrains, sparseLayout, sparseStream, SPARSE_GRAIN_BYTES, SPARSE_MAGIC } from '../../../src/images/vmdk';

const run = promisify(execFile);
const GRAIN = SPARSE_GRAIN_BYTES;
const digest = `sha256:${'0bc36cf5'.repeat(8)}`;

/** Reads a monolithicSparse file back into the raw disk it describes, following the grain directory. */
function readSparse(file: Buffer): { raw: Buffer; descriptor: string; grainsStored: number } {
  expect(file.readUInt32LE(0)).toBe(SPARSE_MAGIC);
  expect(file.readUInt32LE(4)).toBe(1);
  const capacity = Number(file.readBigUInt64LE(12)) * 512;
  const grainBytes = Number(file.readBigUInt64LE(20)) * 512;
  const descriptor = file
    .subarray(Number(file.readBigUInt64LE(28)) * 512, (Number(file.readBigUInt64LE(28)) + Number(file.readBigUInt64LE(36))) * 512)
    .toString('utf8')
    .replace(/\0+$/, '');
  const perTable = file.readUInt32LE(44);
  const rgd = Number(file.readBigUInt64LE(48)) * 512;
  const gd = Number(file.readBigUInt64LE(56)) * 512;
  const overhead = Number(file.readBigUInt64LE(64)) * 512;
  expect(file.subarray(73, 77).toString('latin1')).toBe('\n \r\n');
  const grains = Math.ceil(capacity / grainBytes);
  const raw = Buffer.alloc(capacity);
  let grainsStored = 0;
  for (let table = 0; table < Math.ceil(grains / perTable); table++) {
    const gt = file.readUInt32LE(gd + table * 4) * 512;
    const rgt = file.readUInt32LE(rgd + table * 4) * 512;
    for (let entry = 0; entry < perTable && table * perTable + entry < grains; entry++) {
      const sector = file.readUInt32LE(gt + entry * 4);
      // The redundant tables must agree with the primary ones.
      expect(file.readUInt32LE(rgt + entry * 4)).toBe(sector);
      if (sector === 0) continue;
      expect(sector * 512).toBeGreaterThanOrEqual(overhead);
      grainsStored++;
      const at = (table * perTable + entry) * grainBytes;
      file.copy(raw, at, sector * 512, sector * 512 + Math.min(grainBytes, capacity - at));
    }
  }
  return { raw, descriptor, grainsStored };
}

describe('GIVEN a raw disk image that is mostly zeros', () => {
  let dir: string;
  let rawPath: string;
  let raw: Buffer;
  // 200 grains and a partial one (8 KiB): data in grains 0, 1, 2 (a run), 37, 130 (half of it), and
  // the partial last one; grain 90 holds a single non-zero byte at its very end.
  const capacity = 200 * GRAIN + 8192;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vic-sparse-'));
    raw = Buffer.alloc(capacity);
    randomBytes(3 * GRAIN).copy(raw, 0);
    randomBytes(GRAIN).copy(raw, 37 * GRAIN);
    randomBytes(GRAIN / 2).copy(raw, 130 * GRAIN + GRAIN / 2);
    raw[91 * GRAIN - 1] = 0x5a;
    randomBytes(8192).copy(raw, 200 * GRAIN);
    rawPath = join(dir, 'disk.raw');
    await writeFile(rawPath, raw);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeSparse(name: string): Promise<{ path: string; size: number; grains: number[] }> {
    const grains = await scanDataGrains(rawPath, capacity);
    const layout = sparseLayout({
      capacityBytes: capacity,
      grains,
      descriptor: monolithicSparseDescriptor({ extentFileName: name, sizeBytes: capacity, digest }),
    });
    const path = join(dir, name);
    await pipeline(sparseStream(rawPath, layout), createWriteStream(path));
    return { path, size: layout.size, grains };
  }

  test('WHEN it is scanned THEN exactly the grains holding a non-zero byte are listed, in order', async () => {
    expect(await scanDataGrains(rawPath, capacity)).toEqual([0, 1, 2, 37, 90, 130, 200]);
  });

  test('WHEN it is written as a sparse VMDK THEN the file holds only those grains, and reading it back gives the raw image byte for byte', async () => {
    const { path, size, grains } = await writeSparse('disk-sparse.vmdk');
    const file = await readFile(path);
    expect(file.length).toBe(size);
    const back = readSparse(file);
    expect(back.grainsStored).toBe(grains.length);
    // Metadata (header, descriptor, two directories and tables) fits in one grain at this size.
    expect(file.length).toBe(GRAIN + grains.length * GRAIN);
    expect(back.raw.equals(raw)).toBe(true);
    expect(back.descriptor).toContain('createType="monolithicSparse"');
    expect(back.descriptor).toContain(`RW ${capacity / 512} SPARSE "disk-sparse.vmdk"`);
    expect(back.descriptor).toContain('CID=0bc36cf5');
  });

  test('WHEN qemu-img reads the sparse file with its own VMDK driver THEN it sees a vmdk of the same size whose raw content is the image', async () => {
    const { path } = await writeSparse('qemu-sparse.vmdk');
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', path])).stdout) as { format: string; 'virtual-size': number };
    expect(info).toMatchObject({ format: 'vmdk', 'virtual-size': capacity });
    await run('qemu-img', ['check', '-f', 'vmdk', path]);
    const converted = join(dir, 'qemu.raw');
    await run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'raw', path, converted]);
    expect((await readFile(converted)).equals(raw)).toBe(true);
  });

  test('WHEN the stream is opened twice (an upload retry) THEN both give the same bytes', async () => {
    const grains = await scanDataGrains(rawPath, capacity);
    const layout = sparseLayout({
      capacityBytes: capacity,
      grains,
      descriptor: monolithicSparseDescriptor({ extentFileName: 'r.vmdk', sizeBytes: capacity, digest }),
    });
    const collect = async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of sparseStream(rawPath, layout)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    const [a, b] = [await collect(), await collect()];
    expect(a.length).toBe(layout.size);
    expect(a.equals(b)).toBe(true);
  });
});

describe('GIVEN a disk with no data at all', () => {
  test('WHEN it is written sparse THEN only the metadata is stored, and it reads back as zeros', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vic-sparse-empty-'));
    try {
      const capacity = 64 * 1024 * 1024;
      const rawPath = join(dir, 'zero.raw');
      await writeFile(rawPath, Buffer.alloc(0));
      await (await import('node:fs/promises')).truncate(rawPath, capacity);
      const grains = await scanDataGrains(rawPath, capacity);
      expect(grains).toEqual([]);
      const layout = sparseLayout({
        capacityBytes: capacity,
        grains,
        descriptor: monolithicSparseDescriptor({ extentFileName: 'z.vmdk', sizeBytes: capacity, digest }),
      });
      const out = join(dir, 'z.vmdk');
      await pipeline(sparseStream(rawPath, layout), createWriteStream(out));
      expect((await stat(out)).size).toBe(layout.metadata.length);
      expect(readSparse(await readFile(out)).raw.equals(Buffer.alloc(capacity))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('WHEN the raw file is shorter than the capacity it claims THEN the scan fails naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vic-sparse-short-'));
    try {
      const rawPath = join(dir, 'short.raw');
      await writeFile(rawPath, Buffer.alloc(1000));
      await expect(scanDataGrains(rawPath, 4096)).rejects.toThrow(/short\.raw ended at byte 1000, before its size 4096/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The scan of a raw disk for the grains that hold data, guided by the file's extent map: the same
 * grains as a read of the whole file, holes not read.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { storedExtents } from '../../src/images/disk-upload';
import { SPARSE_GRAIN_BYTES, scanDataGrains } from '../../src/images/vmdk';

const run = promisify(execFile);
const MiB = 1024 * 1024;

describe('GIVEN an empty ext4 of 256 MiB made by mke2fs, with data written into a hole after it was made', () => {
  let dir: string;
  let file: string;
  const size = 256 * MiB;
  const written = 200 * MiB + 12_345;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vic-disk-upload-'));
    file = join(dir, 'fs.img');
    await run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-m', '0', file, '256M']);
    const handle = await open(file, 'r+');
    await handle.write(Buffer.alloc(100_000, 0xa5), 0, 100_000, written);
    await handle.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('WHEN its extents are read THEN they cover the written data, and the scan they guide finds the same grains as a whole read', async () => {
    const extents = await storedExtents(file);
    if (!extents) throw new Error(`no extent map for ${file}: filefrag (e2fsprogs) missing, or ${tmpdir()} is on a filesystem without FIEMAP`);
    expect(extents.some((e) => e.start <= written && e.end >= written + 100_000)).toBe(true);
    const guided = await scanDataGrains(file, size, SPARSE_GRAIN_BYTES, extents);
    const whole = await scanDataGrains(file, size);
    expect(guided).toEqual(whole);
    expect(guided).toContain(Math.floor(written / SPARSE_GRAIN_BYTES));
    expect(guided).toContain(Math.floor((written + 99_999) / SPARSE_GRAIN_BYTES));
    expect(guided.length).toBeLessThan(size / SPARSE_GRAIN_BYTES / 4);
  });

  test('WHEN the file has no extent map THEN undefined: the scan reads the whole file', async () => {
    expect(await storedExtents(join(dir, 'absent.img'))).toBeUndefined();
  });
});

/**
 * The VMDK wrappings of an image.
 *
 * - monolithicFlat: a descriptor (text) that names one flat extent, the raw ext4 filesystem itself.
 *   This is how the store holds an image disk: no conversion of the data, and every consumer (the
 *   VMs' child disks, the simulator's guest runner) reads the extent as is.
 * - monolithicSparse (VMware's hosted sparse extent, version 1): one file with a header, the
 *   descriptor embedded, a grain directory and grain tables, then only the grains that hold data.
 *   It is what is uploaded: an image's filesystem is mostly free space and zeroed metadata, which a
 *   sparse extent does not carry. The server converts it into the flat form (see pipeline.ts).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ImageError } from './errors';
import { digestHex } from './reference';

const SECTOR = 512;

export interface DescriptorOptions {
  /** The extent's file name, relative to the descriptor (same directory). */
  readonly extentFileName: string;
  readonly sizeBytes: number;
  /** The manifest digest: the content ID (CID) is derived from it, so it is stable per image. */
  readonly digest: string;
}

function checkDescriptorOptions(options: DescriptorOptions, kind: string): void {
  if (options.sizeBytes <= 0 || options.sizeBytes % SECTOR !== 0) {
    throw new ImageError('FilesystemBuild', `a ${kind} VMDK extent must be a positive multiple of ${SECTOR} bytes, got ${options.sizeBytes}`);
  }
  if (/["\n]/.test(options.extentFileName)) {
    throw new ImageError('FilesystemBuild', `VMDK extent name "${options.extentFileName}" contains a quote or a newline`);
  }
}

/**
 * The descriptor text. The flat and the sparse form differ only in createType and the extent line,
 * so a server that converts the sparse upload and keeps its descriptor's other lines writes the
 * same descriptor a flat upload would have.
 */
function descriptorText(createType: 'monolithicFlat' | 'monolithicSparse', options: DescriptorOptions): string {
  const sectors = options.sizeBytes / SECTOR;
  // The classic BIOS geometry for SCSI disks: 255 heads, 63 sectors per track.
  const cylinders = Math.max(1, Math.min(65535, Math.floor(sectors / (255 * 63))));
  const cid = digestHex(options.digest).slice(0, 8);
  const extent = createType === 'monolithicFlat' ? `RW ${sectors} FLAT "${options.extentFileName}" 0` : `RW ${sectors} SPARSE "${options.extentFileName}"`;
  return [
    '# Disk DescriptorFile',
    'version=1',
    'encoding="UTF-8"',
    `CID=${cid}`,
    'parentCID=ffffffff',
    `createType="${createType}"`,
    '',
    '# Extent description',
    extent,
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    'ddb.adapterType = "lsilogic"',
    `ddb.geometry.cylinders = "${cylinders}"`,
    'ddb.geometry.heads = "255"',
    'ddb.geometry.sectors = "63"',
    'ddb.virtualHWVersion = "4"',
    '',
  ].join('\n');
}

/** The descriptor text of a monolithicFlat VMDK. */
export function monolithicFlatDescriptor(options: DescriptorOptions): string {
  checkDescriptorOptions(options, 'flat');
  return descriptorText('monolithicFlat', options);
}

/** The descriptor embedded in a monolithicSparse VMDK; `extentFileName` is the sparse file's own name. */
export function monolithicSparseDescriptor(options: DescriptorOptions): string {
  checkDescriptorOptions(options, 'sparse');
  return descriptorText('monolithicSparse', options);
}

/** Reads the extent name and size back from a descriptor (for checks and for the tests). */
export function parseFlatDescriptor(text: string): { createType: string; extentFileName: string; sizeBytes: number } {
  const createType = /^createType="([^"]+)"/m.exec(text)?.[1];
  const extent = /^RW (\d+) FLAT "([^"]+)" 0$/m.exec(text);
  if (!createType || !extent) throw new ImageError('ImageStore', 'not a monolithicFlat VMDK descriptor (no createType or FLAT extent line)');
  return { createType, extentFileName: extent[2], sizeBytes: Number(extent[1]) * SECTOR };
}

// --- monolithicSparse (hosted sparse extent) ---

/** 'KDMV' read as a little-endian 32-bit number: the sparse extent header's magic. */
export const SPARSE_MAGIC = 0x564d444b;
/**
 * The grain: the unit a sparse extent allocates; 64 KiB is VMware's default for hosted disks. mke2fs
 * packs what it writes near the start of each block group, so a busybox-sized image carries little
 * more in 64 KiB grains than in 4 KiB ones, while every halving of the grain doubles the grain
 * tables (two copies of 4 bytes per grain), which grow with the disk's size, not its content: the
 * figures are in bench/README.md ("Measurements behind design choices").
 */
export const SPARSE_GRAIN_BYTES = 64 * 1024;
/** Grain table entries per table: fixed at 512 by the format, so one table covers 512 grains. */
const GTES_PER_GT = 512;
const GT_BYTES = GTES_PER_GT * 4;
/** Header flags: bit 0, the newline-detection characters are valid; bit 1, a redundant grain directory exists. */
const FLAG_NEWLINE_TEST = 1;
const FLAG_REDUNDANT_GD = 2;

/** Where everything sits in a monolithicSparse file made from one raw image. */
export interface SparseLayout {
  readonly capacityBytes: number;
  readonly grainBytes: number;
  /** Index of every grain that holds a non-zero byte, ascending; those grains alone are stored. */
  readonly grains: readonly number[];
  /** Header, embedded descriptor, both grain directories and their tables, zero-padded to a grain. */
  readonly metadata: Buffer;
  /** Size of the whole sparse file: metadata plus the stored grains. */
  readonly size: number;
}

/**
 * Lists the grains of a raw image that hold data, reading it in 1 MiB chunks (never the whole image
 * in memory). A partial last grain counts as data when any of its bytes is non-zero. `extents`, when
 * given, are the byte ranges the file has storage for (its holes read as zeros): only the grains
 * they touch are read, which spares reading gigabytes of holes in a large, mostly empty filesystem.
 */
export async function scanDataGrains(
  rawPath: string,
  capacityBytes: number,
  grainBytes = SPARSE_GRAIN_BYTES,
  extents?: ReadonlyArray<{ readonly start: number; readonly end: number }>,
): Promise<number[]> {
  const grainsPerChunk = Math.max(1, Math.floor((1024 * 1024) / grainBytes));
  const chunk = Buffer.alloc(grainsPerChunk * grainBytes);
  const zero = Buffer.alloc(grainBytes);
  const grains: number[] = [];
  const handle = await open(rawPath, 'r');
  try {
    let scanned = 0;
    for (const range of grainRanges(capacityBytes, grainBytes, extents)) {
      for (let offset = Math.max(range.start, scanned); offset < range.end; offset += chunk.length) {
        const want = Math.min(chunk.length, range.end - offset);
        const got = await readFully(handle, chunk, want, offset);
        if (got !== want) throw new ImageError('FilesystemBuild', `${rawPath} ended at byte ${offset + got}, before its size ${capacityBytes}`);
        for (let at = 0; at < got; at += grainBytes) {
          const end = Math.min(at + grainBytes, got);
          if (!chunk.subarray(at, end).equals(zero.subarray(0, end - at))) grains.push((offset + at) / grainBytes);
        }
      }
      scanned = Math.max(scanned, range.end);
    }
  } finally {
    await handle.close();
  }
  return grains;
}

/** The extents widened to whole grains, within the capacity, ascending; the whole file without extents. */
function grainRanges(
  capacityBytes: number,
  grainBytes: number,
  extents?: ReadonlyArray<{ readonly start: number; readonly end: number }>,
): Array<{ start: number; end: number }> {
  if (!extents) return [{ start: 0, end: capacityBytes }];
  return extents
    .map((e) => ({ start: Math.floor(e.start / grainBytes) * grainBytes, end: Math.min(capacityBytes, Math.ceil(e.end / grainBytes) * grainBytes) }))
    .filter((e) => e.start < e.end)
    .sort((a, b) => a.start - b.start);
}

/**
 * Lays out a monolithicSparse file: header (sector 0), the descriptor, the redundant grain
 * directory and its tables, the grain directory and its tables, padding to a grain boundary, then
 * the data grains in disk order. Every grain table is present, so any grain can be found; an entry
 * of 0 means "never written", which reads as zeros.
 */
export function sparseLayout(options: { capacityBytes: number; grains: readonly number[]; descriptor: string; grainBytes?: number }): SparseLayout {
  const grainBytes = options.grainBytes ?? SPARSE_GRAIN_BYTES;
  const { capacityBytes } = options;
  if (grainBytes % SECTOR !== 0 || grainBytes / SECTOR < 8 || (grainBytes & (grainBytes - 1)) !== 0) {
    throw new ImageError('FilesystemBuild', `a sparse VMDK grain must be a power of two of at least 8 sectors, got ${grainBytes} bytes`);
  }
  if (capacityBytes <= 0 || capacityBytes % SECTOR !== 0) {
    throw new ImageError('FilesystemBuild', `a sparse VMDK's capacity must be a positive multiple of ${SECTOR} bytes, got ${capacityBytes}`);
  }
  const grainSectors = grainBytes / SECTOR;
  const totalGrains = Math.ceil(capacityBytes / grainBytes);
  const tables = Math.ceil(totalGrains / GTES_PER_GT);
  const descriptor = Buffer.from(options.descriptor, 'utf8');
  const descriptorSectors = Math.ceil(descriptor.length / SECTOR);
  const gdSectors = Math.ceil((tables * 4) / SECTOR);
  const gtSectors = GT_BYTES / SECTOR;

  const descriptorOffset = 1;
  const rgdOffset = descriptorOffset + descriptorSectors;
  const rgtOffset = rgdOffset + gdSectors;
  const gdOffset = rgtOffset + tables * gtSectors;
  const gtOffset = gdOffset + gdSectors;
  const overheadSectors = Math.ceil((gtOffset + tables * gtSectors) / grainSectors) * grainSectors;
  if ((overheadSectors + options.grains.length * grainSectors) * SECTOR > 2 ** 32 * SECTOR) {
    throw new ImageError('FilesystemBuild', `a sparse VMDK addresses at most 2 TiB of grains; this image needs more: set a smaller size_mb`);
  }

  const metadata = Buffer.alloc(overheadSectors * SECTOR);
  const header = metadata.subarray(0, SECTOR);
  header.writeUInt32LE(SPARSE_MAGIC, 0);
  header.writeUInt32LE(1, 4); // version
  header.writeUInt32LE(FLAG_NEWLINE_TEST | FLAG_REDUNDANT_GD, 8);
  header.writeBigUInt64LE(BigInt(capacityBytes / SECTOR), 12);
  header.writeBigUInt64LE(BigInt(grainSectors), 20);
  header.writeBigUInt64LE(BigInt(descriptorOffset), 28);
  header.writeBigUInt64LE(BigInt(descriptorSectors), 36);
  header.writeUInt32LE(GTES_PER_GT, 44);
  header.writeBigUInt64LE(BigInt(rgdOffset), 48);
  header.writeBigUInt64LE(BigInt(gdOffset), 56);
  header.writeBigUInt64LE(BigInt(overheadSectors), 64);
  header.writeUInt8(0, 72); // uncleanShutdown
  // The newline-detection characters: a file that went through a text-mode transfer is caught by them.
  header.write('\n \r\n', 73, 'latin1');
  header.writeUInt16LE(0, 77); // compressAlgorithm: none
  descriptor.copy(metadata, descriptorOffset * SECTOR);

  let previous = -1;
  for (const [n, grain] of options.grains.entries()) {
    if (!Number.isInteger(grain) || grain <= previous || grain >= totalGrains) {
      throw new ImageError('FilesystemBuild', `sparse VMDK grain list is not ascending within ${totalGrains} grains at position ${n} (${grain})`);
    }
    previous = grain;
    const sector = overheadSectors + n * grainSectors;
    const table = Math.floor(grain / GTES_PER_GT);
    const entry = (grain % GTES_PER_GT) * 4;
    metadata.writeUInt32LE(sector, (rgtOffset + table * gtSectors) * SECTOR + entry);
    metadata.writeUInt32LE(sector, (gtOffset + table * gtSectors) * SECTOR + entry);
  }
  for (let table = 0; table < tables; table++) {
    metadata.writeUInt32LE(rgtOffset + table * gtSectors, rgdOffset * SECTOR + table * 4);
    metadata.writeUInt32LE(gtOffset + table * gtSectors, gdOffset * SECTOR + table * 4);
  }
  return { capacityBytes, grainBytes, grains: options.grains, metadata, size: metadata.length + options.grains.length * grainBytes };
}

/**
 * The sparse file's bytes, streamed: the metadata, then each stored grain read from the raw image
 * (runs of adjacent grains in one read of up to 1 MiB). A last grain past the image's end is padded
 * with zeros. Each call opens the image anew, so an upload retry gets a fresh stream.
 */
export function sparseStream(rawPath: string, layout: SparseLayout): Readable {
  const { grains, grainBytes, capacityBytes } = layout;
  const maxRun = Math.max(1, Math.floor((1024 * 1024) / grainBytes));
  async function* generate(): AsyncGenerator<Buffer> {
    yield layout.metadata;
    if (grains.length === 0) return;
    const handle = await open(rawPath, 'r');
    try {
      let i = 0;
      while (i < grains.length) {
        let run = 1;
        while (run < maxRun && i + run < grains.length && grains[i + run] === grains[i] + run) run++;
        // A fresh buffer per run: the consumer may hold it while the next one is read.
        const buffer = Buffer.alloc(run * grainBytes);
        const offset = grains[i] * grainBytes;
        const want = Math.min(buffer.length, capacityBytes - offset);
        const got = await readFully(handle, buffer, want, offset);
        if (got !== want) throw new ImageError('FilesystemBuild', `${rawPath} ended at byte ${offset + got} while its grains were being sent`);
        yield buffer;
        i += run;
      }
    } finally {
      await handle.close();
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

async function readFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

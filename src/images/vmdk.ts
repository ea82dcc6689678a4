/**
 * The VMDK wrapping of an image: a monolithicFlat descriptor (text) that names one flat extent, the
 * raw ext4 filesystem itself. No conversion of the data is needed, and the extent streams as is.
 */
import { ImageError } from './errors';
import { digestHex } from './reference';

const SECTOR = 512;

export interface FlatDescriptorOptions {
  /** The extent's file name, relative to the descriptor (same directory). */
  readonly extentFileName: string;
  readonly sizeBytes: number;
  /** The manifest digest: the content ID (CID) is derived from it, so it is stable per image. */
  readonly digest: string;
}

/** The descriptor text of a monolithicFlat VMDK. */
export function monolithicFlatDescriptor(options: FlatDescriptorOptions): string {
  if (options.sizeBytes <= 0 || options.sizeBytes % SECTOR !== 0) {
    throw new ImageError('FilesystemBuild', `a flat VMDK extent must be a positive multiple of ${SECTOR} bytes, got ${options.sizeBytes}`);
  }
  if (/["\n]/.test(options.extentFileName)) {
    throw new ImageError('FilesystemBuild', `VMDK extent name "${options.extentFileName}" contains a quote or a newline`);
  }
  const sectors = options.sizeBytes / SECTOR;
  // The classic BIOS geometry for SCSI disks: 255 heads, 63 sectors per track.
  const cylinders = Math.max(1, Math.min(65535, Math.floor(sectors / (255 * 63))));
  const cid = digestHex(options.digest).slice(0, 8);
  return [
    '# Disk DescriptorFile',
    'version=1',
    'encoding="UTF-8"',
    `CID=${cid}`,
    'parentCID=ffffffff',
    'createType="monolithicFlat"',
    '',
    '# Extent description',
    `RW ${sectors} FLAT "${options.extentFileName}" 0`,
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

/** Reads the extent name and size back from a descriptor (for checks and for the tests). */
export function parseFlatDescriptor(text: string): { createType: string; extentFileName: string; sizeBytes: number } {
  const createType = /^createType="([^"]+)"/m.exec(text)?.[1];
  const extent = /^RW (\d+) FLAT "([^"]+)" 0$/m.exec(text);
  if (!createType || !extent) throw new ImageError('ImageStore', 'not a monolithicFlat VMDK descriptor (no createType or FLAT extent line)');
  return { createType, extentFileName: extent[2], sizeBytes: Number(extent[1]) * SECTOR };
}

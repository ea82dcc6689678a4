/**
 * Stores a raw disk (a local ext4 filesystem image) as a monolithicFlat disk in a store, sending as
 * few bytes as the server allows. Image builds and volume creates both make their disks this way.
 *
 * A store whose server converts disks gets the filesystem as a hosted sparse VMDK (only the grains
 * holding data travel) at a temporary path and makes the flat disk from it server-side; the
 * temporary file is deleted on every path, so it never outlives the call. A server that refuses the
 * conversion gets the flat extent, then its descriptor, so the descriptor is the last file to
 * appear. A conversion writes both in one task; the launcher's writes the descriptor after the
 * extent, and the API reference does not say in which order ESX does: a caller must record that the
 * disk is complete once this returns (images write metadata.json, volumes their marker), never
 * take the descriptor's presence for it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImageStoreError } from './errors';
import { findTool } from './ext4';
import { bufferSource, fileSource, type ImageStore } from './image-store';
import { monolithicFlatDescriptor, monolithicSparseDescriptor, scanDataGrains, sparseLayout, sparseStream } from './vmdk';

/** The store paths of one disk: what it becomes and where its sparse upload waits meanwhile. */
export interface DiskFiles {
  /** The directory holding the disk, for messages. */
  readonly directory: string;
  readonly descriptor: string;
  readonly extent: string;
  readonly extentFileName: string;
  /** The hosted sparse upload, present only while the call runs. */
  readonly sparseUpload: string;
  readonly sparseUploadFileName: string;
}

export interface RawDisk {
  /** The local file holding the raw bytes of the disk. */
  readonly path: string;
  readonly sizeBytes: number;
  /** The descriptors' content ID is derived from it, so it is stable per disk. */
  readonly digest: string;
}

export interface DiskUploadOptions {
  /**
   * A killed earlier attempt may have left disk files there. The server never overwrites a disk
   * (ESX ignores CopyVirtualDisk's force), so they are deleted before the conversion.
   */
  readonly partial?: boolean;
  readonly signal?: AbortSignal;
  /** Called once per route taken, before its first byte: what it sends in all, and a line saying where and how. */
  readonly onStart?: (totalBytes: number, detail: string) => void;
  /** Every byte sent; a retried transfer first takes back (a negative count) what it had sent. */
  readonly onBytes?: (bytes: number) => void;
  /** Called when a route's bytes are all stored. */
  readonly onFinish?: () => void;
}

export interface StoredDisk {
  /** Size of the descriptor now in the store (the server's own, after a conversion). */
  readonly descriptorBytes: number;
  /** `sparse`: the server converted the sparse upload; `flat`: the whole extent travelled. */
  readonly route: 'sparse' | 'flat';
  /** Why the server did not convert, when it refused. */
  readonly refused?: string;
}

/** Stores `raw` as the disk `files.descriptor` (with its extent beside it); see the module comment. */
export async function storeRawDisk(store: ImageStore, files: DiskFiles, raw: RawDisk, options: DiskUploadOptions = {}): Promise<StoredDisk> {
  let refused: string | undefined;
  if (store.convertSparseDisk) {
    const outcome = await uploadConverted(store, files, raw, options);
    if ('descriptorBytes' in outcome) return { descriptorBytes: outcome.descriptorBytes, route: 'sparse' };
    refused = outcome.refused;
  }
  const descriptor = Buffer.from(monolithicFlatDescriptor({ extentFileName: files.extentFileName, sizeBytes: raw.sizeBytes, digest: raw.digest }), 'utf8');
  options.onStart?.(
    raw.sizeBytes + descriptor.length,
    refused === undefined
      ? store.locate(files.directory)
      : `the server does not convert sparse disks (${refused}): uploading the whole flat extent (${Math.ceil(raw.sizeBytes / (1024 * 1024))} MiB) to ${store.locate(files.directory)} instead`,
  );
  const transfer = { onBytes: options.onBytes, signal: options.signal };
  await store.writeFile(files.extent, fileSource(raw.path, raw.sizeBytes), transfer);
  await store.writeFile(files.descriptor, bufferSource(descriptor), transfer);
  options.onFinish?.();
  return { descriptorBytes: descriptor.length, route: 'flat', ...(refused === undefined ? {} : { refused }) };
}

/**
 * The sparse route: scan the filesystem for grains holding data, stream those as a monolithicSparse
 * file to the temporary path, have the server convert it into the disk, check what it wrote, delete
 * the temporary file. Returns the size of the descriptor the server wrote, or the server's refusal.
 */
async function uploadConverted(
  store: ImageStore,
  files: DiskFiles,
  raw: RawDisk,
  options: DiskUploadOptions,
): Promise<{ descriptorBytes: number } | { refused: string }> {
  const convert = store.convertSparseDisk!.bind(store);
  const grains = await scanDataGrains(raw.path, raw.sizeBytes, undefined, await storedExtents(raw.path));
  const sparse = sparseLayout({
    capacityBytes: raw.sizeBytes,
    grains,
    descriptor: monolithicSparseDescriptor({ extentFileName: files.sparseUploadFileName, sizeBytes: raw.sizeBytes, digest: raw.digest }),
  });
  options.onStart?.(
    sparse.size,
    `${store.locate(files.directory)} (sparse: ${grains.length} of ${Math.ceil(raw.sizeBytes / sparse.grainBytes)} grains hold data)`,
  );
  if (options.partial) {
    await store.deleteFile(files.descriptor);
    await store.deleteFile(files.extent);
  }
  let outcome: { descriptorBytes: number } | { refused: string };
  try {
    await store.writeFile(
      files.sparseUpload,
      { size: sparse.size, open: () => sparseStream(raw.path, sparse) },
      { onBytes: options.onBytes, signal: options.signal },
    );
    const { refused } = await convert(files.sparseUpload, files.descriptor, raw.sizeBytes);
    if (refused !== undefined) {
      outcome = { refused };
    } else {
      const [descriptorBytes, storedExtent] = await Promise.all([store.size(files.descriptor), store.size(files.extent)]);
      if (descriptorBytes === undefined || storedExtent !== raw.sizeBytes) {
        throw new ImageStoreError(
          `${store.subject ?? `image store ${store.description}`}: the server converted the sparse upload ${store.locate(files.sparseUpload)}, but ${store.locate(files.descriptor)} is ${descriptorBytes === undefined ? 'missing' : `${descriptorBytes} bytes`} and ${store.locate(files.extent)} is ${storedExtent ?? 'missing'}${storedExtent === undefined ? '' : ' bytes'} (expected ${raw.sizeBytes}); ${store.remedy ?? `delete ${store.locate(files.directory)} and try again`}`,
        );
      }
      outcome = { descriptorBytes };
    }
  } catch (err) {
    // The temporary file must not outlive a failure either; the first failure is the one to report.
    await store.deleteFile(files.sparseUpload).catch(() => undefined);
    throw err;
  }
  await store.deleteFile(files.sparseUpload);
  options.onFinish?.();
  return outcome;
}

/**
 * The byte ranges a local file has storage for, from the filesystem's extent map (`filefrag -e`,
 * e2fsprogs, beside the mke2fs that made the file): a new volume's ext4 is mostly holes, which need
 * not be read to be known as zeros. Undefined whenever the map is not to be had (no filefrag, a
 * filesystem without FIEMAP, output not understood): the scan then reads the whole file.
 */
export async function storedExtents(path: string): Promise<Array<{ start: number; end: number }> | undefined> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(await findTool('filefrag', 'e2fsprogs'), ['-e', path], { maxBuffer: 64 * 1024 * 1024 }));
  } catch {
    return undefined;
  }
  const block = /\((\d+) blocks? of (\d+) bytes\)/.exec(stdout);
  if (!block || !/^\s*ext:\s+logical_offset:/m.test(stdout)) return undefined;
  const blockBytes = Number(block[2]);
  const extents: Array<{ start: number; end: number }> = [];
  for (const m of stdout.matchAll(/^\s*\d+:\s+(\d+)\.\.\s*(\d+):/gm)) {
    extents.push({ start: Number(m[1]) * blockBytes, end: (Number(m[2]) + 1) * blockBytes });
  }
  return extents;
}

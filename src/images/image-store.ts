/**
 * The image store: where finished image disks live, content-addressed by manifest digest.
 *
 *   <store>/images/<hex>/<hex>.vmdk        monolithicFlat descriptor
 *   <store>/images/<hex>/<hex>-flat.vmdk   the ext4 filesystem (flat extent)
 *   <store>/images/<hex>/files.ndjson.gz   the listing of its files (docker diff)
 *   <store>/images/<hex>/blob-sha256-<h>   its config as the registry served it (docker history);
 *                                          for an image made here (commit, import, load) its
 *                                          layers too, and manifest.json: what push and save send
 *   <store>/images/<hex>/metadata.json     written LAST: present with matching sizes = complete
 *   <store>/images/<hex>/<hex>-upload-sparse.vmdk
 *                                          only while a build runs: the hosted sparse upload the
 *                                          server converts into the two disk files above
 *
 * `<hex>` is the sha256 hex of the manifest digest (colons are poor in datastore paths). The
 * `ImageStore` interface hides whether the store is a datastore (over vSphere's HTTP file access)
 * or a local directory; the pipeline only needs these few file operations.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageStoreError } from './errors';
import type { ContainerConfig } from './manifest';
import { digestHex } from './reference';

/** A file to upload: opened on demand (a retry needs a fresh stream), with its exact size. */
export interface UploadSource {
  readonly size: number;
  open(): Readable;
}

export interface ImageStore {
  /** For messages, e.g. `[LocalDS_0] vch-1` or `/var/lib/vic/images`. */
  readonly description: string;
  /** What its files are, for errors, when not `image store <description>` (a volume's disk, say). */
  readonly subject?: string;
  /** What to do after a failed write, for errors, when the store's caller knows better than "try again". */
  readonly remedy?: string;
  /** Where a store-relative path lives, as users see it (datastore path or local path). */
  locate(path: string): string;
  /** Size of a file, or undefined when it does not exist. */
  size(path: string): Promise<number | undefined>;
  /** A small file's content, or undefined when it does not exist. */
  readFile(path: string, maxBytes: number): Promise<Buffer | undefined>;
  /** A file's content as a stream (a large one: a committed image's layer, which docker push sends), or undefined when it does not exist. */
  openFile(path: string): Promise<Readable | undefined>;
  /** Creates a directory and its parents; no error when it exists. */
  makeDirectory(path: string): Promise<void>;
  /**
   * Creates a directory (and its parents): false when the directory exists already. Of processes
   * that create one path at once, exactly one gets true, which makes it a lock.
   */
  createDirectory(path: string): Promise<boolean>;
  /**
   * How long ago (milliseconds, on the store's own clock) the directory was made or last changed,
   * or undefined when it does not exist, null when the store does not say: how old a lock is,
   * whichever process took it.
   */
  directoryAge(path: string): Promise<number | null | undefined>;
  /**
   * Streams a file in (replacing any previous one). `onBytes` counts what was sent; a retry of a
   * failed transfer first takes back (a negative count) what the failed attempt had sent.
   */
  writeFile(path: string, source: UploadSource, options?: { onBytes?: (bytes: number) => void; signal?: AbortSignal }): Promise<void>;
  /**
   * Writes a small file whole or not at all: beside it first, then moved over it in one step, so a
   * reader meanwhile, or after the writer died midway, finds the old content or the new, never a part.
   */
  replaceFile(path: string, content: Buffer): Promise<void>;
  /** Deletes a file; no error when it does not exist. */
  deleteFile(path: string): Promise<void>;
  /** Deletes a directory and what it holds; no error when it does not exist. */
  deleteDirectory(path: string): Promise<void>;
  /**
   * Optional, for stores whose server converts disks: makes the disk `descriptor` (monolithicFlat
   * or the server's thin equivalent, its extent beside it) from the hosted sparse VMDK `source`,
   * server-side, so only the sparse file's bytes travel. The destination must not exist. Resolves
   * `{ refused }` with the server's reason when it does not convert such disks (the caller then
   * uploads the flat extent); any other failure throws.
   */
  convertSparseDisk?(source: string, descriptor: string, capacityBytes: number): Promise<{ readonly refused?: string }>;
}

export interface ImageLayout {
  readonly directory: string;
  readonly descriptor: string;
  readonly extent: string;
  readonly metadata: string;
  /** The listing of the image's files, gzip-compressed JSON lines (FileListingEntry): what docker diff compares with. */
  readonly files: string;
  /**
   * An image made here (docker commit) keeps what a registry would serve of it: its manifest (whose
   * digest is the image id) and its config and layer blobs, which docker push sends.
   */
  readonly manifest: string;
  readonly blob: (blobDigest: string) => string;
  readonly extentFileName: string;
  /** The hosted sparse upload, present only while a build converts it. */
  readonly sparseUpload: string;
  readonly sparseUploadFileName: string;
}

export function imageLayout(digest: string): ImageLayout {
  const hex = digestHex(digest);
  const directory = `images/${hex}`;
  return {
    directory,
    descriptor: `${directory}/${hex}.vmdk`,
    extent: `${directory}/${hex}-flat.vmdk`,
    metadata: `${directory}/metadata.json`,
    files: `${directory}/files.ndjson.gz`,
    manifest: `${directory}/manifest.json`,
    blob: (blobDigest: string) => `${directory}/blob-sha256-${digestHex(blobDigest)}`,
    extentFileName: `${hex}-flat.vmdk`,
    sparseUpload: `${directory}/${hex}-upload-sparse.vmdk`,
    sparseUploadFileName: `${hex}-upload-sparse.vmdk`,
  };
}

/**
 * metadata.json: the image's identity, sizes and config. The config fields sit at the top level,
 * where the container_vm resource reads them (src/resources/guest-config.ts ImageConfig).
 */
export interface ImageMetadata extends ContainerConfig {
  readonly schema_version: 1;
  /** The platform manifest's digest: the image id. */
  readonly digest: string;
  /** The index digest when the reference named a multi-platform index. */
  readonly index_digest?: string;
  readonly reference: string;
  readonly platform: string;
  /** Size of the flat extent (the ext4 filesystem) in bytes. */
  readonly size_bytes: number;
  /** Size of the descriptor file in bytes. */
  readonly descriptor_bytes: number;
  /** ISO 8601 time the image was written to the store. */
  readonly created: string;
  /** When the image was built, as its config says (absent when it does not, and in stores written before this field). */
  readonly image_created?: string;
  /** Bytes its files take (4 KiB blocks): docker's SIZE of it (absent in stores written before this field). */
  readonly content_bytes?: number;
  /** Who made the image, as docker commit --author gives it (the config's `author`). */
  readonly author?: string;
  /** What docker commit --message said of it (the config's `comment`). */
  readonly comment?: string;
  /** The digest of its config, kept beside its disk (`ImageLayout.blob`); absent in stores written before it was kept. */
  readonly config_digest?: string;
  /** The bytes each of its layers unpacked to, bottom first (docker history's SIZE). */
  readonly layer_sizes?: number[];
  readonly rootfs_uuid: string;
  readonly rootfs_label: string;
}

const MAX_METADATA_BYTES = 1024 * 1024;

export type StoredImageState =
  { readonly state: 'complete'; readonly metadata: ImageMetadata } | { readonly state: 'partial'; readonly reason: string } | { readonly state: 'absent' };

/**
 * Checks what the store holds for a digest. Complete means metadata.json parses, names this digest,
 * and both disk files have the sizes it records; anything less found there is a partial upload.
 */
export async function inspectStoredImage(store: ImageStore, digest: string): Promise<StoredImageState> {
  const layout = imageLayout(digest);
  const [raw, extentSize, descriptorSize] = await Promise.all([
    store.readFile(layout.metadata, MAX_METADATA_BYTES),
    store.size(layout.extent),
    store.size(layout.descriptor),
  ]);
  if (raw === undefined) {
    if (extentSize === undefined && descriptorSize === undefined) return { state: 'absent' };
    return { state: 'partial', reason: `${layout.metadata} is missing (an upload stopped midway)` };
  }
  let metadata: ImageMetadata;
  try {
    metadata = JSON.parse(raw.toString('utf8')) as ImageMetadata;
  } catch {
    return { state: 'partial', reason: `${layout.metadata} is not valid JSON` };
  }
  if (metadata.digest !== digest) return { state: 'partial', reason: `${layout.metadata} names digest ${String(metadata.digest)}` };
  if (extentSize !== metadata.size_bytes) {
    return {
      state: 'partial',
      reason: `${layout.extent} is ${extentSize ?? 'missing'}${extentSize === undefined ? '' : ' bytes'}, metadata says ${metadata.size_bytes}`,
    };
  }
  if (descriptorSize !== metadata.descriptor_bytes) {
    return {
      state: 'partial',
      reason: `${layout.descriptor} is ${descriptorSize ?? 'missing'}${descriptorSize === undefined ? '' : ' bytes'}, metadata says ${metadata.descriptor_bytes}`,
    };
  }
  return { state: 'complete', metadata };
}

/** An image store in a local directory: for the CLI's local builds, the benchmark and the tests. */
export class LocalDirectoryImageStore implements ImageStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get description(): string {
    return this.root;
  }

  locate(path: string): string {
    const full = resolve(this.root, path);
    if (full !== this.root && !full.startsWith(this.root + sep)) {
      throw new ImageStoreError(`path "${path}" leaves the image store ${this.root}`);
    }
    return full;
  }

  async size(path: string): Promise<number | undefined> {
    try {
      return (await stat(this.locate(path))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ImageStoreError(`cannot stat ${this.locate(path)}: ${(err as Error).message}`, { cause: err });
    }
  }

  async readFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
    const size = await this.size(path);
    if (size === undefined) return undefined;
    if (size > maxBytes) throw new ImageStoreError(`${this.locate(path)} is ${size} bytes, more than the ${maxBytes} expected`);
    return readFile(this.locate(path));
  }

  async openFile(path: string): Promise<Readable | undefined> {
    return (await this.size(path)) === undefined ? undefined : createReadStream(this.locate(path));
  }

  async makeDirectory(path: string): Promise<void> {
    await mkdir(this.locate(path), { recursive: true });
  }

  async createDirectory(path: string): Promise<boolean> {
    const target = this.locate(path);
    await mkdir(dirname(target), { recursive: true });
    try {
      await mkdir(target);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new ImageStoreError(`cannot create directory ${target}: ${(err as Error).message}`, { cause: err });
    }
  }

  async directoryAge(path: string): Promise<number | null | undefined> {
    try {
      const info = await stat(this.locate(path));
      return Math.max(0, Date.now() - info.mtimeMs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ImageStoreError(`cannot stat ${this.locate(path)}: ${(err as Error).message}`, { cause: err });
    }
  }

  async writeFile(path: string, source: UploadSource, options: { onBytes?: (bytes: number) => void; signal?: AbortSignal } = {}): Promise<void> {
    const target = this.locate(path);
    await mkdir(dirname(target), { recursive: true });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        options.onBytes?.(chunk.length);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source.open(), counter, createWriteStream(target), { signal: options.signal });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ImageStoreError(`writing ${target} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async replaceFile(path: string, content: Buffer): Promise<void> {
    const target = this.locate(path);
    const beside = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await mkdir(dirname(target), { recursive: true });
    try {
      await writeFile(beside, content);
      await rename(beside, target);
    } catch (err) {
      await rm(beside, { force: true });
      throw new ImageStoreError(`writing ${target} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async deleteFile(path: string): Promise<void> {
    await rm(this.locate(path), { force: true });
  }

  async deleteDirectory(path: string): Promise<void> {
    await rm(this.locate(path), { force: true, recursive: true });
  }
}

/** An upload source for a local file. */
export function fileSource(path: string, size: number): UploadSource {
  // 1 MiB reads: the default 64 KiB makes an upload of a multi-GB extent cost many more syscalls and ticks.
  return { size, open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }) };
}

export function bufferSource(content: Buffer): UploadSource {
  return {
    size: content.length,
    open: () => Readable.from([content]),
  };
}

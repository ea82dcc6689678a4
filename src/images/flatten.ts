/**
 * Flattens image layers, bottom first, into one staging directory: the root filesystem that
 * mke2fs copies into ext4.
 *
 * Layer semantics are the OCI image spec's "changeset" rules (the same as overlayfs and Docker):
 * - `dir/.wh.<name>` deletes `<name>` brought by lower layers;
 * - `dir/.wh..wh..opq` empties `dir` of everything lower layers brought (this layer's own entries stay);
 * - an entry replaces whatever lower layers had at its path, unless both are directories.
 *
 * Owners, modes and device nodes are NOT applied here: they are recorded, and `ext4.ts` applies them
 * right before mke2fs in one privileged (root or fakeroot) session. The flattening itself therefore
 * runs unprivileged, and a read-only directory in the image cannot stop the next layer from writing.
 *
 * Safety: the staging root is treated like a chroot. Entry names with `..` or a leading `/` are
 * refused; symlinks met while resolving a parent directory are followed inside the root (absolute
 * targets start at the root), and one that climbs above the root is refused, as is a hard link whose
 * target is outside. Nothing is ever written through a path that leaves the root.
 */
import { createReadStream } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readlink, rm, symlink, utimes, lutimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { ImageError, LayerFormatError, LayerLimitError, UnsafeLayerPathError } from './errors';

export interface LayerFile {
  /** The verified layer blob on local disk (gzip or plain tar). */
  readonly path: string;
  /** For messages: which layer an unsafe entry came from. */
  readonly digest: string;
}

export interface DeviceNode {
  readonly kind: 'c' | 'b' | 'p';
  readonly major: number;
  readonly minor: number;
}

export interface EntryAttributes {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime?: Date;
  readonly device?: DeviceNode;
}

/** What the privileged pass must apply, and what mke2fs will need room for. */
export interface OwnershipPlan {
  /** `uid:gid` → absolute paths (symlinks included; chown -h does not follow them). */
  readonly owners: ReadonlyMap<string, readonly string[]>;
  /** permission bits → absolute paths (symlinks excluded: chmod would follow them). */
  readonly modes: ReadonlyMap<number, readonly string[]>;
  readonly devices: readonly { readonly path: string; readonly node: DeviceNode; readonly mode: number }[];
  readonly stats: StagingStats;
  /** Every entry of the image as its ext4 filesystem holds it (docker diff compares a container's with it). */
  readonly files: readonly FileListingEntry[];
}

/**
 * One entry of an image's file listing, in the form the guest lists a container's root filesystem
 * (docs/guest-config.md, "docker diff"): its path from the root, its kind (`f` file, `d` directory,
 * `l` symlink, `c`/`b` device, `p` fifo), permission bits, owner, size (files), mtime (seconds) and
 * symlink target.
 */
export type FileListingEntry = [path: string, kind: string, mode: number, uid: number, gid: number, size: number, mtime: number, link: string];

export interface StagingStats {
  /** Files, directories, symlinks and devices: one inode each (hard links share one). */
  readonly inodes: number;
  /** Bytes of 4 KiB blocks that file contents, directories and long symlinks take. */
  readonly dataBytes: number;
  readonly regularFiles: number;
  readonly directories: number;
  readonly symlinks: number;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const MAX_SYMLINK_HOPS = 40;
const BLOCK = 4096;
const DEFAULT_DIRECTORY: EntryAttributes = { mode: 0o755, uid: 0, gid: 0 };
const DEFAULT_FILE: EntryAttributes = { mode: 0o644, uid: 0, gid: 0 };

/**
 * How much the layers of one image may unpack to, all layers together: what a later layer deletes
 * was on disk once too. Checked while the bytes stream, before they are written.
 */
export interface UnpackLimits {
  /** Unpacked (tar) bytes. */
  readonly maxBytes: number;
  /** Tar entries: each costs an inode and a file operation, whatever its size. */
  readonly maxEntries: number;
  /** What the user can do to raise each limit, ending the error message. */
  readonly raise: { readonly bytes: string; readonly entries: string };
}

/** One tar entry: its header and its content stream. */
type LayerEntry = AsyncIterable<unknown> & { readonly header: tar.Header };

/** Per-layer bookkeeping: which paths this layer created, so an opaque marker spares them. */
interface LayerContext {
  readonly layer: LayerFile;
  readonly created: Set<string>;
}

export class RootfsStaging {
  private readonly attributes = new Map<string, EntryAttributes>();
  private unpackedBytes = 0;

  /** Bytes the layers applied so far unpacked to (their tar streams). */
  get unpacked(): number {
    return this.unpackedBytes;
  }
  private entries = 0;

  constructor(
    readonly root: string,
    private readonly limits?: UnpackLimits,
  ) {}

  /** Creates the (empty) staging root. */
  async create(): Promise<void> {
    await mkdir(this.root, { recursive: false, mode: 0o755 });
    this.attributes.set('', DEFAULT_DIRECTORY);
  }

  /** Applies one layer on top of what is staged. `onBytes` counts compressed bytes read. */
  async applyLayer(layer: LayerFile, onBytes?: (bytes: number) => void): Promise<void> {
    const context: LayerContext = { layer, created: new Set() };
    const gzipped = await startsWithGzipMagic(layer.path);
    // Large reads and inflate chunks: per-chunk costs (one awaited write each) dominate on small chunks.
    const source = createReadStream(layer.path, { highWaterMark: 1024 * 1024 });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        onBytes?.(chunk.length);
        done(null, chunk);
      },
    });
    const extract = tar.extract();
    // Plain pipe(): tar-stream's extractor is a streamx Writable, which stream.pipeline does not track.
    // Errors upstream (a truncated gzip stream) are forwarded so the entry iterator below throws them.
    let upstreamError: Error | undefined;
    const fail = (err: Error) => {
      upstreamError ??= err;
      extract.destroy(err);
    };
    source.on('error', fail);
    counter.on('error', fail);
    let upstream: Readable = source.pipe(counter);
    const gunzip = gzipped ? createGunzip({ chunkSize: 256 * 1024 }).on('error', fail) : undefined;
    if (gunzip) upstream = upstream.pipe(gunzip);
    // Between inflate and tar: the bytes over the limit never reach the code that writes files.
    const limiter = this.unpackLimiter(layer).on('error', fail);
    upstream.pipe(limiter).pipe(extract as unknown as NodeJS.WritableStream);
    try {
      for await (const entry of extract) {
        this.countEntry(layer);
        await this.applyEntry(entry, context);
      }
    } catch (err) {
      if (ImageError.isImageError(err)) throw err;
      if (ImageError.isImageError(upstreamError)) throw upstreamError;
      const cause = upstreamError ?? (err as Error);
      throw new LayerFormatError(`layer ${layer.digest} is not a readable ${gzipped ? 'gzip-compressed ' : ''}tar stream: ${cause.message}`, { cause });
    } finally {
      source.destroy();
      gunzip?.destroy();
      limiter.destroy();
    }
    if (ImageError.isImageError(upstreamError)) throw upstreamError;
    if (upstreamError) throw new LayerFormatError(`layer ${layer.digest} is not a readable tar stream: ${upstreamError.message}`, { cause: upstreamError });
  }

  /** Counts unpacked bytes across layers and fails the stream as soon as they pass the limit. */
  private unpackLimiter(layer: LayerFile): Transform {
    const limits = this.limits;
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.unpackedBytes += chunk.length;
        if (limits && this.unpackedBytes > limits.maxBytes) {
          done(
            new LayerLimitError(
              `layer ${layer.digest} unpacks beyond the limit of ${formatBytes(limits.maxBytes)} for this image (all layers together); refused before it filled the disk (a compression bomb, or an image larger than allowed). ${limits.raise.bytes}`,
            ),
          );
          return;
        }
        done(null, chunk);
      },
    });
  }

  private countEntry(layer: LayerFile): void {
    this.entries++;
    if (this.limits && this.entries > this.limits.maxEntries) {
      throw new LayerLimitError(
        `layer ${layer.digest} holds more entries than the limit of ${this.limits.maxEntries} for this image (all layers together); refused before it filled the disk. ${this.limits.raise.entries}`,
      );
    }
  }

  private async applyEntry(entry: LayerEntry, context: LayerContext): Promise<void> {
    const header = entry.header;
    const parts = entryPathParts(header.name, context.layer);
    if (parts.length === 0) {
      // The root directory itself ("./"): only its attributes matter.
      if (header.type === 'directory') this.attributes.set('', attributesOf(header));
      await drain(entry);
      return;
    }
    const base = parts[parts.length - 1];
    const parent = await this.resolveDirectory(parts.slice(0, -1), header.name, context, true);
    const parentPath = join(this.root, ...parent);

    if (base === OPAQUE_MARKER) {
      await this.removeLowerChildren(parent, context);
      await drain(entry);
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const victim = base.slice(WHITEOUT_PREFIX.length);
      if (victim === '' || victim === '.' || victim === '..') {
        throw new UnsafeLayerPathError(`layer ${context.layer.digest}: whiteout entry "${header.name}" names no file; the layer is malformed`);
      }
      await rm(join(parentPath, victim), { recursive: true, force: true });
      await drain(entry);
      return;
    }

    const relative = [...parent, base].join('/');
    const target = join(parentPath, base);
    const existing = await lstatOrUndefined(target);
    if (existing && !(existing.isDirectory() && header.type === 'directory')) {
      // Unlink before writing: overwriting in place would also change the other names of a hard link.
      await rm(target, { recursive: true, force: true });
    }
    context.created.add(relative);
    switch (header.type) {
      case 'directory':
        if (!existing || !existing.isDirectory()) await mkdir(target, { mode: 0o755 });
        this.attributes.set(relative, attributesOf(header));
        await drain(entry);
        return;
      case 'file':
      case 'contiguous-file':
        await writeEntryContent(entry, target);
        await utimes(target, header.mtime, header.mtime);
        this.attributes.set(relative, attributesOf(header));
        return;
      case 'symlink':
        await drain(entry);
        await symlink(header.linkname, target);
        await lutimes(target, header.mtime, header.mtime);
        this.attributes.set(relative, attributesOf(header));
        return;
      case 'link': {
        await drain(entry);
        const source = await this.resolveHardLinkTarget(header.linkname, header.name, context);
        await link(source.absolute, target);
        // One inode, one set of attributes: the target's (a link entry's own mode is not reliable).
        this.attributes.set(relative, this.attributes.get(source.relative) ?? attributesOf(header));
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await drain(entry);
        // A placeholder: mknod needs privileges, so the node is made in the privileged pass.
        await writeFile(target, '', { mode: 0o600, flag: 'wx' });
        const kind = header.type === 'fifo' ? 'p' : header.type === 'block-device' ? 'b' : 'c';
        this.attributes.set(relative, { ...attributesOf(header), device: { kind, major: header.devmajor ?? 0, minor: header.devminor ?? 0 } });
        return;
      }
      default:
        // pax/GNU extension records are folded into headers by tar-stream; anything else is skipped.
        await drain(entry);
    }
  }

  /**
   * Resolves a directory path inside the root, chroot-style, creating missing directories when asked.
   * Returns the real path components (symlinks replaced by where they lead).
   */
  private async resolveDirectory(parts: readonly string[], entryName: string, context: LayerContext, create: boolean): Promise<string[]> {
    let resolved: string[] = [];
    const pending = [...parts];
    let hops = 0;
    while (pending.length > 0) {
      const component = pending.shift() as string;
      if (component === '' || component === '.') continue;
      if (component === '..') {
        if (resolved.length === 0) {
          throw new UnsafeLayerPathError(
            `layer ${context.layer.digest}: entry "${entryName}" leads above the image root through a symbolic link; refusing the image`,
          );
        }
        resolved.pop();
        continue;
      }
      const candidate = [...resolved, component];
      const absolute = join(this.root, ...candidate);
      const stat = await lstatOrUndefined(absolute);
      if (!stat) {
        if (!create) throw new LayerFormatError(`layer ${context.layer.digest}: entry "${entryName}" refers to "${candidate.join('/')}", which does not exist`);
        await mkdir(absolute, { mode: 0o755 });
        this.attributes.set(candidate.join('/'), DEFAULT_DIRECTORY);
        context.created.add(candidate.join('/'));
        resolved = candidate;
        continue;
      }
      if (stat.isDirectory()) {
        if (create) context.created.add(candidate.join('/'));
        resolved = candidate;
        continue;
      }
      if (stat.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new UnsafeLayerPathError(
            `layer ${context.layer.digest}: entry "${entryName}" goes through more than ${MAX_SYMLINK_HOPS} symbolic links (a loop?)`,
          );
        }
        const destination = await readlink(absolute);
        const steps = destination.split('/');
        if (destination.startsWith('/')) resolved = [];
        if (escapesRoot(resolved, steps)) {
          throw new UnsafeLayerPathError(
            `layer ${context.layer.digest}: entry "${entryName}" would be written through symbolic link "${candidate.join('/')}" -> "${destination}", which leads outside the image root; refusing the image`,
          );
        }
        pending.unshift(...steps);
        continue;
      }
      throw new LayerFormatError(`layer ${context.layer.digest}: entry "${entryName}" needs "${candidate.join('/')}" to be a directory, but it is a file`);
    }
    return resolved;
  }

  private async resolveHardLinkTarget(linkName: string, entryName: string, context: LayerContext): Promise<{ absolute: string; relative: string }> {
    const parts = hardLinkTargetParts(linkName, entryName, context.layer);
    const parent = await this.resolveDirectory(parts.slice(0, -1), entryName, context, false);
    const source = join(this.root, ...parent, parts[parts.length - 1]);
    const stat = await lstatOrUndefined(source);
    if (!stat) {
      throw new LayerFormatError(
        `layer ${context.layer.digest}: hard link "${entryName}" points to "${linkName}", which is not in the image (removed by a whiteout, or the layer is out of order)`,
      );
    }
    if (stat.isDirectory()) throw new LayerFormatError(`layer ${context.layer.digest}: hard link "${entryName}" points to directory "${linkName}"`);
    return { absolute: source, relative: [...parent, parts[parts.length - 1]].join('/') };
  }

  /** The opaque-directory rule: remove what lower layers put in `directory`, keep this layer's work. */
  private async removeLowerChildren(directory: readonly string[], context: LayerContext): Promise<void> {
    const absolute = join(this.root, ...directory);
    for (const child of await readdir(absolute)) {
      const relative = [...directory, child].join('/');
      if (!context.created.has(relative)) {
        await rm(join(absolute, child), { recursive: true, force: true });
        continue;
      }
      const stat = await lstat(join(absolute, child));
      if (stat.isDirectory()) await this.removeLowerChildren([...directory, child], context);
    }
  }

  /**
   * Walks the staged tree once: applies directory times (last, since adding entries changes them)
   * and gathers what the privileged pass must apply and how large the filesystem must be.
   */
  async plan(): Promise<OwnershipPlan> {
    const owners = new Map<string, string[]>();
    const modes = new Map<number, string[]>();
    const devices: { path: string; node: DeviceNode; mode: number }[] = [];
    const directoryTimes: { path: string; mtime: Date }[] = [];
    const files: FileListingEntry[] = [];
    // An inode's attributes as its first name gave them: the privileged pass applies them through that name.
    const seenInodes = new Map<number, EntryAttributes>();
    let dataBytes = 0;
    let regularFiles = 0;
    let directories = 0;
    let symlinks = 0;
    const push = <K>(map: Map<K, string[]>, key: K, path: string) => {
      const list = map.get(key);
      if (list) list.push(path);
      else map.set(key, [path]);
    };
    const visit = async (relative: string, absolute: string): Promise<void> => {
      const stat = await lstat(absolute);
      const isDirectory = stat.isDirectory();
      const mtime = Math.floor(stat.mtimeMs / 1000);
      if (!isDirectory && !stat.isSymbolicLink()) {
        // Another name of an inode already planned: chown/chmod through one name is enough.
        const first = seenInodes.get(stat.ino);
        if (first) {
          files.push([`/${relative}`, first.device?.kind ?? 'f', first.mode, first.uid, first.gid, first.device ? 0 : stat.size, mtime, '']);
          return;
        }
        seenInodes.set(stat.ino, this.attributes.get(relative) ?? DEFAULT_FILE);
      }
      const attributes = this.attributes.get(relative) ?? (isDirectory ? DEFAULT_DIRECTORY : DEFAULT_FILE);
      push(owners, `${attributes.uid}:${attributes.gid}`, absolute);
      if (relative) {
        const kind = stat.isSymbolicLink() ? 'l' : isDirectory ? 'd' : (attributes.device?.kind ?? 'f');
        const link = kind === 'l' ? await readlink(absolute) : '';
        // A symlink's permission bits are always 0777 on Linux.
        // A directory gets its own time back below, once its children are in.
        const time = isDirectory && attributes.mtime ? Math.floor(attributes.mtime.getTime() / 1000) : mtime;
        files.push([`/${relative}`, kind, kind === 'l' ? 0o777 : attributes.mode, attributes.uid, attributes.gid, kind === 'f' ? stat.size : 0, time, link]);
      }
      if (stat.isSymbolicLink()) {
        symlinks++;
        // ext4 keeps targets under 60 bytes inside the inode ("fast symlinks").
        if (stat.size >= 60) dataBytes += BLOCK;
        return;
      }
      if (attributes.device) {
        devices.push({ path: absolute, node: attributes.device, mode: attributes.mode });
        return;
      }
      push(modes, attributes.mode, absolute);
      if (isDirectory) {
        directories++;
        const children = await readdir(absolute);
        dataBytes += Math.max(1, Math.ceil((children.length * 32) / BLOCK)) * BLOCK;
        for (const child of children) await visit(relative ? `${relative}/${child}` : child, join(absolute, child));
        if (attributes.mtime) directoryTimes.push({ path: absolute, mtime: attributes.mtime });
        return;
      }
      regularFiles++;
      dataBytes += Math.ceil(stat.size / BLOCK) * BLOCK;
    };
    await visit('', this.root);
    // Children were visited first, so deepest directories come first: a parent's time is set last.
    for (const { path, mtime } of directoryTimes) await utimes(path, mtime, mtime);
    return {
      owners,
      modes,
      devices,
      stats: { inodes: seenInodes.size + directories + symlinks, dataBytes, regularFiles, directories, symlinks },
      files,
    };
  }
}

function attributesOf(header: tar.Header): EntryAttributes {
  return { mode: (header.mode ?? 0o644) & 0o7777, uid: header.uid ?? 0, gid: header.gid ?? 0, mtime: header.mtime };
}

/** Splits an entry name into components, refusing absolute names and `..`. */
export function entryPathParts(name: string, layer: LayerFile): string[] {
  if (name.startsWith('/')) {
    throw new UnsafeLayerPathError(
      `layer ${layer.digest}: entry "${name}" has an absolute path; layer entries must be relative to the image root. Refusing the image`,
    );
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new UnsafeLayerPathError(`layer ${layer.digest}: entry "${name}" contains "..", which could write outside the image root. Refusing the image`);
  }
  if (name.includes('\0')) throw new UnsafeLayerPathError(`layer ${layer.digest}: entry "${name}" contains a NUL byte`);
  return parts;
}

function hardLinkTargetParts(linkName: string, entryName: string, layer: LayerFile): string[] {
  const parts = linkName.split('/').filter((p) => p !== '' && p !== '.');
  if (linkName.startsWith('/') || parts.includes('..') || parts.length === 0) {
    throw new UnsafeLayerPathError(`layer ${layer.digest}: hard link "${entryName}" points to "${linkName}", outside the image root. Refusing the image`);
  }
  return parts;
}

/** True when following `steps` from `from` climbs above the root at some point. */
function escapesRoot(from: readonly string[], steps: readonly string[]): boolean {
  let depth = from.length;
  for (const step of steps) {
    if (step === '..') {
      if (--depth < 0) return true;
    } else if (step !== '' && step !== '.') depth++;
  }
  return false;
}

function formatBytes(bytes: number): string {
  const MiB = 1024 * 1024;
  return bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MB` : `${bytes} bytes`;
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of stream) {
    // discard
  }
}

async function writeEntryContent(entry: AsyncIterable<unknown>, path: string): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    for await (const chunk of entry) await handle.write(chunk as Buffer);
  } finally {
    await handle.close();
  }
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * The image store of a VCH on a vSphere datastore: files go over the datastore HTTP interface
 * (`/folder`, streamed, with the session cookie), directories and deletes through FileManager.
 * All vSphere calls are the vsphere client's; this class only maps store paths to datastore paths.
 */
import { randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import {
  asArray,
  copyVirtualDisk,
  datastorePath,
  deleteDatastoreFile,
  downloadDatastoreFile,
  listDatastoreDirectory,
  moveDatastoreFile,
  retrieveObject,
  retrieveObjects,
  isFileAlreadyExists,
  isNotFound,
  makeDirectory,
  statDatastoreFile,
  uploadDatastoreFile,
  type DatastoreFile,
  type ManagedObjectReference,
  type VimClient,
  VimFault,
} from '../vsphere';
import { ImageStoreError } from './errors';
import { bufferSource, imageLayout, type ImageStore, type UploadSource } from './image-store';
import { isDigest } from './reference';

export interface DatastoreImageStoreOptions {
  readonly client: VimClient;
  /** The datacenter holding the datastore: its reference (FileManager) and inventory path (HTTP dcPath). */
  readonly datacenter: { readonly ref: ManagedObjectReference; readonly path: string };
  /** Datastore name, e.g. `LocalDS_0`. */
  readonly datastore: string;
  /** The image store's directory inside the datastore, e.g. `vch-1`; `images/<hex>/…` goes below it. */
  readonly path: string;
  /**
   * What the files written through this store are, for its errors (`image store <path>` unless
   * said): a volume's disk goes in through the VCH's store too, and its errors must name the volume.
   */
  readonly subject?: string;
  /** What to do after a failed transfer or conversion, appended to its error. */
  readonly remedy?: string;
}

/** Where an image store lives on a datastore, without the datacenter that holds it. */
export interface DatastoreStoreLocation {
  readonly datastore: string;
  readonly path: string;
}

/**
 * The store that holds the image disk `diskPath`, read back from the path `locate` wrote:
 * `[<datastore>] <store>/images/<hex>/<hex>.vmdk`, `<hex>` being the digest's. Undefined for any
 * other shape (another digest, the datastore root, an empty, "." or ".." segment): whoever deletes
 * by it never follows a path vic-iac did not write.
 */
export function storeOfImageDisk(diskPath: string, digest: string): DatastoreStoreLocation | undefined {
  if (!isDigest(digest)) return undefined;
  const match = /^\[([^\]]+)\] (.+)$/.exec(diskPath);
  if (!match) return undefined;
  const [, datastore, inside] = match;
  const suffix = `/${imageLayout(digest).descriptor}`;
  if (datastore.trim() !== datastore || datastore === '' || !inside.endsWith(suffix)) return undefined;
  const path = inside.slice(0, -suffix.length);
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..' || s.trim() !== s)) return undefined;
  return { datastore, path };
}

/**
 * The faults by which a server says it does not do this conversion at all, as opposed to failing
 * one: not implemented (a plain vcsim), not supported, or a source format it cannot read (a host
 * without hosted-disk support). The flat upload still works there; any other fault is a failure.
 */
const CONVERSION_REFUSALS = new Set(['NotImplemented', 'NotSupported', 'InvalidDiskFormat']);

export class DatastoreImageStore implements ImageStore {
  private readonly base: string;
  /** The datastore's MOID, looked up once (only the datastore browser needs it). */
  private datastoreRef?: Promise<ManagedObjectReference>;

  constructor(private readonly options: DatastoreImageStoreOptions) {
    this.base = options.path.replace(/^\/+|\/+$/g, '');
  }

  get description(): string {
    return datastorePath(this.options.datastore, this.base);
  }

  get subject(): string {
    return this.options.subject ?? `image store ${this.description}`;
  }

  get remedy(): string | undefined {
    return this.options.remedy;
  }

  locate(path: string): string {
    return datastorePath(this.options.datastore, this.inside(path));
  }

  async size(path: string): Promise<number | undefined> {
    return (await this.wrap('stat', path, () => statDatastoreFile(this.options.client, this.file(path))))?.size;
  }

  async readFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
    const stream = await this.openFile(path);
    if (!stream) return undefined;
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        stream.destroy();
        throw new ImageStoreError(`${this.locate(path)} is larger than the ${maxBytes} bytes expected; is it really an image metadata file?`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async openFile(path: string): Promise<Readable | undefined> {
    try {
      return await downloadDatastoreFile(this.options.client, this.file(path));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.failure('read', path, err);
    }
  }

  async makeDirectory(path: string): Promise<void> {
    try {
      await makeDirectory(this.options.client, this.locate(path), this.options.datacenter.ref, true);
    } catch (err) {
      if (isFileAlreadyExists(err)) return;
      throw this.failure('create directory', path, err);
    }
  }

  async createDirectory(path: string): Promise<boolean> {
    // Without createParentDirectories: with it, MakeDirectory of an existing directory succeeds.
    const once = () => makeDirectory(this.options.client, this.locate(path), this.options.datacenter.ref, false);
    try {
      try {
        await once();
      } catch (err) {
        // The parent is missing: made, then the directory again (one round trip more, only then).
        if (!isNotFound(err) || !path.includes('/')) throw err;
        await this.makeDirectory(path.slice(0, path.lastIndexOf('/')));
        await once();
      }
      return true;
    } catch (err) {
      if (isFileAlreadyExists(err)) return false;
      throw this.failure('create directory', path, err);
    }
  }

  /**
   * The directory's time of last change as the datastore browser lists it (the host's clock),
   * against the server's clock now (ServiceInstance.CurrentTime), never the local one.
   */
  async directoryAge(path: string): Promise<number | null | undefined> {
    const full = this.inside(path).replace(/\/+$/, '');
    const at = full.lastIndexOf('/');
    const [parent, base] = [at < 0 ? '' : full.slice(0, at), full.slice(at + 1)];
    try {
      const [entries, now] = await Promise.all([
        this.datastore().then((ds) =>
          listDatastoreDirectory(this.options.client, ds, datastorePath(this.options.datastore, parent), base.replace(/[*?[\]]/g, '?'), { modification: true }),
        ),
        this.options.client.serverTime(),
      ]);
      // A file in the lock's place is aged (and broken) as a directory would be.
      const entry = entries?.find((e) => e.name === base);
      if (!entry) return undefined;
      return entry.modified ? Math.max(0, now.getTime() - entry.modified.getTime()) : null;
    } catch (err) {
      throw this.failure('list', path, err);
    }
  }

  private datastore(): Promise<ManagedObjectReference> {
    this.datastoreRef ??= (async () => {
      const { client, datacenter, datastore } = this.options;
      const { datastore: refs } = await retrieveObject<{ datastore?: ManagedObjectReference[] }>(client, datacenter.ref, ['datastore']);
      const rows = await retrieveObjects<{ name: string }>(client, asArray(refs), ['name']);
      const found = rows.find((r) => r.props.name === datastore);
      if (!found) throw new ImageStoreError(`datastore "${datastore}" is not in datacenter ${datacenter.path}`);
      return found.ref;
    })();
    this.datastoreRef.catch(() => (this.datastoreRef = undefined));
    return this.datastoreRef;
  }

  async writeFile(path: string, source: UploadSource, options: { onBytes?: (bytes: number) => void; signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    let current: { body: ReturnType<UploadSource['open']>; counted: Transform } | undefined;
    // Each attempt sends a fresh stream: a PUT whose reply was lost is sent again whole, and what the
    // first attempt counted is taken back so progress never passes the file's size.
    let sentThisAttempt = 0;
    const open = (): Transform => {
      if (sentThisAttempt > 0) options.onBytes?.(-sentThisAttempt);
      sentThisAttempt = 0;
      current?.body.destroy();
      const body = source.open();
      const counted = body.pipe(
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            sentThisAttempt += chunk.length;
            options.onBytes?.(chunk.length);
            done(null, chunk);
          },
        }),
      );
      body.on('error', (err) => counted.destroy(err));
      current = { body, counted };
      return counted;
    };
    // Aborting destroys the body: the HTTP PUT fails midway, as a dropped connection would.
    const onAbort = () => current?.counted.destroy(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await uploadDatastoreFile(
        this.options.client,
        this.file(path),
        () => {
          options.signal?.throwIfAborted();
          return open();
        },
        { size: source.size },
      );
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      throw this.failure('upload', path, err);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      current?.body.destroy();
    }
  }

  /**
   * CopyVirtualDisk_Task with a destSpec: the server reads the hosted sparse file and writes a thin
   * disk in its own format. The adapter type is the one the flat descriptor has always named.
   */
  async convertSparseDisk(source: string, descriptor: string, capacityBytes: number): Promise<{ readonly refused?: string }> {
    try {
      await copyVirtualDisk(this.options.client, this.locate(source), this.locate(descriptor), this.options.datacenter.ref, false, {
        destSpec: { diskType: 'thin', adapterType: 'lsiLogic', capacityKB: Math.ceil(capacityBytes / 1024) },
      });
      return {};
    } catch (err) {
      if (VimFault.isVimFault(err) && CONVERSION_REFUSALS.has(err.faultName)) {
        const why = err.serverMessage && !err.serverMessage.includes(err.faultName) ? `: ${err.serverMessage}` : '';
        return { refused: `${err.faultName}${why}` };
      }
      throw this.failure('conversion of the sparse upload', descriptor, err, 'into');
    }
  }

  async replaceFile(path: string, content: Buffer): Promise<void> {
    // A name of its own per write: two writers never share the file beside.
    const beside = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await this.writeFile(beside, bufferSource(content));
    try {
      await moveDatastoreFile(this.options.client, this.locate(beside), this.locate(path), this.options.datacenter.ref, true);
    } catch (err) {
      await this.delete(beside).catch(() => undefined);
      throw this.failure('replace', path, err);
    }
  }

  async deleteFile(path: string): Promise<void> {
    await this.delete(path);
  }

  async deleteDirectory(path: string): Promise<void> {
    await this.delete(path);
  }

  private async delete(path: string): Promise<void> {
    try {
      await deleteDatastoreFile(this.options.client, this.locate(path), this.options.datacenter.ref);
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.failure('delete', path, err);
    }
  }

  private inside(path: string): string {
    const clean = path.replace(/^\/+/, '');
    if (clean.split('/').includes('..')) throw new ImageStoreError(`path "${path}" leaves the image store ${this.description}`);
    return this.base ? `${this.base}/${clean}` : clean;
  }

  private file(path: string): DatastoreFile {
    return { datacenter: this.options.datacenter.path, datastore: this.options.datastore, path: this.inside(path) };
  }

  private async wrap<T>(what: string, path: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.failure(what, path, err);
    }
  }

  private failure(what: string, path: string, err: unknown, preposition = 'of'): ImageStoreError {
    const remedy = this.options.remedy ? `; ${this.options.remedy}` : '';
    return new ImageStoreError(`${this.subject}: ${what} ${preposition} ${this.locate(path)} failed: ${(err as Error).message}${remedy}`, { cause: err });
  }
}

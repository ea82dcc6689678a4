/**
 * A VCH's image store on its datastore, as the image pipeline's ImageStore. It bridges the two
 * bottom layers (src/images knows no vSphere, src/vsphere knows no images), so it lives here.
 * Files go over datastore HTTP (streamed); directories and deletes through the FileManager, since
 * the datastore HTTP interface has no DELETE.
 */
import { Readable, Transform } from 'node:stream';
import type { ImageStore, UploadSource } from '../images';
import { isFault, isNotFound, moRef, type VimClient } from '../vsphere';
import { downloadDatastoreFile, statDatastoreFile, uploadDatastoreFile, type DatastoreFile } from '../vsphere/datastore-http';
import { datastorePath, deleteDatastoreFile, makeDirectory } from '../vsphere/file-manager';
import type { VchMarker } from './snapshot';

export class DatastoreImageStore implements ImageStore {
  readonly description: string;

  constructor(
    private readonly client: VimClient,
    private readonly marker: Pick<VchMarker, 'datacenter' | 'datacenter_id' | 'datastore' | 'image_store_path'>,
  ) {
    this.description = datastorePath(marker.datastore, marker.image_store_path);
  }

  private file(path: string): DatastoreFile {
    return { datacenter: this.marker.datacenter, datastore: this.marker.datastore, path: `${this.marker.image_store_path}/${path}` };
  }

  locate(path: string): string {
    return datastorePath(this.marker.datastore, `${this.marker.image_store_path}/${path}`);
  }

  async size(path: string): Promise<number | undefined> {
    return (await statDatastoreFile(this.client, this.file(path)))?.size;
  }

  async readFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
    let stream: Readable;
    try {
      stream = await downloadDatastoreFile(this.client, this.file(path));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        stream.destroy();
        throw new Error(`${this.locate(path)} is larger than ${maxBytes} bytes; it is not a file this store wrote`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async makeDirectory(path: string): Promise<void> {
    await makeDirectory(this.client, this.locate(path), moRef('Datacenter', this.marker.datacenter_id)).catch((err: unknown) => {
      if (!isFault(err, 'FileAlreadyExists')) throw err;
    });
  }

  async writeFile(path: string, source: UploadSource, options: { onBytes?: (bytes: number) => void; signal?: AbortSignal } = {}): Promise<void> {
    const body = source.open();
    const counted = options.onBytes
      ? body.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, done) {
              options.onBytes?.(chunk.length);
              done(null, chunk);
            },
          }),
        )
      : body;
    options.signal?.addEventListener('abort', () => body.destroy(new Error('upload cancelled')), { once: true });
    await uploadDatastoreFile(this.client, this.file(path), counted, { size: source.size });
  }

  async deleteFile(path: string): Promise<void> {
    await this.delete(path);
  }

  async deleteDirectory(path: string): Promise<void> {
    await this.delete(path);
  }

  private async delete(path: string): Promise<void> {
    await deleteDatastoreFile(this.client, this.locate(path), moRef('Datacenter', this.marker.datacenter_id)).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

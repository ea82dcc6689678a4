import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  FileAlreadyExistsError,
  Inventory,
  NotFoundError,
  TaskFailedError,
  VimClient,
  copyVirtualDisk,
  createVirtualDisk,
  datastorePath,
  deleteDatastoreFile,
  deleteVirtualDisk,
  downloadDatastoreFile,
  isNotFound,
  makeDirectory,
  parseDatastorePath,
  statDatastoreFile,
  uploadDatastoreFile,
  type Datacenter,
  type DatastoreFile,
} from '../../../src/vsphere';
import { useSimulator } from '../../helpers/vcsim';

const DS = 'LocalDS_0';

async function sha256Of(stream: Readable): Promise<{ digest: string; bytes: number; chunks: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    chunks++;
  }
  return { digest: hash.digest('hex'), bytes, chunks };
}

describe('Datastore files (HTTP, FileManager, VirtualDiskManager) against vcsim', () => {
  const sim = useSimulator();
  let client: VimClient;
  let dc: Datacenter;
  const file = (path: string): DatastoreFile => ({ datacenter: 'DC0', datastore: DS, path });

  beforeAll(async () => {
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
    dc = await new Inventory(client).datacenter();
  });
  afterAll(async () => {
    await client?.close();
  });

  it('GIVEN an 8 MiB stream WHEN uploading and downloading it THEN the bytes match and both directions stream in chunks', async () => {
    const size = 8 * 1024 * 1024;
    const block = randomBytes(64 * 1024);
    const expected = createHash('sha256');
    for (let i = 0; i < size / block.length; i++) expected.update(block);
    let produced = 0;
    // A generator, not a buffer: the upload must pull it chunk by chunk.
    const source = Readable.from(
      (function* () {
        while (produced < size) {
          produced += block.length;
          yield block;
        }
      })(),
    );
    await uploadDatastoreFile(client, file('stream/big.bin'), source, { size });
    expect(await statDatastoreFile(client, file('stream/big.bin'))).toEqual({ size });
    const downloaded = await sha256Of(await downloadDatastoreFile(client, file('stream/big.bin')));
    expect(downloaded.bytes).toBe(size);
    expect(downloaded.digest).toBe(expected.digest('hex'));
    expect(downloaded.chunks).toBeGreaterThan(1);
  });

  it('GIVEN an existing file WHEN uploading again THEN it is overwritten', async () => {
    await uploadDatastoreFile(client, file('over/write.txt'), 'first version');
    await uploadDatastoreFile(client, file('over/write.txt'), 'second');
    const { bytes } = await sha256Of(await downloadDatastoreFile(client, file('over/write.txt')));
    expect(bytes).toBe('second'.length);
  });

  it('GIVEN a missing file WHEN stat-ing or downloading it THEN stat says undefined and download throws NotFound naming the file', async () => {
    expect(await statDatastoreFile(client, file('no/such.file'))).toBeUndefined();
    const err = await downloadDatastoreFile(client, file('no/such.file')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain(`[${DS}] no/such.file`);
  });

  it('GIVEN an unknown datastore WHEN uploading THEN the error names it', async () => {
    const err = await uploadDatastoreFile(client, { ...file('x.txt'), datastore: 'LocalDS_9' }, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain('[LocalDS_9] x.txt');
  });

  it('GIVEN a nested path WHEN making a directory THEN it exists, and making it again without parents is FileAlreadyExists', async () => {
    const dir = datastorePath(DS, 'vch1/images/sha256-abc');
    await makeDirectory(client, dir, dc.ref);
    await uploadDatastoreFile(client, file('vch1/images/sha256-abc/meta.json'), '{}');
    expect(await statDatastoreFile(client, file('vch1/images/sha256-abc/meta.json'))).toEqual({ size: 2 });
    // With createParentDirectories vcsim behaves like mkdir -p; vCenter may still refuse.
    await expect(makeDirectory(client, dir, dc.ref, false)).rejects.toThrow(FileAlreadyExistsError);
  });

  it('GIVEN a directory with files WHEN deleting it THEN it is gone, and deleting again is NotFound', async () => {
    await uploadDatastoreFile(client, file('trash/a/b.txt'), 'b');
    await deleteDatastoreFile(client, datastorePath(DS, 'trash'), dc.ref);
    expect(await statDatastoreFile(client, file('trash/a/b.txt'))).toBeUndefined();
    const err = await deleteDatastoreFile(client, datastorePath(DS, 'trash'), dc.ref).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
  });

  it('GIVEN the disk manager WHEN creating, copying and deleting a VMDK THEN the files follow', async () => {
    await makeDirectory(client, datastorePath(DS, 'disks'), dc.ref);
    await createVirtualDisk(client, datastorePath(DS, 'disks/base.vmdk'), dc.ref, { capacityKB: 1024 * 1024 });
    expect(await statDatastoreFile(client, file('disks/base.vmdk'))).toBeDefined();
    await copyVirtualDisk(client, datastorePath(DS, 'disks/base.vmdk'), datastorePath(DS, 'disks/copy.vmdk'), dc.ref);
    expect(await statDatastoreFile(client, file('disks/copy.vmdk'))).toBeDefined();
    const exists = await copyVirtualDisk(client, datastorePath(DS, 'disks/base.vmdk'), datastorePath(DS, 'disks/copy.vmdk'), dc.ref).catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(TaskFailedError);
    expect((exists as TaskFailedError).faultName).toBe('FileAlreadyExists');
    await copyVirtualDisk(client, datastorePath(DS, 'disks/base.vmdk'), datastorePath(DS, 'disks/copy.vmdk'), dc.ref, true);
    await deleteVirtualDisk(client, datastorePath(DS, 'disks/copy.vmdk'), dc.ref);
    expect(await statDatastoreFile(client, file('disks/copy.vmdk'))).toBeUndefined();
    const gone = await deleteVirtualDisk(client, datastorePath(DS, 'disks/copy.vmdk'), dc.ref).catch((e: unknown) => e);
    expect(isNotFound(gone)).toBe(true);
  });

  it('GIVEN datastore paths WHEN formatting and parsing them THEN they round-trip', () => {
    expect(datastorePath(DS, '/a/b.vmdk')).toBe('[LocalDS_0] a/b.vmdk');
    expect(datastorePath(DS)).toBe('[LocalDS_0]');
    expect(parseDatastorePath('[LocalDS_0] a/b.vmdk')).toEqual({ datastore: DS, path: 'a/b.vmdk' });
    expect(() => parseDatastorePath('a/b.vmdk')).toThrow(/not a datastore path/);
  });
});

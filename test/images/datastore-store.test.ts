/**
 * The image pipeline into a VCH image store on a datastore: the real registry on one side, the
 * vSphere simulator (vcsim's LocalDS_0 in DC0, over the datastore HTTP interface) on the other.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  buildImage,
  DatastoreImageStore,
  deleteStoredImage,
  imageLayout,
  inspectStoredImage,
  readStoredImage,
  rootfsUuidForDigest,
  type ImageProgress,
} from '../../src/images';
import { parseFlatDescriptor } from '../../src/images/vmdk';
import { downloadDatastoreFile, Inventory, uploadDatastoreFile, VimClient, type ManagedObjectReference } from '../../src/vsphere';
import { layeredImage, HELLO_SCRIPT } from '../fixtures/images/test-images';
import { writeOciLayout, type WrittenLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { checkFilesystem, listDirectory, readPath, statPath, superblock } from './ext4-inspect';

const DS = 'LocalDS_0';

describe('GIVEN a registry with an image and a VCH image store on a simulated datastore', () => {
  const registry = useRegistry();
  const sim = useSimulator();
  let client: VimClient;
  let datacenter: { ref: ManagedObjectReference; path: string };
  let layout: WrittenLayout;
  let scratch: string;
  let workDir: string;
  let reference: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-images-ds-'));
    workDir = join(scratch, 'work');
    await mkdir(workDir);
    layout = await writeOciLayout(join(scratch, 'layout'), 'v1', [layeredImage]);
    await registry().push(layout.dir, 'v1', 'test/layered:v1');
    reference = `${registry().host}/test/layered:v1`;
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
    const dc = await new Inventory(client).datacenter();
    datacenter = { ref: dc.ref, path: dc.name };
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const storeAt = (path: string) => new DatastoreImageStore({ client, datacenter, datastore: DS, path });

  async function downloadText(path: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await downloadDatastoreFile(client, { datacenter: 'DC0', datastore: DS, path })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function downloadTo(path: string, local: string): Promise<string> {
    await pipeline(await downloadDatastoreFile(client, { datacenter: 'DC0', datastore: DS, path }), createWriteStream(local));
    return local;
  }

  test('WHEN the image is built THEN descriptor, flat extent and metadata land under <store>/images/<hex>/ and the extent is the ext4 rootfs', async () => {
    const store = storeAt('vch-a');
    const info = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    const hex = info.digest.slice('sha256:'.length);
    expect(info.diskPath).toBe(`[${DS}] vch-a/images/${hex}/${hex}.vmdk`);
    expect(await readdir(workDir)).toEqual([]);

    const descriptor = parseFlatDescriptor(await downloadText(`vch-a/images/${hex}/${hex}.vmdk`));
    expect(descriptor).toEqual({ createType: 'monolithicFlat', extentFileName: `${hex}-flat.vmdk`, sizeBytes: info.sizeBytes });
    const metadata = JSON.parse(await downloadText(`vch-a/images/${hex}/metadata.json`));
    expect(metadata).toMatchObject({
      digest: info.digest,
      size_bytes: info.sizeBytes,
      rootfs_uuid: rootfsUuidForDigest(info.digest),
      working_dir: '/home/app',
    });

    const extent = await downloadTo(`vch-a/images/${hex}/${hex}-flat.vmdk`, join(scratch, 'a.ext4'));
    await checkFilesystem(extent);
    expect(await superblock(extent)).toMatchObject({ label: 'vic-rootfs', uuid: rootfsUuidForDigest(info.digest) });
    expect(await readPath(extent, '/bin/hello')).toBe(HELLO_SCRIPT);
    expect(await statPath(extent, '/home/app/notes.txt')).toMatchObject({ uid: 1000, gid: 1000, mode: 0o640 });
    expect(await listDirectory(extent, '/opt/app')).toEqual(['c.txt']);
  });

  test('WHEN it is built a second time THEN it is a no-op: no blob pulled, nothing uploaded', async () => {
    const store = storeAt('vch-b');
    const first = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    const blobGets = registry().blobGets();
    const events: ImageProgress[] = [];
    const second = await buildImage({ reference, insecureRegistry: true, workDir, onProgress: (e) => events.push(e) }, store);
    expect(second).toMatchObject({ digest: first.digest, reused: true, pulledBytes: 0, uploadedBytes: 0, created: first.created });
    expect(registry().blobGets()).toBe(blobGets);
    expect(events).toEqual([]);
  });

  test('WHEN the upload is interrupted midway THEN nothing is complete, the staging area is gone, and the next build redoes it', async () => {
    const store = storeAt('vch-c');
    const abort = new AbortController();
    const attempt = buildImage(
      {
        reference,
        insecureRegistry: true,
        workDir,
        sizeMb: 256,
        signal: abort.signal,
        onProgress: (e) => {
          if (e.phase === 'upload' && e.current > 0) abort.abort(new Error('connection to the datastore dropped (test)'));
        },
      },
      store,
    );
    await expect(attempt).rejects.toThrow(/connection to the datastore dropped/);
    expect(await readdir(workDir)).toEqual([]);
    const state = await inspectStoredImage(store, layout.manifestDigests[0]);
    expect(state.state).not.toBe('complete');

    const redone = await buildImage({ reference, insecureRegistry: true, workDir, sizeMb: 256 }, store);
    expect(redone.reused).toBe(false);
    expect(redone.pulledBytes).toBeGreaterThan(0);
    expect(await inspectStoredImage(store, redone.digest)).toMatchObject({ state: 'complete' });
    const hex = redone.digest.slice('sha256:'.length);
    const extent = await downloadTo(`vch-c/images/${hex}/${hex}-flat.vmdk`, join(scratch, 'c.ext4'));
    await checkFilesystem(extent);
    expect(await readPath(extent, '/etc/hostname')).toBe('layer two\n');
  });

  test('WHEN metadata.json survives but the extent was cut short THEN the partial upload is detected and redone', async () => {
    const store = storeAt('vch-d');
    const first = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    const files = imageLayout(first.digest);
    await uploadDatastoreFile(client, { datacenter: 'DC0', datastore: DS, path: `vch-d/${files.extent}` }, Buffer.alloc(4096));
    const state = await inspectStoredImage(store, first.digest);
    expect(state).toEqual({ state: 'partial', reason: `${files.extent} is 4096 bytes, metadata says ${first.sizeBytes}` });

    const redone = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    expect(redone).toMatchObject({ reused: false, sizeBytes: first.sizeBytes });
    expect(await inspectStoredImage(store, first.digest)).toMatchObject({ state: 'complete' });
  });

  test('WHEN a stored image is read and then deleted THEN read gives its info, and afterwards the store no longer holds it', async () => {
    const store = storeAt('vch-e');
    const built = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    expect(await readStoredImage(store, built.digest)).toMatchObject({ digest: built.digest, sizeBytes: built.sizeBytes, reused: true, config: built.config });
    await deleteStoredImage(store, built.digest);
    expect(await inspectStoredImage(store, built.digest)).toEqual({ state: 'absent' });
    expect(await readStoredImage(store, built.digest)).toBeUndefined();
    // Deleting what is gone is not an error: a destroy that crashed midway can run again.
    await deleteStoredImage(store, built.digest);
  });
});

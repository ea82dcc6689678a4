/**
 * The image upload as a hosted sparse VMDK, converted server-side by CopyVirtualDisk_Task with a
 * destSpec, against the launcher's simulator (which converts as ESX documents) and the real
 * registry; and the fallback to the flat upload when the server refuses the conversion.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  buildImage,
  DatastoreImageStore,
  deleteStoredImage,
  imageLayout,
  inspectStoredImage,
  ImageStoreError,
  type ImageProgress,
  type ImageStore,
} from '../../src/images';
import { parseFlatDescriptor } from '../../src/images/vmdk';
import { downloadDatastoreFile, Inventory, uploadDatastoreFile, VimClient, type ManagedObjectReference } from '../../src/vsphere';
import { layeredImage, HELLO_SCRIPT } from '../fixtures/images/test-images';
import { writeOciLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { checkFilesystem, readPath } from './ext4-inspect';

const run = promisify(execFile);
const DS = 'LocalDS_0';

describe('GIVEN a registry with an image and a VCH image store on a simulated datastore', () => {
  const registry = useRegistry();
  const sim = useSimulator();
  let client: VimClient;
  let datacenter: { ref: ManagedObjectReference; path: string };
  let scratch: string;
  let workDir: string;
  let reference: string;
  let digest: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-sparse-upload-'));
    workDir = join(scratch, 'work');
    await mkdir(workDir);
    const layout = await writeOciLayout(join(scratch, 'layout'), 'v1', [layeredImage]);
    await registry().push(layout.dir, 'v1', 'test/sparse:v1');
    reference = `${registry().host}/test/sparse:v1`;
    digest = layout.manifestDigests[0];
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
    const dc = await new Inventory(client).datacenter();
    datacenter = { ref: dc.ref, path: dc.name };
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(async () => {
    await sim().control.clearFaults();
  });

  /**
   * The store, recording every PUT (path and bytes) and keeping a local copy of what each sparse
   * upload carried (its stream opened once more: it is the same bytes, as an upload retry relies on).
   */
  function recordingStore(path: string): { store: ImageStore; puts: Map<string, number>; sparseCopies: string[] } {
    const inner = new DatastoreImageStore({ client, datacenter, datastore: DS, path });
    const puts = new Map<string, number>();
    const sparseCopies: string[] = [];
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop !== 'writeFile') {
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        }
        const writeFile: ImageStore['writeFile'] = async (file, source, options = {}) => {
          if (file.endsWith('-upload-sparse.vmdk')) {
            const copy = join(scratch, `${path}-${sparseCopies.length}.vmdk`);
            await pipeline(source.open(), createWriteStream(copy));
            sparseCopies.push(copy);
          }
          return target.writeFile(file, source, {
            ...options,
            onBytes: (n) => {
              puts.set(file, (puts.get(file) ?? 0) + n);
              options.onBytes?.(n);
            },
          });
        };
        return writeFile;
      },
    });
    return { store, puts, sparseCopies };
  }

  async function download(path: string, local: string): Promise<string> {
    await pipeline(await downloadDatastoreFile(client, { datacenter: datacenter.path, datastore: DS, path }), createWriteStream(local));
    return local;
  }

  /** The raw disk a sparse file describes, decoded by qemu-img's own VMDK driver. */
  async function rawOf(sparse: string): Promise<Buffer> {
    const out = `${sparse}.raw`;
    await run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'raw', sparse, out]);
    return readFile(out);
  }

  test('WHEN the image is built THEN only the sparse file travels, and after the conversion the flat extent is the uploaded ext4 image byte for byte', async () => {
    const { store, puts, sparseCopies } = recordingStore('vch-sparse');
    const events: ImageProgress[] = [];
    const info = await buildImage({ reference, insecureRegistry: true, workDir, onProgress: (e) => events.push(e) }, store);
    const files = imageLayout(info.digest);
    const hex = info.digest.slice('sha256:'.length);

    // Every PUT: the sparse upload, the file listing, the config and metadata.json; no flat extent, no descriptor.
    expect([...puts.keys()].sort()).toEqual([files.metadata, files.files, files.blob(String(info.configDigest)), files.sparseUpload].sort());
    const sparseBytes = puts.get(files.sparseUpload)!;
    expect(sparseBytes).toBe((await stat(sparseCopies[0])).size);
    expect(sparseBytes).toBeLessThan(info.sizeBytes / 8);
    expect(info.uploadedBytes).toBe(sparseBytes + puts.get(files.files)! + puts.get(files.blob(String(info.configDigest)))! + puts.get(files.metadata)!);
    expect(events.some((e) => e.phase === 'upload' && /sparse: \d+ of \d+ grains hold data/.test(e.detail ?? ''))).toBe(true);

    // The temporary file is gone; the image is complete with the descriptor the server wrote.
    expect(await store.size(files.sparseUpload)).toBeUndefined();
    expect(await inspectStoredImage(store, info.digest)).toMatchObject({ state: 'complete' });
    const descriptorText = (await readFile(await download(`vch-sparse/${files.descriptor}`, join(scratch, 'd.vmdk')))).toString('utf8');
    expect(parseFlatDescriptor(descriptorText)).toEqual({ createType: 'monolithicFlat', extentFileName: `${hex}-flat.vmdk`, sizeBytes: info.sizeBytes });
    expect(descriptorText).toContain('ddb.adapterType = "lsilogic"');

    const extent = await download(`vch-sparse/${files.extent}`, join(scratch, 'sparse.ext4'));
    const flat = await readFile(extent);
    expect(flat.length).toBe(info.sizeBytes);
    expect(flat.equals(await rawOf(sparseCopies[0]))).toBe(true);
    await checkFilesystem(extent);
    expect(await readPath(extent, '/bin/hello')).toBe(HELLO_SCRIPT);

    // On the simulator's host the extent is a sparse file: the absent grains are holes.
    const local = (await sim().control.info()).datastores[DS];
    const onHost = await stat(join(local, 'vch-sparse', files.extent));
    expect(onHost.size).toBe(info.sizeBytes);
    expect(onHost.blocks * 512).toBeLessThan(info.sizeBytes / 4);
  });

  test('WHEN the server refuses the conversion (NotImplemented) THEN the build says why, uploads the flat extent instead, and leaves no temporary file', async () => {
    await sim().control.addFault({ method: 'CopyVirtualDisk_Task', kind: 'task', fault: 'NotImplemented', times: -1 });
    const { store, puts, sparseCopies } = recordingStore('vch-refused');
    const events: ImageProgress[] = [];
    const info = await buildImage({ reference, insecureRegistry: true, workDir, onProgress: (e) => events.push(e) }, store);
    const files = imageLayout(info.digest);

    expect((await sim().control.faults())[0]).toMatchObject({ hits: 1 });
    expect(
      events.some((e) => e.phase === 'upload' && /does not convert sparse disks \(NotImplemented\): uploading the whole flat extent/.test(e.detail ?? '')),
    ).toBe(true);
    expect(puts.get(files.extent)).toBe(info.sizeBytes);
    expect(puts.has(files.descriptor)).toBe(true);
    expect(await store.size(files.sparseUpload)).toBeUndefined();
    expect(await inspectStoredImage(store, info.digest)).toMatchObject({ state: 'complete' });
    const extent = await readFile(await download(`vch-refused/${files.extent}`, join(scratch, 'refused.ext4')));
    expect(extent.equals(await rawOf(sparseCopies[0]))).toBe(true);
  });

  test('WHEN the conversion fails for another reason THEN the build fails naming it, the temporary file is deleted, and the next build completes the image', async () => {
    await sim().control.addFault({ method: 'CopyVirtualDisk_Task', kind: 'task', fault: 'NoDiskSpace', message: 'datastore full (test)', times: 1 });
    const { store } = recordingStore('vch-fails');
    const files = imageLayout(digest);
    const attempt = buildImage({ reference, insecureRegistry: true, workDir }, store);
    await expect(attempt).rejects.toThrow(ImageStoreError);
    await expect(attempt).rejects.toThrow(/conversion of the sparse upload into .*NoDiskSpace/);
    expect(await readdir(workDir)).toEqual([]);
    expect(await store.size(files.sparseUpload)).toBeUndefined();
    expect((await inspectStoredImage(store, digest)).state).not.toBe('complete');

    const redone = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    expect(redone.reused).toBe(false);
    expect(await inspectStoredImage(store, digest)).toMatchObject({ state: 'complete' });
  });

  test('WHEN a build was killed after the conversion but before metadata.json THEN the next build converts again over the leftovers and completes', async () => {
    const { store } = recordingStore('vch-killed');
    const first = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    const files = imageLayout(first.digest);
    // What a kill leaves: the converted disk without metadata.json, and a stray sparse upload.
    await store.deleteFile(files.metadata);
    await uploadDatastoreFile(client, { datacenter: datacenter.path, datastore: DS, path: `vch-killed/${files.sparseUpload}` }, Buffer.alloc(4096, 1));
    expect(await inspectStoredImage(store, first.digest)).toMatchObject({ state: 'partial' });

    const redone = await buildImage({ reference, insecureRegistry: true, workDir }, store);
    expect(redone.reused).toBe(false);
    expect(await inspectStoredImage(store, first.digest)).toMatchObject({ state: 'complete' });
    expect(await store.size(files.sparseUpload)).toBeUndefined();
    const extent = await download(`vch-killed/${files.extent}`, join(scratch, 'killed.ext4'));
    await checkFilesystem(extent);
    expect(await readPath(extent, '/bin/hello')).toBe(HELLO_SCRIPT);

    await deleteStoredImage(store, first.digest);
    expect(await inspectStoredImage(store, first.digest)).toEqual({ state: 'absent' });
  });
});

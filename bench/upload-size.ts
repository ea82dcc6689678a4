/**
 * Bytes an image upload sends to the datastore, against what its filesystem holds: one small image
 * (about a busybox: 1 MiB of binary and a few hundred small files and links) built by the pipeline
 * into a simulator datastore, every PUT counted by the store it writes through. The baseline is the
 * ext4 filesystem's used blocks (`dumpe2fs -h`: block count − free blocks, so its metadata and
 * journal count as used), read from the flat extent the datastore holds at the end (after the
 * server's conversion, when the upload was sparse). A disk format that carries only the used blocks
 * sends about that many bytes plus fixed metadata; a flat extent sends the whole filesystem size,
 * free space included. `route` says which one the build took: the pipeline falls back to the flat
 * upload when the server refuses to convert (a plain vcsim does).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { buildImage, DatastoreImageStore, imageLayout, type ImageStore } from '../src/images';
import type { RunningSimulator } from '../src/sim/simulator';
import { scanDataGrains } from '../src/images/vmdk';
import { downloadDatastoreFile, Inventory, VimClient } from '../src/vsphere';
import { writeOciLayout, type TarEntrySpec } from '../test/helpers/oci-layout';
import type { RunningRegistry } from '../test/helpers/registry';
import { progress, ratio, round } from './figures';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const DS = 'LocalDS_0';

/** Over the used blocks, a disk format may spend this share on its own layout (grain tables, alignment)... */
export const UPLOAD_GOAL_RATIO = 1.2;
/** ...plus this many bytes that do not grow with the content: the descriptor, metadata.json, headers. */
export const UPLOAD_FIXED_ALLOWANCE_BYTES = 1 * MiB;

export interface UploadResult {
  readonly benchmark: 'image-upload-size';
  readonly description: string;
  /** Bytes of file content in the image's layers. */
  readonly content_bytes: number;
  /** Size of the ext4 filesystem the pipeline made (the flat extent's size). */
  readonly filesystem_bytes: number;
  /** Blocks the filesystem uses, metadata and journal included. */
  readonly used_bytes: number;
  /** Every byte the PUTs carried, per stored file and in total. */
  readonly uploaded_bytes: { readonly total: number; readonly by_file: Readonly<Record<string, number>> };
  readonly ratio_uploaded_over_used: number;
  /** `sparse`: a hosted sparse VMDK the server converted; `flat`: the whole extent (the server refused, with its reason). */
  readonly route: { readonly kind: 'sparse' | 'flat'; readonly refusal?: string };
  /**
   * What a sparse extent of each grain size would carry of this filesystem (grains holding a
   * non-zero byte × the grain size), read from the stored extent: the pipeline uses 64 KiB.
   */
  readonly data_bytes_by_grain: Readonly<Record<string, number>>;
  readonly goal: { readonly met: boolean; readonly ratio: number; readonly fixed_allowance_bytes: number; readonly limit_bytes: number };
}

function busyboxLikeLayer(): { entries: TarEntrySpec[]; bytes: number } {
  const binary = randomBytes(1 * MiB);
  const entries: TarEntrySpec[] = [
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/busybox', content: binary, mode: 0o755 },
    { type: 'dir', path: 'etc' },
  ];
  let bytes = binary.length;
  // busybox's applets are hard links to its one binary; /etc holds a few small files.
  for (let i = 0; i < 300; i++) entries.push({ type: 'hardlink', path: `bin/applet${i}`, target: 'bin/busybox' });
  for (let i = 0; i < 20; i++) {
    const content = `setting${i}=value ${'x'.repeat(i * 10)}\n`;
    bytes += content.length;
    entries.push({ type: 'file', path: `etc/file${i}.conf`, content, mode: 0o644 });
  }
  return { entries, bytes };
}

/** The store, counting what each PUT carries (a retried PUT counts again: it was sent again). */
function countingStore(inner: ImageStore, counts: Record<string, number>): ImageStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'writeFile') {
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      const writeFile: ImageStore['writeFile'] = (path, source, options = {}) =>
        target.writeFile(path, source, {
          ...options,
          onBytes: (n) => {
            counts[path] = (counts[path] ?? 0) + Math.max(0, n);
            options.onBytes?.(n);
          },
        });
      return writeFile;
    },
  });
}

async function usedBytes(ext4: string): Promise<number> {
  const { stdout } = await run('dumpe2fs', ['-h', ext4], { maxBuffer: 4 * MiB });
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(stdout);
    if (!m) throw new Error(`dumpe2fs -h ${ext4} printed no "${name}"`);
    return Number(m[1]);
  };
  return (field('Block count') - field('Free blocks')) * field('Block size');
}

export async function uploadSizeBench(opts: { readonly sim: RunningSimulator; readonly registry: RunningRegistry }): Promise<UploadResult> {
  const scratch = await mkdtemp(join(tmpdir(), 'vic-bench-upload-'));
  const client = await VimClient.connect({ url: opts.sim.url, username: opts.sim.username, password: opts.sim.password, thumbprint: opts.sim.thumbprint });
  try {
    const layer = busyboxLikeLayer();
    const layout = await writeOciLayout(join(scratch, 'layout'), 'v1', [{ layers: [{ entries: layer.entries }], config: { Cmd: ['/bin/busybox', 'sh'] } }]);
    await opts.registry.push(layout.dir, 'v1', 'bench/busybox-like:v1');
    const dc = await new Inventory(client).datacenter();
    const store = new DatastoreImageStore({ client, datacenter: { ref: dc.ref, path: dc.name }, datastore: DS, path: 'bench-upload' });
    const counts: Record<string, number> = {};
    const workDir = join(scratch, 'work');
    await mkdir(workDir);
    progress('upload: building a busybox-sized image into the simulator datastore, counting every byte sent');
    let refusal: string | undefined;
    const info = await buildImage(
      {
        reference: `${opts.registry.host}/bench/busybox-like:v1`,
        insecureRegistry: true,
        workDir,
        onProgress: (e) => {
          const refused = /does not convert sparse disks \((.*)\): uploading/.exec(e.detail ?? '');
          if (refused) refusal = refused[1];
        },
      },
      countingStore(store, counts),
    );
    const files = imageLayout(info.digest);
    const route: UploadResult['route'] =
      counts[files.sparseUpload] !== undefined && counts[files.extent] === undefined ? { kind: 'sparse' } : { kind: 'flat', ...(refusal ? { refusal } : {}) };
    const extent = join(scratch, 'extent.ext4');
    await pipeline(
      await downloadDatastoreFile(client, { datacenter: dc.name, datastore: DS, path: `bench-upload/${files.extent}` }),
      createWriteStream(extent),
    );
    const used = await usedBytes(extent);
    const byGrain: Record<string, number> = {};
    for (const grain of [4096, 16384, 65536, 262144, 1048576]) {
      byGrain[String(grain)] = (await scanDataGrains(extent, info.sizeBytes, grain)).length * grain;
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const limit = Math.round(UPLOAD_GOAL_RATIO * used + UPLOAD_FIXED_ALLOWANCE_BYTES);
    const result: UploadResult = {
      benchmark: 'image-upload-size',
      description:
        'bytes the image pipeline PUTs to the datastore for a busybox-sized image (1 MiB binary, 300 hard links, 20 small files) vs the used blocks of the ext4 filesystem it built (dumpe2fs -h)',
      content_bytes: layer.bytes,
      filesystem_bytes: info.sizeBytes,
      used_bytes: used,
      uploaded_bytes: { total, by_file: Object.fromEntries(Object.entries(counts).map(([path, n]) => [path.replace(/^images\/[0-9a-f]+\//, ''), n])) },
      ratio_uploaded_over_used: ratio(total, used),
      route,
      data_bytes_by_grain: byGrain,
      goal: { met: total <= limit, ratio: UPLOAD_GOAL_RATIO, fixed_allowance_bytes: UPLOAD_FIXED_ALLOWANCE_BYTES, limit_bytes: limit },
    };
    progress(
      `upload: ${round(total / MiB, 2)} MiB sent for ${round(used / MiB, 2)} MiB of used blocks (×${result.ratio_uploaded_over_used}), ${
        route.kind === 'sparse'
          ? 'as a sparse VMDK the server converted'
          : `as the flat extent${route.refusal ? ` (the server refused the conversion: ${route.refusal})` : ''}`
      }`,
    );
    return result;
  } finally {
    await client.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

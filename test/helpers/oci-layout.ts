/**
 * Test images built by the tests themselves: tar layers from a list of entries, wrapped as an OCI
 * image layout (index.json + blobs/sha256) that `skopeo copy oci:<dir>:<tag>` pushes to a registry.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export type TarEntrySpec =
  | { readonly type: 'file'; readonly path: string; readonly content?: string | Buffer; readonly mode?: number; readonly uid?: number; readonly gid?: number }
  | { readonly type: 'dir'; readonly path: string; readonly mode?: number; readonly uid?: number; readonly gid?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string; readonly uid?: number; readonly gid?: number }
  | { readonly type: 'hardlink'; readonly path: string; readonly target: string }
  | { readonly type: 'char'; readonly path: string; readonly major: number; readonly minor: number; readonly mode?: number }
  | { readonly type: 'fifo'; readonly path: string; readonly mode?: number };

/** `dir/.wh.name`: deletes `dir/name` from lower layers. */
export function whiteout(path: string): TarEntrySpec {
  const slash = path.lastIndexOf('/');
  return { type: 'file', path: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, content: '' };
}

/** `dir/.wh..wh..opq`: hides everything lower layers put in `dir`. */
export function opaque(dir: string): TarEntrySpec {
  return { type: 'file', path: `${dir.replace(/\/$/, '')}/.wh..wh..opq`, content: '' };
}

const FIXED_MTIME = new Date('2024-01-02T03:04:05Z');

/** A tar stream of the entries, in the given order. */
export async function buildLayerTar(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  const add = (header: tar.Header | (Partial<tar.Header> & { name: string }), content?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content) pack.entry(header, content, done);
      else pack.entry(header, done);
    });
  for (const e of entries) {
    const base = { name: e.path, mtime: FIXED_MTIME };
    switch (e.type) {
      case 'file': {
        const content = Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content ?? '', 'utf8');
        await add({ ...base, type: 'file', mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, size: content.length }, content);
        break;
      }
      case 'dir':
        await add({ ...base, type: 'directory', mode: e.mode ?? 0o755, uid: e.uid ?? 0, gid: e.gid ?? 0 });
        break;
      case 'symlink':
        await add({ ...base, type: 'symlink', linkname: e.target, mode: 0o777, uid: e.uid ?? 0, gid: e.gid ?? 0 });
        break;
      case 'hardlink':
        await add({ ...base, type: 'link', linkname: e.target, mode: 0o644 });
        break;
      case 'char':
        await add({ ...base, type: 'character-device', devmajor: e.major, devminor: e.minor, mode: e.mode ?? 0o666 });
        break;
      case 'fifo':
        await add({ ...base, type: 'fifo', mode: e.mode ?? 0o644 });
        break;
    }
  }
  pack.finalize();
  return collected;
}

export interface LayerSpec {
  readonly entries: readonly TarEntrySpec[];
  /** Default true; false writes an uncompressed `tar` layer. */
  readonly gzip?: boolean;
}

export interface ImageSpec {
  readonly layers: readonly LayerSpec[];
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
  readonly config?: {
    readonly Entrypoint?: string[];
    readonly Cmd?: string[];
    readonly Env?: string[];
    readonly WorkingDir?: string;
    readonly User?: string;
    readonly ExposedPorts?: Record<string, object>;
    readonly Labels?: Record<string, string>;
    readonly Volumes?: Record<string, object>;
    readonly StopSignal?: string;
    readonly Healthcheck?: { readonly Test: string[]; readonly Interval?: number; readonly Retries?: number };
  };
}

export interface WrittenLayout {
  readonly dir: string;
  readonly tag: string;
  /** The digest the tag points at: the manifest, or the index for several images. */
  readonly topDigest: string;
  /** One per image, in the order given. */
  readonly manifestDigests: readonly string[];
  /** Layer blob digests per image, bottom first. */
  readonly layerDigests: readonly (readonly string[])[];
}

const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layer: 'application/vnd.oci.image.layer.v1.tar',
};

/** Writes one image (or, with several, a multi-platform index of them) as an OCI layout. */
export async function writeOciLayout(dir: string, tag: string, images: readonly ImageSpec[]): Promise<WrittenLayout> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const putBlob = async (content: Buffer): Promise<{ digest: string; size: number }> => {
    const hex = createHash('sha256').update(content).digest('hex');
    await writeFile(join(blobDir, hex), content);
    return { digest: `sha256:${hex}`, size: content.length };
  };
  const manifests: { mediaType: string; digest: string; size: number; platform: object }[] = [];
  const layerDigests: string[][] = [];
  for (const image of images) {
    const platform = image.platform ?? { os: 'linux', architecture: 'amd64' };
    const layers: { mediaType: string; digest: string; size: number }[] = [];
    const diffIds: string[] = [];
    for (const layer of image.layers) {
      const plain = await buildLayerTar(layer.entries);
      diffIds.push(`sha256:${createHash('sha256').update(plain).digest('hex')}`);
      const compressed = layer.gzip === false ? plain : gzipSync(plain);
      layers.push({ mediaType: layer.gzip === false ? OCI.layer : OCI.layerGzip, ...(await putBlob(compressed)) });
    }
    layerDigests.push(layers.map((l) => l.digest));
    const config = Buffer.from(
      JSON.stringify({
        created: FIXED_MTIME.toISOString(),
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: image.config ?? {},
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI.manifest, config: { mediaType: OCI.config, ...(await putBlob(config)) }, layers }),
    );
    manifests.push({ mediaType: OCI.manifest, ...(await putBlob(manifest)), platform });
  }
  let top: { mediaType: string; digest: string; size: number };
  if (manifests.length === 1) {
    top = { mediaType: OCI.manifest, digest: manifests[0].digest, size: manifests[0].size };
  } else {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests }));
    top = { mediaType: OCI.index, ...(await putBlob(index)) };
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
  return { dir, tag, topDigest: top.digest, manifestDigests: manifests.map((m) => m.digest), layerDigests };
}

/** The smallest runnable image: one executable `/hello`, run as the command. */
export const HELLO_IMAGE: ImageSpec = { layers: [{ entries: [{ type: 'file', path: 'hello', content: 'hi\n', mode: 0o755 }] }], config: { Cmd: ['/hello'] } };

/** A shell script at `/bin/app` as the entrypoint. */
export const APP_IMAGE: ImageSpec = {
  layers: [
    {
      entries: [
        { type: 'dir', path: 'bin' },
        { type: 'file', path: 'bin/app', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      ],
    },
  ],
  config: { Entrypoint: ['/bin/app'] },
};

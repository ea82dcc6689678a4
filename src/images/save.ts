/**
 * docker save: stored images as one archive, in the layout docker 25 and later write, which every
 * `docker load` reads (and vic-iac's own, load.ts):
 *
 *   blobs/sha256/<hex>   each image's manifest, config and layers, byte for byte
 *   index.json           the manifests, each named (`io.containerd.image.name`, `org.opencontainers.image.ref.name`)
 *   oci-layout
 *   manifest.json        [{ "Config": "blobs/sha256/<hex>", "RepoTags": [...], "Layers": ["blobs/sha256/<hex>", …] }]
 *
 * The image store keeps an image as one disk, not as its layers: its manifest and blobs are read
 * where push reads them (push.ts, openImageSource): beside its disk for an image made here (docker
 * commit, load, import), else from a registry that serves it. The manifest goes in as it is, so a
 * load of the archive gives the image its id again.
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { Descriptor } from './manifest';
import { openImageSource, type ImageSource, type PushOptions } from './push';
import { parseImageReference } from './reference';

/** One image of the archive: where it is read (as push reads it), and the names it is saved under. */
export interface SaveImage {
  readonly source: Omit<PushOptions, 'target' | 'onEvent'>;
  readonly names: readonly string[];
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

/**
 * Writes the archive of `images` to `out`. Every image's source is opened before the first byte is
 * written, so an image that cannot be read fails the save while its caller can still answer with
 * an error; a failure later cuts the archive short (`out` is destroyed).
 */
export async function writeImageArchive(images: readonly SaveImage[], out: Writable, onStarted?: () => void): Promise<void> {
  const sources: ImageSource[] = [];
  try {
    for (const image of images) sources.push(await openImageSource(image.source));
    onStarted?.();
    const pack = tar.pack();
    const piping = pipeline(pack as unknown as NodeJS.ReadableStream, out);
    const written = new Set<string>();
    const mtime = new Date(0);
    const put = async (name: string, content: Buffer) => {
      await new Promise<void>((resolve, reject) => pack.entry({ name, size: content.length, mtime }, content, (err) => (err ? reject(err) : resolve())));
    };
    const putBlob = async (source: ImageSource, blob: Descriptor) => {
      if (written.has(blob.digest)) return;
      written.add(blob.digest);
      const body = await source.readBlob(blob);
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: blobPath(blob.digest), size: blob.size, mtime }, (err) => (err ? reject(err) : resolve()));
        body.on('error', (err) => entry.destroy(err));
        body.pipe(entry as unknown as NodeJS.WritableStream);
      });
    };
    const index: object[] = [];
    const legacy: object[] = [];
    for (const [i, source] of sources.entries()) {
      const { names, source: options } = images[i];
      await putBlob(source, source.config);
      for (const layer of source.layers) await putBlob(source, layer);
      if (!written.has(options.digest)) {
        written.add(options.digest);
        await put(blobPath(options.digest), source.body);
      }
      const tags = names.filter((n) => !n.includes('@'));
      const descriptor = { mediaType: source.mediaType, digest: options.digest, size: source.body.length };
      if (tags.length === 0) index.push(descriptor);
      for (const name of tags) {
        index.push({
          ...descriptor,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': parseImageReference(name).tag ?? 'latest' },
        });
      }
      legacy.push({ Config: blobPath(source.config.digest), RepoTags: tags.map(dockerName), Layers: source.manifestLayers.map((l) => blobPath(l.digest)) });
    }
    await put('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index })));
    await put('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    await put('manifest.json', Buffer.from(JSON.stringify(legacy)));
    pack.finalize();
    await piping;
  } finally {
    await Promise.all(sources.map((s) => s.close()));
  }
}

/** A name as docker's manifest.json has it: Docker Hub's without its registry and library/ prefix. */
function dockerName(name: string): string {
  return name.replace(/^docker\.io\/(library\/)?/, '');
}

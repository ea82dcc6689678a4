/**
 * docker push of a stored image: its manifest and blobs copied, as they are, from a registry it
 * came from to the target repository. The image store keeps an image as one flattened disk, not as
 * its layers, so a push reads the layers back from the registry that has them (any of the image's
 * other names) and sends them on: a blob the target holds already is skipped, one in another
 * repository of the same registry is mounted there, any other is streamed through. The manifest
 * goes up byte for byte, so the pushed image has the digest (the image id) it had. An image made here
 * (docker commit) has its manifest and blobs beside its disk (commit.ts): they are sent from there.
 */
import { Transform, type Readable } from 'node:stream';
import { ImageError, RegistryError } from './errors';
import { imageLayout, type ImageStore } from './image-store';
import { isIndexMediaType, parseManifest, type Descriptor } from './manifest';
import { formatImageReference, parseImageReference, registryApiHost, type ImageReference } from './reference';
import { RegistryClient, type RegistryCredentials } from './registry-client';

/** What a push tells while it goes, per blob (docker's `Preparing`, `Pushing`, `Pushed`, `Layer already exists`, `Mounted from`). */
export type PushEvent =
  | { readonly kind: 'preparing' | 'pushed' | 'exists'; readonly digest: string }
  | { readonly kind: 'mounted'; readonly digest: string; readonly from: string }
  | { readonly kind: 'pushing'; readonly digest: string; readonly current: number; readonly total: number };

export interface PushOptions {
  /** The image's manifest digest (its id). */
  readonly digest: string;
  /** References that name the image: where its manifest and blobs may be read (the target's own is skipped). */
  readonly sources: readonly string[];
  /** registry/repository:tag to push to. */
  readonly target: string;
  /** For the target registry (docker login's), and a source on the same registry; other sources are read anonymously. */
  readonly credentials?: RegistryCredentials;
  /** Whether a registry host may be reached over plain HTTP or an unverified certificate. */
  readonly insecure: (registry: string) => boolean;
  readonly onEvent?: (event: PushEvent) => void;
  readonly signal?: AbortSignal;
  /** The image store that holds the image: read first, for an image made here (docker commit). */
  readonly store?: ImageStore;
}

export interface PushResult {
  readonly digest: string;
  /** The manifest's size in bytes (docker's `size:`). */
  readonly size: number;
}

/** Where an image's manifest and blobs are read: its store (an image made here), or a registry that serves it. */
export interface ImageSource {
  /** The registry and repository it is read from, where a blob may be mounted from; none for the image store. */
  readonly reference?: ImageReference;
  readBlob(blob: Descriptor): Promise<Readable>;
  close(): Promise<void>;
  readonly body: Buffer;
  readonly mediaType: string;
  /** The layers, each once, told of as they go (as docker push shows them), then the config, sent quietly. */
  readonly layers: Descriptor[];
  /** The layers as the manifest lists them, a repeated one each time. */
  readonly manifestLayers: readonly Descriptor[];
  readonly config: Descriptor;
}

/** Pushes the image to `target`; its manifest digest and size there. */
export async function pushImage(options: PushOptions): Promise<PushResult> {
  const target = parseImageReference(options.target);
  if (!target.tag) throw new ImageError('InvalidReference', `docker push needs a tag to push to, not a digest: ${options.target}`);
  const source = await openImageSource(options, target);
  const client = await RegistryClient.create(registryApiHost(target), {
    credentials: options.credentials,
    insecure: options.insecure(target.registry),
    signal: options.signal,
  });
  try {
    for (const layer of source.layers) options.onEvent?.({ kind: 'preparing', digest: layer.digest });
    for (const layer of source.layers) await pushBlob(options, source, client, target, layer, options.onEvent);
    await pushBlob(options, source, client, target, source.config, undefined);
    const digest = await client.putManifest(target.repository, target.tag, source.body, source.mediaType);
    return { digest, size: source.body.length };
  } finally {
    await Promise.all([client.close(), source.close()]);
  }
}

/** One blob to the target: skipped when there, mounted from the source's repository on the same registry, else streamed through. */
async function pushBlob(
  options: PushOptions,
  source: ImageSource,
  client: RegistryClient,
  target: ImageReference,
  blob: Descriptor,
  onEvent: PushOptions['onEvent'],
): Promise<void> {
  if (await client.hasBlob(target.repository, blob.digest)) {
    onEvent?.({ kind: 'exists', digest: blob.digest });
    return;
  }
  const from = source.reference;
  if (from && registryApiHost(from) === registryApiHost(target) && (await client.mountBlob(target.repository, blob.digest, from.repository))) {
    onEvent?.({ kind: 'mounted', digest: blob.digest, from: from.repository });
    return;
  }
  await client.uploadBlob(target.repository, blob, async () => {
    const body = await source.readBlob(blob);
    let current = 0;
    // Counted on the way through (a 'data' listener would start the flow before the upload reads it).
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        current += chunk.length;
        onEvent?.({ kind: 'pushing', digest: blob.digest, current, total: blob.size });
        done(null, chunk);
      },
    });
    body.on('error', (err) => counted.destroy(err));
    return body.pipe(counted);
  });
  onEvent?.({ kind: 'pushed', digest: blob.digest });
}

/** A manifest as a push reads it: the layers (each once) and the config. */
function sourceParts(json: unknown, mediaType: string, where: string, digest: string): Pick<ImageSource, 'mediaType' | 'layers' | 'manifestLayers' | 'config'> {
  if (isIndexMediaType(mediaType)) throw new RegistryError(`${digest} is a multi-platform index there, not the image's manifest`);
  const parsed = parseManifest(json, where);
  const layers = parsed.layers.filter((b, i, all) => all.findIndex((o) => o.digest === b.digest) === i);
  return { mediaType, layers, manifestLayers: parsed.layers, config: parsed.config };
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** The manifest and blobs an image made here keeps beside its disk; undefined for a pulled image, which has none. */
async function storeSource(store: ImageStore, digest: string): Promise<ImageSource | undefined> {
  const layout = imageLayout(digest);
  const body = await store.readFile(layout.manifest, MAX_MANIFEST_BYTES);
  if (!body) return undefined;
  const json = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
  return {
    ...sourceParts(json, String(json.mediaType ?? ''), store.locate(layout.manifest), digest),
    body,
    readBlob: async (blob) => {
      const stream = await store.openFile(layout.blob(blob.digest));
      if (!stream) throw new RegistryError(`blob ${blob.digest} of image ${digest} is missing from ${store.locate(layout.directory)}`);
      return stream;
    },
    close: async () => undefined,
  };
}

/**
 * The image store's manifest and blobs when it made the image; else the first of the image's names
 * whose registry serves its manifest, with that manifest; else an error naming each one tried.
 */
export async function openImageSource(options: Omit<PushOptions, 'target' | 'onEvent'>, target?: ImageReference): Promise<ImageSource> {
  const local = options.store ? await storeSource(options.store, options.digest) : undefined;
  if (local) return local;
  const tried: string[] = [];
  const targetName = target ? formatImageReference(target) : undefined;
  for (const name of options.sources) {
    let reference: ImageReference;
    try {
      reference = parseImageReference(name);
    } catch {
      continue;
    }
    if (formatImageReference(reference) === targetName) continue;
    // The target's credentials serve a source on the same registry (a private one's other repository).
    const sameRegistry = target !== undefined && registryApiHost(reference) === registryApiHost(target);
    const client = await RegistryClient.create(registryApiHost(reference), {
      insecure: options.insecure(reference.registry),
      signal: options.signal,
      ...(sameRegistry && options.credentials ? { credentials: options.credentials } : {}),
    });
    try {
      const manifest = await client.fetchManifest(reference.repository, options.digest);
      const mediaType = manifest.mediaType ?? String((manifest.json as { mediaType?: unknown }).mediaType ?? '');
      const from = reference;
      return {
        ...sourceParts(manifest.json, mediaType, `${name}@${options.digest}`, options.digest),
        reference,
        body: manifest.body,
        readBlob: (blob) => client.readBlob(from.repository, blob),
        close: () => client.close(),
      };
    } catch (err) {
      await client.close();
      if ((err as Error).name === 'AbortError') throw err;
      tried.push(`${formatImageReference(reference)}: ${(err as Error).message}`);
    }
  }
  throw new RegistryError(
    tried.length === 0
      ? `image ${options.digest} has no name${targetName ? ` other than ${targetName}` : ''} to read its layers under: vic-iac keeps an image as one disk, and reads its layers back from the registry it was pulled from; pull it from there first`
      : `the layers of image ${options.digest} could not be read from the registries it came from (${tried.join('; ')}): vic-iac keeps an image as one disk, and reads its layers back from there`,
  );
}

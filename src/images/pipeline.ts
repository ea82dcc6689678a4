/**
 * The image pipeline: registry → verified blobs → flattened rootfs → ext4 → VMDK → image store.
 *
 * Content-addressed: the manifest digest names the image, and an image already complete in the
 * store is returned without pulling a single blob. A partial upload (files without metadata.json,
 * or with sizes that disagree with it) is redone from scratch. The local staging area is removed
 * on every path, failures included.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { storeRawDisk } from './disk-upload';
import { ImageError, LayerLimitError, PlatformNotFoundError } from './errors';
import { buildExt4, planFilesystemSize, rootfsUuidForDigest, ROOTFS_LABEL, type PrivilegeMode } from './ext4';
import { RootfsStaging, type FileListingEntry, type UnpackLimits } from './flatten';
import { bufferSource, fileSource, imageLayout, inspectStoredImage, type ImageMetadata, type ImageStore, type UploadSource } from './image-store';
import {
  classifyManifest,
  formatPlatform,
  parseImageConfig,
  parseIndex,
  parseManifest,
  parsePlatform,
  selectPlatformManifest,
  type ContainerConfig,
  type ImageManifest,
  type Platform,
} from './manifest';
import { ProgressMeter, type ProgressListener } from './progress';
import { digestHex, formatImageReference, manifestReference, parseImageReference, registryApiHost, type ImageReference } from './reference';
import { RegistryClient, type RegistryCredentials } from './registry-client';

export interface RegistryAccessOptions {
  /** e.g. `127.0.0.1:5000/library/busybox:1.36` or `…@sha256:<hex>`. */
  readonly reference: string;
  /** `os/arch[/variant]`; default `linux/amd64`. */
  readonly platform?: string;
  readonly auth?: RegistryCredentials;
  /** Plain HTTP or unverified TLS. Opt-in only. */
  readonly insecureRegistry?: boolean;
  /** PEM file of the CA that signed the registry's certificate. */
  readonly caFile?: string;
  readonly signal?: AbortSignal;
}

export interface BuildImageOptions extends RegistryAccessOptions {
  /** Filesystem size; default: the content plus headroom. */
  readonly sizeMb?: number;
  readonly onProgress?: ProgressListener;
  /** Parent directory of the temporary staging area; default the OS temp directory. */
  readonly workDir?: string;
  /** `auto` (default): root runs mke2fs directly, others under fakeroot. */
  readonly privilege?: PrivilegeMode;
  /** Layers downloaded at once; default 3. */
  readonly downloadConcurrency?: number;
  /** Bounds on what the layers may unpack to; default from the environment (imageLimitsFromEnv). */
  readonly limits?: Partial<ImageInputLimits>;
}

/**
 * Bounds on the unpacked content of one image, all layers together. `sizeMb`, when given, replaces
 * `maxUnpackedMb`: the filesystem could not hold more anyway.
 */
export interface ImageInputLimits {
  readonly maxUnpackedMb: number;
  readonly maxEntries: number;
}

/** Large enough for real-world images (tens of GB, hundreds of thousands of files); far below "fill the disk". */
export const DEFAULT_IMAGE_LIMITS: ImageInputLimits = { maxUnpackedMb: 16384, maxEntries: 1_000_000 };

export const IMAGE_LIMIT_ENV = { maxUnpackedMb: 'VIC_IMAGE_MAX_UNPACKED_MB', maxEntries: 'VIC_IMAGE_MAX_ENTRIES' } as const;

/** The limits from VIC_IMAGE_MAX_UNPACKED_MB and VIC_IMAGE_MAX_ENTRIES, defaults for unset ones. */
export function imageLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ImageInputLimits {
  const read = (key: keyof ImageInputLimits): number => {
    const name = IMAGE_LIMIT_ENV[key];
    const text = env[name]?.trim();
    if (text === undefined || text === '') return DEFAULT_IMAGE_LIMITS[key];
    const value = Number(text);
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
      throw new LayerLimitError(
        `${name}=${JSON.stringify(text)} is not a positive whole number; set it to one (default ${DEFAULT_IMAGE_LIMITS[key]}) or unset it`,
      );
    }
    return value;
  };
  return { maxUnpackedMb: read('maxUnpackedMb'), maxEntries: read('maxEntries') };
}

/**
 * Refuses, before downloading anything, layers whose declared sizes already pass the byte limit:
 * the download itself would fill the disk. Compressed data is never much larger than what it
 * unpacks to (deflate adds 5 bytes per 64 KiB it cannot compress, gzip a small header), which the
 * allowance covers.
 */
function checkDeclaredLayerSizes(manifest: ImageManifest, limits: UnpackLimits): void {
  let total = 0;
  for (const [index, layer] of manifest.layers.entries()) {
    total += layer.size;
    const allowed = limits.maxBytes + Math.ceil(limits.maxBytes / 1024) + (index + 1) * 64 * 1024;
    if (total > allowed) {
      throw new LayerLimitError(
        `layer ${layer.digest} (${layer.size} bytes, layer ${index + 1} of ${manifest.layers.length}) takes the image's layers past the limit of ${limits.maxBytes / (1024 * 1024)} MB before they are even unpacked; refused before downloading it. ${limits.raise.bytes}`,
      );
    }
  }
}

/** The limits one build applies, with the advice its errors give. */
export function unpackLimits(options: Pick<BuildImageOptions, 'sizeMb' | 'limits'>): UnpackLimits {
  const configured = { ...imageLimitsFromEnv(), ...options.limits };
  const entries = `If the image is genuine, raise the limit with the environment variable ${IMAGE_LIMIT_ENV.maxEntries} (now ${configured.maxEntries}) of the process that builds images (terraform, pulumi or vic).`;
  if (options.sizeMb !== undefined) {
    return {
      maxBytes: options.sizeMb * 1024 * 1024,
      maxEntries: configured.maxEntries,
      raise: { bytes: `The image's size_mb (${options.sizeMb}) bounds its content: if the image is genuine, raise size_mb.`, entries },
    };
  }
  return {
    maxBytes: configured.maxUnpackedMb * 1024 * 1024,
    maxEntries: configured.maxEntries,
    raise: {
      bytes: `If the image is genuine, set size_mb on the image to the size it needs (it replaces this limit), or raise the limit with the environment variable ${IMAGE_LIMIT_ENV.maxUnpackedMb} (now ${configured.maxUnpackedMb}) of the process that builds images (terraform, pulumi or vic).`,
      entries,
    },
  };
}

export interface ResolvedImage {
  readonly reference: ImageReference;
  /** The platform manifest's digest: the image id. */
  readonly digest: string;
  /** Set when the reference named a multi-platform index. */
  readonly indexDigest?: string;
  readonly platform: string;
}

export interface ImageInfo {
  /** Same as digest: the resource id. */
  readonly id: string;
  readonly digest: string;
  readonly indexDigest?: string;
  readonly reference: string;
  readonly platform: string;
  /** Where the descriptor lives, as the store names it (e.g. `[LocalDS_0] vch/images/<hex>/<hex>.vmdk`). */
  readonly diskPath: string;
  /** Size of the flat disk in bytes. */
  readonly sizeBytes: number;
  readonly rootfsUuid: string;
  readonly created: string;
  /** When the image was built, as its config says; undefined when it does not (or the store predates it). */
  readonly imageCreated?: string;
  /** Bytes its files take; undefined in stores written before this was recorded. */
  readonly contentBytes?: number;
  /** A committed image's author and comment (docker commit -a, -m). */
  readonly author?: string;
  readonly comment?: string;
  /** Its config's digest, when the config is kept beside its disk. */
  readonly configDigest?: string;
  /** The bytes each layer unpacked to, bottom first, when recorded. */
  readonly layerSizes?: number[];
  readonly config: ContainerConfig;
  /** True when the store already held the image and nothing was pulled or uploaded. */
  readonly reused: boolean;
  /** Blob bytes pulled from the registry by this call (0 when reused). */
  readonly pulledBytes: number;
  /** Bytes written to the store by this call (0 when reused). */
  readonly uploadedBytes: number;
}

const DEFAULT_PLATFORM = 'linux/amd64';

/**
 * Resolves a reference to its platform manifest digest, reading only manifests (no layers): what a
 * refresh needs to see that a tag moved. `checkPlatform` also reads a single-platform manifest's
 * config (one small blob), which alone names its platform.
 */
export async function resolveReference(options: RegistryAccessOptions, { checkPlatform = false }: { checkPlatform?: boolean } = {}): Promise<ResolvedImage> {
  const reference = parseImageReference(options.reference);
  const platform = parsePlatform(options.platform ?? DEFAULT_PLATFORM);
  const client = await createClient(reference, options, options.signal);
  try {
    const { resolved, manifest } = await resolveManifest(client, reference, platform);
    // So that a plan learns of a platform the image lacks before anything is created.
    if (checkPlatform && !resolved.indexDigest) {
      const configBlob = await client.fetchSmallBlob(reference.repository, manifest.config);
      checkConfigPlatform(parseImageConfig(JSON.parse(configBlob.toString('utf8')), `image config ${manifest.config.digest}`), platform, resolved);
    }
    return resolved;
  } finally {
    await client.close();
  }
}

/** The image as the store holds it, or undefined when it is absent or incomplete. */
export async function readStoredImage(store: ImageStore, digest: string, inspect = inspectStoredImage): Promise<ImageInfo | undefined> {
  const state = await inspect(store, digest);
  return state.state === 'complete' ? infoFromMetadata(store, state.metadata, { reused: true, pulledBytes: 0, uploadedBytes: 0 }) : undefined;
}

/** Removes an image from the store: metadata first, so a crash midway leaves a detectable partial. */
export async function deleteStoredImage(store: ImageStore, digest: string): Promise<void> {
  const layout = imageLayout(digest);
  await store.deleteFile(layout.metadata);
  await store.deleteDirectory(layout.directory);
}

/** Pulls, flattens, builds and uploads an image, unless the store already holds it complete. */
export async function buildImage(options: BuildImageOptions, store: ImageStore): Promise<ImageInfo> {
  const reference = parseImageReference(options.reference);
  const platform = parsePlatform(options.platform ?? DEFAULT_PLATFORM);
  // Before any network traffic: a bad limit setting fails fast.
  const limits = unpackLimits(options);
  // One controller for everything in flight: a failed layer download stops its siblings.
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const client = await createClient(reference, options, controller.signal);
  try {
    const { resolved, manifest } = await resolveManifest(client, reference, platform);
    const existing = await inspectStoredImage(store, resolved.digest);
    if (existing.state === 'complete') {
      return infoFromMetadata(store, existing.metadata, { reused: true, pulledBytes: 0, uploadedBytes: 0 });
    }
    checkDeclaredLayerSizes(manifest, limits);
    const configBlob = await client.fetchSmallBlob(reference.repository, manifest.config);
    const config = parseImageConfig(JSON.parse(configBlob.toString('utf8')), `image config ${manifest.config.digest}`);
    checkConfigPlatform(config, platform, resolved);

    const staging = await mkdtemp(join(options.workDir ?? tmpdir(), `vic-image-${digestHex(resolved.digest).slice(0, 12)}-`));
    try {
      return await buildInStaging({
        options,
        limits,
        store,
        client,
        controller,
        staging,
        resolved,
        manifest,
        config: config.container,
        ...(config.created ? { imageCreated: config.created } : {}),
        partial: existing.state === 'partial',
        configBlob,
      });
    } finally {
      await removeStagingArea(staging);
    }
  } catch (err) {
    controller.abort(err);
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await client.close();
  }
}

/**
 * What making the filesystem of a staged rootfs and storing it needs, wherever the files came from
 * (a registry's layers, or a container's files for docker commit: commit.ts).
 */
export interface StoreWork {
  readonly options: Pick<BuildImageOptions, 'sizeMb' | 'privilege' | 'onProgress'>;
  readonly store: ImageStore;
  readonly controller: AbortController;
  readonly resolved: ResolvedImage;
  readonly config: ContainerConfig;
  readonly imageCreated?: string;
  readonly partial: boolean;
  /** More of the image, written beside its disk before the metadata (a committed image's manifest and blobs). */
  readonly extraFiles?: ReadonlyArray<{ readonly path: string; readonly content: Buffer | { readonly file: string } }>;
  /** Metadata beyond the pipeline's own (a committed image's author and comment). */
  readonly metadataExtra?: Pick<ImageMetadata, 'author' | 'comment' | 'config_digest' | 'layer_sizes'>;
}

interface StagingWork extends StoreWork {
  readonly options: BuildImageOptions;
  readonly limits: UnpackLimits;
  readonly client: RegistryClient;
  readonly staging: string;
  readonly manifest: ImageManifest;
  /** The config as the registry served it: kept beside the disk (docker history). */
  readonly configBlob: Buffer;
}

/** Pulls the layers, applies them into a staging rootfs, makes the ext4 image and uploads it. */
async function buildInStaging(work: StagingWork): Promise<ImageInfo> {
  const { options, staging, resolved, manifest } = work;
  const blobs = join(staging, 'blobs');
  const disk = join(staging, 'disk');
  await mkdir(blobs);
  await mkdir(disk);
  const rootfs = new RootfsStaging(join(staging, 'rootfs'), work.limits);
  await rootfs.create();

  const layerBytes = manifest.layers.reduce((sum, l) => sum + l.size, 0);
  const pull = new ProgressMeter('pull', layerBytes + manifest.config.size, resolved.digest, options.onProgress);
  const build = new ProgressMeter('build', layerBytes, resolved.digest, options.onProgress);
  const layerSizes = await pullLayersInto(work, rootfs, blobs, pull, build);
  const kept: StoreWork = {
    ...work,
    extraFiles: [{ path: imageLayout(resolved.digest).blob(manifest.config.digest), content: work.configBlob }],
    metadataExtra: { config_digest: manifest.config.digest, layer_sizes: layerSizes },
  };
  return uploadImage(kept, await makeFilesystem(work, rootfs, disk, build), pull.bytes);
}

/**
 * Downloads run ahead (bounded); layers are applied strictly in order as they arrive, and each
 * blob is removed once applied. Returns the bytes each layer unpacked to.
 */
async function pullLayersInto(work: StagingWork, rootfs: RootfsStaging, blobs: string, pull: ProgressMeter, build: ProgressMeter): Promise<number[]> {
  const { options, client, resolved, manifest } = work;
  pull.add(manifest.config.size);
  pull.start(`${manifest.layers.length} layers`);
  const concurrency = Math.max(1, options.downloadConcurrency ?? 3);
  let next = 0;
  const slots: Promise<void>[] = [];
  const downloads = manifest.layers.map(() => deferred<string>());
  const startNext = async (): Promise<void> => {
    while (next < manifest.layers.length) {
      const index = next++;
      const layer = manifest.layers[index];
      const path = join(blobs, digestHex(layer.digest));
      try {
        await client.downloadBlob(resolved.reference.repository, layer, path, (n) => pull.add(n, `layer ${index + 1}/${manifest.layers.length}`));
        downloads[index].resolve(path);
      } catch (err) {
        downloads[index].reject(err);
        work.controller.abort(err);
        for (const d of downloads) d.reject(err);
        return;
      }
    }
  };
  for (let i = 0; i < concurrency; i++) slots.push(startNext());
  const sizes: number[] = [];
  try {
    for (let index = 0; index < manifest.layers.length; index++) {
      const path = await downloads[index].promise;
      const before = rootfs.unpacked;
      await rootfs.applyLayer({ path, digest: manifest.layers[index].digest }, (n) => build.add(n, `layer ${index + 1}/${manifest.layers.length}`));
      sizes.push(rootfs.unpacked - before);
      // The blob is verified and applied; free its space before the filesystem image is made.
      await rm(path, { force: true });
    }
  } catch (err) {
    work.controller.abort(err);
    throw err;
  } finally {
    // Never leave a download writing into a staging area that is about to be removed.
    await Promise.allSettled(slots);
  }
  pull.finish();
  return sizes;
}

/** The staged rootfs as an ext4 image in `disk`; the rootfs tree is removed once it is in there. */
export async function makeFilesystem(work: StoreWork, rootfs: RootfsStaging, disk: string, build: ProgressMeter): Promise<BuiltFilesystem> {
  const plan = await rootfs.plan();
  const size = planFilesystemSize(plan.stats, work.options.sizeMb);
  const uuid = rootfsUuidForDigest(work.resolved.digest);
  const extentFile = join(disk, 'rootfs.ext4');
  build.add(0, 'mke2fs');
  await buildExt4({
    stagingRoot: rootfs.root,
    plan,
    output: extentFile,
    workDir: disk,
    uuid,
    size,
    privilege: work.options.privilege,
    signal: work.controller.signal,
  });
  // The rootfs tree is in the filesystem image now; drop it before uploading.
  await removeStagingArea(rootfs.root);
  build.finish('mke2fs done');
  return { extentFile, extentSize: (await stat(extentFile)).size, uuid, contentBytes: plan.stats.dataBytes, files: plan.files };
}

interface BuiltFilesystem {
  readonly extentFile: string;
  readonly extentSize: number;
  readonly uuid: string;
  /** Bytes the image's files take (4 KiB blocks). */
  readonly contentBytes: number;
  /** Its files, as docker diff compares a container's with them. */
  readonly files: readonly FileListingEntry[];
}

/**
 * Stores the disk, then, last, the metadata that marks the image complete.
 *
 * A store whose server converts disks gets the filesystem as a hosted sparse VMDK (only the grains
 * holding data travel) and makes the flat disk from it server-side; the temporary sparse file is
 * deleted on every path, and before the metadata is written, so a complete image never has one
 * beside it. A server that refuses the conversion gets the flat extent, as every store did before.
 * A build killed midway leaves no metadata.json: the next build finds a partial image (or, with
 * only the sparse file there, none) and redoes it.
 */
export async function uploadImage(work: StoreWork, built: BuiltFilesystem, pulledBytes: number): Promise<ImageInfo> {
  const { extentFile, extentSize, uuid } = built;
  const { store, resolved } = work;
  const layout = imageLayout(resolved.digest);
  let sent = 0;
  let meter: ProgressMeter | undefined;
  // A stale metadata.json must not vouch for the files being rewritten under it.
  if (work.partial) await store.deleteFile(layout.metadata);
  await store.makeDirectory(layout.directory);

  const { descriptorBytes } = await storeRawDisk(
    store,
    layout,
    { path: extentFile, sizeBytes: extentSize, digest: resolved.digest },
    {
      partial: work.partial,
      signal: work.controller.signal,
      onStart: (total, detail) => {
        meter = new ProgressMeter('upload', total, resolved.digest, work.options.onProgress);
        meter.start(detail);
      },
      onBytes: (n) => {
        sent += n;
        meter?.add(n);
      },
      onFinish: () => meter?.finish(),
    },
  );

  const metadata: ImageMetadata = {
    schema_version: 1,
    digest: resolved.digest,
    ...(resolved.indexDigest ? { index_digest: resolved.indexDigest } : {}),
    reference: formatImageReference(resolved.reference),
    platform: resolved.platform,
    size_bytes: extentSize,
    descriptor_bytes: descriptorBytes,
    created: new Date().toISOString(),
    ...(work.imageCreated ? { image_created: work.imageCreated } : {}),
    content_bytes: built.contentBytes,
    rootfs_uuid: uuid,
    rootfs_label: ROOTFS_LABEL,
    ...work.config,
    ...work.metadataExtra,
  };
  const write = (path: string, source: UploadSource) => store.writeFile(path, source, { onBytes: (n) => (sent += n), signal: work.controller.signal });
  // Before the metadata: a complete image has its listing (images stored before it was made have none).
  const listing = gzipSync(built.files.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  await write(layout.files, bufferSource(listing));
  for (const extra of work.extraFiles ?? []) {
    await write(
      extra.path,
      Buffer.isBuffer(extra.content) ? bufferSource(extra.content) : fileSource(extra.content.file, (await stat(extra.content.file)).size),
    );
  }
  const metadataBytes = Buffer.from(`${JSON.stringify(metadata, null, 2)}\n`, 'utf8');
  // Last: its presence, with matching sizes, is what marks the image complete.
  await write(layout.metadata, bufferSource(metadataBytes));

  return infoFromMetadata(store, metadata, { reused: false, pulledBytes, uploadedBytes: sent });
}

async function createClient(reference: ImageReference, options: RegistryAccessOptions, signal: AbortSignal | undefined): Promise<RegistryClient> {
  return RegistryClient.create(registryApiHost(reference), {
    credentials: options.auth,
    insecure: options.insecureRegistry === true,
    caFile: options.caFile,
    signal,
  });
}

async function resolveManifest(
  client: RegistryClient,
  reference: ImageReference,
  platform: Platform,
): Promise<{ resolved: ResolvedImage; manifest: ImageManifest }> {
  const where = formatImageReference(reference);
  const top = await client.fetchManifest(reference.repository, manifestReference(reference));
  if (classifyManifest(top.mediaType, top.json, where) === 'manifest') {
    const manifest = parseManifest(top.json, where);
    return { resolved: { reference, digest: top.digest, platform: formatPlatform(platform) }, manifest };
  }
  const index = parseIndex(top.json, where);
  const chosen = selectPlatformManifest(index, platform, `index ${where}`);
  const inner = await client.fetchManifest(reference.repository, chosen.digest);
  const innerWhere = `${where} (${formatPlatform(platform)}: ${chosen.digest})`;
  if (classifyManifest(inner.mediaType, inner.json, innerWhere) !== 'manifest') {
    throw new ImageError('UnsupportedManifest', `${innerWhere} is a nested index; only one level of index is supported`);
  }
  return {
    resolved: { reference, digest: inner.digest, indexDigest: top.digest, platform: formatPlatform(chosen.platform ?? platform) },
    manifest: parseManifest(inner.json, innerWhere),
  };
}

function checkConfigPlatform(config: { os?: string; architecture?: string }, platform: Platform, resolved: ResolvedImage): void {
  if ((config.os && config.os !== platform.os) || (config.architecture && config.architecture !== platform.architecture)) {
    throw new PlatformNotFoundError(
      `${formatImageReference(resolved.reference)} (${resolved.digest}) is built for ${config.os ?? '?'}/${config.architecture ?? '?'}, not ${formatPlatform(platform)}; use an image (or another tag of it) that has a ${formatPlatform(platform)} build`,
    );
  }
}

function infoFromMetadata(store: ImageStore, metadata: ImageMetadata, run: { reused: boolean; pulledBytes: number; uploadedBytes: number }): ImageInfo {
  const layout = imageLayout(metadata.digest);
  return {
    id: metadata.digest,
    digest: metadata.digest,
    ...(metadata.index_digest ? { indexDigest: metadata.index_digest } : {}),
    reference: metadata.reference,
    platform: metadata.platform,
    diskPath: store.locate(layout.descriptor),
    sizeBytes: metadata.size_bytes,
    rootfsUuid: metadata.rootfs_uuid,
    created: metadata.created,
    ...(metadata.image_created ? { imageCreated: metadata.image_created } : {}),
    ...(typeof metadata.content_bytes === 'number' ? { contentBytes: metadata.content_bytes } : {}),
    ...(typeof metadata.author === 'string' ? { author: metadata.author } : {}),
    ...(typeof metadata.comment === 'string' ? { comment: metadata.comment } : {}),
    ...(typeof metadata.config_digest === 'string' ? { configDigest: metadata.config_digest } : {}),
    ...(Array.isArray(metadata.layer_sizes) ? { layerSizes: metadata.layer_sizes } : {}),
    config: {
      entrypoint: metadata.entrypoint ?? [],
      cmd: metadata.cmd ?? [],
      env: metadata.env ?? [],
      working_dir: metadata.working_dir ?? '',
      user: metadata.user ?? '',
      exposed_ports: metadata.exposed_ports ?? [],
      labels: metadata.labels ?? {},
      ...(metadata.volumes ? { volumes: metadata.volumes } : {}),
      ...(metadata.stop_signal ? { stop_signal: metadata.stop_signal } : {}),
      ...(metadata.healthcheck ? { healthcheck: metadata.healthcheck } : {}),
    },
    ...run,
  };
}

/**
 * Removes a staging tree. Read-only directories from the image (or fakeroot's real modes) can make
 * a plain recursive delete fail for a non-root user, so permissions are opened up and it retries.
 */
export async function removeStagingArea(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY') throw err;
  }
  await openUpDirectories(path);
  await rm(path, { recursive: true, force: true });
}

async function openUpDirectories(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await chmod(path, 0o700).catch(() => undefined);
  for (const child of await readdir(path).catch(() => [] as string[])) await openUpDirectories(join(path, child));
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits (a layer after the failing one) must not become an unhandled one.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

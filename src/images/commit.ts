/**
 * An image made from a container's files (docker commit): the container's root filesystem as one
 * tar becomes the image's one layer, and the image is stored as a pulled one is (a staged rootfs,
 * its ext4 filesystem, its disk, its file listing, metadata.json last).
 *
 * The image has the identity a registry would give it. Its config (the container's config with the
 * commit's changes, its author and comment, the layer's diff id) and its manifest (docker's v2
 * schema 2: the config and the gzip-compressed layer) are written as a build would write them, and
 * the manifest's digest is its id. Both, and the layer, are kept beside its disk
 * (`ImageLayout.manifest`, `ImageLayout.blob`): docker push sends them (push.ts), and the pushed
 * image has the same id.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { PrivilegeMode } from './ext4';
import { RootfsStaging } from './flatten';
import { imageLayout, inspectStoredImage, type ImageStore } from './image-store';
import type { ContainerConfig, ImageHealthcheck } from './manifest';
import { makeFilesystem, readStoredImage, removeStagingArea, unpackLimits, uploadImage, type ImageInfo } from './pipeline';
import { ProgressMeter, type ProgressListener } from './progress';
import { parseImageReference } from './reference';

export const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const CONFIG_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json';
const LAYER_MEDIA_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface CommitImageOptions {
  /** The container's root filesystem: an uncompressed tar (what docker export writes). */
  readonly tarPath: string;
  /** The name the image is stored under (`repo:tag`); none: `<unnamedRepository>@<its digest>`. */
  readonly name?: string;
  readonly unnamedRepository: string;
  /** Its config: the container's, with the commit's changes. */
  readonly config: ContainerConfig;
  readonly author?: string;
  readonly comment?: string;
  /** What its history entry says made it (dockerd: the container's command). */
  readonly createdBy?: string;
  readonly created?: Date;
  readonly onProgress?: ProgressListener;
  readonly workDir?: string;
  readonly privilege?: PrivilegeMode;
  readonly signal?: AbortSignal;
}

interface Digested {
  readonly digest: string;
  readonly size: number;
}

/**
 * A file's digest and size; with `to`, those of its gzip-compressed copy written there. `gzip`: what
 * was hashed starts as a gzip stream does (a layer blob's media type says so).
 */
export async function digestFile(path: string, to?: string): Promise<Digested & { readonly gzip: boolean }> {
  const hash = createHash('sha256');
  let size = 0;
  let first: Buffer | undefined;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      first ??= chunk;
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const source = createReadStream(path, { highWaterMark: 1024 * 1024 });
  await (to
    ? pipeline(source, createGzip({ level: 6 }), count, createWriteStream(to))
    : pipeline(source, count, new Writable({ write: (_c, _e, done) => done() })));
  return { digest: `sha256:${hash.digest('hex')}`, size, gzip: first !== undefined && first[0] === 0x1f && first[1] === 0x8b };
}

/** The digest of bytes at hand. */
export function sha256(content: Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** The image config a registry serves for it, as docker's config JSON names the fields. */
export function committedConfigJson(options: CommitImageOptions, diffId: string, created: string): Buffer {
  const c = options.config;
  const set = <T>(value: T, keep: boolean) => (keep ? value : undefined);
  const config = {
    User: c.user,
    ExposedPorts: set(Object.fromEntries(c.exposed_ports.map((p) => [p, {}])), c.exposed_ports.length > 0),
    Env: c.env,
    Entrypoint: c.entrypoint.length > 0 ? c.entrypoint : null,
    Cmd: c.cmd.length > 0 ? c.cmd : null,
    Volumes: set(Object.fromEntries((c.volumes ?? []).map((v) => [v, {}])), (c.volumes ?? []).length > 0),
    WorkingDir: c.working_dir,
    Labels: set(c.labels, Object.keys(c.labels).length > 0),
    StopSignal: c.stop_signal,
    Healthcheck: c.healthcheck as ImageHealthcheck | undefined,
  };
  const history = {
    created,
    ...(options.author ? { author: options.author } : {}),
    ...(options.createdBy ? { created_by: options.createdBy } : {}),
    ...(options.comment ? { comment: options.comment } : {}),
  };
  const doc = {
    architecture: 'amd64',
    os: 'linux',
    created,
    ...(options.author ? { author: options.author } : {}),
    ...(options.comment ? { comment: options.comment } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [history],
  };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** A docker v2 schema 2 manifest over a config and layers (gzip-compressed unless a layer says otherwise). */
export function committedManifestJson(config: Digested, layers: ReadonlyArray<Digested & { readonly mediaType?: string }>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPE,
      config: { mediaType: CONFIG_MEDIA_TYPE, size: config.size, digest: config.digest },
      layers: layers.map((l) => ({ mediaType: l.mediaType ?? LAYER_MEDIA_TYPE, size: l.size, digest: l.digest })),
    }),
    'utf8',
  );
}

/** What is needed, beside the store, to make and store an image: where it runs, how it reports. */
export interface LocalImageWork {
  readonly onProgress?: ProgressListener;
  readonly workDir?: string;
  readonly privilege?: PrivilegeMode;
  readonly signal?: AbortSignal;
}

/**
 * An image whose manifest, config and layers are at hand (a commit made them, or an archive docker
 * load reads held them): its layers applied in order, the filesystem made and stored, and the
 * manifest and its blobs kept beside the disk. Its id is the manifest's digest.
 */
export interface LocalImage {
  readonly manifest: Buffer;
  readonly configJson: Buffer;
  readonly config: ContainerConfig;
  /**
   * The layers as the manifest lists them: each one's tar to apply (plain or gzip-compressed), its
   * blob's digest, and the blob's file when it is not that tar (a plain tar applied, its
   * gzip-compressed blob kept).
   */
  readonly layers: ReadonlyArray<{ readonly file: string; readonly digest: string; readonly blob?: string }>;
  /** The name it is stored under; none: `<unnamedRepository>@<its digest>`. */
  readonly name?: string;
  readonly unnamedRepository: string;
  /** When it was made, as its config says. */
  readonly created?: string;
  readonly author?: string;
  readonly comment?: string;
  /** What the progress says it builds from. */
  readonly what: string;
}

/** Stores a LocalImage (unless the store holds its digest already); the staging area is under `work.workDir`. */
export async function storeLocalImage(image: LocalImage, store: ImageStore, work: LocalImageWork): Promise<ImageInfo> {
  const digest = sha256(image.manifest);
  const reference = parseImageReference(image.name ?? `${image.unnamedRepository}@${digest}`);
  const existing = await inspectStoredImage(store, digest);
  if (existing.state === 'complete') return (await readStoredImage(store, digest)) as ImageInfo;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(work.signal?.reason);
  work.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const staging = await mkdtemp(join(work.workDir ?? tmpdir(), 'vic-local-image-'));
  try {
    const rootfs = new RootfsStaging(join(staging, 'rootfs'), unpackLimits({}));
    await rootfs.create();
    const sizes = await Promise.all(image.layers.map((l) => stat(l.file).then((st) => st.size)));
    const build = new ProgressMeter(
      'build',
      sizes.reduce((a, b) => a + b, 0),
      digest,
      work.onProgress,
    );
    build.start(image.what);
    const layerSizes: number[] = [];
    for (const [index, layer] of image.layers.entries()) {
      const before = rootfs.unpacked;
      await rootfs.applyLayer({ path: layer.file, digest: layer.digest }, (n) => build.add(n, `layer ${index + 1}/${image.layers.length}`));
      layerSizes.push(rootfs.unpacked - before);
    }
    const layout = imageLayout(digest);
    const config = sha256(image.configJson);
    const storeWork = {
      options: { ...(work.privilege ? { privilege: work.privilege } : {}), ...(work.onProgress ? { onProgress: work.onProgress } : {}) },
      store,
      controller,
      resolved: { reference, digest, platform: 'linux/amd64' },
      config: image.config,
      ...(image.created ? { imageCreated: image.created } : {}),
      partial: existing.state === 'partial',
      extraFiles: [
        ...image.layers
          .filter((l, i, all) => all.findIndex((o) => o.digest === l.digest) === i)
          .map((l) => ({ path: layout.blob(l.digest), content: { file: l.blob ?? l.file } })),
        { path: layout.blob(config), content: image.configJson },
        // Last of these: a manifest there means its blobs are.
        { path: layout.manifest, content: image.manifest },
      ],
      metadataExtra: {
        ...(image.author ? { author: image.author } : {}),
        ...(image.comment ? { comment: image.comment } : {}),
        config_digest: config,
        layer_sizes: layerSizes,
      },
    };
    const disk = join(staging, 'disk');
    await mkdir(disk);
    const built = await makeFilesystem(storeWork, rootfs, disk, build);
    return await uploadImage(storeWork, built, 0);
  } catch (err) {
    controller.abort(err);
    throw err;
  } finally {
    work.signal?.removeEventListener('abort', onOuterAbort);
    await removeStagingArea(staging);
  }
}

/** Makes the image of a container's files and stores it; its id is its manifest's digest. */
export async function commitImage(options: CommitImageOptions, store: ImageStore): Promise<ImageInfo> {
  const staging = await mkdtemp(join(options.workDir ?? tmpdir(), 'vic-commit-'));
  try {
    const created = (options.created ?? new Date()).toISOString();
    const layerFile = join(staging, 'layer.tar.gz');
    const [diff, layer] = await Promise.all([digestFile(options.tarPath), digestFile(options.tarPath, layerFile)]);
    const configJson = committedConfigJson(options, diff.digest, created);
    const manifest = committedManifestJson({ digest: sha256(configJson), size: configJson.length }, [layer]);
    return await storeLocalImage(
      {
        manifest,
        configJson,
        config: options.config,
        // The plain tar is applied (no inflating); the gzip-compressed one is kept as the blob.
        layers: [{ file: options.tarPath, digest: layer.digest, blob: layerFile }],
        ...(options.name ? { name: options.name } : {}),
        unnamedRepository: options.unnamedRepository,
        created,
        ...(options.author ? { author: options.author } : {}),
        ...(options.comment ? { comment: options.comment } : {}),
        what: 'the container’s files',
      },
      store,
      { ...options, workDir: staging },
    );
  } finally {
    await removeStagingArea(staging);
  }
}

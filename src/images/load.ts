/**
 * docker load: the images of an archive `docker save` writes (or skopeo's `docker-archive:`), stored
 * as a pull stores them (storeLocalImage), so that a VCH with no registry in reach can be given images.
 *
 *   manifest.json            [{ "Config": "<path>", "RepoTags": ["busybox:latest"], "Layers": ["<path>", …] }, …]
 *   <Config>                 the image config
 *   <Layers>                 each layer, a tar (plain or gzip-compressed)
 *   index.json, blobs/…      an OCI layout beside them (docker 25 and later): the image's own manifest
 *
 * An image whose manifest the archive holds (an OCI layout naming the same config) keeps it, and
 * with it its id (the manifest's digest, as the registry it came from had it); otherwise a manifest is
 * written for it (docker's v2 schema 2 over its config and layers as the archive holds them). Either
 * way the manifest, config and layers are kept beside the disk, so docker push sends them.
 *
 * The archive is untrusted: only its directories, regular files and links that stay inside it are
 * read, within the image limits, and every blob an OCI manifest names is checked against its digest.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, realpath, stat, symlink } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { committedManifestJson, digestFile, sha256, type LocalImage } from './commit';
import { ImageError, LayerFormatError, LayerLimitError, PlatformNotFoundError } from './errors';
import { parseImageConfig, parseManifest } from './manifest';
import { imageLimitsFromEnv } from './pipeline';

/** docker load's input: the archive (a plain tar), and where to unpack it. */
export interface LoadImagesOptions {
  readonly archive: string;
  readonly workDir: string;
}

/** An image of the archive, and the names it carries. */
export interface ArchiveImage {
  readonly image: Omit<LocalImage, 'name' | 'unnamedRepository'>;
  readonly tags: readonly string[];
}

const MAX_JSON_BYTES = 16 * 1024 * 1024;
const GZIP_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const PLAIN_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';

/** The archive's entries into `dir`: directories, regular files, and links whose targets stay inside. */
export async function extractImageArchive(archive: string, dir: string): Promise<void> {
  const limits = imageLimitsFromEnv();
  const maxBytes = limits.maxUnpackedMb * 1024 * 1024;
  let bytes = 0;
  let entries = 0;
  const root = resolve(dir);
  const inside = (path: string) => path === root || path.startsWith(root + sep);
  const links: Array<{ path: string; target: string }> = [];
  const extract = tar.extract();
  const reading = pipeline(createReadStream(archive), extract as unknown as NodeJS.WritableStream).catch((err: Error) => extract.destroy(err));
  try {
    for await (const entry of extract) {
      const name = posix.normalize(entry.header.name).replace(/^(\.\/)+/, '');
      const path = resolve(root, name);
      if (++entries > limits.maxEntries) throw new LayerLimitError(`the archive holds more than ${limits.maxEntries} entries`);
      if (!inside(path) || name.startsWith('..'))
        throw new LayerFormatError(`the archive's entry ${JSON.stringify(entry.header.name)} leaves the archive; it is not one docker save wrote`);
      if (entry.header.type === 'directory') {
        await mkdir(path, { recursive: true });
        entry.resume();
      } else if (entry.header.type === 'file') {
        bytes += entry.header.size ?? 0;
        if (bytes > maxBytes)
          throw new LayerLimitError(
            `the archive is larger than the limit of ${limits.maxUnpackedMb} MB; raise VIC_IMAGE_MAX_UNPACKED_MB of the endpoint if it is genuine`,
          );
        await mkdir(dirname(path), { recursive: true });
        await pipeline(entry, createWriteStream(path));
      } else if (entry.header.type === 'symlink' || entry.header.type === 'link') {
        const target =
          entry.header.type === 'symlink' ? resolve(dirname(path), entry.header.linkname ?? '') : resolve(root, posix.normalize(entry.header.linkname ?? ''));
        if (!inside(target)) throw new LayerFormatError(`the archive's link ${JSON.stringify(entry.header.name)} points out of the archive`);
        links.push({ path, target });
        entry.resume();
      } else entry.resume();
    }
    await reading;
  } catch (err) {
    if (ImageError.isImageError(err)) throw err;
    throw new LayerFormatError(`the archive is not a readable tar: ${(err as Error).message}`, { cause: err });
  }
  for (const { path, target } of links) {
    await mkdir(dirname(path), { recursive: true });
    await symlink(relative(dirname(path), target), path);
  }
}

/** A file of the extracted archive, its links followed, which must be inside it. */
async function archiveFile(dir: string, name: string, what: string): Promise<string> {
  const root = await realpath(dir);
  let path: string;
  try {
    path = await realpath(resolve(root, posix.normalize(name)));
  } catch {
    throw new LayerFormatError(`the archive names ${what} ${JSON.stringify(name)}, which it does not hold`);
  }
  if (!path.startsWith(root + sep) || !(await stat(path)).isFile())
    throw new LayerFormatError(`the archive's ${what} ${JSON.stringify(name)} is not a file inside it`);
  return path;
}

async function readJson(path: string, what: string): Promise<unknown> {
  if ((await stat(path)).size > MAX_JSON_BYTES) throw new LayerFormatError(`the archive's ${what} is larger than ${MAX_JSON_BYTES} bytes`);
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new LayerFormatError(`the archive's ${what} is not JSON: ${(err as Error).message}`);
  }
}

/** The manifests of the archive's OCI layout, if it has one (index.json and blobs/sha256, indexes followed). */
async function ociManifests(dir: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  const visit = async (descriptors: unknown, depth: number): Promise<void> => {
    if (!Array.isArray(descriptors) || depth > 3) return;
    for (const d of descriptors as Array<{ digest?: unknown }>) {
      if (typeof d.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d.digest)) continue;
      const body = await readFile(join(dir, 'blobs', 'sha256', d.digest.slice(7))).catch(() => undefined);
      if (!body || sha256(body) !== d.digest) continue;
      const json = JSON.parse(body.toString('utf8')) as { manifests?: unknown; layers?: unknown };
      if (Array.isArray(json.manifests)) await visit(json.manifests, depth + 1);
      else if (Array.isArray(json.layers)) found.push(body);
    }
  };
  const index = await readFile(join(dir, 'index.json'), 'utf8').catch(() => undefined);
  if (index) await visit((JSON.parse(index) as { manifests?: unknown }).manifests, 0);
  return found;
}

/** The images of an extracted archive, in the order its manifest.json lists them. */
export async function readArchiveImages(dir: string): Promise<ArchiveImage[]> {
  const list = await readJson(
    await archiveFile(dir, 'manifest.json', 'list of images (manifest.json)').catch(() => {
      throw new LayerFormatError('the archive has no manifest.json: vic-iac loads the archives docker save writes (docker save IMAGE > FILE)');
    }),
    'manifest.json',
  );
  if (!Array.isArray(list) || list.length === 0) throw new LayerFormatError("the archive's manifest.json lists no image");
  const oci = await ociManifests(dir);
  const images: ArchiveImage[] = [];
  for (const entry of list as Array<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }>) {
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers))
      throw new LayerFormatError("an entry of the archive's manifest.json has no Config or Layers");
    const configFile = await archiveFile(dir, entry.Config, 'image config');
    const configJson = await readFile(configFile);
    const configDigest = sha256(configJson);
    const parsed = parseImageConfig(await readJson(configFile, `image config ${entry.Config}`), `image config ${entry.Config}`);
    const tags = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    if ((parsed.os && parsed.os !== 'linux') || (parsed.architecture && parsed.architecture !== 'amd64')) {
      throw new PlatformNotFoundError(
        `${tags[0] ?? configDigest} in the archive is built for ${parsed.os ?? '?'}/${parsed.architecture ?? '?'}; a container VM runs linux/amd64: save a linux/amd64 build of it (docker save --platform linux/amd64)`,
      );
    }
    const layerFiles = await Promise.all(entry.Layers.map((l) => archiveFile(dir, String(l), 'layer')));
    const digests = await Promise.all(layerFiles.map((f) => digestFile(f)));
    // The image's own manifest, when the archive holds one over the same config and layers: its id stays the registry's.
    const own = oci.find((body) => {
      const m = parseManifest(JSON.parse(body.toString('utf8')), 'the archive');
      return m.config.digest === configDigest && m.layers.length === digests.length && m.layers.every((l, i) => l.digest === digests[i].digest);
    });
    const manifest =
      own ??
      committedManifestJson(
        { digest: configDigest, size: configJson.length },
        digests.map((d) => ({ ...d, mediaType: d.gzip ? GZIP_LAYER : PLAIN_LAYER })),
      );
    const doc = JSON.parse(configJson.toString('utf8')) as { author?: unknown; comment?: unknown };
    images.push({
      image: {
        manifest,
        configJson,
        config: parsed.container,
        layers: layerFiles.map((file, i) => ({ file, digest: digests[i].digest })),
        ...(parsed.created ? { created: parsed.created } : {}),
        ...(typeof doc.author === 'string' && doc.author ? { author: doc.author } : {}),
        ...(typeof doc.comment === 'string' && doc.comment ? { comment: doc.comment } : {}),
        what: `${tags[0] ?? configDigest.slice(7, 19)} from the archive`,
      },
      tags,
    });
  }
  return images;
}

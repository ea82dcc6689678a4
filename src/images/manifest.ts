/**
 * Manifests, indexes, image configs and platforms, for both the OCI image spec and Docker's
 * distribution v2 schema 2 (the two are the same shapes under different media types).
 */
import { PlatformNotFoundError, UnsupportedManifestError } from './errors';

export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** What we send in Accept for manifests: indexes first so a tag's multi-platform index is visible. */
export const MANIFEST_ACCEPT = [MediaTypes.ociIndex, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.dockerManifest].join(', ');

const INDEX_TYPES: readonly string[] = [MediaTypes.ociIndex, MediaTypes.dockerManifestList];
const MANIFEST_TYPES: readonly string[] = [MediaTypes.ociManifest, MediaTypes.dockerManifest];
const LAYER_TYPES: readonly string[] = [
  MediaTypes.ociLayer,
  MediaTypes.ociLayerGzip,
  MediaTypes.ociLayerNondistributableGzip,
  MediaTypes.dockerLayerGzip,
  MediaTypes.dockerLayer,
  MediaTypes.dockerForeignLayerGzip,
];

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Record<string, string>;
}

export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** The part of the image config a container VM needs, with the Docker names turned snake_case. */
export interface ContainerConfig {
  readonly entrypoint: string[];
  readonly cmd: string[];
  readonly env: string[];
  readonly working_dir: string;
  readonly user: string;
  readonly exposed_ports: string[];
  readonly labels: Record<string, string>;
  /** The paths the image declares as volumes (VOLUME); absent in stores written before this field. */
  readonly volumes?: string[];
  /** The signal that stops the image's process (STOPSIGNAL), when it names one. */
  readonly stop_signal?: string;
  /** The image's HEALTHCHECK (the config's Healthcheck, durations in nanoseconds), when it has one. */
  readonly healthcheck?: ImageHealthcheck;
}

export interface ImageHealthcheck {
  readonly Test: string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/** A config's Healthcheck with a test (NONE included: it turns off a base image's), its numbers only. */
function healthcheckOf(value: unknown): ImageHealthcheck | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const h = value as Record<string, unknown>;
  const test = Array.isArray(h.Test) ? h.Test.filter((x): x is string => typeof x === 'string') : [];
  if (test.length === 0) return undefined;
  const numbers = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'].filter((k) => typeof h[k] === 'number' && (h[k] as number) > 0);
  return { Test: test, ...Object.fromEntries(numbers.map((k) => [k, h[k] as number])) };
}

export interface ImageConfig {
  readonly os?: string;
  readonly architecture?: string;
  readonly variant?: string;
  readonly container: ContainerConfig;
  readonly diffIds: readonly string[];
  /** When the image was built (the config's `created`, RFC 3339), if it says. */
  readonly created?: string;
}

/** Parses `os/arch[/variant]`, e.g. `linux/amd64`, `linux/arm64/v8`. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new PlatformNotFoundError(`platform "${text}" is not os/architecture[/variant], e.g. "linux/amd64" or "linux/arm64/v8"`);
  }
  return { os: parts[0], architecture: parts[1], ...(parts[2] !== undefined ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

// containerd's normalisation: arm64 means arm64/v8 unless another variant is written.
function normalizedVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  return undefined;
}

export function platformMatches(wanted: Platform, offered: Platform | undefined): boolean {
  if (!offered) return false;
  if (wanted.os !== offered.os || wanted.architecture !== offered.architecture) return false;
  const wantedVariant = normalizedVariant(wanted);
  return wantedVariant === undefined || wantedVariant === normalizedVariant(offered);
}

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_TYPES.includes(mediaType);
}

/** What kind of document a manifest body is: its declared media type, else its shape. */
export function classifyManifest(contentType: string | undefined, body: unknown, where: string): 'index' | 'manifest' {
  const doc = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : contentType?.split(';')[0].trim();
  if (declared === MediaTypes.dockerManifestV1 || declared === MediaTypes.dockerManifestV1Signed || doc.schemaVersion === 1) {
    throw new UnsupportedManifestError(
      `${where} is a Docker schema 1 manifest, which is deprecated and not supported; re-push the image with a current client (e.g. "skopeo copy --format v2s2")`,
    );
  }
  if (declared && INDEX_TYPES.includes(declared)) return 'index';
  if (declared && MANIFEST_TYPES.includes(declared)) return 'manifest';
  // OCI allows mediaType to be absent; the shape then decides.
  if (Array.isArray(doc.manifests)) return 'index';
  if (Array.isArray(doc.layers) && typeof doc.config === 'object') return 'manifest';
  throw new UnsupportedManifestError(`${where} has media type "${declared ?? '(none)'}", which is not an image manifest or index`);
}

export function parseIndex(body: unknown, where: string): ImageIndex {
  const doc = body as Partial<ImageIndex>;
  if (!Array.isArray(doc.manifests)) throw new UnsupportedManifestError(`${where} is an index without a "manifests" list`);
  return { schemaVersion: 2, mediaType: doc.mediaType ?? MediaTypes.ociIndex, manifests: doc.manifests.map((d) => checkDescriptor(d, where)) };
}

export function parseManifest(body: unknown, where: string): ImageManifest {
  const doc = body as Partial<ImageManifest>;
  if (!doc.config || !Array.isArray(doc.layers)) throw new UnsupportedManifestError(`${where} is a manifest without "config" and "layers"`);
  const layers = doc.layers.map((d) => checkDescriptor(d, where));
  for (const layer of layers) {
    if (layer.mediaType === MediaTypes.ociLayerZstd || layer.mediaType.endsWith('+zstd')) {
      throw new UnsupportedManifestError(
        `${where} has a zstd-compressed layer ${layer.digest}; only gzip and uncompressed layers are supported (re-push it with gzip, e.g. "skopeo copy --dest-compress-format gzip")`,
      );
    }
    if (!LAYER_TYPES.includes(layer.mediaType)) {
      throw new UnsupportedManifestError(
        `${where} has layer ${layer.digest} of media type "${layer.mediaType}", which is not a filesystem layer; is it an artifact rather than a container image?`,
      );
    }
  }
  return { schemaVersion: 2, mediaType: doc.mediaType ?? MediaTypes.ociManifest, config: checkDescriptor(doc.config, where), layers };
}

function checkDescriptor(d: unknown, where: string): Descriptor {
  const desc = d as Partial<Descriptor>;
  if (typeof desc?.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(desc.digest)) {
    throw new UnsupportedManifestError(`${where} holds a descriptor with digest "${String(desc?.digest)}"; only sha256 digests are supported`);
  }
  if (typeof desc.size !== 'number' || !Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw new UnsupportedManifestError(`${where} holds descriptor ${desc.digest} without a valid size`);
  }
  return {
    mediaType: typeof desc.mediaType === 'string' ? desc.mediaType : '',
    digest: desc.digest,
    size: desc.size,
    platform: desc.platform,
    annotations: desc.annotations,
  };
}

/** Picks the manifest for a platform from an index, skipping attestation entries (unknown/unknown). */
export function selectPlatformManifest(index: ImageIndex, wanted: Platform, where: string): Descriptor {
  const candidates = index.manifests.filter((m) => MANIFEST_TYPES.includes(m.mediaType) || m.mediaType === '');
  const exact = candidates.filter((m) => platformMatches(wanted, m.platform));
  // Prefer an entry without a variant when none was asked for (amd64 rarely has one).
  const pick = exact.find((m) => !m.platform?.variant) ?? exact[0];
  if (pick) return pick;
  const offered = candidates.map((m) => (m.platform ? formatPlatform(m.platform) : '(no platform)')).filter((p) => p !== 'unknown/unknown');
  throw new PlatformNotFoundError(
    `${where} has no manifest for platform ${formatPlatform(wanted)} (it offers: ${offered.join(', ') || 'nothing'}); set "platform" to one of those`,
  );
}

/** Reads the container config out of an image config blob. */
export function parseImageConfig(body: unknown, where: string): ImageConfig {
  const doc = (body ?? {}) as {
    os?: string;
    architecture?: string;
    variant?: string;
    config?: {
      Entrypoint?: string[] | null;
      Cmd?: string[] | null;
      Env?: string[] | null;
      WorkingDir?: string;
      User?: string;
      ExposedPorts?: Record<string, unknown> | null;
      Labels?: Record<string, string> | null;
      Volumes?: Record<string, unknown> | null;
      StopSignal?: string;
      Healthcheck?: unknown;
    } | null;
    rootfs?: { type?: string; diff_ids?: string[] };
    created?: string;
  };
  if (typeof doc !== 'object') throw new UnsupportedManifestError(`${where}: the image config is not a JSON object`);
  const c = doc.config ?? {};
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    os: doc.os,
    architecture: doc.architecture,
    variant: doc.variant,
    container: {
      entrypoint: strings(c.Entrypoint),
      cmd: strings(c.Cmd),
      env: strings(c.Env),
      working_dir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
      user: typeof c.User === 'string' ? c.User : '',
      exposed_ports: Object.keys(c.ExposedPorts ?? {}).sort(),
      labels: Object.fromEntries(Object.entries(c.Labels ?? {}).filter(([, v]) => typeof v === 'string')),
      volumes: Object.keys(c.Volumes ?? {}).sort(),
      ...(typeof c.StopSignal === 'string' && c.StopSignal !== '' ? { stop_signal: c.StopSignal } : {}),
      ...(healthcheckOf(c.Healthcheck) ? { healthcheck: healthcheckOf(c.Healthcheck) } : {}),
    },
    diffIds: strings(doc.rootfs?.diff_ids),
    ...(typeof doc.created === 'string' && !Number.isNaN(Date.parse(doc.created)) ? { created: doc.created } : {}),
  };
}

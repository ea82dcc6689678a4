/**
 * Typed errors of the image pipeline. Each names the object (reference, registry, digest or path)
 * and says what to do, so front ends can show the message as is. Passwords never appear in them.
 */

const IMAGE_ERROR = Symbol.for('vic-iac.images.ImageError');

export type ImageErrorCode =
  | 'InvalidReference'
  | 'RegistryAuth'
  | 'ManifestNotFound'
  | 'PlatformNotFound'
  | 'UnsupportedManifest'
  | 'DigestMismatch'
  | 'Registry'
  | 'UnsafeLayerPath'
  | 'LayerFormat'
  | 'LayerLimit'
  | 'FilesystemBuild'
  | 'ImageStore'
  | 'MissingTool';

export class ImageError extends Error {
  readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, IMAGE_ERROR, { value: true });
  }

  /** Brand check that survives duplicate module copies (unlike instanceof). */
  static isImageError(err: unknown, code?: ImageErrorCode): err is ImageError {
    if (typeof err !== 'object' || err === null || (err as Record<symbol, unknown>)[IMAGE_ERROR] !== true) return false;
    return code === undefined || (err as ImageError).code === code;
  }
}

/** The reference text does not follow registry/repository[:tag][@sha256:hex]. */
export class InvalidReferenceError extends ImageError {
  /** @param reason which part is wrong, without the reference (e.g. `has repository "App", which must be lower-case …`). */
  constructor(
    message: string,
    readonly reason?: string,
  ) {
    super('InvalidReference', message);
  }
}

/** The registry refused our credentials (or needs some and got none). */
export class RegistryAuthError extends ImageError {
  constructor(message: string) {
    super('RegistryAuth', message);
  }
}

/** The tag or digest does not exist in the repository (or the repository does not exist). */
export class ManifestNotFoundError extends ImageError {
  constructor(message: string) {
    super('ManifestNotFound', message);
  }
}

/** A multi-platform index has no manifest for the requested platform. */
export class PlatformNotFoundError extends ImageError {
  constructor(message: string) {
    super('PlatformNotFound', message);
  }
}

/** Docker schema 1, a foreign artifact, a zstd layer...: something we deliberately do not read. */
export class UnsupportedManifestError extends ImageError {
  constructor(message: string) {
    super('UnsupportedManifest', message);
  }
}

/** Content whose sha256 (or size) is not the one its descriptor promised: refused, never used. */
export class DigestMismatchError extends ImageError {
  constructor(message: string) {
    super('DigestMismatch', message);
  }
}

/** Any other registry failure: HTTP status, TLS, network. */
export class RegistryError extends ImageError {
  readonly status?: number;
  /**
   * The registry could not be asked at all (refused, reset, unknown host, timed out) or answered
   * with a server error: an outage, which says nothing of the reference itself.
   */
  readonly unreachable: boolean;
  constructor(message: string, options?: { status?: number; cause?: unknown; unreachable?: boolean }) {
    super('Registry', message, options);
    this.status = options?.status;
    this.unreachable = options?.unreachable ?? false;
  }

  /** `err` is an outage of the registry (`unreachable`), across duplicate module copies. */
  static isOutage(err: unknown): boolean {
    return ImageError.isImageError(err, 'Registry') && (err as RegistryError).unreachable === true;
  }
}

/** A layer entry that would write outside the root filesystem: `..`, absolute, or through a link. */
export class UnsafeLayerPathError extends ImageError {
  constructor(message: string) {
    super('UnsafeLayerPath', message);
  }
}

/** A layer that is not a readable tar (or gzip) stream. */
export class LayerFormatError extends ImageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LayerFormat', message, options);
  }
}

/**
 * A layer that unpacks to more bytes or more entries than the image may hold: refused while it
 * streams, before it fills the disk (a gzip bomb, or millions of tiny files).
 */
export class LayerLimitError extends ImageError {
  constructor(message: string) {
    super('LayerLimit', message);
  }
}

/** mke2fs (or the ownership pass before it) failed. */
export class FilesystemBuildError extends ImageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FilesystemBuild', message, options);
  }
}

/** Reading or writing the image store failed. */
export class ImageStoreError extends ImageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ImageStore', message, options);
  }
}

/** A command-line tool the pipeline runs is not installed. */
export class MissingToolError extends ImageError {
  constructor(tool: string, debianPackage: string) {
    super('MissingTool', `"${tool}" is not installed; install it with "apt-get install -y ${debianPackage}" (or run "npm run setup")`);
  }
}

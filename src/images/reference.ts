/**
 * Image references: `[registry[:port]/]repository[:tag][@sha256:<hex>]`, following the grammar of
 * distribution/reference so that a reference means here what it means to `docker pull`.
 */
import { InvalidReferenceError } from './errors';

export const DOCKER_HUB_REGISTRY = 'docker.io';
/** Docker Hub's API is not served under its reference name (a distribution convention). */
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

export interface ImageReference {
  /** Host and optional port as written, e.g. `127.0.0.1:5000`; `docker.io` when none was written. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  readonly repository: string;
  /** The tag; `latest` when neither tag nor digest was written. Absent for a digest-only reference. */
  readonly tag?: string;
  /** `sha256:<64 hex>` when the reference pins a digest. */
  readonly digest?: string;
}

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const EXAMPLE = 'e.g. "127.0.0.1:5000/library/busybox:1.36" or "registry.example.com/app@sha256:<64 hex digits>"';

/** Parses a reference, or throws InvalidReferenceError saying which part is wrong. */
export function parseImageReference(text: string): ImageReference {
  const fail = (why: string): never => {
    throw new InvalidReferenceError(`image reference "${text}" ${why}; write it as [registry/]repository[:tag][@sha256:digest], ${EXAMPLE}`, why);
  };
  if (text.length === 0) fail('is empty');
  if (text.length > 4096) fail('is longer than 4096 characters');
  if (/\s/.test(text)) fail('contains white space');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`has digest "${digest}", which is not sha256: followed by 64 lower-case hex digits`);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`has tag "${tag}", which is not 1 to 128 of [A-Za-z0-9_.-] starting with a letter, digit or _`);
  }

  let registry = DOCKER_HUB_REGISTRY;
  let repository = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    // distribution/reference: the first component is a registry only when it looks like a host.
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(firstSlash + 1);
      if (!DOMAIN.test(registry)) fail(`has registry "${registry}", which is not a host name or address with an optional port`);
    }
  }
  if (!REPOSITORY.test(repository)) {
    fail(`has repository "${repository}", which must be lower-case path components of [a-z0-9] joined by ".", "_", "__" or "-", separated by "/"`);
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB_REGISTRY;
  // Docker Hub's official images live under library/.
  if (registry === DOCKER_HUB_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (repository.length > 255) fail('has a repository name longer than 255 characters');

  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The canonical text of a reference: registry always written, tag and digest as present. */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The host (and port) that serves the registry API for this reference. */
export function registryApiHost(ref: ImageReference): string {
  return ref.registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : ref.registry;
}

/** What to ask the registry for: the digest when pinned (it never moves), else the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? (ref.tag as string);
}

/** The sha256 hex of a `sha256:<hex>` digest, the form used in datastore paths. */
export function digestHex(digest: string): string {
  if (!DIGEST.test(digest)) throw new InvalidReferenceError(`digest "${digest}" is not sha256: followed by 64 lower-case hex digits`);
  return digest.slice('sha256:'.length);
}

export function isDigest(text: string): boolean {
  return DIGEST.test(text);
}

/** One spelling of a reference (`busybox:1` and `docker.io/library/busybox:1` are one); undefined when it does not parse. */
export function canonicalReference(text: string): string | undefined {
  try {
    return formatImageReference(parseImageReference(text));
  } catch {
    return undefined;
  }
}

/** One spelling per reference (`busybox:1` and `docker.io/library/busybox:1` are one). */
export function sameReference(a: string, b: string): boolean {
  return (canonicalReference(a) ?? a) === (canonicalReference(b) ?? b);
}

/** Whether an IaC state holds a stored image under `reference` (the `managed` names of its references.json). */
export function heldByState(holders: { readonly managed?: readonly string[] }, reference: string): boolean {
  return (holders.managed ?? []).some((m) => sameReference(m, reference));
}

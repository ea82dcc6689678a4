/**
 * The references that hold one stored image. The store keeps one disk per digest, but several
 * references may resolve to it (`busybox:1.36`, `busybox:latest`, `busybox@sha256:…`), each pulled
 * by its own resource or `docker pull`. Removing one of them must only untag the image while
 * another still holds it, as dockerd does; the disk goes with the last one.
 *
 *   <store>/images/<hex>/references.json   { "references": [...] }, written once a second
 *                                           reference holds the image, kept while one is left
 *
 * Without the file the image has one holder, whatever reference its metadata names: the stores
 * that existed before the file, and every image pulled once. The file is never what marks an image
 * complete (metadata.json does): losing it makes the image one holder's again, as before.
 */
import { bufferSource, imageLayout, type ImageStore } from './image-store';
import { canonicalReference } from './reference';

const MAX_REFERENCES_BYTES = 256 * 1024;

function referencesPath(digest: string): string {
  return `${imageLayout(digest).directory}/references.json`;
}

/** One spelling per reference (`busybox:1` and `docker.io/library/busybox:1` are one). */
export function sameReference(a: string, b: string): boolean {
  return (canonicalReference(a) ?? a) === (canonicalReference(b) ?? b);
}

/** The references that hold the image: the file's, or the one its metadata names. */
export async function readImageReferences(store: ImageStore, digest: string, metadataReference: string): Promise<string[]> {
  const raw = await store.readFile(referencesPath(digest), MAX_REFERENCES_BYTES);
  if (!raw) return [metadataReference];
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as { references?: unknown };
    const list = Array.isArray(parsed.references) ? parsed.references.filter((r): r is string => typeof r === 'string' && r !== '') : [];
    // An unreadable list still says that more than one reference held the image: never fewer than two.
    return list.length > 0 ? list : [metadataReference, metadataReference];
  } catch {
    return [metadataReference, metadataReference];
  }
}

/** The last change of each image's list in this process (store and digest): changes run one after another. */
const changing = new Map<string, Promise<unknown>>();

/**
 * Runs `change` (a read of the list, then its write) after the ones this process started before it
 * on the same image: two pulls of one digest under two tags in one endpoint must not both read the
 * list before either writes it, or one reference is lost. Other processes are not covered (README,
 * Limitations).
 */
function oneAtATime<T>(store: ImageStore, digest: string, change: () => Promise<T>): Promise<T> {
  const key = `${store.description}\0${digest}`;
  const result = (changing.get(key) ?? Promise.resolve()).catch(() => undefined).then(change);
  const settled = result.catch(() => undefined);
  changing.set(key, settled);
  void settled.then(() => {
    if (changing.get(key) === settled) changing.delete(key);
  });
  return result;
}

async function writeImageReferences(store: ImageStore, digest: string, references: readonly string[]): Promise<void> {
  const content = Buffer.from(`${JSON.stringify({ references }, null, 2)}\n`, 'utf8');
  await store.writeFile(referencesPath(digest), bufferSource(content));
}

/** Adds `reference` to the holders of the stored image (a second pull of its digest under another name). */
export function addImageReference(store: ImageStore, digest: string, metadataReference: string, reference: string): Promise<string[]> {
  return oneAtATime(store, digest, async () => {
    const held = await readImageReferences(store, digest, metadataReference);
    if (held.some((r) => sameReference(r, reference))) return held;
    const references = [...held, reference];
    await writeImageReferences(store, digest, references);
    return references;
  });
}

/** Renames a holder (a reference edited into another name for the same digest). */
export function renameImageReference(store: ImageStore, digest: string, metadataReference: string, from: string, to: string): Promise<void> {
  return oneAtATime(store, digest, async () => {
    const held = await readImageReferences(store, digest, metadataReference);
    if (held.some((r) => sameReference(r, to))) return;
    const references = held.map((r) => (sameReference(r, from) ? to : r));
    if (references.some((r, i) => r !== held[i])) await writeImageReferences(store, digest, references);
  });
}

/**
 * Takes `reference` off the holders of the image: the references that still hold it once it is
 * gone (empty when the image is free to delete). A reference the list does not name, while others
 * hold the image, removes nothing and frees nothing: a disk left behind is better than one deleted
 * under another holder.
 */
export function removeImageReference(store: ImageStore, digest: string, metadataReference: string, reference: string): Promise<string[]> {
  return oneAtATime(store, digest, async () => {
    const held = await readImageReferences(store, digest, metadataReference);
    if (held.length <= 1) return [];
    const at = held.findIndex((r) => sameReference(r, reference));
    if (at < 0) return held;
    const remaining = held.filter((_, i) => i !== at);
    await writeImageReferences(store, digest, remaining);
    return remaining;
  });
}

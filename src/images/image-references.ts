/**
 * The references that hold one stored image. The store keeps one disk per digest, but several
 * references may resolve to it (`busybox:1.36`, `busybox:latest`, `busybox@sha256:…`), each pulled
 * by its own resource or `docker pull`. Removing one of them must only untag the image while
 * another still holds it, as dockerd does; the disk goes with the last one.
 *
 *   <store>/images/<hex>/references.json   { "references": [...], "managed": [...] }, written once
 *                                           a second reference holds the image, or an IaC state
 *                                           holds one; kept while one is left
 *
 *   <store>/images/<hex>.lock/               held while one process reads and writes the list,
 *                                           or deletes the image (made by one creator only)
 *
 * Without the file the image has one holder, whatever reference its metadata names: the stores
 * that existed before the file, and every image docker pulled once. The file is never what marks an
 * image complete (metadata.json does): losing it makes the image one holder's again, as before.
 *
 * `managed` names the references a Terraform, Pulumi or vic state holds (an image resource pulled,
 * renamed or updated it), as opposed to those only docker pulled or tagged: docker may not remove
 * those (the state would lose its image), as it may not remove an IaC state's containers and
 * volumes. A list without it (a release before it wrote the file) marks none.
 *
 * Every change of the list, and the delete of the image by its last holder, runs under the lock, in
 * this process and across processes (two endpoints, an endpoint and a `terraform apply`): a pull of
 * a second tag never reads the list while another process writes it, nor adds its name to an image
 * that another process is deleting.
 */
import { imageLayout, type ImageStore } from './image-store';
import { heldByState, sameReference } from './reference';

export { heldByState, sameReference };

const MAX_REFERENCES_BYTES = 256 * 1024;
/** How often a change waiting for another process's lock looks again. */
const LOCK_POLL_MS = 200;
/**
 * A lock this old is a dead process's (a change holds it for a few round trips): it is broken. Its
 * age is the store's (the datastore's time of the lock directory against the server's clock), so a
 * waiter never takes a lock another waiter has just broken and taken for one that has waited out
 * its time, and a lock left long ago is broken at once. `VIC_IMAGE_LOCK_STALE_MS` shortens it for
 * the tests.
 */
const LOCK_STALE_MS = 30_000;

function lockStaleMs(): number {
  const set = Number(process.env.VIC_IMAGE_LOCK_STALE_MS);
  return Number.isInteger(set) && set > 0 ? set : LOCK_STALE_MS;
}

function referencesPath(digest: string): string {
  return `${imageLayout(digest).directory}/references.json`;
}

/**
 * How often, and how far apart, a list that does not parse is read again: a release before this one
 * wrote the list in place, and a file being written reads empty or cut short meanwhile.
 */
const TORN_READS = 5;
const TORN_READ_MS = 100;

/** The references that hold an image, and those of them an IaC state holds. */
export interface ImageHolders {
  readonly references: string[];
  readonly managed: string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((r): r is string => typeof r === 'string' && r !== '') : [];
}

/**
 * The references that hold the image: the file's, or the one its metadata names. Readers take no
 * lock: the list is replaced whole (`writeImageReferences`), and one that still does not parse (an
 * older writer's, in place) is read again a few times before it counts as unreadable.
 */
export async function readImageHolders(store: ImageStore, digest: string, metadataReference: string): Promise<ImageHolders> {
  // An unreadable list still says that more than one reference held the image (never fewer than
  // two), and maybe for a state: docker may remove none of them.
  const unreadable = (): ImageHolders => ({ references: [metadataReference, metadataReference], managed: [metadataReference] });
  for (let attempt = 1; ; attempt++) {
    const raw = await store.readFile(referencesPath(digest), MAX_REFERENCES_BYTES);
    if (!raw) return { references: [metadataReference], managed: [] };
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as { references?: unknown; managed?: unknown };
      const references = strings(parsed.references);
      if (references.length === 0) return unreadable();
      return { references, managed: strings(parsed.managed).filter((m) => references.some((r) => sameReference(r, m))) };
    } catch {
      if (attempt >= TORN_READS) return unreadable();
      await new Promise((resolve) => setTimeout(resolve, TORN_READ_MS));
    }
  }
}

/** The references that hold the image (readImageHolders). */
export async function readImageReferences(store: ImageStore, digest: string, metadataReference: string): Promise<string[]> {
  return (await readImageHolders(store, digest, metadataReference)).references;
}

/** The last change of each image's list in this process (store and digest): changes run one after another. */
const changing = new Map<string, Promise<unknown>>();

function lockPath(digest: string): string {
  return `${imageLayout(digest).directory}.lock`;
}

/**
 * Runs `change` (a read of the list, then its write) after the ones this process started before it
 * on the same image, and under the image's lock on the datastore, which other processes take too:
 * two pulls of one digest under two tags must not both read the list before either writes it, or
 * one reference is lost.
 */
function oneAtATime<T>(store: ImageStore, digest: string, change: () => Promise<T>): Promise<T> {
  const key = `${store.description}\0${digest}`;
  const result = (changing.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => underLock(store, digest, change));
  const settled = result.catch(() => undefined);
  changing.set(key, settled);
  void settled.then(() => {
    if (changing.get(key) === settled) changing.delete(key);
  });
  return result;
}

async function underLock<T>(store: ImageStore, digest: string, change: () => Promise<T>): Promise<T> {
  const path = lockPath(digest);
  const stale = lockStaleMs();
  // When the lock seen held may be stale at the earliest, if it is the same lock all along: its age is
  // asked then (and at first sight), not at every look.
  let lookAgeAt = 0;
  // A store that does not date its directories: the lock's age is how long this waiter has seen it.
  let seenSince: number | undefined;
  while (!(await store.createDirectory(path))) {
    if (Date.now() >= lookAgeAt) {
      seenSince ??= Date.now();
      const dated = await store.directoryAge(path);
      // Undefined: let go of meanwhile, taken at the next look.
      if (dated !== undefined) {
        const age = dated ?? Date.now() - seenSince;
        // Held for longer than any change takes: its process died between taking and dropping it.
        if (age >= stale) {
          await store.deleteDirectory(path);
          seenSince = undefined;
          continue;
        }
        lookAgeAt = Date.now() + (stale - age);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    return await change();
  } finally {
    await store.deleteDirectory(path);
  }
}

/**
 * Whole or not at all (`replaceFile`): a list cut short by a writer that died midway would read as
 * unreadable, and the next change would write it again without the names it had lost.
 */
async function writeImageReferences(store: ImageStore, digest: string, holders: ImageHolders): Promise<void> {
  const { references, managed } = holders;
  await store.replaceFile(referencesPath(digest), Buffer.from(`${JSON.stringify({ references, managed }, null, 2)}\n`, 'utf8'));
}

/**
 * Adds `reference` to the holders of the stored image (a second pull of its digest under another
 * name), for an IaC state when `managed` (which marks a reference docker pulled before as the
 * state's too): the references that hold it then, or undefined when the image is no longer complete
 * (its last holder's destroy deleted it meanwhile: the caller pulls it again).
 */
export function addImageReference(
  store: ImageStore,
  digest: string,
  metadataReference: string,
  reference: string,
  managed = false,
): Promise<string[] | undefined> {
  return oneAtATime(store, digest, async () => {
    if ((await store.size(imageLayout(digest).metadata)) === undefined) return undefined;
    const held = await readImageHolders(store, digest, metadataReference);
    const known = held.references.some((r) => sameReference(r, reference));
    if (known && (!managed || heldByState(held, reference))) return held.references;
    const references = known ? held.references : [...held.references, reference];
    await writeImageReferences(store, digest, { references, managed: managed ? [...held.managed, reference] : held.managed });
    return references;
  });
}

/** Renames a holder (a reference edited into another name for the same digest); a state's stays the state's. */
export function renameImageReference(store: ImageStore, digest: string, metadataReference: string, from: string, to: string): Promise<void> {
  return oneAtATime(store, digest, async () => {
    const held = await readImageHolders(store, digest, metadataReference);
    if (held.references.some((r) => sameReference(r, to))) return;
    const rename = (list: string[]) => list.map((r) => (sameReference(r, from) ? to : r));
    const references = rename(held.references);
    if (references.some((r, i) => r !== held.references[i])) await writeImageReferences(store, digest, { references, managed: rename(held.managed) });
  });
}

/**
 * Takes `reference` off the holders of the image: the references that still hold it once it is
 * gone (empty when the image is free to delete: then `whenLast` runs, under the lock, and deletes
 * it, so that no other process adds a holder meanwhile; or it names the one holder, not a state's,
 * that keeps the image instead). A reference the list does not name, while others hold the image,
 * removes nothing and frees nothing: a disk left behind is better than one deleted under another holder.
 */
export function removeImageReference(
  store: ImageStore,
  digest: string,
  metadataReference: string,
  reference: string,
  whenLast: () => Promise<string | void> = async () => undefined,
): Promise<string[]> {
  return oneAtATime(store, digest, async () => {
    const held = await readImageHolders(store, digest, metadataReference);
    if (held.references.length <= 1) {
      const keeper = await whenLast();
      if (keeper === undefined) return [];
      await writeImageReferences(store, digest, { references: [keeper], managed: [] });
      return [keeper];
    }
    const at = held.references.findIndex((r) => sameReference(r, reference));
    if (at < 0) return held.references;
    const remaining = held.references.filter((_, i) => i !== at);
    await writeImageReferences(store, digest, { references: remaining, managed: held.managed.filter((m) => !sameReference(m, reference)) });
    return remaining;
  });
}

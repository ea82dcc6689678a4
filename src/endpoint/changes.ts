/**
 * docker diff: what a container changed in its root filesystem, from two listings of the same form
 * (docs/guest-config.md, "docker diff"): its image's, kept beside the image's disk since its pull,
 * and the container's, which its guest walks. A container's writable disk is a child of its image's
 * disk, so no layer holds its changes alone, as overlayfs's upper directory does for dockerd; the
 * two listings are compared instead. This module is the pure part.
 */
import { gunzipSync } from 'node:zlib';

/** One entry of a listing: path, kind, permission bits, owner, size (files), mtime (s), symlink target. */
export type ListingEntry = [path: string, kind: string, mode: number, uid: number, gid: number, size: number, mtime: number, link: string];

/** A change as dockerd's `GET /containers/{id}/changes` gives it: 0 changed, 1 added, 2 deleted. */
export interface Change {
  readonly Path: string;
  readonly Kind: 0 | 1 | 2;
}

/** Kind `m`: another filesystem is mounted there (/proc, /dev, a volume); it is not part of the container's disk. */
const MOUNT = 'm';

/**
 * What no container did: the files the runtime writes into every container at its boot, which
 * dockerd's diff leaves out too (it bind-mounts them), and the directory mke2fs makes in every
 * ext4 filesystem, the image's too.
 */
const NOT_THE_CONTAINERS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/lost+found']);

/** A listing as stored or sent: gzip-compressed JSON lines, each a ListingEntry. */
export function parseListing(gzipped: Buffer, what: string): ListingEntry[] {
  let text: string;
  try {
    text = gunzipSync(gzipped).toString('utf8');
  } catch (err) {
    throw new Error(`${what} is not gzip-compressed: ${(err as Error).message}`);
  }
  const entries: ListingEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      throw new Error(`${what} has a line that is not JSON: ${line.slice(0, 200)}`);
    }
    if (!isEntry(entry)) throw new Error(`${what} has a line that is not [path, kind, mode, uid, gid, size, mtime, link]: ${line.slice(0, 200)}`);
    entries.push(entry);
  }
  return entries;
}

function isEntry(value: unknown): value is ListingEntry {
  return (
    Array.isArray(value) &&
    value.length === 8 &&
    typeof value[0] === 'string' &&
    value[0].startsWith('/') &&
    typeof value[1] === 'string' &&
    value.slice(2, 7).every((n) => typeof n === 'number') &&
    typeof value[7] === 'string'
  );
}

/** Whether an entry differs from the image's at its path as dockerd's diff sees it (a directory's own time and size left out: its children tell). */
function differs(image: ListingEntry, now: ListingEntry): boolean {
  const [, kind, mode, uid, gid, size, mtime, link] = now;
  if (kind !== image[1] || mode !== image[2] || uid !== image[3] || gid !== image[4]) return true;
  if (kind === 'f') return size !== image[5] || mtime !== image[6];
  if (kind === 'l') return link !== image[7];
  return false;
}

/** The directories above a path, nearest last, the root left out: /a/b/c → /a, /a/b. */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/**
 * The container's changes, sorted by path, as dockerd gives them: A for what it added (each entry
 * of an added directory too), D for what it deleted (a deleted directory alone, not its contents),
 * C for what it changed and for every directory above a change. Mount points and what is under
 * them in the image, the runtime's files and ext4's lost+found are no change.
 */
export function changesBetween(image: readonly ListingEntry[], container: readonly ListingEntry[]): Change[] {
  const mounts = container.filter((e) => e[1] === MOUNT).map((e) => e[0]);
  const hidden = (path: string) => NOT_THE_CONTAINERS.has(path) || mounts.some((m) => path === m || path.startsWith(`${m}/`));
  const before = new Map(image.map((e) => [e[0], e]));
  const now = new Map(container.filter((e) => e[1] !== MOUNT).map((e) => [e[0], e]));
  const kinds = new Map<string, Change['Kind']>();
  for (const [path, entry] of now) {
    if (hidden(path)) continue;
    const was = before.get(path);
    if (!was) kinds.set(path, 1);
    else if (differs(was, entry)) kinds.set(path, 0);
  }
  for (const path of before.keys()) {
    if (now.has(path) || hidden(path)) continue;
    // Within a deleted directory: the directory says it.
    if (ancestors(path).some((dir) => !now.has(dir) && before.has(dir))) continue;
    kinds.set(path, 2);
  }
  for (const path of [...kinds.keys()]) {
    for (const dir of ancestors(path)) if (!kinds.has(dir) && now.has(dir)) kinds.set(dir, 0);
  }
  return [...kinds].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([Path, Kind]) => ({ Path, Kind }));
}

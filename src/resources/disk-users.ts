/**
 * Which VMs use a disk of a VCH's store, wherever they sit in vSphere. The VCH pool's VMs are read
 * with its snapshot, but a container VM an admin moved to another pool (MoveIntoResourcePool, or a
 * drag in the vSphere Client), or any VM a volume's disk was attached to by hand, uses the store's
 * files as much: deleting an image's disk from under a linked clone, or a volume's disk from a VM
 * that has it attached, loses that VM's data. vSphere lists on each datastore the VMs with files on
 * it (`Datastore.vm`); their disks' backing chains say which of the store's files they use.
 *
 * Cost: one read of the datastore's list, then, only when some of its VMs are outside the pool, one
 * read of those VMs' devices. Only destroys ask (of an image, a volume, a VCH with its store).
 */
import { asArray, datastorePath, isNotFound, moRef, parseDatastorePath, type ManagedObjectReference, type VimClient } from '../vsphere';
import { retrieveObject, retrieveObjects } from '../vsphere/property-collector';
import type { VirtualDevice, VirtualDiskFlatVer2BackingInfo } from '../vsphere/virtual-devices';

export interface DiskUser {
  readonly moid: string;
  readonly name: string;
  /** The VM's disks whose backing (or a parent of it) is a file `uses` accepted. */
  readonly disks: readonly VirtualDevice[];
}

/** The files a disk's backing reads: its own, then its parents' (a linked clone's base). */
function backingChain(backing: VirtualDiskFlatVer2BackingInfo | undefined): string[] {
  const files: string[] = [];
  for (let b = backing; b && files.length < 64; b = b.parent) if (typeof b.fileName === 'string') files.push(b.fileName);
  return files;
}

/** The VMs among `rows` (each with `name` and `config.hardware.device`) with a disk whose chain has a file `uses` accepts. */
function diskUsersOf(rows: ReadonlyArray<{ ref: ManagedObjectReference; props: Record<string, unknown> }>, uses: (fileName: string) => boolean): DiskUser[] {
  const users: DiskUser[] = [];
  for (const row of rows) {
    const disks = asArray(row.props['config.hardware.device'] as VirtualDevice[] | VirtualDevice | undefined).filter(
      (d) => d.$type === 'VirtualDisk' && backingChain(d.backing as VirtualDiskFlatVer2BackingInfo | undefined).some(uses),
    );
    if (disks.length > 0) users.push({ moid: row.ref.value, name: String(row.props.name ?? row.ref.value), disks });
  }
  return users;
}

/** The devices of the VMs `moids`, read in one round trip (VMs gone meanwhile are left out). */
export async function diskUsersAmong(client: VimClient, moids: readonly string[], uses: (fileName: string) => boolean): Promise<DiskUser[]> {
  if (moids.length === 0) return [];
  const rows = await retrieveObjects(
    client,
    moids.map((m) => moRef('VirtualMachine', m)),
    ['name', 'config.hardware.device'],
  );
  return diskUsersOf(rows, uses);
}

/**
 * The VMs with files on the datastore `datastoreId`, other than `known` (the pool's, already looked
 * at), that use a file `uses` accepts. A datastore that is gone has no users to find.
 */
export async function diskUsersOutside(
  client: VimClient,
  datastoreId: string,
  known: ReadonlySet<string>,
  uses: (fileName: string) => boolean,
): Promise<DiskUser[]> {
  const { vm } = await retrieveObject<{ vm?: ManagedObjectReference[] | ManagedObjectReference }>(client, moRef('Datastore', datastoreId), ['vm']).catch(
    (err: unknown) => (isNotFound(err) ? { vm: undefined } : Promise.reject(err)),
  );
  const outside = asArray(vm)
    .map((r) => r.value)
    .filter((m) => !known.has(m));
  return diskUsersAmong(client, outside, uses);
}

/** `uses` for one file, whichever way vSphere spaces its datastore path (`[ds] a/b` or `[ds]a/b`). */
export function isFile(dsPath: string): (fileName: string) => boolean {
  const want = normalized(dsPath);
  return (f) => normalized(f) === want;
}

/** `uses` for every file below a directory of a datastore. */
export function isBelow(dsDirectory: string): (fileName: string) => boolean {
  const dir = `${normalized(dsDirectory).replace(/\/+$/, '')}/`;
  return (f) => normalized(f).startsWith(dir);
}

/** One spelling of a datastore path: `[ds] a/b`, whatever spaces or slashes vSphere put around it. */
function normalized(dsPath: string): string {
  try {
    const { datastore, path } = parseDatastorePath(dsPath);
    return datastorePath(datastore, path.replace(/\/{2,}/g, '/'));
  } catch {
    return dsPath;
  }
}

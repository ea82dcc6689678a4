/** FileManager: datastore directories and file deletion, addressed by datastore path `[ds] dir/file`. */
import { runTask, type TaskWaitOptions } from './tasks';
import type { VimClient } from './session';
import { VimFault } from './errors';
import type { ManagedObjectReference } from './xml';

/** `[LocalDS_0] vch/images` from a datastore name and a path inside it. */
export function datastorePath(datastore: string, path = ''): string {
  return path ? `[${datastore}] ${path.replace(/^\/+/, '')}` : `[${datastore}]`;
}

/** Splits `[ds] a/b` into `{ datastore: 'ds', path: 'a/b' }`. */
export function parseDatastorePath(dsPath: string): { datastore: string; path: string } {
  const match = /^\[([^\]]+)\]\s*(.*)$/.exec(dsPath);
  if (!match) throw new TypeError(`"${dsPath}" is not a datastore path; expected "[datastore] dir/file"`);
  return { datastore: match[1], path: match[2] };
}

function fileManager(client: VimClient, method: string): ManagedObjectReference {
  const ref = client.serviceContent.fileManager;
  if (!ref) throw new VimFault({ faultName: 'NotSupported', method }, `${method}: ${client.url.host} has no FileManager`);
  return ref;
}

/** MakeDirectory; FileAlreadyExistsError when it exists. */
export async function makeDirectory(client: VimClient, dsPath: string, datacenter: ManagedObjectReference, createParentDirectories = true): Promise<void> {
  await client.call('MakeDirectory', fileManager(client, 'MakeDirectory'), { name: dsPath, datacenter, createParentDirectories });
}

/** DeleteDatastoreFile_Task: deletes a file, or a directory recursively. NotFoundError when absent. */
export async function deleteDatastoreFile(
  client: VimClient,
  dsPath: string,
  datacenter: ManagedObjectReference,
  options: Omit<TaskWaitOptions, 'method' | 'object'> = {},
): Promise<void> {
  await runTask(client, 'DeleteDatastoreFile_Task', fileManager(client, 'DeleteDatastoreFile_Task'), { name: dsPath, datacenter }, options);
}

/**
 * MoveDatastoreFile_Task: moves (renames) a file or directory. With `force`, a destination that
 * exists is replaced, in one step on the datastore.
 */
export async function moveDatastoreFile(client: VimClient, from: string, to: string, datacenter: ManagedObjectReference, force = false): Promise<void> {
  await runTask(client, 'MoveDatastoreFile_Task', fileManager(client, 'MoveDatastoreFile_Task'), {
    sourceName: from,
    sourceDatacenter: datacenter,
    destinationName: to,
    destinationDatacenter: datacenter,
    force,
  });
}

/** VM folders: CreateFolder and Destroy_Task. */
import { destroyEntity } from './virtual-machine';
import type { TaskWaitOptions } from './tasks';
import type { VimClient } from './session';
import type { ManagedObjectReference } from './xml';

/** CreateFolder under `parent`; DuplicateNameError when a sibling has the name. */
export async function createFolder(client: VimClient, parent: ManagedObjectReference, name: string): Promise<ManagedObjectReference> {
  return client.call<ManagedObjectReference>('CreateFolder', parent, { name }, { returns: 'moref' });
}

/** Destroys the folder AND everything in it (vSphere semantics): check it is empty first. */
export async function destroyFolder(
  client: VimClient,
  folder: ManagedObjectReference,
  options: Omit<TaskWaitOptions, 'method' | 'object'> = {},
): Promise<void> {
  await destroyEntity(client, folder, options);
}

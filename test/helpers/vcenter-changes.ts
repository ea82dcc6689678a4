/** Changes an admin or DRS makes in vCenter, made from outside vic-iac in tests. */
import { waitForTask, type ManagedObjectReference, type VimClient } from '../../src/vsphere';
import { retrieveObject } from '../../src/vsphere/property-collector';

/** What DRS or a vMotion does: RelocateVM_Task to another host of the cluster. */
export async function moveToHost(client: VimClient, vm: ManagedObjectReference, host: ManagedObjectReference): Promise<void> {
  const task = await client.call<ManagedObjectReference>('RelocateVM_Task', vm, { spec: { host } }, { returns: 'moref' });
  await waitForTask(client, task, { method: 'RelocateVM_Task', object: vm });
}

/** The host the VM runs on, and another host of its cluster. */
export async function otherHost(client: VimClient, vm: ManagedObjectReference): Promise<{ from: ManagedObjectReference; to: ManagedObjectReference }> {
  const { 'runtime.host': from } = await retrieveObject<{ 'runtime.host': ManagedObjectReference }>(client, vm, ['runtime.host']);
  const { parent } = await retrieveObject<{ parent: ManagedObjectReference }>(client, from, ['parent']);
  const { host } = await retrieveObject<{ host: ManagedObjectReference[] }>(client, parent, ['host']);
  const to = [host].flat().find((h) => h.value !== from.value);
  if (!to) throw new Error(`cluster ${parent.value} has no second host to move ${vm.value} to`);
  return { from, to };
}

/** What an admin does dragging VMs onto another resource pool: MoveIntoResourcePool (the launcher's, see poolmove.go). */
export async function moveIntoPool(client: VimClient, pool: ManagedObjectReference, vms: ManagedObjectReference[]): Promise<void> {
  await client.call('MoveIntoResourcePool', pool, { list: vms });
}

/** What an admin does dragging VMs onto another VM folder: MoveIntoFolder_Task. */
export async function moveIntoFolder(client: VimClient, folder: ManagedObjectReference, vms: ManagedObjectReference[]): Promise<void> {
  const task = await client.call<ManagedObjectReference>('MoveIntoFolder_Task', folder, { list: vms }, { returns: 'moref' });
  await waitForTask(client, task, { method: 'MoveIntoFolder_Task', object: folder });
}

/** The pool or folder an inventory object sits in (a VCH pool's: the cluster's root pool, or the one named by compute). */
export async function parentOf(client: VimClient, entity: ManagedObjectReference): Promise<ManagedObjectReference> {
  return (await retrieveObject<{ parent: ManagedObjectReference }>(client, entity, ['parent'])).parent;
}

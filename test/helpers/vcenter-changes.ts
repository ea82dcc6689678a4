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

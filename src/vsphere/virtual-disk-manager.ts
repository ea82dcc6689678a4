/** VirtualDiskManager: create, copy and delete VMDKs by datastore path. */
import { runTask, type TaskWaitOptions } from './tasks';
import type { VimClient } from './session';
import { VimFault } from './errors';
import type { ManagedObjectReference } from './xml';

type TaskOptions = Omit<TaskWaitOptions, 'method' | 'object'>;

export interface VirtualDiskSpec {
  readonly diskType?: 'thin' | 'preallocated' | 'eagerZeroedThick';
  readonly adapterType?: 'lsiLogic' | 'busLogic' | 'ide';
  readonly capacityKB: number;
}

function diskManager(client: VimClient, method: string): ManagedObjectReference {
  const ref = client.serviceContent.virtualDiskManager;
  if (!ref) throw new VimFault({ faultName: 'NotSupported', method }, `${method}: ${client.url.host} has no VirtualDiskManager`);
  return ref;
}

export async function createVirtualDisk(
  client: VimClient,
  dsPath: string,
  datacenter: ManagedObjectReference,
  spec: VirtualDiskSpec,
  options: TaskOptions = {},
): Promise<void> {
  await runTask(
    client,
    'CreateVirtualDisk_Task',
    diskManager(client, 'CreateVirtualDisk_Task'),
    {
      name: dsPath,
      datacenter,
      spec: fileBackedSpec(spec),
    },
    options,
  );
}

function fileBackedSpec(spec: VirtualDiskSpec): Record<string, unknown> {
  return { $type: 'FileBackedVirtualDiskSpec', diskType: spec.diskType ?? 'thin', adapterType: spec.adapterType ?? 'lsiLogic', capacityKb: spec.capacityKB };
}

/**
 * CopyVirtualDisk_Task; with `force` an existing destination is overwritten (the simulator honours
 * it; the API reference says ESX ignores it and fails with FileAlreadyExists instead).
 *
 * With `destSpec` the copy converts: the API reference describes the method as copying "performing
 * conversions as specified in the spec", and without a destSpec the destination is assumed
 * preallocated with a busLogic adapter. This is the documented way to bring a hosted-format disk
 * (e.g. monolithicSparse) onto ESX storage in a managed format (thin, preallocated...).
 */
export async function copyVirtualDisk(
  client: VimClient,
  source: string,
  destination: string,
  datacenter: ManagedObjectReference,
  force = false,
  options: TaskOptions & { readonly destSpec?: VirtualDiskSpec } = {},
): Promise<void> {
  const { destSpec, ...taskOptions } = options;
  await runTask(
    client,
    'CopyVirtualDisk_Task',
    diskManager(client, 'CopyVirtualDisk_Task'),
    {
      sourceName: source,
      sourceDatacenter: datacenter,
      destName: destination,
      destDatacenter: datacenter,
      ...(destSpec ? { destSpec: fileBackedSpec(destSpec) } : {}),
      force,
    },
    taskOptions,
  );
}

export async function deleteVirtualDisk(client: VimClient, dsPath: string, datacenter: ManagedObjectReference, options: TaskOptions = {}): Promise<void> {
  await runTask(client, 'DeleteVirtualDisk_Task', diskManager(client, 'DeleteVirtualDisk_Task'), { name: dsPath, datacenter }, options);
}

/** ExtendVirtualDisk_Task: grows a disk to `capacityKB` (vSphere never shrinks one). */
export async function extendVirtualDisk(
  client: VimClient,
  dsPath: string,
  datacenter: ManagedObjectReference,
  capacityKB: number,
  options: TaskOptions = {},
): Promise<void> {
  await runTask(
    client,
    'ExtendVirtualDisk_Task',
    diskManager(client, 'ExtendVirtualDisk_Task'),
    { name: dsPath, datacenter, newCapacityKb: capacityKB, eagerZero: false },
    options,
  );
}

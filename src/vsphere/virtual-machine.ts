/**
 * Virtual machine operations: create (CreateVM_Task), reconfigure, power, guest shutdown, destroy,
 * plus the typed reading of extraConfig. Specs are typed inputs mapped to vim25 XML in WSDL order.
 */
import { runTask, waitForTask, type TaskWaitOptions } from './tasks';
import type { VimClient } from './session';
import type { VirtualDeviceConfigSpec } from './virtual-devices';
import { asArray, xsdString, type ManagedObjectReference } from './xml';

/** The subset of vim25 VirtualMachineConfigSpec this project uses. */
export interface VmConfigSpec {
  readonly name?: string;
  /** Hardware version, e.g. `vmx-13`. */
  readonly version?: string;
  /** BIOS UUID. vic-iac derives it from (VCH, name) so a crashed create is found again. */
  readonly uuid?: string;
  readonly guestId?: string;
  readonly annotation?: string;
  /** `vmPathName` `[ds]` lets the server choose the VM directory. */
  readonly files?: { readonly vmPathName: string; readonly logDirectory?: string };
  readonly numCPUs?: number;
  readonly numCoresPerSocket?: number;
  readonly memoryMB?: number;
  readonly deviceChange?: readonly VirtualDeviceConfigSpec[];
  /**
   * extraConfig keys to set. An empty string removes a key on vCenter (vcsim only appends, so
   * read back with `extraConfigOf`, which keeps the last occurrence).
   */
  readonly extraConfig?: Readonly<Record<string, string>>;
}

/** A decoded vim25 OptionValue (an extraConfig entry); `value` is a string for string options. */
export interface OptionValue {
  readonly $type?: string;
  readonly key: string;
  readonly value?: unknown;
}

type TaskOptions = Omit<TaskWaitOptions, 'method' | 'object'>;

/** Encodes the spec in WSDL element order, with xsi:type on every OptionValue and its value. */
export function encodeVmConfigSpec(spec: VmConfigSpec): Record<string, unknown> {
  return {
    name: spec.name,
    version: spec.version,
    uuid: spec.uuid,
    guestId: spec.guestId,
    annotation: spec.annotation,
    files: spec.files && { vmPathName: spec.files.vmPathName, logDirectory: spec.files.logDirectory },
    numCPUs: spec.numCPUs,
    numCoresPerSocket: spec.numCoresPerSocket,
    memoryMB: spec.memoryMB,
    deviceChange: spec.deviceChange?.map((change) => ({
      operation: change.operation,
      fileOperation: change.fileOperation,
      device: change.device,
    })),
    extraConfig: spec.extraConfig && Object.entries(spec.extraConfig).map(([key, value]) => ({ $type: 'OptionValue', key, value: xsdString(value) })),
  };
}

export interface CreateVmArgs {
  /** The VM folder to create the VM in. */
  readonly folder: ManagedObjectReference;
  /** The resource pool (e.g. the VCH's pool). */
  readonly pool: ManagedObjectReference;
  /** A host, only for standalone hosts or to pin placement. */
  readonly host?: ManagedObjectReference;
  readonly config: VmConfigSpec;
}

/**
 * CreateVM_Task: returns the new VM's reference. Never retried on a transient failure: the reply may
 * have been lost after the VM was made, and a second call would make a second VM. The caller looks
 * for the VM (by its BIOS UUID) before it tries again.
 */
export async function createVm(client: VimClient, args: CreateVmArgs, options: TaskOptions = {}): Promise<ManagedObjectReference> {
  const task = await client.call<ManagedObjectReference>(
    'CreateVM_Task',
    args.folder,
    { config: encodeVmConfigSpec(args.config), pool: args.pool, host: args.host },
    { returns: 'moref', retry: false },
  );
  return waitForTask<ManagedObjectReference>(client, task, { ...options, method: 'CreateVM_Task', object: args.folder, repliedAt: Date.now() });
}

/** ReconfigVM_Task with a partial spec (only the given fields change). */
export async function reconfigureVm(client: VimClient, vm: ManagedObjectReference, spec: VmConfigSpec, options: TaskOptions = {}): Promise<void> {
  await runTask(client, 'ReconfigVM_Task', vm, { spec: encodeVmConfigSpec(spec) }, options);
}

export async function powerOnVm(client: VimClient, vm: ManagedObjectReference, options: TaskOptions = {}): Promise<void> {
  await runTask(client, 'PowerOnVM_Task', vm, {}, options);
}

export async function powerOffVm(client: VimClient, vm: ManagedObjectReference, options: TaskOptions = {}): Promise<void> {
  await runTask(client, 'PowerOffVM_Task', vm, {}, options);
}

/** Asks the guest to shut down (needs tools in the guest); returns once the request is accepted, not when the VM is off. */
export async function shutdownGuest(client: VimClient, vm: ManagedObjectReference): Promise<void> {
  await client.call('ShutdownGuest', vm);
}

/** Rename_Task on any managed entity: its inventory name only (a VM's files keep theirs). */
export async function renameEntity(client: VimClient, entity: ManagedObjectReference, newName: string, options: TaskOptions = {}): Promise<void> {
  await runTask(client, 'Rename_Task', entity, { newName }, options);
}

/** Destroy_Task on any managed entity (VM, folder, resource pool). */
export async function destroyEntity(client: VimClient, entity: ManagedObjectReference, options: TaskOptions = {}): Promise<void> {
  await runTask(client, 'Destroy_Task', entity, {}, options);
}

/** Destroys a VM (it must be powered off) and its files. */
export async function destroyVm(client: VimClient, vm: ManagedObjectReference, options: TaskOptions = {}): Promise<void> {
  await destroyEntity(client, vm, options);
}

/**
 * extraConfig as a map. vcsim appends a reconfigured key instead of replacing it, so the last
 * occurrence of a key wins; values that are not strings are stringified.
 */
export function extraConfigOf(extraConfig: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of asArray(extraConfig as Array<{ key: string; value?: unknown }>)) {
    if (option && typeof option.key === 'string') out[option.key] = option.value === undefined || option.value === null ? '' : String(option.value);
  }
  return out;
}

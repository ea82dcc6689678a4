/**
 * A small hand-written slice of the vim25 schema: for the data types this client reads, which
 * fields are arrays, which are numbers or booleans, and which nested (non-polymorphic) type a field
 * holds. Without it, a VM with one device or one extraConfig entry would decode the device as an
 * object instead of an array of one (the wire format cannot tell them apart), and `key` would be
 * the string "200".
 *
 * Values: a scalar kind (`int`, `long`, `double`, `boolean`, `string`, `moref`, `any`) or a vim25
 * type name; `[]` marks an array. Subtypes name their `base` so fields are inherited. Types that are
 * missing here still decode: arrays by repetition, scalars as strings.
 */

export type ScalarKind = 'string' | 'int' | 'long' | 'double' | 'boolean' | 'moref' | 'any';

const SCALAR_KINDS: ReadonlySet<string> = new Set(['string', 'int', 'long', 'double', 'boolean', 'moref', 'any']);

export function isScalarKind(hint: string): hint is ScalarKind {
  return SCALAR_KINDS.has(hint);
}

interface TypeShape {
  readonly base?: string;
  readonly fields: Readonly<Record<string, string>>;
}

const SHAPES = new Map<string, TypeShape>();

function shape(name: string, base: string | undefined, fields: Record<string, string>): void {
  SHAPES.set(name, { base, fields });
}

// --- PropertyCollector and sessions
shape('RetrieveResult', undefined, { token: 'string', objects: 'ObjectContent[]' });
shape('ObjectContent', undefined, { obj: 'moref', propSet: 'DynamicProperty[]', missingSet: 'MissingProperty[]' });
shape('DynamicProperty', undefined, { name: 'string', val: 'any' });
shape('MissingProperty', undefined, { path: 'string', fault: 'LocalizedMethodFault' });
shape('LocalizedMethodFault', undefined, { fault: 'any', localizedMessage: 'string' });
shape('UpdateSet', undefined, { version: 'string', filterSet: 'PropertyFilterUpdate[]', truncated: 'boolean' });
shape('PropertyFilterUpdate', undefined, { filter: 'moref', objectSet: 'ObjectUpdate[]', missingSet: 'MissingObject[]' });
shape('ObjectUpdate', undefined, { kind: 'string', obj: 'moref', changeSet: 'PropertyChange[]', missingSet: 'MissingProperty[]' });
shape('PropertyChange', undefined, { name: 'string', op: 'string', val: 'any' });
shape('MissingObject', undefined, { obj: 'moref', fault: 'LocalizedMethodFault' });
shape('UserSession', undefined, { callCount: 'long', extensionSession: 'boolean' });
shape('ServiceContent', undefined, { about: 'AboutInfo' });
shape('AboutInfo', undefined, {});

// --- Tasks
shape('TaskInfo', undefined, {
  task: 'moref',
  entity: 'moref',
  locked: 'moref[]',
  cancelled: 'boolean',
  cancelable: 'boolean',
  error: 'LocalizedMethodFault',
  result: 'any',
  progress: 'int',
  eventChainId: 'int',
});

// --- Custom fields
shape('CustomFieldDef', undefined, { key: 'int' });
shape('CustomFieldValue', undefined, { key: 'int' });
shape('CustomFieldStringValue', 'CustomFieldValue', { value: 'string' });

// --- Virtual machines
shape('VirtualMachineConfigInfo', undefined, {
  template: 'boolean',
  files: 'VirtualMachineFileInfo',
  hardware: 'VirtualHardware',
  extraConfig: 'OptionValue[]',
  datastoreUrl: 'VirtualMachineConfigInfoDatastoreUrlPair[]',
  cpuAllocation: 'ResourceAllocationInfo',
  memoryAllocation: 'ResourceAllocationInfo',
  changeTrackingEnabled: 'boolean',
  memoryHotAddEnabled: 'boolean',
  cpuHotAddEnabled: 'boolean',
});
shape('VirtualMachineFileInfo', undefined, {});
shape('VirtualHardware', undefined, {
  numCPU: 'int',
  numCoresPerSocket: 'int',
  memoryMB: 'int',
  virtualICH7MPresent: 'boolean',
  virtualSMCPresent: 'boolean',
  device: 'VirtualDevice[]',
});
shape('OptionValue', undefined, { key: 'string', value: 'any' });
shape('VirtualMachineRuntimeInfo', undefined, {
  host: 'moref',
  maxCpuUsage: 'int',
  maxMemoryUsage: 'int',
  numMksConnections: 'int',
  suspendInterval: 'long',
  consolidationNeeded: 'boolean',
});
shape('VirtualMachineSummary', undefined, {
  vm: 'moref',
  runtime: 'VirtualMachineRuntimeInfo',
  config: 'VirtualMachineConfigSummary',
  guest: 'VirtualMachineGuestSummary',
  storage: 'VirtualMachineStorageSummary',
  customValue: 'CustomFieldValue[]',
});
shape('VirtualMachineConfigSummary', undefined, {
  template: 'boolean',
  memorySizeMB: 'int',
  cpuReservation: 'int',
  memoryReservation: 'int',
  numCpu: 'int',
  numEthernetCards: 'int',
  numVirtualDisks: 'int',
});
shape('VirtualMachineGuestSummary', undefined, {});
shape('VirtualMachineStorageSummary', undefined, { committed: 'long', uncommitted: 'long', unshared: 'long' });
shape('GuestInfo', undefined, { net: 'GuestNicInfo[]', disk: 'GuestDiskInfo[]', interactiveGuestOperationsReady: 'boolean', guestOperationsReady: 'boolean' });
shape('GuestNicInfo', undefined, { network: 'string', ipAddress: 'string[]', connected: 'boolean', deviceConfigId: 'int' });
shape('GuestDiskInfo', undefined, { capacity: 'long', freeSpace: 'long' });
shape('VirtualMachineFileLayout', undefined, { configFile: 'string[]', logFile: 'string[]', disk: 'VirtualMachineFileLayoutDiskLayout[]' });
shape('VirtualMachineFileLayoutDiskLayout', undefined, { key: 'int', diskFile: 'string[]' });
shape('VirtualMachineFileLayoutEx', undefined, { file: 'VirtualMachineFileLayoutExFileInfo[]', disk: 'VirtualMachineFileLayoutExDiskLayout[]' });
shape('VirtualMachineFileLayoutExFileInfo', undefined, { key: 'int', size: 'long', uniqueSize: 'long', accessible: 'boolean' });
shape('VirtualMachineFileLayoutExDiskLayout', undefined, { key: 'int', chain: 'VirtualMachineFileLayoutExDiskUnit[]' });
shape('VirtualMachineFileLayoutExDiskUnit', undefined, { fileKey: 'int[]' });

// --- Virtual devices
shape('VirtualDevice', undefined, {
  key: 'int',
  deviceInfo: 'Description',
  backing: 'VirtualDeviceBackingInfo',
  connectable: 'VirtualDeviceConnectInfo',
  controllerKey: 'int',
  unitNumber: 'int',
});
shape('Description', undefined, {});
shape('VirtualDeviceConnectInfo', undefined, { startConnected: 'boolean', allowGuestControl: 'boolean', connected: 'boolean' });
shape('VirtualController', 'VirtualDevice', { busNumber: 'int', device: 'int[]' });
for (const name of [
  'VirtualIDEController',
  'VirtualPCIController',
  'VirtualPS2Controller',
  'VirtualSIOController',
  'VirtualSATAController',
  'VirtualAHCIController',
  'VirtualNVMEController',
  'VirtualUSBController',
  'VirtualUSBXHCIController',
]) {
  shape(name, 'VirtualController', {});
}
shape('VirtualSCSIController', 'VirtualController', { hotAddRemove: 'boolean', scsiCtlrUnitNumber: 'int' });
for (const name of ['ParaVirtualSCSIController', 'VirtualLsiLogicController', 'VirtualLsiLogicSASController', 'VirtualBusLogicController']) {
  shape(name, 'VirtualSCSIController', {});
}
shape('VirtualDisk', 'VirtualDevice', { capacityInKB: 'long', capacityInBytes: 'long', nativeUnmanagedLinkedClone: 'boolean' });
shape('VirtualEthernetCard', 'VirtualDevice', { wakeOnLanEnabled: 'boolean', uptCompatibilityEnabled: 'boolean' });
for (const name of ['VirtualE1000', 'VirtualE1000e', 'VirtualVmxnet', 'VirtualVmxnet2', 'VirtualVmxnet3', 'VirtualPCNet32', 'VirtualSriovEthernetCard']) {
  shape(name, 'VirtualEthernetCard', {});
}
shape('VirtualCdrom', 'VirtualDevice', {});
shape('VirtualSerialPort', 'VirtualDevice', { yieldOnPoll: 'boolean' });
shape('VirtualMachineVideoCard', 'VirtualDevice', {
  videoRamSizeInKB: 'long',
  numDisplays: 'int',
  useAutoDetect: 'boolean',
  enable3DSupport: 'boolean',
  graphicsMemorySizeInKB: 'long',
});

shape('VirtualDeviceBackingInfo', undefined, {});
shape('VirtualDeviceFileBackingInfo', 'VirtualDeviceBackingInfo', { datastore: 'moref' });
shape('VirtualDeviceDeviceBackingInfo', 'VirtualDeviceBackingInfo', { useAutoDetect: 'boolean' });
shape('VirtualDiskFlatVer2BackingInfo', 'VirtualDeviceFileBackingInfo', {
  split: 'boolean',
  writeThrough: 'boolean',
  thinProvisioned: 'boolean',
  eagerlyScrub: 'boolean',
  digestEnabled: 'boolean',
  deltaGrainSize: 'int',
  parent: 'VirtualDiskFlatVer2BackingInfo',
});
shape('VirtualDiskSparseVer2BackingInfo', 'VirtualDeviceFileBackingInfo', {
  split: 'boolean',
  writeThrough: 'boolean',
  spaceUsedInKB: 'long',
  parent: 'VirtualDiskSparseVer2BackingInfo',
});
shape('VirtualCdromIsoBackingInfo', 'VirtualDeviceFileBackingInfo', {});
shape('VirtualSerialPortFileBackingInfo', 'VirtualDeviceFileBackingInfo', {});
shape('VirtualSerialPortURIBackingInfo', 'VirtualDeviceBackingInfo', {});
shape('VirtualEthernetCardNetworkBackingInfo', 'VirtualDeviceDeviceBackingInfo', { network: 'moref', inPassthroughMode: 'boolean' });
shape('VirtualEthernetCardDistributedVirtualPortBackingInfo', 'VirtualDeviceBackingInfo', { port: 'DistributedVirtualSwitchPortConnection' });
shape('DistributedVirtualSwitchPortConnection', undefined, { connectionCookie: 'int' });

// --- Resource pools, datastores, networks
shape('ResourceConfigSpec', undefined, { entity: 'moref', cpuAllocation: 'ResourceAllocationInfo', memoryAllocation: 'ResourceAllocationInfo' });
shape('ResourceAllocationInfo', undefined, {
  reservation: 'long',
  expandableReservation: 'boolean',
  limit: 'long',
  shares: 'SharesInfo',
  overheadLimit: 'long',
});
shape('SharesInfo', undefined, { shares: 'int' });
shape('DatastoreSummary', undefined, {
  datastore: 'moref',
  capacity: 'long',
  freeSpace: 'long',
  uncommitted: 'long',
  accessible: 'boolean',
  multipleHostAccess: 'boolean',
});
shape('DVPortgroupConfigInfo', undefined, { distributedVirtualSwitch: 'moref', numPorts: 'int', autoExpand: 'boolean' });

/**
 * The declared type of `field` in the first of `typeNames` (or their bases) that knows it.
 * `typeNames` lists the element's xsi:type first, then the type its parent declared: an unknown
 * subtype (say a new device class) still decodes with its base's fields.
 */
export function fieldShape(typeNames: ReadonlyArray<string | undefined>, field: string): string | undefined {
  for (const typeName of typeNames) {
    let current = typeName ? SHAPES.get(typeName) : undefined;
    while (current) {
      const hint = current.fields[field];
      if (hint !== undefined) return hint;
      current = current.base ? SHAPES.get(current.base) : undefined;
    }
  }
  return undefined;
}

/** True when the type is in the table (tests use this to keep the table and the typings aligned). */
export function hasShape(typeName: string): boolean {
  return SHAPES.has(typeName);
}

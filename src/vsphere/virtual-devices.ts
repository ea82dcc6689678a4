/**
 * Builders for the virtual devices a container VM needs, as vim25 values ready for a
 * VirtualDeviceConfigSpec. Each element is built in WSDL order (vCenter validates order) and
 * every polymorphic element carries its `$type` (vcsim turns an untyped device into a bare
 * VirtualDevice). Negative keys are placeholders the server renumbers; a device that refers to a
 * new controller uses the controller's negative key.
 */
import type { NetworkTarget } from './inventory';
import type { ManagedObjectReference } from './xml';

export interface VirtualDeviceConnectInfo {
  readonly startConnected?: boolean;
  readonly allowGuestControl?: boolean;
  readonly connected?: boolean;
  readonly status?: string;
}

/** A vim25 VirtualDevice (request or decoded response). Subtype fields are kept as they come. */
export interface VirtualDevice {
  readonly $type: string;
  readonly key: number;
  readonly deviceInfo?: { readonly label?: string; readonly summary?: string };
  readonly backing?: { readonly $type?: string; readonly fileName?: string; readonly [field: string]: unknown };
  readonly connectable?: VirtualDeviceConnectInfo;
  readonly controllerKey?: number;
  readonly unitNumber?: number;
  readonly [field: string]: unknown;
}

export interface VirtualDisk extends VirtualDevice {
  readonly capacityInKB?: number;
  readonly backing?: VirtualDiskFlatVer2BackingInfo;
}

export interface VirtualDiskFlatVer2BackingInfo {
  readonly $type?: string;
  readonly fileName: string;
  readonly datastore?: ManagedObjectReference;
  readonly diskMode?: string;
  readonly thinProvisioned?: boolean;
  readonly uuid?: string;
  readonly parent?: VirtualDiskFlatVer2BackingInfo;
  readonly deltaDiskFormat?: string;
  readonly [field: string]: unknown;
}

export type DeviceOperation = 'add' | 'remove' | 'edit';

/** vim25 VirtualDeviceConfigSpec. */
export interface VirtualDeviceConfigSpec {
  readonly operation: DeviceOperation;
  readonly fileOperation?: 'create' | 'destroy' | 'replace';
  readonly device: VirtualDevice;
}

export type NicModel = 'vmxnet3' | 'e1000' | 'e1000e';

const NIC_TYPES: Record<NicModel, string> = { vmxnet3: 'VirtualVmxnet3', e1000: 'VirtualE1000', e1000e: 'VirtualE1000e' };

/** The built-in IDE 0 and SIO controllers every vcsim/ESXi VM gets. */
export const IDE0_CONTROLLER_KEY = 200;
export const SIO_CONTROLLER_KEY = 400;

/** A paravirtual SCSI controller (the container disks' controller). */
export function pvscsiController(key: number, busNumber = 0): VirtualDevice {
  return { $type: 'ParaVirtualSCSIController', key, busNumber, sharedBus: 'noSharing' };
}

/** An LSI Logic SCSI controller, for guests without PVSCSI drivers. */
export function lsiLogicController(key: number, busNumber = 0): VirtualDevice {
  return { $type: 'VirtualLsiLogicController', key, busNumber, sharedBus: 'noSharing' };
}

export interface DiskOptions {
  readonly key: number;
  readonly controllerKey: number;
  readonly unitNumber: number;
  /** `[ds] dir/name.vmdk`, or `[ds]` to let the server name it after the VM. */
  readonly fileName: string;
  readonly capacityKB: number;
  readonly thin?: boolean;
  readonly diskMode?: 'persistent' | 'independent_persistent' | 'nonpersistent' | 'independent_nonpersistent';
  /**
   * A parent disk (`[ds] images/x/x.vmdk`): the new disk is a child delta disk (redo log) over it,
   * so the container writes to its own layer and the image stays read-only and shared.
   */
  readonly parentFileName?: string;
}

/** A flat VMDK disk, or with `parentFileName` a child delta disk over an existing parent. */
export function virtualDisk(options: DiskOptions): VirtualDisk {
  const diskMode = options.diskMode ?? 'persistent';
  const backing: VirtualDiskFlatVer2BackingInfo = {
    $type: 'VirtualDiskFlatVer2BackingInfo',
    fileName: options.fileName,
    diskMode,
    thinProvisioned: options.thin ?? true,
    parent: options.parentFileName ? { $type: 'VirtualDiskFlatVer2BackingInfo', fileName: options.parentFileName, diskMode } : undefined,
    deltaDiskFormat: options.parentFileName ? 'redoLogFormat' : undefined,
  };
  return {
    $type: 'VirtualDisk',
    key: options.key,
    backing,
    controllerKey: options.controllerKey,
    unitNumber: options.unitNumber,
    capacityInKB: options.capacityKB,
  };
}

function connectInfo(connected: boolean): VirtualDeviceConnectInfo {
  return { startConnected: connected, allowGuestControl: true, connected };
}

export interface CdromOptions {
  readonly key: number;
  /** `[ds] path/to/bootstrap.iso` */
  readonly isoFileName: string;
  readonly controllerKey?: number;
  readonly unitNumber?: number;
  readonly connected?: boolean;
}

/** A CD-ROM backed by an ISO file on a datastore (the bootstrap ISO). */
export function isoCdrom(options: CdromOptions): VirtualDevice {
  return {
    $type: 'VirtualCdrom',
    key: options.key,
    backing: { $type: 'VirtualCdromIsoBackingInfo', fileName: options.isoFileName },
    connectable: connectInfo(options.connected ?? true),
    controllerKey: options.controllerKey ?? IDE0_CONTROLLER_KEY,
    unitNumber: options.unitNumber ?? 0,
  };
}

export interface NicOptions {
  readonly key: number;
  readonly model: NicModel;
  readonly network: NetworkTarget;
  /** A fixed MAC (`manual`); otherwise the server generates one. */
  readonly macAddress?: string;
  readonly connected?: boolean;
}

/** A NIC on a standard portgroup or a DVS portgroup (which needs the switch UUID and portgroup key). */
export function networkAdapter(options: NicOptions): VirtualDevice {
  const backing =
    options.network.kind === 'distributed'
      ? {
          $type: 'VirtualEthernetCardDistributedVirtualPortBackingInfo',
          port: { switchUuid: options.network.switchUuid, portgroupKey: options.network.portgroupKey },
        }
      : { $type: 'VirtualEthernetCardNetworkBackingInfo', deviceName: options.network.name, network: options.network.ref };
  return {
    $type: NIC_TYPES[options.model],
    key: options.key,
    backing,
    connectable: connectInfo(options.connected ?? true),
    addressType: options.macAddress ? 'manual' : 'generated',
    macAddress: options.macAddress,
  };
}

export interface SerialPortOptions {
  readonly key: number;
  /** `[ds] vch/containers/<id>/console.log`: the container's console output lands here. */
  readonly fileName: string;
  readonly controllerKey?: number;
  readonly unitNumber?: number;
}

/** A serial port that writes to a file on a datastore (the container's log). */
export function fileSerialPort(options: SerialPortOptions): VirtualDevice {
  return {
    $type: 'VirtualSerialPort',
    key: options.key,
    backing: { $type: 'VirtualSerialPortFileBackingInfo', fileName: options.fileName },
    connectable: connectInfo(true),
    controllerKey: options.controllerKey ?? SIO_CONTROLLER_KEY,
    unitNumber: options.unitNumber ?? 0,
    yieldOnPoll: true,
  };
}

export function addDevice(device: VirtualDevice, fileOperation?: 'create'): VirtualDeviceConfigSpec {
  return { operation: 'add', fileOperation, device };
}
export function removeDevice(device: VirtualDevice, destroyFiles = false): VirtualDeviceConfigSpec {
  return { operation: 'remove', fileOperation: destroyFiles ? 'destroy' : undefined, device };
}
export function editDevice(device: VirtualDevice): VirtualDeviceConfigSpec {
  return { operation: 'edit', device };
}

/** Devices of one vim25 type (or its subtypes listed), e.g. `devicesOfType(devices, 'VirtualDisk')`. */
export function devicesOfType<T extends VirtualDevice = VirtualDevice>(devices: readonly VirtualDevice[], ...types: string[]): T[] {
  return devices.filter((d) => types.includes(d.$type)) as T[];
}

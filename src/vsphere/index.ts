/**
 * Public surface of the vim25 client. Everything not re-exported here is internal.
 *
 *   const client = await VimClient.connect({ url, username, password, thumbprint });
 *   const rows = await retrieveFromContainer(client, { container: dc, type: 'VirtualMachine', paths: ['name'] });
 *   await client.close();
 */
export * from './errors';
export { DEFAULT_RETRY_POLICY, backoffDelayMs, retryTransient, sleepUnlessAborted, type RetryPolicy } from './retry';
export { normalizeThumbprint, type TlsTrust } from './tls';
export { SoapStats, redactXml, type SoapLogEvent, type SoapLogger } from './soap';
export { VimClient, normalizeSdkUrl, type CallOptions, type ServiceContent, type UserSession, type VimClientOptions } from './session';
export { asArray, isMoRef, moRef, sameMoRef, xsdBoolean, xsdInt, xsdLong, xsdString, type ManagedObjectReference, type MoRef, type TypedScalar } from './xml';
export {
  UpdateCollector,
  createContainerView,
  destroyView,
  retrieveFromContainer,
  retrieveObject,
  retrieveObjects,
  retrievePropertiesEx,
  rootFolder,
  type ContainerQuery,
  type MissingPropertyInfo,
  type ObjectRow,
  type ObjectUpdate,
  type PropertyChange,
  type PropertySelection,
  type RetrieveOptions,
  type UpdateBatch,
} from './property-collector';
export {
  DEFAULT_TASK_TIMEOUT_MS,
  TaskCancelledError,
  TaskTimeoutError,
  VmQuestionError,
  runTask,
  waitForTask,
  withTaskCancellation,
  type TaskInfo,
  type TaskState,
  type TaskWaitOptions,
  type VmQuestion,
} from './tasks';
export { Inventory, rootResourcePool, type Datacenter, type InventoryId, type InventoryKind, type InventoryObject, type NetworkTarget } from './inventory';
export {
  IDE0_CONTROLLER_KEY,
  SIO_CONTROLLER_KEY,
  addDevice,
  devicesOfType,
  editDevice,
  fileSerialPort,
  isoCdrom,
  lsiLogicController,
  networkAdapter,
  pvscsiController,
  removeDevice,
  virtualDisk,
  type CdromOptions,
  type DeviceOperation,
  type DiskOptions,
  type NicModel,
  type NicOptions,
  type SerialPortOptions,
  type VirtualDevice,
  type VirtualDeviceConfigSpec,
  type VirtualDeviceConnectInfo,
  type VirtualDisk,
  type VirtualDiskFlatVer2BackingInfo,
} from './virtual-devices';
export {
  createVm,
  destroyEntity,
  destroyVm,
  encodeVmConfigSpec,
  extraConfigOf,
  powerOffVm,
  powerOnVm,
  reconfigureVm,
  shutdownGuest,
  type CreateVmArgs,
  type OptionValue,
  type VmConfigSpec,
} from './virtual-machine';
export {
  createResourcePool,
  destroyResourcePool,
  fullAllocation,
  updateResourcePool,
  type ResourceAllocation,
  type ResourcePoolSpec,
  type SharesInfo,
  type SharesLevel,
} from './resource-pool';
export { createFolder, destroyFolder } from './folder';
export { datastorePath, deleteDatastoreFile, makeDirectory, moveDatastoreFile, parseDatastorePath } from './file-manager';
export { copyVirtualDisk, createVirtualDisk, deleteVirtualDisk, extendVirtualDisk, type VirtualDiskSpec } from './virtual-disk-manager';
export { addCustomFieldDef, customFieldsOf, ensureCustomFieldDef, listCustomFieldDefs, setCustomField, type CustomFieldDef } from './custom-fields';
export {
  datastoreFileUrl,
  downloadDatastoreFile,
  statDatastoreFile,
  uploadDatastoreFile,
  type DatastoreFile,
  type UploadBody,
  type UploadOptions,
} from './datastore-http';
export { datastoreDirectoryExists, listDatastoreDirectory, listDatastoreSubFolders, type DatastoreEntry, type DatastoreFolder } from './datastore-browser';

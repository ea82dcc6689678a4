/** The image pipeline's public surface: what src/resources and the front ends may use. */
export { buildImage, resolveReference, readStoredImage, deleteStoredImage, imageLimitsFromEnv, DEFAULT_IMAGE_LIMITS, IMAGE_LIMIT_ENV } from './pipeline';
export type { BuildImageOptions, RegistryAccessOptions, ResolvedImage, ImageInfo, ImageInputLimits } from './pipeline';
export { rootfsUuidForDigest, ROOTFS_LABEL } from './ext4';
export type { PrivilegeMode } from './ext4';
export { LocalDirectoryImageStore, imageLayout, inspectStoredImage } from './image-store';
export { DatastoreImageStore, storeOfImageDisk } from './datastore-image-store';
export { storeRawDisk } from './disk-upload';
export type { DiskFiles, RawDisk, DiskUploadOptions, StoredDisk } from './disk-upload';
export type { DatastoreImageStoreOptions, DatastoreStoreLocation } from './datastore-image-store';
export type { ImageStore, UploadSource, ImageMetadata, ImageLayout, StoredImageState } from './image-store';
export { parseImageReference, formatImageReference, digestHex } from './reference';
export type { ImageReference } from './reference';
export type { ContainerConfig } from './manifest';
export type { ImageProgress, ImagePhase, ProgressListener } from './progress';
export type { RegistryCredentials } from './registry-client';
export * from './errors';

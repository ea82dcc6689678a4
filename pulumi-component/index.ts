/**
 * vic-iac/pulumi: container VMs, their images and virtual container hosts as Pulumi resources.
 *
 *   import * as vic from 'vic-iac/pulumi';
 *   const app = new vic.ContainerApp('web', { host: {...}, images: {...}, containers: {...} });
 *
 * Connection: stack config vic:vsphereServer, vic:user, vic:password (secret), vic:allowUnverifiedSsl,
 * vic:thumbprint, or the VSPHERE_* environment variables. See docs/pulumi.md.
 */
export { VirtualContainerHost, Image, Volume, ContainerVm } from './resources';
export { ContainerApp } from './container-app';
export type { ContainerAppArgs, ContainerAppContainer, ContainerAppImage } from './container-app';
export type * from './types.generated';

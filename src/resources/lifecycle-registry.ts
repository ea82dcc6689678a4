/** The vSphere lifecycles of the resources, by type. Loaded only by the engine. */
import type { ResourceType } from './definition';
import type { Lifecycle } from './lifecycle';
import { containerVmLifecycle } from './container-vm.lifecycle';
import { imageLifecycle } from './image.lifecycle';
import { virtualContainerHostLifecycle } from './virtual-container-host.lifecycle';
import { volumeLifecycle } from './volume.lifecycle';

export const lifecycles: ReadonlyMap<ResourceType, Lifecycle> = new Map<ResourceType, Lifecycle>([
  ['virtual_container_host', virtualContainerHostLifecycle],
  ['image', imageLifecycle],
  ['volume', volumeLifecycle],
  ['container_vm', containerVmLifecycle],
]);

/** The vSphere lifecycles of the resources, by type. Loaded only by the engine. */
import type { ResourceType } from './definition';
import type { Lifecycle } from './lifecycle';

export const lifecycles: ReadonlyMap<ResourceType, Lifecycle> = new Map<ResourceType, Lifecycle>([]);

/**
 * Resource pools: create with a full allocation spec (vcsim rejects partial ones on create, and
 * vCenter fills nothing in either), partial UpdateConfig, Destroy_Task.
 */
import { destroyEntity } from './virtual-machine';
import type { TaskWaitOptions } from './tasks';
import type { VimClient } from './session';
import type { ManagedObjectReference } from './xml';

export type SharesLevel = 'low' | 'normal' | 'high' | 'custom';

export interface SharesInfo {
  readonly level: SharesLevel;
  /** Required for `custom`; ignored by the server for the named levels. */
  readonly shares?: number;
}

/** vim25 ResourceAllocationInfo. CPU in MHz, memory in MB; limit -1 = unlimited. */
export interface ResourceAllocation {
  readonly reservation?: number;
  readonly expandableReservation?: boolean;
  readonly limit?: number;
  readonly shares?: SharesInfo;
}

export interface ResourcePoolSpec {
  readonly cpuAllocation?: ResourceAllocation;
  readonly memoryAllocation?: ResourceAllocation;
}

// The share values vSphere assigns to the named levels (per pool).
const LEVEL_SHARES: Record<'cpu' | 'memory', Record<Exclude<SharesLevel, 'custom'>, number>> = {
  cpu: { low: 2000, normal: 4000, high: 8000 },
  memory: { low: 81920, normal: 163840, high: 327680 },
};

function encodeShares(shares: SharesInfo, kind: 'cpu' | 'memory'): Record<string, unknown> {
  const value = shares.level === 'custom' ? shares.shares : (shares.shares ?? LEVEL_SHARES[kind][shares.level]);
  return { shares: value, level: shares.level };
}

/** Every field set, in WSDL order: what CreateResourcePool requires. */
export function fullAllocation(allocation: ResourceAllocation | undefined, kind: 'cpu' | 'memory'): Record<string, unknown> {
  return {
    reservation: allocation?.reservation ?? 0,
    expandableReservation: allocation?.expandableReservation ?? true,
    limit: allocation?.limit ?? -1,
    shares: encodeShares(allocation?.shares ?? { level: 'normal' }, kind),
  };
}

/** Only the given fields, in WSDL order: what UpdateConfig changes. */
export function partialAllocation(allocation: ResourceAllocation | undefined, kind: 'cpu' | 'memory'): Record<string, unknown> | undefined {
  if (!allocation) return undefined;
  return {
    reservation: allocation.reservation,
    expandableReservation: allocation.expandableReservation,
    limit: allocation.limit,
    shares: allocation.shares && encodeShares(allocation.shares, kind),
  };
}

/** CreateResourcePool under `parent` (a pool, e.g. a cluster's root pool); unset allocation fields get vSphere's defaults. */
export async function createResourcePool(
  client: VimClient,
  parent: ManagedObjectReference,
  name: string,
  spec: ResourcePoolSpec = {},
): Promise<ManagedObjectReference> {
  return client.call<ManagedObjectReference>(
    'CreateResourcePool',
    parent,
    {
      name,
      spec: { cpuAllocation: fullAllocation(spec.cpuAllocation, 'cpu'), memoryAllocation: fullAllocation(spec.memoryAllocation, 'memory') },
    },
    { returns: 'moref' },
  );
}

/** UpdateConfig: renames and/or changes only the given allocation fields. */
export async function updateResourcePool(
  client: VimClient,
  pool: ManagedObjectReference,
  change: { readonly name?: string } & ResourcePoolSpec,
): Promise<void> {
  await client.call('UpdateConfig', pool, {
    name: change.name,
    config: {
      cpuAllocation: partialAllocation(change.cpuAllocation, 'cpu'),
      memoryAllocation: partialAllocation(change.memoryAllocation, 'memory'),
    },
  });
}

/** Destroy_Task on a pool. vSphere moves its VMs and child pools up to the parent. */
export async function destroyResourcePool(
  client: VimClient,
  pool: ManagedObjectReference,
  options: Omit<TaskWaitOptions, 'method' | 'object'> = {},
): Promise<void> {
  await destroyEntity(client, pool, options);
}

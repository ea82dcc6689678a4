/**
 * Resolving what the user named (datacenter, compute, datastore, network) to vSphere objects, and
 * turning a miss into a plan-time Problem on the attribute that named it.
 */
import { NotFoundError, ignoreNotFound, isNotFound, isInvalidArgument, isVimFault, moRef, type ManagedObjectReference } from '../vsphere';
import { Inventory, knownList, rootResourcePool, type Datacenter, type InventoryObject, type NetworkTarget } from '../vsphere/inventory';
import { retrieveObject } from '../vsphere/property-collector';
import type { LifecycleContext } from './lifecycle';
import type { Problem } from './schema';

/** An input that names a vSphere object which does not resolve. */
export class PlacementError extends Error {
  constructor(
    readonly attribute: string,
    message: string,
  ) {
    super(message);
    this.name = 'PlacementError';
  }

  toProblem(): Problem {
    return { path: [this.attribute], severity: 'error', summary: `Cannot resolve "${this.attribute}"`, detail: this.message };
  }
}

/** Runs a lookup; a not-found or ambiguous answer becomes a PlacementError on `attribute`. */
export async function resolving<T>(attribute: string, what: string, lookup: () => Promise<T>): Promise<T> {
  try {
    return await lookup();
  } catch (err) {
    if (isNotFound(err) || isInvalidArgument(err)) {
      throw new PlacementError(attribute, `${err.message}. Check ${attribute} = ${JSON.stringify(what)}.`);
    }
    throw err;
  }
}

export function inventory(ctx: LifecycleContext): Inventory {
  return new Inventory(ctx.client);
}

export async function datacenterOf(ctx: LifecycleContext, name: unknown): Promise<Datacenter> {
  if (typeof name === 'string' && name) return resolving('datacenter', name, () => inventory(ctx).datacenter(name));
  // The resource names none: say where the one we looked for came from, since the user did not write it here.
  const fallback = ctx.datacenter
    ? `It is the provider's default datacenter: correct datacenter in the provider configuration (or VSPHERE_DATACENTER), or set datacenter on this resource.`
    : 'Set datacenter on this resource, or a default datacenter in the provider configuration.';
  try {
    return await inventory(ctx).datacenter(ctx.datacenter || undefined);
  } catch (err) {
    if (isNotFound(err) || isInvalidArgument(err)) throw new PlacementError('datacenter', `${err.message}. ${fallback}`);
    throw err;
  }
}

const COMPUTE_TYPES = ['ClusterComputeResource', 'ComputeResource', 'HostSystem'];

/** A cluster, host or pool (path, name or MOID) → the resource pool to create the VCH pool under. */
export async function computePool(ctx: LifecycleContext, dc: Datacenter, compute: string): Promise<ManagedObjectReference> {
  const inv = inventory(ctx);
  return resolving('compute', compute, async () => {
    try {
      return (await inv.find('resourcePool', dc, compute)).ref;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      let found: InventoryObject | undefined;
      for (const kind of ['cluster', 'host'] as const) {
        found = await inv.find(kind, dc, compute).catch(ignoreNotFound);
        if (found) break;
      }
      // A path that leads to another kind of object (a datastore, say) is told as such.
      if (!found && / leads to a /.test(err.message)) throw err;
      if (!found) {
        // What compute is meant to name: the clusters and hosts (the pools the lookup listed include every VCH's own).
        const [clusters, hosts] = await Promise.all([inv.list('cluster', dc), inv.list('host', dc)]);
        throw new NotFoundError(
          { faultName: 'NotFound', method: 'FindByInventoryPath', object: dc.ref },
          `no cluster, host or resource pool "${compute}" in datacenter "${dc.name}" (clusters: ${knownList(clusters.map((c) => c.name))}; hosts: ${knownList(hosts.map((h) => h.name))}). ` +
            `Name a cluster or a host (its name, its inventory path such as /${dc.name}/host/<cluster>, or its MOID), or a resource pool by its inventory path or MOID`,
        );
      }
      // A host's pool is its compute resource's root pool.
      let owner = found.ref;
      if (owner.type === 'HostSystem') {
        owner = (await retrieveObject<{ parent: ManagedObjectReference }>(ctx.client, owner, ['parent'])).parent;
      }
      if (!COMPUTE_TYPES.includes(owner.type)) throw err;
      return rootResourcePool(ctx.client, owner);
    }
  });
}

export function datastoreOf(ctx: LifecycleContext, dc: Datacenter, datastore: string): Promise<InventoryObject> {
  return resolving('datastore', datastore, () => inventory(ctx).datastore(dc, datastore));
}

export function networkOf(ctx: LifecycleContext, dc: Datacenter, attribute: string, network: string): Promise<NetworkTarget> {
  return resolving(attribute, network, () => ctx.memo(`network:${dc.ref.value}:${network}`, () => inventory(ctx).network(dc, network)));
}

/** Collects PlacementErrors from independent lookups into problems; rethrows anything else. */
export async function collectPlacement(checks: Array<Promise<unknown>>): Promise<Problem[]> {
  const results = await Promise.allSettled(checks);
  const problems: Problem[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    if (r.reason instanceof PlacementError) problems.push(r.reason.toProblem());
    else throw r.reason;
  }
  return problems;
}

export function poolRef(moid: string): ManagedObjectReference {
  return moRef('ResourcePool', moid);
}

export function describeError(err: unknown): string {
  return isVimFault(err) || err instanceof Error ? err.message : String(err);
}

/**
 * What a VCH's resource pool can give its container VMs, as vSphere reports it: the most CPU (MHz)
 * and memory (bytes) the pool may use (its limits, or less when its parents give it less), and the host CPU
 * cores that CPU stands for. `docker info` shows these as CPUs and Total Memory.
 */
import { moRef, retrieveObjects, type ManagedObjectReference, type VimClient } from '../vsphere';

export interface PoolCapacity {
  /** Host CPU cores the pool's CPU amounts to (at least 1 when the host has any). */
  readonly cpus: number;
  /** The most CPU the pool may use, MHz; 0 when vSphere does not say. */
  readonly cpuMhz: number;
  /** The most memory the pool may use, bytes; 0 when vSphere does not say. */
  readonly memoryBytes: number;
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * The capacity of resource pool `poolMoid` (two round trips: the pool's runtime, then its compute
 * resource's summary); null when the pool is gone.
 */
export async function readPoolCapacity(client: VimClient, poolMoid: string): Promise<PoolCapacity | null> {
  const [pool] = await retrieveObjects<Record<string, unknown>>(
    client,
    [moRef('ResourcePool', poolMoid)],
    ['config.cpuAllocation.limit', 'config.memoryAllocation.limit', 'runtime.cpu.maxUsage', 'runtime.memory.maxUsage', 'owner'],
  );
  if (!pool) return null;
  // The pool's own limit (-1: none), or what its parents give it, whichever is less.
  const least = (...values: number[]) => {
    const given = values.filter((v) => v > 0);
    return given.length > 0 ? Math.min(...given) : 0;
  };
  const cpuMhz = least(num(pool.props['config.cpuAllocation.limit']), num(pool.props['runtime.cpu.maxUsage']));
  const memoryBytes = least(num(pool.props['config.memoryAllocation.limit']) * 1024 * 1024, num(pool.props['runtime.memory.maxUsage']));
  const owner = pool.props.owner as ManagedObjectReference | undefined;
  const [compute] = owner ? await retrieveObjects<Record<string, unknown>>(client, [owner], ['summary.numCpuCores', 'summary.totalCpu']) : [];
  const cores = num(compute?.props['summary.numCpuCores']);
  const totalMhz = num(compute?.props['summary.totalCpu']);
  // A pool held below its hosts' total gets the cores its MHz amount to, never fewer than one.
  const cpus = cores > 0 && totalMhz > 0 && cpuMhz > 0 && cpuMhz < totalMhz ? Math.max(1, Math.floor(cpuMhz / (totalMhz / cores))) : cores;
  return { cpus, cpuMhz, memoryBytes };
}

/**
 * The most virtual CPUs one VM in resource pool `poolMoid` can power on with: the largest number of
 * logical CPUs (hardware threads) among the hosts of the pool's compute resource, since vSphere
 * refuses a VM with more vCPUs than its host has. Three round trips (the pool's owner, its hosts,
 * their hardware); 0 when vSphere does not say (a pool gone, a host without the figure).
 */
export async function readMaxVcpus(client: VimClient, poolMoid: string): Promise<number> {
  const [pool] = await retrieveObjects<Record<string, unknown>>(client, [moRef('ResourcePool', poolMoid)], ['owner']);
  const owner = pool?.props.owner as ManagedObjectReference | undefined;
  if (!owner) return 0;
  const [compute] = await retrieveObjects<Record<string, unknown>>(client, [owner], ['host']);
  const hosts = (Array.isArray(compute?.props.host) ? compute.props.host : []) as ManagedObjectReference[];
  if (hosts.length === 0) return 0;
  const rows = await retrieveObjects<Record<string, unknown>>(client, hosts, ['summary.hardware.numCpuThreads']);
  return Math.max(0, ...rows.map((r) => num(r.props['summary.hardware.numCpuThreads'])));
}

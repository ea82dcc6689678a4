/**
 * `GET /containers/{id}/stats`: a container VM's use of its host, in the Docker Engine API's stats
 * shape, from vSphere's quick stats of the VM (src/resources/vm-usage.ts).
 *
 * The docker CLI computes CPU % as (cpu_stats.cpu_usage.total_usage − precpu's) / (system_cpu_usage
 * − precpu's) × online_cpus × 100, and memory as memory_stats.usage / limit. vSphere gives a rate
 * instead of counters: CPU in MHz, where one vCPU kept busy uses the host's clock. Each sample thus
 * carries its own previous sample, one second earlier at that rate, so that one answer (the
 * CLI's --no-stream) shows the same figure as a stream: 100 % is one vCPU kept busy, as docker's
 * 100 % is one core. Memory is the guest's active memory against the VM's configured memory.
 * Network and block I/O are not in quick stats and are left out (the CLI shows 0B).
 */
import type { VmUsage } from '../resources';

const NS = 1e9;
const MIB = 1024 * 1024;

export interface StatsSubject {
  readonly id: string;
  readonly name: string;
}

function cpuStats(total: number, system: number, online: number): Record<string, unknown> {
  return {
    cpu_usage: { total_usage: Math.max(0, Math.round(total)), usage_in_kernelmode: 0, usage_in_usermode: Math.max(0, Math.round(total)) },
    system_cpu_usage: Math.max(0, Math.round(system)),
    online_cpus: online,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** One stats sample of `subject` read at `now`. */
export function dockerStats(subject: StatsSubject, usage: VmUsage, now: Date): Record<string, unknown> {
  const online = usage.numCpu;
  const perCpuMhz = usage.cpuMaxMhz > 0 ? usage.cpuMaxMhz / online : 0;
  // The share of one vCPU in use (1 = one kept busy), over the last second.
  const busy = perCpuMhz > 0 ? Math.min(online, usage.cpuMhz / perCpuMhz) : 0;
  const system = (now.getTime() / 1000) * NS * online;
  const total = Math.max(busy * NS, usage.uptimeSeconds * busy * NS);
  const running = usage.powerState === 'poweredOn';
  return {
    name: `/${subject.name}`,
    id: subject.id,
    read: now.toISOString(),
    preread: new Date(now.getTime() - 1000).toISOString(),
    pids_stats: running ? { current: 1 } : {},
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(total, system, online),
    precpu_stats: cpuStats(total - busy * NS, system - NS * online, online),
    memory_stats: running ? { usage: usage.guestMemoryMb * MIB, limit: usage.memoryMb * MIB, stats: {} } : { usage: 0, limit: usage.memoryMb * MIB, stats: {} },
  };
}

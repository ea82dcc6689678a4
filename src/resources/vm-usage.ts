/**
 * What a container VM uses of its host right now, as vSphere reports it for every VM: the quick
 * stats of its summary (CPU in MHz, active guest memory and host memory in MB, uptime) and the
 * most it may use (runtime.maxCpuUsage: its vCPUs at the host's clock). `docker stats` is built
 * on this. vSphere refreshes quick stats about every 20 s; a VM that is off reports zeros.
 */
import { moRef, retrieveObjects, type VimClient } from '../vsphere';

export interface VmUsage {
  readonly powerState: string;
  /** CPU in use, MHz; one vCPU kept busy uses the host's clock rate. */
  readonly cpuMhz: number;
  /** The most the VM can use, MHz (vCPUs × the host's clock); 0 when vSphere does not say (off). */
  readonly cpuMaxMhz: number;
  readonly numCpu: number;
  /** Configured memory, MB. */
  readonly memoryMb: number;
  /** Guest memory actively used, MB (vSphere's "active" memory). */
  readonly guestMemoryMb: number;
  /** Host memory backing the VM, MB. */
  readonly hostMemoryMb: number;
  readonly uptimeSeconds: number;
}

export const VM_USAGE_PATHS = [
  'runtime.powerState',
  'runtime.maxCpuUsage',
  'summary.quickStats',
  'config.hardware.numCPU',
  'config.hardware.memoryMB',
] as const;

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** The usage of the VM `moid` in one round trip; null when the VM is gone. */
export async function readVmUsage(client: VimClient, moid: string): Promise<VmUsage | null> {
  const [row] = await retrieveObjects<Record<string, unknown>>(client, [moRef('VirtualMachine', moid)], VM_USAGE_PATHS);
  return row ? vmUsage(row.props) : null;
}

export function vmUsage(p: Record<string, unknown>): VmUsage {
  const q = (p['summary.quickStats'] ?? {}) as Record<string, unknown>;
  const powerState = String(p['runtime.powerState'] ?? 'poweredOff');
  const on = powerState === 'poweredOn';
  return {
    powerState,
    cpuMhz: on ? num(q.overallCpuUsage) : 0,
    cpuMaxMhz: on ? num(p['runtime.maxCpuUsage']) : 0,
    numCpu: Math.max(1, num(p['config.hardware.numCPU'])),
    memoryMb: num(p['config.hardware.memoryMB']),
    guestMemoryMb: on ? num(q.guestMemoryUsage) : 0,
    hostMemoryMb: on ? num(q.hostMemoryUsage) : 0,
    uptimeSeconds: on ? num(q.uptimeSeconds) : 0,
  };
}

/**
 * What every result records about where it was measured: figures from one machine mean little on
 * another, and on a shared 2-core box the load average says how much to trust them.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  readonly nproc: number;
  readonly memory_gib: number;
  readonly cpu_model: string;
  readonly node: string;
  readonly terraform: string | null;
  readonly load_average_1m: number;
  readonly measured_at: string;
}

export function terraformVersion(terraformBin: string): string | null {
  try {
    const out = execFileSync(terraformBin, ['version', '-json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return (JSON.parse(out) as { terraform_version?: string }).terraform_version ?? null;
  } catch {
    return null;
  }
}

export function machineInfo(terraformBin = 'terraform'): MachineInfo {
  const cores = cpus();
  return {
    nproc: cores.length,
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    cpu_model: cores[0]?.model.trim() ?? 'unknown',
    node: process.version,
    terraform: terraformVersion(terraformBin),
    load_average_1m: Math.round(loadavg()[0] * 100) / 100,
    measured_at: new Date().toISOString(),
  };
}

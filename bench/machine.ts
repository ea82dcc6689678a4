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
  /** The code measured: HEAD, with "+dirty" when the working tree had uncommitted changes. */
  readonly commit: string | null;
  readonly measured_at: string;
}

function codeVersion(): string | null {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd: __dirname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = run(['rev-parse', '--short', 'HEAD']);
    return run(['status', '--porcelain', '--untracked-files=no']) === '' ? head : `${head}+dirty`;
  } catch {
    return null; // not a git checkout (a published package)
  }
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
    commit: codeVersion(),
    measured_at: new Date().toISOString(),
  };
}

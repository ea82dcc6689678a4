/**
 * Runs the real `terraform` CLI for the benchmarks, in workspaces like the e2e tests' (the provider
 * installed into a filesystem mirror by scripts/install-provider.sh), timing each command and
 * reporting the peak RSS of the provider processes Terraform starts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installProvider, requireTerraform } from '../test/provider/terraform-cli';

export interface TerraformResult {
  readonly args: readonly string[];
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /**
   * The highest peak RSS of the provider processes the command started, in MiB: each reports its own
   * (`process.resourceUsage().maxRSS`) at its exit. Not sampled from /proc while the command runs: a
   * scan of every process each 50 ms cost about 1 ms of CPU each, on the cores the plan runs on,
   * and only the side being sampled paid it. The report costs each start the load of a two-line
   * preload script.
   */
  readonly providerPeakRssMib?: number;
  /** The command ran past its time budget and was stopped: wallMs is a lower bound. */
  readonly timedOut: boolean;
  /**
   * CPU (user + system, ms) of every Node process the command started, i.e. the provider's (one per
   * Terraform phase), each read by `process.cpuUsage()` at its exit; only with `providerCpu`.
   */
  readonly providerCpuMs?: number;
}

export interface TerraformRunOptions {
  readonly sampleProviderRss?: boolean;
  /** Stop the command after this long (two interrupts, as a user pressing Ctrl-C twice) and report it. */
  readonly timeoutMs?: number;
  /** Measure the provider processes' CPU (`providerCpuMs`). Default: on when VIC_BENCH_PROVIDER_CPU=1. */
  readonly providerCpu?: boolean;
  /** Variables over the workspace's own environment for this command (its CLI config, say). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Whether the benchmarks measure the provider's CPU (VIC_BENCH_PROVIDER_CPU=1): a preload in every Node process Terraform starts. */
export function providerCpuWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.VIC_BENCH_PROVIDER_CPU === '1';
}

let cpuPreload: string | undefined;

/** A script each Node process loads first (NODE_OPTIONS=--require): at exit it appends its pid, CPU ms and peak RSS (KiB) to $VIC_BENCH_CPU_LOG. */
function cpuAtExitPreload(): string {
  if (cpuPreload) return cpuPreload;
  const dir = mkdtempSync(join(tmpdir(), 'vic-bench-cpu-'));
  const file = join(dir, 'cpu-at-exit.js');
  writeFileSync(
    file,
    `const log = process.env.VIC_BENCH_CPU_LOG;\n` +
      `if (log) process.on('exit', () => { const u = process.cpuUsage(); require('fs').appendFileSync(log, process.pid + ' ' + (u.user + u.system) / 1000 + ' ' + process.resourceUsage().maxRSS + '\\n'); });\n`,
  );
  cpuPreload = file;
  return file;
}

/** Each process's line of the log: its CPU (ms) and peak RSS (KiB). */
function exitFigures(log: string): { cpuMs: number; peakKib: number }[] {
  let text: string;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, cpu, rss] = line.split(' ');
      return { cpuMs: Number(cpu ?? 0), peakKib: Number(rss ?? 0) };
    });
}

export interface BenchWorkspace {
  readonly dir: string;
  write(file: string, content: string): void;
  /** Runs terraform; throws with its output when it fails. */
  terraform(args: readonly string[], options?: TerraformRunOptions): Promise<TerraformResult>;
  /** Deletes the directory (state included): the simulator it described is gone by then. */
  remove(): void;
}

const PROVIDER_MARKER = 'registry.terraform.io/vic-iac/vic';

/** A workspace with its own CLI config; `env` carries the provider connection (VSPHERE_*). */
export function benchWorkspace(name: string, env: NodeJS.ProcessEnv = {}, options: { extraMirror?: { path: string; include: string } } = {}): BenchWorkspace {
  const terraformBin = requireTerraform();
  const mirror = installProvider();
  const dir = mkdtempSync(join(tmpdir(), `vic-bench-${name}-`));
  const cliConfig = join(dir, '.terraformrc');
  const extra = options.extraMirror
    ? `  filesystem_mirror {\n    path    = "${options.extraMirror.path}"\n    include = ["${options.extraMirror.include}"]\n  }\n`
    : '';
  const excluded = ['registry.terraform.io/vic-iac/vic', ...(options.extraMirror ? [options.extraMirror.include] : [])].map((a) => `"${a}"`).join(', ');
  writeFileSync(
    cliConfig,
    `provider_installation {\n  filesystem_mirror {\n    path    = "${mirror}"\n    include = ["registry.terraform.io/vic-iac/vic"]\n  }\n${extra}  direct {\n    exclude = [${excluded}]\n  }\n}\n`,
  );
  const fullEnv = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', ...env };
  return {
    dir,
    write: (file, content) => writeFileSync(join(dir, file), content),
    terraform: (args, options = {}) => runTerraform(terraformBin, args, dir, fullEnv, options),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function runTerraform(
  bin: string,
  args: readonly string[],
  cwd: string,
  workspaceEnv: NodeJS.ProcessEnv,
  options: TerraformRunOptions,
): Promise<TerraformResult> {
  const baseEnv = { ...workspaceEnv, ...options.env };
  const sampleRss = options.sampleProviderRss ?? false;
  const wantCpu = options.providerCpu ?? providerCpuWanted(baseEnv);
  const exitLog = wantCpu || sampleRss ? join(cwd, `.provider-exit-${Date.now()}-${Math.random().toString(36).slice(2)}.log`) : undefined;
  const env = exitLog
    ? { ...baseEnv, VIC_BENCH_CPU_LOG: exitLog, NODE_OPTIONS: `${baseEnv.NODE_OPTIONS ?? ''} --require ${cpuAtExitPreload()}`.trim() }
    : baseEnv;
  const figuresAtExit = (): { cpuMs?: number; peakKib: number } => {
    if (!exitLog) return { peakKib: 0 };
    const lines = exitFigures(exitLog);
    rmSync(exitLog, { force: true });
    return {
      cpuMs: wantCpu && lines.length > 0 ? lines.reduce((sum, l) => sum + l.cpuMs, 0) : undefined,
      peakKib: Math.max(0, ...lines.map((l) => l.peakKib)),
    };
  };
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(bin, [...args, '-no-color'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let peakKib = 0;
    let providerPids: number[] = [];
    // Only when the budget is spent: the providers to stop, and their peak so far (a provider killed
    // by the second interrupt never reaches its exit hook).
    const sample = () => {
      if (child.pid === undefined) return;
      const providers = providerProcesses(child.pid);
      providerPids = providers.map((p) => p.pid);
      for (const p of providers) peakKib = Math.max(peakKib, p.peakKib);
    };
    let timedOut = false;
    const budget =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            sample();
            // Terraform exits at once on a second interrupt; its provider would outlive it.
            child.kill('SIGINT');
            setTimeout(() => {
              child.kill('SIGINT');
              for (const pid of providerPids) {
                try {
                  process.kill(pid, 'SIGKILL');
                } catch {
                  // already gone
                }
              }
            }, 1000).unref();
          }, options.timeoutMs);
    child.once('error', (e) => {
      if (budget) clearTimeout(budget);
      reject(new Error(`terraform ${args.join(' ')} could not start: ${e.message}`));
    });
    child.once('close', (code) => {
      if (budget) clearTimeout(budget);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const atExit = figuresAtExit();
      peakKib = Math.max(peakKib, atExit.peakKib);
      const providerPeakRssMib = sampleRss && peakKib > 0 ? peakKib / 1024 : undefined;
      const providerCpuMs = atExit.cpuMs;
      if (timedOut) {
        resolve({ args, wallMs: options.timeoutMs ?? wallMs, stdout, stderr, providerPeakRssMib, timedOut, providerCpuMs });
        return;
      }
      if (code !== 0) {
        reject(new Error(`terraform ${args.join(' ')} in ${cwd} failed (exit ${code}):\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
        return;
      }
      resolve({ args, wallMs, stdout, stderr, providerPeakRssMib, timedOut, providerCpuMs });
    });
  });
}

/** The provider processes below `rootPid`, each with its VmHWM (peak resident set) in KiB. */
function providerProcesses(rootPid: number): { pid: number; peakKib: number }[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name may hold spaces and parentheses: the fields start after the last ")"
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const found: { pid: number; peakKib: number }[] = [];
  for (const [pid] of parents) {
    let ancestor = parents.get(pid);
    while (ancestor !== undefined && ancestor !== rootPid && ancestor > 1) ancestor = parents.get(ancestor);
    if (ancestor !== rootPid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(PROVIDER_MARKER)) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      found.push({ pid, peakKib: hwm ? Number(hwm[1]) : 0 });
    } catch {
      // gone already
    }
  }
  return found;
}

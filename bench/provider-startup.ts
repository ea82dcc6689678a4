/**
 * Benchmark 3 (provider startup): exec of the installed terraform-provider-vic launcher until its
 * go-plugin handshake line, against exec of `node -e 0` until exit (Node's own floor), interleaved
 * run by run so both see the same machine load.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateServerCertificate } from '../provider/auto-mtls';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../provider/serve';
import { installProvider } from '../test/provider/terraform-cli';
import { percentile, progress, ratio, round } from './figures';

export interface StartupResult {
  readonly benchmark: 'provider-startup';
  readonly description: string;
  readonly runs: number;
  readonly provider_ms: { readonly p50: number; readonly p95: number };
  readonly node_floor_ms: { readonly p50: number; readonly p95: number };
  readonly ratio_provider_over_node: { readonly p50: number; readonly p95: number };
  /**
   * CPU time, which the machine's load moves far less than wall time: the provider's by its handshake
   * line, and node's by the line of NODE_LINE, in the same runs.
   */
  readonly cpu_ms: { readonly provider_p50: number; readonly node_p50: number; readonly ratio_p50: number };
  readonly goal: { readonly met: boolean; readonly limit: number };
}

export const STARTUP_GOAL_LIMIT = 1.1;

const STARTUP_TIMEOUT_MS = 30_000;
/** `node -e 0` plus one line to stop at. */
const NODE_LINE = 'console.log(0); setTimeout(() => undefined, 60_000)';

function providerLauncher(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = (require('../package.json') as { version: string }).version;
  return join(
    installProvider(),
    `registry.terraform.io/vic-iac/vic/${version}/linux_${process.arch === 'x64' ? 'amd64' : process.arch}`,
    `terraform-provider-vic_v${version}`,
  );
}

interface FirstLine {
  /** Milliseconds from spawn to the first stdout line. */
  readonly ms: number;
  /** CPU milliseconds of all the process's threads by then (Linux schedstat): what load barely moves. */
  readonly cpuMs: number;
}

function cpuMsOf(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return ns / 1e6;
}

/** Spawn → the first stdout line, then the process is stopped. */
function timeToFirstLine(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<FirstLine> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), STARTUP_TIMEOUT_MS);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (out.includes('\n')) return;
      out += d.toString();
      if (!out.includes('\n')) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpuMs = cpuMsOf(child.pid!);
      child.once('exit', () => resolve({ ms, cpuMs }));
      child.kill('SIGTERM');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!out.includes('\n')) reject(new Error(`${command} exited (code ${code}, signal ${signal}) before its first line; stderr:\n${err.slice(-2000)}`));
    });
  });
}

function timeToExit(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`)),
    );
  });
}

export async function startupBench(runs: number): Promise<StartupResult> {
  const launcher = providerLauncher();
  // Terraform's side of AutoMTLS, as go-plugin passes it: the provider then serves TLS, as in real use.
  const terraformSide = await generateServerCertificate();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
    PLUGIN_PROTOCOL_VERSIONS: '5,6',
    PLUGIN_CLIENT_CERT: terraformSide.certPem,
  };
  // One untimed start fills the certificate cache and the page cache, as any earlier terraform run would.
  await timeToFirstLine(launcher, [], env);
  const provider: number[] = [];
  const floor: number[] = [];
  const providerCpu: number[] = [];
  const nodeCpu: number[] = [];
  progress(`startup: ${runs} provider starts, ${runs} node -e 0 and ${runs} node -e 'console.log(0)', interleaved`);
  for (let i = 0; i < runs; i++) {
    const started = await timeToFirstLine(launcher, [], env);
    provider.push(started.ms);
    providerCpu.push(started.cpuMs);
    // The same environment as the provider: NODE_EXTRA_CA_CERTS or NODE_OPTIONS in ours would make
    // every Node start pay for them, and only the floor would.
    floor.push(await timeToExit(process.execPath, ['-e', '0'], env));
    // Waits after its line, as the provider does, so that its threads are still there to be read.
    nodeCpu.push((await timeToFirstLine(process.execPath, ['-e', NODE_LINE], env)).cpuMs);
  }
  const p = { p50: percentile(provider, 50), p95: percentile(provider, 95) };
  const f = { p50: percentile(floor, 50), p95: percentile(floor, 95) };
  return {
    benchmark: 'provider-startup',
    description:
      'exec of the installed terraform-provider-vic launcher (sh + node) → go-plugin handshake line, AutoMTLS on, vs exec of node -e 0 → exit; interleaved',
    runs,
    provider_ms: { p50: round(p.p50), p95: round(p.p95) },
    node_floor_ms: { p50: round(f.p50), p95: round(f.p95) },
    ratio_provider_over_node: { p50: ratio(p.p50, f.p50), p95: ratio(p.p95, f.p95) },
    cpu_ms: {
      provider_p50: round(percentile(providerCpu, 50)),
      node_p50: round(percentile(nodeCpu, 50)),
      ratio_p50: ratio(percentile(providerCpu, 50), percentile(nodeCpu, 50)),
    },
    goal: { met: ratio(p.p50, f.p50) <= STARTUP_GOAL_LIMIT, limit: STARTUP_GOAL_LIMIT },
  };
}

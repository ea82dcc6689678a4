/** Runs bin/vic as a child process, as a user would, and collects what it printed. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSimulator } from '../../src/sim/simulator';
import { vsphereEnv } from '../helpers/engine';

export const VIC = join(__dirname, '../../bin/vic');

export interface VicRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** An environment without the caller's VSPHERE_* settings, colour hints or simulator state. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('VSPHERE_') || k.startsWith('VIC_') || k === 'FORCE_COLOR' || k === 'NO_COLOR' || k === 'XDG_DATA_HOME') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface VicProject {
  /** A scratch directory for the test file; vic keeps its state in `.vic/state.json` below it. */
  readonly dir: string;
  /** `spec.yaml` in `dir` (not written yet). */
  readonly specFile: string;
  readonly stateFile: string;
  /** A clean environment with the simulator's VSPHERE_* settings. */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * A vic project for the calling describe block: its directory made in beforeAll, removed in afterAll.
 * Call it after useSimulator; the getter is valid inside tests and in a later beforeAll.
 */
export function useVicProject(sim: () => RunningSimulator, prefix: string): () => VicProject {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error('useVicProject: the project directory is not made yet (use the getter inside a test, after beforeAll)');
    return { dir, specFile: join(dir, 'spec.yaml'), stateFile: join(dir, '.vic', 'state.json'), env: cleanEnv(vsphereEnv(sim())) };
  };
}

export interface RunOptions {
  readonly input?: string | Buffer;
  /** Written, and stdin left open until the process ends (a terminal that a user has not closed). */
  readonly keepStdinOpen?: boolean;
  /** More input, each written once the output so far holds its `when` (a user answering what they see). */
  readonly respond?: readonly { readonly when: string; readonly send: string }[];
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

export function runVic(args: readonly string[], env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<VicRun> {
  return runProcess(VIC, args, env, options);
}

/** Runs a command to its end (killed after timeoutMs, default 60 s) and collects its output. */
export function runProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<VicRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const pending = [...(options.respond ?? [])];
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      while (pending.length > 0 && stdout.includes(pending[0].when)) child.stdin.write((pending.shift() as { send: string }).send);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    if (options.keepStdinOpen) child.stdin.write(options.input ?? '');
    else child.stdin.end(options.input ?? '');
  });
}

/**
 * `vic endpoint serve --vch <vch> --listen 127.0.0.1:0 [extra]` in the background, once it says it
 * serves: the process (the caller kills it) and what it printed so far.
 */
export async function serveEndpointProcess(
  vch: string,
  env: NodeJS.ProcessEnv,
  extra: readonly string[] = [],
): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(VIC, ['endpoint', 'serve', '--vch', vch, '--listen', '127.0.0.1:0', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')));
  for (let i = 0; i < 120 && !/Docker endpoint for VCH/.test(output); i++) await new Promise((r) => setTimeout(r, 250));
  return { child, output };
}

/**
 * The head of most test specs: one VCH in the simulator's cluster, on LocalDS_0, bridged to
 * "VM Network", declared as `virtual_container_host.<key>`.
 */
export function vchYaml(name: string, key = 'demo', datastore = 'LocalDS_0'): string {
  return `virtual_container_host:
  ${key}:
    name: ${name}
    compute: /DC0/host/DC0_C0
    datastore: ${datastore}
    bridge_network: VM Network
`;
}

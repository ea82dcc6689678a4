import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SimulatorControl } from './control';
import { findPeer } from './peers';

export interface SimulatorOptions {
  datacenters?: number;
  clusters?: number;
  hostsPerCluster?: number;
  standaloneHosts?: number;
  datastores?: number;
  portgroups?: number;
  dvs?: boolean;
  /** Model VMs per resource pool and standalone host; default 0 (model VMs slow the start). */
  vms?: number;
  /** Serve https with a self-signed certificate; default true. */
  tls?: boolean;
  /** Accept only this user and password; unset accepts any non-empty pair. */
  username?: string;
  password?: string;
  /** Listen address; default 127.0.0.1:0 (a free port). */
  listen?: string;
  /**
   * Directory for the certificate and the model's temporary datastores. Default: a fresh temp dir,
   * removed by stop(). A caller-supplied directory is left in place.
   */
  stateDir?: string;
  /**
   * Run the guests of vic container VMs in QEMU when they are powered on (src/sim/runner).
   * Default off: API tests and benchmarks want a pure model. `true` takes the defaults.
   */
  runGuests?: boolean | GuestRunnerOptions;
}

export interface GuestRunnerOptions {
  /** QEMU processes at once; more powered-on VMs wait in a queue. Default 2. */
  maxRunning?: number;
  /** Default auto: KVM when /dev/kvm is usable, else TCG. */
  accel?: 'auto' | 'kvm' | 'tcg';
}

export interface RunningSimulator {
  /** The SOAP endpoint, e.g. https://127.0.0.1:40321/sdk (no credentials). */
  url: string;
  username: string;
  password: string;
  /** SHA-256 of the certificate, AA:BB:... (vSphere style), when TLS is on. */
  thumbprint?: string;
  certPem?: string;
  pid: number;
  /** The launcher's own measure of its start, in milliseconds. */
  startupMs: number;
  control: SimulatorControl;
  /** The end of the launcher's log (stderr), for diagnostics. */
  logTail(): string;
  /** SIGTERM, then waits for the exit (the launcher deletes its datastores). Idempotent. */
  stop(): Promise<void>;
}

interface ReadyLine {
  url: string;
  thumbprint?: string;
  certFile?: string;
  pid: number;
  startupMs: number;
}

/**
 * Environment variable that tags each launcher with the pid of the process that started it, so
 * test/helpers/global-teardown.js can find launchers whose owner died without stopping them.
 */
export const SIMULATOR_OWNER_ENV = 'VIC_SIM_OWNER';
// The launcher reads the password from here, so it never shows in `ps` output.
const PASSWORD_ENV = 'VCSIM_PASSWORD';

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const STDERR_TAIL_CHARS = 16_384;
// Any non-empty pair logs in when no credentials are set; these are what we hand to clients.
const DEFAULT_USERNAME = 'user';
const DEFAULT_PASSWORD = 'pass';

/** How the launcher process is started; tests of the teardown tag launchers with other owners. */
export interface LaunchOptions {
  /** Pid recorded as the launcher's owner (SIMULATOR_OWNER_ENV); default this process. */
  ownerPid?: number;
}

/** Starts a vcsim launcher and resolves once it prints its ready line. */
export async function startSimulator(opts: SimulatorOptions = {}, launch: LaunchOptions = {}): Promise<RunningSimulator> {
  if ((opts.username === undefined) !== (opts.password === undefined)) {
    throw new Error('startSimulator: set both username and password, or neither (then any non-empty pair logs in)');
  }
  const launcher = findPeer('vcsim-launcher');
  const tls = opts.tls ?? true;
  const args = launcherArgs(opts, tls);
  const ownsStateDir = opts.stateDir === undefined;
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'vic-sim-'));
  if (tls) args.push('-cert-file', join(stateDir, 'vcsim-cert.pem'));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The model's govcsim-* datastore dirs go to os.TempDir(), i.e. into stateDir.
    TMPDIR: stateDir,
    [SIMULATOR_OWNER_ENV]: String(launch.ownerPid ?? process.pid),
  };
  delete env[PASSWORD_ENV];
  if (opts.password !== undefined) env[PASSWORD_ENV] = opts.password;
  const child = spawn(launcher, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const stderr = new StderrTail();
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.append(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  let serving = false;
  // A launcher that dies under its user (a crash, a kill) says so, with its log: every call after
  // it is refused, and the cause is on this stderr rather than lost with the process. One that
  // never got ready is told of by the error its start throws, and one stopped on purpose not at all.
  child.once('exit', (code, signal) => {
    if (stopping || !serving) return;
    process.stderr.write(
      `vic-iac: the vSphere simulator's launcher (pid ${String(child.pid)}) exited unexpectedly (${signal ?? `exit code ${String(code)}`}); the end of its log:\n${stderr.text() || '(empty)'}\n`,
    );
  });

  let ready: ReadyLine;
  try {
    ready = await waitForReadyLine(child, launcher, stderr);
    serving = true;
  } catch (err) {
    stopping = exited;
    child.kill('SIGKILL');
    await exited;
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }

  const certPem = ready.certFile ? readFileSync(ready.certFile, 'utf8') : undefined;
  const control = new SimulatorControl(ready.url, certPem);
  const stop = (): Promise<void> => {
    stopping ??= stopLauncher(child, exited, ready.pid, stderr).finally(async () => {
      await control.close();
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    });
    return stopping;
  };

  return {
    url: ready.url,
    username: opts.username ?? DEFAULT_USERNAME,
    password: opts.password ?? DEFAULT_PASSWORD,
    thumbprint: ready.thumbprint,
    certPem,
    pid: ready.pid,
    startupMs: ready.startupMs,
    control,
    logTail: () => stderr.text(),
    stop,
  };
}

function launcherArgs(opts: SimulatorOptions, tls: boolean): string[] {
  const args: string[] = ['-l', opts.listen ?? '127.0.0.1:0', `-tls=${tls}`];
  const counts: [keyof SimulatorOptions, string][] = [
    ['datacenters', '-dc'],
    ['clusters', '-cluster'],
    ['hostsPerCluster', '-host'],
    ['standaloneHosts', '-standalone-host'],
    ['datastores', '-ds'],
    ['portgroups', '-pg'],
    ['vms', '-vm'],
  ];
  for (const [option, flag] of counts) {
    const value = opts[option];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new Error(`startSimulator: ${option} must be a non-negative integer, got ${String(value)}`);
    }
    args.push(flag, String(value));
  }
  if (opts.dvs !== undefined) args.push(`-dvs=${opts.dvs}`);
  if (opts.username !== undefined) args.push('-username', opts.username);
  args.push(...guestRunnerArgs(opts.runGuests));
  return args;
}

/** Launcher flags for the guest runner; shared with `vic sim`. */
export function guestRunnerArgs(run: SimulatorOptions['runGuests']): string[] {
  if (!run) return [];
  const options = run === true ? {} : run;
  const args = ['-run-guests'];
  if (options.maxRunning !== undefined) {
    if (!Number.isInteger(options.maxRunning) || options.maxRunning < 1) {
      throw new Error(`startSimulator: runGuests.maxRunning must be an integer >= 1, got ${String(options.maxRunning)}`);
    }
    args.push('-run-max', String(options.maxRunning));
  }
  if (options.accel !== undefined) args.push('-run-accel', options.accel);
  return args;
}

function waitForReadyLine(child: ChildProcess, launcher: string, stderr: StderrTail): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const fail = (reason: string): void => {
      clearTimeout(timer);
      lines.close();
      reject(new Error(`vcsim launcher ${launcher} ${reason}; its stderr:\n${stderr.text() || '(empty)'}`));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`));
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        const ready = JSON.parse(line) as ReadyLine;
        if (typeof ready.url !== 'string' || typeof ready.pid !== 'number') throw new Error('missing url or pid');
        // Keep draining stdout so a stray print can never block the launcher on a full pipe.
        child.stdout!.resume();
        resolve(ready);
      } catch (err) {
        fail(`printed an unreadable ready line ${JSON.stringify(line)} (${(err as Error).message})`);
      }
    });
  });
}

async function stopLauncher(child: ChildProcess, exited: Promise<void>, pid: number, stderr: StderrTail): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const inTime = await Promise.race([exited.then(() => true), delay(STOP_TIMEOUT_MS).then(() => false)]);
  if (inTime) return;
  child.kill('SIGKILL');
  await exited;
  throw new Error(
    `vcsim launcher pid ${pid} ignored SIGTERM for ${STOP_TIMEOUT_MS} ms and was killed; ` +
      `its govcsim-* datastore dirs may remain in the temp dir. Its stderr:\n${stderr.text()}`,
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The last few KiB of the launcher's stderr, for error messages. */
class StderrTail {
  private buffer = '';

  append(chunk: string): void {
    this.buffer = (this.buffer + chunk).slice(-STDERR_TAIL_CHARS);
  }

  text(): string {
    return this.buffer.trim();
  }
}

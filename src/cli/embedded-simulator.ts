/**
 * `vic sim`: the vSphere simulator (our vcsim launcher) as a background service of the user, so
 * the CLI, Terraform and Pulumi can all talk to it. Its state lives in
 * `$XDG_DATA_HOME/vic-iac/sim` (default `~/.local/share/vic-iac/sim`): `sim.json` (pid, URL,
 * thumbprint), `password` (0600, never printed), `cert.pem`, `launcher.log`, and the model's
 * datastores under `datastores/`. It listens on loopback only, with TLS and exact credentials.
 * Powered-on container VMs run in QEMU (docs/runner.md) unless started with `guests: false`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PeerMissingError, findPeer } from '../sim/peers';
import { guestRunnerArgs } from '../sim/simulator';

export const SIM_USER = 'vic';
export const DEFAULT_SIM_PORT = 8989;
/** The launcher's bound on QEMU processes when --max-guests is not given. */
export const DEFAULT_MAX_GUESTS = 2;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface SimulatorRecord {
  readonly pid: number;
  readonly url: string;
  readonly username: string;
  readonly thumbprint: string;
  readonly certFile: string;
  readonly passwordFile: string;
  readonly startedAt: string;
  /** Whether powered-on container VMs run in QEMU (docs/runner.md). */
  readonly guests?: boolean;
  /** QEMU processes at once, when guests run (absent in records of older vic: the default). */
  readonly maxGuests?: number;
}

export interface EmbeddedSimulatorOptions {
  readonly port?: number;
  /** Run container VMs in QEMU; default true (the point of the embedded vSphere is to run them). */
  readonly guests?: boolean;
  /** QEMU processes at once (the runner's queue holds the rest). */
  readonly maxGuests?: number;
}

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
}

export function simulatorStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'vic-iac', 'sim');
}

const files = (dir: string) => ({
  record: join(dir, 'sim.json'),
  password: join(dir, 'password'),
  cert: join(dir, 'cert.pem'),
  ready: join(dir, 'ready.json'),
  log: join(dir, 'launcher.log'),
  datastores: join(dir, 'datastores'),
});

function readRecord(dir: string): SimulatorRecord | undefined {
  try {
    return JSON.parse(readFileSync(files(dir).record, 'utf8')) as SimulatorRecord;
  } catch {
    return undefined;
  }
}

/** True when pid is a live vcsim launcher (not a recycled pid of something else). */
function isLauncher(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0].endsWith('vcsim-launcher');
  } catch {
    // No /proc (not Linux): the pid is alive, trust the record.
    return true;
  }
}

function portAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The running simulator of this state dir, or undefined (a stale record is left for start to replace). */
export async function runningSimulator(dir: string): Promise<SimulatorRecord | undefined> {
  const record = readRecord(dir);
  if (!record || !isLauncher(record.pid)) return undefined;
  return (await portAnswers(record.url)) ? record : undefined;
}

export interface StartResult {
  readonly record: SimulatorRecord;
  /** True when a live simulator was found and kept. */
  readonly reused: boolean;
}

/** Starts the simulator in the background, or returns the live one. */
export async function startEmbeddedSimulator(dir: string, options: EmbeddedSimulatorOptions = {}): Promise<StartResult> {
  const live = await runningSimulator(dir);
  if (live) return { record: live, reused: true };
  const guests = options.guests ?? true;
  if (guests) {
    for (const peer of ['qemu-system-x86_64', 'qemu-img']) {
      try {
        findPeer(peer);
      } catch (e) {
        if (!(e instanceof PeerMissingError)) throw e;
        throw new SimulatorError(`running container VMs needs ${peer}: ${e.installHint}; or pass --no-guests for a simulator whose VMs never run`);
      }
    }
  }
  const f = files(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(f.datastores, { recursive: true, mode: 0o700 });
  // A record whose process died (reboot, kill -9): the old model's datastores are garbage now.
  rmSync(f.record, { force: true });
  rmSync(f.ready, { force: true });
  const password = randomBytes(18).toString('base64url');
  writeFileSync(f.password, `${password}\n`, { mode: 0o600 });
  const launcher = findPeer('vcsim-launcher');
  const port = options.port ?? DEFAULT_SIM_PORT;
  const readyFd = openSync(f.ready, 'w', 0o600);
  const logFd = openSync(f.log, 'a', 0o600);
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: f.datastores, VCSIM_PASSWORD: password };
  // Not tagged with the test owner variable: this simulator is meant to outlive its starter.
  delete env.VIC_SIM_OWNER;
  const runner = guests ? guestRunnerArgs({ maxRunning: options.maxGuests }) : [];
  const child = spawn(launcher, ['-l', `127.0.0.1:${port}`, '-tls=true', '-cert-file', f.cert, '-username', SIM_USER, ...runner], {
    detached: true,
    stdio: ['ignore', readyFd, logFd],
    env,
  });
  closeSync(readyFd);
  closeSync(logFd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with code ${code} signal ${signal}`));
  child.once('error', (err) => (exited = `could not start (${err.message})`));
  child.unref();

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const text = existsSync(f.ready) ? readFileSync(f.ready, 'utf8') : '';
    const line = text.split('\n')[0];
    if (text.includes('\n') && line) {
      const ready = JSON.parse(line) as { url: string; thumbprint: string; pid: number };
      const record: SimulatorRecord = {
        pid: ready.pid,
        url: ready.url,
        username: SIM_USER,
        thumbprint: ready.thumbprint,
        certFile: f.cert,
        passwordFile: f.password,
        startedAt: new Date().toISOString(),
        guests,
        ...(guests ? { maxGuests: options.maxGuests ?? DEFAULT_MAX_GUESTS } : {}),
      };
      writeFileSync(f.record, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
      return { record, reused: false };
    }
    if (exited !== undefined || Date.now() > deadline) {
      if (exited === undefined && child.pid) process.kill(child.pid, 'SIGKILL');
      const tail = existsSync(f.log) ? readFileSync(f.log, 'utf8').slice(-2000).trim() : '';
      const hint = /address already in use/.test(tail) ? ` Port ${port} is taken: pass --port <n> (0 picks a free one) or stop what listens there.` : '';
      throw new SimulatorError(`the simulator ${exited ?? `was not ready within ${READY_TIMEOUT_MS / 1000} s`}.${hint} Its log (${f.log}):\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * How the running simulator differs from options given explicitly (`requested` holds only those),
 * each as the option that would start it so: empty when it matches. Port 0 (any free port) matches
 * any port.
 */
export function differingOptions(record: SimulatorRecord, requested: EmbeddedSimulatorOptions): { asked: string[]; has: string[] } {
  const asked: string[] = [];
  const has: string[] = [];
  const port = Number(new URL(record.url).port);
  if (requested.port !== undefined && requested.port !== 0 && requested.port !== port) {
    asked.push(`--port ${requested.port}`);
    has.push(`port ${port}`);
  }
  const guests = record.guests !== false;
  if (requested.guests !== undefined && requested.guests !== guests) {
    asked.push(requested.guests ? 'guests (no --no-guests)' : '--no-guests');
    has.push(guests ? 'guests running in QEMU' : '--no-guests');
  }
  if (requested.maxGuests !== undefined && requested.guests !== false && guests) {
    const current = record.maxGuests ?? DEFAULT_MAX_GUESTS;
    if (requested.maxGuests !== current) {
      asked.push(`--max-guests ${requested.maxGuests}`);
      has.push(`--max-guests ${current}`);
    }
  }
  return { asked, has };
}

/** Stops the simulator of this state dir; false when none was running. */
export async function stopEmbeddedSimulator(dir: string): Promise<{ stopped: boolean; pid?: number }> {
  const f = files(dir);
  const record = readRecord(dir);
  if (!record || !isLauncher(record.pid)) {
    rmSync(f.record, { force: true });
    return { stopped: false };
  }
  // SIGTERM lets the launcher remove its datastore dirs; SIGKILL only if it hangs.
  process.kill(record.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isLauncher(record.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isLauncher(record.pid)) process.kill(record.pid, 'SIGKILL');
  rmSync(f.record, { force: true });
  rmSync(f.ready, { force: true });
  return { stopped: true, pid: record.pid };
}

/** Shell lines that point VSPHERE_* at the simulator; the password is read from its file, never printed. */
export function exportLines(record: SimulatorRecord): string[] {
  return [
    `export VSPHERE_SERVER=${record.url}`,
    `export VSPHERE_USER=${record.username}`,
    `export VSPHERE_PASSWORD="$(cat ${shellQuote(record.passwordFile)})"`,
    `export VSPHERE_THUMBPRINT=${record.thumbprint}`,
  ];
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Boots a container VM in QEMU the way vSphere would: the bootstrap ISO as a CD-ROM, the image
 * disk behind a qcow2 overlay on a PVSCSI controller (the r/w child delta disk), and the container
 * config over fw_cfg. Software emulation (TCG) only, so it runs on any machine, with a hard timeout.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseOutputLine } from '../../src/resources/console-log';
import { findPeer } from '../../src/sim/peers';

const execFileAsync = promisify(execFile);

export function projectRoot(): string {
  return join(__dirname, '..', '..');
}

/** The console protocol (docs/guest-config.md): the tether's own lines start with this. */
export const TETHER_PREFIX = 'vic-tether: ';

export function bootstrapCacheDir(): string {
  return process.env.VIC_CACHE ? join(process.env.VIC_CACHE, 'bootstrap') : join(projectRoot(), '.cache', 'bootstrap');
}

/**
 * The bootstrap ISO, rebuilt first when guest/tether or the build script changed (the setup step
 * is quick when it is current). A lock keeps parallel test files from building it twice.
 */
export async function ensureBootstrapIso(): Promise<string> {
  const step = join(projectRoot(), 'scripts', 'peers', '50-bootstrap-iso.sh');
  try {
    await execFileAsync('flock', ['/tmp/vic-bootstrap-iso.lock', 'bash', step], { cwd: projectRoot(), maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`building the bootstrap ISO failed (${step}): ${(e.stderr ?? e.message).trim().slice(-2000)}; run "npm run setup" to see the whole log`);
  }
  return join(bootstrapCacheDir(), 'bootstrap.iso');
}

/** Creates a qcow2 overlay whose backing file is the raw image disk, as vSphere makes a child delta disk. */
export async function createOverlay(baseRaw: string, overlay: string): Promise<void> {
  await execFileAsync(findPeer('qemu-img'), ['create', '-q', '-f', 'qcow2', '-b', baseRaw, '-F', 'raw', overlay]);
}

/** Reads one file from the ext4 filesystem on a disk (raw or qcow2 with its backing chain), without booting. */
export async function readFileFromDisk(disk: string, path: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vic-disk-'));
  try {
    const raw = join(dir, 'flat.raw');
    await execFileAsync(findPeer('qemu-img'), ['convert', '-O', 'raw', disk, raw]);
    const { stdout } = await execFileAsync(findDebugfs(), ['-R', `cat ${path}`, raw], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function findDebugfs(): string {
  try {
    return findPeer('debugfs');
  } catch {
    // debugfs lives in sbin, which a non-root PATH may lack.
  }
  for (const candidate of ['/usr/sbin/debugfs', '/sbin/debugfs']) if (existsSync(candidate)) return candidate;
  throw new Error('debugfs not found: run "npm run setup" or "apt-get install e2fsprogs"');
}

export interface ContainerVmBootOptions {
  readonly iso: string;
  /** The container's r/w disk: a qcow2 overlay over the image disk. */
  readonly disk: string;
  /** Path of the config JSON given over fw_cfg as opt/vic/config; undefined gives none. */
  readonly configFile?: string;
  readonly firmware?: 'bios' | 'efi';
  /** The controller of the container disk: PVSCSI as on ESXi (default), virtio-blk, or SATA (AHCI). */
  readonly diskBus?: 'pvscsi' | 'virtio' | 'sata';
  readonly timeoutMs: number;
  readonly memoryMb?: number;
}

export interface ConsoleLine {
  /** The line; for the container's output, the text inside its frame (see `stream`). */
  readonly text: string;
  /** Set for the container's output: the stream the tether framed it from. */
  readonly stream?: 'stdout' | 'stderr';
  /** Milliseconds since QEMU was started. */
  readonly atMs: number;
}

export interface ContainerVmBoot {
  /** The whole serial console, carriage returns removed. */
  readonly console: string;
  readonly lines: readonly ConsoleLine[];
  /** QEMU's exit code: 0 when the guest powered off. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly stderr: string;
}

const DISK_CONTROLLERS: Record<NonNullable<ContainerVmBootOptions['diskBus']>, string[]> = {
  pvscsi: ['-device', 'pvscsi,id=pvscsi0', '-device', 'scsi-hd,drive=rootdisk,bus=pvscsi0.0'],
  virtio: ['-device', 'virtio-blk-pci,drive=rootdisk'],
  sata: ['-device', 'ahci,id=ahci0', '-device', 'ide-hd,drive=rootdisk,bus=ahci0.0'],
};

/** Where Debian's ovmf package puts the EFI firmware. */
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export async function bootContainerVm(options: ContainerVmBootOptions): Promise<ContainerVmBoot> {
  const qemu = findPeer('qemu-system-x86_64');
  const scratch = await mkdtemp(join(tmpdir(), 'vic-qemu-'));
  const args = [
    '-machine',
    'pc,accel=tcg',
    '-m',
    String(options.memoryMb ?? 512),
    '-smp',
    '1',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    'stdio',
    // The status channel the runner reads (src/sim/runner); here nobody listens.
    '-serial',
    'null',
    // A guest that reboots (a kernel panic with panic=5) ends QEMU instead of looping.
    '-no-reboot',
    '-nic',
    'none',
    '-drive',
    `file=${options.iso},media=cdrom,if=ide,index=2,readonly=on,format=raw`,
    '-boot',
    'order=d',
    '-drive',
    `file=${options.disk},if=none,id=rootdisk,format=qcow2`,
    ...DISK_CONTROLLERS[options.diskBus ?? 'pvscsi'],
  ];
  if (options.configFile) args.push('-fw_cfg', `name=opt/vic/config,file=${options.configFile}`);
  if (options.firmware === 'efi') {
    const vars = join(scratch, 'OVMF_VARS.fd');
    try {
      await copyFile(OVMF_VARS, vars);
    } catch {
      throw new Error(`EFI firmware ${OVMF_VARS} not found: run "npm run setup" or "apt-get install ovmf"`);
    }
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,file=${vars}`);
  }

  const started = Date.now();
  const child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: ConsoleLine[] = [];
  let console = '';
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    const text = chunk.replace(/\r/g, '');
    console += text;
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    const atMs = Date.now() - started;
    for (const p of parts) lines.push(consoleLine(p, atMs));
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    if (partial) lines.push(consoleLine(partial, Date.now() - started));
    return { console, lines, exitCode, timedOut, durationMs: Date.now() - started, stderr };
  } finally {
    clearTimeout(timer);
    await rm(scratch, { recursive: true, force: true });
  }
}

function consoleLine(text: string, atMs: number): ConsoleLine {
  const output = parseOutputLine(text);
  return output ? { text: output.text, stream: output.stream, atMs } : { text, atMs };
}

/** The tether's own console lines, without the prefix. */
export function tetherLines(boot: ContainerVmBoot): string[] {
  return boot.lines.filter((l) => l.text.startsWith(TETHER_PREFIX)).map((l) => l.text.slice(TETHER_PREFIX.length));
}

/** The exit status the tether reported; throws unless there is exactly one such line. */
export function reportedExitStatus(boot: ContainerVmBoot): number {
  const statuses = tetherLines(boot).filter((l) => l.startsWith('exit-status '));
  if (statuses.length !== 1) {
    throw new Error(`expected exactly one "vic-tether: exit-status N" line, found ${statuses.length}; console:\n${boot.console}`);
  }
  return Number(statuses[0].slice('exit-status '.length));
}

/** A readable summary for assertion messages: the last console lines and QEMU's stderr. */
export function describeBoot(boot: ContainerVmBoot): string {
  return `QEMU exit ${boot.exitCode}${boot.timedOut ? ' (killed on timeout)' : ''} after ${boot.durationMs} ms\n--- console ---\n${boot.console.slice(-6000)}\n--- qemu stderr ---\n${boot.stderr}`;
}

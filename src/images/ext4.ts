/**
 * Builds the ext4 filesystem of an image from its staging directory with `mke2fs -d`.
 *
 * Owners, modes and device nodes recorded by the flattener are applied first, in the SAME session as
 * mke2fs: directly when we are root, else under one `fakeroot` session (fakeroot's fake owners only
 * exist inside the session that made them, so chown and mke2fs must share it).
 *
 * The filesystem carries the label `vic-rootfs` and a UUID derived from the manifest digest: the
 * guest's tether finds its root disk by them.
 */
import { spawn } from 'node:child_process';
import { access, constants, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FilesystemBuildError, MissingToolError } from './errors';
import type { OwnershipPlan, StagingStats } from './flatten';
import { digestHex } from './reference';

export const ROOTFS_LABEL = 'vic-rootfs';
const MiB = 1024 * 1024;

/**
 * The filesystem UUID of an image's rootfs: the first 32 hex digits of the manifest digest, shaped
 * as an RFC 4122 UUID of version 8 ("custom"), so it is stable, unique per image and valid.
 */
export function rootfsUuidForDigest(digest: string): string {
  const hex = digestHex(digest).slice(0, 32).split('');
  hex[12] = '8';
  // Variant bits 10xx in the high bits of clock_seq_hi.
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface FilesystemSize {
  /** What the content needs, with ext4's metadata and journal. */
  readonly requiredBytes: number;
  /** The size chosen: the request, or the content plus headroom. A multiple of 1 MiB. */
  readonly sizeBytes: number;
  readonly inodes: number;
}

/**
 * Sizes the filesystem. The default leaves a quarter (at least 64 MiB) free: the container's
 * writable disk is a child of this one and can never be larger.
 */
export function planFilesystemSize(stats: StagingStats, requestedMb?: number): FilesystemSize {
  const inodeTable = stats.inodes * 256;
  // Journal (up to 64 MiB for large filesystems), group descriptors, bitmaps: a fixed allowance
  // plus 3% of the data covers mke2fs's own overhead at every size we build.
  const overhead = 24 * MiB + Math.ceil(stats.dataBytes * 0.03) + Math.min(64 * MiB, Math.ceil(stats.dataBytes / 64));
  const requiredBytes = roundUp(stats.dataBytes + inodeTable * 2 + overhead, MiB);
  let sizeBytes: number;
  if (requestedMb !== undefined) {
    sizeBytes = requestedMb * MiB;
    if (sizeBytes < requiredBytes) {
      throw new FilesystemBuildError(
        `size_mb ${requestedMb} is too small for this image: its content needs at least ${Math.ceil(requiredBytes / MiB)} MB; raise size_mb or leave it unset`,
      );
    }
  } else {
    sizeBytes = roundUp(requiredBytes + Math.max(64 * MiB, Math.ceil(requiredBytes / 4)), 4 * MiB);
  }
  const headroomInodes = Math.floor((sizeBytes - requiredBytes) / 16384);
  const inodes = Math.ceil(stats.inodes * 1.1) + 1024 + headroomInodes;
  return { requiredBytes, sizeBytes, inodes };
}

export type PrivilegeMode = 'auto' | 'fakeroot';

export interface BuildExt4Options {
  readonly stagingRoot: string;
  readonly plan: OwnershipPlan;
  /** The image file to create; it becomes the VMDK's flat extent. */
  readonly output: string;
  /** A scratch directory for the path lists and the script (inside the staging area). */
  readonly workDir: string;
  readonly uuid: string;
  readonly size: FilesystemSize;
  /** `auto`: run directly as root, under fakeroot otherwise. `fakeroot`: always fakeroot. */
  readonly privilege?: PrivilegeMode;
  readonly signal?: AbortSignal;
}

/** Applies the ownership plan and runs mke2fs in one (fake)root session. */
export async function buildExt4(options: BuildExt4Options): Promise<void> {
  const mke2fs = await findTool('mke2fs', 'e2fsprogs');
  const useFakeroot = options.privilege === 'fakeroot' || process.getuid?.() !== 0;
  const fakeroot = useFakeroot ? await findTool('fakeroot', 'fakeroot') : undefined;

  const lines = ['set -eu'];
  let listNumber = 0;
  const writeList = async (paths: readonly string[]): Promise<string> => {
    const file = join(options.workDir, `paths-${listNumber++}.list`);
    await writeFile(file, paths.map((p) => `${p}\0`).join(''));
    return file;
  };
  for (const { path, node, mode } of options.plan.devices) {
    const numbers = node.kind === 'p' ? '' : ` ${node.major} ${node.minor}`;
    lines.push(`rm -f -- ${shellQuote(path)}`, `mknod -m ${octalMode(mode)} -- ${shellQuote(path)} ${node.kind}${numbers}`);
  }
  // chown before chmod: changing the owner clears set-user-ID and set-group-ID bits.
  for (const [owner, paths] of options.plan.owners) {
    lines.push(`xargs -0 -r chown -h -- ${owner} < ${shellQuote(await writeList(paths))}`);
  }
  for (const [mode, paths] of options.plan.modes) {
    lines.push(`xargs -0 -r chmod -- ${octalMode(mode)} < ${shellQuote(await writeList(paths))}`);
  }
  const sizeKiB = options.size.sizeBytes / 1024;
  lines.push(
    [
      shellQuote(mke2fs),
      '-q -F -t ext4 -b 4096 -m 0',
      `-L ${ROOTFS_LABEL}`,
      `-U ${options.uuid}`,
      // A fixed hash seed keeps the directory hashes (and so the image bytes) reproducible.
      `-E hash_seed=${options.uuid}`,
      `-N ${options.size.inodes}`,
      `-d ${shellQuote(options.stagingRoot)}`,
      shellQuote(options.output),
      `${sizeKiB}k`,
    ].join(' '),
  );
  const script = join(options.workDir, 'build-rootfs.sh');
  await writeFile(script, `${lines.join('\n')}\n`);

  const command = fakeroot ? [fakeroot, '--', 'sh', script] : ['sh', script];
  const { code, stderr } = await run(command, options.signal);
  if (code !== 0) {
    throw new FilesystemBuildError(
      `building the ext4 filesystem failed (${fakeroot ? 'fakeroot ' : ''}mke2fs, exit ${code}): ${stderr.trim().slice(-2000) || 'no output'}; check free space in ${options.workDir}`,
    );
  }
}

async function run(command: string[], signal?: AbortSignal): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      // Keep the tail only: a failing mke2fs on a huge tree can print a lot.
      stderr = (stderr + chunk).slice(-16384);
    });
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stderr }));
  });
}

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Finds a tool on PATH or in the sbin directories a non-root PATH usually lacks. */
export async function findTool(name: string, debianPackage: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new MissingToolError(name, debianPackage);
}

function octalMode(mode: number): string {
  // Five digits: a leading 0 makes GNU chmod clear set-ID bits on directories, not keep them.
  return `0${(mode & 0o7777).toString(8).padStart(4, '0')}`;
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function roundUp(value: number, unit: number): number {
  return Math.ceil(value / unit) * unit;
}

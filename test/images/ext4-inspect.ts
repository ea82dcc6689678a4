/**
 * Reads an ext4 image the way the guest will see it, with e2fsprogs' debugfs and dumpe2fs (no
 * mount, no root needed): file contents, types, modes, owners, link targets, label and UUID.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HINT = 'install e2fsprogs ("apt-get install -y e2fsprogs" or "npm run setup")';

export interface Ext4Inode {
  readonly inode: number;
  readonly type: string;
  /** Permission bits, e.g. 0o4755. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly links: number;
  readonly symlinkTarget?: string;
  readonly deviceNumbers?: { major: number; minor: number };
}

async function debugfs(image: string, request: string): Promise<{ stdout: string; stderr: string }> {
  const bin = await locate('debugfs');
  return run(bin, ['-R', request, image], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
}

async function locate(tool: string): Promise<string> {
  for (const dir of ['/usr/sbin', '/sbin', ...(process.env.PATH ?? '').split(':')]) {
    try {
      await run('test', ['-x', `${dir}/${tool}`]);
      return `${dir}/${tool}`;
    } catch {
      // next
    }
  }
  throw new Error(`${tool} is not installed; ${HINT}`);
}

/** The inode at `path`, or undefined when the path does not exist in the filesystem. */
export async function statPath(image: string, path: string): Promise<Ext4Inode | undefined> {
  const { stdout, stderr } = await debugfs(image, `stat "${path}"`);
  if (/File not found|not found by ext2_lookup/.test(stderr) || !/Inode:/.test(stdout)) return undefined;
  const field = (re: RegExp) => {
    const m = re.exec(stdout);
    if (!m) throw new Error(`debugfs stat ${path}: no match for ${re} in:\n${stdout}`);
    return m[1];
  };
  const fast = /Fast link dest: "(.*)"/.exec(stdout)?.[1];
  const device = /Device major\/minor number: (\d+):(\d+)/.exec(stdout);
  return {
    inode: Number(field(/Inode: (\d+)/)),
    type: field(/Type: (\S+)/),
    mode: parseInt(field(/Mode:\s+(\d+)/), 8),
    uid: Number(field(/User:\s+(\d+)/)),
    gid: Number(field(/Group:\s+(\d+)/)),
    size: Number(field(/Size: (\d+)/)),
    links: Number(field(/Links: (\d+)/)),
    ...(fast !== undefined ? { symlinkTarget: fast } : {}),
    ...(device ? { deviceNumbers: { major: Number(device[1]), minor: Number(device[2]) } } : {}),
  };
}

export async function readPath(image: string, path: string): Promise<string> {
  const { stdout } = await debugfs(image, `cat "${path}"`);
  return stdout;
}

/** Names in a directory (without . and ..). */
export async function listDirectory(image: string, path: string): Promise<string[]> {
  const { stdout } = await debugfs(image, `ls -p "${path}"`);
  return stdout
    .split('\n')
    .map((line) => line.split('/'))
    .filter((f) => f.length >= 7)
    .map((f) => f[5])
    .filter((name) => name !== '.' && name !== '..')
    .sort();
}

export async function superblock(image: string): Promise<{ label: string; uuid: string; blockCount: number; blockSize: number }> {
  const { stdout } = await run(await locate('dumpe2fs'), ['-h', image], { encoding: 'utf8' });
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(stdout)?.[1].trim() ?? '';
  return {
    label: field('Filesystem volume name'),
    uuid: field('Filesystem UUID'),
    blockCount: Number(field('Block count')),
    blockSize: Number(field('Block size')),
  };
}

/** e2fsck -n: a read-only consistency check; throws with its report when the image is damaged. */
export async function checkFilesystem(image: string): Promise<void> {
  try {
    await run(await locate('e2fsck'), ['-f', '-n', image], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(`e2fsck found problems in ${image}: ${(err as { stdout?: string }).stdout ?? (err as Error).message}`);
  }
}

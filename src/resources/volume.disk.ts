/**
 * The bytes of a new volume: an empty ext4 filesystem made locally with mke2fs (as the image
 * pipeline makes image filesystems), in a sparse temporary file. It is stored as the image pipeline
 * stores a disk (src/images storeRawDisk): only its few MiB of metadata travel when the server
 * converts a sparse upload, the whole size when it refuses.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from '../images/ext4';
import { ResourceError } from './errors';

/** The label of every volume filesystem: the tether tells a volume from a container disk by it. */
export const VOLUME_LABEL = 'vic-volume';

export interface VolumeFilesystem {
  readonly flatFile: string;
  readonly sizeBytes: number;
  /** What the disk's descriptors derive their content ID from: stable per volume. */
  readonly digest: string;
  readonly dispose: () => Promise<void>;
}

/** Formats `sizeMb` of ext4 with the given UUID into a temporary sparse file. */
export async function makeVolumeFilesystem(volumeId: string, uuid: string, sizeMb: number, signal?: AbortSignal): Promise<VolumeFilesystem> {
  const mke2fs = await findTool('mke2fs', 'e2fsprogs');
  const dir = await mkdtemp(join(tmpdir(), 'vic-volume-'));
  const flatFile = join(dir, 'volume-flat.img');
  // root_owner: mke2fs would otherwise make the root directory the local user's; the tether hands
  // it to the container's user at mount. The hash seed keeps the bytes a function of the inputs.
  const args = [
    '-q',
    '-F',
    '-t',
    'ext4',
    '-b',
    '4096',
    '-m',
    '0',
    '-L',
    VOLUME_LABEL,
    '-U',
    uuid,
    '-E',
    `root_owner=0:0,hash_seed=${uuid}`,
    flatFile,
    `${sizeMb}M`,
  ];
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    const child = spawn(mke2fs, args, { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (err = (err + c).slice(-4096)));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? 1, stderr: err }));
  }).catch(async (e: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw e;
  });
  if (code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new ResourceError(`formatting volume ${volumeId} failed (mke2fs exit ${code}): ${stderr.trim() || 'no output'}; check free space in ${tmpdir()}`);
  }
  const sizeBytes = (await stat(flatFile)).size;
  const digest = `sha256:${createHash('sha256').update(volumeId).digest('hex')}`;
  return {
    flatFile,
    sizeBytes,
    digest,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

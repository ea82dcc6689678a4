/**
 * The probe image: a busybox rootfs whose entrypoint prints what the tether gave it (args, cwd,
 * user, host name, env) on the console and writes a file, so a boot test can check every part of
 * the container config from the serial console, and the disk afterwards.
 *
 * One list of entries feeds both builds: an OCI layout that the project's image pipeline pulls
 * from a registry (the real path), and a direct mke2fs build for tests about firmware only.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findPeer } from '../../src/sim/peers';
import type { ImageSpec, TarEntrySpec } from '../helpers/oci-layout';

const execFileAsync = promisify(execFile);

export const PROBE_ENTRYPOINT = '/probe/entrypoint.sh';
export const PROBE_USER = { name: 'app', uid: 1000, gid: 1000, home: '/home/app' };

const ENTRYPOINT = `#!/bin/sh
for arg in "$@"; do echo "probe-arg: [$arg]"; done
echo "probe-cwd: $(pwd)"
echo "probe-id: $(id -u):$(id -g) $(id -un)"
echo "probe-hostname: $(hostname)"
env | sort | sed 's/^/probe-env: /'
echo "$*" >> /data/written.txt
echo "probe-wrote: /data/written.txt"
`;

const APPLETS = ['sh', 'echo', 'id', 'pwd', 'env', 'sort', 'sed', 'cat', 'ls', 'hostname', 'sleep', 'test', '[', 'mkdir', 'httpd', 'wget'];

/** Debian's busybox-static: the image must not need a dynamic loader. */
const STATIC_BUSYBOX = '/bin/busybox';

/** The probe rootfs as tar entries (one layer). */
export function probeRootfsEntries(): TarEntrySpec[] {
  if (!existsSync(STATIC_BUSYBOX)) {
    throw new Error(`${STATIC_BUSYBOX} not found: run "npm run setup" or "apt-get install busybox-static"`);
  }
  const { uid, gid } = PROBE_USER;
  return [
    ...['bin', 'etc', 'probe', 'proc', 'sys', 'dev', 'home'].map((path): TarEntrySpec => ({ type: 'dir', path })),
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'data', uid, gid },
    { type: 'dir', path: 'home/app', uid, gid },
    { type: 'file', path: 'bin/busybox', content: readFileSync(STATIC_BUSYBOX), mode: 0o755 },
    ...APPLETS.map((applet): TarEntrySpec => ({ type: 'symlink', path: `bin/${applet}`, target: 'busybox' })),
    { type: 'file', path: 'etc/passwd', content: `root:x:0:0:root:/root:/bin/sh\n${PROBE_USER.name}:x:${uid}:${gid}:probe:${PROBE_USER.home}:/bin/sh\n` },
    { type: 'file', path: 'etc/group', content: `root:x:0:\n${PROBE_USER.name}:x:${gid}:\n` },
    { type: 'file', path: PROBE_ENTRYPOINT.slice(1), content: ENTRYPOINT, mode: 0o755 },
  ];
}

/** The probe image for writeOciLayout, with Docker-style defaults the container config overrides. */
export function probeImageSpec(): ImageSpec {
  return {
    layers: [{ entries: probeRootfsEntries() }],
    config: {
      Entrypoint: [PROBE_ENTRYPOINT],
      Cmd: ['image-default-cmd'],
      Env: ['PATH=/bin', 'IMAGE_ENV=from-image'],
      WorkingDir: '/data',
      User: PROBE_USER.name,
      // Published by the simulator's guest runner (test/boot/guest-runner.test.ts serves HTTP).
      ExposedPorts: { '80/tcp': {} },
    },
  };
}

/** Builds the probe rootfs straight into an ext4 disk (label vic-rootfs, the given UUID). */
export async function buildProbeImageDisk(output: string, uuid: string): Promise<void> {
  const staging = await mkdtemp(join(tmpdir(), 'vic-probe-rootfs-'));
  const owned: string[] = [];
  try {
    for (const entry of probeRootfsEntries()) {
      const path = join(staging, entry.path);
      await mkdir(dirname(path), { recursive: true });
      if (entry.type === 'dir') await mkdir(path, { recursive: true, mode: entry.mode ?? 0o755 });
      if (entry.type === 'file') await writeFile(path, entry.content ?? '', { mode: entry.mode ?? 0o644 });
      if (entry.type === 'symlink') await symlink(entry.target, path);
      if (entry.type === 'dir' && entry.mode !== undefined) await chmod(path, entry.mode);
      if ((entry.type === 'dir' || entry.type === 'file') && entry.uid) owned.push(`${entry.uid}:${entry.gid ?? 0} ${path}`);
    }
    // chown and mke2fs share one fakeroot session, so the owners survive without root.
    const chowns = owned.map((o) => `chown ${o.split(' ')[0]} '${o.split(' ')[1]}'`).join('; ');
    const script = `set -e; ${chowns}; mke2fs -q -F -t ext4 -L vic-rootfs -U "$2" -E hash_seed="$2" -d "$1" "$3" 32M`;
    await execFileAsync(findPeer('fakeroot'), ['--', 'sh', '-c', script, 'sh', staging, uuid, output], {
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

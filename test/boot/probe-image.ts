/**
 * The probe image: a busybox rootfs whose entrypoint prints what the tether gave it (args, cwd,
 * user, host name, env) on the console and writes a file, so a boot test can check every part of
 * the container config from the serial console, and the disk afterwards.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findPeer } from '../../src/sim/peers';

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

const APPLETS = ['sh', 'echo', 'id', 'pwd', 'env', 'sort', 'sed', 'cat', 'ls', 'hostname', 'sha256sum', 'sleep', 'test', '['];

/** Debian's busybox-static: the image must not need a dynamic loader. */
const STATIC_BUSYBOX = '/bin/busybox';

/** Builds the probe image's ext4 disk (label vic-rootfs, the given UUID) as a raw file. */
export async function buildProbeImageDisk(output: string, uuid: string): Promise<void> {
  if (!existsSync(STATIC_BUSYBOX)) {
    throw new Error(`${STATIC_BUSYBOX} not found: run "npm run setup" or "apt-get install busybox-static"`);
  }
  const staging = await mkdtemp(join(tmpdir(), 'vic-probe-rootfs-'));
  try {
    for (const dir of ['bin', 'etc', 'probe', 'data', 'proc', 'sys', 'dev', 'tmp', 'home/app']) {
      await mkdir(join(staging, dir), { recursive: true });
    }
    await copyFile(STATIC_BUSYBOX, join(staging, 'bin', 'busybox'));
    await chmod(join(staging, 'bin', 'busybox'), 0o755);
    for (const applet of APPLETS) await symlink('busybox', join(staging, 'bin', applet));
    await writeFile(join(staging, 'etc', 'passwd'), `root:x:0:0:root:/root:/bin/sh\n${PROBE_USER.name}:x:${PROBE_USER.uid}:${PROBE_USER.gid}:probe:${PROBE_USER.home}:/bin/sh\n`);
    await writeFile(join(staging, 'etc', 'group'), `root:x:0:\n${PROBE_USER.name}:x:${PROBE_USER.gid}:\n`);
    await writeFile(join(staging, 'probe', 'entrypoint.sh'), ENTRYPOINT, { mode: 0o755 });
    // The probe user owns /data; chown and mke2fs share one fakeroot session so owners survive
    // without root.
    const script = `set -e; chown -R ${PROBE_USER.uid}:${PROBE_USER.gid} "$1/data" "$1/home/app"; ` +
      `mke2fs -q -F -t ext4 -L vic-rootfs -U "$2" -E hash_seed="$2" -d "$1" "$3" 32M`;
    await execFileAsync(findPeer('fakeroot'), ['--', 'sh', '-c', script, 'sh', staging, uuid, output], {
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

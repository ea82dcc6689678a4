/**
 * VIC Group1 1-37 USER: the user a container's process runs as, from the image's USER (a named user
 * in its own group, a uid, a uid:gid) or from `-u`, against guests that really run; a user or group
 * the image does not know fails the run with 125, as with dockerd. VIC's images from Docker Hub are
 * made here: busybox with the USER and /etc/passwd and /etc/group they need, in the bed's registry.
 */
import type { ImageSpec, TarEntrySpec } from '../helpers/oci-layout';
import { busyboxImage, useDockerBed } from './docker-env';

const BOOT_MS = 240_000;

/** busybox with its own /etc/passwd and /etc/group (a user "newuser", uid and gid 1001), running `id` as `user`. */
function imageRunningIdAs(user: string): ImageSpec {
  const base = busyboxImage();
  const entries: TarEntrySpec[] = [
    ...base.layers[0].entries.filter((e) => e.path !== 'etc/passwd' && e.path !== 'etc/group'),
    { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnewuser:x:1001:1001:new user:/home/newuser:/bin/sh\n' },
    { type: 'file', path: 'etc/group', content: 'root:x:0:\nnewuser:x:1001:newuser\n' },
  ];
  return { layers: [{ entries }], config: { ...base.config, User: user, Cmd: ['id'] } };
}

describe('1-37 docker run as USER', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-user' });
  const run = (args: string[]) => bed().docker(['run', '--rm', ...args], { timeoutMs: BOOT_MS });
  const images: Record<string, string> = {};

  beforeAll(async () => {
    images.newuser = await bed().pushImage(imageRunningIdAs('newuser'), 'vic-test/user-newuser:1');
    images.uid = await bed().pushImage(imageRunningIdAs('2000'), 'vic-test/user-uid-2000:1');
    images.uidGid = await bed().pushImage(imageRunningIdAs('2000:2000'), 'vic-test/user-uid-gid-2000:1');
    // Pulled first, so that docker run's stderr is the container's alone.
    for (const image of Object.values(images)) await bed().dockerOk(['pull', image]);
  }, 120_000);

  test(
    'GIVEN an image whose USER is newuser, in group newuser WHEN run THEN id shows that user and group',
    async () => {
      const r = await run([images.newuser]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/^uid=1001\(newuser\) gid=1001\(newuser\) groups=1001\(newuser\)\n$/);
    },
    BOOT_MS,
  );

  test(
    'GIVEN an image whose USER is uid 2000, which /etc/passwd lacks WHEN run THEN the process runs as uid 2000 in group 0 (root)',
    async () => {
      const r = await run([images.uid]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toContain('uid=2000 gid=0(root)');
    },
    BOOT_MS,
  );

  test(
    'GIVEN -u 2000 WHEN busybox id runs THEN it runs as uid 2000 in group 0 (root)',
    async () => {
      const r = await run(['-u', '2000', bed().image, 'id']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toContain('uid=2000 gid=0(root)');
    },
    BOOT_MS,
  );

  test(
    'GIVEN an image whose USER is 2000:2000 WHEN run THEN the process runs as uid 2000, gid 2000',
    async () => {
      const r = await run([images.uidGid]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toContain('uid=2000 gid=2000');
    },
    BOOT_MS,
  );

  test(
    'GIVEN -u 2000:2000 WHEN id runs THEN it runs as uid 2000, gid 2000',
    async () => {
      const r = await run(['-u', '2000:2000', bed().image, 'id']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toContain('uid=2000 gid=2000');
    },
    BOOT_MS,
  );

  test(
    'GIVEN -u with a user the image does not know WHEN run THEN it exits 125 saying it is unable to find the user',
    async () => {
      const r = await run(['--name', 'user-nouser', '-u', 'nonexistent', bed().image, 'busybox', 'whoami']);
      expect(r.code).toBe(125);
      expect(r.stdout).toBe('');
      // dockerd: `unable to find user nonexistent: no matching entries in passwd file` (VIC: "Unable to find user nonexistent").
      expect(r.stderr).toMatch(/unable to find user nonexistent/i);
    },
    BOOT_MS,
  );

  test(
    'GIVEN -u root:<a group the image does not know> WHEN run THEN it exits 125 saying it is unable to find the group',
    async () => {
      const r = await run(['--name', 'user-nogroup', '-u', 'root:nonexistent', bed().image, 'busybox', 'whoami']);
      expect(r.code).toBe(125);
      expect(r.stdout).toBe('');
      // dockerd: `unable to find group nonexistent: no matching entries in group file`.
      expect(r.stderr).toMatch(/unable to find group nonexistent/i);
    },
    BOOT_MS,
  );

  test(
    'GIVEN -u 0:0 WHEN whoami runs THEN it is root',
    async () => {
      const r = await run(['-u', '0:0', bed().image, 'busybox', 'whoami']);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'root\n', '']);
    },
    BOOT_MS,
  );
});

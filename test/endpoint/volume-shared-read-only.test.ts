/**
 * A volume shared read-only by running containers (`docker run -v NAME:/path:ro`), with the docker
 * CLI against the real launcher and its guest runner: what one container wrote, two containers
 * running at once both read, and neither can write; a read-write run meanwhile is refused naming
 * them, and runs once they are gone. vSphere opens a read-only mount's disk (independent-
 * nonpersistent) under a reader lock that other readers share; the simulator's QEMU does the same.
 */
import { eventually, useDockerBed } from './docker-env';

const BOOT_MS = 420_000;

describe('docker run -v NAME:/path:ro shared by running containers', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-volshare' });

  const until = (what: string, check: () => Promise<boolean>) => eventually(bed(), what, check, BOOT_MS);

  test(
    'GIVEN a volume a container wrote WHEN two containers mount it read-only THEN both run at once and read it, and a read-write run meanwhile is refused naming them',
    async () => {
      const w = await bed().docker(['run', '--rm', '--name', 'writer', '-v', 'conf:/data', bed().image, 'sh', '-c', 'echo shared-config > /data/f'], {
        timeoutMs: BOOT_MS,
      });
      expect([w.code, w.stderr]).toEqual([0, '']);
      await until('writer removed', async () => (await bed().docker(['ps', '-a', '-q', '--filter', 'name=writer'])).stdout === '');

      const readers = ['reader-1', 'reader-2'];
      for (const name of readers) {
        const r = await bed().docker([
          'run',
          '-d',
          '--name',
          name,
          '-v',
          'conf:/data:ro',
          bed().image,
          'sh',
          '-c',
          'echo "read $(cat /data/f)"; touch /data/x 2>/dev/null || echo "no write"; sleep 600',
        ]);
        expect([r.code, r.stderr]).toEqual([0, '']);
      }
      for (const name of readers) {
        await until(`${name} printed the file`, async () => (await bed().docker(['logs', name])).stdout.includes('no write'));
        expect((await bed().docker(['logs', name])).stdout).toBe('read shared-config\nno write\n');
      }
      // Both still up, at the same time.
      const states = await bed().dockerOk(['ps', '--filter', 'volume=conf', '--format', '{{.Names}} {{.State}}']);
      expect(states.split('\n').sort()).toEqual(['reader-1 running', 'reader-2 running']);
      expect(await bed().dockerOk(['inspect', '-f', '{{range .Mounts}}{{.Name}} {{.Mode}} {{.RW}}{{end}}', 'reader-1'])).toBe('conf ro false');

      const rw = await bed().docker(['run', '-d', '--name', 'rw', '-v', 'conf:/data', bed().image, 'sh', '-c', 'echo rw-ok']);
      expect(rw.code).toBe(125);
      expect(rw.stderr).toMatch(
        /container VM "rw" cannot start: "reader-[12]" \(vm-\d+\), running, has volume "conf" \(.*\) attached read-only; "reader-[12]"/,
      );
      expect(rw.stderr).toContain('read-only mounts share it with other read-only mounts only');

      expect(await bed().dockerOk(['rm', '-f', ...readers])).toBe(readers.join('\n'));
      expect(await bed().dockerOk(['start', '-a', 'rw'])).toBe('rw-ok');
      expect(await bed().dockerOk(['rm', 'rw'])).toBe('rw');
      expect(await bed().dockerOk(['volume', 'rm', 'conf'])).toBe('conf');
    },
    4 * BOOT_MS,
  );
});

/** VIC Group1 1-14 kill, with a guest that really runs: kill powers the container VM off at once. */
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 240_000;

describe('1-14 docker kill', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-kill' });

  test(
    'GIVEN a running container WHEN docker kill -s KILL runs THEN it prints the name and the container exited 137; killing it again is refused',
    async () => {
      expect((await bed().docker(['run', '-d', '--name', 'kill-1', bed().image, 'sleep', '600'], { timeoutMs: BOOT_MS })).code).toBe(0);
      await waitUntilProcessRuns(bed(), 'kill-1');
      const r = await bed().docker(['kill', '-s', 'KILL', 'kill-1']);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'kill-1\n', '']);
      const code = await bed().docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'kill-1']);
      expect(code.stdout).toBe('exited 137\n');
      const again = await bed().docker(['kill', 'kill-1']);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/Cannot kill container: kill-1: container [0-9a-f]{64} is not running/);
    },
    BOOT_MS,
  );
});

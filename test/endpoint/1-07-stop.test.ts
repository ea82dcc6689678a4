/** VIC Group1 1-07 stop, with a guest that really runs: stop powers the container VM off (exit 137). */
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 240_000;

describe('1-07 docker stop', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-stop' });

  test(
    'GIVEN a running container WHEN docker stop -t 1 runs THEN it prints the name, and ps shows it exited; a second stop is a no-op',
    async () => {
      const d = await bed().docker(['run', '-d', '--name', 'stop-1', bed().image, 'sleep', '600'], { timeoutMs: BOOT_MS });
      expect(d.code).toBe(0);
      await waitUntilProcessRuns(bed(), 'stop-1');
      const r = await bed().docker(['stop', '-t', '1', 'stop-1'], { timeoutMs: BOOT_MS });
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'stop-1\n', '']);
      const ps = await bed().docker(['ps', '-a', '--format', '{{.Names}} {{.State}} {{.Status}}']);
      expect(ps.stdout).toMatch(/^stop-1 exited Exited \(137\) (Less than a second|\d+ seconds?) ago\n$/);
      const again = await bed().docker(['stop', 'stop-1']);
      expect([again.code, again.stdout]).toEqual([0, 'stop-1\n']);
      const none = await bed().docker(['stop', 'nope']);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/No such container: nope/);
    },
    BOOT_MS,
  );
});

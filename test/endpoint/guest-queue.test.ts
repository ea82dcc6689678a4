/**
 * The simulator runs a limited number of guests at once; a container VM powered on beyond that
 * waits for a free slot. The wait is never silent: docker ps says "queued", docker exec and docker
 * cp are refused at once saying why and what frees a slot, and an attached docker run says so on
 * its stderr, then runs once a slot frees (here one slot: maxRunning 1).
 */
import { useDockerBed, waitUntilProcessRuns, eventually } from './docker-env';

const BOOT_MS = 240_000;
const QUEUED = '(queued: waits for a free guest slot of the simulator)';

describe('containers beyond the simulator guest slots', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 1 } }, pull: true, vchName: 'vch-queue' });

  test(
    'GIVEN one slot taken WHEN more containers start THEN ps says they are queued, exec and cp say why at once, an attached run tells it on stderr and runs once a slot frees',
    async () => {
      const first = await bed().docker(['run', '-d', '--name', 'first', bed().image, 'busybox', 'sleep', '600']);
      expect([first.code, first.stderr]).toEqual([0, '']);
      await waitUntilProcessRuns(bed(), 'first', BOOT_MS);

      const second = await bed().docker(['run', '-d', '--name', 'second', bed().image, 'busybox', 'sleep', '600']);
      expect([second.code, second.stderr]).toEqual([0, '']);
      const status = (name: string) => bed().dockerOk(['ps', '--filter', `name=^${name}$`, '--format', '{{.Status}}']);
      await eventually(bed(), 'second shown queued', async () => (await status('second')).endsWith(QUEUED), 30_000);
      expect(await status('first')).not.toContain('queued');

      const exec = await bed().docker(['exec', 'second', 'busybox', 'true']);
      expect([exec.code, exec.stderr]).toEqual([
        1,
        expect.stringContaining(
          'container second waits for a free guest slot: the embedded simulator runs a limited number of guests at once and has not started its process yet; docker exec cannot reach it yet. Stop another container (docker stop)',
        ),
      ]);
      const cp = await bed().docker(['cp', 'second:/etc/hostname', '-']);
      expect(cp.stderr).toContain('docker cp cannot reach it yet');

      // Attached, queued behind second: told on stderr; it runs once first and second have stopped.
      const third = bed().docker(['run', '--name', 'third', bed().image, 'busybox', 'echo', 'ran at last'], { timeoutMs: BOOT_MS });
      await eventually(bed(), 'third shown queued', async () => (await status('third')).endsWith(QUEUED), 30_000);
      expect((await bed().docker(['stop', '-t', '1', 'first'], { timeoutMs: 120_000 })).code).toBe(0);
      await waitUntilProcessRuns(bed(), 'second', BOOT_MS);
      expect(await status('second')).not.toContain('queued');
      expect((await bed().docker(['stop', '-t', '1', 'second'], { timeoutMs: 120_000 })).code).toBe(0);
      const ran = await third;
      expect(ran.code).toBe(0);
      expect(ran.stdout).toBe('ran at last\n');
      expect(ran.stderr).toContain('vic-iac: container third waits for a free guest slot');
      expect(ran.stderr).toContain('it starts when one frees');
    },
    BOOT_MS * 3,
  );
});

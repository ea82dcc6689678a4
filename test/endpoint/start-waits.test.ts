/**
 * As dockerd's, a start returns once the container's process runs (VIC's waited for its tether's
 * report): what a script or an SDK reads right after it (Testcontainers reads the address from the
 * inspect that follows its start) is the running container's address and start time, not the
 * empty fields of a guest still booting. A process that ends at once ends the wait too.
 */
import { useDockerBed } from './docker-env';

const BOOT_MS = 240_000;
const ZERO_TIME = '0001-01-01T00:00:00Z';

describe('docker start waits for the process', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-startwait' });
  /** A docker command that must succeed, given the time a boot takes. */
  const ok = async (args: readonly string[]): Promise<string> => {
    const r = await bed().docker(args, { timeoutMs: BOOT_MS });
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    return r.stdout.trim();
  };
  const inspect = (name: string) =>
    bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.StartedAt}} {{.NetworkSettings.Networks.bridge.IPAddress}}', name]);

  test(
    'GIVEN a created container WHEN docker start returns THEN inspect at once has it running, with its start time and its address; so does a run -d and a restart',
    async () => {
      await bed().dockerOk(['create', '--name', 'sw-1', bed().image, 'sleep', '600']);
      expect(await ok(['start', 'sw-1'])).toBe('sw-1');
      const [status, running, startedAt, address] = (await inspect('sw-1')).split(' ');
      expect([status, running]).toEqual(['running', 'true']);
      expect(startedAt).not.toBe(ZERO_TIME);
      expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

      await ok(['run', '-d', '--name', 'sw-2', bed().image, 'sleep', '600']);
      const [, , started2, address2] = (await inspect('sw-2')).split(' ');
      expect(started2).not.toBe(ZERO_TIME);
      expect(address2).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

      // A restart returns once the new run reports: a later start time than the run before.
      await ok(['restart', '-t', '0', 'sw-1']);
      const [again, , restartedAt] = (await inspect('sw-1')).split(' ');
      expect(again).toBe('running');
      expect(Date.parse(restartedAt)).toBeGreaterThan(Date.parse(startedAt));
      await ok(['rm', '-f', 'sw-1', 'sw-2']);
    },
    BOOT_MS * 3,
  );

  test(
    'GIVEN a process that ends at once, or fails under --restart always, WHEN docker run -d starts it THEN the start returns, and the container exits with its code',
    async () => {
      const started = Date.now();
      await ok(['run', '-d', '--name', 'sw-quick', bed().image, 'sh', '-c', 'exit 3']);
      // Not the start's 120 s limit: the exit ended the wait.
      expect(Date.now() - started).toBeLessThan(100_000);
      expect(await ok(['wait', 'sw-quick'])).toBe('3');
      await bed().dockerOk(['rm', 'sw-quick']);

      // A process that fails under a restart policy: the first run's report ends the wait, not its back-offs.
      const looping = Date.now();
      await ok(['run', '-d', '--name', 'sw-loop', '--restart', 'always', bed().image, 'false']);
      expect(Date.now() - looping).toBeLessThan(100_000);
      await ok(['rm', '-f', 'sw-loop']);
    },
    BOOT_MS,
  );
});

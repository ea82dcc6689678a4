/** VIC Group1 1-08 logs, from a guest that really ran: --tail, --timestamps, --since, stdout and stderr apart, and -f ending with the container. */
import { useDockerBed } from './docker-env';

const BOOT_MS = 240_000;

describe('1-08 docker logs', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-logs' });

  test(
    'GIVEN a container that wrote lines and exited THEN logs shows them all, --tail counts, --timestamps prefixes, --since filters',
    async () => {
      const run = await bed().docker(['run', '--name', 'logs-1', bed().image, 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; echo problem >&2'], {
        timeoutMs: BOOT_MS,
      });
      expect(run.code).toBe(0);
      const all = await bed().docker(['logs', 'logs-1']);
      expect([all.code, all.stdout, all.stderr]).toEqual([0, 'line 1\nline 2\nline 3\nline 4\nline 5\n', 'problem\n']);
      const tail = await bed().docker(['logs', '--tail', '2', 'logs-1']);
      expect([tail.stdout, tail.stderr]).toEqual(['line 5\n', 'problem\n']);
      const none = await bed().docker(['logs', '--tail', '0', 'logs-1']);
      expect([none.stdout, none.stderr]).toEqual(['', '']);
      const ts = await bed().docker(['logs', '--timestamps', '--tail', '1', 'logs-1']);
      expect(ts.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z problem\n$/);
      const future = await bed().docker(['logs', '--since', '2099-01-01T00:00:00Z', 'logs-1']);
      expect([future.stdout, future.stderr]).toEqual(['', '']);
      const past = await bed().docker(['logs', '--since', '2000-01-01T00:00:00Z', 'logs-1']);
      expect(past.stdout.split('\n').length).toBe(6);
    },
    BOOT_MS,
  );

  test(
    'GIVEN a running container WHEN docker logs -f follows it THEN lines arrive and the command ends when the container stops',
    async () => {
      expect(
        (await bed().docker(['run', '-d', '--name', 'logs-f', bed().image, 'sh', '-c', 'echo first; sleep 4; echo second'], { timeoutMs: BOOT_MS })).code,
      ).toBe(0);
      const f = await bed().docker(['logs', '-f', 'logs-f'], { timeoutMs: BOOT_MS });
      expect([f.code, f.stdout, f.stderr]).toEqual([0, 'first\nsecond\n', '']);
      expect((await bed().docker(['inspect', '--format', '{{.State.Status}}', 'logs-f'])).stdout).toBe('exited\n');
    },
    BOOT_MS,
  );
});

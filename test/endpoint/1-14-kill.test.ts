/**
 * VIC Group1 1-14 kill, with a guest that really runs: a signal other than KILL reaches the
 * process through the tether (a trap prints a line, the container keeps running); KILL powers the
 * container VM off at once (exit 137).
 */
import { spawn } from 'node:child_process';
import { dockerCli, followEvents, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 240_000;

describe('1-14 docker kill', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-kill' });

  async function logsUntil(name: string, want: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let out = '';
    while (Date.now() < deadline) {
      out = (await bed().docker(['logs', name])).stdout;
      if (out === want) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return out;
  }

  test(
    'GIVEN a container that traps USR1 WHEN docker kill -s USR1 runs THEN the trap prints in docker logs and it keeps running; kill -s KILL ends it with 137; killing it again is refused',
    async () => {
      const trapper = ['sh', '-c', 'trap "echo got USR1" USR1; echo ready; while true; do sleep 1; done'];
      expect((await bed().docker(['run', '-d', '--name', 'kill-1', bed().image, ...trapper], { timeoutMs: BOOT_MS })).code).toBe(0);
      await waitUntilProcessRuns(bed(), 'kill-1');

      const u = await bed().docker(['kill', '-s', 'USR1', 'kill-1']);
      expect([u.code, u.stdout, u.stderr]).toEqual([0, 'kill-1\n', '']);
      expect(await logsUntil('kill-1', 'ready\ngot USR1\n')).toBe('ready\ngot USR1\n');
      const u2 = await bed().docker(['kill', '--signal', 'SIGUSR1', 'kill-1']);
      expect(u2.code).toBe(0);
      expect(await logsUntil('kill-1', 'ready\ngot USR1\ngot USR1\n')).toBe('ready\ngot USR1\ngot USR1\n');
      expect((await bed().docker(['inspect', '--format', '{{.State.Status}}', 'kill-1'])).stdout).toBe('running\n');

      const bad = await bed().docker(['kill', '-s', 'NOPE', 'kill-1']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/Invalid signal: NOPE/);

      const r = await bed().docker(['kill', '-s', 'KILL', 'kill-1']);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'kill-1\n', '']);
      const code = await bed().docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'kill-1']);
      expect(code.stdout).toBe('exited 137\n');
      const again = await bed().docker(['kill', 'kill-1']);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/Cannot kill container: kill-1: container [0-9a-f]{64} is not running/);
    },
    BOOT_MS * 2,
  );
});

describe('docker kill while the shared poll reads', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-kill-race' });

  test(
    'GIVEN docker logs -f and docker events on a running container, and console reads that take 2 s WHEN it is killed THEN one die event is told, not a second from a look that began before the kill',
    async () => {
      const ticker = ['sh', '-c', 'while true; do echo tick; sleep 1; done'];
      expect((await bed().docker(['run', '-d', '--name', 'kill-race', bed().image, ...ticker], { timeoutMs: BOOT_MS })).code).toBe(0);
      await waitUntilProcessRuns(bed(), 'kill-race');
      const events = followEvents(bed(), [
        '--filter',
        'container=kill-race',
        '--filter',
        'event=die',
        '--format',
        '{{.Action}} {{.Actor.Attributes.exitCode}}',
      ]);
      // The follower keeps the shared poll reading the console after each look of the containers: a
      // look that read the container running is then still under way when the kill ends.
      const follow = spawn(dockerCli(), ['logs', '-f', 'kill-race'], { env: bed().env });
      try {
        await new Promise((r) => setTimeout(r, 1500));
        await bed().sim.control.addFault({ method: 'HTTP GET', kind: 'delay', delayMs: 2000, times: -1 });
        await new Promise((r) => setTimeout(r, 700));
        const kill = await bed().docker(['kill', 'kill-race'], { timeoutMs: 60_000 });
        expect([kill.code, kill.stderr]).toEqual([0, '']);
        // Long enough for the looks under way, and the one after them, to have told what they saw.
        await new Promise((r) => setTimeout(r, 8000));
      } finally {
        await bed().sim.control.clearFaults();
        follow.kill();
        events.stop();
      }
      expect(events.lines).toEqual(['die 137']);
    },
    BOOT_MS,
  );
});

/**
 * VIC Group1 1-07 stop, with guests that really run: stop sends the process SIGTERM through the
 * tether and waits -t seconds; a process that ends on it exits with its own code, one that ignores
 * it is killed with its VM after the timeout (exit 137). Both boot at once.
 */
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 240_000;

describe('1-07 docker stop', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-stop' });

  test(
    'GIVEN a container that traps TERM and one that ignores it WHEN docker stop runs THEN the first exits 0 at once, the second 137 after -t; a second stop is a no-op',
    async () => {
      const trapper = ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo ready; while true; do sleep 1; done'];
      const deaf = ['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 1; done'];
      expect((await bed().docker(['run', '-d', '--name', 'stop-1', bed().image, ...trapper], { timeoutMs: BOOT_MS })).code).toBe(0);
      expect((await bed().docker(['run', '-d', '--name', 'stop-2', bed().image, ...deaf], { timeoutMs: BOOT_MS })).code).toBe(0);
      await waitUntilProcessRuns(bed(), 'stop-1');
      await waitUntilProcessRuns(bed(), 'stop-2');

      const since = Math.floor(Date.now() / 1000) - 1;
      const began = Date.now();
      const r = await bed().docker(['stop', '-t', '5', 'stop-1'], { timeoutMs: BOOT_MS });
      const took = Date.now() - began;
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'stop-1\n', '']);
      expect(took).toBeLessThan(5000);
      const ps = await bed().docker(['ps', '-a', '--filter', 'name=stop-1', '--format', '{{.Names}} {{.State}} {{.Status}}']);
      expect(ps.stdout).toMatch(/^stop-1 exited Exited \(0\) (Less than a second|\d+ seconds?) ago\n$/);
      expect((await bed().docker(['logs', 'stop-1'])).stdout).toBe('ready\ngot TERM\n');
      // As dockerd: the signal, one die with the process's own code, then stop (the die was told twice before).
      expect(await bed().eventsSince(since, 'container=stop-1', '{{.Action}} {{.Actor.Attributes.signal}} {{.Actor.Attributes.exitCode}}')).toEqual([
        'kill 15 <no value>',
        'die <no value> 0',
        'stop <no value> <no value>',
      ]);

      const began2 = Date.now();
      const r2 = await bed().docker(['stop', '-t', '2', 'stop-2'], { timeoutMs: BOOT_MS });
      expect([r2.code, r2.stdout, r2.stderr]).toEqual([0, 'stop-2\n', '']);
      expect(Date.now() - began2).toBeGreaterThanOrEqual(2000);
      const code = await bed().docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'stop-2']);
      expect(code.stdout).toBe('exited 137\n');

      const again = await bed().docker(['stop', 'stop-1']);
      expect([again.code, again.stdout]).toEqual([0, 'stop-1\n']);
      const none = await bed().docker(['stop', 'nope']);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/No such container: nope/);
    },
    BOOT_MS * 2,
  );

  /**
   * A start that returns at the power-on, from an endpoint served with --start-wait 0 (a client of
   * the bed's endpoint waits until the process runs): the container is still booting after it.
   */
  const startAtPowerOn = async (name: string) => {
    const quick = await bed().serve({ startWaitMs: 0 });
    try {
      expect((await bed().call('POST', `/containers/${name}/start`, undefined, quick.port)).status).toBe(204);
    } finally {
      await quick.close();
    }
  };

  test(
    'GIVEN a container still booting WHEN docker stop runs THEN it reads Exited (137), as a killed process does, not Created; docker start runs it again',
    async () => {
      await bed().dockerOk(['create', '--name', 'stop-early', bed().image, 'sh', '-c', 'echo up; sleep 600']);
      await startAtPowerOn('stop-early');
      // At once: the guest takes seconds to boot, so its process has not reported yet.
      const vm = (await bed().engine.listIn('container_vm', String(bed().vch.id))).find((v) => v.name === 'stop-early');
      expect(vm).toMatchObject({ power_state: 'running', status: 'created' });
      expect(await bed().dockerOk(['stop', '-t', '0', 'stop-early'])).toBe('stop-early');
      expect(await bed().dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'stop-early'])).toBe('exited 137');
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=stop-early', '--format', '{{.Status}}'])).toMatch(/^Exited \(137\) /);
      expect(await bed().dockerOk(['start', 'stop-early'])).toBe('stop-early');
      await waitUntilProcessRuns(bed(), 'stop-early');
      expect(await bed().dockerOk(['inspect', '--format', '{{.State.Status}}', 'stop-early'])).toBe('running');
      expect(await bed().dockerOk(['rm', '-f', 'stop-early'])).toBe('stop-early');
    },
    BOOT_MS,
  );

  test(
    "GIVEN a container whose run ended WHEN it is started again and stopped while still booting THEN it reads Exited (137) and a new end, not the earlier run's",
    async () => {
      await bed().dockerOk(['run', '-d', '--name', 'stop-again', bed().image, 'sh', '-c', 'exit 4']);
      expect(await bed().docker(['wait', 'stop-again'], { timeoutMs: BOOT_MS })).toMatchObject({ code: 0, stdout: '4\n' });
      const first = await bed().dockerOk(['inspect', '--format', '{{.State.FinishedAt}}', 'stop-again']);
      await startAtPowerOn('stop-again');
      // At once: the earlier run's exit is still what the guest last reported.
      const vm = (await bed().engine.listIn('container_vm', String(bed().vch.id))).find((v) => v.name === 'stop-again');
      expect(vm).toMatchObject({ power_state: 'running', status: 'exited', exit_code: 4 });
      expect(await bed().dockerOk(['stop', '-t', '0', 'stop-again'])).toBe('stop-again');
      // Before: Exited (4), with the first run's end.
      expect(await bed().dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'stop-again'])).toBe('exited 137');
      expect(await bed().dockerOk(['inspect', '--format', '{{.State.FinishedAt}}', 'stop-again'])).not.toBe(first);
      expect(await bed().dockerOk(['rm', 'stop-again'])).toBe('stop-again');
    },
    BOOT_MS * 2,
  );
});

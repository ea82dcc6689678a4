/** VIC Group1 1-40 restart, with a guest that really runs: the process runs again (its output twice). */
import { eventually, followEvents, useDockerBed } from './docker-env';

const BOOT_MS = 480_000;
/** A boot takes seconds alone under TCG, minutes on a loaded machine. */
const LOG_WAIT_MS = 200_000;

describe('1-40 docker restart', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-restart' });

  test(
    'GIVEN a running container WHEN docker restart runs THEN it runs again and its output shows both runs',
    async () => {
      expect((await bed().docker(['run', '-d', '--name', 'rs-1', bed().image, 'sh', '-c', 'echo booted; sleep 600'], { timeoutMs: BOOT_MS })).code).toBe(0);
      await waitForLog('booted\n');
      const firstRun = await bed().dockerOk(['inspect', '--format', '{{.State.StartedAt}}', 'rs-1']);
      const r = await bed().docker(['restart', '-t', '1', 'rs-1'], { timeoutMs: BOOT_MS });
      expect([r.code, r.stdout, r.stderr]).toEqual([0, 'rs-1\n', '']);
      // While the guest boots its report is the last run's: docker shows no start yet, as at a
      // first start, then this run's; never the last run's.
      const [status, startedAt] = (await bed().dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.StartedAt}}', 'rs-1'])).split(' ');
      expect(status).toBe('running');
      expect(startedAt === '0001-01-01T00:00:00Z' || Date.parse(startedAt) > Date.parse(firstRun)).toBe(true);
      expect(await bed().dockerOk(['ps', '--filter', 'name=rs-1', '--format', '{{.Status}}'])).toMatch(/^Up (Less than a second|[1-9] seconds?)$/);
      await waitForLog('booted\nbooted\n');
      expect((await bed().docker(['ps', '--format', '{{.Names}} {{.State}}'])).stdout).toBe('rs-1 running\n');
    },
    BOOT_MS,
  );

  test(
    'GIVEN --restart on-failure:2 and a process that fails WHEN it ends for good THEN it ran three times in one boot and inspect counts 2 restarts, as dockerd',
    async () => {
      const run = await bed().docker(['run', '-d', '--name', 'rs-fail', '--restart', 'on-failure:2', bed().image, 'sh', '-c', 'echo run; exit 3'], {
        timeoutMs: BOOT_MS,
      });
      expect([run.code, run.stderr]).toEqual([0, '']);
      const state = await inspectUntil('rs-fail', '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}', 'exited');
      expect(state).toBe('exited 3 2');
      expect((await bed().docker(['logs', 'rs-fail'])).stdout).toBe('run\nrun\nrun\n');
      await bed().dockerOk(['rm', 'rs-fail']);
    },
    BOOT_MS,
  );

  test(
    'GIVEN --restart always and a process that keeps failing WHEN it waits to run again THEN ps and inspect say restarting, as dockerd, and ps --filter status=restarting lists it',
    async () => {
      // docker events: each end and new run inside the VM is a die and a start, as dockerd tells them.
      const events = followEvents(bed(), [
        '--filter',
        'container=rs-loop',
        '--filter',
        'type=container',
        '--format',
        '{{.Action}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}',
      ]);
      const told = events.lines;
      try {
        const run = await bed().docker(['run', '-d', '--name', 'rs-loop', '--restart', 'always', bed().image, 'sh', '-c', 'exit 1'], { timeoutMs: BOOT_MS });
        expect([run.code, run.stderr]).toEqual([0, '']);
        // The guest's back-off doubles from 100 ms to 10 s: the process soon spends its time waiting.
        const state = await inspectUntil('rs-loop', '{{.State.Status}} {{.State.Restarting}} {{.State.Running}} {{.State.ExitCode}}', 'restarting');
        expect(state).toBe('restarting true true 1');
        // Counted as the guest runs it again (the first wait comes before the first restart). From
        // the 6th restart on it waits 6.4 s and more between runs of milliseconds: the steps below
        // find it waiting.
        await eventually(
          bed(),
          'RestartCount to reach 6',
          async () => Number(await bed().dockerOk(['inspect', '--format', '{{.RestartCount}}', 'rs-loop'])) >= 6,
          LOG_WAIT_MS,
        );
        let listed = '';
        await eventually(
          bed(),
          'ps to show it restarting',
          async () => (listed = await bed().dockerOk(['ps', '--filter', 'status=restarting', '--format', '{{.Names}} {{.Status}}'])) !== '',
          LOG_WAIT_MS,
        );
        expect(listed).toMatch(/^rs-loop Restarting \(1\) (Less than a second|\d+ seconds?) ago$/);
        await eventually(bed(), 'the die of the first run', async () => told.includes('die 1'), LOG_WAIT_MS);
        events.stop();
        // No process to signal while it waits (the back-off is seconds, a run of `exit 1` milliseconds): dockerd's 409.
        const term = await bed().docker(['kill', '-s', 'TERM', 'rs-loop']);
        expect([term.code, term.stderr]).toEqual([1, expect.stringContaining('is restarting, wait until the container is running')]);
        // The run's create and start, then the end a look saw: a die with the process's exit code.
        // A new run a look sees is a start; a die is never told twice in a row.
        expect(told.slice(0, 3)).toEqual(['create', 'start', 'die 1']);
        for (const [i, action] of told.entries()) if (i > 0) expect(`${told[i - 1]} > ${action}`).toMatch(/^(create > start|start > die 1|die 1 > start)$/);
        // Stopped while it waits: the stop's signal ends the wait, and it keeps the exit code of its last run.
        expect((await bed().docker(['stop', 'rs-loop'], { timeoutMs: 120_000 })).code).toBe(0);
        expect(await bed().dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'rs-loop'])).toBe('exited 1');
      } finally {
        events.stop();
        // Gone even when a step failed: a loop left running would hold a guest slot from the next test.
        await bed().docker(['rm', '-f', 'rs-loop'], { timeoutMs: 120_000 });
      }
    },
    BOOT_MS,
  );

  test(
    'GIVEN --restart always and a running process WHEN docker stop THEN the process ends on its signal and is not run again: exit 0, as dockerd leaves a container its user stopped',
    async () => {
      const script = 'trap "echo stopping; exit 0" TERM; echo up; while true; do sleep 1; done';
      const run = await bed().docker(['run', '-d', '--name', 'rs-always', '--restart', 'always', bed().image, 'sh', '-c', script], { timeoutMs: BOOT_MS });
      expect([run.code, run.stderr]).toEqual([0, '']);
      await eventually(bed(), 'the process to run', async () => (await bed().docker(['logs', 'rs-always'])).stdout === 'up\n', LOG_WAIT_MS);
      const stop = await bed().docker(['stop', 'rs-always'], { timeoutMs: 120_000 });
      expect([stop.code, stop.stderr]).toEqual([0, '']);
      // Before, the guest ran it again after its exit 0, and the VM was powered off under it 10 s later: 137.
      expect(await bed().dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}', 'rs-always'])).toBe('exited 0 0');
      expect((await bed().docker(['logs', 'rs-always'])).stdout).toBe('up\nstopping\n');
      await bed().dockerOk(['rm', 'rs-always']);
    },
    BOOT_MS,
  );

  /** inspect's `format` of container `name` once it starts with `prefix`; the last one read when it never does. */
  async function inspectUntil(name: string, format: string, prefix: string): Promise<string> {
    let state = '';
    for (const deadline = Date.now() + LOG_WAIT_MS; Date.now() < deadline && !state.startsWith(prefix);) {
      await new Promise((r) => setTimeout(r, 500));
      state = await bed().dockerOk(['inspect', '--format', format, name]);
    }
    return state;
  }

  async function waitForLog(want: string): Promise<void> {
    let last = '';
    for (const deadline = Date.now() + LOG_WAIT_MS; Date.now() < deadline;) {
      last = (await bed().docker(['logs', 'rs-1'])).stdout;
      if (last === want) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(last).toBe(want);
  }
});

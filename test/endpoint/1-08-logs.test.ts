/** VIC Group1 1-08 logs, from a guest that really ran: --tail, --timestamps, --since, stdout and stderr apart, and -f ending with the container. */
import { spawn } from 'node:child_process';
import { dockerCli, useDockerBed } from './docker-env';

const BOOT_MS = 240_000;

describe('1-08 docker logs', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-logs' });

  test(
    'GIVEN a container that wrote lines and exited THEN logs shows them all, --tail counts, --timestamps prefixes, --since filters',
    async () => {
      // A second between the streams: the tether reads stdout and stderr side by side, so lines
      // written to both at once may reach the console in either order (CI once had "problem" first).
      const run = await bed().docker(
        ['run', '--name', 'logs-1', bed().image, 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; sleep 1; echo problem >&2'],
        {
          timeoutMs: BOOT_MS,
        },
      );
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

  test(
    'GIVEN console reads that take 1.5 s WHEN docker start -a runs a short container THEN its last line reaches the attached client before the die event (docker compose stops reading at the die)',
    async () => {
      await bed().dockerOk(['create', '--name', 'last-words', bed().image, 'sh', '-c', 'echo last words']);
      let dieAt: number | undefined;
      const events = spawn(dockerCli(), ['events', '--filter', 'container=last-words', '--filter', 'event=die', '--format', '{{.Action}}'], { env: bed().env });
      events.stdout.on('data', (d: Buffer) => {
        if (dieAt === undefined && d.toString('utf8').includes('die')) dieAt = Date.now();
      });
      // Every datastore read (the console file's) answers a second late: before, the die went out
      // while the last read was still under way.
      await bed().sim.control.addFault({ method: 'HTTP GET', kind: 'delay', delayMs: 1500, times: -1 });
      let out = '';
      let outAt: number | undefined;
      try {
        const start = spawn(dockerCli(), ['start', '-a', 'last-words'], { env: bed().env });
        start.stdout.on('data', (d: Buffer) => {
          out += d.toString('utf8');
          if (outAt === undefined && out.includes('last words')) outAt = Date.now();
        });
        const code = await new Promise<number | null>((resolve) => start.on('close', resolve));
        expect({ code, out }).toEqual({ code: 0, out: 'last words\n' });
        for (let i = 0; i < 100 && dieAt === undefined; i++) await new Promise((r) => setTimeout(r, 100));
      } finally {
        events.kill();
        await bed().sim.control.clearFaults();
      }
      expect(dieAt).toBeDefined();
      // Two clients, two processes: a few milliseconds either way are the pipes', a second is the bug.
      expect(outAt! - dieAt!).toBeLessThan(300);
    },
    BOOT_MS,
  );
});

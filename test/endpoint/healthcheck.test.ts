/**
 * Health checks, as dockerd runs them (health.ts): `--health-cmd` runs in the container's guest
 * every interval while it runs; inspect shows State.Health and Config.Healthcheck, ps the status
 * and `--filter health=`, and docker events the change of status. Real guests on the simulator.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../cli/run-vic';
import { busyboxImage, dockerCli, eventually, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 300_000;

describe('docker health checks', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-health' });
  const health = async (name: string) =>
    JSON.parse(await bed().dockerOk(['inspect', '-f', '{{json .State.Health}}', name])) as {
      Status: string;
      FailingStreak: number;
      Log: Array<{ ExitCode: number; Output: string }>;
    };

  test(
    'GIVEN a check that passes and one that fails WHEN both containers run THEN one turns healthy, the other unhealthy after its retries, as inspect, ps and events say',
    async () => {
      const since = Math.floor(Date.now() / 1000);
      await bed().dockerOk([
        'run',
        '-d',
        '--name',
        'hc-bad',
        '--health-cmd',
        'echo not ready; exit 1',
        '--health-interval',
        '1s',
        '--health-retries',
        '2',
        bed().image,
        'sleep',
        '600',
      ]);
      // A start returns once the process runs; the first check comes an interval later.
      const okId = await bed().dockerOk([
        'run',
        '-d',
        '--name',
        'hc-ok',
        '--health-cmd',
        'cat /etc/hostname',
        '--health-interval',
        '3s',
        bed().image,
        'sleep',
        '600',
      ]);
      // Before the first check: starting.
      expect(await bed().dockerOk(['ps', '--filter', 'name=hc-ok', '--format', '{{.Status}}'])).toMatch(/\(health: starting\)$/);
      await waitUntilProcessRuns(bed(), 'hc-ok');
      await waitUntilProcessRuns(bed(), 'hc-bad');
      await eventually(bed(), 'hc-ok healthy', async () => (await health('hc-ok')).Status === 'healthy', 120_000);
      await eventually(bed(), 'hc-bad unhealthy', async () => (await health('hc-bad')).Status === 'unhealthy', 120_000);

      const ok = await health('hc-ok');
      expect(ok.FailingStreak).toBe(0);
      // Its host name, dockerd's default: the first 12 hex digits of its id.
      expect(ok.Log[ok.Log.length - 1]).toMatchObject({ ExitCode: 0, Output: `${okId.slice(0, 12)}\n` });
      const bad = await health('hc-bad');
      expect(bad.FailingStreak).toBeGreaterThanOrEqual(2);
      expect(bad.Log[bad.Log.length - 1]).toMatchObject({ ExitCode: 1, Output: 'not ready\n' });
      expect(await bed().dockerOk(['inspect', '-f', '{{json .Config.Healthcheck.Test}}', 'hc-bad'])).toBe('["CMD-SHELL","echo not ready; exit 1"]');

      expect(await bed().dockerOk(['ps', '--filter', 'health=healthy', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^hc-ok Up .* \(healthy\)$/);
      expect(await bed().dockerOk(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}'])).toBe('hc-bad');
      expect(await bed().dockerOk(['ps', '--filter', 'health=none', '--format', '{{.Names}}'])).toBe('');
      const events = await bed().eventsSince(since, 'type=container', '{{.Actor.Attributes.name}} {{.Action}}');
      expect(events).toEqual(expect.arrayContaining(['hc-ok health_status: healthy', 'hc-bad health_status: unhealthy']));
      await bed().dockerOk(['rm', '-f', 'hc-ok', 'hc-bad']);
    },
    2 * BOOT_MS,
  );

  test(
    "GIVEN an image with a HEALTHCHECK WHEN a container runs from it THEN the image's check runs; --health-interval changes only its interval, --no-healthcheck turns it off",
    async () => {
      const base = busyboxImage();
      const image = await bed().pushImage(
        { ...base, config: { ...base.config, Healthcheck: { Test: ['CMD-SHELL', 'cat /etc/hostname'], Interval: 1e9, Retries: 2 } } },
        'vic-test/checked:1',
      );
      expect((await bed().docker(['pull', image], { timeoutMs: 180_000 })).code).toBe(0);
      expect(await bed().dockerOk(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', image])).toBe(
        '{"Test":["CMD-SHELL","cat /etc/hostname"],"Interval":1000000000,"Retries":2}',
      );
      await bed().dockerOk(['run', '-d', '--name', 'hc-image', image, 'sleep', '600']);
      await waitUntilProcessRuns(bed(), 'hc-image');
      await eventually(bed(), 'hc-image healthy', async () => (await health('hc-image')).Status === 'healthy', 120_000);
      await bed().dockerOk(['rm', '-f', 'hc-image']);

      await bed().dockerOk(['create', '--name', 'hc-slower', '--health-interval', '2s', image]);
      expect(await bed().dockerOk(['inspect', '-f', '{{json .Config.Healthcheck}}', 'hc-slower'])).toBe(
        '{"Test":["CMD-SHELL","cat /etc/hostname"],"Interval":2000000000,"Retries":2}',
      );
      await bed().dockerOk(['create', '--name', 'hc-off', '--no-healthcheck', image]);
      expect(await bed().dockerOk(['inspect', '-f', '{{json .State.Health}} {{json .Config.Healthcheck}}', 'hc-off'])).toBe('null null');
    },
    BOOT_MS,
  );

  test('GIVEN --no-healthcheck or no check THEN inspect has no Health, and ps filters it as health=none', async () => {
    await bed().dockerOk(['create', '--name', 'hc-none', '--no-healthcheck', bed().image]);
    expect(await bed().dockerOk(['inspect', '-f', '{{json .State.Health}}', 'hc-none'])).toBe('null');
    // hc-off too (--no-healthcheck over its image's); not hc-slower, which has its image's check.
    expect((await bed().dockerOk(['ps', '-a', '--filter', 'health=none', '--format', '{{.Names}}'])).split('\n').sort()).toEqual(['hc-none', 'hc-off']);
  });

  test(
    'GIVEN a healthy container WHEN its endpoint restarts from the same directory THEN the new endpoint shows it healthy at once, with the results so far, and goes on checking',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'vic-health-dir-'));
      const first = await bed().serve({ stateDir: dir });
      const dockerOn = (port: number) => async (args: string[]) => {
        const r = await runProcess(dockerCli(), args, { ...bed().env, DOCKER_HOST: `tcp://127.0.0.1:${port}` }, { timeoutMs: 120_000 });
        expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
        return r.stdout.trim();
      };
      const healthOn = async (docker: (args: string[]) => Promise<string>) =>
        JSON.parse(await docker(['inspect', '-f', '{{json .State.Health}}', 'hc-kept'])) as { Status: string; Log: Array<{ Start: string }> };
      try {
        const docker = dockerOn(first.port);
        await docker(['run', '-d', '--name', 'hc-kept', '--health-cmd', 'true', '--health-interval', '1s', bed().image, 'sleep', '600']);
        await waitUntilProcessRuns(bed(), 'hc-kept');
        await eventually(bed(), 'hc-kept healthy', async () => (await healthOn(docker)).Status === 'healthy', 120_000);
      } finally {
        await first.close();
      }
      const kept = JSON.parse(await readFile(join(dir, 'health.json'), 'utf8')) as Record<string, { state: { Status: string } }>;
      expect(Object.values(kept).map((k) => k.state.Status)).toEqual(['healthy']);
      const second = await bed().serve({ stateDir: dir });
      try {
        const docker = dockerOn(second.port);
        const resumed = await healthOn(docker);
        expect(resumed.Status).toBe('healthy');
        expect(resumed.Log.length).toBeGreaterThan(0);
        expect(await docker(['ps', '--filter', 'name=hc-kept', '--format', '{{.Status}}'])).toMatch(/\(healthy\)$/);
        // It goes on: more results come.
        const last = resumed.Log[resumed.Log.length - 1].Start;
        await eventually(bed(), 'a new result', async () => (await healthOn(docker)).Log.some((r) => r.Start > last), 60_000);
        await docker(['rm', '-f', 'hc-kept']);
      } finally {
        await second.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
    2 * BOOT_MS,
  );
});

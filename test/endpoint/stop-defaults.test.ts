/**
 * A container's own stop settings, with guests that really run: --stop-timeout and --stop-signal
 * (compose's stop_grace_period and stop_signal) are taken at create, shown by inspect, and are the
 * defaults of docker stop and restart, which an explicit -t or -s overrides. And the creation time
 * of a container an IaC state made stays the same across its starts.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findPeer } from '../../src/sim/peers';
import { eventually, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 240_000;

describe("a container's own stop timeout and signal", () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-stopdef' });

  const timed = async (args: readonly string[]): Promise<number> => {
    const began = Date.now();
    const r = await bed().docker(args, { timeoutMs: BOOT_MS });
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    return Date.now() - began;
  };

  test(
    'GIVEN docker run --stop-timeout 2 and --stop-signal USR1 THEN inspect shows them, and docker stop and restart use them unless -t or -s is given',
    async () => {
      const deaf = ['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 1; done'];
      const usr1 = ['sh', '-c', 'trap "echo got USR1; exit 0" USR1; trap "echo got TERM; exit 3" TERM; echo ready; while true; do sleep 1; done'];
      await bed().dockerOk(['run', '-d', '--name', 'sd-timeout', '--stop-timeout', '2', bed().image, ...deaf]);
      await bed().dockerOk(['run', '-d', '--name', 'sd-signal', '--stop-signal', 'SIGUSR1', bed().image, ...usr1]);
      expect(await bed().dockerOk(['inspect', '-f', '{{json .Config.StopTimeout}} {{json .Config.StopSignal}}', 'sd-timeout', 'sd-signal'])).toBe(
        '2 ""\nnull "SIGUSR1"',
      );
      await waitUntilProcessRuns(bed(), 'sd-timeout');
      await waitUntilProcessRuns(bed(), 'sd-signal');

      // No -t: the container's 2 s, not dockerd's default 10.
      const took = await timed(['stop', 'sd-timeout']);
      expect(took).toBeGreaterThanOrEqual(2000);
      expect(took).toBeLessThan(8000);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'sd-timeout'])).toBe('137');

      // No -s: the container's SIGUSR1.
      await timed(['stop', 'sd-signal']);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'sd-signal'])).toBe('0');
      expect((await bed().dockerOk(['logs', 'sd-signal'])).split('\n')).toContain('got USR1');

      // restart takes them too; an explicit -s wins.
      await bed().dockerOk(['start', 'sd-timeout']);
      await waitUntilProcessRuns(bed(), 'sd-timeout');
      const restarted = await timed(['restart', 'sd-timeout']);
      expect(restarted).toBeGreaterThanOrEqual(2000);
      expect(restarted).toBeLessThan(8000);
      await bed().dockerOk(['stop', '-t', '0', 'sd-timeout']);
      await bed().dockerOk(['start', 'sd-signal']);
      await waitUntilProcessRuns(bed(), 'sd-signal');
      await timed(['stop', '-s', 'TERM', 'sd-signal']);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'sd-signal'])).toBe('3');
      expect(await bed().dockerOk(['rm', 'sd-timeout', 'sd-signal'])).toBe('sd-timeout\nsd-signal');

      // A signal that is none is refused at create, as dockerd does.
      const bad = await bed().docker(['create', '--name', 'sd-bad', '--stop-signal', 'SIGNOPE', bed().image]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('Invalid signal: SIGNOPE');
    },
    BOOT_MS * 3,
  );

  test('GIVEN a compose service with stop_grace_period and stop_signal THEN compose creates it, and its container has them', async () => {
    const pluginDir = join(String(bed().env.DOCKER_CONFIG), 'cli-plugins');
    await mkdir(pluginDir, { recursive: true });
    await symlink(findPeer('docker-compose'), join(pluginDir, 'docker-compose'));
    const dir = join(String(bed().env.HOME), 'stopdef');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'compose.yaml'),
      `name: stopdef
services:
  db:
    image: ${bed().image}
    command: ["sleep", "600"]
    stop_grace_period: 45s
    stop_signal: SIGINT
networks:
  default:
    name: bridge
    external: true
`,
    );
    const compose = (args: readonly string[]) => bed().docker(['compose', '-f', join(dir, 'compose.yaml'), ...args], { timeoutMs: BOOT_MS });
    const created = await compose(['create']);
    expect([created.code, created.stderr]).toEqual([0, expect.not.stringContaining('not supported')]);
    expect(await bed().dockerOk(['inspect', '-f', '{{.Config.StopTimeout}} {{.Config.StopSignal}}', 'stopdef-db-1'])).toBe('45 SIGINT');
    expect((await compose(['down'])).code).toBe(0);
  });

  test(
    'GIVEN a container VM an IaC state made (no docker labels) WHEN it runs again THEN its Created stays when vSphere made it, and docker ps orders it by that, not by its last start',
    async () => {
      await bed().dockerOk(['create', '--name', 'sd-docker', bed().image]);
      const image = (await bed().engine.listIn('image', String(bed().vch.id)))[0];
      const plan = await bed().engine.plan('container_vm', null, {
        vch_id: bed().vch.id,
        image_id: image.id,
        name: 'sd-iac',
        command: ['sh', '-c', 'echo ran'],
        power_state: 'running',
        must_run: false,
      });
      expect(plan.problems).toEqual([]);
      const madeFrom = Date.now();
      await bed().engine.apply(plan);
      const madeBy = Date.now();
      const ended = async () => (await bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.StartedAt}}', 'sd-iac'])).split(' ');
      await eventually(bed(), 'sd-iac ran', async () => (await ended())[0] === 'exited', BOOT_MS);
      const firstStart = (await ended())[1];
      const created = await bed().dockerOk(['inspect', '-f', '{{.Created}}', 'sd-iac']);
      await bed().dockerOk(['start', 'sd-iac']);
      await eventually(bed(), 'sd-iac ran again', async () => (await ended())[0] === 'exited' && (await ended())[1] !== firstStart, BOOT_MS);
      expect(await bed().dockerOk(['inspect', '-f', '{{.Created}}', 'sd-iac'])).toBe(created);
      // When vSphere made its VM (config.createDate), not a start time.
      expect(Date.parse(created)).toBeGreaterThanOrEqual(madeFrom - 2000);
      expect(Date.parse(created)).toBeLessThanOrEqual(madeBy + 2000);
      // Made after sd-docker: listed first (newest first), and since=sd-docker finds it.
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=sd-', '--format', '{{.Names}}'])).toBe('sd-iac\nsd-docker');
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'since=sd-docker', '--format', '{{.Names}}'])).toBe('sd-iac');
    },
    BOOT_MS * 2,
  );
});

/**
 * VIC Group10 10-01 VCH restart, as vic-iac has it: VIC rebooted the VCH's appliance VM; here the
 * appliance is the endpoint process, so the endpoint is closed and a new one, on a new engine with
 * nothing in memory, serves the same VCH from the same directory (`vic endpoint serve --dir D`
 * keeps the docker networks in D's networks.json). The container VMs keep running in vSphere
 * meanwhile, their published ports held by the simulator's runner. Through the docker CLI against
 * the restarted endpoint: the docker network made before is listed and its containers are on it,
 * a running container with a published port is inspected, answers, stops and starts again, a
 * second container asking for its host port fails to start as with dockerd, and a container's
 * volumes and command are as they were.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../src/engine';
import type { RunningEndpoint } from '../../src/endpoint/serve';
import { settingsFor } from '../helpers/engine';
import { ensureBootstrapIso } from '../helpers/qemu';
import { dockerCli, freePort, httpText, useDockerBed, waitUntilProcessRuns, type DockerBed } from './docker-env';
import { runProcess, type VicRun } from '../cli/run-vic';

const BOOT_MS = 240_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

/** The docker CLI pointed at one endpoint of the bed's VCH. */
interface Client {
  docker(args: readonly string[], timeoutMs?: number): Promise<VicRun>;
  /** Must exit 0 with nothing on stderr: the output, trimmed. */
  ok(args: readonly string[], timeoutMs?: number): Promise<string>;
}

function clientOf(bed: DockerBed, endpoint: RunningEndpoint): Client {
  const env = { ...bed.env, DOCKER_HOST: `tcp://127.0.0.1:${endpoint.port}` };
  const docker = (args: readonly string[], timeoutMs = 120_000) => runProcess(dockerCli(), args, env, { timeoutMs });
  return {
    docker,
    ok: async (args, timeoutMs) => {
      const r = await docker(args, timeoutMs);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      return r.stdout.trim();
    },
  };
}

describe('10-01 the endpoint restarted (VIC: the VCH appliance rebooted)', () => {
  const bed = useDockerBed({ pull: true, sim: { runGuests: { maxRunning: 3 } }, vchName: 'vch-restart' });
  let stateDir = '';
  let port = 0;
  let restartedEngine: Engine | undefined;
  let restarted: RunningEndpoint | undefined;
  /** What the first endpoint showed, to compare with what the restarted one shows. */
  const before: Record<string, string> = {};
  const after = (): Client => {
    if (!restarted) throw new Error('the endpoint was not restarted');
    return clientOf(bed(), restarted);
  };
  const httpd = () => [bed().image, 'httpd', '-f', '-p', '8080', '-h', '/etc'];

  beforeAll(
    async () => {
      stateDir = await mkdtemp(join(tmpdir(), 'vic-endpoint-restart-'));
      port = await freePort();
      const first = await bed().serve({ stateDir, pollMs: 500 });
      try {
        const d = clientOf(bed(), first);
        const viaFirst: DockerBed = { ...bed(), docker: (args, o = {}) => d.docker(args, o.timeoutMs) };
        before.barId = await d.ok(['network', 'create', 'bar']);
        expect(before.barId).toMatch(/^[0-9a-f]{64}$/);
        // A web server with a published port, and a second one, both on bar; a third container on bar ran and exited.
        const webId = await d.ok(['run', '-d', '--name', 'web', '--network', 'bar', '-p', `${port}:8080`, ...httpd()], BOOT_MS);
        await d.ok(['run', '-d', '--name', 'bar-running', '--network', 'bar', ...httpd()], BOOT_MS);
        const exited = await d.docker(['run', '--name', 'bar-exited', '--network', 'bar', bed().image, 'true'], BOOT_MS);
        expect([exited.code, exited.stderr]).toEqual([0, '']);
        // A container made (not started) with an anonymous and a named volume, and a command of its own.
        await d.ok(['create', '--name', 'vol-data', '-v', '/mnt/test', '-v', 'restart-vol:/mnt/named', bed().image, 'ls', '-la', '/']);

        await waitUntilProcessRuns(viaFirst, 'web');
        await waitUntilProcessRuns(viaFirst, 'bar-running');
        // Its /etc/hostname: its host name, dockerd's default, the first 12 hex digits of its id.
        expect(await until('web to answer on its published port', () => httpText(`http://127.0.0.1:${port}/hostname`), 90_000)).toBe(`${webId.slice(0, 12)}\n`);
        for (const name of ['web', 'bar-running', 'bar-exited', 'vol-data']) before[name] = await d.ok(['inspect', '-f', '{{.Id}}', name]);
        before.barRunningIp = await until(
          'bar-running to have an address on bar',
          async () => (await d.ok(['inspect', '-f', '{{.NetworkSettings.Networks.bar.IPAddress}}', 'bar-running'])) || undefined,
          60_000,
        );
        before.mounts = await d.ok(['inspect', '-f', '{{json .Mounts}}', 'vol-data']);
        expect(before.mounts).toContain('restart-vol');
      } finally {
        await first.close();
      }
      // The first endpoint is gone: nothing answers on its port any more.
      const gone = await clientOf(bed(), first).docker(['version', '--format', '{{.Server.Version}}'], 30_000);
      expect(gone.code).not.toBe(0);

      restartedEngine = await connectEngine(settingsFor(bed().sim), { bootstrapIsoFile: await ensureBootstrapIso() });
      restarted = await bed().serve({ engine: restartedEngine, stateDir, pollMs: 500 });
    },
    2 * BOOT_MS + 120_000,
  );

  afterAll(async () => {
    await restarted?.close();
    await restartedEngine?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }, 60_000);

  test('GIVEN docker network create bar before the restart THEN docker network ls lists bar, with its id, and the images are there', async () => {
    expect(await after().ok(['network', 'ls', '--filter', 'name=bar', '--format', '{{.ID}} {{.Name}} {{.Driver}}'])).toBe(
      `${before.barId.slice(0, 12)} bar bridge`,
    );
    expect(await after().ok(['network', 'inspect', '-f', '{{.Id}} {{.Name}}', 'bar'])).toBe(`${before.barId} bar`);
    // The VCH's bridge port group is docker's bridge network; its port group's name finds it too.
    expect((await after().ok(['network', 'ls', '--format', '{{.Name}}'])).split('\n')).toEqual(expect.arrayContaining(['bar', 'bridge']));
    expect(await after().ok(['network', 'inspect', '-f', '{{.Name}}', 'VM Network'])).toBe('bridge');
    expect(await after().ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toContain(bed().image);
  });

  test('GIVEN containers on bar before the restart THEN docker inspect shows them on bar, running or exited as they were, and docker network inspect bar lists them', async () => {
    const onBar = '{{.Id}} {{.State.Status}} {{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.NetworkID}} {{end}}';
    expect(await after().ok(['inspect', '-f', onBar, 'bar-running'])).toBe(`${before['bar-running']} running bar bar=${before.barId}`);
    expect(await after().ok(['inspect', '-f', onBar, 'bar-exited'])).toBe(`${before['bar-exited']} exited bar bar=${before.barId}`);
    expect(await after().ok(['inspect', '-f', '{{.NetworkSettings.Networks.bar.IPAddress}}', 'bar-running'])).toBe(before.barRunningIp);
    const listed = JSON.parse(await after().ok(['network', 'inspect', '-f', '{{json .Containers}}', 'bar'])) as Record<string, { Name: string }>;
    expect(Object.fromEntries(Object.entries(listed).map(([id, c]) => [c.Name, id]))).toEqual({
      web: before.web,
      'bar-running': before['bar-running'],
      'bar-exited': before['bar-exited'],
    });
    expect((await after().ok(['ps', '-a', '--filter', 'network=bar', '--format', '{{.Names}}'])).split('\n').sort()).toEqual([
      'bar-exited',
      'bar-running',
      'web',
    ]);
  });

  test(
    'GIVEN a container that ran and exited before the restart WHEN docker start THEN it runs its command again',
    async () => {
      await after().ok(['start', 'bar-exited'], BOOT_MS);
      expect(await after().ok(['wait', 'bar-exited'], BOOT_MS)).toBe('0');
      expect(await after().ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'bar-exited'])).toBe('exited 0');
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a running container with -p HOST:8080 before the restart THEN docker inspect shows the binding, the host port answers, and docker stop, start and ps work',
    async () => {
      expect(await after().ok(['inspect', '-f', '{{.Id}} {{.State.Status}}', 'web'])).toBe(`${before.web} running`);
      expect(JSON.parse(await after().ok(['inspect', '-f', '{{json .HostConfig.PortBindings}}', 'web']))).toEqual({
        '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }],
      });
      expect(JSON.parse(await after().ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web']))).toEqual({
        '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }],
      });
      expect(await until('web to answer after the restart', () => httpText(`http://127.0.0.1:${port}/hostname`), 60_000)).toBe(`${before.web.slice(0, 12)}\n`);
      expect(await after().ok(['ps', '--filter', 'name=^web$', '--format', '{{.Names}} {{.Ports}}'])).toBe(`web 0.0.0.0:${port}->8080/tcp`);

      expect(await after().ok(['stop', 'web'], 120_000)).toBe('web');
      expect(await after().ok(['inspect', '-f', '{{.State.Status}}', 'web'])).toBe('exited');
      expect(await after().ok(['ps', '--format', '{{.Names}}'])).not.toMatch(/^web$/m);
      await until('the host port to be closed', async () => ((await httpText(`http://127.0.0.1:${port}/hostname`)) === undefined ? true : undefined), 30_000);

      expect(await after().ok(['start', 'web'], BOOT_MS)).toBe('web');
      expect(await until('web to answer again after its start', () => httpText(`http://127.0.0.1:${port}/hostname`), 120_000)).toBe(
        `${before.web.slice(0, 12)}\n`,
      );
      expect(await after().ok(['ps', '--filter', 'name=^web$', '--format', '{{.Names}} {{.Ports}}'])).toBe(`web 0.0.0.0:${port}->8080/tcp`);
      expect((await after().ok(['ps', '--format', '{{.Names}}'])).split('\n').sort()).toEqual(['bar-running', 'web']);
    },
    3 * BOOT_MS,
  );

  test(
    'GIVEN web started again by the restarted endpoint and bar-running started before the restart, both on bar THEN each reaches the other by name',
    async () => {
      const fetchFrom = (from: string, to: string) => async () => {
        const r = await after().docker(['exec', from, 'wget', '-q', '-O', '-', `http://${to}:8080/hostname`], 60_000);
        return r.code === 0 ? r.stdout : undefined;
      };
      expect(await until('web to reach bar-running by name', fetchFrom('web', 'bar-running'), 60_000)).toBe(`${before['bar-running'].slice(0, 12)}\n`);
      expect(await until('bar-running to reach web by name', fetchFrom('bar-running', 'web'), 60_000)).toBe(`${before.web.slice(0, 12)}\n`);
    },
    3 * 60_000,
  );

  test('GIVEN web holds its host port THEN a second container asking for that port fails to start, as with dockerd, and stays created', async () => {
    await after().ok(['create', '--name', 'web-2', '-p', `${port}:8080`, ...httpd()]);
    const started = await after().docker(['start', 'web-2'], BOOT_MS);
    expect(started.code).not.toBe(0);
    expect(started.stderr).toContain(`Bind for 0.0.0.0:${port} failed: port is already allocated`);
    expect(await after().ok(['inspect', '-f', '{{.State.Status}}', 'web-2'])).toBe('created');
    expect(await httpText(`http://127.0.0.1:${port}/hostname`)).toBe(`${before.web.slice(0, 12)}\n`);
    await after().ok(['rm', 'web-2']);
  });

  test('GIVEN a container made with a named and an anonymous volume before the restart THEN docker inspect shows its mounts and command, and docker volume ls lists the volumes', async () => {
    const mountsJson = await after().ok(['inspect', '-f', '{{json .Mounts}}', 'vol-data']);
    expect(mountsJson).toBe(before.mounts);
    const mounts = JSON.parse(mountsJson) as { Type: string; Name: string; Destination: string; RW: boolean }[];
    const byDestination = Object.fromEntries(mounts.map((m) => [m.Destination, m]));
    expect(Object.keys(byDestination).sort()).toEqual(['/mnt/named', '/mnt/test']);
    expect(byDestination['/mnt/named']).toMatchObject({ Type: 'volume', Name: 'restart-vol', RW: true });
    expect(byDestination['/mnt/test']).toMatchObject({ Type: 'volume', RW: true });
    const anonymous = byDestination['/mnt/test'].Name;
    expect(anonymous).toMatch(/^[0-9a-f]{64}$/);
    expect(await after().ok(['inspect', '-f', '{{json .Config.Cmd}}', 'vol-data'])).toBe('["ls","-la","/"]');
    const volumes = (await after().ok(['volume', 'ls', '--format', '{{.Name}}'])).split('\n');
    expect(volumes).toEqual(expect.arrayContaining(['restart-vol', anonymous]));
    expect(await after().ok(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'restart-vol'])).toBe('restart-vol vsphere');
  });
});

/**
 * VIC Group1 1-25 port mapping, as far as vic-iac goes: a container VM has its own address on its
 * port group, and under the embedded simulator the runner publishes the image's EXPOSE ports on
 * 127.0.0.1. `docker port`, `docker ps` and `docker inspect` show where (the container_vm's
 * `published_ports`), the host reaches the container there. `-p` publishes on the host port and
 * address asked for (the container_vm's `ports`), and a host port another container VM or process
 * holds fails the start as dockerd's does ("port is already allocated").
 */
import { useDockerBed, busyboxImage, freePort, httpText, waitUntilProcessRuns, type DockerBed } from './docker-env';

/** A port of the host that nothing listens on now. */

const BOOT_MS = 240_000;

/** A busybox image whose default command serves HTTP on its exposed port 80. */
function webImage() {
  const base = busyboxImage();
  const script = 'mkdir -p /tmp/www && echo "served by $(hostname)" > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www';
  return {
    layers: [
      ...base.layers,
      { entries: ['httpd', 'mkdir', 'hostname'].map((applet) => ({ type: 'symlink' as const, path: `bin/${applet}`, target: 'busybox' })) },
    ],
    config: { ...base.config, Cmd: ['sh', '-c', script], ExposedPorts: { '80/tcp': {} } },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('1-25 published ports', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, vchName: 'vch-ports' });
  let web = '';
  beforeAll(async () => {
    web = await bed().pushImage(webImage(), 'vic-test/web:1');
    expect((await bed().docker(['pull', web], { timeoutMs: 180_000 })).code).toBe(0);
  }, 240_000);

  /** What the image's page says: its container's host name, dockerd's default (the first 12 hex digits of its id). */
  async function servedBy(name: string): Promise<string> {
    return `served by ${(await bed().dockerOk(['inspect', '-f', '{{.Id}}', name])).slice(0, 12)}\n`;
  }

  async function published(b: DockerBed, name: string): Promise<string | undefined> {
    const r = await b.docker(['port', name]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    return r.stdout.trim() || undefined;
  }

  test(
    'GIVEN an image that exposes 80/tcp WHEN it runs THEN docker port, ps and inspect show the host port it is published on, the host reaches it there, and a stopped container shows none',
    async () => {
      expect((await bed().docker(['run', '-d', '-u', '0:0', '--name', 'web-1', web], { timeoutMs: BOOT_MS })).code).toBe(0);
      // Known when docker run returns, as with dockerd: picked at the power-on, while the guest boots.
      const line = (await published(bed(), 'web-1')) ?? '';
      expect(line).toMatch(/^80\/tcp -> 127\.0\.0\.1:\d+$/);
      await waitUntilProcessRuns(bed(), 'web-1');
      expect(await published(bed(), 'web-1')).toBe(line);
      const hostPort = Number(/:(\d+)$/.exec(line)?.[1]);
      expect(await bed().dockerOk(['port', 'web-1', '80/tcp'])).toBe(`127.0.0.1:${hostPort}`);
      expect(await bed().dockerOk(['ps', '--filter', 'name=web-1', '--format', '{{.Ports}}'])).toBe(`127.0.0.1:${hostPort}->80/tcp`);
      expect(JSON.parse(await bed().dockerOk(['inspect', '--format', '{{json .NetworkSettings.Ports}}', 'web-1']))).toEqual({
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }],
      });
      const body = await until(
        'an HTTP answer on the published port',
        async () => {
          try {
            const response = await fetch(`http://127.0.0.1:${hostPort}/index.html`, { signal: AbortSignal.timeout(3000) });
            return response.ok ? await response.text() : undefined;
          } catch {
            return undefined;
          }
        },
        90_000,
      );
      expect(body).toBe(await servedBy('web-1'));

      expect((await bed().docker(['stop', '-t', '1', 'web-1'], { timeoutMs: 120_000 })).code).toBe(0);
      expect(await published(bed(), 'web-1')).toBeUndefined();
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=web-1', '--format', '{{.Ports}}'])).toBe('');

      // Started again, its exit still on record while the guest boots: the new run's port is shown
      // as docker start returns, and it answers there.
      expect((await bed().docker(['start', 'web-1'], { timeoutMs: BOOT_MS })).code).toBe(0);
      const again = (await published(bed(), 'web-1')) ?? '';
      expect(again).toMatch(/^80\/tcp -> 127\.0\.0\.1:\d+$/);
      expect(await until('an HTTP answer after the start', () => httpText(`http://${again.split(' -> ')[1]}/index.html`), 90_000)).toBe(
        await servedBy('web-1'),
      );
      expect((await bed().docker(['rm', '-f', 'web-1'], { timeoutMs: 120_000 })).code).toBe(0);
    },
    BOOT_MS + 240_000,
  );

  test(
    'GIVEN -p HOST:80 WHEN docker run THEN the host reaches the container on that port of every address; docker port, ps and inspect say so; a second container asking for it fails to start as with dockerd',
    async () => {
      const port = await freePort();
      const r = await bed().docker(['run', '-d', '-u', '0:0', '-p', `${port}:80`, '--name', 'web-p', web], { timeoutMs: BOOT_MS });
      expect([r.code, r.stderr]).toEqual([0, '']);
      await waitUntilProcessRuns(bed(), 'web-p');
      expect(await until('docker port to show 80/tcp', () => published(bed(), 'web-p'), 60_000)).toBe(`80/tcp -> 0.0.0.0:${port}`);
      expect(await bed().dockerOk(['ps', '--filter', 'name=web-p', '--format', '{{.Ports}}'])).toBe(`0.0.0.0:${port}->80/tcp`);
      expect(JSON.parse(await bed().dockerOk(['inspect', '--format', '{{json .HostConfig.PortBindings}}', 'web-p']))).toEqual({
        '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }],
      });
      expect(await until('an HTTP answer on the port asked for', () => httpText(`http://127.0.0.1:${port}/index.html`), 90_000)).toBe(await servedBy('web-p'));

      const second = await bed().docker(['run', '-d', '-p', `${port}:80`, '--name', 'web-p2', web], { timeoutMs: BOOT_MS });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(`Bind for 0.0.0.0:${port} failed: port is already allocated (to VM web-p)`);
      expect(await bed().dockerOk(['inspect', '--format', '{{.State.Status}}', 'web-p2'])).toBe('created');
      // With --rm the failed start removes the container, as dockerd does: the CLI waits for that
      // removal before it tells the error (it waited for ever when the container stayed).
      for (const detach of [[], ['-d']]) {
        const removed = await bed().docker(['run', '--rm', ...detach, '-p', `${port}:80`, '--name', 'web-p3', web], { timeoutMs: 60_000 });
        expect({ detach, code: removed.code }).toEqual({ detach, code: 125 });
        expect(removed.stderr).toContain(`Bind for 0.0.0.0:${port} failed: port is already allocated (to VM web-p)`);
        expect((await bed().docker(['inspect', 'web-p3'])).stderr).toContain('No such object: web-p3');
      }
      expect(await httpText(`http://127.0.0.1:${port}/index.html`)).toBe(await servedBy('web-p'));

      // Restarted at once, it gets its port back: its own QEMU, still going, is not another holder.
      const restart = await bed().docker(['restart', '-t', '0', 'web-p'], { timeoutMs: 120_000 });
      expect([restart.code, restart.stderr]).toEqual([0, '']);
      expect(await until('an HTTP answer after the restart', () => httpText(`http://127.0.0.1:${port}/index.html`), 90_000)).toBe(await servedBy('web-p'));

      // The port is the container's only while it runs: stopped, it goes back to the host.
      expect((await bed().docker(['stop', '-t', '1', 'web-p'], { timeoutMs: 120_000 })).code).toBe(0);
      await until(
        'the host port to be free again',
        async () => ((await httpText(`http://127.0.0.1:${port}/index.html`)) === undefined ? true : undefined),
        30_000,
      );
      expect((await bed().docker(['rm', 'web-p2'])).code).toBe(0);
    },
    BOOT_MS + 240_000,
  );

  test(
    'GIVEN -p 127.0.0.1::80 (an address, no host port) WHEN docker run THEN a free port of that address is chosen and shown from when it returns',
    async () => {
      const r = await bed().docker(['run', '-d', '-u', '0:0', '-p', '127.0.0.1::80', '--name', 'web-any', web], { timeoutMs: BOOT_MS });
      expect([r.code, r.stderr]).toEqual([0, '']);
      // The port is chosen by the time docker run returns: docker port, ps and inspect show it at once.
      const line = (await published(bed(), 'web-any')) ?? '';
      expect(line).toMatch(/^80\/tcp -> 127\.0\.0\.1:\d+$/);
      const hostPort = line.split(':')[1];
      expect(await bed().dockerOk(['ps', '--filter', 'name=web-any', '--format', '{{.Ports}}'])).toBe(`127.0.0.1:${hostPort}->80/tcp`);
      expect(JSON.parse(await bed().dockerOk(['inspect', '--format', '{{json .NetworkSettings.Ports}}', 'web-any']))).toEqual({
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: hostPort }],
      });
      await waitUntilProcessRuns(bed(), 'web-any');
      expect(await published(bed(), 'web-any')).toBe(line);
      expect(JSON.parse(await bed().dockerOk(['inspect', '--format', '{{json .HostConfig.PortBindings}}', 'web-any']))).toEqual({
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      });
      expect(await until('an HTTP answer', () => httpText(`http://${line.split(' -> ')[1]}/index.html`), 90_000)).toBe(await servedBy('web-any'));
      expect((await bed().docker(['rm', '-f', 'web-any'], { timeoutMs: 120_000 })).code).toBe(0);
    },
    BOOT_MS + 120_000,
  );

  test('GIVEN -p with what a container VM cannot publish THEN docker run is refused at once, naming it, and nothing is made', async () => {
    const range = await bed().docker(['run', '-d', '-p', '8000-8010:80', '--name', 'web-range', web]);
    expect(range.code).not.toBe(0);
    expect(range.stderr).toContain('host port ranges are not supported for port bindings by vic-iac: give one port, or none for a free one');
    const sctp = await bed().docker(['run', '-d', '-p', '9000:80/sctp', '--name', 'web-sctp', web]);
    expect(sctp.stderr).toContain('-p 80/sctp: SCTP is not supported by vic-iac: publish tcp or udp ports');
    const v6 = await bed().docker(['run', '-d', '-p', '[::1]:9000:80', '--name', 'web-v6', web]);
    expect(v6.stderr).toContain('ports[0].ip = "::1" is not an IPv4 address');
    const twice = await bed().docker(['run', '-d', '-p', '9000:80', '-p', '9000:81', '--name', 'web-twice', web]);
    expect(twice.stderr).toMatch(/ports\[1\]\.external = 9000 is taken already by ports\[0\] on 0\.0\.0\.0/);
    for (const name of ['web-range', 'web-sctp', 'web-v6', 'web-twice']) expect((await bed().docker(['inspect', name])).code).toBe(1);
  });

  test(
    "GIVEN --expose and -p WHEN run THEN inspect's Config.ExposedPorts has those and the image's EXPOSE, as dockerd merges them, and ps and inspect list the exposed ports nothing publishes",
    async () => {
      const run = await bed().docker(
        ['run', '-d', '-u', '0:0', '--name', 'web-exposed', '--expose', '9000', '--expose', '53/udp', '-p', '127.0.0.1::81', web],
        {
          timeoutMs: BOOT_MS,
        },
      );
      expect([run.code, run.stderr]).toEqual([0, '']);
      expect(JSON.parse(await bed().dockerOk(['inspect', '-f', '{{json .Config.ExposedPorts}}', 'web-exposed']))).toEqual({
        '53/udp': {},
        '80/tcp': {},
        '81/tcp': {},
        '9000/tcp': {},
      });
      // As dockerd: --expose publishes nothing; a running container lists what it exposes unpublished.
      const ports = JSON.parse(await bed().dockerOk(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web-exposed'])) as Record<string, unknown>;
      expect(ports).toEqual({
        '53/udp': null,
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: expect.stringMatching(/^\d+$/) }],
        '81/tcp': [{ HostIp: '127.0.0.1', HostPort: expect.stringMatching(/^\d+$/) }],
        '9000/tcp': null,
      });
      const ps = (await bed().dockerOk(['ps', '--filter', 'name=web-exposed', '--format', '{{.Ports}}'])).split(', ').sort();
      expect(ps).toHaveLength(4);
      expect(ps).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^127\.0\.0\.1:\d+->80\/tcp$/),
          expect.stringMatching(/^127\.0\.0\.1:\d+->81\/tcp$/),
          '53/udp',
          '9000/tcp',
        ]),
      );
      await bed().docker(['rm', '-f', 'web-exposed'], { timeoutMs: 120_000 });
    },
    BOOT_MS,
  );
  test(
    'GIVEN -P with --expose and one -p WHEN run THEN every exposed port -p does not name is published on a free port of every address, as dockerd; HostConfig says PublishAllPorts and keeps only the -p binding',
    async () => {
      const run = await bed().docker(['run', '-d', '-u', '0:0', '--name', 'web-all', '-P', '--expose', '9000', '-p', '127.0.0.1::81', web], {
        timeoutMs: BOOT_MS,
      });
      expect([run.code, run.stderr]).toEqual([0, '']);
      const host = JSON.parse(await bed().dockerOk(['inspect', '-f', '{{json .HostConfig}}', 'web-all'])) as {
        PublishAllPorts: boolean;
        PortBindings: unknown;
      };
      expect(host.PublishAllPorts).toBe(true);
      expect(host.PortBindings).toEqual({ '81/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
      const ports = (await published(bed(), 'web-all'))?.split('\n').sort();
      expect(ports).toEqual([
        expect.stringMatching(/^80\/tcp -> 0\.0\.0\.0:\d+$/),
        expect.stringMatching(/^81\/tcp -> 127\.0\.0\.1:\d+$/),
        expect.stringMatching(/^9000\/tcp -> 0\.0\.0\.0:\d+$/),
      ]);
      // The image's server answers on the port -P gave its EXPOSE 80.
      const port80 = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(ports?.[0] ?? '')?.[1];
      expect(await until('an HTTP answer on the port -P picked', () => httpText(`http://127.0.0.1:${port80}/index.html`), 90_000)).toBe(
        await servedBy('web-all'),
      );
      await bed().docker(['rm', '-f', 'web-all'], { timeoutMs: 120_000 });
    },
    BOOT_MS,
  );
});

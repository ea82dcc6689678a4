/**
 * VIC Group1 1-25 port mapping, as far as vic-iac goes: a container VM has its own address on its
 * port group, and under the embedded simulator the runner publishes the image's EXPOSE ports on
 * 127.0.0.1. `docker port`, `docker ps` and `docker inspect` show where (the container_vm's
 * `published_ports`), the host reaches the container there, and `-p` is refused with that way out.
 */
import { useDockerBed, busyboxImage, waitUntilProcessRuns, type DockerBed } from './docker-env';

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

  async function published(b: DockerBed, name: string): Promise<string | undefined> {
    const r = await b.docker(['port', name]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    return r.stdout.trim() || undefined;
  }

  test(
    'GIVEN an image that exposes 80/tcp WHEN it runs THEN docker port, ps and inspect show the host port it is published on, the host reaches it there, and a stopped container shows none',
    async () => {
      expect((await bed().docker(['run', '-d', '-u', '0:0', '--name', 'web-1', web], { timeoutMs: BOOT_MS })).code).toBe(0);
      await waitUntilProcessRuns(bed(), 'web-1');
      const line = await until('docker port to show 80/tcp', () => published(bed(), 'web-1'), 60_000);
      expect(line).toMatch(/^80\/tcp -> 127\.0\.0\.1:\d+$/);
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
      expect(body).toBe('served by web-1\n');

      expect((await bed().docker(['stop', '-t', '1', 'web-1'], { timeoutMs: 120_000 })).code).toBe(0);
      expect(await published(bed(), 'web-1')).toBeUndefined();
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=web-1', '--format', '{{.Ports}}'])).toBe('');
    },
    BOOT_MS + 240_000,
  );

  test('GIVEN -p WHEN docker run THEN it is refused, naming docker port as the way to find the published port', async () => {
    const r = await bed().docker(['run', '-d', '-p', '8080:80', '--name', 'web-p', web]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/publishing ports \(-p\) is not supported by vic-iac/);
    expect(r.stderr).toMatch(/docker port <container>/);
    expect((await bed().docker(['inspect', 'web-p'])).code).toBe(1);
  });
});

/**
 * /etc/hosts at a container VM's boot: docker run --add-host (compose's extra_hosts, the
 * container_vm's extra_hosts), and the containers beside it on a docker network, named from its
 * process's first moment (as dockerd's DNS answers them), not only once the endpoint writes them.
 */
import { useDockerBed } from './docker-env';

const BOOT_MS = 240_000;

describe('/etc/hosts at boot', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 3 } }, pull: true, vchName: 'vch-hosts' });

  test(
    'GIVEN --add-host NAME:IPv4 and NAME=IPv6 WHEN docker run THEN the process reads them in /etc/hosts, and inspect shows them as the CLI sent them',
    async () => {
      const run = await bed().docker(['run', '--rm', '--add-host', 'db.local:10.9.8.7', '--add-host', 'v6=fd00::5', bed().image, 'cat', '/etc/hosts'], {
        timeoutMs: BOOT_MS,
      });
      expect([run.code, run.stderr]).toEqual([0, '']);
      expect(run.stdout).toMatch(/^10\.9\.8\.7\tdb\.local$/m);
      expect(run.stdout).toMatch(/^fd00::5\tv6$/m);
      expect(run.stdout).toMatch(/^127\.0\.0\.1\tlocalhost$/m);

      await bed().dockerOk(['create', '--name', 'hosts-kept', '--add-host', 'db.local:10.9.8.7', '--add-host', 'v6=fd00::5', bed().image, 'true']);
      expect(JSON.parse(await bed().dockerOk(['inspect', '-f', '{{json .HostConfig.ExtraHosts}}', 'hosts-kept']))).toEqual(['db.local:10.9.8.7', 'v6:fd00::5']);
      await bed().dockerOk(['rm', 'hosts-kept']);
      expect(
        JSON.parse(await bed().dockerOk(['inspect', '-f', '{{json .HostConfig.ExtraHosts}}', await bed().dockerOk(['create', bed().image, 'true'])])),
      ).toBeNull();
    },
    BOOT_MS,
  );

  test('GIVEN --add-host NAME:host-gateway WHEN docker run THEN it is refused naming the entry, and nothing is made', async () => {
    const run = await bed().docker(['run', '--name', 'gw', '--add-host', 'host.internal:host-gateway', bed().image, 'true'], { timeoutMs: 60_000 });
    expect(run.code).toBe(125);
    expect(run.stderr).toContain('extra_hosts[0]');
    expect(run.stderr).toContain('host.internal:host-gateway');
    expect(run.stderr).toContain('gateway');
    expect((await bed().docker(['inspect', 'gw'])).stderr).toContain('No such object: gw');
  });

  test(
    'GIVEN a server just started on a docker network WHEN a client is run on it at once THEN the client reaches the server by name on its first try',
    async () => {
      await bed().dockerOk(['network', 'create', 'hostsnet']);
      const server = await bed().docker(['run', '-d', '--network', 'hostsnet', '--name', 'server', bed().image, 'httpd', '-f', '-p', '80', '-h', '/etc'], {
        timeoutMs: BOOT_MS,
      });
      expect([server.code, server.stderr]).toEqual([0, '']);
      // No wait and no second try: its guest names the server at boot. httpd may need a moment
      // more than the server's address does, which the client's own loop gives it (not the name).
      const client = await bed().docker(
        [
          'run',
          '--rm',
          '--network',
          'hostsnet',
          bed().image,
          'sh',
          '-c',
          'grep -w server /etc/hosts || { echo "server not named at boot" >&2; exit 3; }; for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://server/hostname && exit 0; sleep 1; done; exit 4',
        ],
        { timeoutMs: BOOT_MS },
      );
      expect([client.code, client.stderr]).toEqual([0, '']);
      // The server's /etc/hostname is its short id (dockerd's default host name).
      expect(client.stdout).toMatch(new RegExp(`\\tserver\\n(.|\\n)*${server.stdout.trim().slice(0, 12)}\\n$`));
      await bed().docker(['rm', '-f', 'server'], { timeoutMs: 120_000 });
      await bed().dockerOk(['network', 'rm', 'hostsnet']);
    },
    2 * BOOT_MS,
  );
});

/**
 * VIC Group1 1-24 link, and names on a port group: containers reach each other by name, by
 * `--network-alias` and by `--link` alias, through real guests on the simulator's shared port
 * group. The endpoint writes the names into each running guest's /etc/hosts (peer-names.ts); a
 * container that stops leaves its peers' files.
 */
import { eventually, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 300_000;

describe('1-24 docker link and container names', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-link' });
  const hostsOf = async (name: string): Promise<string> => (await bed().docker(['exec', name, 'cat', '/etc/hosts'], { timeoutMs: 60_000 })).stdout;

  test(
    'GIVEN a server container WHEN another starts with --link and the server has --network-alias THEN each finds the other in /etc/hosts, and the client reaches the server by name, alias and link alias',
    async () => {
      await bed().dockerOk([
        'run',
        '-d',
        '--name',
        'server',
        '--network',
        'VM Network',
        '--network-alias',
        'backend',
        bed().image,
        'httpd',
        '-f',
        '-p',
        '8080',
        '-h',
        '/etc',
      ]);
      await waitUntilProcessRuns(bed(), 'server');
      await bed().dockerOk(['run', '-d', '--name', 'client', '--link', 'server:api', bed().image, 'sleep', '600']);
      await waitUntilProcessRuns(bed(), 'client');
      const serverIp = await bed().dockerOk(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'server']);
      const clientIp = await bed().dockerOk(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'client']);
      expect(serverIp).toMatch(/^10\.0\.2\.\d+$/);

      await eventually(bed(), 'the client knows the server', async () => (await hostsOf('client')).includes(`${serverIp}\tserver backend api\n`), 60_000);
      await eventually(bed(), 'the server knows the client', async () => (await hostsOf('server')).includes(`${clientIp}\tclient\n`), 60_000);
      // The container's own lines stay as its tether wrote them: its address under its host name
      // (dockerd's default, its short id), then its name.
      const short = async (c: string) => (await bed().dockerOk(['inspect', '-f', '{{.Id}}', c])).slice(0, 12);
      expect(await hostsOf('client')).toMatch(
        new RegExp(
          `^127\\.0\\.0\\.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n${clientIp.replace(/\./g, '\\.')}\\t${await short('client')} client\\n`,
        ),
      );

      const serverHost = `${await short('server')}\n`;
      for (const name of ['server', 'backend', 'api']) {
        const r = await bed().docker(['exec', 'client', 'wget', '-q', '-O', '-', `http://${name}:8080/hostname`], { timeoutMs: 60_000 });
        expect({ name, code: r.code, stdout: r.stdout }).toEqual({ name, code: 0, stdout: serverHost });
      }

      // The server stops: the client's file no longer names it.
      await bed().dockerOk(['stop', '-t', '0', 'server']);
      await eventually(bed(), 'the client forgets the server', async () => !(await hostsOf('client')).includes('server'), 60_000);
      await bed().dockerOk(['rm', '-f', 'client', 'server']);
    },
    2 * BOOT_MS,
  );

  test('GIVEN --link to a container that is not there THEN create is refused naming it, and nothing is made', async () => {
    const r = await bed().docker(['create', '--name', 'orphan', '--link', 'nobody:db', bed().image]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--link nobody: no container named nobody in this VCH');
    expect((await bed().docker(['ps', '-a', '-q', '--filter', 'name=orphan'])).stdout).toBe('');
    // A link to a container that is there: inspect shows it as dockerd does.
    await bed().dockerOk(['create', '--name', 'link-target', bed().image]);
    await bed().dockerOk(['create', '--name', 'linker', '--link', 'link-target:db', bed().image]);
    expect(await bed().dockerOk(['inspect', '-f', '{{json .HostConfig.Links}}', 'linker'])).toBe('["/link-target:/linker/db"]');
  });
});

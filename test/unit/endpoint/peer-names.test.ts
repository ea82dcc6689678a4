/** Which containers are peers on a port group, under which names, and the /etc/hosts each gets. */
import { bootHostEntries, hostsFile, parseLinks, peersAwaitingAddress, peersOf } from '../../../src/endpoint/peer-names';

const vm = (name: string, ip: string | null, extra: Record<string, unknown> = {}) => ({
  id: `id-${name}`,
  name,
  power_state: 'running',
  ip_addresses: ip ? [ip] : [],
  labels: {},
  ...extra,
});

describe('peer names', () => {
  const web = vm('web', '10.0.2.15', { labels: { 'vic-iac.docker.links': JSON.stringify([['db', 'database']]) } });
  const db = vm('proj-db-1', '10.0.2.16', { labels: { 'com.docker.compose.service': 'db', 'vic-iac.docker.aliases': JSON.stringify(['postgres']) } });
  const stopped = vm('old', '10.0.2.17', { power_state: 'stopped' });
  const booting = vm('booting', null);
  const elsewhere = vm('other-net', '10.0.3.15', { networks: ['Other PG'] });
  const noNic = vm('isolated', '10.0.2.18', { networks: [] });

  it('GIVEN containers on port groups WHEN peers are listed THEN only the running ones with an address on a shared port group are', () => {
    const all = [web, db, stopped, booting, elsewhere, noNic];
    expect(peersOf(web, all, 'VM Network').map((p) => p.name)).toEqual(['proj-db-1']);
    expect(peersOf(elsewhere, all, 'VM Network')).toEqual([]);
    expect(peersOf(noNic, all, 'VM Network')).toEqual([]);
    // Without a bridge network, a container without networks is on none.
    expect(peersOf(web, all, undefined)).toEqual([]);
  });

  it('GIVEN containers started side by side WHEN one still boots THEN it is awaited on its port groups only, until it has an address', () => {
    const all = [web, db, stopped, booting, elsewhere, noNic];
    expect(peersAwaitingAddress(web, all, 'VM Network').map((p) => p.name)).toEqual(['booting']);
    expect(peersAwaitingAddress(elsewhere, all, 'VM Network')).toEqual([]);
    expect(peersAwaitingAddress(noNic, all, 'VM Network')).toEqual([]);
    const booted = { ...booting, ip_addresses: ['10.0.2.19'] };
    expect(peersAwaitingAddress(web, [web, db, booted], 'VM Network')).toEqual([]);
    expect(peersOf(web, [web, db, booted], 'VM Network').map((p) => p.name)).toEqual(['proj-db-1', 'booting']);
  });

  it('GIVEN containers on docker networks WHEN peers are listed THEN those sharing one of them are, across several networks, and not the plain bridge ones', () => {
    const on = (name: string, ip: string, networks: string) => vm(name, ip, { networks: ['VM Network'], labels: { 'vic-iac.docker.network': networks } });
    const api = on('api', '10.0.2.30', 'front,back');
    const client = on('client', '10.0.2.31', 'back');
    const proxy = on('proxy', '10.0.2.32', 'front');
    const plain = vm('plain', '10.0.2.33', { networks: ['VM Network'] });
    const all = [api, client, proxy, plain];
    expect(peersOf(api, all, 'VM Network').map((p) => p.name)).toEqual(['client', 'proxy']);
    expect(peersOf(client, all, 'VM Network').map((p) => p.name)).toEqual(['api']);
    expect(peersOf(proxy, all, 'VM Network').map((p) => p.name)).toEqual(['api']);
    expect(peersOf(plain, all, 'VM Network')).toEqual([]);
  });

  it("GIVEN a peer with a compose service, aliases and this container's link alias THEN one line names it all; the container's own line is the tether's", () => {
    expect(hostsFile(web, [db])).toBe(
      [
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        '10.0.2.15\tweb',
        '# containers on the same port groups (vic-iac)',
        '10.0.2.16\tproj-db-1 db postgres',
        '',
      ].join('\n'),
    );
    const linkedByName = vm('web2', '10.0.2.19', { hostname: 'front', labels: { 'vic-iac.docker.links': JSON.stringify([['proj-db-1', 'database']]) } });
    expect(hostsFile(linkedByName, [db]).split('\n').slice(2, 5)).toEqual([
      '10.0.2.19\tfront web2',
      '# containers on the same port groups (vic-iac)',
      '10.0.2.16\tproj-db-1 db postgres database',
    ]);
  });

  it('GIVEN no peer THEN the file is what the tether writes at boot; a name two peers claim goes to the first by name', () => {
    expect(hostsFile(vm('Web_1', '10.0.2.20'), [])).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.2.20\tweb-1 Web_1\n');
    const a = vm('a', '10.0.2.21', { labels: { 'com.docker.compose.service': 'api' } });
    const b = vm('b', '10.0.2.22', { labels: { 'com.docker.compose.service': 'api' } });
    expect(hostsFile(web, [b, a]).split('\n').slice(4, 6)).toEqual(['10.0.2.21\ta api', '10.0.2.22\tb']);
  });

  it("GIVEN a docker-made container with --add-host entries THEN its boot entries are those, then each peer's names; its file keeps them after its own line", () => {
    const client = vm('client', '10.0.2.40', {
      extra_hosts: ['stale:10.0.2.99'],
      labels: { 'vic-iac.docker.origin': 'docker', 'vic-iac.docker.extra-hosts': JSON.stringify(['db.local:10.9.8.7', 'v6:fd00::5']) },
    });
    expect(bootHostEntries(client, [db])).toEqual(['db.local:10.9.8.7', 'v6:fd00::5', 'proj-db-1:10.0.2.16', 'db:10.0.2.16', 'postgres:10.0.2.16']);
    expect(bootHostEntries(client, [])).toEqual(['db.local:10.9.8.7', 'v6:fd00::5']);
    expect(hostsFile(client, [db]).split('\n').slice(2, 7)).toEqual([
      '10.0.2.40\tclient',
      '10.9.8.7\tdb.local',
      'fd00::5\tv6',
      '# containers on the same port groups (vic-iac)',
      '10.0.2.16\tproj-db-1 db postgres',
    ]);
    // An IaC-made container's extra_hosts are all its own.
    const iac = vm('iac', '10.0.2.41', { extra_hosts: ['db.local:10.9.8.7'] });
    expect(bootHostEntries(iac, [])).toEqual(['db.local:10.9.8.7']);
  });

  it('GIVEN --link as the CLI and the API send it THEN each is the linked name and its alias', () => {
    expect(parseLinks(['/db:/web/database', 'cache:c', 'queue'])).toEqual([
      ['db', 'database'],
      ['cache', 'c'],
      ['queue', 'queue'],
    ]);
  });
});

/**
 * VIC Group1 1-15 network create, as vic-iac documents it (docs/endpoint.md): a docker network is a
 * name over the VCH's bridge port group (driver `bridge`), with its labels. VIC's cases: a plain
 * create that `network ls` then lists, a create with a label that `network inspect` shows, a name
 * already taken (dockerd's "already exists"), an overlay network and an internal one. The last two
 * ask for what a port group cannot give, so here they are refused naming the option, and nothing is
 * made; the same goes for the other options docs/endpoint.md lists. No guest boots in this file.
 */
import { useDockerBed } from './docker-env';

describe('1-15 docker network create', () => {
  const bed = useDockerBed({ vchName: 'vch-netcreate' });

  /** The names `docker network ls` lists, one per row. */
  const networkNames = async (): Promise<string[]> => (await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean);

  test('GIVEN a VCH WHEN docker network create test-network runs THEN it prints the new id, and network ls lists it as a local bridge network', async () => {
    const made = await bed().docker(['network', 'create', 'test-network']);
    expect([made.code, made.stderr]).toEqual([0, '']);
    const id = made.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const listing = await bed().docker(['network', 'ls']);
    expect([listing.code, listing.stderr]).toEqual([0, '']);
    const row = listing.stdout.split('\n').find((line) => line.split(/\s{2,}/)[1] === 'test-network');
    expect(row?.split(/\s{2,}/)).toEqual([id.slice(0, 12), 'test-network', 'bridge', 'local']);
    expect(await bed().dockerOk(['network', 'inspect', '--format', '{{.Id}} {{.Name}} {{.Driver}}', 'test-network'])).toBe(`${id} test-network bridge`);
  });

  test('GIVEN --label=foo=bar WHEN the network is created THEN network ls lists it and network inspect shows the label', async () => {
    const made = await bed().docker(['network', 'create', '--label=foo=bar', 'label-network']);
    expect([made.code, made.stderr]).toEqual([0, '']);
    expect(await networkNames()).toContain('label-network');
    expect(await bed().dockerOk(['network', 'inspect', '-f', '{{.Labels}}', 'label-network'])).toBe('map[foo:bar]');
    // The label is one a filter can find it by, as dockerd's labels are.
    expect(await bed().dockerOk(['network', 'ls', '--filter', 'label=foo=bar', '--format', '{{.Name}}'])).toBe('label-network');
  });

  test('GIVEN test-network exists WHEN it is created again THEN it exits 1 saying the name already exists, and the first one stays as it was', async () => {
    const before = await bed().dockerOk(['network', 'inspect', '--format', '{{.Id}}', 'test-network']);
    const again = await bed().docker(['network', 'create', 'test-network']);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr.trim()).toBe('Error response from daemon: network with name test-network already exists');
    expect((await networkNames()).filter((name) => name === 'test-network')).toHaveLength(1);
    expect(await bed().dockerOk(['network', 'inspect', '--format', '{{.Id}}', 'test-network'])).toBe(before);
  });

  test.each(['bridge', 'none', 'host'])(
    'GIVEN %s, a network name dockerd has from the start WHEN docker network create takes it THEN it exits 1 saying it already exists',
    async (name) => {
      const before = await networkNames();
      const r = await bed().docker(['network', 'create', name]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`Error response from daemon: network with name ${name} already exists`);
      expect(await networkNames()).toEqual(before);
    },
  );

  // VIC's "Create overlay network" and "Create internal network", then the other options a port
  // group cannot carry out: each refused by name, before anything is made.
  test.each([
    { name: 'test-network2', args: ['-d', 'overlay'], says: '--driver overlay' },
    { name: 'internal-network', args: ['--internal'], says: '--internal is not supported by vic-iac' },
    { name: 'macvlan-network', args: ['--driver', 'macvlan'], says: '--driver macvlan' },
    { name: 'ipv6-network', args: ['--ipv6'], says: '--ipv6 is not supported by vic-iac' },
    { name: 'subnet-network', args: ['--subnet', '10.9.0.0/16'], says: '--subnet' },
    { name: 'gateway-network', args: ['--subnet', '10.9.0.0/16', '--gateway', '10.9.0.1'], says: '--gateway' },
    { name: 'range-network', args: ['--subnet', '10.9.0.0/16', '--ip-range', '10.9.1.0/24'], says: '--ip-range' },
    { name: 'ipam-network', args: ['--ipam-driver', 'other-ipam'], says: '--ipam-driver other-ipam' },
    { name: 'swarm-network', args: ['--scope', 'swarm'], says: 'a swarm network is not supported by vic-iac' },
  ])('GIVEN $args WHEN docker network create $name runs THEN it exits 1 naming what vic-iac refuses, and no network is made', async ({ name, args, says }) => {
    const before = await networkNames();
    const r = await bed().docker(['network', 'create', ...args, name]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error response from daemon: /);
    expect(r.stderr).toContain(says);
    expect(await networkNames()).toEqual(before);
    const inspected = await bed().docker(['network', 'inspect', name]);
    expect(inspected.code).toBe(1);
    expect(inspected.stderr).toContain(`network ${name} not found`);
  });
});

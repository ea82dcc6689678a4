/**
 * Networks docker makes (networks.ts): `docker network create` gives a name over the VCH's bridge
 * port group, which containers are made on, ls/inspect/rm/prune serve, and options a port group
 * cannot carry out are refused by name.
 */
import { useDockerBed } from './docker-env';

describe('docker network create, on a VCH', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-nets' });

  test('GIVEN docker network create WHEN a container is made on it THEN ls, inspect and the container show it; rm and prune take one no running container is on, and the start of a container on it is refused then', async () => {
    const id = await bed().dockerOk(['network', 'create', '--label', 'team=web', 'appnet']);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await bed().dockerOk(['network', 'ls', '--filter', 'name=appnet', '--format', '{{.Name}} {{.Driver}} {{.Scope}}'])).toBe('appnet bridge local');
    expect(await bed().dockerOk(['network', 'inspect', '-f', '{{.Id}} {{.Labels.team}} {{index .Options "vsphere.portgroup"}}', 'appnet'])).toBe(
      `${id} web VM Network`,
    );
    const again = await bed().docker(['network', 'create', 'appnet']);
    expect([again.code, again.stderr]).toEqual([1, 'Error response from daemon: network with name appnet already exists\n']);

    await bed().dockerOk(['create', '--name', 'on-appnet', '--network', 'appnet', bed().image]);
    expect(
      await bed().dockerOk([
        'inspect',
        '-f',
        '{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.NetworkID}}{{end}}',
        'on-appnet',
      ]),
    ).toBe(`appnet appnet ${id}`);
    expect(await bed().dockerOk(['ps', '-a', '--filter', 'network=appnet', '--format', '{{.Names}}'])).toBe('on-appnet');
    expect(await bed().dockerOk(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}}{{end}}', 'appnet'])).toBe('on-appnet');
    // As dockerd: a network only a container that does not run is on has no active endpoint, so it
    // goes, and that container's next start is refused until the network is made again.
    expect(await bed().dockerOk(['network', 'rm', 'appnet'])).toBe('appnet');
    expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).not.toContain('appnet');
    const start = await bed().docker(['start', 'on-appnet']);
    expect([start.code, start.stderr]).toEqual([1, expect.stringContaining('network appnet not found: it was removed while container on-appnet was stopped')]);
    expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'on-appnet'])).toBe('created');
    await bed().dockerOk(['rm', 'on-appnet']);

    await bed().dockerOk(['network', 'create', 'unused']);
    await bed().dockerOk(['network', 'create', 'stopped-only']);
    await bed().dockerOk(['create', '--name', 'on-stopped-only', '--network', 'stopped-only', bed().image]);
    expect((await bed().dockerOk(['network', 'prune', '-f'])).split('\n').sort()).toEqual(['Deleted Networks:', 'stopped-only', 'unused']);
    await bed().dockerOk(['rm', 'on-stopped-only']);
    expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).toContain('bridge');
  });

  test.each([
    [['--subnet', '10.9.0.0/24'], '--subnet, --ip-range and --gateway is not supported by vic-iac'],
    [['--internal'], '--internal is not supported by vic-iac'],
    [['--ipv6'], '--ipv6 is not supported by vic-iac'],
    [['--driver', 'overlay'], "--driver overlay: a VCH's docker networks are names over its bridge port group"],
  ])('GIVEN docker network create %j THEN it is refused naming the option, and nothing is made', async (flags, message) => {
    const r = await bed().docker(['network', 'create', ...flags, 'refusednet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).not.toContain('refusednet');
  });

  test('GIVEN the name of a port group or of a predefined network THEN network create says it exists', async () => {
    for (const name of ['VM Network', 'none', 'bridge']) {
      const r = await bed().call('POST', '/networks/create', { Name: name });
      expect([r.status, JSON.parse(r.body).message]).toEqual(
        name === 'VM Network' ? [400, expect.stringContaining('network name "VM Network"')] : [409, `network with name ${name} already exists`],
      );
    }
  });
});

/**
 * VIC Group1 1-16 network ls: the listing, -q, --filter name=, --no-trunc and a filter that matches
 * nothing. A VCH's networks are vSphere port groups (docs/endpoint.md): its bridge port group ("VM
 * Network" here) is docker's network `bridge`, as VIC listed it, and `none` is dockerd's predefined one.
 */
import { useDockerBed } from './docker-env';

describe('1-16 docker network ls', () => {
  const bed = useDockerBed({ vchName: 'vch-netls' });
  const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

  test('GIVEN a VCH WHEN docker network ls runs THEN it lists the bridge network under the header, and none', async () => {
    const r = await bed().docker(['network', 'ls']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const rows = lines(r.stdout);
    expect(rows[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    // dockerd (and VIC) list a network named "bridge" with the bridge driver: the VCH's bridge port group.
    expect(rows.slice(1).map((row) => row.split(/\s{2,}/).slice(1))).toEqual(
      expect.arrayContaining([
        ['bridge', 'bridge', 'local'],
        ['none', 'null', 'local'],
      ]),
    );
    expect(r.stdout).toContain('bridge');
  });

  test('GIVEN a VCH WHEN docker network ls -q runs THEN it prints ids only: no header, no names', async () => {
    const r = await bed().docker(['network', 'ls', '-q']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).not.toContain('NAME');
    expect(r.stdout).not.toContain('DRIVER');
    expect(r.stdout).not.toContain('bridge');
    expect(r.stdout).not.toContain('Network');
    for (const line of lines(r.stdout)) expect(line).toMatch(/^[0-9a-f]{12}$/);
    expect(lines(r.stdout).length).toBeGreaterThanOrEqual(2);
  });

  test('GIVEN a VCH WHEN docker network ls -f name=bridge runs THEN it lists one network, the bridge network, under the header', async () => {
    const r = await bed().docker(['network', 'ls', '-f', 'name=bridge']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    // dockerd lists its network "bridge": the VCH's bridge port group.
    const rows = lines(r.stdout);
    expect(rows).toHaveLength(2);
    // VIC's case: the one row shows a bridge network.
    expect(rows[1].split(/\s{2,}/).slice(1)).toEqual(['bridge', 'bridge', 'local']);
    const inspected = await bed().dockerOk(['network', 'inspect', '--format', '{{.Id}}', 'bridge']);
    expect(rows[1].split(/\s+/)[0]).toBe(inspected.slice(0, 12));
  });

  test('GIVEN a VCH WHEN docker network ls --no-trunc runs THEN the ids are whole, 64 hex digits', async () => {
    const rows = lines(await bed().dockerOk(['network', 'ls', '--no-trunc']));
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const row of rows.slice(1)) expect(row.split(/\s+/)[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  test('GIVEN a name no network has WHEN docker network ls -f name=fakeName runs THEN it prints the header alone and exits 0', async () => {
    const r = await bed().docker(['network', 'ls', '-f', 'name=fakeName']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const rows = lines(r.stdout);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('NAME');
  });

  test('GIVEN a VCH WHEN docker network create runs THEN network ls lists the new network (a docker network over the bridge port group), and rm removes it', async () => {
    const id = await bed().dockerOk(['network', 'create', 'net-new']);
    expect(await bed().dockerOk(['network', 'ls', '-q', '-f', 'name=net-new'])).toBe(id.slice(0, 12));
    expect(await bed().dockerOk(['network', 'ls', '-f', 'name=net-new', '--format', '{{.Name}} {{.Driver}}'])).toBe('net-new bridge');
    expect(await bed().dockerOk(['network', 'rm', 'net-new'])).toBe('net-new');
    expect(await bed().dockerOk(['network', 'ls', '-q', '-f', 'name=net-new'])).toBe('');
  });
});

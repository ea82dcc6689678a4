/**
 * VIC Group1 1-20 volume inspect: what a volume shows (name, driver, the datastore path as its
 * mountpoint, labels, options), for a docker-made volume and one an IaC state made, and the answer
 * for an unknown name.
 */
import type { Attrs } from '../../src/resources';
import { useDockerBed } from './docker-env';

describe('1-20 docker volume inspect', () => {
  const bed = useDockerBed({ vchName: 'vch-voli' });

  test('GIVEN a volume made with docker WHEN docker volume inspect runs THEN it shows Name, Driver, Mountpoint, Labels, Scope and Options', async () => {
    expect((await bed().docker(['volume', 'create', '--label', 'app=web', '-o', 'size=32', 'insp'])).code).toBe(0);
    const r = await bed().docker([
      'volume',
      'inspect',
      '--format',
      '{{.Name}}|{{.Driver}}|{{.Mountpoint}}|{{.Scope}}|{{.Options}}|{{index .Labels "app"}}',
      'insp',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The options and labels as the create gave them, as dockerd shows them (the endpoint's own labels are not shown).
    expect(r.stdout).toBe(`insp|vsphere|[LocalDS_0] ${String(bed().vch.image_store_path)}/volumes/insp/insp.vmdk|local|map[size:32]|web\n`);
    const json = JSON.parse((await bed().docker(['volume', 'inspect', 'insp'])).stdout) as Array<Record<string, unknown>>;
    expect(json).toHaveLength(1);
    expect(Date.parse(String(json[0].CreatedAt))).toBeGreaterThan(Date.now() - 600_000);
    expect(json[0]).toMatchObject({ Labels: { app: 'web' }, Options: { size: '32' }, Status: { size_mb: 32 } });
    expect((await bed().docker(['volume', 'create', 'plain'])).code).toBe(0);
    const plain = JSON.parse((await bed().docker(['volume', 'inspect', 'plain'])).stdout) as Array<Record<string, unknown>>;
    expect([plain[0].Labels, plain[0].Options]).toEqual([{}, null]);
  });

  test('GIVEN a volume an IaC plan made WHEN docker volume inspect runs THEN the endpoint shows it from vSphere', async () => {
    const plan = await bed().engine.plan('volume', null, { vch_id: bed().vch.id, name: 'iac-vol', size_mb: 16, labels: { owner: 'terraform' } });
    expect(plan.problems).toEqual([]);
    const made = (await bed().engine.apply(plan)) as Attrs;
    const r = await bed().docker(['volume', 'inspect', '--format', '{{.Name}} {{.Mountpoint}} {{.Options.size}} {{.Labels.owner}}', 'iac-vol']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `iac-vol ${String(made.id)} 16MB terraform\n`, '']);
  });

  test('GIVEN an unknown name THEN docker volume inspect exits 1 saying so', async () => {
    const r = await bed().docker(['volume', 'inspect', 'fakeVolume']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('get fakeVolume: no such volume');
  });
});

/**
 * VIC Group1 1-21 volume ls: every volume of the VCH's store, docker-made and IaC-made alike, with
 * -q, --format and the name, label and dangling filters; a filter vic-iac does not know is refused.
 */
import { useDockerBed } from './docker-env';

describe('1-21 docker volume ls', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-voll' });

  beforeAll(async () => {
    for (const args of [
      ['--label', 'tier=db', 'db-1'],
      ['--label', 'tier=web', 'web-1'],
      ['--label', 'tier', 'web-2'],
    ]) {
      const r = await bed().docker(['volume', 'create', '-o', 'size=16', ...args]);
      expect([r.code, r.stderr]).toEqual([0, '']);
    }
    const plan = await bed().engine.plan('volume', null, { vch_id: bed().vch.id, name: 'iac-1', size_mb: 16 });
    expect(plan.problems).toEqual([]);
    await bed().engine.apply(plan);
  }, 300_000);

  test('GIVEN volumes made by docker and by IaC THEN docker volume ls shows them all, driver vsphere', async () => {
    const r = await bed().docker(['volume', 'ls']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^DRIVER\s+VOLUME NAME$/);
    const rows = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/).join(' '))
      .sort();
    expect(rows).toEqual(['vsphere db-1', 'vsphere iac-1', 'vsphere web-1', 'vsphere web-2']);
    const q = await bed().docker(['volume', 'ls', '-q']);
    expect(q.stdout.split('\n').filter(Boolean).sort()).toEqual(['db-1', 'iac-1', 'web-1', 'web-2']);
  });

  test('GIVEN --filter name= THEN only names containing it are shown', async () => {
    const r = await bed().docker(['volume', 'ls', '-q', '--filter', 'name=web']);
    expect([r.code, r.stdout.split('\n').filter(Boolean).sort()]).toEqual([0, ['web-1', 'web-2']]);
  });

  test('GIVEN --filter label=k and label=k=v THEN only volumes with that label (and value) are shown', async () => {
    const key = await bed().docker(['volume', 'ls', '-q', '--filter', 'label=tier']);
    expect(key.stdout.split('\n').filter(Boolean).sort()).toEqual(['db-1', 'web-1', 'web-2']);
    const kv = await bed().docker(['volume', 'ls', '--format', '{{.Name}} {{.Labels}}', '--filter', 'label=tier=db']);
    expect(kv.stdout).toMatch(/^db-1 .*tier=db.*\n$/);
  });

  test('GIVEN a container that mounts db-1 THEN --filter dangling=true leaves it out and dangling=false shows only it', async () => {
    const c = await bed().docker(['create', '--name', 'ls-user', '-v', 'db-1:/db', bed().image]);
    expect([c.code, c.stderr]).toEqual([0, '']);
    const dangling = await bed().docker(['volume', 'ls', '-q', '--filter', 'dangling=true']);
    expect(dangling.stdout.split('\n').filter(Boolean).sort()).toEqual(['iac-1', 'web-1', 'web-2']);
    const used = await bed().docker(['volume', 'ls', '-q', '--filter', 'dangling=false']);
    expect(used.stdout).toBe('db-1\n');
  });

  test('GIVEN a filter vic-iac does not know THEN docker volume ls exits 1 naming the filters it knows', async () => {
    const r = await bed().docker(['volume', 'ls', '--filter', 'color=blue']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid filter 'color': vic-iac filters volumes by name, label, dangling, driver");
  });
});

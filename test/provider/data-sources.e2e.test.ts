/**
 * Data sources through `terraform plan`: lookup arguments are required, scope arguments (the
 * datacenter) optional, everything else a read-only output. A VCH made through the engine
 * beforehand is what the lookups find.
 */
import type { Engine } from '../../src/engine';
import type { Attrs } from '../../src/resources';
import { connectTestEngine, vsphereEnv } from '../helpers/engine';
import { useSimulator } from '../helpers/vcsim';
import { workspace } from './terraform-cli';

type Row = [fixture: string, summary: string, detail: string, line: string];

const badConfigs: Row[] = [
  [
    'missing-name',
    'Error: Missing required argument',
    'The argument "name" is required, but no definition was found.',
    'data "vic_virtual_container_host" "apps" {',
  ],
  [
    'read-only-attribute',
    'Error: Value for unconfigurable attribute "compute"',
    'compute is computed by vSphere and cannot be set. Remove it from the configuration.',
    'compute    = "/DC0/host/DC0_C0"',
  ],
];

describe('data sources through terraform plan', () => {
  const sim = useSimulator();
  let engine: Engine;
  let vch: Attrs;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    const plan = await engine.plan('virtual_container_host', null, { name: 'vch-data', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' });
    vch = (await engine.apply(plan)) as Attrs;
    env = vsphereEnv(sim());
  }, 60_000);

  afterAll(async () => {
    await engine?.close();
  });

  it('GIVEN an existing VCH WHEN a plan looks it up by name alone THEN its computed outputs are known at plan time', async () => {
    const ws = workspace('dev', { fixture: 'data-sources/lookup' });
    const r = await ws.terraform(['plan', '-no-color'], { ...env, TF_VAR_vch_name: 'vch-data' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`data.vic_virtual_container_host.apps: Read complete after`);
    expect(r.stdout).toContain(`[id=${String(vch.id)}]`);
    expect(r.stdout).toMatch(new RegExp(`\\+ pool\\s+= "${String(vch.resource_pool_id)}"`));
    expect(r.stdout).toMatch(/\+ image_store\s+= "\[LocalDS_0\] vch-data"/);
  }, 60_000);

  it('GIVEN a name no VCH has WHEN planned THEN the read fails naming the VCH', async () => {
    const ws = workspace('dev', { fixture: 'data-sources/lookup' });
    const r = await ws.terraform(['plan', '-no-color'], { ...env, TF_VAR_vch_name: 'vch-nowhere' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Cannot read data source vic_virtual_container_host');
    expect(r.stderr.replace(/\s+/g, ' ')).toContain('no virtual container host named "vch-nowhere" in datacenter "DC0"');
  }, 60_000);

  it.each(badConfigs)(
    'GIVEN %s WHEN planned THEN Terraform refuses it at the attribute: %s',
    async (fixture, summary, detail, line) => {
      const ws = workspace('dev', { fixture: `data-sources/${fixture}` });
      const r = await ws.terraform(['plan', '-no-color'], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(summary);
      expect(r.stderr.replace(/\s+/g, ' ')).toContain(detail);
      expect(r.stderr).toContain(line);
    },
    60_000,
  );
});

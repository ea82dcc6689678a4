/**
 * Problems only vSphere or the provider configuration can reveal show at `terraform plan`, before
 * anything changes, as diagnostics that point at the attribute (real CLI, simulator).
 */
import { vsphereEnv } from '../helpers/engine';
import { useSimulator } from '../helpers/vcsim';
import { workspace } from './terraform-cli';

describe('terraform plan diagnostics', () => {
  const sim = useSimulator();

  it.each<[string, string, string, string, boolean]>([
    [
      'missing-datastore',
      'Error: Cannot resolve "datastore"',
      'datastore = "NoSuchDS"',
      'datastore "NoSuchDS" not found in datacenter "DC0" (known: LocalDS_0)',
      true,
    ],
    [
      'missing-password',
      'Error: Missing vSphere connection setting "password"',
      'provider "vic" {',
      'Set "password" in the provider configuration or the VSPHERE_PASSWORD environment variable.',
      false,
    ],
  ])(
    'GIVEN %s WHEN planned THEN the diagnostic points at the attribute and nothing is planned',
    async (fixture, summary, line, detail, withConnection) => {
      const ws = workspace('dev', { fixture: `plan-errors/${fixture}` });
      const env = withConnection ? vsphereEnv(sim()) : { VSPHERE_PASSWORD: '' };
      const { code, stdout, stderr } = await ws.terraform(['plan', '-no-color'], env);
      expect(code).toBe(1);
      expect(stderr).toContain(summary);
      expect(stderr).toMatch(new RegExp(`\\d+:\\s+${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(stderr.replace(/\s+/g, ' ')).toContain(detail);
      expect(stdout).not.toContain('Plan:');
    },
    60_000,
  );
});

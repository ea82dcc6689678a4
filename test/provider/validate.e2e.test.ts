/**
 * GIVEN a bad configuration WHEN `terraform validate` runs through the real CLI THEN the provider's
 * diagnostic is shown with the configuration line of the attribute it points at. Fixtures are files
 * under test/fixtures/terraform/invalid, loaded by name. No vSphere is needed: validation is pure.
 */
import { workspace } from './terraform-cli';

type Row = [fixture: string, summaries: string[], attributeLines: string[], detail: string];

const rows: Row[] = [
  ['vch-name-with-slash', ['Invalid value for "name"'], ['name      = "a/b"'], 'contains "/", "\\" or "%"'],
  ['vch-cpu-shares-word', ['Invalid value for "cpu_shares"'], ['cpu_shares = "lots"'], 'is not a shares value'],
  ['container-memory-not-multiple-of-4', ['Invalid value for "memory_mb"'], ['memory_mb = 1023'], 'vSphere requires multiples of 4; use 1024'],
  ['container-env-name', ['Invalid value for "env.1BAD"'], ['env      = { "1BAD" = "x" }'], 'is not a valid environment variable name'],
  ['container-power-state', ['Invalid value for "power_state"'], ['power_state = "on"'], 'allowed values are "running", "stopped"'],
  ['container-image-id-not-digest', ['Invalid value for "image_id"'], ['image_id = "busybox:latest"'], 'Use the id of a vic_image resource'],
  ['image-platform', ['Invalid value for "platform"'], ['platform  = "amd64"'], 'is not a platform'],
  ['data-image-reference', ['Invalid value for "reference"'], ['reference = "Busybox!!"'], 'is not an image reference'],
  [
    'two-problems-in-one-resource',
    ['Invalid value for "cpus"', 'Invalid value for "hostname"'],
    ['cpus      = 0', 'hostname  = "-web"'],
    'is below the minimum of 1',
  ],
];

describe('terraform validate with bad configurations', () => {
  it.each(rows)('GIVEN %s WHEN validated THEN every diagnostic names and underlines its attribute', async (fixture, summaries, lines, detail) => {
    const ws = workspace('dev', { fixture: `invalid/${fixture}` });
    const { code, stderr } = await ws.terraform(['validate', '-no-color']);
    expect(code).toBe(1);
    for (const summary of summaries) expect(stderr).toContain(`Error: ${summary}`);
    // Terraform prints the source line of the attribute the diagnostic's path points at.
    for (const line of lines) expect(stderr).toMatch(new RegExp(`\\d+:\\s+${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(stderr.replace(/\s+/g, ' ')).toContain(detail);
    expect(stderr.match(/Error: /g)).toHaveLength(summaries.length);
  });

  it('GIVEN a valid configuration WHEN validated THEN it passes', async () => {
    const ws = workspace('dev', { fixture: 'invalid/vch-name-with-slash' });
    ws.write(
      'main.tf',
      `terraform {\n  required_providers {\n    vic = { source = "vic-iac/vic" }\n  }\n}\nresource "vic_virtual_container_host" "ok" {\n  name      = "vch-1"\n  compute   = "/DC0/host/DC0_C0"\n  datastore = "LocalDS_0"\n}\n`,
    );
    const { code, stdout, stderr } = await ws.terraform(['validate', '-no-color']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The only warning is Terraform's own about dev_overrides.
    expect(stdout).toContain('Success! The configuration is valid');
    expect(stdout.match(/Warning: /g)).toEqual(['Warning: ']);
    expect(stdout).toContain('Warning: Provider development overrides are in effect');
  });
});

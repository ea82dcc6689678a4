/**
 * `terraform import` of every resource type, then `terraform plan`, through the real CLI: the
 * fixture's VCH, image, volume and container VM are forgotten, imported back by their ids, and the
 * plan after it replaces, creates and destroys nothing. Terraform gives a provider no config at
 * import, so what vSphere does not record, or records spelled another way, comes back as read and
 * the plan updates it in place, in the state only; the CLI's `vic import` takes it from the spec
 * instead (test/cli/import-state.e2e.test.ts).
 */
import { Workspace } from './terraform-cli';
import { stateAttributes, useTerraformTestbed } from './testbed';

const PASSWORD = 'Tf-import-S3cret!';
const ADDRESSES = ['vic_virtual_container_host.demo', 'vic_image.app', 'vic_volume.data', 'vic_container_vm.web'];

describe('terraform: import of every resource type, then plan', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/app', program: 'httpd' });
  let ws: Workspace;
  const tf = (args: string[], allow: number[] = []) => bed.terraform(ws, args, { allow });

  beforeAll(async () => {
    ws = await bed.initFixture('volumes');
  }, 120_000);

  it('GIVEN the fixture applied and forgotten WHEN each object is imported by its id THEN the plan creates, replaces and destroys nothing: two in-place updates of the state only, after which the plan is empty', async () => {
    await tf(['apply', '-auto-approve']);
    const before = Object.fromEntries(ADDRESSES.map((a) => [a, stateAttributes(ws, ...(a.split('.') as [string, string]))]));
    await tf(['state', 'rm', ...ADDRESSES]);
    const vchId = String(before['vic_virtual_container_host.demo'].id);
    const ids: Record<string, string> = {
      'vic_virtual_container_host.demo': vchId,
      'vic_image.app': `${vchId}/${String(before['vic_image.app'].id)}`,
      'vic_volume.data': String(before['vic_volume.data'].id),
      'vic_container_vm.web': String(before['vic_container_vm.web'].id),
    };
    for (const address of ADDRESSES) {
      const imported = await tf(['import', address, ids[address]]);
      expect(imported.stdout).toContain('Import successful!');
    }

    const plan = await tf(['plan', '-detailed-exitcode'], [2]);
    expect(plan.stdout).toContain('Plan: 0 to add, 2 to change, 0 to destroy.');
    expect(plan.stdout).not.toMatch(/must be replaced|will be created|will be destroyed/);
    // The image: insecure_registry is how it was pulled, which vSphere does not record, and the
    // import pins the reference by digest where the configuration names the tag (the same digest).
    expect(plan.stdout).toContain('# vic_image.app will be updated in-place');
    expect(plan.stdout).toMatch(/~ insecure_registry = false -> true/);
    expect(plan.stdout).toMatch(/~ reference\s+= ".*\/test\/app:v1@sha256:[0-9a-f]{64}" -> ".*\/test\/app:v1"/);
    // The VCH: the import reads its datacenter by name, which the configuration leaves to the default.
    expect(plan.stdout).toContain('# vic_virtual_container_host.demo will be updated in-place');
    expect(plan.stdout).toMatch(/- datacenter\s+= "DC0" -> null/);
    expect(plan.stdout).not.toMatch(/vic_volume\.data will|vic_container_vm\.web will/);

    // Those updates change only the state: the same objects, and then nothing to do.
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 0 added, 2 changed, 0 destroyed.');
    for (const address of ADDRESSES) expect(stateAttributes(ws, ...(address.split('.') as [string, string])).id).toBe(before[address].id);
    const again = await tf(['plan', '-detailed-exitcode']);
    expect(again.stdout).toContain('No changes. Your infrastructure matches the configuration.');
  }, 300_000);
});

/**
 * Nothing a plan refuses blocks a destroy, through the real `terraform` CLI. Terraform starts every
 * destroy with a normal plan of the configuration (its pre-destroy refresh), and that plan's errors
 * end the destroy; a configuration broken after apply in a way the provider refuses at plan time
 * (a duplicate identity, a rename without a moved block, an image tag that is gone or a registry
 * that does not answer, a datastore vSphere does not have, an invalid value) must still be
 * destroyable: `terraform destroy`, `terraform apply -destroy` and a saved `terraform plan -destroy`
 * remove every object the state holds, and a normal plan of the same configuration is still refused.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { Workspace } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'Tf-destroy-S3cret!';

describe('terraform: a destroy is never blocked by a check that only matters for creating or updating', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/app', program: 'httpd' });
  let ws: Workspace;
  const tf = (args: string[], allow: number[] = []) => bed.terraform(ws, args, { allow });
  const oneLine = (s: string) => s.replace(/\s+/g, ' ');
  /** The names of the VMs and resource pools vSphere holds. */
  const inventoryNames = async (type: 'VirtualMachine' | 'ResourcePool') =>
    (
      await retrieveFromContainer<{ name: string }>(bed.outside(), {
        container: bed.outside().serviceContent.rootFolder,
        select: [{ type, paths: ['name'] }],
      })
    ).map((r) => r.props.name);
  const expectApplied = async () => {
    await tf(['apply', '-auto-approve']);
    expect(await inventoryNames('VirtualMachine')).toContain('web-1');
    expect(await inventoryNames('ResourcePool')).toContain('vch-destroy');
  };
  /** A normal plan of the broken configuration is refused, naming `refusal` (a string, or a pattern). */
  const expectPlanRefused = async (vars: string[], refusal: string | RegExp) => {
    const plan = await tf(['plan', ...vars], [1]);
    expect(plan.code).toBe(1);
    if (typeof refusal === 'string') expect(oneLine(plan.stderr)).toContain(refusal);
    else expect(oneLine(plan.stderr)).toMatch(refusal);
  };
  const expectAllGone = async (destroy: { stdout: string }) => {
    expect(destroy.stdout).toMatch(/(Destroy|Apply) complete! Resources: (0 added, 0 changed, )?3 destroyed\./);
    expect((await tf(['state', 'list'])).stdout.trim()).toBe('');
    expect(await inventoryNames('VirtualMachine')).not.toContain('web-1');
    expect(await inventoryNames('ResourcePool')).not.toContain('vch-destroy');
  };

  beforeAll(async () => {
    ws = await bed.initFixture('destroy-always');
  }, 120_000);

  beforeEach(async () => {
    await expectApplied();
  }, 180_000);

  it('GIVEN an applied config WHEN a second container VM with the same name is added THEN the plan is refused AND terraform destroy removes everything', async () => {
    const vars = ['-var', 'twin=true'];
    await expectPlanRefused(vars, 'Duplicate container_vm');
    await expectAllGone(await tf(['destroy', '-auto-approve', ...vars]));
  }, 300_000);

  it('GIVEN an applied config WHEN the container VM moves to another address without a moved block THEN the plan is refused AND terraform apply -destroy removes everything', async () => {
    const vars = ['-var', 'renamed=true'];
    // Terraform plans the new address and the leaving one side by side: the create planned first
    // meets the VM its old address holds (held by another resource), the other order the rename
    // refusal. Both refuse the rename and say to move the state.
    await expectPlanRefused(vars, /a renamed resource must keep its object: move its state|if you renamed it, remove the old one first or move its state/);
    await expectAllGone(await tf(['apply', '-destroy', '-auto-approve', ...vars]));
  }, 300_000);

  it('GIVEN an applied config WHEN the image tag is one the registry does not have THEN the plan is refused AND a saved terraform plan -destroy applies and removes everything', async () => {
    const vars = ['-var', `image=${bed.registry().host}/test/app:gone`];
    await expectPlanRefused(vars, 'gone');
    const plan = await tf(['plan', '-destroy', '-out=destroy.tfplan', ...vars]);
    expect(plan.stdout).toContain('Plan: 0 to add, 0 to change, 3 to destroy.');
    await expectAllGone(await tf(['apply', 'destroy.tfplan']));
  }, 300_000);

  it('GIVEN an applied config WHEN the image registry does not answer THEN the plan is refused AND terraform destroy removes everything', async () => {
    const vars = ['-var', 'image=127.0.0.1:9/test/app:v1'];
    await expectPlanRefused(vars, '127.0.0.1:9');
    await expectAllGone(await tf(['destroy', '-auto-approve', ...vars]));
  }, 300_000);

  it('GIVEN an applied config WHEN the VCH names a datastore vSphere does not have THEN the plan is refused AND terraform destroy removes everything', async () => {
    const vars = ['-var', 'datastore=LocalDS_9'];
    await expectPlanRefused(vars, 'LocalDS_9');
    await expectAllGone(await tf(['destroy', '-auto-approve', ...vars]));
  }, 300_000);

  it('GIVEN an applied config WHEN a data source looks up a VCH that does not exist THEN the plan is refused AND terraform destroy removes everything', async () => {
    const vars = ['-var', 'lookup_vch=vch-gone'];
    await expectPlanRefused(vars, 'vch-gone');
    await expectAllGone(await tf(['destroy', '-auto-approve', ...vars]));
  }, 300_000);

  it('GIVEN an applied config WHEN a variable gives a value the provider refuses THEN the plan refuses it AND terraform destroy removes everything', async () => {
    // A variable's value is unknown to ValidateResourceConfig: the plan checks it.
    const vars = ['-var', 'memory_mb=100'];
    await expectPlanRefused(vars, 'memory_mb = 100 is below the minimum');
    await expectAllGone(await tf(['destroy', '-auto-approve', ...vars]));
  }, 300_000);

  it('GIVEN an applied config WHEN a resource with a literal value the provider refuses is added THEN validate refuses it AND terraform destroy removes everything, warning about the value', async () => {
    ws.write(
      'invalid.tf',
      'resource "vic_container_vm" "bad" {\n  vch_id    = vic_virtual_container_host.demo.id\n  image_id  = vic_image.app.id\n  name      = "bad-1"\n  memory_mb = 100\n}\n',
    );
    try {
      const validate = await tf(['validate'], [1]);
      expect(validate.code).toBe(1);
      expect(oneLine(validate.stderr)).toContain('memory_mb = 100 is below the minimum');
      const destroy = await tf(['destroy', '-auto-approve']);
      const text = oneLine(destroy.stdout + destroy.stderr);
      expect(text).toContain('memory_mb = 100 is below the minimum');
      expect(text).toContain('This does not stop the destroy');
      await expectAllGone(destroy);
    } finally {
      rmSync(join(ws.dir, 'invalid.tf'));
    }
  }, 300_000);
});

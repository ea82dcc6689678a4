/**
 * Replacing a container VM through the real `terraform` CLI: `terraform taint` (with and without
 * refresh), `apply -replace=`, and a create that failed midway. Terraform plans a tainted resource
 * as a create without prior state, which meets the VM it replaces; a second resource, or a renamed
 * one, with the same VCH and name must still be refused at plan.
 */
import { readFileSync } from 'node:fs';
import { vmMoidsNamed } from '../helpers/engine';
import { join } from 'node:path';
import { Workspace } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'Tf-replace-S3cret!';

interface Instance {
  index_key?: number;
  status?: string;
  attributes: Record<string, unknown>;
}

describe('terraform: tainted and replaced container VMs', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/app', program: 'httpd' });
  let ws: Workspace;
  const tf = (args: string[], allow: number[] = []) => bed.terraform(ws, args, { allow });
  const instances = (name: string): Instance[] => {
    const state = JSON.parse(readFileSync(join(ws.dir, 'terraform.tfstate'), 'utf8')) as { resources: { name: string; instances: Instance[] }[] };
    return state.resources.find((r) => r.name === name)?.instances ?? [];
  };
  const vmsNamed = (name: string) => vmMoidsNamed(bed.outside(), name);
  const expectConverged = async () => {
    const again = await tf(['plan', '-detailed-exitcode']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes. Your infrastructure matches the configuration.');
  };

  beforeAll(async () => {
    ws = await bed.initFixture('replace');
    await tf(['apply', '-auto-approve']);
  }, 180_000);

  it('GIVEN a tainted container VM WHEN planned, with and without refresh THEN both plans replace it; apply makes a new VM and a next plan is empty', async () => {
    const before = instances('web')[0].attributes;
    await tf(['taint', 'vic_container_vm.web[0]']);
    expect(instances('web')[0].status).toBe('tainted');
    for (const args of [['plan'], ['plan', '-refresh=false']]) {
      const plan = await tf(args);
      expect(plan.stdout).toContain('# vic_container_vm.web[0] is tainted, so must be replaced');
      expect(plan.stdout).toContain('Plan: 1 to add, 0 to change, 1 to destroy.');
    }
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
    const after = instances('web')[0];
    expect(after.status).toBeUndefined();
    // The BIOS UUID comes from (VCH, name): the same id, a new VM.
    expect(after.attributes.id).toBe(before.id);
    expect(after.attributes.moid).not.toBe(before.moid);
    expect(await vmsNamed('web-1')).toEqual([after.attributes.moid]);
    await expectConverged();
  }, 300_000);

  it('GIVEN a container VM WHEN applied with -replace THEN it is destroyed and made again, and a next plan is empty', async () => {
    const before = instances('web')[0].attributes;
    const apply = await tf(['apply', '-auto-approve', '-replace=vic_container_vm.web[0]']);
    expect(apply.stdout).toContain('# vic_container_vm.web[0] will be replaced, as requested');
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
    const after = instances('web')[0].attributes;
    expect(after.moid).not.toBe(before.moid);
    expect(await vmsNamed('web-1')).toEqual([after.moid]);
    await expectConverged();
  }, 300_000);

  it.each<[string, string[], boolean, RegExp]>([
    [
      'a second resource with its name',
      ['-var', 'copy=true'],
      false,
      /(vic_container_vm\.copy\[0\] and .*|another container_vm resource .*and this one) both declare vch_id = "resgroup-\d+" and name = "web-1"/,
    ],
    ['a second resource with its name, the first tainted', ['-var', 'copy=true'], true, /both declare vch_id = "resgroup-\d+" and name = "web-1"/],
    // Terraform plans the old address's removal and the new one's create side by side: when the
    // create is planned first, the VM the old address holds refuses it instead (it is held, and it
    // says the same: move the state). Either way the plan fails and nothing changes.
    [
      'the resource renamed without a moved block',
      ['-var', 'renamed=true'],
      false,
      /Error: Duplicate container_vm.*a renamed resource must keep its object: move its state|Error: Container VM held by another resource.*if you renamed it, remove the old one first or move its state \(terraform state mv \/ a moved block\)/,
    ],
  ])(
    'GIVEN %s WHEN planned THEN the plan fails with a duplicate name and nothing changes',
    async (_label, vars, taint, detail) => {
      const moid = instances('web')[0].attributes.moid;
      if (taint) await tf(['taint', 'vic_container_vm.web[0]']);
      try {
        const plan = await tf(['plan', ...vars], [1]);
        expect(plan.code).toBe(1);
        if (!detail.source.startsWith('Error:')) expect(plan.stderr).toContain('Error: Duplicate container_vm');
        expect(plan.stderr.replace(/\s+/g, ' ')).toMatch(detail);
        expect(await vmsNamed('web-1')).toEqual([moid]);
      } finally {
        if (taint) await tf(['untaint', 'vic_container_vm.web[0]']);
      }
      await expectConverged();
    },
    300_000,
  );

  it('GIVEN a create whose power-on fails after CreateVM WHEN applied again THEN the VM is adopted, not duplicated, and a next plan is empty', async () => {
    await tf(['apply', '-auto-approve', '-destroy', '-target=vic_container_vm.web[0]']);
    expect(await vmsNamed('web-1')).toEqual([]);
    await bed.sim().control.addFault({ method: 'PowerOnVM_Task', kind: 'task', fault: 'InsufficientResourcesFault', times: 1 });
    const failed = await tf(['apply', '-auto-approve'], [1]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('InsufficientResourcesFault');
    const made = await vmsNamed('web-1');
    expect(made).toHaveLength(1);
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect(instances('web')[0].status).toBeUndefined();
    expect(instances('web')[0].attributes.moid).toBe(made[0]);
    expect(instances('web')[0].attributes.power_state).toBe('running');
    await expectConverged();
  }, 300_000);

  it('GIVEN an image a container VM uses WHEN its size_mb changes (same digest) THEN both are replaced, the VM destroyed first and made last, and a next plan is empty', async () => {
    const vm = instances('web')[0].attributes;
    const plan = await tf(['plan', '-var', 'image_size_mb=48']);
    expect(plan.stdout).toContain('# vic_image.app must be replaced');
    expect(plan.stdout).toContain('# vic_container_vm.web[0] must be replaced');
    const apply = await tf(['apply', '-auto-approve', '-var', 'image_size_mb=48']);
    expect(apply.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 2 destroyed.');
    const at = (text: string) => apply.stdout.indexOf(text);
    expect(at('vic_container_vm.web[0]: Destruction complete')).toBeGreaterThan(-1);
    expect(at('vic_image.app: Destruction complete')).toBeGreaterThan(at('vic_container_vm.web[0]: Destruction complete'));
    expect(at('vic_image.app: Creation complete')).toBeGreaterThan(at('vic_image.app: Destruction complete'));
    expect(at('vic_container_vm.web[0]: Creation complete')).toBeGreaterThan(at('vic_image.app: Creation complete'));
    expect(instances('app')[0].attributes.size_mb).toBe(48);
    expect(instances('web')[0].attributes.moid).not.toBe(vm.moid);
    const again = await tf(['plan', '-detailed-exitcode', '-var', 'image_size_mb=48']);
    expect(again.code).toBe(0);
  }, 300_000);

  it('GIVEN a tainted image a container VM uses WHEN planned and applied THEN the VM is replaced with it, and a next plan is empty', async () => {
    const vars = ['-var', 'image_size_mb=48'];
    await tf(['taint', 'vic_image.app']);
    const plan = await tf(['plan', ...vars]);
    expect(plan.stdout).toContain('# vic_image.app is tainted, so must be replaced');
    expect(plan.stdout).toContain('# vic_container_vm.web[0] must be replaced');
    const apply = await tf(['apply', '-auto-approve', ...vars]);
    expect(apply.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 2 destroyed.');
    const again = await tf(['plan', '-detailed-exitcode', ...vars]);
    expect(again.code).toBe(0);
  }, 300_000);
});

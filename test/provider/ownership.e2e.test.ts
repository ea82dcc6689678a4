/**
 * What users see through the real `terraform` CLI when vSphere holds something vic-iac did not
 * make, or an admin or DRS changed something in vCenter: a squatted VM folder fails the plan; a
 * second configuration declaring the same VCH fails the plan; a foreign VM in the pool fails a
 * forced destroy and is named; a container VM moved to another host
 * plans no change; pool limits edited in vCenter plan an in-place update.
 */
import { moRef, type ManagedObjectReference } from '../../src/vsphere';
import { createFolder } from '../../src/vsphere/folder';
import { Inventory } from '../../src/vsphere/inventory';
import { retrieveFromContainer, retrieveObject } from '../../src/vsphere/property-collector';
import { updateResourcePool } from '../../src/vsphere/resource-pool';
import { createVm, destroyVm } from '../../src/vsphere/virtual-machine';
import { moveToHost, otherHost } from '../helpers/vcenter-changes';
import { Workspace, stateAttributes } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'Own-e2e-S3cret!';

describe('ownership and vCenter changes through terraform', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/app', program: 'httpd' });
  let ws: Workspace;
  let vars: NodeJS.ProcessEnv = {};
  const tf = (args: string[], o: { allow?: number[] } = {}) => bed.terraform(ws, args, { extraEnv: vars, allow: o.allow });
  const attributes = (name: string) => stateAttributes(ws.dir, name);

  beforeAll(async () => {
    ws = await bed.initFixture('ownership');
  }, 120_000);

  it('GIVEN a VM folder that already has the VCH name WHEN terraform plans THEN it fails on name, naming the folder and its MOID', async () => {
    const dc = await new Inventory(bed.outside()).datacenter('DC0');
    const squat = await createFolder(bed.outside(), dc.vmFolder, 'vch-squatted');
    const plan = await bed.terraform(ws, ['plan'], { extraEnv: { TF_VAR_vch_name: 'vch-squatted' }, allow: [1] });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Error: VM folder already exists');
    expect(plan.stderr.replace(/\s+/g, ' ')).toContain(
      `A VM folder named "vch-squatted" (${squat.value}) already exists in datacenter "DC0" and is not managed by vic-iac.`,
    );
    expect(plan.stderr).toContain('with vic_virtual_container_host.this');
  }, 120_000);

  it('GIVEN the configuration WHEN applied THEN a VCH with one container VM exists and the next plan is empty', async () => {
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    const plan = await tf(['plan', '-detailed-exitcode']);
    expect(plan.stdout).toContain('No changes.');
  }, 180_000);

  it('GIVEN a second configuration that declares the same VCH WHEN terraform plans it THEN it fails and says how to share the VCH', async () => {
    const other = await bed.initFixture('ownership');
    const plan = await bed.terraform(other, ['plan'], { allow: [1] });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Error: VCH managed elsewhere');
    const text = plan.stderr.replace(/\s+/g, ' ');
    expect(text).toContain(`A virtual container host named "vch-own" (${String(attributes('this').id)}) already exists under /DC0/host/DC0_C0: another state`);
    expect(text).toContain('data "vic_virtual_container_host"');
  }, 120_000);

  it('GIVEN DRS moved the container VM to another host WHEN terraform plans THEN no changes', async () => {
    const vm = moRef('VirtualMachine', String(attributes('web').moid));
    const { to } = await otherHost(bed.outside(), vm);
    await moveToHost(bed.outside(), vm, to);
    const { 'runtime.host': now } = await retrieveObject<{ 'runtime.host': ManagedObjectReference }>(bed.outside(), vm, ['runtime.host']);
    expect(now.value).toBe(to.value);
    const plan = await tf(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('No changes. Your infrastructure matches the configuration.');
  }, 120_000);

  it('GIVEN an admin lowered the pool limits in vCenter WHEN terraform plans THEN an in-place update restores them', async () => {
    const pool = moRef('ResourcePool', String(attributes('this').id));
    await updateResourcePool(bed.outside(), pool, { cpuAllocation: { limit: 500 }, memoryAllocation: { limit: 1024 } });
    const plan = await tf(['plan', '-detailed-exitcode'], { allow: [2] });
    expect(plan.stdout).toContain('# vic_virtual_container_host.this will be updated in-place');
    expect(plan.stdout).toMatch(/~ cpu_limit_mhz\s+= 500 -> 2000/);
    expect(plan.stdout).toMatch(/~ memory_limit_mb\s+= 1024 -> 4096/);
    expect(plan.stdout).not.toContain('must be replaced');
    expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    const { 'config.memoryAllocation': memory } = await retrieveObject<{ 'config.memoryAllocation': { limit: number } }>(bed.outside(), pool, [
      'config.memoryAllocation',
    ]);
    expect(Number(memory.limit)).toBe(4096);
  }, 180_000);

  it('GIVEN force_destroy and a VM vic-iac did not make in the VCH pool WHEN terraform destroys THEN it fails naming that VM, which survives', async () => {
    vars = { TF_VAR_force_destroy: 'true' };
    await tf(['apply', '-auto-approve']);
    const vch = attributes('this');
    const intruder = await createVm(bed.outside(), {
      folder: moRef('Folder', String(vch.folder_id)),
      pool: moRef('ResourcePool', String(vch.id)),
      config: { name: 'intruder', guestId: 'otherGuest64', files: { vmPathName: '[LocalDS_0]' }, memoryMB: 64, numCPUs: 1 },
    });
    const destroy = await tf(['destroy', '-auto-approve'], { allow: [1] });
    expect(destroy.code).toBe(1);
    expect(destroy.stderr.replace(/\s+/g, ' ')).toContain(
      `virtual container host "vch-own" (${String(vch.id)}) holds 1 VM(s) that are not its container VMs: intruder (${intruder.value}). force_destroy deletes only the container VMs vic-iac made for this VCH, never other VMs.`,
    );
    const vms = await retrieveFromContainer<{ name: string }>(bed.outside(), {
      container: bed.outside().serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    expect(vms.map((v) => v.props.name)).toContain('intruder');

    await destroyVm(bed.outside(), intruder);
    const again = await tf(['destroy', '-auto-approve']);
    expect(again.stdout).toContain('Destroy complete!');
  }, 240_000);
});

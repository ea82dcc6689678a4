/**
 * The whole user flow, end to end, with the real `terraform` CLI, the provider installed from a
 * filesystem mirror, examples/terraform, the vSphere simulator and a real registry:
 * init/plan → apply → no changes → forceNew replacement → in-place power change → drift made in
 * vSphere → import → destroy with nothing left behind. Secrets are checked on the way.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { moRef } from '../../src/vsphere';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { powerOffVm } from '../../src/vsphere/virtual-machine';
import { REPO, Workspace, readState, workspace } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'Tf-e2e-S3cret!';

describe('examples/terraform through terraform init, plan, apply, import and destroy', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/app', program: 'httpd' });
  let ws: Workspace;
  // Variables the later steps change, on top of the testbed's environment.
  let vars: NodeJS.ProcessEnv = {};
  const tf = (args: string[], extra: NodeJS.ProcessEnv = {}) => bed.terraform(ws, args, { extraEnv: { ...vars, ...extra } });

  beforeAll(() => {
    ws = workspace('mirror');
    cpSync(join(REPO, 'examples/terraform/main.tf'), join(ws.dir, 'main.tf'));
  });

  it('GIVEN the example WHEN init and plan run THEN the provider installs from the mirror and the plan shows four creates', async () => {
    const init = await tf(['init']);
    expect(init.stdout).toMatch(/Installing vic-iac\/vic v0\.1\.0\.\.\.[\s\S]*Installed vic-iac\/vic v0\.1\.0 \(unauthenticated\)/);
    const plan = await tf(['plan']);
    for (const r of ['vic_virtual_container_host.demo', 'vic_image.app', 'vic_container_vm.web', 'vic_container_vm.worker'])
      expect(plan.stdout).toContain(`# ${r} will be created`);
    expect(plan.stdout).toContain('+ id                    = (known after apply)');
    expect(plan.stdout).toContain('Plan: 4 to add, 0 to change, 0 to destroy.');
  }, 120_000);

  it('GIVEN the plan WHEN applied THEN the next plan says no changes, refreshing both VMs from one inventory read', async () => {
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    const plan = await tf(['plan', '-detailed-exitcode'], { TF_LOG_PROVIDER: 'debug' });
    expect(plan.stdout).toContain('No changes. Your infrastructure matches the configuration.');
    // The VCH and the image are read from their pool rows; one snapshot of the pool's VMs serves
    // both container VMs, however Terraform's reads happen to be batched. Our hclog JSON lines are
    // parsed by go-plugin and shown as `message: key=value`.
    const reads = plan.stderr.split('\n').filter((l) => /provider\.terraform-provider-vic_v0\.1\.0: refresh inventory read:/.test(l));
    expect(reads.filter((l) => /vms=true/.test(l))).toHaveLength(1);
    expect(reads.filter((l) => /vms=false/.test(l))).toHaveLength(1);
    expect(plan.stderr).toMatch(/batched refresh: .*resources=/);
    const state = readState(ws.dir);
    const vm = state.resources.find((r) => r.name === 'web')!.instances[0];
    expect(vm.attributes).toMatchObject({ name: 'web-1', power_state: 'running' });
    // The ports block, with its defaults, as the state keeps it (the next plans say no changes).
    expect(vm.attributes.ports).toEqual([{ internal: 80, external: null, ip: '127.0.0.1', protocol: 'tcp' }]);
    expect(vm.schema_version).toBe(1);
  }, 180_000);

  it('GIVEN a container VM with networks = [] WHEN applied THEN Terraform keeps the empty list, and the next plan says no changes', async () => {
    const extra = join(ws.dir, 'nonet.tf');
    writeFileSync(
      extra,
      'resource "vic_container_vm" "nonet" {\n  vch_id      = vic_virtual_container_host.demo.id\n  image_id    = vic_image.app.id\n  name        = "nonet-1"\n  networks    = []\n  power_state = "stopped"\n}\n',
    );
    try {
      // Before: the bridge network came back for the empty list, and every plan replaced the VM.
      const apply = await tf(['apply', '-auto-approve']);
      expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
      const plan = await tf(['plan', '-detailed-exitcode']);
      expect([plan.code, plan.stdout]).toEqual([0, expect.stringContaining('No changes. Your infrastructure matches the configuration.')]);
      const vm = readState(ws.dir).resources.find((r) => r.name === 'nonet')!.instances[0];
      expect(vm.attributes).toMatchObject({ name: 'nonet-1', networks: [] });
    } finally {
      rmSync(extra, { force: true });
    }
    const gone = await tf(['apply', '-auto-approve']);
    expect(gone.stdout).toContain('Apply complete! Resources: 0 added, 0 changed, 1 destroyed.');
  }, 180_000);

  it('GIVEN a changed forceNew attribute WHEN planned THEN it forces replacement, and apply replaces the VM', async () => {
    const changed = { TF_VAR_worker_command: '["sh","-c","echo once"]' };
    const plan = await tf(['plan'], changed);
    expect(plan.stdout).toContain('# vic_container_vm.worker must be replaced');
    expect(plan.stdout).toMatch(/command\s+= \[\s*# forces replacement/);
    expect(plan.stdout).toContain('Plan: 1 to add, 0 to change, 1 to destroy.');
    const apply = await tf(['apply', '-auto-approve'], changed);
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
    vars = { ...vars, ...changed };
  }, 180_000);

  it('GIVEN power_state changed WHEN planned THEN it is an in-place update, and applies', async () => {
    vars = { ...vars, TF_VAR_web_power_state: 'stopped' };
    const plan = await tf(['plan']);
    expect(plan.stdout).toContain('# vic_container_vm.web will be updated in-place');
    expect(plan.stdout).toMatch(/~ power_state\s+= "running" -> "stopped"/);
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    vars = { ...vars, TF_VAR_web_power_state: 'running' };
    await tf(['apply', '-auto-approve']);
  }, 180_000);

  it('GIVEN the web VM powered off directly in vSphere WHEN planned THEN the drift shows', async () => {
    const moid = String(readState(ws.dir).resources.find((r) => r.name === 'web')!.instances[0].attributes.moid);
    await powerOffVm(bed.outside(), moRef('VirtualMachine', moid));
    const plan = await tf(['plan']);
    expect(plan.stdout).toContain('# vic_container_vm.web will be updated in-place');
    expect(plan.stdout).toMatch(/~ power_state\s+= "stopped" -> "running"/);
  }, 120_000);

  it('GIVEN a container VM removed from state WHEN imported by id THEN it is back and the plan only restores the drift', async () => {
    const id = String(readState(ws.dir).resources.find((r) => r.name === 'worker')!.instances[0].attributes.id);
    await tf(['state', 'rm', 'vic_container_vm.worker']);
    const imported = await tf(['import', 'vic_container_vm.worker', id]);
    expect(imported.stdout).toContain('Import successful!');
    const state = readState(ws.dir).resources.find((r) => r.name === 'worker')!.instances[0];
    expect(state.attributes).toMatchObject({ id, name: 'worker-1' });
    const plan = await tf(['plan']);
    expect(plan.stdout).not.toContain('vic_container_vm.worker must be replaced');
  }, 120_000);

  it('GIVEN everything applied WHEN destroyed THEN the inventory holds no VM or pool of ours', async () => {
    const destroy = await tf(['destroy', '-auto-approve']);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 4 destroyed.');
    const outside = bed.outside();
    const vms = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    const pools = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'ResourcePool', paths: ['name'] }],
    });
    expect(vms.map((v) => v.props.name)).not.toEqual(expect.arrayContaining(['web-1']));
    expect(vms.map((v) => v.props.name).filter((n) => n === 'web-1' || n === 'worker-1')).toEqual([]);
    expect(pools.map((p) => p.props.name)).not.toContain('vch-demo');
    expect(readFileSync(join(ws.dir, 'terraform.tfstate'), 'utf8')).not.toContain('vic_container_vm');
  }, 180_000);
});

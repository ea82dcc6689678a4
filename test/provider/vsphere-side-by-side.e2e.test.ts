/**
 * Container VMs beside traditional VMs in ONE configuration and ONE Terraform state: the vSphere
 * provider (built from Go modules by scripts/peers/70-vsphere-provider.sh) makes a plain VM in the
 * resource pool and folder of a virtual container host that the vic provider makes, against the
 * same simulator. Apply, a second plan with no changes, destroy with nothing left behind.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { REPO, Workspace, readState, workspace } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'Side-by-S1de!';
const VSPHERE_MIRROR = join(REPO, '.cache/terraform-mirror');
const VSPHERE_ADDRESS = 'registry.terraform.io/vmware/vsphere';

/** The version 70-vsphere-provider.sh installed, or a failure that says how to get one. */
function installedVsphereProvider(): string {
  const dir = join(VSPHERE_MIRROR, VSPHERE_ADDRESS);
  const versions = existsSync(dir) ? readdirSync(dir) : [];
  if (versions.length === 0) {
    throw new Error(
      `the vSphere Terraform provider is not in ${dir}: run "npm run setup" (scripts/peers/70-vsphere-provider.sh builds terraform-provider-vsphere from Go modules; its log says why a route failed)`,
    );
  }
  return versions.sort().at(-1)!;
}

interface VmRow {
  name: string;
  resourcePool?: { value: string };
  parent?: { value: string };
}

describe('a vsphere_virtual_machine and a vic_container_vm in one state', () => {
  // Both providers read the same variables; HashiCorp's takes host:port, and so does vic.
  const bed = useTerraformTestbed({ username: 'side-by-side', password: PASSWORD, repository: 'test/side', program: 'app', server: 'host' });
  let ws: Workspace;
  let vsphereVersion: string;
  const tf = (args: string[]) => bed.terraform(ws, args, { allow: args.includes('-detailed-exitcode') ? [2] : [] });

  const vms = async () => {
    const outside = bed.outside();
    return (
      await retrieveFromContainer<VmRow>(outside, {
        container: outside.serviceContent.rootFolder,
        select: [{ type: 'VirtualMachine', paths: ['name', 'resourcePool', 'parent'] }],
      })
    ).map((row) => ({ moid: row.ref.value, ...row.props }));
  };

  beforeAll(() => {
    vsphereVersion = installedVsphereProvider();
    ws = workspace('mirror', { fixture: 'side-by-side', extraMirror: VSPHERE_MIRROR });
  });

  it('GIVEN both providers in filesystem mirrors WHEN init runs THEN it installs vic and the vSphere provider built from Go modules', async () => {
    const init = await tf(['init']);
    expect(init.stdout).toContain('Installed vic-iac/vic v0.1.0 (unauthenticated)');
    expect(init.stdout).toContain(`Installed vmware/vsphere v${vsphereVersion} (unauthenticated)`);
  }, 120_000);

  it('GIVEN the configuration WHEN applied THEN the traditional VM and the container VM share the VCH pool, folder and state', async () => {
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');

    const state = readState(ws.dir);
    const managed = state.resources.filter((r) => !('mode' in r) || (r as { mode?: string }).mode !== 'data').map((r) => `${r.type}.${r.name}`);
    expect(managed).toEqual(
      expect.arrayContaining(['vic_virtual_container_host.apps', 'vic_image.app', 'vic_container_vm.web', 'vsphere_virtual_machine.legacy']),
    );
    const attrs = (type: string) => state.resources.find((r) => r.type === type)!.instances[0].attributes;
    const pool = String(attrs('vic_virtual_container_host').resource_pool_id);
    const folder = String(attrs('vic_virtual_container_host').folder_id);
    expect(pool).toMatch(/^resgroup-/);

    const byName = new Map((await vms()).map((vm) => [vm.name, vm]));
    const web = byName.get('web-1');
    const legacy = byName.get('legacy-1');
    expect(web?.moid).toBe(attrs('vic_container_vm').moid);
    expect(legacy?.moid).toBe(attrs('vsphere_virtual_machine').moid);
    expect(web?.resourcePool?.value).toBe(pool);
    expect(legacy?.resourcePool?.value).toBe(pool);
    expect(legacy?.parent?.value).toBe(folder);
    expect(web?.parent?.value).toBe(folder);
  }, 240_000);

  it('GIVEN everything applied WHEN planned again THEN neither provider sees a change', async () => {
    const plan = await tf(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('No changes. Your infrastructure matches the configuration.');
  }, 120_000);

  it('GIVEN both kinds of VM WHEN destroyed THEN no VM, pool or state entry is left', async () => {
    const destroy = await tf(['destroy', '-auto-approve']);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 4 destroyed.');
    const names = (await vms()).map((vm) => vm.name);
    expect(names.filter((n) => n === 'web-1' || n === 'legacy-1')).toEqual([]);
    const outside = bed.outside();
    const pools = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'ResourcePool', paths: ['name'] }],
    });
    expect(pools.map((p) => p.props.name)).not.toContain('vch-apps');
    const state = readFileSync(join(ws.dir, 'terraform.tfstate'), 'utf8');
    expect(state).not.toContain('vsphere_virtual_machine');
    expect(state).not.toContain('vic_container_vm');
  }, 180_000);
});

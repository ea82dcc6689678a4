/**
 * Volumes through the real `terraform` CLI: a volume and a container VM mounting it (a `volumes`
 * block) in one apply, a converged plan, a shrink refused at plan, a moved mount replacing the VM
 * while the volume stays, the volume deleted outside made again with a warning, import by
 * datastore path, and destroy.
 */
import { deleteDatastoreFile, moRef } from '../../src/vsphere';
import { Inventory } from '../../src/vsphere/inventory';
import { retrieveObject } from '../../src/vsphere/property-collector';
import { removeDevice, type VirtualDevice } from '../../src/vsphere/virtual-devices';
import { reconfigureVm } from '../../src/vsphere/virtual-machine';
import { Workspace } from './terraform-cli';
import { stateAttributes, useTerraformTestbed } from './testbed';

const PASSWORD = 'Tf-volumes-S3cret!';

describe('terraform: volumes', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/app', program: 'httpd' });
  let ws: Workspace;
  const tf = (args: string[], allow: number[] = []) => bed.terraform(ws, args, { allow });
  const attributes = (type: string, name: string) => stateAttributes(ws, type, name);
  const expectConverged = async (vars: string[] = []) => {
    const again = await tf(['plan', '-detailed-exitcode', ...vars]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes. Your infrastructure matches the configuration.');
  };

  beforeAll(async () => {
    ws = await bed.initFixture('volumes');
  }, 120_000);

  it('GIVEN a volume and a container VM with a volumes block WHEN applied THEN the VM mounts the volume and a next plan is empty', async () => {
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    const volume = attributes('vic_volume', 'data');
    expect(volume).toMatchObject({ id: '[LocalDS_0] vch-volumes/volumes/data/data.vmdk', size_mb: 32, labels: { app: 'web' }, datastore: 'LocalDS_0' });
    expect(attributes('vic_container_vm', 'web').volumes).toEqual([{ volume_id: volume.id, path: '/data', read_only: false }]);
    await expectConverged();
  }, 300_000);

  it('GIVEN the volume mounted by a running container VM WHEN a second running one mounts it THEN the plan fails naming the first', async () => {
    const plan = await tf(['plan', '-var', 'second_writer=true'], [1]);
    expect(plan.code).toBe(1);
    expect(plan.stderr.replace(/\s+/g, ' ')).toMatch(
      /is already mounted by running container VM\(s\) "(web-1|writer-1)" \(read-write\) in this configuration, and this mount is read-write/,
    );
  }, 300_000);

  it('GIVEN running container VMs that mount the volume read-only WHEN applied THEN they share it, attached nonpersistent; a running writer beside them fails at plan', async () => {
    const readers = ['-var', 'mounted=false', '-var', 'readers=2'];
    const apply = await tf(['apply', '-auto-approve', ...readers]);
    expect(apply.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 1 destroyed.');
    const volume = String(attributes('vic_volume', 'data').id);
    for (const index of [0, 1]) {
      const reader = stateAttributes(ws, 'vic_container_vm', 'reader', index);
      expect(reader).toMatchObject({ name: `reader-${index + 1}`, power_state: 'running', volumes: [{ volume_id: volume, path: '/data', read_only: true }] });
      const vm = await retrieveObject<Record<string, unknown>>(bed.outside(), moRef('VirtualMachine', String(reader.moid)), ['config.hardware.device']);
      const disks = (vm['config.hardware.device'] as VirtualDevice[]).filter(
        (d) => d.$type === 'VirtualDisk' && String(d.backing?.fileName).includes('/volumes/'),
      );
      expect(disks.map((d) => [d.backing?.fileName, d.backing?.diskMode])).toEqual([[volume, 'independent_nonpersistent']]);
    }
    await expectConverged(readers);
    const writer = await tf(['plan', ...readers, '-var', 'second_writer=true'], [1]);
    // Terraform plans the writer and the readers in any order: the error is on the first mount that
    // meets a conflict, and names the mounts planned before it (one reader or both, or the writer).
    expect(writer.code).toBe(1);
    expect(writer.stderr.replace(/\s+/g, ' ')).toMatch(
      /already mounted by running container VM\(s\) ("reader-[12]" \(read-only\)(, "reader-[12]" \(read-only\))? in this configuration, and this mount is read-write|"writer-1" \(read-write\) in this configuration, and this mount is read-only)/,
    );
    const back = await tf(['apply', '-auto-approve']);
    expect(back.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 3 destroyed.');
    await expectConverged();
  }, 300_000);

  it('GIVEN the volume disk detached in vSphere WHEN planned and applied THEN the VM is updated in place and has the disk again', async () => {
    const moid = String(attributes('vic_container_vm', 'web').moid);
    const disks = async () => {
      const vm = await retrieveObject<Record<string, unknown>>(bed.outside(), moRef('VirtualMachine', moid), ['config.hardware.device']);
      return (vm['config.hardware.device'] as VirtualDevice[]).filter((d) => d.$type === 'VirtualDisk' && String(d.backing?.fileName).includes('/volumes/'));
    };
    const [disk] = await disks();
    await reconfigureVm(bed.outside(), moRef('VirtualMachine', moid), { deviceChange: [removeDevice(disk)] });
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('# vic_container_vm.web will be updated in-place');
    expect(apply.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    expect((await disks()).map((d) => d.backing?.fileName)).toEqual([attributes('vic_volume', 'data').id]);
    expect(attributes('vic_container_vm', 'web').moid).toBe(moid);
    await expectConverged();
  }, 300_000);

  it('GIVEN an applied volume WHEN size_mb shrinks THEN the plan fails saying why; WHEN it grows THEN an in-place update is planned', async () => {
    const shrink = await tf(['plan', '-var', 'volume_size_mb=16'], [1]);
    expect(shrink.code).toBe(1);
    expect(shrink.stderr.replace(/\s+/g, ' ')).toContain("size_mb = 16 is below the volume's current 32 MB. vSphere cannot shrink a disk");
    const grow = await tf(['plan', '-var', 'volume_size_mb=64']);
    expect(grow.stdout).toContain('# vic_volume.data will be updated in-place');
    expect(grow.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
  }, 300_000);

  it('GIVEN a mounted volume WHEN the mount path changes THEN the container VM is replaced and the volume stays', async () => {
    const volumeId = attributes('vic_volume', 'data').id;
    const vmBefore = attributes('vic_container_vm', 'web').moid;
    const apply = await tf(['apply', '-auto-approve', '-var', 'mount_path=/srv']);
    expect(apply.stdout).toContain('# vic_container_vm.web must be replaced');
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
    expect(attributes('vic_container_vm', 'web').moid).not.toBe(vmBefore);
    expect(attributes('vic_volume', 'data').id).toBe(volumeId);
    await expectConverged(['-var', 'mount_path=/srv']);
  }, 300_000);

  it('GIVEN the volume deleted outside WHEN planned THEN it is made again with a warning that its data is gone', async () => {
    const inv = new Inventory(bed.outside());
    const dc = await inv.datacenter('DC0');
    // Detached first, as vSphere would require of a disk in use; the VM gets it back by the next apply.
    const detach = await tf(['apply', '-auto-approve', '-var', 'mount_path=/srv', '-var', 'mounted=false']);
    expect(detach.stdout).toContain('Apply complete!');
    await deleteDatastoreFile(bed.outside(), '[LocalDS_0] vch-volumes/volumes/data', dc.ref);
    const plan = await tf(['plan', '-var', 'mount_path=/srv', '-var', 'mounted=false']);
    expect(plan.stdout).toContain('# vic_volume.data will be created');
    const said = (plan.stdout + plan.stderr).replace(/\s+/g, ' ');
    expect(said).toContain('Warning: Volume deleted outside vic-iac');
    expect(said).toContain('the data it held is gone');
    await tf(['apply', '-auto-approve', '-var', 'mount_path=/srv', '-var', 'mounted=false']);
    await expectConverged(['-var', 'mount_path=/srv', '-var', 'mounted=false']);
  }, 300_000);

  it("GIVEN another configuration that declares the same volume WHEN planned THEN refused as held by another resource, naming the import; the first state's volume is untouched", async () => {
    const volume = attributes('vic_volume', 'data');
    const other = await bed.initFixture('volume-other');
    const plan = await bed.terraform(other, ['plan', '-var', `vch_id=${String(volume.vch_id)}`], { allow: [1] });
    expect(plan.code).toBe(1);
    const said = plan.stderr.replace(/\s+/g, ' ');
    expect(said).toContain('Error: Volume held by another resource');
    expect(said).toContain(`volume "data" of VCH ${String(volume.vch_id)} already exists (${String(volume.id)}), with its data`);
    expect(said).toContain(`import it instead of creating it, by its id ${String(volume.id)}`);
    expect(said).toContain('with vic_volume.stolen');
    await expectConverged(['-var', 'mount_path=/srv', '-var', 'mounted=false']);
  }, 300_000);

  it('GIVEN a volume removed from the state WHEN planned THEN the create is refused, naming the import; WHEN imported by its datastore path THEN the plan is empty; WHEN destroyed THEN everything goes', async () => {
    const vars = ['-var', 'mount_path=/srv', '-var', 'mounted=false'];
    const id = String(attributes('vic_volume', 'data').id);
    await tf(['state', 'rm', 'vic_volume.data']);
    const refused = await tf(['plan', ...vars], [1]);
    expect(refused.stderr.replace(/\s+/g, ' ')).toContain(`Error: Volume held by another resource`);
    expect(refused.stderr.replace(/\s+/g, ' ')).toContain(`terraform import <address> '${id}'`);
    const imported = await tf(['import', ...vars, 'vic_volume.data', id]);
    expect(imported.stdout).toContain('Import successful!');
    await expectConverged(vars);
    const destroy = await tf(['destroy', '-auto-approve', ...vars]);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 4 destroyed.');
  }, 300_000);
});

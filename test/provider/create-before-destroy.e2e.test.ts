/**
 * `lifecycle { create_before_destroy = true }` through the real `terraform` CLI, on resources whose
 * replacement has the same vSphere identity as the object it replaces: Terraform creates the new
 * one first, which finds (adopts) the image the old one holds, and then deletes the old one. That
 * delete must leave the image to its replacement, with a warning saying so; a next plan is empty.
 * A volume is refused (its create cannot be told from another state's taking it over), and a
 * container VM or a VCH cannot be created beside its old object: the apply refuses, and Terraform
 * keeps the old object as a deposed one, which it destroys only after creating its successor, even
 * once create_before_destroy is gone. The next plan refuses that in one error saying what to do.
 */
import { readFileSync } from 'node:fs';
import { vmMoidsNamed } from '../helpers/engine';
import { dirname, join } from 'node:path';
import { moRef, parseDatastorePath } from '../../src/vsphere';
import { statDatastoreFile, uploadDatastoreFile } from '../../src/vsphere/datastore-http';
import { retrieveFromContainer, retrieveObject } from '../../src/vsphere/property-collector';
import { FIXTURES, Workspace } from './terraform-cli';
import { stateAttributes, useTerraformTestbed } from './testbed';

const PASSWORD = 'Tf-cbd-S3cret!';

describe('terraform: create_before_destroy replacements under the same identity', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/app', program: 'httpd' });
  let ws: Workspace;
  const tf = (args: string[], allow: number[] = []) => bed.terraform(ws, args, { allow });
  const attributes = (type: string, name: string) => stateAttributes(ws, type, name);
  const oneLine = (s: string) => s.replace(/\s+/g, ' ');
  /** The ids of the deposed objects of `type` in the workspace's state. */
  const deposedIds = (type: string) =>
    (
      JSON.parse(readFileSync(join(ws.dir, 'terraform.tfstate'), 'utf8')) as {
        resources: { type: string; instances: { deposed?: string; attributes: { id: unknown } }[] }[];
      }
    ).resources
      .filter((r) => r.type === type)
      .flatMap((r) => r.instances.filter((i) => i.deposed !== undefined).map((i) => i.attributes.id));
  const vmsNamed = (name: string) => vmMoidsNamed(bed.outside(), name);
  const expectConverged = async (vars: string[] = []) => {
    const again = await tf(['plan', '-detailed-exitcode', ...vars], [2]);
    expect(again.stdout).toContain('No changes. Your infrastructure matches the configuration.');
    expect(again.code).toBe(0);
  };

  beforeAll(async () => {
    ws = await bed.initFixture('create-before-destroy');
    await tf(['apply', '-auto-approve']);
  }, 180_000);

  it('GIVEN a volume with create_before_destroy WHEN applied with -replace THEN the create is refused (nothing tells it from another state taking the volume over), naming create_before_destroy; the volume and its data stay, and the import it names brings it back', async () => {
    const before = attributes('vic_volume', 'data');
    const { datastore, path } = parseDatastorePath(String(before.id));
    const sentinel = { datacenter: 'DC0', datastore, path: `${dirname(path)}/sentinel.txt` };
    await uploadDatastoreFile(bed.outside(), sentinel, 'kept\n');
    const apply = await tf(['apply', '-auto-approve', '-replace=vic_volume.data'], [1]);
    expect(apply.code).toBe(1);
    const text = oneLine(apply.stderr);
    expect(text).toContain('Error: Volume held by another resource');
    expect(text).toContain('remove create_before_destroy');
    expect(text).toContain(`"terraform import <address> '${String(before.id)}'"`);
    expect(deposedIds('vic_volume')).toEqual([before.id]);
    await tf(['state', 'rm', 'vic_volume.data']);
    await tf(['import', 'vic_volume.data', String(before.id)]);
    await expectConverged();
    expect(attributes('vic_volume', 'data').id).toBe(before.id);
    expect(await statDatastoreFile(bed.outside(), sentinel)).toBeDefined();
  }, 300_000);

  it('GIVEN an image with create_before_destroy WHEN its size_mb changes (same digest, same store path) THEN the old delete keeps the disk its replacement holds, and a next plan is empty', async () => {
    const vars = ['-var', 'image_size_mb=48'];
    const before = attributes('vic_image', 'app');
    const apply = await tf(['apply', '-auto-approve', ...vars]);
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
    expect(oneLine(apply.stdout + apply.stderr)).toContain('kept: its replacement is the same object');
    expect(attributes('vic_image', 'app').id).toBe(before.id);
    await expectConverged(vars);
    const replaced = await tf(['apply', '-auto-approve', '-replace=vic_image.app', ...vars]);
    expect(replaced.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
    await expectConverged(vars);
  }, 300_000);

  it('GIVEN a container VM with create_before_destroy WHEN applied with -replace THEN the create is refused, naming create_before_destroy and what to do, and doing that replaces it', async () => {
    const vars = ['-var', 'with_vm=true', '-var', 'image_size_mb=48'];
    await tf(['apply', '-auto-approve', ...vars]);
    const before = attributes('vic_container_vm', 'web');
    const apply = await tf(['apply', '-auto-approve', '-replace=vic_container_vm.web[0]', ...vars], [1]);
    expect(apply.code).toBe(1);
    const text = oneLine(apply.stderr);
    expect(text).toContain('Container VM held by another resource');
    expect(text).toContain("A replacement created first (Terraform's lifecycle create_before_destroy");
    expect(text).toContain('Remove create_before_destroy (Terraform)');
    expect(text).toContain(`terraform import <address> ${String(before.id)}`);
    // What the message says to do: without create_before_destroy, the deposed VM back in the state,
    // a -replace destroys it first and makes it again.
    const main = readFileSync(join(ws.dir, 'main.tf'), 'utf8');
    ws.write('main.tf', main.replace(/(resource "vic_container_vm" "web" \{[^]*?)lifecycle \{[^}]*\}/, '$1'));
    try {
      await tf(['state', 'rm', 'vic_container_vm.web[0]']);
      await tf(['import', ...vars, 'vic_container_vm.web[0]', String(before.id)]);
      await expectConverged(vars);
      expect(attributes('vic_container_vm', 'web').moid).toBe(before.moid);
      const replaced = await tf(['apply', '-auto-approve', '-replace=vic_container_vm.web[0]', ...vars]);
      expect(replaced.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
      expect(attributes('vic_container_vm', 'web').moid).not.toBe(before.moid);
      await expectConverged(vars);
    } finally {
      ws.write('main.tf', main);
    }
    // The tests after this one start without the container VM.
    await tf(['apply', '-auto-approve', '-var', 'image_size_mb=48']);
  }, 300_000);

  it('GIVEN a container VM with create_before_destroy and a mounted volume WHEN a change replaces it, the apply is refused and create_before_destroy is removed THEN the next plan refuses the deposed VM in one error that says what to do, doing that replaces it destroy-first, and the volume keeps its data', async () => {
    const vars = ['-var', 'with_vm=true', '-var', 'image_size_mb=48', '-var', 'mount_data=true'];
    const bigger = [...vars, '-var', 'vm_disk_size_mb=4096'];
    await tf(['apply', '-auto-approve', ...vars]);
    const before = attributes('vic_container_vm', 'web');
    const volume = attributes('vic_volume', 'data');
    // Something only the volume's own directory holds: a new volume would not have it.
    const { datastore, path } = parseDatastorePath(String(volume.id));
    const sentinel = { datacenter: 'DC0', datastore, path: `${dirname(path)}/sentinel.txt` };
    await uploadDatastoreFile(bed.outside(), sentinel, 'kept\n');
    const refused = await tf(['apply', '-auto-approve', ...bigger], [1]);
    expect(refused.code).toBe(1);
    expect(oneLine(refused.stderr)).toContain('Container VM held by another resource');
    // Terraform kept the old VM as a deposed object of web[0].
    expect(deposedIds('vic_container_vm')).toEqual([before.id]);
    const main = readFileSync(join(ws.dir, 'main.tf'), 'utf8');
    ws.write('main.tf', main.replace(/(resource "vic_container_vm" "web" \{[^]*?)lifecycle \{[^}]*\}/, '$1'));
    try {
      // Terraform creates a deposed object's successor before it destroys the deposed object: the
      // plan refuses, in one error, with the commands that bring the old VM back.
      const plan = await tf(['plan', ...bigger], [1]);
      expect(plan.code).toBe(1);
      expect(plan.stdout).toContain('# vic_container_vm.web[0] (deposed object');
      expect(plan.stderr.match(/^Error: /gm)).toHaveLength(1);
      const text = oneLine(plan.stderr);
      expect(text).toContain("creates a deposed object's successor before it destroys the deposed object");
      expect(text).toContain('"terraform state rm <address>"');
      expect(text).toContain(`"terraform import <address> ${String(before.id)}"`);
      expect(await vmsNamed('web-1')).toEqual([before.moid]);
      // A destroy plans the configuration first, but is never blocked by what only a create meets:
      // it destroys the deposed VM with the rest.
      const destroy = await tf(['plan', '-destroy', ...bigger]);
      expect(destroy.stdout).toContain('# vic_container_vm.web[0] (deposed object');
      expect(destroy.stdout).toMatch(/Plan: 0 to add, 0 to change, \d+ to destroy\./);
      // What it says to do.
      await tf(['state', 'rm', 'vic_container_vm.web[0]']);
      await tf(['import', ...bigger, 'vic_container_vm.web[0]', String(before.id)]);
      expect(deposedIds('vic_container_vm')).toEqual([]);
      const apply = await tf(['apply', '-auto-approve', ...bigger]);
      expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
      const at = (t: string) => apply.stdout.indexOf(t);
      expect(at('vic_container_vm.web[0]: Destruction complete')).toBeGreaterThan(-1);
      expect(at('vic_container_vm.web[0]: Creation complete')).toBeGreaterThan(at('vic_container_vm.web[0]: Destruction complete'));
      const after = attributes('vic_container_vm', 'web');
      expect(after.moid).not.toBe(before.moid);
      expect(after.disk_size_mb).toBe(4096);
      expect(after.power_state).toBe('running');
      expect(await vmsNamed('web-1')).toEqual([after.moid]);
      expect((await tf(['state', 'list'])).stdout.match(/^vic_container_vm\./gm)).toHaveLength(1);
      expect(deposedIds('vic_container_vm')).toEqual([]);
      // The volume was not made again: same id, its directory still holds what was put there.
      expect(attributes('vic_volume', 'data').id).toBe(volume.id);
      expect(await statDatastoreFile(bed.outside(), sentinel)).toEqual({ size: 5 });
      await expectConverged(bigger);
    } finally {
      ws.write('main.tf', main);
    }
    // The tests after this one start without the container VM.
    await tf(['apply', '-auto-approve', '-var', 'image_size_mb=48']);
  }, 300_000);

  it('GIVEN a VCH without create_before_destroy WHEN applied with -replace THEN it plans, is destroyed first and made again under its name, and a next plan is empty', async () => {
    const vars = ['-var', 'image_size_mb=48'];
    const before = attributes('vic_virtual_container_host', 'plain');
    const apply = await tf(['apply', '-auto-approve', '-replace=vic_virtual_container_host.plain', ...vars]);
    expect(apply.stdout).toContain('# vic_virtual_container_host.plain will be replaced, as requested');
    expect(apply.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
    const at = (text: string) => apply.stdout.indexOf(text);
    expect(at('vic_virtual_container_host.plain: Destruction complete')).toBeGreaterThan(-1);
    expect(at('vic_virtual_container_host.plain: Creation complete')).toBeGreaterThan(at('vic_virtual_container_host.plain: Destruction complete'));
    expect(attributes('vic_virtual_container_host', 'plain').id).not.toBe(before.id);
    await expectConverged(vars);
  }, 300_000);

  it('GIVEN a VCH with create_before_destroy WHEN applied with -replace THEN it plans, the apply refuses the replacement naming create_before_destroy and deletes nothing; doing what it says replaces it destroy-first', async () => {
    const vars = ['-var', 'image_size_mb=48'];
    const vch = attributes('vic_virtual_container_host', 'demo');
    // Terraform does not tell a provider the order of a replacement: the plan cannot know it yet.
    const plan = await tf(['plan', '-replace=vic_virtual_container_host.demo', ...vars]);
    expect(plan.stdout).toContain('# vic_virtual_container_host.demo will be replaced, as requested');
    const apply = await tf(['apply', '-auto-approve', '-replace=vic_virtual_container_host.demo', ...vars], [1]);
    expect(apply.code).toBe(1);
    const text = oneLine(apply.stderr);
    expect(text).toContain(`A virtual container host named "vch-cbd" (${String(vch.id)}) already exists`);
    expect(text).toContain("is being created before the old one is destroyed (Terraform's lifecycle create_before_destroy");
    expect(text).toContain('Remove create_before_destroy from the VCH and from the resources that depend on it');
    // Nothing was made or deleted: the old VCH, kept by Terraform as a deposed object, still exists.
    const pool = await retrieveObject<{ name: string }>(bed.outside(), moRef('ResourcePool', String(vch.id)), ['name']);
    expect(pool.name).toBe('vch-cbd');
    // What the message says to do: no create_before_destroy anywhere, the deposed VCH back in the
    // state; then the replacement destroys the old VCH first.
    const main = readFileSync(join(ws.dir, 'main.tf'), 'utf8');
    ws.write('main.tf', main.replace(/\n\s*lifecycle \{\s*create_before_destroy = true\s*\}\n/g, '\n'));
    expect(readFileSync(join(ws.dir, 'main.tf'), 'utf8')).not.toContain('create_before_destroy = true');
    expect(text).toContain(`terraform import <address> ${String(vch.id)}`);
    // Left deposed, the old VCH would be destroyed only after its successor was created: the next
    // plan refuses that in one error, with the same commands.
    expect(deposedIds('vic_virtual_container_host')).toEqual([vch.id]);
    const next = await tf(['plan', ...vars], [1]);
    expect(next.code).toBe(1);
    expect(next.stderr.match(/^Error: /gm)).toHaveLength(1);
    expect(oneLine(next.stderr)).toContain("creates a deposed object's successor before it destroys the deposed object");
    expect(oneLine(next.stderr)).toContain(`"terraform import <address> ${String(vch.id)}"`);
    await tf(['state', 'rm', 'vic_virtual_container_host.demo']);
    await tf(['import', ...vars, 'vic_virtual_container_host.demo', String(vch.id)]);
    const back = await tf(['apply', '-auto-approve', ...vars]);
    expect(back.stdout).toMatch(/Apply complete! Resources: 0 added, [01] changed, 0 destroyed\./);
    await expectConverged(vars);
    const replaced = await tf(['apply', '-auto-approve', '-replace=vic_virtual_container_host.demo', ...vars]);
    expect(replaced.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 3 destroyed.');
    expect(attributes('vic_virtual_container_host', 'demo').id).not.toBe(vch.id);
    await expectConverged(vars);
  }, 300_000);

  it('GIVEN a deposed container VM left by a refused create_before_destroy replacement WHEN terraform destroy runs THEN it succeeds and vSphere holds none of the objects', async () => {
    const vars = ['-var', 'with_vm=true', '-var', 'image_size_mb=48'];
    // The fixture as it came, create_before_destroy everywhere (the test before removed it).
    ws.write('main.tf', readFileSync(join(FIXTURES, 'create-before-destroy', 'main.tf'), 'utf8'));
    await tf(['apply', '-auto-approve', ...vars]);
    const before = attributes('vic_container_vm', 'web');
    const refused = await tf(['apply', '-auto-approve', ...vars, '-var', 'vm_disk_size_mb=4096'], [1]);
    expect(refused.code).toBe(1);
    expect(deposedIds('vic_container_vm')).toEqual([before.id]);
    const destroy = await tf(['destroy', '-auto-approve', ...vars, '-var', 'vm_disk_size_mb=4096']);
    expect(destroy.stdout).toMatch(/Destroy complete! Resources: \d+ destroyed\./);
    expect((await tf(['state', 'list'])).stdout.trim()).toBe('');
    expect(await vmsNamed('web-1')).toEqual([]);
    const pools = await retrieveFromContainer<{ name: string }>(bed.outside(), {
      container: bed.outside().serviceContent.rootFolder,
      select: [{ type: 'ResourcePool', paths: ['name'] }],
    });
    expect(pools.map((p) => p.props.name).filter((n) => n === 'vch-cbd' || n === 'vch-plain')).toEqual([]);
  }, 300_000);
});

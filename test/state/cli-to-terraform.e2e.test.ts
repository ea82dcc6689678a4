/**
 * A `vic` CLI stack moved into team state: examples/cli-to-terraform, step by step as its main.tf
 * and docs/cli.md say. `vic apply` creates the spec's objects with a local state file; Terraform
 * then adopts them through `import` blocks, with its state in PostgreSQL (pg backend). The import
 * creates and destroys nothing in vSphere (the one in-place update is insecure_registry, a pull
 * setting vSphere does not record), the objects keep their MOIDs, and Terraform manages them from then on.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { cleanEnv, runVic } from '../cli/run-vic';
import { REPO, workspace, type Workspace } from '../provider/terraform-cli';
import { useTerraformTestbed } from '../provider/testbed';
import { usePostgres } from './postgres';

const PASSWORD = 'Cli-move-e2e-S3cret!';
const EXAMPLE = join(REPO, 'examples/cli-to-terraform');

interface LsRow {
  address?: string;
  id: string;
  name: string;
}

describe('moving a vic CLI stack into Terraform state in PostgreSQL, through import', () => {
  const bed = useTerraformTestbed({ username: 'move-e2e', password: PASSWORD, repository: 'move/app', program: 'httpd' });
  const pg = usePostgres();
  let stackDir: string;
  let ws: Workspace;
  let vicEnv: NodeJS.ProcessEnv;
  let backendEnv: NodeJS.ProcessEnv;
  let image: string;

  async function vic(args: string[]) {
    const r = await runVic(args, vicEnv, { cwd: stackDir, timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`vic ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  async function tf(args: string[], allow: number[] = []) {
    const r = await bed.terraform(ws, args, { extraEnv: backendEnv, allow });
    expect(r.stdout + r.stderr).not.toContain(pg().password);
    return r;
  }

  const inventory = async () => {
    const client = bed.outside();
    const vms = await retrieveFromContainer<{ name: string }>(client, {
      container: client.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    const pools = await retrieveFromContainer<{ name: string }>(client, {
      container: client.serviceContent.rootFolder,
      select: [{ type: 'ResourcePool', paths: ['name'] }],
    });
    return {
      vms: vms.filter((v) => v.props.name === 'web-1').map((v) => v.ref.value),
      pools: pools.filter((p) => p.props.name === 'vch-moving').map((p) => p.ref.value),
    };
  };

  beforeAll(async () => {
    await pg().createDatabase('terraform_backend');
    backendEnv = { PG_CONN_STR: pg().url('terraform_backend'), TF_VAR_image: bed.env().TF_VAR_image };
    image = bed.env().TF_VAR_image as string;
    // GIVEN the example's stack, applied by the CLI (its image from this test's registry)
    stackDir = join(bed.scratch(), 'stack');
    mkdirSync(stackDir);
    writeFileSync(join(stackDir, 'spec.yaml'), readFileSync(join(EXAMPLE, 'spec.yaml'), 'utf8').replace('127.0.0.1:5000/vic-demo/busybox:latest', image));
    const env = bed.env();
    vicEnv = cleanEnv({
      VSPHERE_SERVER: env.VSPHERE_SERVER,
      VSPHERE_USER: env.VSPHERE_USER,
      VSPHERE_PASSWORD: env.VSPHERE_PASSWORD,
      VSPHERE_THUMBPRINT: env.VSPHERE_THUMBPRINT,
      NO_COLOR: '1',
    });
    const applied = await vic(['apply', '-f', 'spec.yaml', '--auto-approve']);
    expect(applied.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    ws = workspace('mirror');
    cpSync(join(EXAMPLE, 'main.tf'), join(ws.dir, 'main.tf'));
  }, 300_000);

  test('WHEN Terraform imports what `vic ls` lists THEN the plan imports all three and changes nothing in vSphere, the apply adopts the same objects, and the state lives in PostgreSQL', async () => {
    const before = await inventory();
    expect(before.vms).toHaveLength(1);
    expect(before.pools).toHaveLength(1);

    const ls = await vic(['ls', '-f', 'spec.yaml', '--json']);
    const rows = JSON.parse(ls.stdout) as LsRow[];
    const id = (address: string) => {
      const row = rows.find((r) => r.address === address);
      if (!row) throw new Error(`vic ls --json has no ${address}:\n${ls.stdout}`);
      return row.id;
    };
    const vars = [
      '-var',
      `vch_id=${id('virtual_container_host.demo')}`,
      '-var',
      `image_digest=${id('image.busybox')}`,
      '-var',
      `web_id=${id('container_vm.web')}`,
    ];

    await tf(['init', '-input=false']);
    const plan = await tf(['plan', '-input=false', '-out=move.tfplan', ...vars]);
    // insecure_registry is how the CLI pulled, which vSphere does not record: the import cannot read it back.
    expect(plan.stdout).toContain('Plan: 3 to import, 0 to add, 1 to change, 0 to destroy.');
    const planned = JSON.parse((await tf(['show', '-json', 'move.tfplan'])).stdout) as {
      resource_changes: {
        address: string;
        change: { actions: string[]; before: Record<string, unknown>; after: Record<string, unknown>; importing?: { id: string } };
      }[];
    };
    const changes = Object.fromEntries(planned.resource_changes.map((c) => [c.address, c.change]));
    expect(Object.keys(changes).sort()).toEqual(['vic_container_vm.web', 'vic_image.busybox', 'vic_virtual_container_host.demo']);
    for (const c of Object.values(changes)) expect(c.importing).toBeDefined();
    expect(changes['vic_virtual_container_host.demo'].actions).toEqual(['no-op']);
    expect(changes['vic_container_vm.web'].actions).toEqual(['no-op']);
    expect(changes['vic_image.busybox'].actions).toEqual(['update']);
    const imageBefore = changes['vic_image.busybox'].before;
    const imageAfter = changes['vic_image.busybox'].after;
    expect(Object.keys(imageAfter).filter((k) => JSON.stringify(imageAfter[k]) !== JSON.stringify(imageBefore[k]))).toEqual(['insecure_registry']);

    const applied = await tf(['apply', '-auto-approve', '-input=false', 'move.tfplan']);
    expect(applied.stdout).toContain('Apply complete! Resources: 3 imported, 0 added, 1 changed, 0 destroyed.');
    expect(await inventory()).toEqual(before);

    // THEN the state is in the backend, and Terraform sees the CLI's objects as its own
    const show = JSON.parse((await tf(['show', '-json'])).stdout) as {
      values: { root_module: { resources: { address: string; values: Record<string, unknown> }[] } };
    };
    const byAddress = Object.fromEntries(show.values.root_module.resources.map((r) => [r.address, r.values]));
    expect(byAddress['vic_virtual_container_host.demo'].id).toBe(before.pools[0]);
    expect(byAddress['vic_container_vm.web'].moid).toBe(before.vms[0]);
    expect(byAddress['vic_image.busybox'].id).toBe(id('image.busybox'));
    expect(await pg().query('terraform_backend', 'SELECT name FROM vic_moved_stack.states')).toEqual(['default']);

    // AND nothing is left to do
    const again = await tf(['plan', '-detailed-exitcode', '-input=false', ...vars], [0]);
    expect(again.stdout).toContain('No changes.');
  }, 420_000);

  test('GIVEN the stack moved WHEN Terraform destroys it THEN the objects the CLI created are gone', async () => {
    const ls = JSON.parse((await vic(['ls', '-f', 'spec.yaml', '--json'])).stdout) as LsRow[];
    const vars = ls.flatMap((r) =>
      r.address === 'virtual_container_host.demo'
        ? ['-var', `vch_id=${r.id}`]
        : r.address === 'image.busybox'
          ? ['-var', `image_digest=${r.id}`]
          : r.address === 'container_vm.web'
            ? ['-var', `web_id=${r.id}`]
            : [],
    );
    const destroyed = await tf(['destroy', '-auto-approve', '-input=false', ...vars]);
    expect(destroyed.stdout).toContain('Destroy complete! Resources: 3 destroyed.');
    expect(await inventory()).toEqual({ vms: [], pools: [] });
  }, 300_000);
});

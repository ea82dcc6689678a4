/**
 * `start_wait` with the real `terraform` CLI and container VMs that really boot (the simulator's
 * guest runner): the apply that powers a container VM on waits for its process to report, so the
 * apply's own state and outputs have `status` "running", `started_at` and the guest's address,
 * where without start_wait they read "created" and no address until the next refresh. A stop and
 * a start again wait for the new run's report, not the last run's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOciLayout } from '../helpers/oci-layout';
import { ensureBootstrapIso } from '../helpers/qemu';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { VIC_PROVIDER_HCL, workspace, type Workspace } from '../provider/terraform-cli';
import { probeImageSpec } from './probe-image';

const MAIN_TF = `${VIC_PROVIDER_HCL}
variable "image" { type = string }
variable "power_state" {
  type    = string
  default = "running"
}
resource "vic_virtual_container_host" "t" {
  name           = "vch-start-wait"
  compute        = "/DC0/host/DC0_C0"
  datastore      = "LocalDS_0"
  bridge_network = "VM Network"
  force_destroy  = true
}
resource "vic_image" "probe" {
  vch_id            = vic_virtual_container_host.t.id
  reference         = var.image
  insecure_registry = true
}
resource "vic_container_vm" "waited" {
  vch_id      = vic_virtual_container_host.t.id
  image_id    = vic_image.probe.id
  name        = "waited"
  entrypoint  = ["/bin/sh", "-c", "sleep 600"]
  memory_mb   = 256
  power_state = var.power_state
  start_wait  = 120
}
resource "vic_container_vm" "unwaited" {
  vch_id     = vic_virtual_container_host.t.id
  image_id   = vic_image.probe.id
  name       = "unwaited"
  entrypoint = ["/bin/sh", "-c", "sleep 600"]
  memory_mb  = 256
}
resource "vic_container_vm" "hasty" {
  vch_id     = vic_virtual_container_host.t.id
  image_id   = vic_image.probe.id
  name       = "hasty"
  entrypoint = ["/bin/sh", "-c", "sleep 600"]
  memory_mb  = 256
  start_wait = 1
}
output "waited" {
  value = { status = vic_container_vm.waited.status, started_at = vic_container_vm.waited.started_at, ip = vic_container_vm.waited.ip_addresses }
}
output "hasty" {
  value = { status = vic_container_vm.hasty.status, ip = vic_container_vm.hasty.ip_addresses }
}
output "unwaited" {
  value = { status = vic_container_vm.unwaited.status, ip = vic_container_vm.unwaited.ip_addresses }
}
`;

type Shown = { status: string; started_at?: string | null; ip: string[] };

describe('start_wait: an apply that waits for the process', () => {
  const sim = useSimulator({ runGuests: { maxRunning: 3 } });
  const registry = useRegistry();
  let ws: Workspace;
  let env: NodeJS.ProcessEnv;
  let scratch: string;

  beforeAll(async () => {
    const iso = await ensureBootstrapIso();
    scratch = await mkdtemp(join(tmpdir(), 'vic-start-wait-'));
    const layout = await writeOciLayout(join(scratch, 'oci'), 'probe', [probeImageSpec()]);
    await registry().push(layout.dir, 'probe', 'vic-test/probe:wait');
    ws = workspace('mirror');
    ws.write('main.tf', MAIN_TF);
    env = {
      VSPHERE_SERVER: sim().url,
      VSPHERE_USER: sim().username,
      VSPHERE_PASSWORD: sim().password,
      VSPHERE_THUMBPRINT: sim().thumbprint,
      VIC_BOOTSTRAP_ISO: iso,
      TF_VAR_image: `${registry().host}/vic-test/probe:wait`,
    };
  }, 180_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function terraform(args: string[]) {
    const r = await ws.terraform([...args, '-no-color'], env);
    if (r.code !== 0) throw new Error(`terraform ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r;
  }
  async function outputs(): Promise<{ waited: Shown; unwaited: Shown; hasty: Shown }> {
    const json = JSON.parse((await terraform(['output', '-json'])).stdout) as Record<string, { value: Shown }>;
    return { waited: json.waited.value, unwaited: json.unwaited.value, hasty: json.hasty.value };
  }

  test('GIVEN start_wait = 120 on one container VM, 1 on another and none on a third WHEN applied THEN the apply state has the waited one running with its address, the others created without one, and the one whose wait ran out warns', async () => {
    await terraform(['init']);
    const apply = await terraform(['apply', '-auto-approve']);
    const { waited, unwaited, hasty } = await outputs();
    expect(waited.status).toBe('running');
    expect(waited.started_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(waited.ip).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/)]);
    // Without start_wait the apply ends at the power-on, as before: the guest has not booted yet.
    expect(unwaited).toEqual({ status: 'created', ip: [] });
    // A guest that has not reported within start_wait leaves the apply successful, with a warning.
    expect(hasty).toEqual({ status: 'created', ip: [] });
    expect(apply.stdout.replace(/[│\s]+/g, ' ')).toContain(
      'Warning: container VM "hasty": no report from its process within start_wait with vic_container_vm.hasty, on main.tf line',
    );
    expect(apply.stdout.replace(/[│\s]+/g, ' ')).toMatch(/has not reported 1 s after the power-on \(start_wait = 1\)\. The apply ends with the VM on/);
    // The state holds what the apply read: the next refresh finds the waited one as the apply left
    // it, and the other one changed by its guest's report.
    const plan = (await terraform(['plan'])).stdout;
    expect(plan).toContain('vic_container_vm.unwaited has changed');
    expect(plan).toContain('vic_container_vm.hasty has changed');
    expect(plan).not.toContain('vic_container_vm.waited has changed');
    expect(plan).not.toContain('Terraform will perform the following actions');
  }, 300_000);

  test('GIVEN the waited container VM WHEN stopped and started again THEN the start waits for the new run, whose started_at is later than the first', async () => {
    const first = (await outputs()).waited.started_at ?? '';
    const stop = await terraform(['apply', '-auto-approve', '-var', 'power_state=stopped']);
    expect(stop.stdout).toContain('Resources: 0 added, 1 changed, 0 destroyed.');
    expect((await outputs()).waited).toMatchObject({ status: 'exited', ip: [] });
    await terraform(['apply', '-auto-approve', '-var', 'power_state=running']);
    const again = (await outputs()).waited;
    expect(again.status).toBe('running');
    expect(again.ip).toHaveLength(1);
    expect(Date.parse(again.started_at ?? '')).toBeGreaterThan(Date.parse(first));
    await terraform(['destroy', '-auto-approve']);
  }, 300_000);
});

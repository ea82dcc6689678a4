/**
 * `start_wait` with the real `terraform` CLI and container VMs that really boot (the simulator's
 * guest runner): the apply that powers a container VM on waits for its process to report, so the
 * apply's own state and outputs have `status` "running", `started_at` and the guest's address,
 * where without start_wait they read "created" and no address until the next refresh. A stop and
 * a start again wait for the new run's report, not the last run's.
 */
import { VIC_PROVIDER_HCL } from '../provider/terraform-cli';
import { useGuestTerraform } from './terraform-guests';

/** A container VM of the probe image that runs until stopped, with `more` lines of its own. */
const container = (name: string, more = '') => `resource "vic_container_vm" "${name}" {
  vch_id     = vic_virtual_container_host.t.id
  image_id   = vic_image.probe.id
  name       = "${name}"
  entrypoint = ["/bin/sh", "-c", "sleep 600"]
  memory_mb  = 256
  ${more}
}`;
/** An output of what container VM `name`'s run reported (its status and addresses as `ip`), with `more` attributes. */
const output = (name: string, ...more: string[]) =>
  `output "${name}" {\n  value = { ${['status', 'ip_addresses', ...more].map((a) => `${a === 'ip_addresses' ? 'ip' : a} = vic_container_vm.${name}.${a}`).join(', ')} }\n}`;

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
${container('waited', 'power_state = var.power_state\n  start_wait  = 120')}
${container('hasty', 'start_wait  = 1')}
${container('unwaited')}
${output('waited', 'started_at')}
${output('hasty')}
${output('unwaited')}
`;

type Shown = { status: string; started_at?: string | null; ip: string[] };

describe('start_wait: an apply that waits for the process', () => {
  const { terraform } = useGuestTerraform(MAIN_TF, 'wait', { runGuests: { maxRunning: 3 } });

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

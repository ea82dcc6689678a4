/**
 * The Terraform front end shows what the guest reported: a container VM applied with the real
 * `terraform` CLI runs in the simulator's guest runner, exits 3, and a refresh brings `status` and
 * `exit_code` into the state and the outputs; the next plan powers it on again.
 */
import type { VimClient } from '../../src/vsphere';
import { retrieveFromContainer, rootFolder } from '../../src/vsphere/property-collector';
import { connectTestClient } from '../helpers/engine';
import { useGuestTerraform } from './terraform-guests';

const MAIN_TF = `
terraform {
  required_providers {
    vic = { source = "vic-iac/vic" }
  }
}
variable "image" { type = string }
resource "vic_virtual_container_host" "t" {
  name           = "vch-tf"
  compute        = "/DC0/host/DC0_C0"
  datastore      = "LocalDS_0"
  bridge_network = "VM Network"
}
resource "vic_image" "probe" {
  vch_id            = vic_virtual_container_host.t.id
  reference         = var.image
  insecure_registry = true
}
resource "vic_container_vm" "once" {
  vch_id     = vic_virtual_container_host.t.id
  image_id   = vic_image.probe.id
  name       = "tf-once"
  entrypoint = ["/bin/sh", "-c", "echo from terraform; exit 3"]
  memory_mb  = 256
}
output "status" { value = vic_container_vm.once.status }
output "exit_code" { value = vic_container_vm.once.exit_code }
`;

describe('terraform and a container VM that really runs', () => {
  const { sim, terraform } = useGuestTerraform(MAIN_TF, 'tf', { runGuests: true, username: 'tf-user', password: 'Tf-guest-Pa55' });
  let outside: VimClient;

  beforeAll(async () => {
    outside = await connectTestClient(sim());
  }, 60_000);

  afterAll(async () => {
    await outside?.close();
  });

  test('GIVEN a container that exits 3 WHEN applied and refreshed THEN terraform shows status "exited" and exit_code 3, and the next plan powers it on again', async () => {
    await terraform(['init']);
    const apply = await terraform(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    expect(apply.stdout).toMatch(/status = "created"/);
    const deadline = Date.now() + 150_000;
    for (;;) {
      const [vm] = await retrieveFromContainer<{ name: string; 'runtime.powerState': string }>(outside, {
        container: rootFolder(outside),
        select: [{ type: 'VirtualMachine', paths: ['name', 'runtime.powerState'] }],
      });
      if (vm?.props['runtime.powerState'] === 'poweredOff') break;
      if (Date.now() > deadline) throw new Error(`the guest did not power off; runner: ${JSON.stringify(await sim().control.guests())}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await terraform(['apply', '-refresh-only', '-auto-approve']);
    const outputs = JSON.parse((await terraform(['output', '-json'])).stdout) as Record<string, { value: unknown }>;
    expect({ status: outputs.status.value, exit_code: outputs.exit_code.value }).toEqual({ status: 'exited', exit_code: 3 });
    const plan = await terraform(['plan']);
    expect(plan.stdout).toMatch(/~ power_state += "stopped" -> "running"/);
  }, 300_000);
});

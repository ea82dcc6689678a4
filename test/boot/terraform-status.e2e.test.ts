/**
 * The Terraform front end shows what the guest reported: a container VM applied with the real
 * `terraform` CLI runs in the simulator's guest runner, exits 3, and a refresh brings `status` and
 * `exit_code` into the state and the outputs; the next plan powers it on again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VimClient } from '../../src/vsphere';
import { retrieveFromContainer, rootFolder } from '../../src/vsphere/property-collector';
import { connectTestClient } from '../helpers/engine';
import { writeOciLayout } from '../helpers/oci-layout';
import { ensureBootstrapIso } from '../helpers/qemu';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { workspace, type Workspace } from '../provider/terraform-cli';
import { probeImageSpec } from './probe-image';

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
  const sim = useSimulator({ runGuests: true, username: 'tf-user', password: 'Tf-guest-Pa55' });
  const registry = useRegistry();
  let ws: Workspace;
  let env: NodeJS.ProcessEnv;
  let outside: VimClient;
  let scratch: string;

  beforeAll(async () => {
    const iso = await ensureBootstrapIso();
    scratch = await mkdtemp(join(tmpdir(), 'vic-tf-guest-'));
    const layout = await writeOciLayout(join(scratch, 'oci'), 'probe', [probeImageSpec()]);
    await registry().push(layout.dir, 'probe', 'vic-test/probe:tf');
    ws = workspace('mirror');
    ws.write('main.tf', MAIN_TF);
    env = {
      VSPHERE_SERVER: sim().url,
      VSPHERE_USER: sim().username,
      VSPHERE_PASSWORD: sim().password,
      VSPHERE_THUMBPRINT: sim().thumbprint,
      VIC_BOOTSTRAP_ISO: iso,
      TF_VAR_image: `${registry().host}/vic-test/probe:tf`,
    };
    outside = await connectTestClient(sim());
  }, 180_000);

  afterAll(async () => {
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function terraform(args: string[]) {
    const r = await ws.terraform([...args, '-no-color'], env);
    if (r.code !== 0) throw new Error(`terraform ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r;
  }

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

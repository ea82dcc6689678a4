/**
 * A virtual container host, an image from a registry and a container VM, declared with the CDKTF
 * bindings of vic-iac. `cdktf synth` (or `npx tsx main.ts`) writes cdktf.out/stacks/vic-example/cdk.tf.json;
 * `terraform init && terraform apply` in that directory creates them, like the HCL in examples/terraform.
 *
 * The connection comes from the environment, like the vSphere provider's:
 *   export VSPHERE_SERVER=vcenter.example.com VSPHERE_USER=... VSPHERE_PASSWORD=...
 *   export VSPHERE_THUMBPRINT=AA:BB:...   # pin a self-signed certificate (or VSPHERE_CA_FILE)
 */
import { App, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import * as vic from 'vic-iac/cdktf';

export class ContainerAppStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new vic.provider.VicProvider(this, 'vic', {});

    const image = new TerraformVariable(this, 'image', {
      type: 'string',
      description: 'Image reference in a registry the provider can reach.',
      default: '127.0.0.1:5000/library/busybox:1.36',
    });
    const insecureRegistry = new TerraformVariable(this, 'insecure_registry', {
      type: 'bool',
      description: 'Allow plain HTTP for a local test registry.',
      default: false,
    });

    const host = new vic.virtualContainerHost.VirtualContainerHost(this, 'vch', {
      name: 'vch-cdktf',
      compute: '/DC0/host/DC0_C0',
      datastore: 'LocalDS_0',
      bridgeNetwork: 'VM Network',
      memoryLimitMb: 4096,
    });
    const app = new vic.image.Image(this, 'app', {
      vchId: host.id,
      reference: image.stringValue,
      insecureRegistry: insecureRegistry.booleanValue,
    });
    const web = new vic.containerVm.ContainerVm(this, 'web', {
      vchId: host.id,
      imageId: app.id,
      name: 'web-cdktf',
      memoryMb: 128,
      env: { GREETING: 'hello from cdktf' },
      // A process that keeps running: must_run (true by default) starts a container VM whose
      // process ended again at the next apply, so a command that exits (busybox's default sh)
      // never settles; a run-once job says mustRun: false.
      command: ['sh', '-c', 'echo "$GREETING"; while true; do sleep 3600; done'],
    });

    new TerraformOutput(this, 'vch_pool', { value: host.resourcePoolId });
    new TerraformOutput(this, 'web_vm', { value: web.moid });
  }
}

const app = new App();
new ContainerAppStack(app, 'vic-example');
app.synth();

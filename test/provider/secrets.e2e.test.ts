/**
 * Secrets through the real CLI with TF_LOG=trace: the vSphere password (provider config, from the
 * environment) and a registry password (a sensitive attribute of vic_image) never appear in plan or
 * apply output or in the provider's logs; in state the registry password is marked sensitive.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOciLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { Workspace, readState, workspace } from './terraform-cli';

const VSPHERE_PASSWORD = 'Vsphere-Trace-S3cret';
const REGISTRY_PASSWORD = 'Registry-Trace-S3cret';

describe('secrets with TF_LOG=trace', () => {
  const sim = useSimulator({ username: 'terraform', password: VSPHERE_PASSWORD });
  const registry = useRegistry({ basicAuth: { username: 'puller', password: REGISTRY_PASSWORD } });
  let ws: Workspace;
  let env: NodeJS.ProcessEnv;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vic-tf-secrets-'));
    const layout = await writeOciLayout(join(scratch, 'app'), 'v1', [
      { layers: [{ entries: [{ type: 'file', path: 'hello', content: 'hi\n' }] }], config: { Cmd: ['/hello'] } },
    ]);
    await registry().push(layout.dir, 'v1', 'private/app:v1');
    ws = workspace('mirror');
    ws.write(
      'main.tf',
      `terraform {
  required_providers {
    vic = { source = "vic-iac/vic" }
  }
}
provider "vic" {}
variable "registry_password" {
  type      = string
  sensitive = false # deliberately not marked: the schema alone must keep it out of the output
}
resource "vic_virtual_container_host" "s" {
  name      = "vch-secrets"
  compute   = "/DC0/host/DC0_C0"
  datastore = "LocalDS_0"
}
resource "vic_image" "private" {
  vch_id            = vic_virtual_container_host.s.id
  reference         = "${registry().host}/private/app:v1"
  insecure_registry = true
  registry_auth {
    username = "puller"
    password = var.registry_password
  }
}
`,
    );
    env = {
      VSPHERE_SERVER: sim().url,
      VSPHERE_USER: sim().username,
      VSPHERE_PASSWORD,
      VSPHERE_THUMBPRINT: sim().thumbprint,
      TF_VAR_registry_password: REGISTRY_PASSWORD,
      TF_LOG: 'trace',
    };
    expect((await ws.terraform(['init', '-no-color'], env)).code).toBe(0);
  }, 90_000);

  afterAll(async () => {
    if (ws) await ws.terraform(['destroy', '-auto-approve', '-no-color'], { ...env, TF_LOG: '' });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, 90_000);

  it('GIVEN passwords in the environment and in a sensitive attribute WHEN planned and applied at trace level THEN neither appears anywhere in the output', async () => {
    const plan = await ws.terraform(['plan', '-no-color'], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/password\s+= \(sensitive value\)/);
    const apply = await ws.terraform(['apply', '-auto-approve', '-no-color'], env);
    expect(apply.code).toBe(0);
    // Provider log lines really are in this output (so the check below covers them).
    expect(apply.stderr).toContain('provider.terraform-provider-vic_v0.1.0: connecting to vSphere');
    for (const out of [plan.stdout, plan.stderr, apply.stdout, apply.stderr]) {
      expect(out).not.toContain(VSPHERE_PASSWORD);
      expect(out).not.toContain(REGISTRY_PASSWORD);
    }
  }, 180_000);

  it('GIVEN the applied image WHEN the state is read THEN the registry password is marked sensitive there', () => {
    const image = readState(ws.dir).resources.find((r) => r.type === 'vic_image')!.instances[0];
    expect(image.sensitive_attributes).toEqual(
      expect.arrayContaining([
        [
          { type: 'get_attr', value: 'registry_auth' },
          { type: 'get_attr', value: 'password' },
        ],
      ]),
    );
    // The provider's connection settings are never stored in state.
    expect(readFileSync(join(ws.dir, 'terraform.tfstate'), 'utf8')).not.toContain(VSPHERE_PASSWORD);
  });
});

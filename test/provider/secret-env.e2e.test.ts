/**
 * secret_env and the connection's safety rules through the real `terraform` CLI with TF_LOG=trace:
 * the plan shows `(sensitive value)`, `terraform show -json` marks it sensitive, the provider's logs
 * never hold the value, and a changed value replaces the VM without showing either value. An
 * http:// vsphere_server is refused at validate time unless allow_plain_http is set, and a password
 * embedded in the server URL logs in without ever reaching terraform's output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace, workspace } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'Tf-SecretEnv-Pa55';
const TOKEN = 'Api-Token-Trace-8d41';
const ROTATED = 'Api-Token-Rotated-27c9';

const PROVIDERS = `terraform {
  required_providers {
    vic = { source = "vic-iac/vic" }
  }
}
`;

describe('secret_env through terraform with TF_LOG=trace', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/secret', program: 'app' });
  let ws: Workspace;
  const trace = { TF_LOG: 'trace' };
  const noSecretIn = (...outputs: string[]) => {
    for (const out of outputs) {
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain(ROTATED);
    }
  };

  beforeAll(async () => {
    ws = await bed.initFixture('secret-env');
  }, 120_000);

  it('GIVEN a secret_env value WHEN planned and applied THEN the plan shows (sensitive value) and no output or provider log holds the value', async () => {
    const env = { ...trace, TF_VAR_token: TOKEN };
    const plan = await bed.terraform(ws, ['plan'], { extraEnv: env });
    expect(plan.stdout).toMatch(/\+ secret_env\s+= \(sensitive value\)/);
    expect(plan.stdout).toMatch(/\+ env\s+= \{\s+\+ "MODE" = "prod"/);
    const apply = await bed.terraform(ws, ['apply', '-auto-approve'], { extraEnv: env });
    expect(apply.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    // Provider log lines are in this output (so the check covers them), including the create.
    expect(apply.stderr).toContain('provider.terraform-provider-vic_v0.1.0: applying');
    noSecretIn(plan.stdout, plan.stderr, apply.stdout, apply.stderr);
  }, 240_000);

  it('GIVEN the applied VM WHEN shown as JSON THEN secret_env is marked sensitive, and a refresh plans no change', async () => {
    const show = await bed.terraform(ws, ['show', '-json'], { extraEnv: { TF_VAR_token: TOKEN } });
    const vm = (JSON.parse(show.stdout).values.root_module.resources as { address: string; sensitive_values: Record<string, unknown> }[]).find(
      (r) => r.address === 'vic_container_vm.app',
    )!;
    expect(vm.sensitive_values.secret_env).toBe(true);
    expect(vm.sensitive_values.env).toEqual({});
    // Terraform keeps sensitive values in its state file (marked, not encrypted): docs/security.md says so.
    const state = JSON.parse(readFileSync(join(ws.dir, 'terraform.tfstate'), 'utf8'));
    const instance = state.resources.find((r: { type: string }) => r.type === 'vic_container_vm').instances[0];
    expect(instance.sensitive_attributes).toEqual(expect.arrayContaining([[{ type: 'get_attr', value: 'secret_env' }]]));

    const again = await bed.terraform(ws, ['plan', '-detailed-exitcode'], { extraEnv: { ...trace, TF_VAR_token: TOKEN } });
    expect(again.stdout).toContain('No changes.');
    noSecretIn(again.stdout, again.stderr);
  }, 180_000);

  it('GIVEN a rotated value WHEN planned THEN the VM is replaced, and neither value appears in the plan or the logs', async () => {
    const plan = await bed.terraform(ws, ['plan'], { extraEnv: { ...trace, TF_VAR_token: ROTATED, TF_LOG_PROVIDER: 'debug' } });
    expect(plan.stdout).toContain('# vic_container_vm.app must be replaced');
    expect(plan.stdout).toMatch(/~ secret_env\s+= \(sensitive value\) # forces replacement/);
    // The provider's own plan log names the attribute only.
    expect(plan.stderr).toContain('secret_env: (sensitive value) changed (forces replacement)');
    noSecretIn(plan.stdout, plan.stderr);
  }, 180_000);

  it('GIVEN an http:// vsphere_server WHEN validated THEN it is refused on vsphere_server with what to do; allow_plain_http lets it through validation', async () => {
    const plain = workspace('mirror');
    // Not the testbed's password: Terraform quotes the offending source line, which we cannot redact.
    const server = 'http://terraform:Http-Url-Pa55@127.0.0.1:9/sdk';
    // A data source, so that Terraform validates the provider configuration at all.
    plain.write('main.tf', `${PROVIDERS}provider "vic" {\n  vsphere_server = "${server}"\n}\ndata "vic_virtual_container_host" "s" {\n  name = "any"\n}\n`);
    await bed.terraform(plain, ['init']);
    const refused = await bed.terraform(plain, ['validate'], { allow: [1] });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Plain HTTP refused for "vsphere_server"');
    expect(refused.stderr.replace(/\s+/g, ' ')).toContain(
      'vsphere_server = "http://terraform:***@127.0.0.1:9/sdk" uses plain HTTP: the password and the session cookie would travel in clear text. Use https://, or, only for a local simulator or a trusted tunnel, set allow_plain_http = true (environment: VSPHERE_ALLOW_PLAIN_HTTP=true).',
    );
    const allowed = await bed.terraform(plain, ['validate'], { extraEnv: { VSPHERE_ALLOW_PLAIN_HTTP: 'true' } });
    expect(allowed.stdout).toContain('Success! The configuration is valid.');
  }, 120_000);

  it('GIVEN the password embedded in vsphere_server WHEN planned at trace level THEN it logs in, and the password is in no output or log', async () => {
    const embedded = workspace('mirror');
    const url = new URL(bed.sim().url);
    url.username = 'terraform';
    url.password = PASSWORD;
    embedded.write(
      'main.tf',
      `${PROVIDERS}provider "vic" {\n  vsphere_server = "${url.href}"\n}\ndata "vic_virtual_container_host" "s" {\n  name = "vch-secret-env"\n}\noutput "pool" {\n  value = data.vic_virtual_container_host.s.id\n}\n`,
    );
    await bed.terraform(embedded, ['init']);
    // No VSPHERE_USER / VSPHERE_PASSWORD: the URL is the only place the credentials are.
    const plan = await bed.terraform(embedded, ['plan'], { extraEnv: { ...trace, VSPHERE_SERVER: '', VSPHERE_USER: '', VSPHERE_PASSWORD: '' } });
    expect(plan.stdout).toMatch(/\+ pool = "resgroup-\d+"/);
    // go-plugin prints our log fields in no fixed order.
    const connecting = plan.stderr.split('\n').find((l) => l.includes('provider.terraform-provider-vic_v0.1.0: connecting to vSphere'));
    expect(connecting).toContain(` url=${new URL(bed.sim().url).href}`);
    expect(connecting).toContain(' user=terraform');
    // bed.terraform already asserts the password is absent from stdout and stderr.
  }, 120_000);
});

/**
 * secret_env and the connection rules through bin/vic, as a user runs it, against a real simulator
 * and registry: plans (text and --json) and apply output mask the value; the state file, which
 * must hold it to plan the next change, is mode 0600 in a 0700 directory; http:// needs its opt-in.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stripAnsi } from '../../src/cli/terminal';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { runVic, useVicProject, type VicRun } from './run-vic';

const TOKEN = 'Cli-Secret-Token-5e3a';
const ROTATED = 'Cli-Rotated-Token-0b7f';

function spec(registryHost: string, token: string): string {
  return `virtual_container_host:
  demo:
    name: vch-secret-cli
    compute: /DC0/host/DC0_C0
    datastore: LocalDS_0
image:
  app:
    vch_id: \${virtual_container_host.demo.id}
    reference: ${registryHost}/cli/secret:1
    insecure_registry: true
container_vm:
  app:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.app.id}
    name: secret-cli
    power_state: stopped
    env: { MODE: prod }
    secret_env: { API_TOKEN: ${token} }
`;
}

describe('GIVEN a spec with secret_env', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const project = useVicProject(sim, 'vic-cli-secret-');
  let dir: string;
  let specFile: string;
  let env: NodeJS.ProcessEnv;

  const vic = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<VicRun> => {
    const run = await runVic(args, { ...env, ...extraEnv });
    return { ...run, stdout: stripAnsi(run.stdout), stderr: stripAnsi(run.stderr) };
  };
  const noSecretIn = (run: VicRun) => {
    for (const out of [run.stdout, run.stderr]) {
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain(ROTATED);
    }
  };

  beforeAll(async () => {
    ({ dir, specFile, env } = project());
    await registry().pushImage(HELLO_IMAGE, 'cli/secret:1');
    await writeFile(specFile, spec(registry().host, TOKEN));
  }, 60_000);

  it('WHEN planned, as text and as JSON THEN the value is masked and env is shown', async () => {
    const plan = await vic(['plan', '-f', specFile]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/secret_env\s+= \(sensitive value\)/);
    expect(plan.stdout).toContain('MODE = "prod"');
    noSecretIn(plan);
    const json = await vic(['plan', '-f', specFile, '--json']);
    expect(json.code).toBe(0);
    expect(json.stdout).toContain('"(sensitive value)"');
    noSecretIn(json);
  }, 90_000);

  it('WHEN applied THEN the output masks the value, and the state file holds it with mode 0600 in a 0700 directory', async () => {
    const apply = await vic(['apply', '-f', specFile, '--auto-approve']);
    expect(apply.code).toBe(0);
    noSecretIn(apply);
    const statePath = join(dir, '.vic', 'state.json');
    expect((await stat(statePath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, '.vic'))).mode & 0o777).toBe(0o700);
    // The next plan compares against it: the state must hold the value (docs/cli.md says so).
    expect(await readFile(statePath, 'utf8')).toContain(TOKEN);
  }, 180_000);

  it('WHEN the value is rotated THEN the plan replaces the VM and its reason names secret_env without either value', async () => {
    await writeFile(specFile, spec(registry().host, ROTATED));
    const plan = await vic(['plan', '-f', specFile]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('# secret_env: (sensitive value) changed (forces replacement)');
    noSecretIn(plan);
    await writeFile(specFile, spec(registry().host, TOKEN));
  }, 90_000);

  it('WHEN the server is http:// THEN vic refuses it before connecting, saying how to allow it; --allow-plain-http lets it try', async () => {
    const refused = await vic(['plan', '-f', specFile], { VSPHERE_SERVER: 'http://127.0.0.1:9/sdk' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'vsphere_server: vsphere_server = "http://127.0.0.1:9/sdk" uses plain HTTP: the password and the session cookie would travel in clear text. Use https://, or, only for a local simulator or a trusted tunnel, set allow_plain_http = true (environment: VSPHERE_ALLOW_PLAIN_HTTP=true).',
    );
    const allowed = await vic(['plan', '-f', specFile, '--allow-plain-http'], { VSPHERE_SERVER: 'http://127.0.0.1:9/sdk' });
    expect(allowed.stderr).not.toContain('plain HTTP');
    expect(allowed.stderr).toContain('connection to 127.0.0.1:9 refused');
  }, 60_000);
});

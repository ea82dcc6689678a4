/**
 * `vic plan / apply / ls / destroy` end to end: bin/vic as a child process against a real vcsim
 * (exact credentials) and a real registry with basic auth. The vSphere and registry passwords
 * must never show in anything vic prints.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { stripAnsi } from '../../src/cli/terminal';
import { VIC, cleanEnv, runVic, useVicProject, type VicRun, vchYaml } from './run-vic';

const VSPHERE_PASSWORD = 'vsphere-Pa55-never-printed';
const REGISTRY_PASSWORD = 'registry-Pa55-never-printed';

function spec(registryHost: string, changes: { workerMemory?: number; webCommand?: string; datastore?: string } = {}): string {
  return `${vchYaml('vch-cli', 'demo', changes.datastore ?? 'LocalDS_0')}image:
  app:
    vch_id: \${virtual_container_host.demo.id}
    reference: ${registryHost}/cli/app:1
    insecure_registry: true
    registry_auth:
      username: puller
      password: ${REGISTRY_PASSWORD}
container_vm:
  web:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.app.id}
    name: web-1
    command: [${changes.webCommand ?? '/hello'}]
  worker:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.app.id}
    name: worker-1
    memory_mb: ${changes.workerMemory ?? 128}
`;
}

describe('vic plan/apply/destroy', () => {
  const sim = useSimulator({ username: 'cli-user', password: VSPHERE_PASSWORD });
  const registry = useRegistry({ basicAuth: { username: 'puller', password: REGISTRY_PASSWORD } });
  const project = useVicProject(sim, 'vic-cli-test-');
  let dir: string;
  let specFile: string;
  let env: NodeJS.ProcessEnv;
  const printed: string[] = [];

  const vic = async (...args: string[]): Promise<VicRun> => {
    const run = await runVic(args, env);
    printed.push(run.stdout, run.stderr);
    return run;
  };

  beforeAll(async () => {
    ({ dir, specFile, env } = project());
    await registry().pushImage(HELLO_IMAGE, 'cli/app:1');
    await writeFile(specFile, spec(registry().host));
  }, 60_000);

  it('GIVEN no connection settings WHEN planning THEN exit 2 and the message names the flags and variables to set', async () => {
    const run = await runVic(['plan', '-f', specFile], cleanEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('vsphere_server: missing; pass --vsphere-server or set VSPHERE_SERVER');
    expect(run.stderr).toContain('password: missing; pass --password or set VSPHERE_PASSWORD');
  });

  it('GIVEN a wrong password WHEN planning THEN exit 1 with the login failure, and the password is not echoed', async () => {
    const run = await runVic(['plan', '-f', specFile], { ...env, VSPHERE_PASSWORD: 'wrong-password-xyz' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/login|password|credentials/i);
    expect(run.stderr).not.toContain('wrong-password-xyz');
  });

  it('GIVEN an unknown flag WHEN run THEN exit 2 (usage)', async () => {
    const run = await vic('plan', '-f', specFile, '--frobnicate');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--frobnicate'");
  });

  it('GIVEN an invalid spec WHEN planning THEN exit 2 and every problem at file:line with its attribute path', async () => {
    const bad = join(__dirname, '../fixtures/cli/bad-spec.yaml');
    const run = await vic('plan', '-f', bad);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}:16: container_vm.web.memory_mb: memory_mb must be number, got string "lots".`);
    expect(run.stderr).toContain(`${bad}:6: virtual_container_host.demo.colour:`);
    expect(run.stdout).toBe('');
  });

  it('GIVEN typos in references and in a resource type WHEN planning THEN exit 2, each at its line with the nearest right spelling', async () => {
    const typos = join(__dirname, '../fixtures/cli/typo-spec.yaml');
    const run = await vic('plan', '-f', typos);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `${typos}:13: container_vm.web.vch_id: container_vm.web refers to \${virtual_container_host.demo.idd}, but virtual_container_host has no attribute "idd". Did you mean \${virtual_container_host.demo.id}?`,
    );
    expect(run.stderr).toContain(
      `${typos}:14: container_vm.web.image_id: container_vm.web refers to image.busybx, which the spec does not declare. Did you mean \${image.busybox.id}?`,
    );
    expect(run.stderr).toContain(
      `${typos}:16: unknown resource type "contianer_vm"; use one of virtual_container_host, image, volume, container_vm. Did you mean "container_vm"?`,
    );
  });

  it('GIVEN a fresh spec WHEN planned THEN four creates, exit 0 (2 with --detailed-exitcode), and --json agrees', async () => {
    const run = await vic('plan', '-f', specFile);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('  + container_vm.web');
    expect(run.stdout).toContain('password = (sensitive value)');
    expect(run.stdout).toContain('Plan: 4 to add, 0 to change, 0 to destroy.');
    expect(run.stdout).not.toMatch(/\u001b\[/);
    expect((await vic('plan', '-f', specFile, '--detailed-exitcode')).code).toBe(2);
    const json = await vic('plan', '-f', specFile, '--json');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { summary: object; changes: Array<{ address: string; action: string }> };
    expect(parsed.summary).toEqual({ add: 4, change: 0, destroy: 0 });
    expect(parsed.changes.map((c) => [c.address, c.action])).toEqual([
      ['virtual_container_host.demo', 'create'],
      ['image.app', 'create'],
      ['container_vm.web', 'create'],
      ['container_vm.worker', 'create'],
    ]);
  });

  it('GIVEN no terminal WHEN applying without --auto-approve THEN exit 2 and nothing changes', async () => {
    const run = await vic('apply', '-f', specFile);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('needs --auto-approve');
  });

  it('GIVEN the plan WHEN applied THEN everything is created, the state is 0600, and a second plan has no changes', async () => {
    const run = await vic('apply', '-f', specFile, '--auto-approve');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('virtual_container_host.demo: Creation complete after');
    expect(run.stdout).toMatch(/image\.app: pull /);
    expect(run.stdout).toMatch(/container_vm\.worker: Creation complete after [0-9.]+s \[id=[0-9a-f-]{36}\]/);
    expect(run.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    const statePath = join(dir, '.vic', 'state.json');
    expect((await stat(statePath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, '.vic'))).mode & 0o777).toBe(0o700);
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { resources: Record<string, unknown> };
    expect(Object.keys(state.resources).sort()).toEqual(['container_vm.web', 'container_vm.worker', 'image.app', 'virtual_container_host.demo']);
    const again = await vic('plan', '-f', specFile, '--detailed-exitcode');
    expect(again).toMatchObject({ code: 0, stdout: 'No changes. vSphere matches the spec.\n' });
  });

  it('GIVEN applied resources WHEN listed THEN ls shows them with power states, from the state and from vSphere', async () => {
    const fromState = await vic('ls', '-f', specFile);
    expect(fromState.code).toBe(0);
    expect(fromState.stdout).toMatch(/^CONTAINER VM +web-1 +vm-\d+ +poweredOn /m);
    expect(fromState.stdout).toMatch(/^VCH +vch-cli +resgroup-\d+ +ready /m);
    expect(fromState.stdout).toMatch(/^IMAGE +127\.0\.0\.1:\d+\/cli\/app:1 +sha256:[0-9a-f]{12} +stored /m);
    const all = await vic('ls', '--all', '--json');
    const rows = JSON.parse(all.stdout) as Array<{ kind: string; name: string; status: string }>;
    expect(rows.filter((r) => r.kind === 'container_vm').map((r) => [r.name, r.status])).toEqual([
      ['web-1', 'poweredOn'],
      ['worker-1', 'poweredOn'],
    ]);
    expect((await vic('ls')).code).toBe(2);
  });

  it('GIVEN a memory change and a command change WHEN planned THEN an in-place update with its power note and a replacement with its reason', async () => {
    await writeFile(specFile, spec(registry().host, { workerMemory: 256, webCommand: '/bin/true' }));
    const run = await vic('plan', '-f', specFile);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  ~ container_vm.worker');
    expect(run.stdout).toContain('      ~ memory_mb = 128 -> 256');
    expect(run.stdout).toMatch(/! .*power/);
    expect(run.stdout).toContain('  -/+ container_vm.web');
    expect(run.stdout).toContain('      ~ command = ["/hello"] -> ["/bin/true"] # forces replacement');
    expect(run.stdout).toContain('Plan: 1 to add, 1 to change, 1 to destroy.');
    const applied = await vic('apply', '-f', specFile, '--auto-approve');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete! Resources: 1 added, 1 changed, 1 destroyed.');
  });

  it('GIVEN a datastore vSphere does not have WHEN planned THEN exit 2 with the spec line of the attribute', async () => {
    await writeFile(specFile, spec(registry().host, { datastore: 'NoSuchDS' }));
    const run = await vic('plan', '-f', specFile);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`${specFile.replace(/[.]/g, '\\.')}:5: virtual_container_host\\.demo\\.datastore: .*NoSuchDS`));
    await writeFile(specFile, spec(registry().host, { workerMemory: 256, webCommand: '/bin/true' }));
  });

  it('GIVEN the applied spec WHEN destroyed THEN everything is gone from vSphere and the state is empty', async () => {
    const run = await vic('destroy', '-f', specFile, '--auto-approve');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Destroy plan: 0 to add, 0 to change, 4 to destroy.');
    expect(run.stdout).toContain('Destroy complete! Resources: 4 destroyed.');
    expect(run.stdout).not.toContain('Apply complete!');
    expect(run.stdout).toContain('container_vm.web: Destruction complete after');
    const all = await vic('ls', '--all', '--json');
    expect(JSON.parse(all.stdout)).toEqual([]);
    const state = JSON.parse(await readFile(join(dir, '.vic', 'state.json'), 'utf8')) as { resources: object };
    expect(state.resources).toEqual({});
  });

  /** Runs vic under script(1), which gives it a pseudo-terminal as a user's shell would; `typed` is what the user types. */
  const underTerminal = (args: string[], typed = ''): Promise<VicRun> =>
    new Promise<VicRun>((resolve, reject) => {
      const command = args.map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qec', `'${VIC}' ${command}`, '/dev/null'], { env: { ...env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => {
        printed.push(stdout);
        resolve({ code, stdout, stderr: '' });
      });
      // Typed once the prompt shows, as a user would. The end of input closes the terminal, which
      // hangs vic up: it comes later, so that what was typed (a Ctrl-C, on a loaded machine) is
      // handled first, and the terminal closes at once when vic ends.
      let sent = false;
      if (typed === '') child.stdin.end();
      else
        child.stdout.on('data', () => {
          if (sent || !stdout.includes("Only 'yes' will be accepted:") || !child.stdin.writable) return;
          sent = true;
          child.stdin.write(typed);
          const later = setTimeout(() => child.stdin.end(), 5000);
          child.once('close', () => clearTimeout(later));
        });
    });

  it('GIVEN a terminal WHEN applying THEN progress bars show resources and image bytes, and every result line survives the bars', async () => {
    const run = await underTerminal(['apply', '-f', specFile, '--auto-approve']);
    expect(run.code).toBe(0);
    const text = stripAnsi(run.stdout);
    expect(text).toMatch(/apply +\[[█░]+\] +\d+% \d\/4 resources/);
    expect(text).toMatch(/image\.app upload +\[[█░]+\] +100% /);
    for (const address of ['virtual_container_host.demo', 'image.app', 'container_vm.web', 'container_vm.worker'])
      expect(text).toContain(`${address}: Creation complete after`);
    expect(text).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    expect((await vic('destroy', '-f', specFile, '--auto-approve')).code).toBe(0);
  });

  it('GIVEN a terminal and --no-color WHEN apply asks and the answer is no THEN the prompt holds no escape sequence, and nothing is created', async () => {
    for (const flags of [['--no-color'], []]) {
      const run = await underTerminal(['apply', '-f', specFile, ...flags], 'no\r');
      expect({ flags, code: run.code }).toEqual({ flags, code: 1 });
      expect(run.stdout).toContain("Do you want to perform these actions?\r\n  Only 'yes' will be accepted: ");
      expect(run.stdout).toContain('Apply cancelled.');
      // Colour and readline's cursor moves are both escapes: none with --no-color, some without it.
      expect({ flags, escapes: run.stdout.includes('\u001b[') }).toEqual({ flags, escapes: flags.length === 0 });
    }
    // Ctrl-C at the plain prompt answers no too, without the interrupt notice of work in flight.
    const interrupted = await underTerminal(['apply', '-f', specFile, '--no-color'], '\u0003');
    expect(interrupted.stdout).toContain('Apply cancelled.');
    expect(interrupted.stdout).not.toContain('Interrupt:');
    expect(JSON.parse((await vic('ls', '--all', '--json')).stdout)).toEqual([]);
    expect((await vic('apply', '-f', specFile, '--auto-approve')).code).toBe(0);
    const kept = await underTerminal(['destroy', '-f', specFile, '--no-color'], 'no\r');
    expect(kept.stdout).toContain('Destroy cancelled.');
    expect(JSON.parse((await vic('ls', '--all', '--json')).stdout)).toHaveLength(4);
    expect((await vic('destroy', '-f', specFile, '--auto-approve')).code).toBe(0);
  });

  it('GIVEN an applied spec WHEN it is broken (a duplicate name, an invalid value, an unknown datastore) THEN vic plan refuses it AND vic destroy removes everything', async () => {
    expect((await vic('apply', '-f', specFile, '--auto-approve')).code).toBe(0);
    const broken = spec(registry().host, { workerMemory: 100, datastore: 'LocalDS_9' }).replace('name: worker-1', 'name: web-1');
    await writeFile(specFile, broken);
    try {
      const plan = await vic('plan', '-f', specFile);
      expect(plan.code).toBe(2);
      expect(plan.stderr).toContain('memory_mb = 100 is below the minimum');
      const run = await vic('destroy', '-f', specFile, '--auto-approve');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Destroy complete! Resources: 4 destroyed.');
      expect(JSON.parse((await vic('ls', '--all', '--json')).stdout)).toEqual([]);
    } finally {
      await writeFile(specFile, spec(registry().host));
    }
  });

  it("GIVEN a second spec in the same folder WHEN planned, applied or destroyed against the first one's state THEN refused and nothing changed; with a state of its own it works", async () => {
    expect((await vic('apply', '-f', specFile, '--auto-approve')).code).toBe(0);
    const other = join(dir, 'other.yaml');
    await writeFile(other, vchYaml('vch-cli-other', 'other'));
    for (const [command, ...flags] of [['plan'], ['apply', '--auto-approve'], ['destroy', '--auto-approve']]) {
      const run = await vic(command, '-f', other, ...flags);
      expect({ command, code: run.code }).toEqual({ command, code: 2 });
      expect(run.stderr).toContain(
        `belongs to the spec ${basename(specFile)} (${specFile}), which wrote it: container_vm.web, container_vm.worker, image.app, virtual_container_host.demo`,
      );
      expect(run.stderr).toContain(`so vic ${command} stopped before reading vSphere; nothing was changed`);
      expect(run.stderr).toContain(`--state ${join(dir, '.vic', 'other.state.json')}`);
    }
    // The first spec's stack is whole: its plan has nothing to do.
    expect((await vic('plan', '-f', specFile, '--detailed-exitcode')).code).toBe(0);
    const own = join(dir, '.vic', 'other.state.json');
    const applied = await vic('apply', '-f', other, '--state', own, '--auto-approve');
    expect(applied.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect((await vic('plan', '-f', specFile, '--detailed-exitcode')).code).toBe(0);
    expect((await vic('destroy', '-f', other, '--state', own, '--auto-approve')).stdout).toContain('Destroy complete! Resources: 1 destroyed.');
    expect((await vic('destroy', '-f', specFile, '--auto-approve')).stdout).toContain('Destroy complete! Resources: 4 destroyed.');
  });

  it('GIVEN everything vic printed in this file WHEN searched THEN neither password appears', () => {
    const all = printed.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(VSPHERE_PASSWORD);
    expect(all).not.toContain(REGISTRY_PASSWORD);
  });
});

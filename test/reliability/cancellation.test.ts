/**
 * Cancellation through the clients users drive: Ctrl-C to `terraform apply` (Terraform calls
 * StopProvider) and Ctrl-C to `vic apply` end the task waits in flight at once, although the
 * simulator holds every power-on for a minute. Nothing is lost: the next apply converges on one VM
 * per name (the half-made ones are adopted). Pulumi's dynamic-provider process is stopped with
 * SIGINT (its Cancel RPC never reaches a dynamic provider): that ends its waits and its session.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readState as readCliState } from '../../src/cli/state-file';
import { EMPTY_STATE, applyStack, connectEngine, planStack, type StackResource } from '../../src/engine';
import { retrieveFromContainer, retrieveObject } from '../../src/vsphere';
import { VIC, cleanEnv, runVic } from '../cli/run-vic';
import { settingsFor } from '../helpers/engine';
import { REPO, readState as readTfState, requireTerraform, workspace, type Workspace } from '../provider/terraform-cli';
import { useTerraformTestbed } from '../provider/testbed';
import { auditPool } from './inventory-audit';

const PASSWORD = 'Cancel-S3cret!';
const HELD_MS = 60_000;
// The provider process answers, logs out and exits well before Pulumi would SIGKILL it (5 s).
const INTERRUPT_EXIT_MS = 4000;

interface Interrupted {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From the SIGINT to the exit. */
  readonly exitAfterMs: number;
}

/** Runs a command, sends SIGINT once `ready()` holds (checked every 200 ms), and waits for the exit. */
function interruptWhen(
  command: string,
  args: string[],
  opts: { cwd?: string; env: NodeJS.ProcessEnv },
  ready: (stdout: string) => Promise<boolean>,
): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interruptedAt: number | undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const poll = setInterval(() => {
      if (interruptedAt !== undefined) return;
      ready(stdout).then(
        (yes) => {
          if (yes && interruptedAt === undefined) {
            interruptedAt = Date.now();
            child.kill('SIGINT');
          }
        },
        () => undefined,
      );
    }, 200);
    const guard = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearInterval(poll);
      clearTimeout(guard);
      if (interruptedAt === undefined) reject(new Error(`${command} ${args.join(' ')} ended (exit ${code}) before it was interrupted:\n${stdout}\n${stderr}`));
      else resolve({ code, stdout, stderr, exitAfterMs: Date.now() - interruptedAt });
    });
  });
}

describe('cancellation: Ctrl-C to terraform apply and to vic apply', () => {
  const bed = useTerraformTestbed({ username: 'cancel', password: PASSWORD, repository: 'test/cancel', program: 'app' });
  let ws: Workspace;

  /** True once the simulator has received a power-on since the last reset: the wait is in flight. */
  const powerOnStarted = async () => ((await bed.sim().control.stats()).calls.PowerOnVM_Task ?? 0) > 0;
  const vmsNamed = async (name: string) =>
    (
      await retrieveFromContainer<{ name: string }>(bed.outside(), {
        container: bed.outside().serviceContent.rootFolder,
        select: [{ type: 'VirtualMachine', paths: ['name'] }],
      })
    ).filter((r) => r.props.name === name).length;

  afterEach(async () => {
    await bed.sim().control.clearFaults();
  });

  it('GIVEN terraform apply waiting on a power-on held for a minute WHEN it gets Ctrl-C THEN StopProvider ends the wait within seconds, and the next apply adopts the VM', async () => {
    ws = workspace('mirror');
    cpSync(join(REPO, 'examples/terraform/main.tf'), join(ws.dir, 'main.tf'));
    await bed.terraform(ws, ['init']);
    await bed.sim().control.addFault({ method: 'PowerOnVM_Task', kind: 'async', delayMs: HELD_MS, times: -1 });
    await bed.sim().control.resetStats();
    const env = { ...process.env, ...bed.env(), TF_CLI_CONFIG_FILE: ws.cliConfig, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', NO_COLOR: '1' };
    const run = await interruptWhen(
      requireTerraform(),
      ['apply', '-auto-approve', '-no-color'],
      { cwd: ws.dir, env },
      async (out) => /vic_container_vm\.\w+: Creating\.\.\./.test(out) && (await powerOnStarted()),
    );
    // Terraform wraps diagnostics at 80 columns.
    const output = (run.stdout + run.stderr).replace(/\s+/g, ' ');
    expect(run.code).toBe(1);
    expect(output).toContain('Interrupt received');
    expect(output).toMatch(/stopped waiting for task task-\d+ \(PowerOnVM_Task on VirtualMachine:vm-\d+\): Terraform asked the provider to stop \(interrupt\)/);
    expect(run.exitAfterMs).toBeLessThan(15_000);
    expect(output).not.toContain(PASSWORD);

    // THEN, with the power-ons no longer held, the next apply converges on one VM per name
    await bed.sim().control.clearFaults();
    const again = await bed.terraform(ws, ['apply', '-auto-approve']);
    expect(again.stdout).toMatch(/Apply complete!/);
    expect(await vmsNamed('web-1')).toBe(1);
    expect(await vmsNamed('worker-1')).toBe(1);
    const plan = await bed.terraform(ws, ['plan', '-detailed-exitcode']);
    expect(plan.stdout).toContain('No changes.');
    expect(readTfState(ws.dir).resources.filter((r) => r.type === 'vic_container_vm')).toHaveLength(2);
    await bed.terraform(ws, ['destroy', '-auto-approve']);
  }, 300_000);

  it('GIVEN vic apply waiting on a power-on held for a minute WHEN it gets Ctrl-C THEN the wait ends at once, the state keeps what was done, and the next apply adopts the VM', async () => {
    const dir = bed.scratch();
    const specFile = join(dir, 'spec.yaml');
    await writeFile(
      specFile,
      `virtual_container_host:
  c:
    name: vch-ctrl-c
    compute: /DC0/host/DC0_C0
    datastore: LocalDS_0
    bridge_network: VM Network
image:
  app:
    vch_id: \${virtual_container_host.c.id}
    reference: ${bed.registry().host}/test/cancel:v1
    insecure_registry: true
container_vm:
  web:
    vch_id: \${virtual_container_host.c.id}
    image_id: \${image.app.id}
    name: ctrl-c-web
`,
    );
    const env = cleanEnv({
      VSPHERE_SERVER: bed.sim().url,
      VSPHERE_USER: bed.sim().username,
      VSPHERE_PASSWORD: PASSWORD,
      VSPHERE_THUMBPRINT: bed.sim().thumbprint,
    });
    await bed.sim().control.addFault({ method: 'PowerOnVM_Task', kind: 'async', delayMs: HELD_MS, times: -1 });
    await bed.sim().control.resetStats();
    const run = await interruptWhen(
      VIC,
      ['apply', '-f', specFile, '-y'],
      { env },
      async (out) => /container_vm\.web: Creating\.\.\./.test(out) && (await powerOnStarted()),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Interrupt: stopping the task waits in flight and saving the state');
    expect(run.stderr).toMatch(/container_vm\.web: stopped waiting for task task-\d+ \(PowerOnVM_Task on VirtualMachine:vm-\d+\): interrupted \(Ctrl-C\)/);
    expect(run.stderr).toContain(`The state in ${join(dir, '.vic', 'state.json')} holds what was done`);
    expect(run.exitAfterMs).toBeLessThan(10_000);
    const saved = readCliState(join(dir, '.vic', 'state.json'));
    expect(Object.keys(saved.resources).sort()).toEqual(['image.app', 'virtual_container_host.c']);
    expect(existsSync(join(dir, '.vic', 'state.json.lock'))).toBe(false);

    await bed.sim().control.clearFaults();
    const again = await runVic(['apply', '-f', specFile, '-y'], env, { timeoutMs: 120_000 });
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    const state = readCliState(join(dir, '.vic', 'state.json'));
    const audit = await auditPool(bed.outside(), String(state.resources['virtual_container_host.c'].attrs.id), state);
    expect(audit).toEqual({ vms: 1, duplicates: [], orphans: [], lost: [], stateEntries: 1 });
    expect((await runVic(['destroy', '-f', specFile, '-y'], env, { timeoutMs: 120_000 })).code).toBe(0);
  }, 300_000);

  it('GIVEN the Pulumi provider process waiting on a held power-on WHEN Pulumi stops it with SIGINT THEN the create fails at once saying so, the process logs out and exits', async () => {
    const host = join(REPO, 'pulumi-component/provider-host.ts');
    const config = { 'vic:vsphereServer': bed.sim().url, 'vic:user': bed.sim().username, 'vic:password': PASSWORD, 'vic:thumbprint': bed.sim().thumbprint };
    // The provider process's side, as Pulumi's dynamic-provider server drives it: configure, then create.
    const child = `
      const { providerHost } = require(${JSON.stringify(host)});
      const host = providerHost();
      const config = ${JSON.stringify(config)};
      host.configure((key) => config[key]);
      (async () => {
        const vch = await host.create('virtual_container_host', { name: 'vch-pulumi-stop', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridgeNetwork: 'VM Network' });
        const image = await host.create('image', { vchId: vch.id, reference: ${JSON.stringify(`${bed.registry().host}/test/cancel:v1`)}, insecureRegistry: true });
        console.log('WAITING');
        await host.create('container_vm', { vchId: vch.id, imageId: image.id, name: 'pulumi-web' }).then(
          () => console.log('CREATED'),
          (err) => console.log('FAILED ' + err.message.replace(/\\s+/g, ' ')),
        );
      })().catch((err) => console.log('SETUP FAILED ' + err.message));`;
    await bed.sim().control.addFault({ method: 'PowerOnVM_Task', kind: 'async', delayMs: HELD_MS, times: -1 });
    await bed.sim().control.resetStats();
    const sessions = async () =>
      ((await retrieveObject<{ sessionList?: unknown[] }>(bed.outside(), bed.outside().serviceContent.sessionManager, ['sessionList'])).sessionList ?? [])
        .length;
    let before = 0;
    const run = await interruptWhen(process.execPath, ['--import', 'tsx', '-e', child], { cwd: REPO, env: cleanEnv() }, async (out) => {
      if (!out.includes('WAITING') || !(await powerOnStarted())) return false;
      before = await sessions();
      return true;
    });
    expect(run.stdout).toMatch(
      /FAILED stopped waiting for task task-\d+ \(PowerOnVM_Task on VirtualMachine:vm-\d+\): Pulumi stopped the provider \(SIGINT\)\./,
    );
    expect(run.code).toBe(130);
    expect(run.exitAfterMs).toBeLessThan(INTERRUPT_EXIT_MS);
    expect(await sessions()).toBe(before - 1);
  }, 120_000);

  it('GIVEN a stack apply one resource at a time WHEN its signal aborts during a held power-on THEN the wait ends, nothing new starts, and the error lists what was left', async () => {
    const engine = await connectEngine(settingsFor(bed.sim()));
    try {
      const vm = (name: string): StackResource => ({
        type: 'container_vm',
        name,
        config: { vch_id: '${virtual_container_host.s.id}', image_id: '${image.app.id}', name: `stack-${name}` },
      });
      const resources: StackResource[] = [
        {
          type: 'virtual_container_host',
          name: 's',
          config: { name: 'vch-stack-stop', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' },
        },
        {
          type: 'image',
          name: 'app',
          config: { vch_id: '${virtual_container_host.s.id}', reference: `${bed.registry().host}/test/cancel:v1`, insecure_registry: true },
        },
        vm('a'),
        vm('b'),
        vm('c'),
      ];
      await bed.sim().control.addFault({ method: 'PowerOnVM_Task', kind: 'async', delayMs: HELD_MS, times: -1 });
      await bed.sim().control.resetStats();
      const abort = new AbortController();
      const poll = setInterval(() => void powerOnStarted().then((yes) => yes && abort.abort(new Error('interrupted (test)'))), 100);
      let state = EMPTY_STATE;
      const started = Date.now();
      const plan = await planStack(engine, resources, state);
      const err = await applyStack(engine, plan, resources, { concurrency: 1, signal: abort.signal, onState: (s) => void (state = s) }).catch(
        (e: unknown) => e as Error,
      );
      clearInterval(poll);
      expect(err).toBeInstanceOf(Error);
      const lines = (err as Error).message.split('\n');
      expect(lines[0]).toBe('apply failed; what was done is kept in the state:');
      expect(lines[1]).toMatch(/^container_vm\.a: stopped waiting for task task-\d+ \(PowerOnVM_Task on VirtualMachine:vm-\d+\): interrupted \(test\)/);
      expect(lines[2]).toBe('interrupted before 2 more change(s) started: container_vm.b, container_vm.c');
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(Object.keys(state.resources).sort()).toEqual(['image.app', 'virtual_container_host.s']);
      expect((await bed.sim().control.stats()).calls.CreateVM_Task).toBe(1);
    } finally {
      await engine.close();
    }
  }, 120_000);
});

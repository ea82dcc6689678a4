/**
 * `npm run demo`, twice in a row, as the README promises: the first run creates a VCH, an image
 * and three container VMs in the embedded simulator; the second reuses the simulator, the
 * registry and the state, and reports no changes. Its own XDG data dir, simulator and endpoint
 * ports and state file keep it apart from a demo the user may be running.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, runProcess, type VicRun } from './run-vic';

const ROOT = join(__dirname, '../..');

function demo(args: string[], env: NodeJS.ProcessEnv): Promise<VicRun> {
  return runProcess('bash', [join(ROOT, 'scripts/demo.sh'), ...args], env, { cwd: ROOT, timeoutMs: 600_000 });
}

describe('npm run demo', () => {
  let data: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), 'vic-demo-test-'));
    env = cleanEnv({ XDG_DATA_HOME: data, VIC_SIM_PORT: '0', VIC_ENDPOINT_PORT: '0', VIC_DEMO_STATE: join(data, 'state.json') });
  });

  afterAll(async () => {
    if (env) {
      const stopped = await demo(['stop'], env);
      if (stopped.code !== 0) console.warn(`demo stop failed: ${stopped.stderr}`);
    }
    if (data) await rm(data, { recursive: true, force: true });
  }, 30_000);

  it('GIVEN nothing running WHEN the demo runs twice THEN the first creates 5 resources, shows hello-1 output and exit code and web-1 over HTTP, and the second reports no changes', async () => {
    const first = await demo([], env);
    if (first.code !== 0) throw new Error(`the first demo run failed (${first.code}):\n${first.stdout}\n${first.stderr}`);
    expect(first.stdout).toContain('Plan: 5 to add, 0 to change, 0 to destroy.');
    expect(first.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    expect(first.stdout).toMatch(/^CONTAINER VM +web-1 +vm-\d+ +poweredOn /m);
    expect(first.stdout).toMatch(/^CONTAINER VM +worker-1 +vm-\d+ +poweredOn /m);
    // The simulator ran the run-once hello-1 in QEMU: its line came through vic logs, then its VM
    // powered off with the process's exit code.
    expect(first.stdout).toMatch(/==> The output of a run-once container \(vic logs hello-1\)\nhello from a container VM\n\n==>/);
    expect(first.stdout).toMatch(/^CONTAINER VM +hello-1 +vm-\d+ +poweredOff +exited \(0\) /m);
    expect(first.stdout).toMatch(/^CONTAINER VM +worker-1 +vm-\d+ +poweredOn +running /m);
    // web-1's httpd answered on the port the simulator published for it.
    expect(first.stdout).toMatch(/curl http:\/\/127\.0\.0\.1:\d+\/ \| head -n 1\n<h1>Hello from a vic-iac container VM<\/h1>\n/);
    expect(first.stdout).toContain('docs/terraform.md');
    expect(first.stdout).toContain('docs/pulumi.md');
    // The last step: the docker CLI against the VCH through vic endpoint, IaC-made containers listed.
    expect(first.stdout).toMatch(/endpoint started \(pid \d+\)/);
    expect(first.stdout).toMatch(/^docker ps -a\nNAMES +IMAGE +STATUS +PORTS +LABELS\n/m);
    // web-1's exposed port, where the simulator published it (published_ports).
    expect(first.stdout).toMatch(/^web-1 +127\.0\.0\.1:5000\/vic-demo\/busybox:latest +Up .* 127\.0\.0\.1:\d+->80\/tcp +tier=frontend$/m);
    // An IaC-made container shows the reference its image was pulled as, as for one docker made.
    expect(first.stdout).toMatch(/^worker-1 +127\.0\.0\.1:5000\/vic-demo\/busybox:latest +Up /m);
    expect(first.stdout).toMatch(/container "hello-1" is managed by infrastructure as code/);
    const simPid = /\(pid (\d+)\)/.exec(first.stdout)?.[1];

    const second = await demo([], env);
    if (second.code !== 0) throw new Error(`the second demo run failed (${second.code}):\n${second.stdout}\n${second.stderr}`);
    expect(second.stdout).toContain(`# vSphere simulator already running: `);
    expect(second.stdout).toContain(`(pid ${simPid})`);
    expect(second.stdout).toContain('registry already running on 127.0.0.1:5000');
    expect(second.stdout.match(/No changes\. vSphere matches the spec\./g)).toHaveLength(1);
    expect(second.stdout).not.toContain('Apply complete!');
    expect(second.stdout).toMatch(/^CONTAINER VM +web-1 +vm-\d+ +poweredOn /m);
    expect(second.stdout).toMatch(/endpoint already running \(pid \d+\)/);
    // The ended run-once container is left as it is, its output still there.
    expect(second.stdout).toMatch(/\(vic logs hello-1\)\nhello from a container VM\n\n==>/);
    expect(second.stdout).toMatch(/^CONTAINER VM +hello-1 +vm-\d+ +poweredOff +exited \(0\) /m);
  }, 300_000);
});

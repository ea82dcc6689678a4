/**
 * `npm run demo`, twice in a row, as the README promises: the first run creates a VCH, an image
 * and three container VMs in the embedded simulator; the second reuses the simulator, the
 * registry and the state, and reports no changes. Its own XDG data dir, simulator and endpoint
 * ports and state file keep it apart from a demo the user may be running.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIC, cleanEnv, runProcess, vchYaml, type VicRun } from './run-vic';

const ROOT = join(__dirname, '../..');

function demo(args: string[], env: NodeJS.ProcessEnv): Promise<VicRun> {
  return runProcess('bash', [join(ROOT, 'scripts/demo.sh'), ...args], env, { cwd: ROOT, timeoutMs: 600_000 });
}

/**
 * Applies a VCH `vch-other` with stopped container VMs and then a running web-1 that serves nothing
 * (`sleep`), in the demo's simulator; returns that web-1's MOID.
 */
async function otherWebOne(env: NodeJS.ProcessEnv, dir: string): Promise<string> {
  const image = `image:
  busybox:
    vch_id: \${virtual_container_host.demo.id}
    reference: 127.0.0.1:5000/vic-demo/busybox:latest
    insecure_registry: true
`;
  const vm = (key: string, name: string, extra: string) => `  ${key}:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.busybox.id}
    name: ${name}
    memory_mb: 128
${extra}`;
  const fillers = Array.from({ length: 14 }, (_, i) => vm(`f${i}`, `filler-${i}`, '    power_state: stopped\n')).join('');
  const spec = join(dir, 'other.yaml');
  const apply = async (containers: string) => {
    await writeFile(spec, `${vchYaml('vch-other')}${image}container_vm:\n${containers}`);
    const r = await runProcess(
      'bash',
      ['-c', `eval "$("${VIC}" sim start)" >/dev/null && "${VIC}" apply -f "${spec}" -y >/dev/null && "${VIC}" ls -f "${spec}" --json`],
      env,
      {
        timeoutMs: 120_000,
      },
    );
    if (r.code !== 0) throw new Error(`vic apply of ${spec} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout) as Array<{ kind: string; name: string; id: string }>;
  };
  await apply(fillers);
  const rows = await apply(`${fillers}${vm('web', 'web-1', '    command: [sleep, "3600"]\n')}`);
  const web = rows.find((r) => r.kind === 'container_vm' && r.name === 'web-1');
  if (!web) throw new Error(`no web-1 in vch-other: ${JSON.stringify(rows)}`);
  return web.id;
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

  it('GIVEN nothing running WHEN the demo runs twice, another VCH with a web-1 made in between, THEN the first creates 5 resources, shows hello-1 output and exit code and web-1 over HTTP, and the second reports no changes and reaches its own web-1; after vic destroy a third run serves the new VCH through the endpoint', async () => {
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
    const firstPort = /^web-1 +\S+ +Up .* 127\.0\.0\.1:(\d+)->80\/tcp/m.exec(first.stdout)?.[1];
    expect(first.stdout).toContain(`curl http://127.0.0.1:${firstPort}/ | head -n 1\n`);

    // Another VCH in the same simulator with a web-1 of its own that serves nothing (as after the
    // README's next step, examples/terraform), listed by the simulator before the demo's: the demo
    // must still reach its own web-1. Stopped fillers first, so that web-1's MOID sorts first.
    const other = await otherWebOne(env, data);
    const guests = await runProcess(
      'bash',
      ['-c', `eval "$("${VIC}" sim start)" >/dev/null && curl -fsSk "\${VSPHERE_SERVER%/sdk}/vcsim-control/guests"`],
      env,
    );
    const webs = (JSON.parse(guests.stdout) as { guests: Array<{ vm: string; name: string }> }).guests.filter((g) => g.name === 'web-1');
    expect(webs.map((g) => g.vm)[0]).toBe(other);

    const second = await demo([], env);
    if (second.code !== 0) throw new Error(`the second demo run failed (${second.code}):\n${second.stdout}\n${second.stderr}`);
    expect(second.stdout).toContain(`# vSphere simulator already running: `);
    expect(second.stdout).toContain(`(pid ${simPid})`);
    expect(second.stdout).toContain('registry already running on 127.0.0.1:5000');
    expect(second.stdout.match(/No changes\. vSphere matches the spec\./g)).toHaveLength(1);
    expect(second.stdout).not.toContain('Apply complete!');
    expect(second.stdout).toMatch(/^CONTAINER VM +web-1 +vm-\d+ +poweredOn /m);
    expect(second.stdout).toMatch(/endpoint already running \(pid \d+\)/);
    // The demo's own web-1 answered, on the port it had: not the other VCH's web-1.
    expect(second.stdout).toContain(`curl http://127.0.0.1:${firstPort}/ | head -n 1\n<h1>Hello from a vic-iac container VM</h1>\n`);
    // The ended run-once container is left as it is, its output still there.
    expect(second.stdout).toMatch(/\(vic logs hello-1\)\nhello from a container VM\n\n==>/);
    expect(second.stdout).toMatch(/^CONTAINER VM +hello-1 +vm-\d+ +poweredOff +exited \(0\) /m);

    // The README's next steps: vic destroy, then the demo again. The VCH comes back as a new pool,
    // and the endpoint, which looks its VCH up once at start, is started again for it.
    const destroyed = await runProcess(
      'bash',
      ['-c', `eval "$("${VIC}" sim start)" >/dev/null && "${VIC}" destroy -f examples/quickstart/spec.yaml --state "${join(data, 'state.json')}" -y`],
      env,
      { cwd: ROOT, timeoutMs: 120_000 },
    );
    expect([destroyed.code, destroyed.stderr]).toEqual([0, '']);
    const third = await demo([], env);
    if (third.code !== 0) throw new Error(`the third demo run failed (${third.code}):\n${third.stdout}\n${third.stderr}`);
    expect(third.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    expect(third.stdout).toMatch(/endpoint \(pid \d+\) served an earlier vch-quickstart \(resgroup-\d+\), not resgroup-\d+; restarting it\nendpoint started/);
    expect(third.stdout).toMatch(/^web-1 +127\.0\.0\.1:5000\/vic-demo\/busybox:latest +Up .* tier=frontend$/m);
    expect(third.stdout).toMatch(/container "hello-1" is managed by infrastructure as code/);

    // The simulator started again (another shell's `vic sim stop`, a reboot): a new password and
    // certificate, and a VCH made again that may well get the same pool MOID in a fresh inventory.
    // The endpoint, logged in with the old password, is started again rather than kept.
    const stopped = await runProcess(VIC, ['sim', 'stop'], env, { cwd: ROOT, timeoutMs: 60_000 });
    expect(stopped.code).toBe(0);
    const fourth = await demo([], env);
    if (fourth.code !== 0) throw new Error(`the fourth demo run failed (${fourth.code}):\n${fourth.stdout}\n${fourth.stderr}`);
    expect(fourth.stdout).toMatch(
      /endpoint \(pid \d+\) (logged in to a simulator that was started again since|served an earlier vch-quickstart .*); restarting it\nendpoint started/,
    );
    expect(fourth.stdout).toMatch(/^web-1 +127\.0\.0\.1:5000\/vic-demo\/busybox:latest +Up .* tier=frontend$/m);
  }, 780_000);
});

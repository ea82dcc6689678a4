/** VIC Group1 1-04 create: a container VM made powered off, with the same markers and identity as an IaC-made one. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerVmUuid } from '../../src/resources/container-vm.lifecycle';
import { vsphereEnv } from '../helpers/engine';
import { VIC, cleanEnv, runProcess, runVic } from '../cli/run-vic';
import { dockerCli, useDockerBed } from './docker-env';

describe('1-04 docker create', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-create' });

  test('GIVEN an image WHEN docker create runs THEN it prints the id, and the container VM is one like IaC makes (BIOS UUID from VCH and name)', async () => {
    const r = await bed().docker(['create', '--name', 'cr-1', bed().image, 'echo', 'hi']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const vm = (await bed().engine.inventory()).containerVms.find((v) => v.name === 'cr-1');
    expect(vm).toMatchObject({ id: containerVmUuid(String(bed().vch.id), 'cr-1'), power_state: 'stopped', status: 'created', command: ['echo', 'hi'] });
    expect((await bed().docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout).toBe('cr-1 Created\n');
    // One world: vic ls --all (and the data sources) see what docker made.
    const ls = await runVic(['ls', '--all'], cleanEnv(vsphereEnv(bed().sim)));
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^CONTAINER VM +cr-1 +vm-\d+ +poweredOff +created /m);
  });

  test('GIVEN three creates of one name sent at once WHEN they are answered THEN one makes the container and the others are refused as the name in use: one VM, one success', async () => {
    const body = { Image: bed().image, HostConfig: { NetworkMode: 'default' } };
    // The first VM made is marked done half a second late: the other two creates meet it unmarked.
    await bed().sim.control.addFault({ method: 'SetField', kind: 'delay', delayMs: 500 });
    const replies = await Promise.all([0, 1, 2].map(() => bed().call('POST', '/v1.45/containers/create?name=cr-same', body))).finally(() =>
      bed().sim.control.clearFaults(),
    );
    const made = replies.filter((r) => r.status === 201);
    expect(made).toHaveLength(1);
    const { Id } = JSON.parse(made[0].body) as { Id: string };
    const refused = replies.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, (JSON.parse(r.body) as { message: string }).message])).toEqual([
      [
        409,
        `Conflict. The container name "/cr-same" is already in use by container "${Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      ],
      [
        409,
        `Conflict. The container name "/cr-same" is already in use by container "${Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      ],
    ]);
    expect((await bed().engine.inventory()).containerVms.filter((v) => v.name === 'cr-same')).toHaveLength(1);
  });

  test("GIVEN a second endpoint in a process of its own (vic endpoint serve) whose create found the name free WHEN the first endpoint makes that name's VM before the second one's CreateVM reaches vSphere THEN the second waits for it and is refused as the name in use: one VM, one success", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vic-endpoint-second-'));
    const other = spawn(VIC, ['endpoint', 'serve', '--vch', 'vch-create', '--plain-http', '--listen', '127.0.0.1:0', '--dir', dir], {
      env: cleanEnv(vsphereEnv(bed().sim)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    other.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    other.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    try {
      for (let i = 0; i < 240 && !/Docker endpoint for VCH/.test(out); i++) await new Promise((r) => setTimeout(r, 250));
      const port = /Docker endpoint for VCH "vch-create" on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      expect(port).toBeDefined();
      // The second endpoint's CreateVM waits 6 s before the simulator handles it; the first endpoint,
      // asked meanwhile, finds the name free too, makes its VM and marks it done 9 s later. The
      // second CreateVM is then refused (the first one's .vmx exists) and finds that VM by its UUID.
      const [held] = await bed().sim.control.addFault({ method: 'CreateVM_Task', kind: 'delay', delayMs: 6000, times: 1 });
      const second = runProcess(dockerCli(), ['create', '--name', 'cr-two', bed().image], {
        PATH: process.env.PATH,
        HOME: dir,
        DOCKER_CONFIG: join(dir, 'docker-config'),
        DOCKER_HOST: `tcp://127.0.0.1:${port}`,
        NO_COLOR: '1',
      });
      for (let i = 0; i < 400 && !(await bed().sim.control.faults()).find((r) => r.id === held.id)?.hits; i++) await new Promise((r) => setTimeout(r, 50));
      await bed().sim.control.addFault({ method: 'SetField', kind: 'delay', delayMs: 9000, times: 1 });
      const first = await bed().docker(['create', '--name', 'cr-two', bed().image]);
      expect([first.code, first.stderr]).toEqual([0, '']);
      const id = first.stdout.trim();
      const uuid = containerVmUuid(String(bed().vch.id), 'cr-two');
      expect(await second).toMatchObject({
        code: 1,
        stderr: `Error response from daemon: Conflict. The container name "/cr-two" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.\n`,
      });
      expect((await bed().engine.inventory()).containerVms.filter((v) => v.name === 'cr-two').map((v) => v.id)).toEqual([uuid]);
    } finally {
      await bed().sim.control.clearFaults();
      other.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test('GIVEN an image that is nowhere WHEN docker create runs THEN it says so', async () => {
    const r = await bed().docker(['create', `${bed().registryHost}/vic-test/none:1`], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unable to find image|No such image|none/);
  });

  test('GIVEN a bind mount or a range of published ports THEN create is refused with what to do instead', async () => {
    const v = await bed().docker(['create', '-v', '/srv:/data', bed().image]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/-v \/srv:\/data: bind mounts are not supported by vic-iac: bind mounts need a host; use a named volume \(-v <name>:\/data\)/);
    const p = await bed().docker(['create', '-p', '8080-8081:80', bed().image]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/host port ranges are not supported for port bindings by vic-iac/);
  });

  test("GIVEN --init and -p WHEN docker create runs THEN both are taken: the tether is the init, the port is the container VM's ports", async () => {
    const r = await bed().docker(['create', '--init', '-p', '127.0.0.1:18081:80', '--name', 'cr-init', bed().image]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(await bed().dockerOk(['inspect', '--format', '{{json .HostConfig.PortBindings}}', 'cr-init']))).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18081' }],
    });
    expect((await bed().docker(['rm', 'cr-init'])).code).toBe(0);
  });
});

describe('network ls and inspect', () => {
  const bed = useDockerBed({ vchName: 'vch-net' });

  test("GIVEN a VCH WHEN docker network ls and inspect run THEN its bridge port group shows as docker's bridge network, its vSphere name finding it too", async () => {
    const ls = await bed().docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    // none, as dockerd lists it: what --network none (a container VM without a NIC) names.
    expect([ls.code, ls.stdout]).toEqual([0, 'bridge bridge local\nnone null local\n']);
    const noNic = await bed().docker(['network', 'inspect', '--format', '{{.Name}} {{.Driver}} {{len .Containers}}', 'none']);
    expect([noNic.code, noNic.stdout]).toEqual([0, 'none null 0\n']);
    const inspect = await bed().docker([
      'network',
      'inspect',
      '--format',
      '{{.Name}} {{index .Options "vic-iac.bridge"}} {{index .Options "vsphere.portgroup"}}',
      'VM Network',
    ]);
    expect([inspect.code, inspect.stdout]).toEqual([0, 'bridge true VM Network\n']);
    const none = await bed().docker(['network', 'inspect', 'nope']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/network nope not found/);
    // A port group is vSphere's to change: docker may not remove it.
    const rm = await bed().docker(['network', 'rm', 'VM Network']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/removing a port group is not supported by vic-iac: port groups are made and removed in vSphere/);
  });
});

/** docker run flags a container VM cannot carry out are refused by name, before anything is made; a plain run still works. */
import { useDockerBed } from './docker-env';

describe('docker run flags the endpoint does not carry out', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-opts' });

  test.each([
    [['--privileged'], '--privileged is not supported by vic-iac: a container VM runs its own kernel'],
    [['--cap-add', 'NET_ADMIN'], '--cap-add is not supported by vic-iac: a container VM runs its own kernel'],
    [['--dns', '8.8.8.8'], '--dns is not supported by vic-iac: a container VM takes its address and DNS from its vSphere port group'],
    [['--cpu-shares', '512'], '-c/--cpu-shares is not supported by vic-iac: a container VM has whole virtual CPUs'],
    [['--log-driver', 'syslog'], '--log-driver/--log-opt is not supported by vic-iac'],
    [['--log-driver', 'json-file', '--log-opt', 'max-size=10m'], '--log-driver/--log-opt is not supported by vic-iac'],
    [['--read-only'], '--read-only is not supported by vic-iac'],
    // A map of the user's keys: the CLI sends {"/t": ""}, whose values alone look like a flag not given.
    [['--tmpfs', '/t'], '--tmpfs is not supported by vic-iac: a container VM runs its own kernel'],
    [['--sysctl', 'net.ipv4.ip_forward=1'], '--sysctl is not supported by vic-iac'],
  ])('GIVEN docker run %j THEN it is refused naming the flag, and no container VM is made', async (flags, message) => {
    const r = await bed().docker(['run', '-d', '--name', 'opt-refused', ...flags, bed().image]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/; run without|instead|run without it/);
    const { containerVms } = await bed().engine.inventory();
    expect(containerVms.map((vm) => vm.name)).not.toContain('opt-refused');
  });

  test('GIVEN a plain docker run -d, and one with the flags that are carried out THEN both run', async () => {
    const plain = await bed().docker(['run', '-d', '--name', 'opt-plain', bed().image, 'sleep', '600']);
    expect([plain.code, plain.stderr]).toEqual([0, '']);
    const flagged = await bed().docker([
      'run',
      '-d',
      '--name',
      'opt-flags',
      '-e',
      'A=1',
      // Not set in the CLI's environment: the CLI sends the bare name, and the container does not get it.
      '-e',
      'VIC_TEST_NOT_ON_CLIENT',
      '-w',
      '/tmp',
      '-u',
      'root',
      '-h',
      'box',
      '-l',
      'k=v',
      '--restart',
      'on-failure:2',
      '-m',
      '256m',
      '--cpus',
      '2',
      '--entrypoint',
      'sleep',
      // What the container's output is kept as (inspect's LogConfig): asked for by name, no change.
      '--log-driver',
      'json-file',
      bed().image,
      '600',
    ]);
    expect([flagged.code, flagged.stderr]).toEqual([0, '']);
    const env = JSON.parse(await bed().dockerOk(['inspect', '--format', '{{json .Config.Env}}', 'opt-flags'])) as string[];
    expect(env).toContain('A=1');
    expect(env.filter((e) => e.startsWith('VIC_TEST_NOT_ON_CLIENT'))).toEqual([]);
    const ps = await bed().docker(['ps', '--format', '{{.Names}}', '--filter', 'name=opt-']);
    expect(ps.stdout.split('\n').filter(Boolean).sort()).toEqual(['opt-flags', 'opt-plain']);
  });

  test('GIVEN --restart unless-stopped (compose restart: unless-stopped) THEN the container VM has that policy (carried out as always, which a container VM that docker stops never undoes) and inspect shows it', async () => {
    const made = await bed().docker(['create', '--name', 'opt-unless', '--restart', 'unless-stopped', bed().image]);
    expect([made.code, made.stderr]).toEqual([0, '']);
    expect(await bed().dockerOk(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', 'opt-unless'])).toBe('unless-stopped');
    const vm = await bed().engine.forCommand().findIn('container_vm', String(bed().vch.id), { name: 'opt-unless' });
    expect(vm?.restart).toBe('unless-stopped');
  });

  test("GIVEN --entrypoint '' THEN the image's entrypoint is cleared, as with dockerd; without a command it is refused for having nothing to run", async () => {
    const cleared = await bed().docker(['create', '--name', 'opt-noentry', '--entrypoint', '', bed().image, 'sleep', '600']);
    expect([cleared.code, cleared.stderr]).toEqual([0, '']);
    const inspect = await bed().docker(['inspect', '--format', '{{json .Config.Entrypoint}} {{json .Config.Cmd}}', 'opt-noentry']);
    expect(inspect.stdout.trim()).toMatch(/^(null|\[\]) \["sleep","600"\]$/);
    const nothing = await bed().docker(['create', '--name', 'opt-nothing', '--entrypoint', '', bed().image]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('clears the image entrypoint and command is empty, so the container has nothing to run');
  });
});

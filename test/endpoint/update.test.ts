/**
 * docker update against the endpoint, through the docker CLI: `--restart` changes a container VM's
 * restart policy in place (same VM, same id; a running one follows it from its next start, and the
 * CLI shows that warning), `-m` and `--cpus` change a stopped one's hardware and are refused on a
 * running one, saying how; flags a container VM does not carry out are refused by name. No guest
 * boots here: the simulator powers VMs on without running them.
 */
import { useDockerBed } from './docker-env';

describe('docker update', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-update' });
  const hostConfig = (name: string) =>
    bed().dockerOk([
      'inspect',
      '-f',
      '{{.Id}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}',
      name,
    ]);

  test('GIVEN a stopped container WHEN docker update sets --restart, --cpus and -m THEN the same container has them, and its VM too', async () => {
    const id = await bed().dockerOk(['create', '--name', 'upd-stopped', bed().image, 'sleep', '600']);
    // Made without --cpus or -m: no limit shown (0), as dockerd shows it.
    expect(await hostConfig('upd-stopped')).toBe(`${id} no:0 0 0`);
    expect(await bed().dockerOk(['update', '--restart', 'on-failure:3', '--cpus', '2', '-m', '256m', 'upd-stopped'])).toBe('upd-stopped');
    expect(await hostConfig('upd-stopped')).toBe(`${id} on-failure:3 2000000000 268435456`);
    const vm = await bed().engine.findIn('container_vm', String(bed().vch.id), { name: 'upd-stopped' });
    expect(vm).toMatchObject({ cpus: 2, memory_mb: 256, restart: 'on-failure', max_restarts: 3 });
    // Back to no policy.
    await bed().dockerOk(['update', '--restart', 'no', 'upd-stopped']);
    expect(await hostConfig('upd-stopped')).toBe(`${id} no:0 2000000000 268435456`);
    await bed().dockerOk(['rm', 'upd-stopped']);
  });

  test('GIVEN a running container WHEN docker update --restart THEN it keeps running, with the policy and a warning that it applies from its next start; --cpus is refused, saying to stop it first', async () => {
    await bed().dockerOk(['run', '-d', '--name', 'upd-running', bed().image, 'sleep', '600']);
    const r = await bed().docker(['update', '--restart', 'always', 'upd-running']);
    // The CLI prints the name, then the daemon's warnings.
    expect([r.code, r.stdout.split('\n')[0]]).toEqual([0, 'upd-running']);
    expect(r.stdout).toContain('container upd-running runs: its guest follows the new restart policy from its next start');
    expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}', 'upd-running'])).toBe('running always');

    const cpus = await bed().docker(['update', '--cpus', '2', 'upd-running']);
    expect(cpus.code).toBe(1);
    expect(cpus.stderr).toContain("docker update upd-running: a container VM's CPUs and memory change while it is powered off");
    expect(cpus.stderr).toContain('docker stop upd-running, docker update, then docker start upd-running');
    expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.HostConfig.NanoCpus}}', 'upd-running'])).toBe('running 0');
    await bed().dockerOk(['rm', '-f', 'upd-running']);
  });

  test('GIVEN a flag a container VM does not carry out, or a container that is not there THEN docker update is refused naming it, and nothing changes', async () => {
    await bed().dockerOk(['create', '--name', 'upd-refused', bed().image, 'sleep', '600']);
    const shares = await bed().docker(['update', '--cpu-shares', '512', 'upd-refused']);
    expect([shares.code, shares.stderr]).toEqual([1, expect.stringContaining('-c/--cpu-shares is not supported by vic-iac')]);
    const half = await bed().docker(['update', '--cpus', '0.5', 'upd-refused']);
    expect([half.code, half.stderr]).toEqual([1, expect.stringContaining('--cpus 0.5: a container VM has whole virtual CPUs')]);
    expect(await bed().dockerOk(['inspect', '-f', '{{.HostConfig.CpuShares}} {{.HostConfig.NanoCpus}}', 'upd-refused'])).toBe('0 0');
    const missing = await bed().docker(['update', '--restart', 'always', 'nosuch']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('No such container: nosuch')]);
    await bed().dockerOk(['rm', 'upd-refused']);
  });
});

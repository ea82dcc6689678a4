/**
 * VIC Group1 1-18 network rm: removing one network, two in one command (by name and by id), a
 * network a running container is on (VIC connected the container with `network connect`; here it is
 * put on the network by `docker run --network`, which docs/endpoint.md documents, and `network rm`
 * is refused until the container is gone), and a network made and removed many times over. The
 * VCH's port groups are vSphere's, not docker's: `network rm` of one is refused (documented). Only
 * the case of the running container boots a guest.
 */
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

describe('1-18 docker network rm', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 1 } }, pull: true, vchName: 'vch-netrm' });

  const networkNames = async (): Promise<string[]> => (await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean);

  test('GIVEN test-network WHEN docker network rm test-network runs THEN it prints the name, and network ls and inspect no longer find it', async () => {
    await bed().dockerOk(['network', 'create', 'test-network']);
    expect(await networkNames()).toContain('test-network');
    const r = await bed().docker(['network', 'rm', 'test-network']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'test-network\n', '']);
    const listing = await bed().dockerOk(['network', 'ls']);
    expect(listing).not.toContain('test-network');
    const inspected = await bed().docker(['network', 'inspect', 'test-network']);
    expect(inspected.code).toBe(1);
    expect(inspected.stderr).toContain('network test-network not found');
    // Removed already: dockerd's words.
    const again = await bed().docker(['network', 'rm', 'test-network']);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('Error response from daemon: network test-network not found')]);
  });

  test('GIVEN two networks WHEN one docker network rm names the first by name and the second by its id THEN both go', async () => {
    await bed().dockerOk(['network', 'create', 'test-network2']);
    const id3 = await bed().dockerOk(['network', 'create', 'test-network3']);
    const r = await bed().docker(['network', 'rm', 'test-network2', id3]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['test-network2', id3]);
    const names = await networkNames();
    expect(names).not.toContain('test-network2');
    expect(names).not.toContain('test-network3');
  });

  test.each(['bridge', 'VM Network', 'none'])(
    'GIVEN %s, a network that docker network create did not make WHEN docker network rm names it THEN it exits 1 saying port groups are removed in vSphere, and it stays',
    async (name) => {
      const before = await bed().dockerOk(['network', 'ls', '--no-trunc']);
      const r = await bed().docker(['network', 'rm', name]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        'Error response from daemon: removing a port group is not supported by vic-iac: port groups are made and removed in vSphere; docker network rm removes the docker networks (docker network create)',
      );
      expect(await bed().dockerOk(['network', 'ls', '--no-trunc'])).toBe(before);
    },
  );

  test('GIVEN a running container on test-network WHEN docker network rm runs THEN it exits 1 saying the network has active endpoints, naming the container; once the container is stopped and removed, rm works', async () => {
    const id = await bed().dockerOk(['network', 'create', 'test-network']);
    const container = await bed().dockerOk(['run', '-d', '--name', 'net-user', '--network', 'test-network', bed().image, 'sleep', '600']);
    await waitUntilProcessRuns(bed(), 'net-user');

    const refused = await bed().docker(['network', 'rm', 'test-network']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    // dockerd: "error while removing network: network test-network id <id> has active endpoints".
    expect(refused.stderr).toContain(`Error response from daemon: error while removing network: network test-network id ${id} has active endpoints`);
    expect(refused.stderr).toContain('net-user');
    expect(await networkNames()).toContain('test-network');
    expect(await bed().dockerOk(['network', 'inspect', '--format', '{{range $id, $c := .Containers}}{{$id}} {{$c.Name}}{{end}}', 'test-network'])).toBe(
      `${container} net-user`,
    );

    expect(await bed().dockerOk(['stop', '-t', '1', 'net-user'])).toBe('net-user');
    expect(await bed().dockerOk(['rm', 'net-user'])).toBe('net-user');
    const r = await bed().docker(['network', 'rm', 'test-network']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'test-network\n', '']);
    expect(await bed().dockerOk(['network', 'ls'])).not.toContain('test-network');
  }, 240_000);

  test('GIVEN the networks as they are WHEN foo is created and removed 29 times THEN network ls shows exactly what it showed before', async () => {
    const before = await bed().dockerOk(['network', 'ls', '--no-trunc']);
    for (let round = 1; round <= 29; round++) {
      const made = await bed().docker(['network', 'create', 'foo']);
      expect({ round, code: made.code, stderr: made.stderr }).toEqual({ round, code: 0, stderr: '' });
      const removed = await bed().docker(['network', 'rm', 'foo']);
      expect({ round, code: removed.code, stdout: removed.stdout, stderr: removed.stderr }).toEqual({ round, code: 0, stdout: 'foo\n', stderr: '' });
    }
    expect(await bed().dockerOk(['network', 'ls', '--no-trunc'])).toBe(before);
  }, 120_000);
});

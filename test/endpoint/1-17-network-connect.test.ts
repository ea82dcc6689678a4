/**
 * VIC Group1 1-17 network connect, and containers on several docker networks: `docker network
 * connect` and `disconnect` of a docker network (a name over the VCH's bridge port group) change
 * which networks a container is on, running or not, and so whom it finds by name; a create on
 * several networks (`--network a --network b`, compose's `networks:`) is on all of them. A port
 * group is a network card, made with the VM: connecting a container to one it is not on is refused,
 * saying how to recreate it. VIC's own case ran `ip -4 addr show eth0` to count two addresses, which
 * its own IPAM gave per bridge network; here a docker network shares the bridge NIC's DHCP address,
 * so inspect and the names are checked instead.
 */
import { eventually, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 300_000;

describe('1-17 docker network connect', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-connect' });
  const networksOf = (name: string) => bed().dockerOk(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}};{{end}}', name]);
  const containersOn = (network: string) => bed().dockerOk(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}};{{end}}', network]);

  test('GIVEN a created container WHEN it is connected to a new network, again, and disconnected THEN inspect, ps and network inspect follow, and a second connect or disconnect is refused', async () => {
    await bed().dockerOk(['network', 'create', 'test-network']);
    const id = await bed().dockerOk(['create', bed().image, 'ip', '-4', 'addr', 'show', 'eth0']);
    // docker's default network, under the name dockerd gives it, which HostConfig.NetworkMode names.
    expect(await networksOf(id)).toBe('bridge;');
    expect(await bed().dockerOk(['inspect', '-f', '{{.HostConfig.NetworkMode}} {{.NetworkSettings.Networks.bridge.NetworkID}}', id])).toBe(
      `bridge ${await bed().dockerOk(['network', 'inspect', '-f', '{{.Id}}', 'VM Network'])}`,
    );
    // The bridge port group's own name finds it too.
    expect(await bed().dockerOk(['network', 'inspect', '-f', '{{.Id}}', 'VM Network'])).toBe(
      await bed().dockerOk(['network', 'inspect', '-f', '{{.Id}}', 'bridge']),
    );
    expect(await bed().dockerOk(['ps', '-aq', '--no-trunc', '--filter', 'network=VM Network'])).toContain(id);
    expect(await bed().dockerOk(['ps', '-aq', '--no-trunc', '--filter', 'network=bridge'])).toContain(id);

    expect(await bed().dockerOk(['network', 'connect', 'test-network', id])).toBe('');
    expect(await networksOf(id)).toBe('test-network;');
    expect(await containersOn('test-network')).toBe(`${await bed().dockerOk(['inspect', '-f', '{{slice .Name 1}}', id])};`);
    expect(await bed().dockerOk(['ps', '-aq', '--no-trunc', '--filter', 'network=test-network'])).toBe(id);
    const again = await bed().docker(['network', 'connect', 'test-network', id]);
    expect([again.code, again.stderr]).toEqual([
      1,
      expect.stringMatching(/^Error response from daemon: endpoint with name \S+ already exists in network test-network\n$/),
    ]);

    // A second docker network: on both.
    await bed().dockerOk(['network', 'create', 'second-network']);
    await bed().dockerOk(['network', 'connect', '--alias', 'extra-name', 'second-network', id]);
    expect(await networksOf(id)).toBe('second-network;test-network;');
    expect(await bed().dockerOk(['inspect', '-f', '{{index .Config.Labels "vic-iac.docker.aliases"}}', id])).toBe('["extra-name"]');

    await bed().dockerOk(['network', 'disconnect', 'test-network', id]);
    expect(await networksOf(id)).toBe('second-network;');
    expect(await containersOn('test-network')).toBe('');
    const twice = await bed().docker(['network', 'disconnect', 'test-network', id]);
    expect([twice.code, twice.stderr]).toEqual([
      1,
      expect.stringMatching(/^Error response from daemon: container \S+ is not connected to network test-network\n$/),
    ]);
    // rm waits for no container now; nor, as with dockerd, for one that does not run (it has no active endpoint).
    expect(await bed().dockerOk(['network', 'rm', 'test-network'])).toBe('test-network');
    expect(await bed().dockerOk(['network', 'rm', 'second-network'])).toBe('second-network');
    await bed().dockerOk(['rm', id]);
  });

  test('GIVEN a created container WHEN it is disconnected from bridge THEN it is on no network, its start is refused until it is connected to one, and its NetworkMode stays as created', async () => {
    await bed().dockerOk(['network', 'create', 'after-bridge']);
    await bed().dockerOk(['create', '--name', 'off-bridge', bed().image, 'true']);
    expect(await bed().dockerOk(['network', 'disconnect', 'bridge', 'off-bridge'])).toBe('');
    expect(await networksOf('off-bridge')).toBe('');
    const twice = await bed().docker(['network', 'disconnect', 'bridge', 'off-bridge']);
    expect([twice.code, twice.stderr]).toEqual([1, 'Error response from daemon: container off-bridge is not connected to network bridge\n']);
    const start = await bed().docker(['start', 'off-bridge']);
    expect([start.code, start.stderr]).toEqual([
      1,
      expect.stringContaining(
        'container off-bridge is on no network since it was disconnected from bridge (port group VM Network), and its VM keeps its network card on that port group: connect it to a network before it starts',
      ),
    ]);
    // The Terraform docker provider's networks_advanced: off bridge, then onto its networks, over the NIC it kept.
    expect(await bed().dockerOk(['network', 'connect', 'after-bridge', 'off-bridge'])).toBe('');
    expect(await networksOf('off-bridge')).toBe('after-bridge;');
    expect(await bed().dockerOk(['network', 'disconnect', 'after-bridge', 'off-bridge'])).toBe('');
    expect(await networksOf('off-bridge')).toBe('bridge;');
    await bed().dockerOk(['network', 'disconnect', 'bridge', 'off-bridge']);
    expect(await bed().dockerOk(['network', 'connect', 'bridge', 'off-bridge'])).toBe('');
    expect(await networksOf('off-bridge')).toBe('bridge;');
    expect(await bed().dockerOk(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'off-bridge'])).toBe('bridge');
    await bed().dockerOk(['rm', 'off-bridge']);
    await bed().dockerOk(['network', 'rm', 'after-bridge']);
  });

  test('GIVEN a container or a network that is not there THEN connect says which, as dockerd', async () => {
    await bed().dockerOk(['network', 'create', 'connect-errors']);
    const noContainer = await bed().docker(['network', 'connect', 'connect-errors', 'fakeContainer']);
    expect([noContainer.code, noContainer.stderr]).toEqual([1, expect.stringContaining('No such container: fakeContainer')]);
    await bed().dockerOk(['create', '--name', 'connectTest3', bed().image, 'ifconfig']);
    const noNetwork = await bed().docker(['network', 'connect', 'fakeNetwork', 'connectTest3']);
    expect([noNetwork.code, noNetwork.stderr]).toEqual([1, 'Error response from daemon: network fakeNetwork not found\n']);
    await bed().dockerOk(['rm', 'connectTest3']);
    await bed().dockerOk(['network', 'rm', 'connect-errors']);
  });

  test('GIVEN a container without a card on the bridge port group WHEN it is connected to a network THEN it is refused, saying to recreate it, and nothing changes', async () => {
    await bed().dockerOk(['network', 'create', 'needs-a-card']);
    await bed().dockerOk(['create', '--name', 'no-card', '--network', 'none', bed().image]);
    for (const network of ['needs-a-card', 'VM Network']) {
      const r = await bed().docker(['network', 'connect', network, 'no-card']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`docker network connect ${network} no-card: that adds a network card on port group VM Network to container VM no-card`);
      expect(r.stderr).toContain(`recreate the container with the networks it needs (docker run --network ${network}`);
    }
    expect(await bed().dockerOk(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'no-card'])).toBe('none');
    await bed().dockerOk(['rm', 'no-card']);
    await bed().dockerOk(['network', 'rm', 'needs-a-card']);
  });

  test('GIVEN docker create with two --network flags THEN the container is on both, on one NIC, and ps finds it by either', async () => {
    await bed().dockerOk(['network', 'create', 'front']);
    await bed().dockerOk(['network', 'create', 'back']);
    await bed().dockerOk(['create', '--name', 'two-nets', '--network', 'front', '--network', 'back', bed().image]);
    expect(await networksOf('two-nets')).toBe('back;front;');
    expect(await bed().dockerOk(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'two-nets'])).toBe('front');
    for (const network of ['front', 'back'])
      expect(await bed().dockerOk(['ps', '-a', '--filter', `network=${network}`, '--format', '{{.Names}}'])).toBe('two-nets');
    // The CLI refuses none with another network itself; an API client is refused by the endpoint.
    const withNone = await bed().call('POST', '/containers/create?name=none-and-front', {
      Image: bed().image,
      HostConfig: { NetworkMode: 'none' },
      NetworkingConfig: { EndpointsConfig: { none: {}, front: {} } },
    });
    expect([withNone.status, JSON.parse(withNone.body).message]).toEqual([
      400,
      expect.stringContaining('--network none cannot be combined with other networks (front)'),
    ]);
    await bed().dockerOk(['rm', 'two-nets']);
    await bed().dockerOk(['network', 'rm', 'front', 'back']);
  });

  test(
    'GIVEN a running container on a docker network and a second port group WHEN inspect and network inspect run THEN each NIC shows the address, prefix length, gateway and MAC address its guest has; none once it stops',
    async () => {
      await bed().dockerOk(['network', 'create', 'nic-net']);
      // What the guest itself has, NIC by NIC: its MAC address and its address with the prefix, then its routes.
      const script = 'for n in eth0 eth1; do cat /sys/class/net/$n/address; busybox ip -o -4 addr show $n; done; busybox ip route; echo listed; sleep 600';
      await bed().dockerOk(['run', '-d', '--name', 'nics', '--network', 'nic-net', '--network', 'DC0_DVPG0', bed().image, 'sh', '-c', script]);
      let said = '';
      await eventually(bed(), 'the guest lists its NICs', async () => (said = (await bed().docker(['logs', 'nics'])).stdout).includes('listed'), BOOT_MS);
      const guest = (nic: string) => {
        const mac = new RegExp(`^([0-9a-f:]{17})\\n\\d+: ${nic}\\s+inet (\\d+\\.\\d+\\.\\d+\\.\\d+)/(\\d+)`, 'm').exec(said);
        expect(mac).not.toBeNull();
        return { mac: mac![1], ip: mac![2], prefix: Number(mac![3]) };
      };
      const [eth0, eth1] = [guest('eth0'), guest('eth1')];
      // The runner's networks: 10.0.2.0/24 for the first port group, 10.0.3.0/24 for the next, each with its gateway at .2.
      expect([eth0.ip, eth0.prefix, eth1.ip, eth1.prefix]).toEqual([expect.stringMatching(/^10\.0\.2\./), 24, expect.stringMatching(/^10\.0\.3\./), 24]);
      expect(said).toContain('default via 10.0.2.2 dev eth0');
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document read field by field
      const settings = JSON.parse(await bed().dockerOk(['inspect', '-f', '{{json .NetworkSettings}}', 'nics'])) as Record<string, any>;
      expect(settings.Networks['nic-net']).toMatchObject({ IPAddress: eth0.ip, IPPrefixLen: 24, Gateway: '10.0.2.2', MacAddress: eth0.mac });
      expect(settings.Networks.DC0_DVPG0).toMatchObject({ IPAddress: eth1.ip, IPPrefixLen: 24, Gateway: '10.0.3.2', MacAddress: eth1.mac });
      // dockerd's deprecated top-level fields: the first network's.
      expect(settings).toMatchObject({ IPAddress: eth0.ip, IPPrefixLen: 24, Gateway: '10.0.2.2', MacAddress: eth0.mac });
      const listed = (network: string) =>
        bed().dockerOk(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}}={{.IPv4Address}}={{.MacAddress}};{{end}}', network]);
      expect(await listed('nic-net')).toBe(`nics=${eth0.ip}/24=${eth0.mac};`);
      expect(await listed('DC0_DVPG0')).toBe(`nics=${eth1.ip}/24=${eth1.mac};`);

      await bed().dockerOk(['stop', '-t', '1', 'nics']);
      expect(
        await bed().dockerOk([
          'inspect',
          '-f',
          '{{range .NetworkSettings.Networks}}[{{.IPAddress}}|{{.IPPrefixLen}}|{{.Gateway}}|{{.MacAddress}}]{{end}}',
          'nics',
        ]),
      ).toBe('[|0||][|0||]');
      await bed().dockerOk(['rm', 'nics']);
      await bed().dockerOk(['network', 'rm', 'nic-net']);
    },
    BOOT_MS,
  );

  test(
    'GIVEN a server on a docker network and a running client on another WHEN the client is connected to the server network THEN it reaches the server by name, and no longer once disconnected',
    async () => {
      await bed().dockerOk(['network', 'create', 'server-net']);
      await bed().dockerOk(['network', 'create', 'client-net']);
      await bed().dockerOk(['run', '-d', '--name', 'web', '--network', 'server-net', bed().image, 'httpd', '-f', '-p', '8080', '-h', '/etc']);
      await bed().dockerOk(['run', '-d', '--name', 'visitor', '--network', 'client-net', bed().image, 'sleep', '600']);
      await waitUntilProcessRuns(bed(), 'web');
      await waitUntilProcessRuns(bed(), 'visitor');
      const hostsOf = async (): Promise<string> => (await bed().docker(['exec', 'visitor', 'cat', '/etc/hosts'], { timeoutMs: 60_000 })).stdout;
      // On another docker network, the server has no name for the client.
      expect(await hostsOf()).not.toContain('web');

      // network inspect lists each container with its address, as dockerd does.
      expect(await bed().dockerOk(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}}={{.IPv4Address}};{{end}}', 'server-net'])).toMatch(
        /^web=10\.0\.2\.\d+\/24;$/,
      );
      await bed().dockerOk(['network', 'connect', 'server-net', 'visitor']);
      await eventually(bed(), 'the client knows the server', async () => /\tweb\n/.test(await hostsOf()), 60_000);
      const r = await bed().docker(['exec', 'visitor', 'wget', '-q', '-O', '-', 'http://web:8080/hostname'], { timeoutMs: 60_000 });
      // web's /etc/hostname: its host name, dockerd's default (its short id).
      expect([r.code, r.stdout]).toEqual([0, `${(await bed().dockerOk(['inspect', '-f', '{{.Id}}', 'web'])).slice(0, 12)}\n`]);

      await bed().dockerOk(['network', 'disconnect', 'server-net', 'visitor']);
      await eventually(bed(), 'the client forgets the server', async () => !(await hostsOf()).includes('web'), 60_000);
      await bed().dockerOk(['rm', '-f', 'visitor', 'web']);
      await bed().dockerOk(['network', 'rm', 'server-net', 'client-net']);
    },
    2 * BOOT_MS,
  );
});

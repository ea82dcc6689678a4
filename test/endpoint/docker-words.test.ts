/**
 * What the endpoint answers docker users, in docker's words: --no-healthcheck taken, the network
 * modes a container VM has not refused saying what to use, pull and update refusals without IaC
 * attribute names, refusals that suggest commands that work, the keys of inspect that templates
 * read, and docker info's insecure registries.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOciLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { busyboxImage, useDockerBed } from './docker-env';

describe('docker answers in docker words', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-words' });
  const other = useRegistry();

  test('GIVEN docker run --no-healthcheck THEN it runs without a check; a health check that is not CMD or CMD-SHELL is refused naming the flag', async () => {
    const r = await bed().docker(['run', '-d', '--name', 'dw-nohc', '--no-healthcheck', bed().image, 'sleep', '600']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const refused = await bed().call('POST', '/containers/create?name=dw-hc', { Image: bed().image, Healthcheck: { Test: ['RUN', 'true'] } });
    expect([refused.status, JSON.parse(refused.body).message]).toEqual([
      400,
      expect.stringContaining('--health-cmd: the health check\'s test ["RUN","true"] is not one of'),
    ]);
    const { containerVms } = await bed().engine.inventory();
    expect(containerVms.map((vm) => vm.name)).not.toContain('dw-hc');
  });

  test('GIVEN --network host, container:X, an uplink port group or an unknown one THEN each is refused saying what a container VM takes, without IaC words', async () => {
    for (const mode of ['host', 'container:dw-nohc']) {
      const r = await bed().docker(['run', '-d', '--name', 'dw-net', '--network', mode, bed().image]);
      expect({ mode, code: r.code }).toEqual({ mode, code: 125 });
      expect(r.stderr).toContain(
        `--network ${mode} is not supported by vic-iac: each container is its own VM with its own network card on a vSphere port group`,
      );
      expect(r.stderr).toContain('use --network <port group> (docker network ls lists them), --network none, or publish ports with -p');
    }
    const uplink = await bed().docker(['run', '-d', '--name', 'dw-net', '--network', 'DVS0-DVUplinks-8', bed().image]);
    expect(uplink.code).toBe(125);
    expect(uplink.stderr).toContain('--network DVS0-DVUplinks-8: that is the uplink port group of a distributed switch');
    const unknown = await bed().docker(['run', '-d', '--name', 'dw-net', '--network', 'nope', bed().image]);
    expect(unknown.code).toBe(125);
    expect(unknown.stderr).toContain('network "nope" not found in datacenter "DC0" (known: ');
    expect(unknown.stderr).toContain('Use --network with the name of a port group');
    expect(unknown.stderr).not.toContain('Check networks');
    expect(unknown.stderr).not.toMatch(/DVUplinks/);
    const { containerVms } = await bed().engine.inventory();
    expect(containerVms.map((vm) => vm.name)).not.toContain('dw-net');
  });

  test('GIVEN an image with no linux/amd64 build, or --platform linux/s390x THEN docker pull says so in docker words; docker update names no IaC attribute', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vic-words-layout-'));
    try {
      const spec = busyboxImage();
      const layout = await writeOciLayout(dir, 'v1', [
        { ...spec, platform: { os: 'linux', architecture: 'arm64' } },
        { ...spec, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      ]);
      await other().push(layout.dir, layout.tag, 'vic-test/armonly:1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    bed().insecureRegistries.push(other().host);
    const arm = await bed().docker(['pull', `${other().host}/vic-test/armonly:1`], { timeoutMs: 120_000 });
    expect(arm.code).toBe(1);
    expect(arm.stderr).toContain('this image has no linux/amd64 build, which a container VM needs (it offers: linux/arm64, linux/arm/v7)');
    expect(arm.stderr).not.toContain('"platform"');
    const s390 = await bed().docker(['pull', '--platform', 'linux/s390x', bed().image], { timeoutMs: 120_000 });
    expect(s390.code).toBe(1);
    expect(s390.stderr).toContain(
      '--platform linux/s390x: a container VM boots an x86-64 Linux kernel, so it runs linux/amd64 images only; pull without --platform',
    );
    expect(s390.stderr).not.toContain('attribute');
    expect(await bed().dockerOk(['create', '--name', 'dw-upd', bed().image])).toMatch(/^[0-9a-f]{64}$/);
    const update = await bed().docker(['update', '-m', '100m', 'dw-upd']);
    expect(update.code).toBe(1);
    expect(update.stderr).toContain('-m/--memory');
    expect(update.stderr).not.toMatch(/memory_mb|IaC spec/);
  });

  test('GIVEN refused commands THEN they suggest commands that work; docker network rm of no network is a 404', async () => {
    // A listing of what docker made: a created container here, not the IaC one.
    expect(await bed().dockerOk(['create', '--name', 'dw-made', bed().image])).toMatch(/^[0-9a-f]{64}$/);
    const image = (await bed().engine.listIn('image', String(bed().vch.id)))[0];
    await bed().engine.apply(
      await bed().engine.plan('container_vm', null, { vch_id: bed().vch.id, image_id: image.id, name: 'dw-iac', power_state: 'stopped' }),
    );
    const made = await bed().dockerOk(['ps', '-a', '--filter', 'status=created', '--filter', 'label=vic-iac.docker.origin=docker', '--format', '{{.Names}}']);
    expect(made.split('\n')).toContain('dw-made');
    expect(made.split('\n')).not.toContain('dw-iac');
    expect(await bed().dockerOk(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}'])).toContain('dw-iac');
    const paused = await bed().docker(['pause', 'dw-made']);
    expect(paused.code).toBe(1);
    expect(paused.stderr).toContain('docker pause and unpause is not supported by vic-iac: stop and start the container');
    const rmNet = await bed().docker(['network', 'rm', 'foo']);
    expect(rmNet.code).toBe(1);
    expect(rmNet.stderr).toContain('network foo not found');
    expect(rmNet.stderr).not.toContain('removing a port group');
    const bridge = await bed().docker(['network', 'rm', 'VM Network']);
    expect(bridge.code).toBe(1);
    expect(bridge.stderr).toContain('removing a port group is not supported by vic-iac');
  });

  test("GIVEN a container WHEN docker inspect -f reads the keys dockerd always has THEN each is there; no -m shows Memory 0 as dockerd's no limit", async () => {
    const keys = [
      '{{.LogPath}}',
      '{{.ResolvConfPath}}',
      '{{.HostsPath}}',
      '{{.HostnamePath}}',
      '{{.GraphDriver.Name}}',
      '{{json .ExecIDs}}',
      '{{json .HostConfig.Dns}}',
      '{{json .HostConfig.DnsOptions}}',
      '{{json .HostConfig.DnsSearch}}',
      '{{json .HostConfig.ExtraHosts}}',
      '{{json .HostConfig.CapAdd}}',
      '{{json .HostConfig.CapDrop}}',
      '{{.HostConfig.Privileged}}',
      '{{.HostConfig.ReadonlyRootfs}}',
      '{{.HostConfig.Memory}}',
    ].join('|');
    expect(await bed().dockerOk(['create', '--name', 'dw-keys', bed().image])).toMatch(/^[0-9a-f]{64}$/);
    const r = await bed().docker(['inspect', '-f', keys, 'dw-keys']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const [logPath, ...rest] = r.stdout.trim().split('|');
    expect(logPath).toMatch(/^\[LocalDS_0\] .*\/console\.log$/);
    expect(rest).toEqual(['', '', '', 'vsphere', 'null', '[]', '[]', '[]', 'null', 'null', 'null', 'false', 'false', '0']);
    expect(await bed().dockerOk(['create', '--name', 'dw-mem', '-m', '256m', bed().image])).toMatch(/^[0-9a-f]{64}$/);
    expect(await bed().dockerOk(['inspect', '-f', '{{.HostConfig.Memory}}', 'dw-mem'])).toBe(String(256 * 1024 * 1024));
  });

  test("GIVEN no -h THEN inspect's Config.Hostname is the first 12 hex digits of the id, as dockerd's; -h is kept as given", async () => {
    const id = await bed().dockerOk(['create', '--name', 'dw_under', bed().image]);
    await bed().dockerOk(['create', '--name', 'dw-h', '-h', 'box', bed().image]);
    expect(await bed().dockerOk(['inspect', '-f', '{{.Config.Hostname}}', 'dw_under', 'dw-h'])).toBe(`${id.slice(0, 12)}\nbox`);
  });

  test('GIVEN the endpoint serves with --insecure-registry THEN docker info lists it under Insecure Registries', async () => {
    const info = await bed().dockerOk(['info']);
    // Listed in order, among the others a test here added: the registries' ports are random.
    expect(info).toMatch(new RegExp(`Insecure Registries:\\n(?: +\\S+\\n)* +${bed().registryHost.replace(/[.]/g, '\\.')}\\n`));
  });

  test("GIVEN an image that declares VOLUME and STOPSIGNAL THEN image inspect shows them, a create that does not mount the path gets an anonymous volume there, and the stop signal is the container's default", async () => {
    const base = busyboxImage();
    const image = await bed().pushImage({ ...base, config: { ...base.config, Volumes: { '/var/lib/db': {} }, StopSignal: 'SIGQUIT' } }, 'vic-test/db:1');
    expect((await bed().docker(['pull', image], { timeoutMs: 180_000 })).code).toBe(0);
    expect(await bed().dockerOk(['image', 'inspect', '-f', '{{json .Config.Volumes}} {{.Config.StopSignal}}', image])).toBe('{"/var/lib/db":{}} SIGQUIT');
    // Before: the database's files went with docker rm. Now they are on a volume of their own, as with dockerd.
    const bare = await bed().docker(['create', '--name', 'dw-db', image]);
    expect([bare.code, bare.stderr]).toEqual([0, '']);
    expect(await bed().dockerOk(['inspect', '-f', '{{range .Mounts}}{{.Destination}} {{.Name}}{{end}}', 'dw-db'])).toMatch(/^\/var\/lib\/db [0-9a-f]{64}$/);
    expect(await bed().dockerOk(['inspect', '-f', '{{.Config.StopSignal}}', 'dw-db'])).toBe('SIGQUIT');
    const mounted = await bed().docker(['create', '--name', 'dw-db2', '-v', 'dw-db-data:/var/lib/db', image]);
    expect([mounted.code, mounted.stderr]).toEqual([0, '']);
  });
});

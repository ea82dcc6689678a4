/**
 * VIC Group1 1-03 images, 1-10 ps and 1-16 network ls with filters, through the docker CLI: each
 * filter narrows the listing as dockerd's does, and one vic-iac does not serve is refused by name.
 * A filter ignored would print the whole listing, a wrong answer that looks right.
 */
import type { Attrs } from '../../src/resources';
import { useDockerBed } from './docker-env';

describe('docker images, ps, network ls and volume ls filters', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-filters' });
  const lines = (text: string) => text.split('\n').filter((l) => l !== '');

  test('GIVEN the pulled image WHEN docker images filters THEN dangling, reference, label, before and a repository narrow it', async () => {
    const repository = bed().image.replace(/:[^:/]+$/, '');
    expect(await bed().dockerOk(['images', '-q', '--filter', 'dangling=true'])).toBe('');
    expect(lines(await bed().dockerOk(['images', '-q', '--filter', 'dangling=false']))).toHaveLength(1);
    expect(await bed().dockerOk(['images', '--format', '{{.Repository}}', '--filter', 'reference=127.0.0.1*/vic-test/*'])).toBe(repository);
    expect(await bed().dockerOk(['images', '-q', '--filter', 'reference=busybox'])).toBe('');
    expect(await bed().dockerOk(['images', '--format', '{{.Tag}}', repository])).toBe('1');
    expect(await bed().dockerOk(['images', '-q', 'no-such-repository'])).toBe('');
    expect(lines(await bed().dockerOk(['images', '-q', '--filter', 'label=org.example.image=busybox']))).toHaveLength(1);
    expect(await bed().dockerOk(['images', '-q', '--filter', 'label=org.example.image=other'])).toBe('');
    // One image: none is older or newer than it.
    expect(await bed().dockerOk(['images', '-q', '--filter', `before=${bed().image}`])).toBe('');
    expect(await bed().dockerOk(['images', '-q', '--filter', `since=${bed().image}`])).toBe('');
    const unknown = await bed().docker(['images', '--filter', 'color=blue']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      1,
      "Error response from daemon: invalid filter 'color': vic-iac filters images by dangling, reference, label, before, since, until",
    ]);
  });

  test('GIVEN containers with and without a volume WHEN docker ps filters by volume, network, before, since, is-task THEN each narrows it', async () => {
    await bed().dockerOk(['create', '--name', 'flt-a', '-v', 'fvol:/dir', bed().image]);
    await bed().dockerOk(['create', '--name', 'flt-b', bed().image]);
    const ps = async (...filters: string[]) =>
      lines(await bed().dockerOk(['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])])).sort();
    expect(await ps('volume=fvol')).toEqual(['flt-a']);
    expect(await ps('volume=/dir')).toEqual(['flt-a']);
    expect(await ps('volume=fvo')).toEqual([]);
    expect(await ps('network=VM Network')).toEqual(['flt-a', 'flt-b']);
    expect(await ps('network=other-net')).toEqual([]);
    expect(await ps('volume=fvol', 'network=other-net')).toEqual([]);
    // "bridge" is the VCH's bridge network, as --network bridge names it.
    expect(await ps('network=bridge')).toEqual(['flt-a', 'flt-b']);
    // As dockerd, ancestor= takes any name or id of the image: a short id, another tag, a name
    // without a tag (:latest); an image the store lacks matches nothing.
    const id = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', bed().image]);
    await bed().dockerOk(['tag', bed().image, 'flt/busybox']);
    await bed().dockerOk(['tag', bed().image, 'flt/other:v2']);
    for (const ancestor of [bed().image, id, id.slice(7, 19), 'flt/busybox', 'flt/busybox:latest', 'flt/other:v2']) {
      expect([ancestor, await ps(`ancestor=${ancestor}`)]).toEqual([ancestor, ['flt-a', 'flt-b']]);
    }
    expect(await ps('ancestor=flt/other')).toEqual([]);
    for (const name of ['flt/busybox', 'flt/other:v2']) await bed().dockerOk(['rmi', name]);
    expect(await ps('before=flt-b')).toEqual(['flt-a']);
    expect(await ps('since=flt-a')).toEqual(['flt-b']);
    expect(await ps('is-task=false')).toEqual(['flt-a', 'flt-b']);
    expect(await ps('is-task=true')).toEqual([]);
    // As dockerd: -n and -l count stopped containers, without -a.
    expect(await bed().dockerOk(['ps', '-l', '--format', '{{.Names}}'])).toBe('flt-b');
    expect(lines(await bed().dockerOk(['ps', '-n', '2', '--format', '{{.Names}}']))).toEqual(['flt-b', 'flt-a']);
    const missing = await bed().docker(['ps', '-a', '--filter', 'before=no-such']);
    expect([missing.code, missing.stderr.trim()]).toEqual([1, 'Error response from daemon: No such container: no-such (in --filter before=no-such)']);
    expect(lines(await bed().dockerOk(['volume', 'ls', '-q', '--filter', 'driver=local']))).toEqual(['fvol']);
  });

  test('GIVEN the VCH bridge network WHEN docker network ls filters and inspect bridge THEN they answer as dockerd does', async () => {
    const names = async (filter: string) => bed().dockerOk(['network', 'ls', '--format', '{{.Name}}', '--filter', filter]);
    // The bridge port group is docker's bridge network; its own name finds it too.
    expect(await names('name=VM')).toBe('bridge');
    expect(await names('name=bridge')).toBe('bridge');
    expect(await names('name=fakeName')).toBe('');
    // The bridge network has the bridge driver, as dockerd's and VIC's.
    expect(await names('driver=bridge')).toBe('bridge');
    expect(await names('driver=vsphere-portgroup')).toBe('');
    // As dockerd: bridge and none are its predefined networks.
    expect(await names('type=custom')).toBe('');
    expect(lines(await names('type=builtin'))).toEqual(['bridge', 'none']);
    // A predefined network is never dangling, as with dockerd.
    expect(lines(await names('dangling=true'))).toEqual([]);
    // Ids are hex, as dockerd's: -q prints one word per network (a port group's name may have a space),
    // and inspect, the id filter and a container's NetworkID take it, or a prefix of it.
    const id = await bed().dockerOk(['network', 'ls', '-q', '--filter', 'name=VM']);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(await bed().dockerOk(['network', 'inspect', '--format', '{{.Name}}', id])).toBe('bridge');
    const full = await bed().dockerOk(['network', 'inspect', '--format', '{{.Id}}', 'VM Network']);
    expect(full).toMatch(new RegExp(`^${id}[0-9a-f]{52}$`));
    expect(await names(`id=${id}`)).toBe('bridge');
    expect(await bed().dockerOk(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.NetworkID}}{{end}}', 'flt-a'])).toBe(full);
    // No --network means the bridge network, which is the VCH's port group.
    expect(await bed().dockerOk(['network', 'inspect', '--format', '{{.Name}} {{index .Options "vsphere.portgroup"}}', 'bridge'])).toBe('bridge VM Network');
    const unknown = await bed().docker(['network', 'ls', '--filter', 'color=blue']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      1,
      "Error response from daemon: invalid filter 'color': vic-iac filters networks by name, id, driver, scope, type, label, dangling",
    ]);
  });

  test('GIVEN the pulled image WHEN run for another platform, pulled with --all-tags or removed with -f while used THEN each is refused saying why and what to do', async () => {
    const other = await bed().docker(['run', '--rm', '--name', 'plat-arm', '--platform', 'linux/arm64', bed().image, 'true']);
    expect(other.code).toBe(125);
    expect(other.stderr).toContain(
      `--platform linux/arm64: image ${bed().image} in the VCH's store is linux/amd64, not linux/arm64, and a container runs its image's own platform; run without --platform, or with --platform linux/amd64`,
    );
    const { containerVms } = await bed().engine.inventory();
    expect(containerVms.map((vm) => vm.name)).not.toContain('plat-arm');
    expect(await bed().dockerOk(['create', '--platform', 'linux/amd64', bed().image])).toMatch(/^[0-9a-f]{64}$/);

    const repository = bed().image.replace(/:[^:/]+$/, '');
    const all = await bed().docker(['pull', '--all-tags', repository]);
    expect([all.code, all.stderr.trim()]).toEqual([
      1,
      `Error response from daemon: docker pull --all-tags (${repository}) is not supported by vic-iac: pull each tag by name: docker pull ${repository}:<tag>`,
    ]);

    const forced = await bed().docker(['rmi', '-f', bed().image]);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(
      /unable to delete [0-9a-f]{12} \(cannot be forced: the disks of its containers are children of its disk\) - image is being used by container/,
    );
  });

  test('GIVEN a container VM that IaC made on the bridge port group THEN docker shows it on bridge, as dockerd keys its default network, and the bridge network lists it', async () => {
    const { engine, vch } = bed();
    const [image] = await engine.listIn('image', String(vch.id));
    const plan = await engine.plan('container_vm', null, {
      vch_id: vch.id,
      image_id: image?.id,
      name: 'iac-on-bridge',
      networks: ['VM Network'],
      power_state: 'stopped',
    });
    expect(plan.problems).toEqual([]);
    const vm = (await engine.apply(plan)) as Attrs;
    const bridgeId = await bed().dockerOk(['network', 'inspect', '-f', '{{.Id}}', 'bridge']);
    expect(
      await bed().dockerOk([
        'inspect',
        '-f',
        '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.NetworkID}}{{end}} {{.HostConfig.NetworkMode}}',
        'iac-on-bridge',
      ]),
    ).toBe(`bridge=${bridgeId} bridge`);
    expect(await bed().dockerOk(['inspect', '-f', '{{.NetworkSettings.Networks.bridge.NetworkID}}', 'iac-on-bridge'])).toBe(bridgeId);
    expect(await bed().dockerOk(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'bridge'])).toContain('iac-on-bridge');
    expect(lines(await bed().dockerOk(['ps', '-a', '--filter', 'network=bridge', '--format', '{{.Names}} {{.Networks}}']))).toContain('iac-on-bridge bridge');
    const destroy = await engine.plan('container_vm', vm, null);
    await engine.apply(destroy);
  });
});

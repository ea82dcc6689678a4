/**
 * Clients other than the docker CLI: requests shaped as docker-py 7 and docker compose send them
 * (versioned paths, the fields they send by default, filters as JSON), over mutual TLS with the
 * client bundle. The bodies are those the clients send: docker-py's were captured from
 * `containers.create(...)`, compose's follow its create call (labels, one mount per volume, the
 * aliases it gives every container). What a client sends by default must never be refused; what
 * a user asks for that a container VM cannot do still is, by name.
 */
import { useDockerBed } from './docker-env';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON documents read field by field
type Doc = Record<string, any>;

describe('docker-py and compose requests against the endpoint', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-sdk' });

  async function create(name: string, body: Doc): Promise<{ status: number; doc: Doc }> {
    const r = await bed().call('POST', `/v1.41/containers/create?name=${encodeURIComponent(name)}`, body);
    return { status: r.status, doc: JSON.parse(r.body) as Doc };
  }

  async function inspect(id: string): Promise<Doc> {
    const r = await bed().call('GET', `/v1.41/containers/${id}/json`);
    expect(r.status).toBe(200);
    return JSON.parse(r.body) as Doc;
  }

  async function list(path: string, filters: unknown): Promise<Doc[]> {
    const r = await bed().call('GET', `${path}${path.includes('?') ? '&' : '?'}filters=${encodeURIComponent(JSON.stringify(filters))}`);
    expect([r.status, path]).toEqual([200, path]);
    const parsed = JSON.parse(r.body) as Doc[] | { Volumes: Doc[] };
    return Array.isArray(parsed) ? parsed : parsed.Volumes;
  }

  /** docker-py 7's body for containers.create(image, ['sh'], name=…, labels=…, environment=…, volumes={'pyvol': {'bind': '/data', 'mode': 'rw'}}). */
  const dockerPyBody = (image: string): Doc => ({
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Env: ['A=1'],
    Cmd: ['sh', '-c', 'echo hi'],
    Image: image,
    Volumes: { '/data': {} },
    NetworkDisabled: false,
    HostConfig: { NetworkMode: 'default', Binds: ['pyvol:/data:rw'] },
    Labels: { app: 'py' },
  });

  /** A compose service `web` of project `proj` with a volume `data` on the external network bridge, as compose creates its container. */
  const composeBody = (image: string, aliases: string[]): Doc => ({
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    ExposedPorts: {},
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: ['A=1'],
    Cmd: null,
    Image: image,
    Volumes: { '/data': {} },
    WorkingDir: '',
    Entrypoint: null,
    NetworkDisabled: false,
    MacAddress: '',
    Labels: {
      'com.docker.compose.project': 'proj',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.version': '2.29.7',
    },
    StopSignal: '',
    HostConfig: {
      Binds: null,
      ContainerIDFile: '',
      LogConfig: { Type: '', Config: null },
      NetworkMode: 'bridge',
      PortBindings: {},
      RestartPolicy: { Name: '', MaximumRetryCount: 0 },
      AutoRemove: false,
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      CapAdd: null,
      CapDrop: null,
      CgroupnsMode: '',
      Dns: null,
      DnsOptions: null,
      DnsSearch: null,
      ExtraHosts: [],
      GroupAdd: null,
      IpcMode: '',
      Cgroup: '',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: false,
      SecurityOpt: null,
      Tmpfs: {},
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 0,
      Sysctls: {},
      Runtime: '',
      Isolation: '',
      CpuShares: 0,
      Memory: 0,
      NanoCpus: 0,
      CgroupParent: '',
      BlkioWeight: 0,
      BlkioWeightDevice: null,
      Devices: null,
      DeviceRequests: null,
      MemoryReservation: 0,
      MemorySwap: 0,
      MemorySwappiness: null,
      OomKillDisable: false,
      PidsLimit: null,
      Ulimits: null,
      Mounts: [{ Type: 'volume', Source: 'proj_data', Target: '/data', VolumeOptions: {} }],
      Init: null,
    },
    NetworkingConfig: {
      EndpointsConfig: {
        bridge: {
          IPAMConfig: null,
          Links: null,
          Aliases: aliases,
          MacAddress: '',
          DriverOpts: null,
          NetworkID: '',
          EndpointID: '',
          Gateway: '',
          IPAddress: '',
        },
      },
    },
  });

  test('GIVEN docker-py create with a named volume (Binds, and its target in Config.Volumes) THEN 201, and inspect has the fields SDKs read', async () => {
    const { status, doc } = await create('py-1', dockerPyBody(bed().image));
    expect([status, doc.message]).toEqual([201, undefined]);
    const c = await inspect(doc.Id as string);
    expect(c.State).toMatchObject({ Status: 'created', Running: false, ExitCode: 0 });
    expect(c.Config).toMatchObject({ Image: bed().image, Env: ['A=1', 'PATH=/bin'], Cmd: ['sh', '-c', 'echo hi'] });
    expect(c.Config.Labels).toMatchObject({ app: 'py' });
    expect(c.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: 'pyvol', Destination: '/data', RW: true })]);
    // No NetworkMode: docker's default network, keyed as dockerd keys it.
    expect(Object.keys(c.NetworkSettings.Networks)).toEqual(['bridge']);
    // docker-py's containers.run reads the output only when this says json-file (or journald).
    expect(c.HostConfig.LogConfig.Type).toBe('json-file');
  });

  test('GIVEN docker-py create with mounts=[Mount(target, source)] THEN the named volume is mounted, an unnamed one is made; a bind or tmpfs mount is refused by name', async () => {
    const body = (mount: Doc): Doc => ({ ...dockerPyBody(bed().image), Volumes: undefined, HostConfig: { NetworkMode: 'default', Mounts: [mount] } });
    const made = await create('py-mount', body({ Target: '/m', Source: 'py-mv', Type: 'volume', ReadOnly: true }));
    expect([made.status, made.doc.message]).toEqual([201, undefined]);
    expect((await inspect(made.doc.Id as string)).Mounts).toEqual([expect.objectContaining({ Name: 'py-mv', Destination: '/m', RW: false })]);
    const refused: Array<[Doc, RegExp]> = [
      [
        { Target: '/m', Source: '/tmp', Type: 'bind' },
        /--mount type=bind,source=\/tmp,target=\/m: bind mounts are not supported by vic-iac: .*use a named volume/,
      ],
      [{ Target: '/m', Type: 'tmpfs' }, /--mount type=tmpfs,target=\/m: mounts of type tmpfs are not supported by vic-iac; mount a named volume/],
    ];
    for (const [mount, message] of refused) {
      const r = await create('py-mount-refused', body(mount));
      expect([r.status, r.doc.message]).toEqual([400, expect.stringMatching(message)]);
    }
    const { containerVms } = await bed().engine.inventory();
    expect(containerVms.map((vm) => vm.name)).not.toContain('py-mount-refused');
    // No source: an anonymous volume, as dockerd makes one.
    const anonymous = await create('py-mount-anon', body({ Target: '/m', Type: 'volume' }));
    expect([anonymous.status, anonymous.doc.message]).toEqual([201, undefined]);
    expect((await inspect(anonymous.doc.Id as string)).Mounts).toEqual([
      expect.objectContaining({ Name: expect.stringMatching(/^[0-9a-f]{64}$/), Destination: '/m', RW: true }),
    ]);
    // docker-py's remove_container(v=True): the anonymous volume goes with it.
    expect((await bed().call('DELETE', `/v1.41/containers/${String(anonymous.doc.Id)}?v=1`)).status).toBe(204);
    const volumes = JSON.parse((await bed().call('GET', '/v1.41/volumes')).body) as { Volumes: Array<{ Name: string }> };
    expect(volumes.Volumes.map((v) => v.Name).filter((n) => /^[0-9a-f]{64}$/.test(n))).toEqual([]);
  });

  test('GIVEN compose create with its labels, a volume mount and the aliases it always sends THEN 201; an alias the user added is kept, its own names are not', async () => {
    const made = await create('proj-web-1', composeBody(bed().image, ['proj-web-1', 'web']));
    expect([made.status, made.doc.message]).toEqual([201, undefined]);
    const c = await inspect(made.doc.Id as string);
    expect(c.Mounts).toEqual([expect.objectContaining({ Name: 'proj_data', Destination: '/data' })]);
    expect(c.Config.Labels).toMatchObject({ 'com.docker.compose.service': 'web' });

    // Compose's own aliases (the name, the service) are not kept: they name the container already.
    expect(c.Config.Labels['vic-iac.docker.aliases']).toBeUndefined();
    // An alias the user added (compose aliases:, --network-alias) names it to its peers (docs/endpoint.md, Container names).
    const aliased = await create('proj-web-2', composeBody(bed().image, ['proj-web-2', 'web', 'db-primary']));
    expect([aliased.status, aliased.doc.message]).toEqual([201, undefined]);
    expect((await inspect(aliased.doc.Id as string)).Config.Labels['vic-iac.docker.aliases']).toBe('["db-primary"]');
    // A recreate (a changed config): compose creates <old id, 12 hex>_<name> with <name> as its alias, then renames it.
    const recreated = await create(`${String(made.doc.Id).slice(0, 12)}_proj-web-1`, composeBody(bed().image, ['proj-web-1', 'web']));
    expect([recreated.status, recreated.doc.message]).toEqual([201, undefined]);
    expect((await inspect(recreated.doc.Id as string)).Config.Labels['vic-iac.docker.aliases']).toBeUndefined();
    for (const id of [recreated.doc.Id, aliased.doc.Id]) expect((await bed().call('DELETE', `/v1.41/containers/${String(id)}`)).status).toBe(204);
  });

  test('GIVEN docker compose run in a terminal (a one-off asking for a TTY and stdin) THEN it is made with both; a plain create with Tty is made with a terminal', async () => {
    const oneOff = composeBody(bed().image, ['proj-web-run-0123456789ab', 'web']);
    oneOff.Labels['com.docker.compose.oneoff'] = 'True';
    const tty = await create('proj-web-run-0123456789ab', { ...oneOff, Tty: true, OpenStdin: true, AttachStdin: true, StdinOnce: true });
    expect([tty.status, tty.doc.message]).toEqual([201, undefined]);
    const oneOffDoc = await bed().call('GET', '/v1.41/containers/proj-web-run-0123456789ab/json');
    expect((JSON.parse(oneOffDoc.body) as { Config: object }).Config).toMatchObject({ Tty: true, OpenStdin: true, StdinOnce: true });
    expect((await bed().call('DELETE', '/v1.41/containers/proj-web-run-0123456789ab')).status).toBe(204);
    const plain = await create('py-tty', { ...dockerPyBody(bed().image), Tty: true });
    expect(plain.status).toBe(201);
    const inspected = await bed().call('GET', '/v1.41/containers/py-tty/json');
    expect((JSON.parse(inspected.body) as { Config: { Tty: boolean; OpenStdin: boolean } }).Config).toMatchObject({ Tty: true, OpenStdin: false });
    expect((await bed().call('DELETE', '/v1.41/containers/py-tty')).status).toBe(204);
  });

  test('GIVEN filters as JSON in the list calls (both forms) THEN each listing is filtered; an unknown key is a 400 naming those served', async () => {
    const byLabel = await list('/v1.41/containers/json?all=1', { label: ['com.docker.compose.project=proj'] });
    expect(byLabel.map((c) => c.Names[0])).toEqual(['/proj-web-1']);
    // compose lists its project with two labels: each must hold, or another project's containers would be its own.
    expect(
      await list('/v1.41/containers/json?all=1', { label: { 'com.docker.compose.project=other': true, 'com.docker.compose.oneoff=False': true } }),
    ).toEqual([]);
    expect(await list('/v1.41/containers/json?all=1', { label: ['app=py', 'com.docker.compose.project=proj'] })).toEqual([]);
    expect((await list('/v1.41/containers/json?all=1', { label: { app: true } })).map((c) => c.Names[0]).sort()).toEqual(['/py-1', '/py-mount']);
    expect(await list('/v1.41/images/json', { dangling: { true: true } })).toEqual([]);
    expect((await list('/v1.41/images/json', { dangling: ['false'] })).map((i) => i.RepoTags[0])).toEqual([bed().image]);
    expect((await list('/v1.41/volumes', { driver: { local: true } })).map((v) => v.Name).sort()).toEqual(['proj_data', 'py-mv', 'pyvol']);
    expect(await list('/v1.41/networks', { name: { proj_default: true } })).toEqual([]);
    expect((await list('/v1.41/networks', { name: ['bridge'] })).map((n) => n.Name)).toEqual(['bridge']);
    for (const path of ['/v1.41/images/json', '/v1.41/networks']) {
      const r = await bed().call('GET', `${path}?filters=${encodeURIComponent('{"shared-size":{"true":true}}')}`);
      expect([r.status, JSON.parse(r.body).message]).toEqual([
        400,
        expect.stringMatching(/^invalid filter 'shared-size': vic-iac filters (images|networks) by /),
      ]);
    }
  });
});

/** VIC Group1 1-23 inspect (and 1-04 create's flags): what docker create was given shows in docker inspect; Config, HostConfig, State and NetworkSettings are never null. */
import { useDockerBed } from './docker-env';

describe('1-23 docker inspect', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-inspect' });

  test('GIVEN a container created with every supported flag WHEN docker inspect runs THEN each shows', async () => {
    const c = await bed().docker([
      'create',
      '--name',
      'insp-1',
      '-e',
      'A=1',
      '-e',
      'B=two words',
      '-w',
      '/tmp',
      '-u',
      '1000:1000',
      '--entrypoint',
      '/bin/sh',
      '-m',
      '256m',
      '--cpus',
      '2',
      '-l',
      'tier=web',
      '--restart',
      'on-failure:3',
      '--network',
      'VM Network',
      bed().image,
      '-c',
      'echo hi',
    ]);
    expect([c.code, c.stderr]).toEqual([0, '']);
    const id = c.stdout.trim();
    const r = await bed().docker(['inspect', 'insp-1']);
    expect(r.code).toBe(0);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document read field by field
    const [doc] = JSON.parse(r.stdout) as Array<Record<string, any>>;
    expect(doc.Id).toBe(id);
    expect(doc.Name).toBe('/insp-1');
    expect(doc.State).toMatchObject({ Status: 'created', Running: false, ExitCode: 0 });
    expect(doc.Config).toMatchObject({
      // The image's env under the create's, as dockerd fills it in.
      Env: ['A=1', 'B=two words', 'PATH=/bin'],
      WorkingDir: '/tmp',
      User: '1000:1000',
      Entrypoint: ['/bin/sh'],
      Cmd: ['-c', 'echo hi'],
      Image: bed().image,
      Tty: false,
    });
    expect(doc.Config.Labels).toMatchObject({ tier: 'web', 'vic-iac.docker.origin': 'docker', 'org.example.image': 'busybox' });
    expect(doc.HostConfig).toMatchObject({
      Memory: 256 * 1024 * 1024,
      NanoCpus: 2e9,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      AutoRemove: false,
      // As the create gave it, as dockerd shows it; the bridge port group is docker's network bridge.
      NetworkMode: 'VM Network',
    });
    expect(Object.keys(doc.NetworkSettings.Networks)).toEqual(['bridge']);
    expect(doc.VSphere.Moid).toMatch(/^vm-\d+$/);
    const fmt = await bed().docker(['inspect', '--format', '{{.Config.Tty}} {{.HostConfig.AutoRemove}} {{.State.Status}}', id.slice(0, 12)]);
    expect(fmt.stdout).toBe('false false created\n');
  });

  test("GIVEN a container created without a command THEN ps and inspect show the image's, as dockerd fills them in; an --entrypoint of its own drops the image's cmd", async () => {
    expect((await bed().docker(['create', '--name', 'insp-nocmd', '-e', 'PATH=/usr/bin', '-l', 'org.example.image=mine', bed().image])).code).toBe(0);
    expect(
      await bed().dockerOk([
        'inspect',
        '--format',
        '{{json .Config.Cmd}} {{json .Config.Entrypoint}} {{.Path}} {{json .Args}} {{json .Config.Env}}',
        'insp-nocmd',
      ]),
    ).toBe('["sh","-c","echo hello from a container VM"] null sh ["-c","echo hello from a container VM"] ["PATH=/usr/bin"]');
    expect(await bed().dockerOk(['inspect', '--format', '{{index .Config.Labels "org.example.image"}}', 'insp-nocmd'])).toBe('mine');
    expect(await bed().dockerOk(['ps', '-a', '--no-trunc', '--filter', 'name=insp-nocmd', '--format', '{{.Command}}'])).toBe(
      '"sh -c echo hello from a container VM"',
    );
    expect((await bed().docker(['create', '--name', 'insp-ep', '--entrypoint', 'date', bed().image])).code).toBe(0);
    expect(await bed().dockerOk(['inspect', '--format', '{{json .Config.Cmd}} {{json .Config.Entrypoint}}', 'insp-ep'])).toBe('null ["date"]');
    for (const name of ['insp-nocmd', 'insp-ep']) expect(await bed().dockerOk(['rm', name])).toBe(name);
  });

  test('GIVEN a container without a name THEN it gets one, and inspect finds it by it', async () => {
    const c = await bed().docker(['create', bed().image]);
    expect(c.code).toBe(0);
    const name = (await bed().docker(['inspect', '--format', '{{.Name}}', c.stdout.trim()])).stdout.trim();
    expect(name).toMatch(/^\/vic_[0-9a-f]{10}$/);
    expect((await bed().docker(['inspect', '--format', '{{.Id}}', name.slice(1)])).stdout.trim()).toBe(c.stdout.trim());
  });

  test('GIVEN a network the VCH cannot reach THEN create is refused naming --network', async () => {
    const r = await bed().docker(['create', '--network', 'no-such-portgroup', bed().image]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--network \(networks\[0\]\): .*no-such-portgroup/);
  });
});

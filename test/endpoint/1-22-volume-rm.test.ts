/**
 * VIC Group1 1-22 volume rm, and -v on docker run: a volume named on run is made, the data one
 * container VM writes is read by the next (two boots, the only ones of the volume suites), a volume
 * in use is refused (with -f too, as in Docker) naming the containers, an IaC volume is refused
 * naming its owner, and an unknown name is an error unless -f.
 */
import { useDockerBed } from './docker-env';

const BOOT_MS = 420_000;

describe('1-22 docker volume rm and run -v', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 1 } }, pull: true, vchName: 'vch-volr' });
  const names = async () => (await bed().engine.forCommand().listIn('volume', String(bed().vch.id))).map((v) => v.name).sort();

  async function untilGone(name: string): Promise<void> {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if ((await bed().docker(['ps', '-a', '-q', '--filter', `name=${name}`])).stdout === '') return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`--rm container ${name} still there after 120 s`);
  }

  test(
    'GIVEN run -v vol1:/data of an unknown volume THEN it is made, and what one container VM writes the next one reads',
    async () => {
      const w = await bed()
        .docker(['run', '--rm', '--name', 'writer', '-v', 'vol1:/data', bed().image, 'sh', '-c', 'echo hi > /data/f; echo wrote'], { timeoutMs: BOOT_MS })
        .catch(async (err: Error) => {
          const logs = await bed().docker(['logs', 'writer']);
          throw new Error(`${err.message}\ndocker logs writer: ${logs.stdout}${logs.stderr}\nlauncher log:\n${bed().sim.logTail()}`);
        });
      expect({ code: w.code, stdout: w.stdout, stderr: w.stderr }).toEqual({ code: 0, stdout: 'wrote\n', stderr: '' });
      expect(await names()).toEqual(['vol1']);
      await untilGone('writer');
      const r = await bed().docker(['run', '--rm', '--name', 'reader', '-v', 'vol1:/data:ro', bed().image, 'sh', '-c', 'read x < /data/f; echo "read $x"'], {
        timeoutMs: BOOT_MS,
      });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'read hi\n', stderr: '' });
      await untilGone('reader');
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a running container with a volume WHEN another is run with it THEN the run is refused naming the running one, and starts once that one stops',
    async () => {
      const a = await bed().docker(['run', '-d', '--name', 'holder', '-v', 'vol3:/data', bed().image, 'sleep', '600']);
      expect([a.code, a.stderr]).toEqual([0, '']);
      // Before: docker run said nothing, and the second container stayed Created (its disk locked).
      const b = await bed().docker(['run', '-d', '--name', 'second', '-v', 'vol3:/data:ro', bed().image, 'true']);
      expect(b.code).toBe(125);
      expect(b.stderr).toContain('container VM "second" cannot start: "holder"');
      expect(b.stderr).toContain('has volume "vol3"');
      expect(b.stderr).toContain(
        'attached read-write. A volume is open read-write in one running VM at a time (vSphere locks its disk); read-only mounts share it with other read-only mounts only. Stop "holder" first',
      );
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=second', '--format', '{{.Status}}'])).toBe('Created');
      expect(await bed().dockerOk(['stop', '-t', '0', 'holder'])).toBe('holder');
      expect(await bed().dockerOk(['start', 'second'])).toBe('second');
      expect(await bed().dockerOk(['rm', '-f', 'holder', 'second'])).toBe('holder\nsecond');
    },
    BOOT_MS,
  );

  test('GIVEN a container that mounts vol1 THEN inspect shows the mount, and volume rm (with or without -f) is refused naming it', async () => {
    expect((await bed().docker(['volume', 'create', '-o', 'size=16', 'vol2'])).code).toBe(0);
    const c = await bed().docker(['create', '--name', 'user', '-v', 'vol2:/data:ro', bed().image]);
    expect([c.code, c.stderr]).toEqual([0, '']);
    const id = c.stdout.trim();
    const mounts = await bed().docker(['inspect', '--format', '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}} {{.Driver}}{{end}}', 'user']);
    expect(mounts.stdout).toBe('volume vol2 /data false vsphere\n');
    for (const args of [['vol2'], ['-f', 'vol2']]) {
      const r = await bed().docker(['volume', 'rm', ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`Error response from daemon: remove vol2: volume is in use - [${id}] (containers user); remove those containers first\n`);
    }
    expect(await names()).toContain('vol2');
    expect((await bed().docker(['rm', 'user'])).code).toBe(0);
    const rm = await bed().docker(['volume', 'rm', 'vol2']);
    expect([rm.code, rm.stdout, rm.stderr]).toEqual([0, 'vol2\n', '']);
    expect(await names()).not.toContain('vol2');
  });

  test('GIVEN a volume an IaC state manages THEN docker volume rm is refused naming the state, and the volume stays', async () => {
    const plan = await bed().engine.plan('volume', null, { vch_id: bed().vch.id, name: 'iac-data', size_mb: 16 });
    expect(plan.problems).toEqual([]);
    await bed().engine.apply(plan);
    const r = await bed().docker(['volume', 'rm', 'iac-data']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'remove iac-data: volume "iac-data" is managed by infrastructure as code (a Terraform, Pulumi or vic state made it, not docker)',
    );
    expect(await names()).toContain('iac-data');
  });

  test('GIVEN an unknown name THEN volume rm exits 1 saying so, and volume rm -f exits 0', async () => {
    const r = await bed().docker(['volume', 'rm', 'fakeVolume']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('get fakeVolume: no such volume');
    const f = await bed().docker(['volume', 'rm', '-f', 'fakeVolume']);
    expect([f.code, f.stderr]).toEqual([0, '']);
  });

  test('GIVEN a bind mount on docker run THEN it exits 125 before anything is made', async () => {
    const before = (await bed().docker(['ps', '-a', '-q'])).stdout;
    const r = await bed().docker(['run', '--rm', '-v', '/etc:/host-etc', bed().image]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('bind mounts are not supported by vic-iac: bind mounts need a host; use a named volume');
    expect((await bed().docker(['ps', '-a', '-q'])).stdout).toBe(before);
  });
});

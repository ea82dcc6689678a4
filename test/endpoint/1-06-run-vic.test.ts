/**
 * VIC Group1 1-06 run, the cases 1-06-run.test.ts (and tty, anonymous-volumes, 1-24-link) leave
 * out: -t with the kernel log, a process that keeps running, an image whose command exits at once,
 * start and finish times, names that look like ids, no vSphere credential in the guest, --rm with
 * named and anonymous volumes, --hostname, and several --rm runs at once. Guests really run.
 */
import { busyboxImage, useDockerBed } from './docker-env';

const BOOT_MS = 240_000;
const lines = (text: string) => text.split('\n').filter(Boolean);

describe('1-06 docker run (VIC cases)', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-run-vic' });

  test('GIVEN an image name in upper case WHEN docker run runs THEN it fails: the reference format is invalid', async () => {
    const r = await bed().docker(['run', 'fakeImage', '/bin/bash']);
    expect(r.code).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/invalid reference format: repository name (\(library\/fakeImage\) )?must be lowercase/);
  });

  test(
    'GIVEN -t WHEN docker run prints the kernel log and a last line THEN it exits 0 and the last line shows',
    async () => {
      const r = await bed().docker(['run', '-t', '--rm', bed().image, 'sh', '-c', 'busybox dmesg; echo END_OF_THE_TEST'], { timeoutMs: BOOT_MS });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('END_OF_THE_TEST');
    },
    BOOT_MS,
  );

  test(
    'GIVEN a process that does not exit (top) WHEN run -d THEN docker ps lists it running and its logs show the top screen',
    async () => {
      const d = await bed().docker(['run', '-d', '--name', 'rv-top', bed().image, 'busybox', 'top'], { timeoutMs: BOOT_MS });
      expect([d.code, d.stderr]).toEqual([0, '']);
      await expect(
        (async () => {
          for (let i = 0; i < 120; i++) {
            if ((await bed().dockerOk(['ps', '--no-trunc', '--format', '{{.Command}}'])).includes('busybox top')) return true;
            await new Promise((r) => setTimeout(r, 1000));
          }
          return false;
        })(),
      ).resolves.toBe(true);
      let logs = '';
      for (let i = 0; i < 60 && !/Load average:/.test(logs); i++) {
        logs = (await bed().docker(['logs', 'rv-top'])).stdout;
        if (!/Load average:/.test(logs)) await new Promise((r) => setTimeout(r, 1000));
      }
      expect(logs).toContain('Mem:');
      expect(logs).toContain('CPU:');
      expect(logs).toContain('Load average:');
      expect(await bed().dockerOk(['rm', '-f', 'rv-top'])).toBe('rv-top');
    },
    BOOT_MS,
  );

  test(
    'GIVEN an image whose command is sh WHEN docker run runs it without -i THEN sh exits at once, 0 and silent; StartedAt and FinishedAt fall after the command began',
    async () => {
      const base = busyboxImage();
      const image = await bed().pushImage({ ...base, config: { ...base.config, Cmd: ['sh'] } }, 'vic-test/shell:1');
      expect((await bed().docker(['pull', image], { timeoutMs: 180_000 })).code).toBe(0);
      const began = Math.floor(Date.now() / 1000);
      await new Promise((r) => setTimeout(r, 1500));
      const r = await bed().docker(['run', '--name', 'startStop', image], { timeoutMs: BOOT_MS });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
      const [started, finished] = (await bed().dockerOk(['inspect', '-f', '{{.State.StartedAt}} {{.State.FinishedAt}}', 'startStop'])).split(' ');
      const startedS = Date.parse(started) / 1000;
      const finishedS = Date.parse(finished) / 1000;
      expect(startedS).toBeGreaterThanOrEqual(began);
      expect(finishedS).toBeGreaterThan(began);
      expect(finishedS).toBeGreaterThanOrEqual(startedS);
      expect(finishedS - began).toBeLessThan(60_000);
      expect(await bed().dockerOk(['rm', 'startStop'])).toBe('startStop');
    },
    2 * BOOT_MS,
  );

  test("GIVEN a container WHEN another is named after the first one's short id THEN there is no conflict, and the name finds the second, the full id the first", async () => {
    const first = await bed().dockerOk(['create', '-it', bed().image]);
    const short = first.slice(0, 12);
    const second = await bed().docker(['create', '-it', '--name', short, bed().image]);
    expect([second.code, second.stderr]).toEqual([0, '']);
    expect(second.stdout + second.stderr).not.toContain('Conflict');
    // dockerd looks a reference up as a full id, then as a name, then as an id prefix.
    expect(await bed().dockerOk(['inspect', '-f', '{{.Id}}', short])).toBe(second.stdout.trim());
    expect(await bed().dockerOk(['inspect', '-f', '{{.Name}}', first])).not.toBe(`/${short}`);
    for (const id of [second.stdout.trim(), first]) expect(await bed().dockerOk(['rm', id])).toBe(id);
  });

  test(
    "GIVEN a process that lists the guest's processes and reads its kernel command line WHEN run THEN no vSphere credential shows",
    async () => {
      const r = await bed().docker(['run', '--rm', bed().image, 'sh', '-c', 'busybox ps -o pid,args; cat /proc/cmdline; env'], { timeoutMs: BOOT_MS });
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toContain('busybox ps -o pid,args');
      expect(r.stdout).not.toContain(bed().vspherePassword);
      expect(r.stdout).not.toContain(bed().sim.url);
    },
    BOOT_MS,
  );

  test(
    'GIVEN --rm with a named and an anonymous volume WHEN the container exits THEN it is gone, its anonymous volume too, and the named volume stays',
    async () => {
      const before = lines(await bed().dockerOk(['ps', '-a', '-q']));
      const volumesBefore = lines(await bed().dockerOk(['volume', 'ls', '-q']));
      const r = await bed().docker(['run', '--rm', '--name', 'rv-two-vols', '-v', 'rv-named:/data/db', '-v', '/I/AM/ANON', bed().image, 'true'], {
        timeoutMs: BOOT_MS,
      });
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
      expect(lines(await bed().dockerOk(['ps', '-a', '-q']))).toEqual(before);
      const volumes = lines(await bed().dockerOk(['volume', 'ls', '-q']));
      expect(volumes).toContain('rv-named');
      expect(volumes.filter((v) => !volumesBefore.includes(v))).toEqual(['rv-named']);
    },
    BOOT_MS,
  );

  test(
    'GIVEN --hostname vic.test WHEN run THEN hostname prints it, hostname -d prints test, and /etc/hosts names it',
    async () => {
      const r = await bed().docker(['run', '--rm', '--hostname', 'vic.test', bed().image, 'sh', '-c', 'hostname; hostname -d; echo ---; cat /etc/hosts'], {
        timeoutMs: BOOT_MS,
      });
      expect([r.code, r.stderr]).toEqual([0, '']);
      const [names, hosts] = r.stdout.split('---\n');
      expect(names).toBe('vic.test\ntest\n');
      expect(hosts).toMatch(/\svic\.test(\s|$)/);
    },
    BOOT_MS,
  );

  test(
    'GIVEN no --hostname WHEN run THEN hostname and $HOSTNAME are the first 12 hex digits of its id, as with dockerd, its /etc/hosts names it so and by its name, and the API finds it by $HOSTNAME',
    async () => {
      const r = await bed().docker(['run', '--name', 'own-host', bed().image, 'sh', '-c', 'hostname; echo "$HOSTNAME"; grep -v localhost /etc/hosts'], {
        timeoutMs: BOOT_MS,
      });
      expect([r.code, r.stderr]).toEqual([0, '']);
      const [hostname, env, own] = r.stdout.split('\n');
      const id = await bed().dockerOk(['inspect', '-f', '{{.Id}}', 'own-host']);
      expect([hostname, env]).toEqual([id.slice(0, 12), id.slice(0, 12)]);
      expect(own).toMatch(new RegExp(`^\\S+\\t${id.slice(0, 12)} own-host$`));
      // What a process does to look itself up through the Docker API (GET /containers/$HOSTNAME/json).
      expect(await bed().dockerOk(['inspect', '-f', '{{.Name}} {{.Config.Hostname}}', hostname])).toBe(`/own-host ${hostname}`);
      await bed().dockerOk(['rm', 'own-host']);
    },
    BOOT_MS,
  );

  test(
    'GIVEN three docker run --rm at once (more than the guest slots) WHEN they end THEN each exits 0 and no container or VM of theirs is left',
    async () => {
      const runs = await Promise.all(
        [0, 1, 2].map((i) =>
          bed().docker(['run', '--rm', '--name', `rm-concurrent-${i}`, bed().image, 'sh', '-c', `echo line ${i}`], { timeoutMs: 3 * BOOT_MS }),
        ),
      );
      expect(runs.map((r) => [r.code, r.stdout])).toEqual([0, 1, 2].map((i) => [0, `line ${i}\n`]));
      const names = await bed().dockerOk(['ps', '-a', '--format', '{{.Names}}']);
      const vms = (await bed().engine.inventory()).containerVms.map((vm) => vm.name);
      for (const i of [0, 1, 2]) {
        expect(names).not.toContain(`rm-concurrent-${i}`);
        expect(vms).not.toContain(`rm-concurrent-${i}`);
      }
    },
    3 * BOOT_MS,
  );
});

/**
 * VIC Group1 1-06 run: docker run attached and detached, against guests that really run (the
 * simulator's QEMU runner). Each boot costs seconds under TCG, so each case boots once and checks
 * everything that run shows: output, stream separation, exit code, --rm.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useDockerBed } from './docker-env';

const execFileAsync = promisify(execFile);

const BOOT_MS = 240_000;

describe('1-06 docker run', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-run' });

  test(
    'GIVEN an image WHEN docker run --name runs it attached THEN its output shows, stdout and stderr apart, with its exit code',
    async () => {
      const r = await bed().docker(['run', '--name', 'run-1', '-e', 'WHO=vsphere', bed().image, 'sh', '-c', 'echo "hello $WHO"; echo oops >&2; exit 3'], {
        timeoutMs: BOOT_MS,
      });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 3, stdout: 'hello vsphere\n', stderr: 'oops\n' });
      const ps = await bed().docker(['ps', '-a', '--filter', 'name=run-1', '--format', '{{.Names}} {{.Status}}']);
      expect(ps.stdout).toMatch(/^run-1 Exited \(3\) (Less than a second|\d+ seconds?) ago\n$/);
    },
    BOOT_MS,
  );

  test(
    'GIVEN --rm WHEN the container exits THEN docker run returns its code and the container VM is gone',
    async () => {
      const r = await bed().docker(['run', '--rm', '--name', 'run-rm', bed().image, 'false'], { timeoutMs: BOOT_MS });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 1, stdout: '', stderr: '' });
      const ps = await bed().docker(['ps', '-a', '-q', '--filter', 'name=run-rm']);
      expect(ps.stdout).toBe('');
      const { containerVms } = await bed().engine.inventory();
      expect(containerVms.map((vm) => vm.name)).not.toContain('run-rm');
    },
    BOOT_MS,
  );

  test(
    'GIVEN output that is not plain lines (binary, CR, no last newline) WHEN run attached and read back with logs THEN every byte comes back as written',
    async () => {
      // VIC 1-08 "Docker binary logs": `docker run … cat <binary> > file` must give the file back.
      // Every byte value, a CR LF line, and a last line without a newline, written by busybox printf.
      const bytes = Buffer.from([...Array(256).keys()]);
      const octal = [...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
      const script = `printf '${octal}'; printf 'crlf\\r\\nplain\\nno newline'`;
      const expected = Buffer.concat([bytes, Buffer.from('crlf\r\nplain\nno newline')]);
      const dir = await mkdtemp(join(tmpdir(), 'vic-exact-'));
      try {
        const shell = (cmd: string) => execFileAsync('sh', ['-c', cmd], { env: bed().env, maxBuffer: 1 << 20 });
        await shell(`docker run --name run-bytes ${bed().image} sh -c "${script}" > ${dir}/run.out`);
        expect((await readFile(`${dir}/run.out`)).equals(expected)).toBe(true);
        await shell(`docker logs run-bytes > ${dir}/logs.out`);
        expect((await readFile(`${dir}/logs.out`)).equals(expected)).toBe(true);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      expect(await bed().dockerOk(['rm', 'run-bytes'])).toBe('run-bytes');
    },
    BOOT_MS,
  );

  test(
    'GIVEN a command the image does not have, or a user it does not know, WHEN run THEN docker run ends with 127 or 125 and says why, rather than wait forever',
    async () => {
      // VIC 1-06 "Docker run fake command". Before, the guest powered off without a status: the
      // container stayed Created and docker run never returned.
      const fake = await bed().docker(['run', '--name', 'run-fake', bed().image, 'fakeCommand'], { timeoutMs: BOOT_MS });
      expect({ code: fake.code, stdout: fake.stdout }).toEqual({ code: 127, stdout: '' });
      expect(fake.stderr).toMatch(
        /^exec: "fakeCommand": executable file not found in \$PATH \(none of the \d+ directories of the container's PATH holds it\); check the image's entrypoint and cmd\n$/,
      );
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=run-fake', '--format', '{{.Status}}'])).toMatch(/^Exited \(127\) /);
      expect(await bed().dockerOk(['wait', 'run-fake'])).toBe('127');
      const user = await bed().docker(['run', '--rm', '--name', 'run-nouser', '-u', 'nosuchuser', bed().image, 'true'], { timeoutMs: BOOT_MS });
      expect({ code: user.code, stdout: user.stdout }).toEqual({ code: 125, stdout: '' });
      expect(user.stderr).toMatch(/^the container could not start: .*nosuchuser.*\n$/);
      expect((await bed().docker(['ps', '-a', '-q', '--filter', 'name=run-nouser'])).stdout).toBe('');
      expect(await bed().dockerOk(['rm', 'run-fake'])).toBe('run-fake');
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN run -d THEN it prints the id at once, and docker wait and docker logs give the exit code and the output',
    async () => {
      const d = await bed().docker(['run', '-d', '--name', 'run-d', bed().image], { timeoutMs: BOOT_MS });
      expect(d.stderr).toBe('');
      expect(d.code).toBe(0);
      expect(d.stdout).toMatch(/^[0-9a-f]{64}\n$/);
      const w = await bed().docker(['wait', 'run-d'], { timeoutMs: BOOT_MS });
      expect([w.code, w.stdout]).toEqual([0, '0\n']);
      const logs = await bed().docker(['logs', 'run-d']);
      expect([logs.code, logs.stdout, logs.stderr]).toEqual([0, 'hello from a container VM\n', '']);
      const inspect = await bed().docker([
        'inspect',
        '--format',
        '{{.State.Status}} {{.State.ExitCode}} {{.Config.Image}} {{.HostConfig.AutoRemove}}',
        'run-d',
      ]);
      expect(inspect.stdout).toBe(`exited 0 ${bed().image} false\n`);
    },
    BOOT_MS,
  );

  test(
    'GIVEN --network none WHEN docker run THEN the container VM has no NIC, its process only a loopback, and inspect and ps say none',
    async () => {
      const r = await bed().docker(
        ['run', '--name', 'run-nonet', '--network', 'none', bed().image, 'sh', '-c', 'cat /proc/net/dev | grep -o "^ *[a-z0-9]*:"'],
        {
          timeoutMs: BOOT_MS,
        },
      );
      // Before: refused, network "none" not found.
      expect({ code: r.code, stdout: r.stdout.replace(/ /g, ''), stderr: r.stderr }).toEqual({ code: 0, stdout: 'lo:\n', stderr: '' });
      const inspect = await bed().docker(['inspect', '--format', '{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}}', 'run-nonet']);
      expect(inspect.stdout).toBe('none 0\n');
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'network=none', '--format', '{{.Names}}'])).toBe('run-nonet');
      expect(await bed().dockerOk(['rm', 'run-nonet'])).toBe('run-nonet');
    },
    BOOT_MS,
  );

  test(
    'GIVEN a container VM whose guest cannot boot (more memory than this machine can give QEMU) WHEN run attached THEN docker run ends with 125 and says why, instead of waiting without end',
    async () => {
      const r = await bed().docker(['run', '--name', 'run-noboot', '-m', '1000g', bed().image, 'echo', 'hi'], { timeoutMs: BOOT_MS });
      expect(r.code).toBe(125);
      expect(r.stdout + r.stderr).toContain('vic: the container VM did not boot');
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'run-noboot'])).toBe('exited 125');
      // On stderr, as the reason a start failed: with QEMU's own words.
      const logs = await bed().docker(['logs', 'run-noboot']);
      expect(logs.stderr).toMatch(
        /^vic: the container VM did not boot: the guest's QEMU ended \(exit status 1\) before its process started: qemu-system-x86_64: .*memory/,
      );
      expect(await bed().dockerOk(['rm', 'run-noboot'])).toBe('run-noboot');
    },
    BOOT_MS,
  );

  test('GIVEN a name in use THEN docker run is refused with 409 and the id of the holder', async () => {
    const r = await bed().docker(['run', '--name', 'run-d', bed().image]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/Conflict\. The container name "\/run-d" is already in use by container "[0-9a-f]{64}"/);
  });

  test('GIVEN an input vSphere cannot take THEN create is refused naming the flag', async () => {
    const r = await bed().docker(['create', '--cpus', '1.5', bed().image]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--cpus 1\.5: a container VM has whole virtual CPUs/);
    const m = await bed().docker(['create', '-m', '130m', bed().image]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/-m\/--memory .*multiple of 4/);
    // Named by the flag typed, never by the IaC attribute.
    expect(m.stderr).not.toContain('memory_mb');
    const cpus = await bed().docker(['create', '--cpus', '64', bed().image]);
    expect(cpus.code).toBe(1);
    expect(cpus.stderr).toMatch(/--cpus: 64 is more than any host of .* has: \d+ logical CPUs\. vSphere would refuse to power the VM on/);
    const small = await bed().docker(['create', '-m', '64m', bed().image]);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(
      /-m\/--memory \(in MB, a multiple of 4\): 64 is below the minimum of 128 MB \(the bootstrap ISO's kernel and initramfs need it to boot\)/,
    );
    // VIC 1-04 "Simple creates": -t -i are taken (the terminal and the open stdin: tty.test.ts).
    const t = await bed().docker(['create', '-t', '-i', '--name', 'run-ti', bed().image]);
    // VIC's check: rc 0 and no "Error" in the output.
    expect([t.code, t.stderr]).toEqual([0, '']);
    expect(t.stdout + t.stderr).not.toContain('Error');
    expect(await bed().dockerOk(['inspect', '-f', '{{.Config.Tty}} {{.Config.OpenStdin}}', 'run-ti'])).toBe('true true');
    expect(await bed().dockerOk(['rm', 'run-ti'])).toBe('run-ti');
  });
});

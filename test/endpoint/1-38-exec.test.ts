/**
 * docker exec against guests that really run (the simulator's QEMU runner), with the docker CLI,
 * modeled on VIC's 1-38 "Docker Exec": exec -d, echo plain, with -i and with -t, input piped into
 * exec -i (VIC's "Exec Sort -i", which VIC itself could not pass), a command that does not exist,
 * and what docker exec takes besides (-e, -u, -w, exit codes, exec -it in a terminal). An exec's
 * output is its own: docker logs of the container never shows it.
 */
import { runProcess } from '../cli/run-vic';
import { dockerCli, eventually, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 420_000;

describe('VIC 1-38: docker exec', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-exec' });

  beforeAll(async () => {
    const r = await bed().docker(['run', '-d', '--name', 'exec-host', bed().image, 'busybox', 'sleep', '600']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    await waitUntilProcessRuns(bed(), 'exec-host', BOOT_MS);
  }, BOOT_MS);

  test('Exec -d: the process runs detached, and what it did is there for the next exec', async () => {
    const d = await bed().docker(['exec', '-d', 'exec-host', 'busybox', 'touch', '/tmp/force']);
    expect([d.code, d.stdout, d.stderr]).toEqual([0, '', '']);
    // The detached process and the next exec run side by side: the file is looked for until it is there.
    await eventually(
      bed(),
      '/tmp/force made by exec -d',
      async () => {
        const ls = await bed().docker(['exec', 'exec-host', 'busybox', 'ls', '-al', '/tmp/force']);
        return ls.code === 0 && ls.stdout.includes('force');
      },
      30_000,
    );
  });

  test('Exec Echo, plain, -i and -t: the output comes back as the process wrote it (CR LF on a terminal), rc 0', async () => {
    const plain = await bed().docker(['exec', 'exec-host', 'busybox', 'echo', "Help me, Obi-Wan Kenobi. You're my only hope."]);
    expect({ code: plain.code, stdout: plain.stdout, stderr: plain.stderr }).toEqual({
      code: 0,
      stdout: "Help me, Obi-Wan Kenobi. You're my only hope.\n",
      stderr: '',
    });
    const i = await bed().docker(['exec', '-i', 'exec-host', 'busybox', 'echo', "Your eyes can deceive you. Don't trust them."]);
    expect({ code: i.code, stdout: i.stdout }).toEqual({ code: 0, stdout: "Your eyes can deceive you. Don't trust them.\n" });
    const t = await bed().docker(['exec', '-t', 'exec-host', 'busybox', 'echo', 'Do. Or do not. There is no try.']);
    expect({ code: t.code, stdout: t.stdout }).toEqual({ code: 0, stdout: 'Do. Or do not. There is no try.\r\n' });
  });

  test('Exec Sort -i: input piped in reaches the process, whose output and exit code come back', async () => {
    const sort = await bed().docker(['exec', '-i', 'exec-host', 'busybox', 'sort'], { input: 'one\nthree\ntwo\n' });
    expect({ code: sort.code, stdout: sort.stdout, stderr: sort.stderr }).toEqual({ code: 0, stdout: 'one\nthree\ntwo\n', stderr: '' });
    const sh = await bed().docker(['exec', '-i', 'exec-host', 'sh'], { input: 'echo $((6 * 7)) >&2\nexit 4\n' });
    expect({ code: sh.code, stdout: sh.stdout, stderr: sh.stderr }).toEqual({ code: 4, stdout: '', stderr: '42\n' });
    // Without -i the same input goes nowhere: its stdin is at end of file, as with dockerd.
    const closed = await bed().docker(['exec', 'exec-host', 'busybox', 'wc', '-c'], { input: 'ignored\n' });
    expect([closed.code, closed.stdout.trim()]).toEqual([0, '0']);
  });

  test('docker top lists the processes of the container VM as ps -ef does (its process and an exec), and refuses other ps options saying what to do', async () => {
    const d = await bed().docker(['exec', '-d', 'exec-host', 'busybox', 'sleep', '77']);
    expect(d.code).toBe(0);
    const rows = async () => (await bed().dockerOk(['top', 'exec-host'])).split('\n');
    await eventually(bed(), 'the exec listed', async () => (await rows()).some((r) => r.endsWith('busybox sleep 77')), 30_000);
    const lines = await rows();
    expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(lines.find((r) => r.endsWith('busybox sleep 600'))).toMatch(/^root\s+\d+\s+1\s+0\s+\d\d:\d\d\s+\?\s+\d\d:\d\d:\d\d\s+busybox sleep 600$/);
    // Neither the tether (PID 1) nor a kernel thread.
    expect(lines.slice(1).every((r) => !/^\S+\s+1\s/.test(r) && !r.includes('[kthreadd]'))).toBe(true);
    const aux = await bed().docker(['top', 'exec-host', 'aux']);
    expect([aux.code, aux.stderr]).toEqual([1, expect.stringContaining('docker top with ps options (aux) is not supported by vic-iac')]);
  });

  test('Exec NonExisting: the command is not found, said on stderr with rc 127; the container runs on', async () => {
    const r = await bed().docker(['exec', 'exec-host', '/NonExisting']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('exec: "/NonExisting": no such file or directory');
    const path = await bed().docker(['exec', 'exec-host', 'no-such-command']);
    expect([path.code, path.stderr]).toEqual([
      127,
      `exec: "no-such-command": executable file not found in $PATH (none of the 1 directories of the container's PATH holds it)\n`,
    ]);
    expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'exec-host'])).toBe('running');
  });

  test('GIVEN -e, -u and -w THEN the process gets them over the container own; inspect of the exec has its exit code; docker events has its create, start and die', async () => {
    const since = Math.floor(Date.now() / 1000);
    const r = await bed().docker([
      'exec',
      '-e',
      'FOO=bar',
      '-e',
      'PATH=/bin:/usr/bin',
      '-u',
      '1000:1000',
      '-w',
      '/tmp',
      'exec-host',
      'sh',
      '-c',
      'echo $FOO $PATH $(pwd) $(busybox id -u):$(busybox id -g); exit 3',
    ]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 3, stdout: 'bar /bin:/usr/bin /tmp 1000:1000\n' });
    // The API's own steps: create, start detached, inspect until it ended.
    const made = await bed().call('POST', '/v1.45/containers/exec-host/exec', { Cmd: ['sh', '-c', 'exit 5'], AttachStdout: true, AttachStderr: true });
    expect(made.status).toBe(201);
    const id = (JSON.parse(made.body) as { Id: string }).Id;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await bed().call('POST', `/v1.45/exec/${id}/start`, { Detach: true })).status).toBe(200);
    await eventually(
      bed(),
      'the detached exec to end',
      async () => (JSON.parse((await bed().call('GET', `/v1.45/exec/${id}/json`)).body) as { Running: boolean }).Running === false,
      30_000,
    );
    const doc = JSON.parse((await bed().call('GET', `/v1.45/exec/${id}/json`)).body) as Record<string, unknown>;
    expect(doc).toMatchObject({ ID: id, Running: false, ExitCode: 5, ProcessConfig: { entrypoint: 'sh', arguments: ['-c', 'exit 5'], tty: false } });
    expect((await bed().call('POST', `/v1.45/exec/${id}/start`, { Detach: true })).status).toBe(409);
    expect((await bed().call('GET', '/v1.45/exec/0123/json')).status).toBe(404);
    const events = await bed().eventsSince(since, 'container=exec-host', '{{.Action}} {{.Actor.Attributes.exitCode}}');
    // From this test's first exec on (the second of `since` may hold the test before's last events).
    const ours = events.filter((e) => e.startsWith('exec_'));
    expect(ours.slice(ours.findIndex((e) => e.startsWith('exec_create: sh -c echo $FOO')))).toEqual([
      expect.stringMatching(/^exec_create: sh -c echo \$FOO/),
      expect.stringMatching(/^exec_start: sh -c echo \$FOO/),
      'exec_die 3',
      'exec_create: sh -c exit 5 <no value>',
      'exec_start: sh -c exit 5 <no value>',
      'exec_die 5',
    ]);
    expect((await bed().eventsSince(since, 'event=exec_die', '{{.Action}} {{.Actor.Attributes.exitCode}}')).slice(-2)).toEqual(['exec_die 3', 'exec_die 5']);
    expect((await bed().eventsSince(since, 'event=exec_start', '{{.Action}}')).slice(-1)).toEqual(['exec_start: sh -c exit 5']);
  });

  test('GIVEN docker exec -it in a terminal THEN the shell reads what is typed and echoes it; the exec ends with its exit code', async () => {
    const r = await runProcess('script', ['-qec', `${dockerCli()} exec -it exec-host sh`, '/dev/null'], bed().env, {
      input: 'echo typed-$((6 * 7))\rexit 6\r',
      keepStdinOpen: true,
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(6);
    expect(r.stdout).toContain('typed-42\r\n');
  });

  test(
    'GIVEN the execs above THEN docker logs of the container shows none of their output; a stopped container takes no exec',
    async () => {
      const logs = await bed().docker(['logs', 'exec-host']);
      expect({ stdout: logs.stdout, stderr: logs.stderr }).toEqual({ stdout: '', stderr: '' });
      const done = await bed().docker(['run', '--name', 'exec-done', bed().image, 'true'], { timeoutMs: BOOT_MS });
      expect(done.code).toBe(0);
      const r = await bed().docker(['exec', 'exec-done', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^Error response from daemon: Container [0-9a-f]{64} is not running/);
      expect(await bed().dockerOk(['rm', 'exec-done'])).toBe('exec-done');
    },
    BOOT_MS,
  );

  afterAll(async () => {
    await bed().docker(['rm', '-f', 'exec-host']);
  });
});

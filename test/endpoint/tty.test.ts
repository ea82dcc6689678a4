/**
 * docker's -t and -i against guests that really run (the simulator's QEMU runner), with the docker
 * CLI: -t gives the process a terminal, whose output comes back raw (CR LF) through run, attach and
 * logs; -i keeps its stdin open, and an attach with stdin sends it input (`docker run -i` with input
 * piped in, `docker attach`, `docker run -it` in a terminal), through the VM's extraConfig and the
 * guest's serial port; the terminal takes the size of the client's (docker's resize). VIC's own suites create and run with -it (1-04 "Simple creates", 1-06 "Docker
 * run with -t"), and pipe input into docker run -i (1-38 "Docker run -i").
 */
import { createHash } from 'node:crypto';
import { runProcess } from '../cli/run-vic';
import { dockerCli, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 420_000;

describe('docker run -t and -i', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-tty' });

  test(
    'GIVEN run -t THEN the process runs on a terminal and its output comes back raw, attached and in logs',
    async () => {
      const r = await bed().docker(
        ['run', '-t', '--name', 'tty-1', bed().image, 'sh', '-c', 'test -t 0 && test -t 1 && echo on-a-terminal; stty size; echo oops >&2; exit 4'],
        {
          timeoutMs: BOOT_MS,
        },
      );
      // A terminal has one stream: stderr comes with stdout, as with dockerd.
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 4, stdout: 'on-a-terminal\r\n24 80\r\noops\r\n', stderr: '' });
      expect(await bed().dockerOk(['inspect', '-f', '{{.Config.Tty}} {{.Config.OpenStdin}} {{.State.ExitCode}}', 'tty-1'])).toBe('true false 4');
      const logs = await bed().docker(['logs', 'tty-1']);
      expect({ stdout: logs.stdout, stderr: logs.stderr }).toEqual({ stdout: 'on-a-terminal\r\n24 80\r\noops\r\n', stderr: '' });
      expect(await bed().dockerOk(['rm', 'tty-1'])).toBe('tty-1');
    },
    BOOT_MS,
  );

  test(
    'GIVEN run -di of a shell THEN it keeps running, waiting on its open stdin; docker attach sends it input, and the attach ends with its exit code',
    async () => {
      const script = 'while read line; do echo "got:$line"; [ "$line" = bye ] && exit 5; done';
      const r = await bed().docker(['run', '-di', '--name', 'keep', bed().image, 'sh', '-c', script]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      await waitUntilProcessRuns(bed(), 'keep', BOOT_MS);
      // Without -i the same loop reads end of file and exits at once; with it, it waits.
      await new Promise((r) => setTimeout(r, 3000));
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.Config.OpenStdin}} {{.Config.StdinOnce}}', 'keep'])).toBe('running true false');
      // Not made by docker run -i: the end of this client's input leaves the process's stdin open,
      // so the loop ends on its own word.
      const attach = await bed().docker(['attach', 'keep'], { input: 'one\nbye\n', timeoutMs: BOOT_MS });
      expect({ code: attach.code, stdout: attach.stdout, stderr: attach.stderr }).toEqual({ code: 5, stdout: 'got:one\ngot:bye\n', stderr: '' });
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'keep'])).toBe('exited 5');
      expect(await bed().dockerOk(['rm', 'keep'])).toBe('keep');
    },
    BOOT_MS,
  );

  test(
    'GIVEN run -i with input piped in THEN the process reads it to its end: lines, a script and its exit code, and bytes whole; --rm leaves nothing',
    async () => {
      const cat = await bed().docker(['run', '-i', '--rm', '--name', 'piped', bed().image, 'cat'], { input: 'hello\nworld\n', timeoutMs: BOOT_MS });
      expect({ code: cat.code, stdout: cat.stdout, stderr: cat.stderr }).toEqual({ code: 0, stdout: 'hello\nworld\n', stderr: '' });
      expect(await bed().dockerOk(['ps', '-a', '-q', '--filter', 'name=piped'])).toBe('');
      const sh = await bed().docker(['run', '-i', '--name', 'script-in', bed().image, 'sh'], { input: 'echo $((6 * 7))\nexit 3\n', timeoutMs: BOOT_MS });
      expect({ code: sh.code, stdout: sh.stdout }).toEqual({ code: 3, stdout: '42\n' });
      expect(await bed().dockerOk(['inspect', '-f', '{{.Config.OpenStdin}} {{.Config.StdinOnce}}', 'script-in'])).toBe('true true');
      expect(await bed().dockerOk(['rm', 'script-in'])).toBe('script-in');
      // Every byte value, more than one chunk (48 KiB) and more than one batch of the endpoint's.
      const bytes = Buffer.alloc(200 * 1024);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
      const sum = await bed().docker(['run', '-i', '--rm', bed().image, 'busybox', 'sha256sum'], { input: bytes, timeoutMs: BOOT_MS });
      expect([sum.code, sum.stdout.split(' ')[0]]).toEqual([0, createHash('sha256').update(bytes).digest('hex')]);
      // create -it: made as asked, with nothing to warn about.
      const c = await bed().docker(['create', '-t', '-i', '--name', 'made-ti', bed().image]);
      expect([c.code, c.stderr]).toEqual([0, '']);
      expect(await bed().dockerOk(['rm', 'made-ti'])).toBe('made-ti');
    },
    BOOT_MS,
  );

  test(
    'GIVEN docker run -it in a terminal THEN the shell reads what is typed, its terminal echoes it, and the run ends with its exit code; --rm leaves nothing',
    async () => {
      // The CLI takes -t only with a terminal on stdin: script(1) gives it one. The input is typed
      // ahead, and the terminal stays open until the shell exits, as a user's does.
      const r = await runProcess('script', ['-qec', `${dockerCli()} run -it --rm --name it-rm ${bed().image} sh`, '/dev/null'], bed().env, {
        input: 'echo typed-$((6 * 7))\rexit 4\r',
        keepStdinOpen: true,
        timeoutMs: BOOT_MS,
      });
      expect(r.code).toBe(4);
      expect(r.stdout).toContain('echo typed-$((6 * 7))');
      expect(r.stdout).toContain('typed-42\r\n');
      expect(await bed().dockerOk(['ps', '-a', '-q', '--filter', 'name=it-rm'])).toBe('');
    },
    BOOT_MS,
  );

  test(
    "GIVEN run -it and exec -it from a terminal of 40x132 and of 50x100 THEN each process's terminal takes the size of the client's, as the CLI asks right after the start",
    async () => {
      // Until the size the CLI sends arrives (after the process reports it runs), the guest's terminal is 80x24.
      const waitForSize = 'for i in $(seq 1 60); do s="$(stty size)"; [ "$s" != "24 80" ] && break; sleep 0.5; done; echo "size $s"';
      const run = await runProcess(
        'script',
        ['-qec', `stty rows 40 cols 132; ${dockerCli()} run -it --name sized ${bed().image} sh -c '${waitForSize}'`, '/dev/null'],
        bed().env,
        { timeoutMs: BOOT_MS },
      );
      expect([run.code, run.stdout]).toEqual([0, expect.stringContaining('size 40 132\r\n')]);
      expect(await bed().dockerOk(['rm', 'sized'])).toBe('sized');

      expect((await bed().docker(['run', '-dit', '--name', 'sized-exec', bed().image, 'sh'])).code).toBe(0);
      await waitUntilProcessRuns(bed(), 'sized-exec', BOOT_MS);
      const exec = await runProcess(
        'script',
        ['-qec', `stty rows 50 cols 100; ${dockerCli()} exec -it sized-exec sh -c '${waitForSize}'`, '/dev/null'],
        bed().env,
        {
          timeoutMs: 120_000,
        },
      );
      expect([exec.code, exec.stdout]).toEqual([0, expect.stringContaining('size 50 100\r\n')]);
      expect(await bed().dockerOk(['rm', '-f', 'sized-exec'])).toBe('sized-exec');
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN docker attach in a terminal to a running -it shell WHEN Ctrl-P Ctrl-Q is typed THEN the CLI detaches and the shell runs on, having run what came before',
    async () => {
      const r = await bed().docker(['run', '-dit', '--name', 'detach-me', bed().image, 'sh'], { timeoutMs: BOOT_MS });
      expect([r.code, r.stderr]).toEqual([0, '']);
      await waitUntilProcessRuns(bed(), 'detach-me', BOOT_MS);
      const attach = await runProcess('script', ['-qec', `${dockerCli()} attach detach-me`, '/dev/null'], bed().env, {
        // The keys once the CLI shows the shell's answer: its terminal is raw by then (typed ahead,
        // the outer terminal's line discipline would take Ctrl-Q as flow control).
        input: 'echo before-$((6 * 7))\r',
        respond: [{ when: 'before-42', send: '\x10\x11' }],
        keepStdinOpen: true,
        timeoutMs: 60_000,
      });
      // The CLI's own words and status for a detach (it watches for the keys too, as dockerd does).
      expect(attach.code).toBe(1);
      expect(attach.stdout).toContain('before-42');
      expect(attach.stdout).toContain('read escape sequence');
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'detach-me'])).toBe('running');
      expect((await bed().docker(['logs', 'detach-me'])).stdout).toContain('before-42\r\n');
      expect(await bed().dockerOk(['rm', '-f', 'detach-me'])).toBe('detach-me');
    },
    BOOT_MS,
  );

  test(
    'VIC 1-09 "Attach with short input": docker start -ai of a created -i sort, run again, reads its input each time; "Attach to stopped container" is refused by the CLI',
    async () => {
      const c = await bed().docker(['create', '-i', '--name', 'sorter', bed().image, 'busybox', 'sort']);
      expect([c.code, c.stderr]).toEqual([0, '']);
      const stopped = await bed().docker(['attach', 'sorter']);
      expect([stopped.code, stopped.stderr.trim()]).toEqual([1, 'You cannot attach to a stopped container, start it first']);
      for (const round of [1, 2]) {
        const r = await bed().docker(['start', '-ai', 'sorter'], { input: `two-${round}\none-${round}\n`, timeoutMs: BOOT_MS });
        expect({ round, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ round, code: 0, stdout: `one-${round}\ntwo-${round}\n`, stderr: '' });
      }
      expect(await bed().dockerOk(['rm', 'sorter'])).toBe('sorter');
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a process that never reads its stdin WHEN megabytes are piped to it THEN input waits at the client (back-pressure), and docker stop still reaches the process at once',
    async () => {
      const r = await bed().docker(['run', '-di', '--name', 'deaf', bed().image, 'busybox', 'sleep', '600']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      await waitUntilProcessRuns(bed(), 'deaf', BOOT_MS);
      // 4 MiB that nobody reads: it fills the guest's pipe and the runner's queue, then waits.
      const attach = bed().docker(['attach', 'deaf'], { input: Buffer.alloc(4 * 1024 * 1024, 'z'), timeoutMs: BOOT_MS });
      await new Promise((resolve) => setTimeout(resolve, 5000));
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'deaf'])).toBe('running');
      // SIGTERM goes before the queued input: sleep ends on it (143), well within -t.
      const stop = await bed().docker(['stop', '-t', '20', 'deaf'], { timeoutMs: BOOT_MS });
      expect([stop.code, stop.stdout.trim()]).toEqual([0, 'deaf']);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'deaf'])).toBe('143');
      expect((await attach).code).toBe(143);
      expect(await bed().dockerOk(['rm', 'deaf'])).toBe('deaf');
    },
    BOOT_MS,
  );
});

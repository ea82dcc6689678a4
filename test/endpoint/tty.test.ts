/**
 * docker's -t and -i against guests that really run (the simulator's QEMU runner), with the docker
 * CLI: -t gives the process a terminal, whose output comes back raw (CR LF) through run, attach and
 * logs; -i keeps its stdin open (nobody writes to it), so `docker run -itd` leaves a shell waiting;
 * attaching stdin is refused, saying what to do (`docker run -it` at its start, where the CLI shows
 * the reason: a refused attach shows only its status code). VIC's own suites create and run with -it (1-04
 * "Simple creates", 1-06 "Docker run with -t").
 */
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
    'GIVEN run -itd of a shell THEN it keeps running, waiting on its open stdin; attaching stdin is refused naming what to do; it stops on docker stop',
    async () => {
      const r = await bed().docker(['run', '-itd', '--name', 'keep', bed().image, 'sh']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      await waitUntilProcessRuns(bed(), 'keep', BOOT_MS);
      // Without -i the same shell reads end of file and exits at once; with it, it waits.
      await new Promise((r) => setTimeout(r, 3000));
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.Config.Tty}} {{.Config.OpenStdin}}', 'keep'])).toBe('running true true');
      // Attaching its stdin (what docker attach asks of an -i container): refused, saying what to do.
      const attach = await bed().call('POST', '/v1.45/containers/keep/attach?stream=1&stdin=1&stdout=1', undefined, undefined, {
        Connection: 'Upgrade',
        Upgrade: 'tcp',
      });
      expect([attach.status, (JSON.parse(attach.body) as { message: string }).message]).toEqual([
        501,
        "attaching stdin (docker run -i, docker start -i, docker attach) is not supported by vic-iac: input cannot reach a container VM's process: docker attach --no-stdin keep or docker logs -f keep show its output",
      ]);
      const stop = await bed().docker(['stop', '-t', '1', 'keep'], { timeoutMs: BOOT_MS });
      expect([stop.code, stop.stdout.trim()]).toEqual([0, 'keep']);
      expect(await bed().dockerOk(['rm', 'keep'])).toBe('keep');
    },
    BOOT_MS,
  );

  test('GIVEN run -i attached (input piped in) THEN refused before anything is made; create -it is made, with a warning that its stdin cannot be attached', async () => {
    const r = await bed().docker(['run', '-i', '--name', 'piped', bed().image, 'cat']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(
      "stdin (-i) attached is not supported by vic-iac: input cannot reach a container VM's process. For a shell that waits, run it detached with -itd (or -d -i)",
    );
    expect(await bed().dockerOk(['ps', '-a', '-q', '--filter', 'name=piped'])).toBe('');
    const c = await bed().docker(['create', '-t', '-i', '--name', 'made-ti', bed().image]);
    expect(c.code).toBe(0);
    expect(c.stderr).toContain(
      "WARNING: vic-iac cannot attach stdin (input cannot reach a container VM's process): docker start -ai and docker run -it are refused at the start",
    );
    expect(await bed().dockerOk(['rm', 'made-ti'])).toBe('made-ti');
  });

  test('GIVEN docker run -it in a terminal THEN its start is refused in words the CLI prints; with --rm nothing is left, without it the container stays created', async () => {
    // The CLI takes -t only with a terminal on stdin: script(1) gives it one.
    const inTerminal = (args: string) => runProcess('script', ['-qec', `${dockerCli()} ${args}`, '/dev/null'], bed().env, { timeoutMs: 120_000 });
    const refused = "attaching stdin (docker run -i, docker start -i, docker attach) is not supported by vic-iac: input cannot reach a container VM's process.";
    const removed = await inTerminal(`run -it --rm --name it-rm ${bed().image} sh`);
    expect(removed.code).toBe(125);
    expect(removed.stdout).toContain(`${refused} Container "it-rm" was not started, and was removed (--rm): run it detached with -itd`);
    expect(await bed().dockerOk(['ps', '-a', '-q', '--filter', 'name=it-rm'])).toBe('');
    const kept = await inTerminal(`run -it --name it-kept ${bed().image} sh`);
    expect(kept.code).toBe(125);
    expect(kept.stdout).toContain(`${refused} Container "it-kept" was created and not started: docker start it-kept runs it detached`);
    expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'it-kept'])).toBe('created');
    expect(await bed().dockerOk(['rm', 'it-kept'])).toBe('it-kept');
  });
});

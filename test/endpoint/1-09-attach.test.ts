/**
 * VIC Group1 1-09 attach, against guests that really run: docker attach sends input to a running
 * -i container and ends with its process; detach keys of one's own leave it running, and it can be
 * attached again; a stopped or unknown container is refused; docker start -a of a short command
 * shows all its output, run after run, with and without a terminal. VIC's "Attach with short input"
 * (docker start -ai of sort, again and again) is in tty.test.ts.
 *
 * VIC's process was busybox top, ended by typing q; here a shell that ends on reading q (the image
 * has no top). VIC sent its detach key through a pipe to a container without a terminal: dockerd
 * reads detach keys only on a terminal (-t), so here the attach runs in one (script(1)).
 */
import { runProcess } from '../cli/run-vic';
import { dockerCli, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 300_000;

describe('1-09 docker attach', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-attach' });

  test(
    'GIVEN a started -i container whose process waits for q WHEN docker attach sends q THEN the attach ends with exit 0 and prints nothing',
    async () => {
      const id = await bed().dockerOk(['create', '-i', bed().image, 'sh', '-c', 'read key; [ "$key" = q ]']);
      expect(await bed().dockerOk(['start', id])).toBe(id);
      await waitUntilProcessRuns(bed(), id, BOOT_MS);
      const attach = await bed().docker(['attach', id], { input: 'q\n', timeoutMs: BOOT_MS });
      expect({ code: attach.code, stdout: attach.stdout, stderr: attach.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id])).toBe('exited 0');
      expect(await bed().dockerOk(['rm', id])).toBe(id);
    },
    BOOT_MS,
  );

  test('GIVEN a created -it container never started WHEN docker attach runs THEN it exits 1: You cannot attach to a stopped container, start it first', async () => {
    const id = await bed().dockerOk(['create', '-it', bed().image, 'sh']);
    const r = await bed().docker(['attach', id]);
    expect([r.code, r.stdout, r.stderr.trim()]).toEqual([1, '', 'You cannot attach to a stopped container, start it first']);
    expect(await bed().dockerOk(['rm', id])).toBe(id);
  });

  test(
    'GIVEN a running -it shell WHEN docker attach --detach-keys=a is given the key, twice THEN each attach detaches and the shell runs on, having run what was typed',
    async () => {
      expect(await bed().dockerOk(['create', '-it', '--name', 'att-keys', bed().image, 'sh'])).toMatch(/^[0-9a-f]{64}$/);
      expect(await bed().dockerOk(['start', 'att-keys'])).toBe('att-keys');
      await waitUntilProcessRuns(bed(), 'att-keys', BOOT_MS);
      for (const word of ['first', 'second']) {
        // The key once the shell has answered (the terminal is raw by then); no "a" in what is typed.
        const attach = await runProcess('script', ['-qec', `${dockerCli()} attach --detach-keys=a att-keys`, '/dev/null'], bed().env, {
          input: `echo ${word}-$((6 * 7))\r`,
          respond: [{ when: `${word}-42`, send: 'a' }],
          keepStdinOpen: true,
          timeoutMs: 60_000,
        });
        // The CLI's words for a detach; it exits 1 with them (VIC's CLI exited 0).
        expect({ word, detached: attach.stdout.includes('read escape sequence'), code: attach.code }).toEqual({ word, detached: true, code: 1 });
        expect(attach.stdout).toContain(`${word}-42`);
        expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'att-keys'])).toBe('running');
      }
      expect(await bed().dockerOk(['rm', '-f', 'att-keys'])).toBe('att-keys');
    },
    BOOT_MS,
  );

  test(
    'GIVEN a running -i container without a terminal WHEN docker attach --detach-keys=a sends "a" THEN, as with dockerd (detach keys need -t), the key reaches the process',
    async () => {
      const id = await bed().dockerOk(['create', '-i', bed().image, 'sh', '-c', 'read key; echo "got:$key"']);
      expect(await bed().dockerOk(['start', id])).toBe(id);
      await waitUntilProcessRuns(bed(), id, BOOT_MS);
      const attach = await bed().docker(['attach', '--detach-keys=a', id], { input: 'a\n', timeoutMs: BOOT_MS });
      expect({ code: attach.code, stdout: attach.stdout, stderr: attach.stderr }).toEqual({ code: 0, stdout: 'got:a\n', stderr: '' });
      expect(await bed().dockerOk(['rm', id])).toBe(id);
    },
    BOOT_MS,
  );

  test('GIVEN no such container WHEN docker attach runs THEN it exits 1: No such container', async () => {
    const r = await bed().docker(['attach', 'fakeContainer']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No such container: fakeContainer');
  });

  test.each([
    ['without a terminal', [], 'one\n'],
    ['with a terminal (-t)', ['-t'], 'one\r\n'],
  ])(
    'GIVEN a created container of echo one, %s WHEN docker start -a runs three times THEN each run prints one and exits 0',
    async (_what, flags, output) => {
      const id = await bed().dockerOk(['create', ...flags, bed().image, 'echo', 'one']);
      for (const round of [1, 2, 3]) {
        const r = await bed().docker(['start', '-a', id], { timeoutMs: BOOT_MS });
        expect({ round, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ round, code: 0, stdout: output, stderr: '' });
      }
      expect(await bed().dockerOk(['rm', id])).toBe(id);
    },
    3 * BOOT_MS,
  );
});

/**
 * VIC Group1 1-41 "docker commit", with the docker CLI and real guests: a stopped container's files
 * become a new image (its guest reads them in a maintenance boot, as docker export does), with the
 * container's config and the changes `-c` gives, its author and comment; a container run from it has
 * the files and the config; docker push sends it to a registry under its own id; a change that is no
 * config's (RUN) and a container that is not there are refused as dockerd refuses them.
 */
import { createHash } from 'node:crypto';
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 420_000;

describe('VIC 1-41: docker commit', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-commit' });
  let id = '';

  beforeAll(async () => {
    // As VIC's test: a container whose process changed its files (apt-get install nano there), stopped.
    id = await bed().dockerOk([
      'run',
      '-d',
      '--name',
      'commit1',
      '-e',
      'KEPT=from-run',
      bed().image,
      'sh',
      '-c',
      'mkdir -p /usr/local/nano && echo "nano 7.2" > /usr/local/nano/version && busybox rm /bin/wc && sleep 600',
    ]);
    await waitUntilProcessRuns(bed(), 'commit1', BOOT_MS);
    await bed().dockerOk(['exec', 'commit1', 'cat', '/usr/local/nano/version']);
    await bed().dockerOk(['stop', '-t1', 'commit1']);
  }, 2 * BOOT_MS);

  /** The output of a container run (and removed) from `image`, with `args`. */
  const runOutput = async (image: string, args: readonly string[]) => {
    const r = await bed().docker(['run', '--rm', image, ...args], { timeoutMs: BOOT_MS });
    expect([r.code, r.stderr]).toEqual([0, '']);
    return r.stdout;
  };

  test(
    "GIVEN a stopped container that changed its files WHEN docker commit commit1 debian-nano THEN it prints the image's id, docker images lists it, a container run from it has the files (and not the deleted one), and the container stays exited",
    async () => {
      const since = Math.floor(Date.now() / 1000) - 1;
      const made = await bed().dockerOk(['commit', 'commit1', 'debian-nano']);
      expect(made).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await bed().dockerOk(['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}', 'debian-nano'])).toBe(`${made} debian-nano:latest`);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'commit1'])).toBe('exited');
      expect(await bed().eventsSince(since, 'event=commit', '{{.Actor.ID}}')).toEqual([id]);
      // The container's command and environment are the image's now, as dockerd commits them.
      expect(await bed().dockerOk(['image', 'inspect', '-f', '{{json .Config.Cmd}} {{json .Config.Env}}', 'debian-nano'])).toMatch(
        /^\["sh","-c","mkdir -p .* && sleep 600"\] \[.*"KEPT=from-run".*\]$/,
      );
      expect(await runOutput('debian-nano', ['sh', '-c', 'cat /usr/local/nano/version; ls /bin/wc 2>&1; echo $KEPT'])).toBe(
        'nano 7.2\nls: /bin/wc: No such file or directory\nfrom-run\n',
      );
    },
    3 * BOOT_MS,
  );

  test(
    'GIVEN the container WHEN docker commit -c "ENV TEST commitEnvTest" -c CMD THEN a container run from the image has TEST in its env and runs the new command',
    async () => {
      await bed().dockerOk(['commit', '-c', 'ENV TEST commitEnvTest', '-c', 'CMD ["env"]', 'commit1', 'debian-env']);
      const env = await runOutput('debian-env', []);
      expect(env).toContain('TEST=commitEnvTest');
      expect(env).toContain('KEPT=from-run');
    },
    3 * BOOT_MS,
  );

  test('GIVEN the container WHEN docker commit -c "RUN apt-get install nginx" THEN it exits 1 with dockerd\'s "run is not a valid change command", and no image is made', async () => {
    const r = await bed().docker(['commit', '-c', 'RUN apt-get install nginx', 'commit1', 'debian-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error response from daemon: run is not a valid change command');
    const inspected = await bed().docker(['image', 'inspect', 'debian-run']);
    expect([inspected.code, inspected.stderr]).toEqual([1, expect.stringContaining('No such image: debian-run')]);
  });

  test(
    'GIVEN the container WHEN docker commit -a Robot -m "Robot made a commit" THEN inspect of the image shows its Author and Comment, and docker push sends it to the registry under its own id',
    async () => {
      const target = `${bed().registryHost}/committed/debian-auth:v1`;
      const made = await bed().dockerOk(['commit', '-a', 'Robot', '-m', 'Robot made a commit', '-c', 'ENV TEST commitEnvTest', 'commit1', target]);
      const inspected = await bed().dockerOk(['inspect', target]);
      expect(inspected).toContain('"Author": "Robot"');
      expect(inspected).toContain('"Comment": "Robot made a commit"');

      const r = await bed().docker(['push', target]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/: Pushed/);
      expect(r.stdout).toMatch(new RegExp(`v1: digest: ${made} size: \\d+`));
      const res = await fetch(`http://${bed().registryHost}/v2/committed/debian-auth/manifests/v1`, {
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(made);
      // The config the registry serves is the image's: its author, comment and environment.
      const manifest = JSON.parse(body.toString('utf8')) as { config: { digest: string } };
      const config = (await (await fetch(`http://${bed().registryHost}/v2/committed/debian-auth/blobs/${manifest.config.digest}`)).json()) as {
        author: string;
        comment: string;
        config: { Env: string[] };
      };
      expect([config.author, config.comment, config.config.Env]).toEqual(['Robot', 'Robot made a commit', expect.arrayContaining(['TEST=commitEnvTest'])]);
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN the container WHEN docker commit without a name THEN the image is there untagged, by its id, and docker tag names it',
    async () => {
      const made = await bed().dockerOk(['commit', 'commit1']);
      expect(await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}} {{len .RepoTags}}', made])).toBe(`${made} 0`);
      await bed().dockerOk(['tag', made.slice(7, 19), 'named-later:v1']);
      expect(await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'named-later:v1'])).toBe(made);
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a running container WHEN docker commit THEN its files as they are go into the image, and it keeps running',
    async () => {
      await bed().dockerOk(['run', '-d', '--name', 'commit-live', bed().image, 'sh', '-c', 'echo live > /live && sleep 600']);
      await waitUntilProcessRuns(bed(), 'commit-live', BOOT_MS);
      await bed().dockerOk(['commit', 'commit-live', 'live:v1']);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'commit-live'])).toBe('running');
      expect(await runOutput('live:v1', ['cat', '/live'])).toBe('live\n');
      await bed().dockerOk(['rm', '-f', 'commit-live']);
    },
    3 * BOOT_MS,
  );

  test("GIVEN a container that is not there WHEN docker commit names it THEN dockerd's 404 No such container", async () => {
    const r = await bed().docker(['commit', '-c', 'ENV TEST commitEnvTest', 'fakeContainer', 'image-fake']);
    expect([r.code, r.stderr.trim()]).toEqual([1, 'Error response from daemon: No such container: fakeContainer']);
  });
});

/**
 * docker compose (the v2 CLI plugin, compose v5.6.0 built by scripts/peers/80-compose.sh) against
 * the endpoint, as a user types it: a project of two services on the VCH's bridge network (docker's
 * `bridge`, declared external), a long-running `web` with a named
 * volume and a run-once `job`, through up, ps, logs, stop, start and down -v; and a service that
 * publishes `ports:`, reached on its host port.
 *
 * The plugin is linked into the bed's $DOCKER_CONFIG/cli-plugins; without it the test fails naming
 * the setup step (never skipped).
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { findPeer } from '../../src/sim/peers';
import type { VicRun } from '../cli/run-vic';
import { busyboxImage, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 300_000;
const PROJECT = 'vicproj';

describe('docker compose against the endpoint', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-compose' });
  let dir = '';
  let webPort = 0;

  const projectYaml = (image: string, word = 'tick') => `name: ${PROJECT}
services:
  web:
    image: ${image}
    command: ["sh", "-c", "while true; do echo ${word}; sleep 1; done"]
    volumes: [data:/data]
  job:
    image: ${image}
    command: ["echo", "done"]
volumes:
  data: {}
networks:
  default:
    name: bridge
    external: true
`;

  /** The projects up (by file) that their test has not taken down yet. */
  const live = new Set<string>();

  /** `docker compose -f <file> ARGS` through the docker CLI, as a user types it. */
  const compose = async (file: string, args: readonly string[], timeoutMs = 120_000): Promise<VicRun> => {
    if (args[0] === 'up') live.add(file);
    const r = await bed().docker(['compose', '-f', join(dir, file), ...args], { timeoutMs });
    if (args[0] === 'down' && r.code === 0) live.delete(file);
    return r;
  };

  // A test that failed before its down leaves its guests running: taken down here, so that the next
  // test does not wait for guest slots (maxRunning) they hold. compose.yaml's project spans tests.
  afterEach(async () => {
    for (const file of [...live].filter((f) => f !== 'compose.yaml')) await compose(file, ['down', '-v', '-t', '0'], 120_000);
  }, 150_000);

  const psLines = async (): Promise<string[]> => {
    const r = await compose('compose.yaml', ['ps', '-a', '--format', '{{.Service}} {{.Name}} {{.State}}']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    return r.stdout.split('\n').filter(Boolean).sort();
  };

  /** What a container's /etc/hostname holds: as with dockerd, the first 12 hex digits of its id. */
  const hostnameLine = async (container: string): Promise<string> => `${(await bed().dockerOk(['inspect', '-f', '{{.Id}}', container])).slice(0, 12)}\n`;

  /**
   * `wget URL` from the project's `client` service (compose exec), until it answers or 60 s pass:
   * its exit code and output. The names of its peers reach its /etc/hosts a moment after it starts.
   */
  const fetchFromClient = async (file: string, url: string): Promise<[number | null, string]> => {
    // The peers' names reach /etc/hosts by a write that may time out (60 s) on a loaded host and is
    // retried 2 s later, up to 3 times (server.ts, NAMES_WRITE_MS): a look for longer than two such
    // writes and their retries (the CI of 4d44764 gave up at 150 s), every 3 s so that the looks
    // leave the guest's request channel to the writes.
    const deadline = Date.now() + 240_000;
    let got = await compose(file, ['exec', '-T', 'client', 'wget', '-q', '-O', '-', url], 60_000);
    while (got.code !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 3000));
      got = await compose(file, ['exec', '-T', 'client', 'wget', '-q', '-O', '-', url], 60_000);
    }
    if (got.code === 0) return [got.code, got.stdout];
    // What the client had by then, for the failure to say why.
    const hosts = await compose(file, ['exec', '-T', 'client', 'cat', '/etc/hosts'], 60_000);
    return [got.code, `${got.stdout}${got.stderr}\n(the client's /etc/hosts: ${hosts.code} ${hosts.stdout}${hosts.stderr})`];
  };

  /** Polls `compose ps` until each service shows the wanted state (guests boot in seconds under TCG). */
  const waitForStates = async (wanted: Record<string, string>, timeoutMs = BOOT_MS): Promise<string[]> => {
    const deadline = Date.now() + timeoutMs;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = await psLines();
      const states = Object.fromEntries(lines.map((l) => [l.split(' ')[0], l.split(' ')[2]]));
      if (Object.entries(wanted).every(([service, state]) => states[service] === state)) return lines;
      await new Promise((r) => setTimeout(r, 2000));
    }
    throw new Error(`compose ps did not show ${JSON.stringify(wanted)} within ${timeoutMs} ms; last:\n${lines.join('\n')}`);
  };

  beforeAll(async () => {
    // Fails loudly (PeerMissingError naming the setup step) when the plugin is not built.
    const plugin = findPeer('docker-compose');
    const pluginDir = join(String(bed().env.DOCKER_CONFIG), 'cli-plugins');
    await mkdir(pluginDir, { recursive: true });
    await symlink(plugin, join(pluginDir, 'docker-compose'));
    dir = join(String(bed().env.HOME), 'project');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'compose.yaml'), projectYaml(bed().image));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    webPort = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    await writeFile(
      join(dir, 'ports.yaml'),
      `name: vicports
services:
  web:
    image: ${bed().image}
    command: ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]
    ports: ["127.0.0.1:${webPort}:80"]
networks:
  default:
    name: bridge
    external: true
`,
    );
  }, 60_000);

  test('GIVEN the compose plugin in the docker config WHEN docker compose version runs THEN it is compose v5.6.0', async () => {
    const r = await bed().docker(['compose', 'version', '--short']);
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, '5.6.0', '']);
  });

  test(
    'GIVEN a project of web (long-running, a named volume) and job (echo done) on the external bridge network WHEN docker compose up -d THEN exit 0, ps lists both with their states, logs job shows done, the volume is made',
    async () => {
      const up = await compose('compose.yaml', ['up', '-d'], BOOT_MS);
      expect(up.code).toBe(0);
      // compose reports its progress on stderr: each container started, no warning nor error.
      expect(up.stderr).toMatch(new RegExp(`${PROJECT}-web-1\\s+Started`));
      expect(up.stderr).toMatch(new RegExp(`${PROJECT}-job-1\\s+Started`));
      expect(up.stderr).not.toMatch(/warn|error/i);
      const lines = await waitForStates({ web: 'running', job: 'exited' });
      expect(lines).toEqual([`job ${PROJECT}-job-1 exited`, `web ${PROJECT}-web-1 running`]);
      const exitCode = await compose('compose.yaml', ['ps', '-a', '--format', '{{.ExitCode}}', 'job']);
      expect([exitCode.code, exitCode.stdout.trim()]).toEqual([0, '0']);

      const logs = await compose('compose.yaml', ['logs', '--no-log-prefix', 'job']);
      expect([logs.code, logs.stdout.trim(), logs.stderr]).toEqual([0, 'done', '']);

      const volumes = await bed().dockerOk(['volume', 'ls', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Name}}']);
      expect(volumes).toBe(`${PROJECT}_data`);
      const mounts = await bed().dockerOk(['inspect', '--format', '{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}', `${PROJECT}-web-1`]);
      expect(mounts).toBe(`${PROJECT}_data:/data`);
      const network = await bed().dockerOk(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', `${PROJECT}-web-1`]);
      expect(network).toBe('bridge');
    },
    BOOT_MS + 120_000,
  );

  test('GIVEN the project up WHEN docker compose up -d runs again THEN web is left running as it is: compose reads back its labels (config hash) and the volume as its own', async () => {
    const id = await bed().dockerOk(['inspect', '--format', '{{.Id}}', `${PROJECT}-web-1`]);
    const again = await compose('compose.yaml', ['up', '-d', 'web'], BOOT_MS);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`${PROJECT}-web-1\\s+Running`));
    // A volume whose labels were lost draws "already exists but was not created by Docker Compose".
    expect(again.stderr).not.toMatch(/warn|Recreate|not created by/i);
    expect(await bed().dockerOk(['inspect', '--format', '{{.Id}}', `${PROJECT}-web-1`])).toBe(id);
  });

  test(
    'GIVEN the project up WHEN docker compose stop then start THEN web shows exited then running again, its logs ticking',
    async () => {
      // Stopped before its process reports running, a container reads Exited (137), not its process's own end (docs/endpoint.md).
      await waitUntilProcessRuns(bed(), `${PROJECT}-web-1`);
      const stop = await compose('compose.yaml', ['stop', '-t', '2'], BOOT_MS);
      expect(stop.code).toBe(0);
      expect(await waitForStates({ web: 'exited', job: 'exited' }, 60_000)).toHaveLength(2);
      const start = await compose('compose.yaml', ['start', 'web'], BOOT_MS);
      expect(start.code).toBe(0);
      expect(await waitForStates({ web: 'running' })).toContain(`web ${PROJECT}-web-1 running`);
      await waitUntilProcessRuns(bed(), `${PROJECT}-web-1`);
      const logs = await compose('compose.yaml', ['logs', '--no-log-prefix', 'web']);
      expect([logs.code, logs.stderr]).toEqual([0, '']);
      expect(logs.stdout.split('\n')).toContain('tick');
    },
    2 * BOOT_MS,
  );

  test(
    "GIVEN web's command changed in compose.yaml WHEN docker compose up -d web THEN compose recreates it under its name (a new container, the new command running)",
    async () => {
      const before = await bed().dockerOk(['inspect', '--format', '{{.Id}}', `${PROJECT}-web-1`]);
      await writeFile(join(dir, 'compose.yaml'), projectYaml(bed().image, 'tock'));
      // compose creates the replacement as <old id>_<name> with <name> as its network alias, then renames it.
      const up = await compose('compose.yaml', ['up', '-d', 'web'], BOOT_MS);
      expect([up.code, up.stderr]).toEqual([0, expect.stringMatching(new RegExp(`${PROJECT}-web-1\\s+Recreated`))]);
      expect(up.stderr).not.toMatch(/error/i);
      const after = await bed().dockerOk(['inspect', '--format', '{{.Id}}', `${PROJECT}-web-1`]);
      expect(after).not.toBe(before);
      expect(await bed().dockerOk(['ps', '-a', '--filter', `label=com.docker.compose.service=web`, '--format', '{{.Names}}'])).toBe(`${PROJECT}-web-1`);
      await waitUntilProcessRuns(bed(), `${PROJECT}-web-1`);
      const deadline = Date.now() + 30_000;
      let logs = '';
      while (Date.now() < deadline && !logs.split('\n').includes('tock')) {
        logs = (await compose('compose.yaml', ['logs', '--no-log-prefix', 'web'])).stdout;
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect(logs.split('\n')).toContain('tock');
      expect(logs.split('\n')).not.toContain('tick');
    },
    BOOT_MS,
  );

  test(
    'GIVEN the project WHEN docker compose run --rm job THEN it prints its output and exits 0, as it is (stdin attached) and with -T --interactive=false; no one-off container is left',
    async () => {
      const run = await compose('compose.yaml', ['run', '--rm', 'job', 'echo', 'hi'], BOOT_MS);
      expect([run.code, run.stdout.trim()]).toEqual([0, 'hi']);
      const detached = await compose('compose.yaml', ['run', '-T', '--interactive=false', '--rm', 'job', 'echo', 'hi'], BOOT_MS);
      expect([detached.code, detached.stdout.trim()]).toEqual([0, 'hi']);
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'label=com.docker.compose.oneoff=True', '--format', '{{.Names}}'])).toBe('');
    },
    BOOT_MS,
  );

  test(
    'GIVEN the project WHEN docker compose up job (attached), kill web, restart web, images THEN the output is attached with the exit code, web goes exited then running, images lists both',
    async () => {
      const up = await compose('compose.yaml', ['up', 'job'], BOOT_MS);
      expect(up.code).toBe(0);
      expect(up.stdout).toMatch(/^job-1\s+\| done$/m);
      expect(up.stdout).toMatch(/job-1 exited with code 0/);

      const kill = await compose('compose.yaml', ['kill', 'web']);
      expect(kill.code).toBe(0);
      await waitForStates({ web: 'exited' }, 60_000);
      const restart = await compose('compose.yaml', ['restart', 'web'], BOOT_MS);
      expect(restart.code).toBe(0);
      await waitForStates({ web: 'running' });

      const images = await compose('compose.yaml', ['images', '--format', 'json']);
      expect([images.code, images.stderr]).toEqual([0, '']);
      const rows = (JSON.parse(images.stdout) as { ContainerName: string; Repository: string; Tag: string }[]).map(
        (i) => `${i.ContainerName} ${i.Repository}:${i.Tag}`,
      );
      expect(rows.sort()).toEqual([`${PROJECT}-job-1 ${bed().image}`, `${PROJECT}-web-1 ${bed().image}`]);
    },
    2 * BOOT_MS,
  );

  test('GIVEN web running WHEN docker compose exec THEN the command runs in its container VM (its volume there); top lists its processes; pause is refused at once with the endpoint message', async () => {
    const exec = await compose('compose.yaml', ['exec', '-T', 'web', 'sh', '-c', 'echo from-exec > /data/mark; cat /data/mark'], 60_000);
    expect({ code: exec.code, stdout: exec.stdout, stderr: exec.stderr }).toEqual({ code: 0, stdout: 'from-exec\n', stderr: '' });
    const top = await compose('compose.yaml', ['top', 'web'], 60_000);
    expect([top.code, top.stderr]).toEqual([0, '']);
    expect(top.stdout).toMatch(/UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD/);
    // web's command as the test before left it (tick, then tock once recreated).
    expect(top.stdout).toMatch(/\broot\s+\d+\s+1\s+0\s+\d\d:\d\d\s+\?\s+\d\d:\d\d:\d\d\s+sh -c while true; do echo t[io]ck; sleep 1; done\n/);
    const started = Date.now();
    const pause = await compose('compose.yaml', ['pause', 'web'], 60_000);
    expect({ code: pause.code === 0 ? 0 : 'failed', stderr: pause.stderr }).toEqual({
      code: 'failed',
      stderr: expect.stringMatching(/is not supported by vic-iac: /),
    });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test(
    'GIVEN the project WHEN docker compose down -v THEN its containers and its volume are gone, the bridge network is left',
    async () => {
      const down = await compose('compose.yaml', ['down', '-v', '-t', '2'], BOOT_MS);
      expect(down.code).toBe(0);
      expect(await psLines()).toEqual([]);
      expect(await bed().dockerOk(['ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Names}}'])).toBe('');
      expect(await bed().dockerOk(['volume', 'ls', '--format', '{{.Name}}'])).not.toContain(`${PROJECT}_data`);
      expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).toContain('bridge');
    },
    BOOT_MS,
  );

  test(
    'GIVEN a service that publishes ports: WHEN docker compose up -d THEN the host reaches it there, compose ps shows the port, and down frees it',
    async () => {
      const up = await compose('ports.yaml', ['up', '-d'], BOOT_MS);
      expect([up.code, up.stderr]).toEqual([0, expect.stringMatching(/vicports-web-1\s+Started/)]);
      const fetchHostname = async () => {
        try {
          const response = await fetch(`http://127.0.0.1:${webPort}/hostname`, { signal: AbortSignal.timeout(3000) });
          return response.ok ? await response.text() : undefined;
        } catch {
          return undefined;
        }
      };
      const deadline = Date.now() + BOOT_MS;
      let body: string | undefined;
      while (!(body = await fetchHostname()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2000));
      expect(body?.trim()).toBeTruthy();
      const ps = await compose('ports.yaml', ['ps', '--format', '{{.Service}} {{.Ports}}']);
      expect([ps.code, ps.stdout.trim()]).toEqual([0, `web 127.0.0.1:${webPort}->80/tcp`]);
      const down = await compose('ports.yaml', ['down'], 120_000);
      expect(down.code).toBe(0);
      expect(await fetchHostname()).toBeUndefined();
    },
    BOOT_MS + 120_000,
  );

  test(
    'GIVEN a service whose image declares a VOLUME WHEN compose recreates it THEN the new container mounts the same anonymous volume, so its data stays; down -v removes the volume',
    async () => {
      const base = busyboxImage();
      const image = await bed().pushImage({ ...base, config: { ...base.config, Volumes: { '/var/lib/db': {} } } }, 'vic-test/compose-db:1');
      const pulled = await bed().docker(['pull', image], { timeoutMs: 180_000 });
      expect([pulled.code, pulled.stderr]).toEqual([0, '']);
      await writeFile(
        join(dir, 'db.yaml'),
        `name: vicdb
services:
  db:
    image: ${image}
    command: ["sh", "-c", "test -f /var/lib/db/first || cat /proc/sys/kernel/random/uuid > /var/lib/db/first; cat /var/lib/db/first"]
networks:
  default:
    name: bridge
    external: true
`,
      );
      const volumeOf = async () => bed().dockerOk(['inspect', '--format', '{{range .Mounts}}{{.Destination}} {{.Name}}{{end}}', 'vicdb-db-1']);
      const firstLine = async () => {
        const deadline = Date.now() + BOOT_MS;
        for (;;) {
          const logs = await compose('db.yaml', ['logs', '--no-log-prefix', 'db']);
          const line = logs.stdout.trim();
          if (line || Date.now() > deadline) return line;
          await new Promise((r) => setTimeout(r, 2000));
        }
      };
      const up = await compose('db.yaml', ['up', '-d'], BOOT_MS);
      expect([up.code, up.stderr]).toEqual([0, expect.stringMatching(/vicdb-db-1\s+Started/)]);
      const volume = await volumeOf();
      expect(volume).toMatch(/^\/var\/lib\/db [0-9a-f]{64}$/);
      const written = await firstLine();
      expect(written).toMatch(/^[0-9a-f-]{36}$/);

      const again = await compose('db.yaml', ['up', '-d', '--force-recreate'], BOOT_MS);
      expect([again.code, again.stderr]).toEqual([0, expect.stringMatching(/vicdb-db-1\s+Started/)]);
      expect(await volumeOf()).toBe(volume);
      // The recreated container read what the first one wrote, from the same volume.
      expect(await firstLine()).toBe(written);

      const down = await compose('db.yaml', ['down', '-v'], 120_000);
      expect(down.code).toBe(0);
      expect(await bed().dockerOk(['volume', 'ls', '-q'])).not.toContain(volume.split(' ')[1]);
    },
    3 * BOOT_MS,
  );

  test(
    'GIVEN two services WHEN the project is up THEN one reaches the other by its service name, as on a compose network',
    async () => {
      await writeFile(
        join(dir, 'names.yaml'),
        `name: vicnames
services:
  api:
    image: ${bed().image}
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
  client:
    image: ${bed().image}
    command: ["sleep", "600"]
    depends_on: [api]
networks:
  default:
    name: bridge
    external: true
`,
      );
      const up = await compose('names.yaml', ['up', '-d'], BOOT_MS);
      expect([up.code, up.stderr]).toEqual([0, expect.stringMatching(/vicnames-client-1\s+Started/)]);
      await waitUntilProcessRuns(bed(), 'vicnames-api-1');
      await waitUntilProcessRuns(bed(), 'vicnames-client-1');
      expect(await fetchFromClient('names.yaml', 'http://api:8080/hostname')).toEqual([0, await hostnameLine('vicnames-api-1')]);
      // A one-off run names api from its first instruction: its guest wrote it at boot. No retry.
      // (The bed runs two guests at once: client's slot goes to it.)
      expect((await compose('names.yaml', ['stop', '-t', '0', 'client'], 120_000)).code).toBe(0);
      const once = await compose('names.yaml', ['run', '--rm', '-T', 'client', 'wget', '-q', '-O', '-', 'http://api:8080/hostname'], BOOT_MS);
      expect([once.code, once.stdout]).toEqual([0, await hostnameLine('vicnames-api-1')]);
      const down = await compose('names.yaml', ['down', '-t', '0'], 120_000);
      expect(down.code).toBe(0);
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a service that depends on another being healthy WHEN the project is up THEN compose waits for the health check, then starts it',
    async () => {
      await writeFile(
        join(dir, 'healthy.yaml'),
        `name: vichealth
services:
  db:
    image: ${bed().image}
    command: ["sleep", "600"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /etc/hostname"]
      interval: 1s
      retries: 3
  app:
    image: ${bed().image}
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
networks:
  default:
    name: bridge
    external: true
`,
      );
      const up = await compose('healthy.yaml', ['up', '-d'], BOOT_MS);
      expect([up.code, up.stderr]).toEqual([0, expect.stringMatching(/vichealth-db-1\s+Healthy[\s\S]*vichealth-app-1\s+Started/)]);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Health.Status}}', 'vichealth-db-1'])).toBe('healthy');
      const down = await compose('healthy.yaml', ['down', '-t', '0'], 120_000);
      expect(down.code).toBe(0);
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a project that declares no network WHEN it is up THEN compose makes its default network (a docker network over the bridge port group), the services reach each other on it, a second up leaves them running, and down removes it',
    async () => {
      await writeFile(
        join(dir, 'plain.yaml'),
        `name: vicplain
services:
  api:
    image: ${bed().image}
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
  client:
    image: ${bed().image}
    command: ["sleep", "600"]
`,
      );
      const up = await compose('plain.yaml', ['up', '-d'], BOOT_MS);
      expect([up.code, up.stderr]).toEqual([0, expect.stringMatching(/Network vicplain_default\s+Created[\s\S]*vicplain-client-1\s+Started/)]);
      expect(await bed().dockerOk(['network', 'ls', '--filter', 'label=com.docker.compose.project=vicplain', '--format', '{{.Name}} {{.Driver}}'])).toBe(
        'vicplain_default bridge',
      );
      await waitUntilProcessRuns(bed(), 'vicplain-api-1');
      await waitUntilProcessRuns(bed(), 'vicplain-client-1');
      expect(await fetchFromClient('plain.yaml', 'http://api:8080/hostname')).toEqual([0, await hostnameLine('vicplain-api-1')]);
      // Nothing changed: compose finds its network and containers as it left them.
      const again = await compose('plain.yaml', ['up', '-d'], BOOT_MS);
      expect(again.code).toBe(0);
      expect(again.stderr).not.toMatch(/Recreate|warn|error/i);
      const down = await compose('plain.yaml', ['down', '-t', '0'], 120_000);
      expect([down.code, down.stderr]).toEqual([0, expect.stringMatching(/Network vicplain_default\s+Removed/)]);
      expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).not.toContain('vicplain_default');
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a service on two networks and one on the second WHEN the project is up THEN the first is on both, the second reaches it by name, a second up recreates nothing, and down removes both networks',
    async () => {
      await writeFile(
        join(dir, 'tiers.yaml'),
        `name: victiers
services:
  api:
    image: ${bed().image}
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    networks: [front, back]
  client:
    image: ${bed().image}
    command: ["sleep", "600"]
    networks: [back]
networks:
  front: {}
  back: {}
`,
      );
      const up = await compose('tiers.yaml', ['up', '-d'], BOOT_MS);
      expect([up.code, up.stderr]).toEqual([0, expect.stringMatching(/victiers-client-1\s+Started/)]);
      expect(await bed().dockerOk(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}};{{end}}', 'victiers-api-1'])).toBe(
        'victiers_back;victiers_front;',
      );
      await waitUntilProcessRuns(bed(), 'victiers-api-1');
      await waitUntilProcessRuns(bed(), 'victiers-client-1');
      expect(await fetchFromClient('tiers.yaml', 'http://api:8080/hostname')).toEqual([0, await hostnameLine('victiers-api-1')]);
      const again = await compose('tiers.yaml', ['up', '-d'], BOOT_MS);
      expect(again.code).toBe(0);
      expect(again.stderr).not.toMatch(/Recreate|warn|error/i);
      const down = await compose('tiers.yaml', ['down', '-t', '0'], 120_000);
      expect([down.code, down.stderr]).toEqual([0, expect.stringMatching(/Network victiers_front\s+Removed/)]);
      expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).not.toMatch(/victiers_/);
    },
    2 * BOOT_MS,
  );
});
